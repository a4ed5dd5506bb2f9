// Path combination as SCION's path combinator does it (private/path/combinator): segments
// become edges of a small multigraph between ASes (and peering links), every way from
// source to destination using at most one up, one core and one down segment, in that order,
// is a path. Up and down segments may be cut short where they meet at a non-core AS
// (shortcut) or at a peering link both ends announce (peering shortcut). Each path gets
// the forwarding header a sender writes (ConsDir, SegIDs, SegLens, CurrINF = CurrHF = 0)
// and the metadata daemon.v1 returns with it, collected from the AS entries' static info.
import type { IA } from '../scion/isdas';
import { expTimeToSeconds, MAX_TTL_SECONDS } from '../scion/mac/expiry';
import { initialSegId } from '../scion/mac/segid';
import { pathFingerprint } from '../scion/path/fingerprint';
import type { HopField, InfoField, PathInterface, ScionPath } from '../scion/path/model';
import type { ASEntry, PathSegment, SegmentSet } from './beaconing';
import type { GeoLocation, LinkMedium, LinkTo } from './topology';

export type SegmentRole = 'up' | 'core' | 'down';

/** How one segment is used in a path. */
export interface SegmentUse {
  segmentId: string;
  role: SegmentRole;
  /** Construction index where the path leaves (up) or joins (down) the segment; 0 for all of it. */
  shortcut: number;
  /** True when the path crosses a peering link at `shortcut`. */
  peer: boolean;
}

/** A forwarding path with the metadata daemon.v1's Path carries, plus what the operator needs. */
export interface ControlPlanePath {
  src: IA;
  dst: IA;
  path: ScionPath;
  /** The interfaces crossed, in path order, as snet's metadata lists them. */
  interfaces: PathInterface[];
  /** snet fingerprint of `interfaces`; '' for the empty path. */
  fingerprint: string;
  /** The source AS's interface the packet leaves by, and its border router's underlay, if known. */
  nextHop: { ifid: number; underlay?: string } | null;
  /** ASes in path order, source first. */
  ases: IA[];
  /** The AS that issued (and whose key MACs) each hop field, in hop-field order. */
  hopFieldAses: IA[];
  mtu: number;
  /** Unix seconds (possibly .5) at which the first hop field expires. */
  expiry: number;
  /** Milliseconds between interface i and i+1; null where the AS announced nothing. */
  latencyMs: (number | null)[];
  /** Sum of the announced latencies. */
  totalLatencyMs: number;
  /** False when some hop's latency is unannounced, so totalLatencyMs is a lower bound. */
  latencyComplete: boolean;
  /** Kbit/s between interface i and i+1; 0 where unannounced. */
  bandwidthKbps: number[];
  /** Lowest announced bandwidth on the path; 0 when none is announced. */
  minBandwidthKbps: number;
  /** Position of each interface's border router; null where unannounced. */
  geo: (GeoLocation | null)[];
  /** Link between interfaces 2i and 2i+1. */
  linkTypes: LinkMedium[];
  /** What the far end of link i is to the near end: PARENT going up, CHILD going down, CORE, PEER. */
  linkRelations: LinkTo[];
  /** Internal hops of each fully crossed AS (between interfaces 2i+1 and 2i+2). */
  internalHops: number[];
  /** Note of each AS on the path, in order. */
  notes: string[];
  segments: SegmentUse[];
}

export interface CombineOptions {
  /** The underlay address of a source-AS interface, for nextHop. */
  underlayOf?: (ia: IA, ifid: number) => string | undefined;
}

/** An empty path to the local AS, as the daemon returns it. */
/** The path of a destination inside the source AS: no hops, nothing to cross. */
export function emptyPath(ia: IA, mtu: number, expiry: number, note = ''): ControlPlanePath {
  return {
    src: ia,
    dst: ia,
    path: { type: 'SCION', meta: { currInf: 0, currHf: 0, segLens: [0, 0, 0] }, infoFields: [], hopFields: [] },
    interfaces: [],
    fingerprint: '',
    nextHop: null,
    ases: [ia],
    hopFieldAses: [],
    mtu,
    expiry,
    latencyMs: [],
    totalLatencyMs: 0,
    latencyComplete: true,
    bandwidthKbps: [],
    minBandwidthKbps: 0,
    geo: [],
    linkTypes: [],
    linkRelations: [],
    internalHops: [],
    notes: [note],
    segments: [],
  };
}

interface Edge {
  to: string;
  segment: PathSegment;
  role: SegmentRole;
  shortcut: number;
  /** Index + 1 into the shortcut entry's peer entries; 0 for none. */
  peer: number;
}

const asVertex = (ia: IA): string => `as:${ia}`;
const peerVertex = (upIA: IA, upIf: number, downIA: IA, downIf: number): string => `peer:${upIA}#${upIf}>${downIA}#${downIf}`;

/** The multigraph of SCION's combinator, restricted to segments that can start at src or end at dst. */
function buildGraph(src: IA, dst: IA, segments: SegmentSet): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  const add = (from: string, e: Edge): void => {
    if (!graph.has(from)) graph.set(from, []);
    graph.get(from)!.push(e);
  };
  for (const seg of segments.core) {
    const entries = seg.asEntries;
    add(asVertex(entries[entries.length - 1].local), { to: asVertex(entries[0].local), segment: seg, role: 'core', shortcut: 0, peer: 0 });
  }
  for (const seg of segments.intra) {
    const entries = seg.asEntries;
    const pinned = entries[entries.length - 1].local;
    const role: SegmentRole | null = pinned === src ? 'up' : pinned === dst ? 'down' : null;
    if (role === null) continue;
    for (let idx = entries.length - 1; idx >= 0; idx--) {
      const entry = entries[idx];
      if (idx !== entries.length - 1) {
        if (role === 'up') add(asVertex(src), { to: asVertex(entry.local), segment: seg, role, shortcut: idx, peer: 0 });
        else add(asVertex(entry.local), { to: asVertex(dst), segment: seg, role, shortcut: idx, peer: 0 });
      }
      entry.peers.forEach((p, k) => {
        const ingress = p.hopField.consIngress;
        if (role === 'up') {
          add(asVertex(src), { to: peerVertex(entry.local, ingress, p.peer, p.peerInterface), segment: seg, role, shortcut: idx, peer: k + 1 });
        } else {
          add(peerVertex(p.peer, p.peerInterface, entry.local, ingress), { to: asVertex(dst), segment: seg, role, shortcut: idx, peer: k + 1 });
        }
      });
    }
  }
  return graph;
}

const ROLE_ORDER: Record<SegmentRole, number> = { up: 0, core: 1, down: 2 };

function solutions(src: IA, dst: IA, graph: Map<string, Edge[]>): Edge[][] {
  const found: Edge[][] = [];
  const target = asVertex(dst);
  const walk = (vertex: string, trail: Edge[]): void => {
    for (const e of graph.get(vertex) ?? []) {
      const last = trail[trail.length - 1];
      if (last && ROLE_ORDER[e.role] <= ROLE_ORDER[last.role]) continue;
      const next = [...trail, e];
      if (e.to === target) found.push(next);
      else if (next.length < 3) walk(e.to, next);
    }
  };
  walk(asVertex(src), []);
  return found;
}

interface BuiltSegment {
  info: InfoField;
  hops: HopField[];
  interfaces: PathInterface[];
  entries: ASEntry[];
  mtu: number;
  expiry: number;
}

function buildSegment(e: Edge): BuiltSegment {
  const entries = e.segment.asEntries;
  const hops: HopField[] = [];
  const interfaces: PathInterface[] = [];
  const used: ASEntry[] = [];
  let mtu = 0xffff;
  let ttl = MAX_TTL_SECONDS;
  // Walk from the segment's end towards the shortcut entry: forwarding order for up and
  // core segments, reversed afterwards for down segments.
  for (let idx = entries.length - 1; idx >= e.shortcut; idx--) {
    const entry = entries[idx];
    const isShortcut = idx === e.shortcut && e.shortcut !== 0;
    const isPeer = idx === e.shortcut && e.peer !== 0;
    let hop: HopField;
    if (isPeer) {
      const peer = entry.peers[e.peer - 1];
      hop = peer.hopField;
      mtu = Math.min(mtu, peer.peerMtu);
    } else {
      hop = entry.hopField;
      // The ingress link of a shortcut entry is not crossed, so its MTU does not apply.
      if (entry.ingressMtu !== 0 && !isShortcut) mtu = Math.min(mtu, entry.ingressMtu);
    }
    mtu = Math.min(mtu, entry.mtu);
    ttl = Math.min(ttl, expTimeToSeconds(hop.expTime));
    if (hop.consEgress !== 0) interfaces.push({ ia: entry.local, ifid: hop.consEgress });
    if (hop.consIngress !== 0 && (!isShortcut || isPeer)) interfaces.push({ ia: entry.local, ifid: hop.consIngress });
    hops.push({ ...hop, mac: hop.mac.slice() });
    used.push(entry);
  }
  const consDir = e.role === 'down';
  if (consDir) {
    hops.reverse();
    interfaces.reverse();
    used.reverse();
  }
  const segId = initialSegId(
    e.segment.segId,
    entries.map((x) => x.hopField.mac),
    { consDir, shortcut: e.shortcut, peer: e.peer !== 0 },
  );
  return {
    info: { consDir, peer: e.peer !== 0, segId, timestamp: e.segment.timestamp },
    hops,
    interfaces,
    entries: used,
    mtu,
    expiry: e.segment.timestamp + ttl,
  };
}

const ifKey = (i: PathInterface): string => `${i.ia}#${i.ifid}`;
const pairKey = (a: PathInterface, b: PathInterface): string => {
  const [x, y] = [ifKey(a), ifKey(b)].sort();
  return `${x}|${y}`;
};

interface Metadata {
  latencyMs: (number | null)[];
  bandwidthKbps: number[];
  geo: (GeoLocation | null)[];
  linkTypes: LinkMedium[];
  internalHops: number[];
  notes: string[];
}

/** Static info of the AS entries, looked up along the interface list (SCION's collectMetadata). */
function collectMetadata(interfaces: PathInterface[], entries: ASEntry[]): Metadata {
  const remote = new Map<string, PathInterface>();
  for (let i = 0; i + 1 < interfaces.length; i += 2) {
    remote.set(ifKey(interfaces[i]), interfaces[i + 1]);
    remote.set(ifKey(interfaces[i + 1]), interfaces[i]);
  }
  const latency = new Map<string, number>();
  const bandwidth = new Map<string, number>();
  const internalHops = new Map<string, number>();
  const linkType = new Map<string, LinkMedium>();
  const geo = new Map<string, GeoLocation>();
  const notes = new Map<IA, string[]>();
  // Conflicting announcements resolve conservatively: the higher latency, the lower bandwidth.
  const keep = (m: Map<string, number>, k: string, v: number, better: (old: number, v: number) => boolean): void => {
    const old = m.get(k);
    if (old === undefined || better(old, v)) m.set(k, v);
  };
  for (const entry of entries) {
    const si = entry.staticInfo;
    const eg: PathInterface = { ia: entry.local, ifid: entry.hopField.consEgress };
    const local = (ifid: number): PathInterface => ({ ia: entry.local, ifid });
    if (eg.ifid !== 0) {
      for (const [ifid, v] of si.latency.intra) keep(latency, pairKey(eg, local(ifid)), v, (o, n) => n > o);
      for (const [ifid, v] of si.bandwidth.intra) keep(bandwidth, pairKey(eg, local(ifid)), v, (o, n) => n < o);
      for (const [ifid, v] of si.internalHops) keep(internalHops, pairKey(eg, local(ifid)), v, (o, n) => n < o);
    }
    for (const [ifid, v] of si.latency.inter) {
      const r = remote.get(ifKey(local(ifid)));
      if (r) keep(latency, pairKey(local(ifid), r), v, (o, n) => n > o);
    }
    for (const [ifid, v] of si.bandwidth.inter) {
      const r = remote.get(ifKey(local(ifid)));
      if (r) keep(bandwidth, pairKey(local(ifid), r), v, (o, n) => n < o);
    }
    for (const [ifid, v] of si.linkType) {
      const r = remote.get(ifKey(local(ifid)));
      if (!r) continue;
      const k = pairKey(local(ifid), r);
      const old = linkType.get(k);
      linkType.set(k, old === undefined || old === v ? v : 'unspecified');
    }
    for (const [ifid, g] of si.geo) geo.set(ifKey(local(ifid)), g);
    if (si.note) notes.set(entry.local, [...new Set([...(notes.get(entry.local) ?? []), si.note])]);
  }
  const pairs = interfaces.slice(0, -1).map((a, i) => pairKey(a, interfaces[i + 1]));
  const ases = [interfaces[0].ia, ...interfaces.filter((_, i) => i % 2 === 1).map((x) => x.ia)];
  return {
    latencyMs: pairs.map((k) => latency.get(k) ?? null),
    bandwidthKbps: pairs.map((k) => bandwidth.get(k) ?? 0),
    geo: interfaces.map((i) => geo.get(ifKey(i)) ?? null),
    linkTypes: pairs.filter((_, i) => i % 2 === 0).map((k) => linkType.get(k) ?? 'unspecified'),
    internalHops: pairs.filter((_, i) => i % 2 === 1).map((k) => internalHops.get(k) ?? 0),
    notes: ases.map((ia) => (notes.get(ia) ?? []).join('\n')),
  };
}

/** The relation of each interface, as the segments that list it reveal it. */
function relationOf(built: BuiltSegment[], roles: SegmentRole[]): Map<string, LinkTo> {
  const rel = new Map<string, LinkTo>();
  built.forEach((b, s) => {
    b.entries.forEach((entry) => {
      const hf = entry.hopField;
      if (roles[s] === 'core') {
        for (const ifid of [hf.consIngress, hf.consEgress]) if (ifid) rel.set(`${entry.local}#${ifid}`, 'CORE');
      } else {
        if (hf.consIngress) rel.set(`${entry.local}#${hf.consIngress}`, 'PARENT');
        if (hf.consEgress) rel.set(`${entry.local}#${hf.consEgress}`, 'CHILD');
      }
      for (const p of entry.peers) rel.set(`${entry.local}#${p.hopField.consIngress}`, 'PEER');
    });
  });
  return rel;
}

function assemble(src: IA, dst: IA, trail: Edge[], opts: CombineOptions): ControlPlanePath {
  const built = trail.map(buildSegment);
  const interfaces = built.flatMap((b) => b.interfaces);
  const meta = collectMetadata(
    interfaces,
    built.flatMap((b) => b.entries),
  );
  const rel = relationOf(built, trail.map((e) => e.role));
  const segLens: [number, number, number] = [0, 0, 0];
  built.forEach((b, i) => (segLens[i] = b.hops.length));
  const known = meta.latencyMs.filter((l): l is number => l !== null);
  const announcedBw = meta.bandwidthKbps.filter((b) => b > 0);
  const first = interfaces[0];
  const underlay = opts.underlayOf?.(first.ia, first.ifid);
  return {
    src,
    dst,
    path: {
      type: 'SCION',
      meta: { currInf: 0, currHf: 0, segLens },
      infoFields: built.map((b) => b.info),
      hopFields: built.flatMap((b) => b.hops),
    },
    interfaces,
    fingerprint: pathFingerprint(interfaces),
    nextHop: { ifid: first.ifid, ...(underlay ? { underlay } : {}) },
    ases: [first.ia, ...interfaces.filter((_, i) => i % 2 === 1).map((x) => x.ia)],
    hopFieldAses: built.flatMap((b) => b.entries.map((e) => e.local)),
    mtu: Math.min(...built.map((b) => b.mtu)),
    expiry: Math.min(...built.map((b) => b.expiry)),
    latencyMs: meta.latencyMs,
    totalLatencyMs: known.reduce((a, b) => a + b, 0),
    latencyComplete: known.length === meta.latencyMs.length,
    bandwidthKbps: meta.bandwidthKbps,
    minBandwidthKbps: announcedBw.length > 0 ? Math.min(...announcedBw) : 0,
    geo: meta.geo,
    linkTypes: meta.linkTypes,
    linkRelations: interfaces.filter((_, i) => i % 2 === 0).map((x) => rel.get(ifKey(x))!),
    internalHops: meta.internalHops,
    notes: meta.notes,
    segments: trail.map((e) => ({ segmentId: e.segment.id, role: e.role, shortcut: e.shortcut, peer: e.peer !== 0 })),
  };
}

/** SCION's loop filter: no AS may own more than two of the path's interfaces. */
function loopFree(p: ControlPlanePath): boolean {
  const count = new Map<IA, number>();
  for (const i of p.interfaces) {
    const n = (count.get(i.ia) ?? 0) + 1;
    if (n > 2) return false;
    count.set(i.ia, n);
  }
  return true;
}

/** Fewest ASes first, then lowest latency, then fingerprint: a total, reproducible order. */
export function comparePaths(a: ControlPlanePath, b: ControlPlanePath): number {
  return (
    a.interfaces.length - b.interfaces.length ||
    a.totalLatencyMs - b.totalLatencyMs ||
    (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)
  );
}

const trailKey = (p: ControlPlanePath): string => p.segments.map((s) => `${s.segmentId}:${s.shortcut}:${s.peer}`).join('/');

/**
 * All loop-free paths from src to dst that the segments allow, one per interface sequence
 * (the construction expiring last wins, as in SCION), ordered by comparePaths.
 * For src = dst the single empty path is returned; `localMtu` is then its MTU.
 */
export function combine(src: IA, dst: IA, segments: SegmentSet, opts: CombineOptions & { localMtu?: number } = {}): ControlPlanePath[] {
  if (src === dst) {
    const expiries = [...segments.core, ...segments.intra].map((s) => s.timestamp + Math.min(...s.asEntries.map((e) => expTimeToSeconds(e.hopField.expTime))));
    return [emptyPath(src, opts.localMtu ?? 0xffff, expiries.length > 0 ? Math.min(...expiries) : segments.timestamp + MAX_TTL_SECONDS)];
  }
  const candidates = solutions(src, dst, buildGraph(src, dst, segments))
    .map((trail) => assemble(src, dst, trail, opts))
    .filter(loopFree)
    .sort((a, b) => comparePaths(a, b) || (trailKey(a) < trailKey(b) ? -1 : trailKey(a) > trailKey(b) ? 1 : 0));
  const best = new Map<string, ControlPlanePath>();
  for (const p of candidates) {
    const prev = best.get(p.fingerprint);
    if (!prev || p.expiry > prev.expiry) best.set(p.fingerprint, p);
  }
  return [...best.values()].sort(comparePaths);
}
