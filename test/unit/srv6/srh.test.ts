import assert from 'node:assert/strict';
import { ENUMS } from '../../../bpf/abi_layout.gen';
import { hmacTlv } from '../../../srv6/hmac';
import { parseSid, sidText } from '../../../srv6/sid';
import {
  activeSegment, decodeSrh, encodeSrh, SRH_DROP_REASON, srhOrder, travelOrder,
  type Srh, type SrhErrorCode,
} from '../../../srv6/srh';

const sids = (...t: string[]) => t.map(parseSid);
const srh = (over: Partial<Srh> = {}): Srh => ({
  nextHeader: 4, segmentsLeft: 1, lastEntry: 1, flags: 0, tag: 0, tlvs: [],
  segments: sids('fc00:0:201::100', 'fc00:0:1::1'), ...over,
});
function decodeErr(b: Uint8Array): SrhErrorCode {
  const r = decodeSrh(b);
  assert.ok(!r.ok, 'expected a decode failure');
  return r.code;
}

describe('srv6/srh', () => {
  it('lays out the RFC 8754 §2 fixed header, then Segment List[0..n] last segment first', () => {
    const b = encodeSrh(srh({ flags: 0x12, tag: 0xabcd }));
    // Next Header 4 (IPv4), Hdr Ext Len 4 (two segments = 32 octets = 4 units), type 4, SL 1,
    // Last Entry 1, Flags, Tag big-endian.
    assert.deepEqual(Array.from(b.subarray(0, 8)), [4, 4, 4, 1, 1, 0x12, 0xab, 0xcd]);
    assert.equal(b.length, 40);
    assert.equal(sidText(b.subarray(8, 24)), 'fc00:0:201::100');
    assert.equal(sidText(b.subarray(24, 40)), 'fc00:0:1::1');
    const r = decodeSrh(b);
    assert.ok(r.ok);
    assert.equal(r.length, 40);
    assert.deepEqual(r.srh, srh({ flags: 0x12, tag: 0xabcd }));
    assert.equal(sidText(activeSegment(r.srh)!), 'fc00:0:1::1');
  });

  it('places an HMAC TLV after the segments: type 5, length 38, D bit, key id big-endian, 32-byte HMAC', () => {
    const mac = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const b = encodeSrh(srh({ hmac: { keyId: 0x01020304, dBit: true, mac } }));
    assert.equal(b.length, 8 + 32 + 40);
    assert.equal(b[1], (b.length - 8) / 8);
    assert.deepEqual(Array.from(b.subarray(40, 48)), [5, 38, 0x80, 0, 1, 2, 3, 4]);
    assert.deepEqual(b.subarray(48), mac);
    const r = decodeSrh(b);
    assert.ok(r.ok);
    assert.deepEqual(r.srh.hmac, { keyId: 0x01020304, dBit: true, mac });
    assert.equal(r.srh.tlvs.length, 1);
    assert.deepEqual(encodeSrh(r.srh), b);
    // reserved bits are ignored on receipt and kept on re-encoding
    const reserved = Uint8Array.from(b);
    reserved[42] |= 0x01;
    reserved[43] = 0x5a;
    const rr = decodeSrh(reserved);
    assert.ok(rr.ok);
    assert.deepEqual(rr.srh.hmac, { keyId: 0x01020304, dBit: true, mac });
    assert.deepEqual(encodeSrh(rr.srh), reserved);
  });

  it('pads TLVs to 8 octets with Pad1 for one octet and PadN otherwise', () => {
    // a 7-octet TLV: one Pad1 octet
    const one = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(5) }] }));
    assert.equal(one.length, 48);
    assert.deepEqual(Array.from(one.subarray(40)), [0x81, 5, 0, 0, 0, 0, 0, 0]);
    // a 6-octet TLV: PadN with no padding data
    const seven = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(4) }] }));
    assert.deepEqual(Array.from(seven.subarray(40)), [0x81, 4, 0, 0, 0, 0, 4, 0]);
    const pad1 = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(5) }, { type: 0x82, value: new Uint8Array(7) }] }));
    // 7 + 9 = 16: aligned, no padding
    assert.equal(pad1.length, 56);
    const needs1 = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(5) }, { type: 0x82, value: new Uint8Array(6) }] }));
    assert.equal(needs1.at(-1), 0); // Pad1
    assert.equal(needs1.length, 56);
    const needs6 = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(0) }] }));
    assert.deepEqual(Array.from(needs6.subarray(40)), [0x81, 0, 4, 4, 0, 0, 0, 0]);
    for (const b of [one, seven, pad1, needs1, needs6]) {
      const r = decodeSrh(b);
      assert.ok(r.ok);
      assert.deepEqual(encodeSrh(r.srh), b);
    }
  });

  it('orders travel as the reverse of the SRH and back', () => {
    const s = srh();
    assert.deepEqual(travelOrder(s).map(sidText), ['fc00:0:1::1', 'fc00:0:201::100']);
    assert.deepEqual(srhOrder(travelOrder(s)), s.segments);
  });

  describe('decode checks, first failing one named', () => {
    const good = encodeSrh(srh({ hmac: { keyId: 1, dBit: false, mac: new Uint8Array(32) } }));
    const at = (i: number, v: number, b = good) => {
      const c = Uint8Array.from(b);
      c[i] = v;
      return c;
    };

    it('SRH_TRUNCATED: under 8 bytes, or fewer than Hdr Ext Len declares', () => {
      assert.equal(decodeErr(good.subarray(0, 7)), 'SRH_TRUNCATED');
      assert.equal(decodeErr(good.subarray(0, good.length - 1)), 'SRH_TRUNCATED');
      assert.equal(decodeErr(at(1, 255)), 'SRH_TRUNCATED');
    });

    it('SRH_BAD_TYPE: routing type other than 4', () => {
      for (const t of [0, 2, 3, 5, 255]) assert.equal(decodeErr(at(2, t)), 'SRH_BAD_TYPE');
    });

    it('SRH_BAD_HDR_LEN: Hdr Ext Len 0 or 1 leaves no room for a segment', () => {
      assert.equal(decodeErr(at(1, 0)), 'SRH_BAD_HDR_LEN');
      assert.equal(decodeErr(at(1, 1)), 'SRH_BAD_HDR_LEN');
    });

    it('SRH_BAD_LAST_ENTRY: more entries than the header holds', () => {
      // 80 bytes hold at most 4 segments (8 + 4 x 16 = 72): Last Entry 3 fits, 4 does not
      // the fourth segment swallows the HMAC TLV, leaving its zero MAC bytes as Pad1s
      const r = decodeSrh(at(4, 3, at(3, 0)));
      assert.ok(r.ok && r.srh.segments.length === 4 && r.srh.tlvs.every((t) => t.type === 0));
      assert.equal(decodeErr(at(4, 4, at(3, 0))), 'SRH_BAD_LAST_ENTRY');
      assert.equal(decodeErr(at(4, 255, at(3, 0))), 'SRH_BAD_LAST_ENTRY');
    });

    it('SRH_BAD_SEGLEFT: Segments Left above Last Entry + 1 (Last Entry + 1 is a reduced SRH)', () => {
      assert.equal(decodeErr(at(3, 3)), 'SRH_BAD_SEGLEFT');
      assert.equal(decodeErr(at(3, 255)), 'SRH_BAD_SEGLEFT');
      const reduced = decodeSrh(at(3, 2));
      assert.ok(reduced.ok);
      assert.equal(activeSegment(reduced.srh), undefined);
    });

    it('SRH_BAD_TLV: a TLV overrunning the header, a lone type octet, PadN over 5', () => {
      assert.equal(decodeErr(at(41, 39)), 'SRH_BAD_TLV');
      const lone = encodeSrh(srh({ tlvs: [{ type: 0x81, value: new Uint8Array(5) }] }));
      assert.equal(decodeErr(at(47, 0x81, at(41, 4, lone))), 'SRH_BAD_TLV');
      assert.equal(decodeErr(at(40, 4, at(41, 6, lone))), 'SRH_BAD_TLV');
      const padn5 = decodeSrh(at(40, 4, lone));
      assert.ok(padn5.ok);
      // the padding's content is ignored on receipt
      assert.ok(decodeSrh(at(45, 0xff, at(40, 4, lone))).ok);
    });

    it('SRH_BAD_HMAC_TLV: HMAC lengths other than 6 + 8/16/24/32, or a second HMAC TLV', () => {
      for (const len of [0, 5, 6, 13, 15, 39, 46]) {
        const tl = Uint8Array.from(good);
        tl[41] = len;
        const code = decodeErr(tl);
        assert.ok(code === 'SRH_BAD_HMAC_TLV' || code === 'SRH_BAD_TLV', `length ${len}: ${code}`);
      }
      assert.equal(decodeErr(at(41, 37)), 'SRH_BAD_HMAC_TLV');
      for (const macLen of [8, 16, 24]) {
        const r = decodeSrh(encodeSrh(srh({ tlvs: [hmacTlv(2, new Uint8Array(macLen))] })));
        assert.ok(r.ok && r.srh.hmac?.mac.length === macLen);
      }
      // the encoder refuses two, so turn a second TLV of the same size into one
      const two = encodeSrh(srh({ tlvs: [hmacTlv(1, new Uint8Array(8)), { type: 0x77, value: new Uint8Array(14) }] }));
      assert.ok(decodeSrh(two).ok);
      assert.equal(decodeErr(at(56, 5, two)), 'SRH_BAD_HMAC_TLV');
    });

    it('names a drop reason of the datapath ABI for every code', () => {
      const codes: SrhErrorCode[] = ['SRH_TRUNCATED', 'SRH_BAD_TYPE', 'SRH_BAD_HDR_LEN', 'SRH_BAD_LAST_ENTRY', 'SRH_BAD_SEGLEFT', 'SRH_BAD_TLV', 'SRH_BAD_HMAC_TLV'];
      for (const c of codes) assert.ok(SRH_DROP_REASON[c] in ENUMS.cil_counter, `${c} -> ${SRH_DROP_REASON[c]}`);
      assert.equal(SRH_DROP_REASON.SRH_BAD_SEGLEFT, 'CIL_DROP_SRH_BAD_SEGLEFT');
    });
  });

  it('ignores bytes after the header and reports its length', () => {
    const b = encodeSrh(srh());
    const r = decodeSrh(Uint8Array.from([...b, 0x45, 0, 0, 20]));
    assert.ok(r.ok);
    assert.equal(r.length, b.length);
  });

  it('refuses what it cannot encode with BAD_ARGUMENT', () => {
    const bad: Partial<Srh>[] = [
      { segments: [], lastEntry: -1 },
      { lastEntry: 0 },
      { segmentsLeft: 3 },
      { nextHeader: 256 },
      { flags: -1 },
      { tag: 0x10000 },
      { segments: [new Uint8Array(16), new Uint8Array(4)] },
      { tlvs: [{ type: 0, value: new Uint8Array(1) }] },
      { tlvs: [{ type: 4, value: new Uint8Array(6) }] },
      { tlvs: [{ type: 9, value: new Uint8Array(256) }] },
      { tlvs: [hmacTlv(1, new Uint8Array(32)), hmacTlv(2, new Uint8Array(32))] },
      { tlvs: [hmacTlv(1, new Uint8Array(32))], hmac: { keyId: 2, dBit: false, mac: new Uint8Array(32) } },
      { segments: new Array(128).fill(new Uint8Array(16)), lastEntry: 127, segmentsLeft: 0 },
    ];
    for (const over of bad) assert.throws(() => encodeSrh(srh(over)), { code: 'BAD_ARGUMENT' }, JSON.stringify(Object.keys(over)));
    assert.throws(() => hmacTlv(1, new Uint8Array(33)), { code: 'BAD_ARGUMENT' });
    assert.throws(() => hmacTlv(2 ** 32, new Uint8Array(32)), { code: 'BAD_ARGUMENT' });
    // the largest SRH that fits Hdr Ext Len 255: 127 segments + an 8-byte TLV
    const max = encodeSrh(srh({ segments: new Array(127).fill(new Uint8Array(16)), lastEntry: 126, segmentsLeft: 0, tlvs: [{ type: 9, value: new Uint8Array(6) }] }));
    assert.throws(() => encodeSrh(srh({ segments: new Array(127).fill(new Uint8Array(16)), lastEntry: 126, segmentsLeft: 0, tlvs: [{ type: 9, value: new Uint8Array(7) }] })), { code: 'BAD_ARGUMENT' });
    assert.equal(max.length, 2048);
    assert.equal(max[1], 255);
  });

  it('never throws on generated headers, and re-encodes every header it accepts to the same bytes', () => {
    // Seeded (mulberry32) so a failure reproduces: headers built from valid parts (segments,
    // Pad1, PadN, HMAC and unknown TLVs), then one field or byte in three corrupted.
    let seed = 0x5eed;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    const seen = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const lastEntry = rnd(4);
      const tlv: number[] = [];
      for (let k = rnd(4); k > 0; k--) {
        const kind = rnd(4);
        const bytes = (n: number) => Array.from({ length: n }, () => rnd(256));
        if (kind === 0) tlv.push(0);
        else if (kind === 1) {
          const n = rnd(6);
          tlv.push(4, n, ...new Array(n).fill(0));
        } else if (kind === 2) {
          const n = 6 + 8 * (1 + rnd(4));
          tlv.push(5, n, ...bytes(n));
        } else {
          const n = rnd(12);
          tlv.push(0x80 | rnd(128), n, ...bytes(n));
        }
      }
      // what the TLVs leave of the last 8-octet unit stays zero: Pad1s
      const body = Uint8Array.from([...new Array(16 * (lastEntry + 1)).fill(0).map(() => rnd(256)), ...tlv]);
      const len = Math.min(2048, 8 + Math.ceil(body.length / 8) * 8);
      const b = new Uint8Array(len + rnd(3) * 8);
      b.set([4, len / 8 - 1, 4, rnd(lastEntry + 2), lastEntry, rnd(256), rnd(256), rnd(256)]);
      b.set(body.subarray(0, len - 8), 8);
      const corrupt = rnd(3) === 0;
      if (corrupt) b[rnd(Math.min(b.length, 64))] = rnd(256);
      const r = decodeSrh(corrupt && rnd(2) ? b.subarray(0, rnd(b.length)) : b);
      const key = r.ok ? 'ok' : r.code;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (r.ok) assert.deepEqual(encodeSrh(r.srh), new Uint8Array(b.subarray(0, r.length)));
    }
    assert.ok((seen.get('ok') ?? 0) > 1000, JSON.stringify([...seen]));
    for (const code of ['SRH_TRUNCATED', 'SRH_BAD_TYPE', 'SRH_BAD_HDR_LEN', 'SRH_BAD_LAST_ENTRY', 'SRH_BAD_SEGLEFT', 'SRH_BAD_TLV', 'SRH_BAD_HMAC_TLV']) {
      assert.ok(seen.has(code), `the generator never produced ${code}: ${JSON.stringify([...seen])}`);
    }
  });
});
