import assert from 'node:assert/strict';
import { inPrefix, parsePrefix, parseSid, prefixText, sidEqual, sidText } from '../../../srv6/sid';

describe('srv6/sid', () => {
  it('parses IPv6 text into 16 network-order bytes', () => {
    assert.deepEqual(Array.from(parseSid('fc00:0:1::1')), [0xfc, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(parseSid('::')), new Array(16).fill(0));
    assert.equal(parseSid('FC00:0000:0001:0000:0000:0000:0000:0100')[15], 0);
  });

  it('refuses IPv4, zone ids, garbage and non-strings with BAD_SID', () => {
    for (const t of ['10.0.0.1', 'fe80::1%eth0', 'fc00::1::2', 'fc00:0:1::1/48', '', 'g::1', 42 as unknown as string]) {
      assert.throws(() => parseSid(t), { code: 'BAD_SID' }, String(t));
    }
  });

  it('prints RFC 5952 text: lower case, longest zero run compressed, single zero field kept', () => {
    assert.equal(sidText(parseSid('FC00:0000:0001:0000:0000:0000:0000:0001')), 'fc00:0:1::1');
    assert.equal(sidText(parseSid('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(sidText(parseSid('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
    assert.equal(sidText(new Uint8Array(16)), '::');
    assert.throws(() => sidText(new Uint8Array(4)), { code: 'BAD_SID' });
  });

  it('parses prefixes, refuses host bits, bad lengths and bad addresses with BAD_PREFIX', () => {
    const p = parsePrefix('fc00:0:1::/48');
    assert.equal(p.len, 48);
    assert.equal(prefixText(p), 'fc00:0:1::/48');
    assert.equal(parsePrefix('::/0').len, 0);
    assert.equal(parsePrefix('fc00:0:1::1/128').len, 128);
    for (const t of ['fc00:0:1::1/48', 'fc00::/129', 'fc00::', 'fc00::/', 'fc00::/-1', '10.0.0.0/8', 'x::/16', 'fc00:0:1::/48/1']) {
      assert.throws(() => parsePrefix(t), { code: 'BAD_PREFIX' }, t);
    }
    // a length that does not fall on a byte boundary masks inside the byte
    assert.throws(() => parsePrefix('fc00:0:1::/47'), { code: 'BAD_PREFIX' });
    assert.equal(parsePrefix('fc00:0:2::/47').len, 47);
  });

  it('tests membership bit by bit', () => {
    const p = parsePrefix('fc00:0:2::/47');
    assert.ok(inPrefix(parseSid('fc00:0:2::1'), p));
    assert.ok(inPrefix(parseSid('fc00:0:3:ffff::1'), p));
    assert.ok(!inPrefix(parseSid('fc00:0:4::1'), p));
    assert.ok(!inPrefix(parseSid('fc00:0:1::1'), p));
    assert.ok(inPrefix(parseSid('1::'), parsePrefix('::/0')));
    assert.ok(sidEqual(parseSid('fc00::1'), parseSid('fc00:0::1')));
    assert.ok(!sidEqual(parseSid('fc00::1'), parseSid('fc00::2')));
  });
});
