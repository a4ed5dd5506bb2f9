import assert from 'node:assert/strict';
import { matches } from './helpers';

describe('observer/filters: tcp_flags', () => {
  const tcp = (flags: Record<string, boolean>) => ({
    l4: { protocol: { $case: 'TCP' as const, value: { sourcePort: 1, destinationPort: 2, flags } } },
  });

  it('an entry matches when the flow carries all its flags', () => {
    assert.equal(matches({ tcpFlags: [{ SYN: true }] }, tcp({ SYN: true, ACK: true })), true);
    assert.equal(matches({ tcpFlags: [{ SYN: true, ACK: true }] }, tcp({ SYN: true })), false);
    assert.equal(matches({ tcpFlags: [{ FIN: true }, { RST: true }] }, tcp({ RST: true })), true);
  });

  it('never matches a non-TCP flow', () => {
    const udp = { l4: { protocol: { $case: 'UDP' as const, value: { sourcePort: 1, destinationPort: 2 } } } };
    assert.equal(matches({ tcpFlags: [{ SYN: true }] }, udp), false);
  });
});
