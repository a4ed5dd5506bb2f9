import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkHmac, hmacTlv, srhHmac } from '../../../srv6/hmac';
import { parseSid } from '../../../srv6/sid';
import { decodeSrh, encodeSrh, type Srh } from '../../../srv6/srh';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('srv6/hmac', () => {
  it('is HMAC-SHA256 over source | last entry | flags | key id | segments (RFC 4231 test case 6)', () => {
    // RFC 4231 §4.7: key 0xaa x 131, data "Test Using Larger Than Block-Size Key - Hash Key First"
    // (54 bytes = 16 + 1 + 1 + 4 + 2 x 16, so the RFC's text splits exactly into the SRH fields).
    const data = 'Test Using Larger Than Block-Size Key - Hash Key First';
    const mac = srhHmac(new Uint8Array(131).fill(0xaa), {
      source: ascii(data.slice(0, 16)),
      lastEntry: data.charCodeAt(16),
      flags: data.charCodeAt(17),
      keyId: Buffer.from(data.slice(18, 22), 'latin1').readUInt32BE(0),
      segments: [ascii(data.slice(22, 38)), ascii(data.slice(38, 54))],
    });
    assert.equal(hex(mac), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });

  it('writes the key id big-endian and the segments in SRH order', () => {
    const key = Buffer.alloc(32, 7);
    const source = parseSid('fc00:0:101::1');
    const segments = [parseSid('fc00:0:201::100'), parseSid('fc00:0:1::1')];
    const want = createHmac('sha256', key)
      .update(Buffer.concat([source, Buffer.from([1, 0x80, 0x01, 0x02, 0x03, 0x04]), ...segments]))
      .digest('hex');
    assert.equal(hex(srhHmac(key, { source, lastEntry: 1, flags: 0x80, keyId: 0x01020304, segments })), want);
    assert.notEqual(hex(srhHmac(key, { source, lastEntry: 1, flags: 0x80, keyId: 0x01020304, segments: [...segments].reverse() })), want);
  });

  it('refuses bad inputs with BAD_ARGUMENT', () => {
    const ok = { source: new Uint8Array(16), lastEntry: 0, flags: 0, keyId: 1, segments: [new Uint8Array(16)] };
    assert.throws(() => srhHmac(new Uint8Array(0), ok), { code: 'BAD_ARGUMENT' });
    assert.throws(() => srhHmac(new Uint8Array(8), { ...ok, source: new Uint8Array(4) }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => srhHmac(new Uint8Array(8), { ...ok, keyId: 2 ** 32 }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => srhHmac(new Uint8Array(8), { ...ok, lastEntry: 256 }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => srhHmac(new Uint8Array(8), { ...ok, segments: [new Uint8Array(15)] }), { code: 'BAD_ARGUMENT' });
  });

  describe('checkHmac', () => {
    const key = Buffer.from('c2VjcmV0LWtleS1vbmx5LWZvci10aGUtdGVzdHMhIQ==', 'base64');
    const keys = new Map([[9, key]]);
    const source = parseSid('fc00:0:101::1');
    const base: Srh = {
      nextHeader: 4, segmentsLeft: 2, lastEntry: 2, flags: 0, tag: 0, tlvs: [],
      segments: ['fc00:0:201::100', 'fc00:0:4::1', 'fc00:0:1::1'].map(parseSid),
    };
    const signed = (): Srh => {
      const mac = srhHmac(key, { source, lastEntry: 2, flags: 0, keyId: 9, segments: base.segments });
      const r = decodeSrh(encodeSrh({ ...base, hmac: { keyId: 9, dBit: false, mac } }));
      assert.ok(r.ok);
      return r.srh;
    };

    it('verifies a signed SRH after a round trip through the wire format', () => {
      assert.equal(checkHmac(signed(), source, keys), 'VERIFIED');
    });

    it('is ABSENT without the TLV, NO_KEY for an unknown key id', () => {
      assert.equal(checkHmac(base, source, keys), 'ABSENT');
      assert.equal(checkHmac(signed(), source, new Map([[8, key]])), 'NO_KEY');
    });

    it('is MISMATCH when a segment, the source, the flags or the last entry change', () => {
      const s1 = signed();
      s1.segments[1] = parseSid('fc00:0:3::1');
      assert.equal(checkHmac(s1, source, keys), 'MISMATCH');
      assert.equal(checkHmac(signed(), parseSid('fc00:0:102::1'), keys), 'MISMATCH');
      assert.equal(checkHmac({ ...signed(), flags: 1 }, source, keys), 'MISMATCH');
      assert.equal(checkHmac(signed(), source, new Map([[9, Buffer.alloc(32)]])), 'MISMATCH');
    });

    it('is MALFORMED for an HMAC field shorter than 32 octets or a source that is no address', () => {
      const r = decodeSrh(encodeSrh({ ...base, tlvs: [hmacTlv(9, new Uint8Array(16))] }));
      assert.ok(r.ok);
      assert.equal(checkHmac(r.srh, source, keys), 'MALFORMED');
      assert.equal(checkHmac(signed(), new Uint8Array(4), keys), 'MALFORMED');
    });
  });
});
