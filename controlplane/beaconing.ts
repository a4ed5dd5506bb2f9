// Beaconing as SCION's control services do it, computed in one place over the topology:
// every core AS originates core beacons over its CORE links and intra-ISD beacons over its
// child links; each AS a beacon reaches appends its entry, with a hop field MACed under its
// own key in construction direction and chained through the SegID, and registers the
// beacon as a segment. Core segments join core ASes; intra-ISD segments run from a core AS
// down to a non-core AS and serve as that AS's up segments and as down segments towards it.
// Each AS entry carries what SCION's static info extension would: latency, bandwidth,
// geo, link type and internal hops, keyed by interface.
import { createHash } from 'node:crypto';
import type { IA } from '../scion/isdas';
import { Cmac } from '../scion/mac/cmac';
import { hopFieldMac } from '../scion/mac/hopfield';
import { buildSegmentMacs } from '../scion/mac/segid';
import type { HopField } from '../scion/path/model';
import { internalBetween, type GeoLocation, type LinkMedium, type Topology, type TopologyAS } from './topology';

export type SegmentKind = 'core' | 'intra';

/** Per-interface metadata of one AS entry, shaped like SCION's StaticInfo extension. */
export interface StaticInfo {
  /** Milliseconds: intra from the entry's egress to other interfaces; inter over the egress and peering links. */
  latency: { intra: Map<number, number>; inter: Map<number, number> };
  /** Kbit/s, keyed like latency. */
  bandwidth: { intra: Map<number, number>; inter: Map<number, number> };
  geo: Map<number, GeoLocation>;
  /** Link type of the egress link and of peering links. */
  linkType: Map<number, LinkMedium>;
  /** Internal router hops from the egress to other interfaces. */
  internalHops: Map<number, number>;
  note?: string;
}

export interface PeerEntry {
  /** The AS on the other side of the peering link, and its interface there. */
  peer: IA;
  peerInterface: number;
  peerMtu: number;
  /** ConsIngress is the local peering interface, ConsEgress the entry's egress. */
  hopField: HopField;
}

export interface ASEntry {
  local: IA;
  /** The AS the beacon was passed on to; 0n on the registering (last) entry. */
  next: IA;
  hopField: HopField;
  /** MTU of the link at ConsIngress; 0 on the first entry. */
  ingressMtu: number;
  /** The AS's internal MTU. */
  mtu: number;
  peers: PeerEntry[];
  staticInfo: StaticInfo;
}

export interface PathSegment {
  /** Hex SHA-256 over the ASes and interfaces, stable across re-beaconing. */
  id: string;
  kind: SegmentKind;
  /** Info field timestamp, Unix seconds. */
  timestamp: number;
  /** beta_0, the random initial SegID. */
  segId: number;
  /** In construction order: entry 0 is the originating core AS. */
  asEntries: ASEntry[];
}

export interface SegmentSet {
  timestamp: number;
  core: PathSegment[];
  intra: PathSegment[];
}

/** Source of 16-bit initial SegIDs. */
export type SegIdSource = () => number;

/** A deterministic SegID source (mulberry32), for reproducible segments in tests and demos. */
export function seededSegIds(seed: number): SegIdSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) & 0xffff;
  };
}

interface Step {
  ia: IA;
  ingress: number;
  egress: number;
}

function macKeys(topology: Topology): Map<IA, Cmac> {
  return new Map([...topology.ases].map(([ia, as]) => [ia, new Cmac(as.hopKey)]));
}

function staticInfo(as: TopologyAS, egress: number, peers: number[]): StaticInfo {
  const info: StaticInfo = {
    latency: { intra: new Map(), inter: new Map() },
    bandwidth: { intra: new Map(), inter: new Map() },
    geo: new Map(),
    linkType: new Map(),
    internalHops: new Map(),
    ...(as.note ? { note: as.note } : {}),
  };
  for (const [ifid, intf] of as.interfaces) {
    if (intf.geo) info.geo.set(ifid, intf.geo);
    // Unlike SCION, which trims intra figures to the pairs a crossover can need, the
    // embedded ASes announce every pair from the egress: the metadata only gets more complete.
    if (egress !== 0 && ifid !== egress) {
      const hop = internalBetween(as, egress, ifid);
      if (hop.latencyMs !== undefined) info.latency.intra.set(ifid, hop.latencyMs);
      if (hop.bandwidthKbps !== undefined) info.bandwidth.intra.set(ifid, hop.bandwidthKbps);
      if (hop.hops !== undefined) info.internalHops.set(ifid, hop.hops);
    }
  }
  for (const ifid of egress !== 0 ? [egress, ...peers] : peers) {
    const link = as.interfaces.get(ifid)!.link;
    info.latency.inter.set(ifid, link.latencyMs);
    info.bandwidth.inter.set(ifid, link.bandwidthKbps);
    info.linkType.set(ifid, link.medium);
  }
  return info;
}

function segmentId(kind: SegmentKind, steps: readonly Step[]): string {
  const h = createHash('sha256').update(kind);
  const buf = Buffer.alloc(12);
  for (const s of steps) {
    buf.writeBigUInt64BE(s.ia, 0);
    buf.writeUInt16BE(s.ingress, 8);
    buf.writeUInt16BE(s.egress, 10);
    h.update(buf);
  }
  return h.digest('hex');
}

function buildSegment(
  topology: Topology,
  keys: Map<IA, Cmac>,
  kind: SegmentKind,
  steps: readonly Step[],
  timestamp: number,
  beta0: number,
): PathSegment {
  const expTime = topology.segments.expTime;
  const hops = steps.map((s) => ({ expTime, consIngress: s.ingress, consEgress: s.egress }));
  const { macs, segIds } = buildSegmentMacs(beta0, timestamp, hops, steps.map((s) => keys.get(s.ia)!));
  const asEntries = steps.map((s, i): ASEntry => {
    const as = topology.ases.get(s.ia)!;
    // Core beacons carry no peering entries; intra-ISD ones offer every peering link.
    const peerIfs = kind === 'intra' ? [...as.interfaces.values()].filter((f) => f.linkTo === 'PEER').map((f) => f.ifid) : [];
    const peers = peerIfs.map((p): PeerEntry => {
      const intf = as.interfaces.get(p)!;
      const hop = { expTime, consIngress: p, consEgress: s.egress };
      // A peering hop field chains to the SegID after this AS's regular hop (beta_{i+1}).
      const mac = hopFieldMac(keys.get(s.ia)!, { segId: segIds[i + 1], timestamp }, hop);
      return {
        peer: intf.remote.ia,
        peerInterface: intf.remote.ifid,
        peerMtu: intf.link.mtu,
        hopField: { ...hop, ingressAlert: false, egressAlert: false, mac },
      };
    });
    return {
      local: s.ia,
      next: i + 1 < steps.length ? steps[i + 1].ia : 0n,
      hopField: { ...hops[i], ingressAlert: false, egressAlert: false, mac: macs[i] },
      ingressMtu: s.ingress === 0 ? 0 : as.interfaces.get(s.ingress)!.link.mtu,
      mtu: as.mtu,
      peers,
      staticInfo: staticInfo(as, s.egress, peerIfs),
    };
  });
  return { id: segmentId(kind, steps), kind, timestamp, segId: beta0, asEntries };
}

interface Candidate {
  steps: Step[];
  latency: number;
  key: string;
}

/**
 * Every loop-free walk from each core AS along `follow` interfaces, at most `maxAses` ASes
 * long; each walk ending at an AS that `registers` is a candidate segment.
 */
function explore(
  topology: Topology,
  follow: 'CORE' | 'CHILD',
  maxAses: number,
  registers: (as: TopologyAS) => boolean,
): Map<string, Candidate[]> {
  const byPair = new Map<string, Candidate[]>();
  const visit = (steps: Step[], latency: number): void => {
    const last = steps[steps.length - 1];
    const as = topology.ases.get(last.ia)!;
    if (steps.length > 1 && registers(as)) {
      const full = [...steps.slice(0, -1), { ...last, egress: 0 }];
      const pair = `${steps[0].ia}>${last.ia}`;
      const key = full.map((s) => `${s.ia.toString(16).padStart(16, '0')}.${s.ingress}.${s.egress}`).join('/');
      if (!byPair.has(pair)) byPair.set(pair, []);
      byPair.get(pair)!.push({ steps: full, latency, key });
    }
    if (steps.length >= maxAses) return;
    const ifids = [...as.interfaces.values()].filter((f) => f.linkTo === follow).sort((a, b) => a.ifid - b.ifid);
    for (const f of ifids) {
      if (steps.some((s) => s.ia === f.remote.ia)) continue;
      visit([...steps.slice(0, -1), { ...last, egress: f.ifid }, { ia: f.remote.ia, ingress: f.remote.ifid, egress: 0 }], latency + f.link.latencyMs);
    }
  };
  const cores = [...topology.ases.values()].filter((as) => as.core).sort((a, b) => (a.ia < b.ia ? -1 : a.ia > b.ia ? 1 : 0));
  for (const core of cores) visit([{ ia: core.ia, ingress: 0, egress: 0 }], 0);
  return byPair;
}

/** Keeps the best `size` candidates per pair (fewest ASes, then lowest link latency), in a fixed order. */
function bestSets(byPair: Map<string, Candidate[]>, size: number): Candidate[] {
  const out: Candidate[] = [];
  for (const pair of [...byPair.keys()].sort()) {
    const sorted = byPair
      .get(pair)!
      .sort((a, b) => a.steps.length - b.steps.length || a.latency - b.latency || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out.push(...sorted.slice(0, size));
  }
  return out;
}

/**
 * Runs one round of beaconing at `timestamp` (Unix seconds): all core segments and all
 * intra-ISD segments the topology allows, within its length and best-set bounds.
 */
export function beacon(topology: Topology, opts: { timestamp: number; segIds: SegIdSource }): SegmentSet {
  const keys = macKeys(topology);
  const { maxCoreAses, maxIntraAses, bestSetSize } = topology.segments;
  const timestamp = Math.floor(opts.timestamp);
  const build = (kind: SegmentKind, c: Candidate): PathSegment => buildSegment(topology, keys, kind, c.steps, timestamp, opts.segIds() & 0xffff);
  const core = bestSets(explore(topology, 'CORE', maxCoreAses, (as) => as.core), bestSetSize).map((c) => build('core', c));
  const intra = bestSets(explore(topology, 'CHILD', maxIntraAses, (as) => !as.core), bestSetSize).map((c) => build('intra', c));
  return { timestamp, core, intra };
}
