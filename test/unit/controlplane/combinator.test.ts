import assert from 'node:assert/strict';
import { beacon, seededSegIds } from '../../../controlplane/beaconing';
import { combine, comparePaths, type ControlPlanePath } from '../../../controlplane/combinator';
import { parseTopology } from '../../../controlplane/topology';
import type { IA as IAType } from '../../../scion/isdas';
import { verifyPathMacs } from '../../../scion/mac/segid';
import { deriveHopFieldKey } from '../../../scion/mac/keys';
import { IA, SMALL_TOPOLOGY } from './small-topology';
import { assertLoopFree, assertPathVerifies } from './verify';

const { A, B, C, D, E, G } = IA;
const NAMES = new Map<IAType, string>(Object.entries(IA).map(([k, v]) => [v, k]));
const names = (p: ControlPlanePath): string => p.ases.map((a) => NAMES.get(a)).join('');
const ifs = (p: ControlPlanePath): string[] => p.interfaces.map((i) => `${NAMES.get(i.ia)}#${i.ifid}`);

const TS = 1_700_000_000;
const topology = parseTopology(SMALL_TOPOLOGY);
const segments = beacon(topology, { timestamp: TS, segIds: seededSegIds(7) });
const paths = (src: IAType, dst: IAType): ControlPlanePath[] =>
  combine(src, dst, segments, { underlayOf: (ia, ifid) => topology.ases.get(ia)?.interfaces.get(ifid)?.underlay });

// Every path of the small topology, worked out by hand from its segments (AS letters in
// path order). Core segments join every pair of A, B, F (B-F through A); intra-ISD
// segments are A>C, A>C>D, A>C>E, B>E and F>G; D and G peer.
const EXPECTED: Record<string, string[]> = {
  AB: ['AB'], BA: ['BA'], AF: ['AF'], FA: ['FA'], BF: ['BAF'], FB: ['FAB'],
  AC: ['AC'], AD: ['ACD'], AE: ['ACE', 'ABE'], AG: ['AFG'],
  BC: ['BAC'], BD: ['BACD'], BE: ['BE', 'BACE'], BG: ['BAFG'],
  FC: ['FAC'], FD: ['FACD'], FE: ['FACE', 'FABE'], FG: ['FG'],
  CA: ['CA'], CB: ['CAB'], CF: ['CAF'],
  DA: ['DCA'], DB: ['DCAB'], DF: ['DCAF'],
  EA: ['ECA', 'EBA'], EB: ['EB', 'ECAB'], EF: ['ECAF', 'EBAF'],
  GA: ['GFA'], GB: ['GFAB'], GF: ['GF'],
  CD: ['CD'], CE: ['CE', 'CABE'], CG: ['CAFG'],
  DC: ['DC'], DE: ['DCE', 'DCABE'], DG: ['DG', 'DCAFG'],
  EC: ['EC', 'EBAC'], ED: ['ECD', 'EBACD'], EG: ['ECAFG', 'EBAFG'],
  GC: ['GFAC'], GD: ['GD', 'GFACD'], GE: ['GFACE', 'GFABE'],
};

describe('controlplane beaconing and path combination', () => {
  it('registers the segments SCION beaconing would', () => {
    const intra = segments.intra.map((s) => s.asEntries.map((e) => NAMES.get(e.local)).join('')).sort();
    assert.deepEqual(intra, ['AC', 'ACD', 'ACE', 'BE', 'FG']);
    const core = segments.core.map((s) => s.asEntries.map((e) => NAMES.get(e.local)).join('')).sort();
    assert.deepEqual(core, ['AB', 'AF', 'BA', 'BAF', 'FA', 'FAB']);
    for (const s of [...segments.core, ...segments.intra]) {
      assert.equal(s.timestamp, TS);
      assert.equal(s.asEntries[0].hopField.consIngress, 0);
      assert.equal(s.asEntries[s.asEntries.length - 1].hopField.consEgress, 0);
      assert.ok(s.asEntries.every((e) => e.hopField.expTime === 20));
    }
    const acd = segments.intra.find((s) => s.asEntries.length === 3 && s.asEntries[2].local === D)!;
    assert.deepEqual(acd.asEntries.map((e) => [e.hopField.consIngress, e.hopField.consEgress]), [[0, 2], [1, 2], [1, 0]]);
    assert.deepEqual(acd.asEntries.map((e) => e.peers.length), [0, 0, 1]);
    assert.deepEqual(acd.asEntries[2].peers[0].hopField.consIngress, 2);
    assert.equal(acd.asEntries[2].peers[0].peer, G);
    // Static info as the ASes announce it: C's egress 2 to its other interfaces.
    assert.deepEqual([...acd.asEntries[1].staticInfo.latency.intra].sort(), [[1, 1], [3, 0.5]]);
    assert.deepEqual([...acd.asEntries[1].staticInfo.latency.inter], [[2, 3]]);
    assert.equal(acd.asEntries[1].staticInfo.note, 'transit C');
  });

  it('MACs each segment hop by hop in construction direction', () => {
    for (const s of [...segments.core, ...segments.intra]) {
      const keys = s.asEntries.map((e) => deriveHopFieldKey(topology.ases.get(e.local)!.masterKey));
      const path = {
        type: 'SCION' as const,
        meta: { currInf: 0, currHf: 0, segLens: [s.asEntries.length, 0, 0] as [number, number, number] },
        infoFields: [{ consDir: true, peer: false, segId: s.segId, timestamp: s.timestamp }],
        hopFields: s.asEntries.map((e) => e.hopField),
      };
      assert.deepEqual(verifyPathMacs(path, keys).map((v) => v.valid), keys.map(() => true));
    }
  });

  it('is reproducible with the same seed and clock, and draws fresh SegIDs with another seed', () => {
    const again = beacon(topology, { timestamp: TS, segIds: seededSegIds(7) });
    assert.deepEqual(again, segments);
    const other = beacon(topology, { timestamp: TS, segIds: seededSegIds(8) });
    assert.deepEqual(other.intra.map((s) => s.id), segments.intra.map((s) => s.id));
    assert.notDeepEqual(other.intra.map((s) => s.segId), segments.intra.map((s) => s.segId));
  });

  it('finds exactly the hand-worked paths between every pair of ASes', () => {
    for (const [src, dst] of Object.keys(EXPECTED).map((k) => [k[0], k[1]] as const)) {
      const found = paths(IA[src as keyof typeof IA], IA[dst as keyof typeof IA]).map(names);
      assert.deepEqual([...found].sort(), [...EXPECTED[`${src}${dst}`]].sort(), `${src} to ${dst}`);
    }
    assert.equal(Object.keys(EXPECTED).length, 42);
  });

  it('every path verifies hop by hop from the source, is loop-free and ordered', () => {
    for (const src of Object.values(IA)) {
      for (const dst of Object.values(IA)) {
        if (src === dst) continue;
        const ps = paths(src, dst);
        for (const p of ps) {
          assertPathVerifies(topology, p);
          assertLoopFree(p);
          assert.equal(p.ases[0], src);
          assert.equal(p.ases[p.ases.length - 1], dst);
          assert.equal(p.path.meta.currInf, 0);
          assert.equal(p.path.meta.currHf, 0);
          assert.equal(p.hopFieldAses.length, p.path.hopFields.length);
        }
        for (let i = 1; i < ps.length; i++) assert.ok(comparePaths(ps[i - 1], ps[i]) < 0);
        assert.equal(new Set(ps.map((p) => p.fingerprint)).size, ps.length);
      }
    }
  });

  it('builds the shortcut D>C>E with the interfaces, flags and metadata SCION gives it', () => {
    const [p] = paths(D, E);
    assert.deepEqual(ifs(p), ['D#1', 'C#2', 'C#3', 'E#1']);
    assert.deepEqual(p.path.meta.segLens, [2, 2, 0]);
    assert.deepEqual(p.path.infoFields.map((f) => [f.consDir, f.peer]), [[false, false], [true, false]]);
    assert.deepEqual(p.path.hopFields.map((h) => [h.consIngress, h.consEgress]), [[1, 0], [1, 2], [1, 3], [1, 0]]);
    assert.deepEqual(p.segments.map((s) => [s.role, s.shortcut, s.peer]), [['up', 1, false], ['down', 1, false]]);
    assert.deepEqual(p.latencyMs, [3, 0.5, 4]);
    assert.equal(p.totalLatencyMs, 7.5);
    assert.equal(p.latencyComplete, true);
    assert.deepEqual(p.bandwidthKbps, [300, 400, 300]);
    assert.equal(p.minBandwidthKbps, 300);
    assert.deepEqual(p.internalHops, [3]);
    assert.deepEqual(p.geo.map((g) => g?.address ?? null), [null, 'Basel', 'Geneva', null]);
    assert.deepEqual(p.geo.map((g) => g?.country ?? null), [null, null, 'CH', null]);
    assert.deepEqual(p.linkRelations, ['PARENT', 'CHILD']);
    assert.deepEqual(p.notes, ['', 'transit C', '']);
    assert.equal(p.mtu, 1472);
    assert.deepEqual(p.nextHop, { ifid: 1 });
    assert.equal(p.expiry, TS + 21 * 337.5);
  });

  it('builds the peering path D>G across the peering link', () => {
    const p = paths(D, G).find((x) => x.ases.length === 2)!;
    assert.deepEqual(ifs(p), ['D#2', 'G#2']);
    assert.deepEqual(p.path.meta.segLens, [1, 1, 0]);
    assert.deepEqual(p.path.infoFields.map((f) => [f.consDir, f.peer]), [[false, true], [true, true]]);
    assert.deepEqual(p.path.hopFields.map((h) => [h.consIngress, h.consEgress]), [[2, 0], [2, 0]]);
    assert.deepEqual(p.linkRelations, ['PEER']);
    assert.deepEqual(p.linkTypes, ['multihop']);
    assert.deepEqual(p.latencyMs, [7]);
    assert.equal(p.mtu, 1300);
    const back = paths(G, D).find((x) => x.ases.length === 2)!;
    assert.deepEqual(ifs(back), ['G#2', 'D#2']);
    assert.deepEqual(back.nextHop, { ifid: 2 });
  });

  it('builds up-core-down C>A>F>G with the minimum MTU and per-link metadata', () => {
    const [p] = paths(C, G);
    assert.deepEqual(ifs(p), ['C#1', 'A#2', 'A#3', 'F#1', 'F#2', 'G#1']);
    assert.deepEqual(p.path.meta.segLens, [2, 2, 2]);
    assert.deepEqual(p.path.infoFields.map((f) => f.consDir), [false, false, true]);
    assert.equal(p.mtu, 1400);
    assert.deepEqual(p.latencyMs, [2, 1, 20, 1, 1]);
    assert.deepEqual(p.bandwidthKbps, [500, 0, 2000, 0, 100]);
    assert.equal(p.minBandwidthKbps, 100);
    assert.deepEqual(p.linkRelations, ['PARENT', 'CORE', 'CHILD']);
    assert.deepEqual(p.linkTypes, ['unspecified', 'direct', 'unspecified']);
    const [q] = paths(G, C);
    assert.deepEqual(q.nextHop, { ifid: 1, underlay: '10.2.0.1:50000' });
  });

  it('uses only part of a segment for down-only and up-only shortcuts', () => {
    const [down] = paths(C, D);
    assert.deepEqual(ifs(down), ['C#2', 'D#1']);
    assert.deepEqual(down.path.meta.segLens, [2, 0, 0]);
    assert.deepEqual(down.segments.map((s) => [s.role, s.shortcut]), [['down', 1]]);
    const [up] = paths(D, C);
    assert.deepEqual(ifs(up), ['D#1', 'C#2']);
    assert.deepEqual(up.segments.map((s) => [s.role, s.shortcut]), [['up', 1]]);
  });

  it('a tampered hop field fails verification where the router would drop it', () => {
    const [p] = paths(C, G);
    p.path.hopFields[3].mac[0] ^= 1;
    const keys = p.hopFieldAses.map((ia) => deriveHopFieldKey(topology.ases.get(ia)!.masterKey));
    assert.equal(verifyPathMacs(p.path, keys)[3].valid, false);
  });

  it('returns the single empty path to the local AS', () => {
    const [p] = combine(E, E, segments, { localMtu: 1472 });
    assert.deepEqual(p.path.meta.segLens, [0, 0, 0]);
    assert.equal(p.fingerprint, '');
    assert.equal(p.nextHop, null);
    assert.equal(p.mtu, 1472);
  });

  it('honours the segment length bound', () => {
    const short = parseTopology(SMALL_TOPOLOGY.replace('expTime: 20', 'expTime: 20\n  maxIntraAses: 2'));
    const segs = beacon(short, { timestamp: TS, segIds: seededSegIds(1) });
    assert.ok(segs.intra.every((s) => s.asEntries.length <= 2));
    assert.deepEqual(combine(D, B, segs, {}), []);
    assert.deepEqual(combine(B, A, segs, {}).map(names), ['BA']);
  });
});
