import assert from 'node:assert/strict';
import { ScionError } from '../../../../scion/errors';
import { verifyPathMacs } from '../../../../scion/mac/segid';
import type { HopField, InfoField, ScionPath } from '../../../../scion/path/model';
import { reversePath } from '../../../../scion/path/reverse';
import { atCapture, LINEAR_CAPTURES, LINEAR_HOP_ASES, LINEAR_KEYS, linearPath } from '../mac/captured-paths';

function hop(n: number): HopField {
  return {
    ingressAlert: n % 2 === 0,
    egressAlert: n % 3 === 0,
    expTime: n,
    consIngress: 100 + n,
    consEgress: 200 + n,
    mac: new Uint8Array([n, n, n, n, n, n]),
  };
}

function info(n: number, consDir: boolean): InfoField {
  return { consDir, peer: false, segId: 0x1000 + n, timestamp: 1_700_000_000 + n };
}

/** Up (2 hops), core (3 hops), down (4 hops), the packet standing on hop 3 in the core segment. */
function threeSegments(): ScionPath {
  return {
    type: 'SCION',
    meta: { currInf: 1, currHf: 3, segLens: [2, 3, 4] },
    infoFields: [info(0, false), info(1, false), info(2, true)],
    hopFields: Array.from({ length: 9 }, (_, i) => hop(i)),
  };
}

describe('path reversal', () => {
  it('reverses a three-segment path field by field', () => {
    const p = threeSegments();
    const r = reversePath(p);
    assert.equal(r.type, 'SCION');
    // SegLens swap end for end: the 4-hop down segment comes first.
    assert.deepEqual(r.meta.segLens, [4, 3, 2]);
    // CurrINF = NumINF - CurrINF - 1, CurrHF = NumHops - CurrHF - 1: the same fields as before.
    assert.equal(r.meta.currInf, 1);
    assert.equal(r.meta.currHf, 5);
    assert.deepEqual(r.hopFields[r.meta.currHf], p.hopFields[p.meta.currHf]);
    // Info fields reversed with ConsDir flipped; SegID, timestamp and peer flag untouched.
    assert.deepEqual(r.infoFields, [
      { consDir: false, peer: false, segId: 0x1002, timestamp: 1_700_000_002 },
      { consDir: true, peer: false, segId: 0x1001, timestamp: 1_700_000_001 },
      { consDir: true, peer: false, segId: 0x1000, timestamp: 1_700_000_000 },
    ]);
    // Hop fields in reverse order, each one unchanged.
    assert.deepEqual(r.hopFields.map((h) => h.expTime), [8, 7, 6, 5, 4, 3, 2, 1, 0]);
    r.hopFields.forEach((h, i) => assert.deepEqual(h, hop(8 - i)));
  });

  it('reverses two- and one-segment paths', () => {
    const two: ScionPath = {
      type: 'SCION',
      meta: { currInf: 0, currHf: 0, segLens: [2, 3, 0] },
      infoFields: [info(0, false), info(1, true)],
      hopFields: Array.from({ length: 5 }, (_, i) => hop(i)),
    };
    const r2 = reversePath(two);
    assert.deepEqual(r2.meta, { currInf: 1, currHf: 4, segLens: [3, 2, 0] });
    assert.deepEqual(r2.infoFields.map((f) => [f.segId, f.consDir]), [[0x1001, false], [0x1000, true]]);
    const one: ScionPath = { ...two, meta: { currInf: 0, currHf: 2, segLens: [3, 0, 0] }, infoFields: [info(0, true)], hopFields: two.hopFields.slice(0, 3) };
    assert.deepEqual(reversePath(one).meta, { currInf: 0, currHf: 0, segLens: [3, 0, 0] });
  });

  it('is its own inverse and leaves its argument alone', () => {
    const p = threeSegments();
    const r = reversePath(p);
    assert.deepEqual(p, threeSegments());
    assert.deepEqual(reversePath(r), p);
    r.hopFields[0].mac[0] ^= 0xff;
    assert.deepEqual(p, threeSegments());
  });

  it('keeps the empty path empty', () => {
    const empty: ScionPath = { type: 'SCION', meta: { currInf: 0, currHf: 0, segLens: [0, 0, 0] }, infoFields: [], hopFields: [] };
    assert.deepEqual(reversePath(empty), empty);
  });

  it('yields a path the routers accept when a received packet is answered', () => {
    // The captured packet as it reached 1-ff00:0:7: every SegID now holds the value the
    // way back starts from.
    const arrived = atCapture(linearPath(), LINEAR_CAPTURES[LINEAR_CAPTURES.length - 1]);
    const back = reversePath(arrived);
    assert.deepEqual(back.meta, { currInf: 0, currHf: 0, segLens: [3, 3, 3] });
    const keys = [...LINEAR_HOP_ASES].reverse().map((as) => LINEAR_KEYS[as]);
    assert.deepEqual(verifyPathMacs(back, keys).map((v) => v.valid), Array(9).fill(true));
  });

  it('rejects metadata that does not match the fields', () => {
    const bad = (e: unknown): boolean => e instanceof ScionError && e.code === 'BAD_PATH';
    const p = threeSegments();
    assert.throws(() => reversePath({ ...p, meta: { ...p.meta, segLens: [2, 3, 3] } }), bad);
    assert.throws(() => reversePath({ ...p, meta: { ...p.meta, segLens: [2, 0, 7] } }), bad);
    assert.throws(() => reversePath({ ...p, infoFields: p.infoFields.slice(0, 2) }), bad);
    assert.throws(() => reversePath({ ...p, meta: { ...p.meta, currHf: 9 } }), bad);
    assert.throws(() => reversePath({ ...p, meta: { ...p.meta, currInf: 3 } }), bad);
  });
});
