import assert from 'node:assert/strict';
import { agentCommand } from '../../../cli/commands/agent';

describe('cli agent --relay / --relay-failover', () => {
  const parse = (args: string[]): Record<string, unknown> => {
    const cmd = agentCommand().exitOverride().configureOutput({ writeErr: () => undefined });
    cmd.parseOptions(args);
    return cmd.opts();
  };

  it('takes --relay repeated and as comma lists, in failover order', () => {
    const o = parse(['--relay', 'r0:4245,r1:4245', '--relay', 'r2:4245', '--relay-failover', '2500']);
    assert.deepEqual(o.relay, ['r0:4245', 'r1:4245', 'r2:4245']);
    assert.equal(o.relayFailover, 2500);
    assert.equal(parse([]).relayFailover, 5000);
  });

  it('refuses an empty address in a list and a failover time that is not positive', () => {
    assert.throws(() => parse(['--relay', 'r0:4245,,r1:4245']), /empty relay address/);
    assert.throws(() => parse(['--relay-failover', '0']), /positive/);
  });
});
