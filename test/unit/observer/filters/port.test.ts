import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: port', () => {
  const udp = { l4: { protocol: { $case: 'UDP' as const, value: { sourcePort: 30041, destinationPort: 53 } } } };
  const icmp = { l4: { protocol: { $case: 'ICMPv4' as const, value: { type: 8, code: 0 } } } };

  it('matches source and destination ports of port-carrying protocols', () => {
    assert.equal(matches({ destinationPort: ['53'] }, udp), true);
    assert.equal(matches({ sourcePort: ['53'] }, udp), false);
    assert.equal(matches({ sourcePort: ['30041'], destinationPort: ['53', '853'] }, udp), true);
    assert.equal(matches({ destinationPort: ['0'] }, icmp), false);
  });

  it('refuses non-ports', () => {
    rejects({ destinationPort: ['65536'] }, /destination_port: invalid port "65536"/);
    rejects({ sourcePort: ['http'] }, /invalid port/);
    rejects({ sourcePort: ['-1'] }, /invalid port/);
  });
});
