import assert from 'node:assert/strict';
import { ScionError } from '../../../../scion/errors';
import { Cmac } from '../../../../scion/mac/cmac';
import { deriveHopFieldKey } from '../../../../scion/mac/keys';
import {
  buildSegmentMacs,
  initialSegId,
  nextSegId,
  verifyPathMacs,
  type HopMacVerdict,
} from '../../../../scion/mac/segid';
import type { HopField, ScionPath } from '../../../../scion/path/model';
import {
  atCapture,
  encodePathHex,
  LINEAR_BETA0,
  LINEAR_CAPTURES,
  LINEAR_HOP_ASES,
  LINEAR_KEYS,
  LINEAR_PATH_HEX,
  linearPath,
  PEERING_CAPTURES,
  PEERING_HOP_ASES,
  PEERING_MASTER_KEYS,
  PEERING_PATH_HEX,
  peeringPath,
} from './captured-paths';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const linearKeys = LINEAR_HOP_ASES.map((as) => LINEAR_KEYS[as]);
const peeringKeys = PEERING_HOP_ASES.map((as) => deriveHopFieldKey(new Uint8Array(Buffer.from(PEERING_MASTER_KEYS[as], 'base64'))));
const valids = (v: HopMacVerdict[]): (boolean | null)[] => v.map((x) => x.valid);

describe('SegID chaining', () => {
  it('XORs the first two MAC bytes into the SegID', () => {
    assert.equal(nextSegId(0x9d53, new Uint8Array([0x3a, 0xda, 0xe5, 0xaf, 0x4b, 0x5a])), 0xa789);
    assert.equal(nextSegId(0xffff, new Uint8Array([0xff, 0xff, 0, 0, 0, 0])), 0);
  });

  describe('captured SCION paths', () => {
    it('decoded fixtures are byte-identical to the captures', () => {
      assert.equal(encodePathHex(linearPath()), LINEAR_PATH_HEX);
      assert.equal(encodePathHex(peeringPath()), PEERING_PATH_HEX);
    });

    it('verifies every hop of an up-core-down path as the sender emitted it', () => {
      const v = verifyPathMacs(linearPath(), linearKeys);
      assert.deepEqual(valids(v), Array(9).fill(true));
      // SegIDs each router checks against, as the captures show them after its update.
      assert.deepEqual(
        v.map((x) => x.segId),
        [0x3f43, 0xa789, 0x9d53, 0xd17e, 0x580c, 0x6991, 0x4073, 0xe9cd, 0x3415],
      );
    });

    it('verifies the rest of the path at every point the packet was captured', () => {
      for (const c of LINEAR_CAPTURES) {
        const v = verifyPathMacs(atCapture(linearPath(), c), linearKeys, { arrival: c.arrival });
        const expected = linearKeys.map((_, i) => (i < c.currHf ? null : true));
        assert.deepEqual(valids(v), expected, `capture at CurrHF ${c.currHf} (${c.arrival})`);
      }
    });

    it('fails where the router would if the arrival side is wrong against construction direction', () => {
      const c = LINEAR_CAPTURES[1]; // already updated by 1-ff00:0:2's ingress router
      const v = verifyPathMacs(atCapture(linearPath(), c), linearKeys, { arrival: 'link' });
      assert.equal(v[1].valid, false);
    });

    it('verifies a path across a peering link with keys derived from the AS master keys', () => {
      assert.deepEqual(valids(verifyPathMacs(peeringPath(), peeringKeys)), Array(6).fill(true));
      for (const c of PEERING_CAPTURES) {
        const v = verifyPathMacs(atCapture(peeringPath(), c), peeringKeys, { arrival: c.arrival });
        assert.deepEqual(valids(v), peeringKeys.map((_, i) => (i < c.currHf ? null : true)), `CurrHF ${c.currHf}`);
      }
    });

    it('rebuilds the beacons MACs and the SegIDs the sender wrote (buildSegmentMacs, initialSegId)', () => {
      const path = linearPath();
      // Segments in construction order: up and core were traversed against it.
      const segments = [
        { hops: [2, 1, 0], consDir: false },
        { hops: [5, 4, 3], consDir: false },
        { hops: [6, 7, 8], consDir: true },
      ];
      segments.forEach((seg, s) => {
        const info = path.infoFields[s];
        const hops = seg.hops.map((i) => path.hopFields[i]);
        const built = buildSegmentMacs(LINEAR_BETA0[s], info.timestamp, hops, seg.hops.map((i) => linearKeys[i]));
        assert.deepEqual(built.macs.map(toHex), hops.map((h) => toHex(h.mac)), `segment ${s}`);
        assert.equal(built.segIds[0], LINEAR_BETA0[s]);
        assert.equal(initialSegId(LINEAR_BETA0[s], built.macs, { consDir: seg.consDir }), info.segId, `segment ${s}`);
      });
    });

    it('skips hops without a key but still carries the SegID past them', () => {
      const keys = linearKeys.map((k, i) => (i === 1 || i === 4 ? null : k));
      assert.deepEqual(valids(verifyPathMacs(linearPath(), keys)), [true, null, true, true, null, true, true, true, true]);
    });
  });

  describe('a segment built here', () => {
    const keys = [0x11, 0x22, 0x33, 0x44].map((b) => new Cmac(new Uint8Array(16).fill(b)));
    const hopsCons = [
      { expTime: 63, consIngress: 0, consEgress: 5 },
      { expTime: 63, consIngress: 7, consEgress: 9 },
      { expTime: 40, consIngress: 2, consEgress: 3 },
      { expTime: 63, consIngress: 4, consEgress: 0 },
    ];
    const beta0 = 0x1234;
    const timestamp = 1_700_000_000;
    const built = buildSegmentMacs(beta0, timestamp, hopsCons, keys);
    const hopFields: HopField[] = hopsCons.map((h, i) => ({ ...h, ingressAlert: false, egressAlert: false, mac: built.macs[i] }));

    function down(): ScionPath {
      return {
        type: 'SCION',
        meta: { currInf: 0, currHf: 0, segLens: [4, 0, 0] },
        infoFields: [{ consDir: true, peer: false, segId: initialSegId(beta0, built.macs, { consDir: true }), timestamp }],
        hopFields: hopFields.map((h) => ({ ...h, mac: h.mac.slice() })),
      };
    }
    function up(): ScionPath {
      return {
        type: 'SCION',
        meta: { currInf: 0, currHf: 0, segLens: [4, 0, 0] },
        infoFields: [{ consDir: false, peer: false, segId: initialSegId(beta0, built.macs, { consDir: false }), timestamp }],
        hopFields: hopFields.map((h) => ({ ...h, mac: h.mac.slice() })).reverse(),
      };
    }
    const upKeys = [...keys].reverse();

    it('chains beta_{i+1} = beta_i XOR MAC_i[:2]', () => {
      assert.equal(built.segIds.length, 5);
      for (let i = 0; i < 4; i++) {
        assert.equal(built.segIds[i + 1], built.segIds[i] ^ ((built.macs[i][0] << 8) | built.macs[i][1]));
      }
    });

    it('verifies in construction direction and against it', () => {
      assert.equal(down().infoFields[0].segId, beta0);
      assert.equal(up().infoFields[0].segId, built.segIds[3]);
      assert.deepEqual(valids(verifyPathMacs(down(), keys)), [true, true, true, true]);
      assert.deepEqual(valids(verifyPathMacs(up(), upKeys)), [true, true, true, true]);
    });

    it('fails from the hop whose MAC byte changed; chaining bytes also break the next hops', () => {
      const p = down();
      p.hopFields[1].mac[5] ^= 0x80;
      assert.deepEqual(valids(verifyPathMacs(p, keys)), [true, false, true, true]);
      const q = down();
      q.hopFields[1].mac[0] ^= 0x01;
      assert.deepEqual(valids(verifyPathMacs(q, keys)), [true, false, false, false]);
      const r = up(); // against construction direction the changed MAC feeds the SegID first
      r.hopFields[2].mac[5] ^= 0x01;
      assert.deepEqual(valids(verifyPathMacs(r, upKeys)), [true, true, false, true]);
    });

    it('fails when the SegID changes', () => {
      const p = down();
      p.infoFields[0].segId ^= 0x0100;
      assert.deepEqual(valids(verifyPathMacs(p, keys)), [false, false, false, false]);
      const q = up();
      q.infoFields[0].segId ^= 0x0001;
      assert.deepEqual(valids(verifyPathMacs(q, upKeys)), [false, false, false, false]);
    });

    it('fails when the timestamp changes', () => {
      const p = down();
      p.infoFields[0].timestamp += 1;
      assert.deepEqual(valids(verifyPathMacs(p, keys)), [false, false, false, false]);
      const q = up();
      q.infoFields[0].timestamp -= 1;
      assert.deepEqual(valids(verifyPathMacs(q, upKeys)), [false, false, false, false]);
    });

    it('fails on the hop whose interface changes', () => {
      const p = down();
      p.hopFields[2].consEgress = 4;
      assert.deepEqual(valids(verifyPathMacs(p, keys)), [true, true, false, true]);
      const q = up();
      q.hopFields[0].consIngress = 5;
      assert.deepEqual(valids(verifyPathMacs(q, upKeys)), [false, true, true, true]);
    });

    it('fails when hops are reordered or a key is wrong', () => {
      const p = down();
      [p.hopFields[1], p.hopFields[2]] = [p.hopFields[2], p.hopFields[1]];
      assert.deepEqual(valids(verifyPathMacs(p, keys)), [true, false, false, true]);
      assert.deepEqual(valids(verifyPathMacs(down(), [keys[0], keys[0], keys[2], keys[3]])), [true, false, true, true]);
    });

    it('computes the SegID for a shortcut or peering entry into the segment', () => {
      assert.equal(initialSegId(beta0, built.macs, { consDir: true, shortcut: 2 }), built.segIds[2]);
      assert.equal(initialSegId(beta0, built.macs, { consDir: true, shortcut: 1, peer: true }), built.segIds[2]);
      assert.equal(initialSegId(beta0, built.macs, { consDir: false, shortcut: 2 }), built.segIds[3]);
      assert.equal(initialSegId(beta0, built.macs, { consDir: false, shortcut: 2, peer: true }), built.segIds[3]);
      assert.equal(initialSegId(beta0, built.macs, { consDir: false, shortcut: 3, peer: true }), built.segIds[4]);
      const shortcut: ScionPath = {
        ...down(),
        meta: { currInf: 0, currHf: 0, segLens: [2, 0, 0] },
        infoFields: [{ ...down().infoFields[0], segId: built.segIds[2] }],
        hopFields: down().hopFields.slice(2),
      };
      assert.deepEqual(valids(verifyPathMacs(shortcut, keys.slice(2))), [true, true]);
    });
  });

  describe('bad input', () => {
    const bad = (code: string) => (e: unknown): boolean => e instanceof ScionError && e.code === code;

    it('rejects a key list that does not match the hop fields', () => {
      assert.throws(() => verifyPathMacs(linearPath(), linearKeys.slice(1)), bad('BAD_ARGUMENT'));
      assert.throws(() => buildSegmentMacs(0, 0, [{ expTime: 0, consIngress: 0, consEgress: 1 }], []), bad('BAD_ARGUMENT'));
    });

    it('rejects inconsistent path metadata', () => {
      const p = linearPath();
      assert.throws(() => verifyPathMacs({ ...p, meta: { ...p.meta, segLens: [3, 3, 2] } }, linearKeys), bad('BAD_PATH'));
      assert.throws(() => verifyPathMacs({ ...p, meta: { ...p.meta, segLens: [3, 0, 6] } }, linearKeys), bad('BAD_PATH'));
      assert.throws(() => verifyPathMacs({ ...p, meta: { ...p.meta, currHf: 3, currInf: 0 } }, linearKeys), bad('BAD_PATH'));
      assert.throws(() => verifyPathMacs({ ...p, meta: { ...p.meta, currHf: 9, currInf: 2 } }, linearKeys), bad('BAD_PATH'));
      const peer3 = { ...p, infoFields: p.infoFields.map((f) => ({ ...f, peer: true })) };
      assert.throws(() => verifyPathMacs(peer3, linearKeys), bad('BAD_PATH'));
      const shortMac = { ...p, hopFields: p.hopFields.map((h, i) => (i === 4 ? { ...h, mac: h.mac.subarray(0, 4) } : h)) };
      assert.throws(() => verifyPathMacs(shortMac, linearKeys), bad('BAD_PATH'));
    });

    it('rejects a shortcut outside the segment', () => {
      assert.throws(() => initialSegId(0, [new Uint8Array(6)], { consDir: true, shortcut: 1 }), bad('BAD_ARGUMENT'));
      assert.throws(() => initialSegId(0, [new Uint8Array(6)], { consDir: false, shortcut: -1 }), bad('BAD_ARGUMENT'));
    });
  });
});
