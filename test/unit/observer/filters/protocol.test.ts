import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: protocol', () => {
  const tcp = { l4: { protocol: { $case: 'TCP' as const, value: { sourcePort: 1, destinationPort: 2 } } } };
  const icmp6 = { l4: { protocol: { $case: 'ICMPv6' as const, value: { type: 128, code: 0 } } } };
  const dns = { l7: { record: { $case: 'dns' as const, value: { query: 'example.org.' } } } };

  it('names L4 and L7 protocols case-insensitively', () => {
    assert.equal(matches({ protocol: ['TCP'] }, tcp), true);
    assert.equal(matches({ protocol: ['udp'] }, tcp), false);
    assert.equal(matches({ protocol: ['udp', 'tcp'] }, tcp), true);
    assert.equal(matches({ protocol: ['icmp'] }, icmp6), true);
    assert.equal(matches({ protocol: ['icmpv4'] }, icmp6), false);
    assert.equal(matches({ protocol: ['dns'] }, dns), true);
    assert.equal(matches({ protocol: ['http'] }, dns), false);
  });

  it('refuses unknown protocols', () => {
    rejects({ protocol: ['quic'] }, /unknown protocol "quic"/);
  });
});
