// What the collector adds to a metered flow before export: who the endpoints are (pod,
// namespace, labels, security identity) and which SCION path the packets took, with the
// control plane's metadata for it (hops, interfaces, geo, latency, expiry).
//
// Two lookups, each behind an interface so the embedded mode and Kubernetes can supply
// their own: EndpointDirectory (pod IP -> endpoint) and PathCatalog (datapath path id or
// raw path bytes -> flow.ScionPath). The implementations here serve the embedded mode:
// workloads from operator/workloads with identities from the IdentityAllocator, paths
// from the operator's control-plane paths under the ids the datapath was programmed with.
import { LRUCache } from 'lru-cache';
import type { ControlPlanePath } from '../operator/controlplane/combinator';
import type { IdentityAllocator } from '../operator/identity/allocator';
import { identityLabels } from '../operator/identity/labels';
import type { Workload } from '../operator/workloads/workload';
import { ScionPathType, type ScionHop, type ScionPath } from '../proto/gen/flow/flow';
import { defaultCountryLookup, type CountryLookup } from '../geofence/country';
import { ScionError } from '../scion/errors';
import { formatIA, type IA } from '../scion/isdas';
import type { HopField, ScionPath as WirePath } from '../scion/path/model';
import { decodeScionPathBytes } from '../scion/path/raw';
import { segmentOfHop } from '../scion/path/scion';
import type { MeteredFlow } from './flowtable';

export interface EndpointInfo {
  identity: number;
  podName: string;
  namespace: string;
  /** Hubble's form: "k8s:key=value", the namespace label included, sorted. */
  labels: string[];
  clusterName: string;
  /** The pod's own labels, for callers that select on them (geofences). */
  podLabels: Readonly<Record<string, string>>;
  namespaceLabels: Readonly<Record<string, string>>;
}

export interface EndpointDirectory {
  lookup(ip: string): EndpointInfo | undefined;
}

/** Endpoints of the embedded mode: a workload list, identities from a lookup. */
export class WorkloadEndpoints implements EndpointDirectory {
  private byIp = new Map<string, EndpointInfo>();

  constructor(
    private readonly clusterName: string,
    private readonly identityOf: (w: Workload) => number | undefined,
  ) {}

  /** Identities as the operator allocated them; a workload without one gets identity 0 (unknown). */
  static withAllocator(clusterName: string, allocator: IdentityAllocator): WorkloadEndpoints {
    return new WorkloadEndpoints(clusterName, (w) => allocator.lookupByLabels(w.namespace, w.labels)?.id);
  }

  /** Replaces the workload list. */
  update(workloads: readonly Workload[]): void {
    const next = new Map<string, EndpointInfo>();
    for (const w of workloads) {
      next.set(w.ip, {
        identity: this.identityOf(w) ?? 0,
        podName: w.name,
        namespace: w.namespace,
        labels: identityLabels(w.namespace, w.labels),
        clusterName: this.clusterName,
        podLabels: w.labels,
        namespaceLabels: w.namespaceLabels,
      });
    }
    this.byIp = next;
  }

  lookup(ip: string): EndpointInfo | undefined {
    return this.byIp.get(ip);
  }
}

export interface PathCatalog {
  /** The path the datapath holds under this id; undefined when the id is unknown. */
  byId(pathId: number): ScionPath | undefined;
  /**
   * The path whose hop fields are these raw bytes (path type as the SCION header gives
   * it). A path the control plane never handed out comes back with
   * known_to_control_plane = false and only what the bytes say.
   */
  byRaw(raw: Uint8Array, pathType: number, srcIA: IA, dstIA: IA): ScionPath;
}

export interface CatalogEntry {
  /** The datapath's paths-map key; absent for paths it does not hold (other senders' paths). */
  pathId?: number;
  path: ControlPlanePath;
}

const PATH_TYPES: Record<number, ScionPathType> = {
  0: ScionPathType.SCION_PATH_EMPTY,
  1: ScionPathType.SCION_PATH_STANDARD,
  2: ScionPathType.SCION_PATH_ONE_HOP,
  3: ScionPathType.SCION_PATH_EPIC,
};
const EPIC_PREFIX = 16;
const ALPHA2 = /^[A-Z]{2}$/;

/**
 * Hop fields identify a path: their MACs chain to the segments' SegIDs and timestamps and
 * stay unchanged in transit (routers only advance CurrHF and update SegIDs). Router alert
 * flags may differ per packet and are left out.
 */
function hopKey(hops: readonly HopField[]): string {
  return hops.map((h) => `${h.expTime}.${h.consIngress}.${h.consEgress}.${Buffer.from(h.mac).toString('hex')}`).join('/');
}

const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** Paths of the control plane, by datapath id and by hop fields. */
export class ControlPlaneCatalog implements PathCatalog {
  private ids = new Map<number, ScionPath>();
  private hops = new Map<string, ScionPath>();
  /** Answers by raw bytes: a flow's bytes repeat in every report, decoding them again would not. */
  private readonly seen: LRUCache<string, ScionPath>;

  constructor(private readonly countries: CountryLookup = defaultCountryLookup, maxCached = 4096) {
    this.seen = new LRUCache({ max: maxCached });
  }

  /** Replaces the catalog. */
  set(entries: readonly CatalogEntry[]): void {
    const ids = new Map<number, ScionPath>();
    const hops = new Map<string, ScionPath>();
    for (const e of entries) {
      const p = describePath(e.path, e.pathId ?? 0, this.countries);
      if (e.pathId !== undefined) ids.set(e.pathId, p);
      if (e.path.path.hopFields.length > 0) hops.set(hopKey(e.path.path.hopFields), { ...p, pathId: 0 });
    }
    this.ids = ids;
    this.hops = hops;
    this.seen.clear();
  }

  byId(pathId: number): ScionPath | undefined {
    return this.ids.get(pathId);
  }

  byRaw(raw: Uint8Array, pathType: number, srcIA: IA, dstIA: IA): ScionPath {
    const key = `${pathType} ${srcIA} ${dstIA} ${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
    let p = this.seen.get(key);
    if (p === undefined) {
      p = this.lookupRaw(raw, pathType, srcIA, dstIA);
      this.seen.set(key, p);
    }
    return p;
  }

  private lookupRaw(raw: Uint8Array, pathType: number, srcIA: IA, dstIA: IA): ScionPath {
    const type = PATH_TYPES[pathType] ?? ScionPathType.SCION_PATH_TYPE_UNKNOWN;
    const bare: ScionPath = { srcIa: formatIA(srcIA), dstIa: formatIA(dstIA), fingerprint: '', hops: [], expiry: undefined, mtu: 0, type, pathId: 0, knownToControlPlane: false };
    if (pathType === 0) return { ...bare, knownToControlPlane: true };
    if (pathType !== 1 && pathType !== 3) return bare;
    let wire: WirePath;
    try {
      wire = decodeScionPathBytes(pathType === 3 ? raw.subarray(EPIC_PREFIX) : raw);
    } catch (e) {
      if (e instanceof ScionError) return bare;
      throw e;
    }
    const known = this.hops.get(hopKey(wire.hopFields));
    if (known) return type === known.type ? known : { ...known, type };
    return { ...bare, hops: hopsOfWire(wire, bare.srcIa, bare.dstIa) };
  }
}

/**
 * The AS-level hops of a path nobody vouched for: one per hop field in travel direction,
 * merging the two hop fields an AS contributes where two segments meet (not across a
 * peering link, whose two hop fields belong to the two peers). Only the ends' ISD-ASes
 * are known.
 */
function hopsOfWire(p: WirePath, srcIa: string, dstIa: string): ScionHop[] {
  const segLens = p.meta.segLens;
  const out: ScionHop[] = [];
  p.hopFields.forEach((h, i) => {
    const seg = segmentOfHop(segLens, i);
    const info = p.infoFields[seg];
    const ingress = info.consDir ? h.consIngress : h.consEgress;
    const egress = info.consDir ? h.consEgress : h.consIngress;
    const segStart = i > 0 && segmentOfHop(segLens, i - 1) !== seg;
    if (segStart && !info.peer) {
      out[out.length - 1].egressInterface = egress;
      return;
    }
    out.push({ isdAs: '', ingressInterface: ingress, egressInterface: egress, geo: undefined, country: '' });
  });
  if (out.length > 0) {
    out[0].isdAs = srcIa;
    out[out.length - 1].isdAs = dstIa;
  }
  return out;
}

/** flow.ScionPath of a control-plane path: hops with interfaces, geo, country and latency. */
export function describePath(cp: ControlPlanePath, pathId: number, countries: CountryLookup = defaultCountryLookup): ScionPath {
  const hops = cp.ases.map((ia, i): ScionHop => {
    const inIdx = i > 0 ? 2 * i - 1 : -1;
    const outIdx = 2 * i < cp.interfaces.length ? 2 * i : -1;
    const g = (inIdx >= 0 ? cp.geo[inIdx] : null) ?? (outIdx >= 0 ? cp.geo[outIdx] : null) ?? null;
    let country = '';
    if (g) country = g.country !== undefined && ALPHA2.test(g.country) ? g.country : (countries.countryAt(g.latitude, g.longitude) ?? '');
    // Latency to the next hop: across this AS (interface 2i-1 to 2i), then the link (2i to 2i+1).
    let latencyNs: bigint | undefined;
    if (outIdx >= 0) {
      const parts = [...(inIdx >= 0 ? [cp.latencyMs[inIdx]] : []), cp.latencyMs[outIdx]];
      if (parts.every((ms) => ms !== null && ms !== undefined)) latencyNs = msToNs(parts.reduce((a: number, b) => a + (b as number), 0));
    }
    return {
      isdAs: formatIA(ia),
      ingressInterface: inIdx >= 0 ? cp.interfaces[inIdx].ifid : 0,
      egressInterface: outIdx >= 0 ? cp.interfaces[outIdx].ifid : 0,
      geo: g ? { latitude: g.latitude, longitude: g.longitude, address: g.address } : undefined,
      country,
      ...(latencyNs !== undefined ? { latencyNs } : {}),
    };
  });
  const seconds = Math.floor(cp.expiry);
  return {
    srcIa: formatIA(cp.src),
    dstIa: formatIA(cp.dst),
    fingerprint: cp.fingerprint,
    hops,
    expiry: { seconds: BigInt(seconds), nanos: Math.round((cp.expiry - seconds) * 1e9) },
    mtu: cp.mtu,
    type: cp.interfaces.length === 0 ? ScionPathType.SCION_PATH_EMPTY : ScionPathType.SCION_PATH_STANDARD,
    pathId,
    ...(cp.latencyComplete ? { latencyNs: msToNs(cp.totalLatencyMs) } : {}),
    knownToControlPlane: true,
  };
}

export interface Enrichment {
  source: EndpointInfo | undefined;
  destination: EndpointInfo | undefined;
  path: ScionPath;
}

/** Endpoints by the inner addresses; the path by id when the datapath named one, else by its bytes. */
export function enrich(f: MeteredFlow, endpoints: EndpointDirectory, paths: PathCatalog): Enrichment {
  const byId = f.pathId !== 0 ? paths.byId(f.pathId) : undefined;
  return {
    source: f.inner ? endpoints.lookup(f.inner.srcAddr) : undefined,
    destination: f.inner ? endpoints.lookup(f.inner.dstAddr) : undefined,
    path: byId ?? { ...paths.byRaw(f.path, f.pathType, f.srcIA, f.dstIA), pathId: f.pathId },
  };
}
