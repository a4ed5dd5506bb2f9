// The endpoints and SCION paths flows refer to by key (`workloads`, `path_headers`), kept
// in bounded LRUs: a cluster has far fewer workloads and paths than flows, so a page of
// flows mostly finds them here, and the keys it does not find are fetched in one query.
import { LRUCache } from 'lru-cache';
import { Endpoint, ScionPath } from '../../proto/gen/flow/flow';
import type { BigArray } from './native_reader';
import type { PageRefs } from './stored_flow';

export interface ReferenceLimits {
  /** Endpoints kept; default 50,000. */
  endpoints: number;
  /** Paths kept; default 20,000. */
  paths: number;
}

export const DEFAULT_REFERENCE_LIMITS: ReferenceLimits = { endpoints: 50_000, paths: 20_000 };

/** Runs a SELECT (ending in a FORMAT clause) and gives its whole result. */
export type NativeQuery = (sql: string) => Promise<Buffer>;

export class ReferenceCache {
  private readonly endpoints: LRUCache<bigint, Endpoint>;
  private readonly paths: LRUCache<bigint, ScionPath>;

  constructor(
    private readonly db: string,
    limits: ReferenceLimits = DEFAULT_REFERENCE_LIMITS,
  ) {
    this.endpoints = new LRUCache({ max: limits.endpoints });
    this.paths = new LRUCache({ max: limits.paths });
  }

  /**
   * Every endpoint and path the keys name (0 names none), from the caches or, for those they
   * lack, from one query. The page's own maps hold them however small the caches are.
   */
  async resolve(endpointKeys: readonly BigArray[], pathKeys: readonly BigArray[], run: NativeQuery): Promise<PageRefs> {
    const endpoints = new Map<bigint, Endpoint>();
    const paths = new Map<bigint, ScionPath>();
    const missingEndpoints = collect(endpointKeys, endpoints, this.endpoints);
    const missingPaths = collect(pathKeys, paths, this.paths);
    if (missingEndpoints.size > 0) {
      for (const row of jsonRows<WorkloadRow>(await run(`${workloadLookup(this.db, missingEndpoints)}\nFORMAT JSONEachRow`))) {
        const k = BigInt(row.key);
        const e = endpointOf(row);
        endpoints.set(k, e);
        this.endpoints.set(k, e);
      }
    }
    if (missingPaths.size > 0) {
      for (const row of jsonRows<PathRow>(await run(`${pathLookup(this.db, missingPaths)}\nFORMAT JSONEachRow`))) {
        const k = BigInt(row.key);
        const p = pathOf(row);
        paths.set(k, p);
        this.paths.set(k, p);
      }
    }
    return { endpoints, paths };
  }
}

/** Keys found in `cache` go into `into`; the rest come back, each once. */
function collect<T extends object>(columns: readonly BigArray[], into: Map<bigint, T>, cache: LRUCache<bigint, T>): Set<bigint> {
  const missing = new Set<bigint>();
  for (const keys of columns) {
    let last = 0n;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      // Neighbouring rows often share a key; a repeat needs no second look.
      if (k === 0n || k === last) continue;
      last = k;
      if (into.has(k) || missing.has(k)) continue;
      const hit = cache.get(k);
      if (hit) into.set(k, hit);
      else missing.add(k);
    }
  }
  return missing;
}

/** Keys are the store's own UInt64 values, written into the SQL as numbers. */
const keyList = (keys: Set<bigint>): string => [...keys].join(',');

interface WorkloadRow {
  key: string;
  ID: number;
  identity: number;
  cluster_name: string;
  namespace: string;
  pod_name: string;
  labels: string[];
  'workloads.name': string[];
  'workloads.kind': string[];
}

function workloadLookup(db: string, keys: Set<bigint>): string {
  return `SELECT toString(key) AS key, any(ID) AS ID, any(identity) AS identity, any(cluster_name) AS cluster_name, any(namespace) AS namespace,
  any(pod_name) AS pod_name, any(labels) AS labels, any(workloads.name) AS \`workloads.name\`, any(workloads.kind) AS \`workloads.kind\`
FROM ${db}.workloads WHERE key IN (${keyList(keys)}) GROUP BY key`;
}

function endpointOf(r: WorkloadRow): Endpoint {
  return {
    ID: r.ID,
    identity: r.identity,
    clusterName: r.cluster_name,
    namespace: r.namespace,
    labels: r.labels,
    podName: r.pod_name,
    workloads: r['workloads.name'].map((name, i) => ({ name, kind: r['workloads.kind'][i] })),
  };
}

interface PathRow {
  key: string;
  fingerprint: string;
  type: number;
  src_ia: string;
  dst_ia: string;
  path_id: number;
  mtu: number;
  /** Nanoseconds since the epoch, as text; null when the path has no expiry. */
  expiry: string | null;
  latency_ns: string | null;
  known: number;
  raw: string;
  isd_as: string[];
  ingress: number[];
  egress: number[];
  latitude: (number | null)[];
  longitude: (number | null)[];
  address: string[];
  country: string[];
  hop_latency: (string | null)[];
}

function pathLookup(db: string, keys: Set<bigint>): string {
  return `SELECT toString(key) AS key, any(fingerprint) AS fingerprint, toUInt8(any(type)) AS type, any(src_ia) AS src_ia, any(dst_ia) AS dst_ia,
  any(path_id) AS path_id, any(mtu) AS mtu, toString(toUnixTimestamp64Nano(any(expiry))) AS expiry, toString(any(latency_ns)) AS latency_ns,
  any(known) AS known, hex(any(raw)) AS raw, any(hops.isd_as) AS isd_as, any(hops.ingress_interface) AS ingress,
  any(hops.egress_interface) AS egress, any(hops.latitude) AS latitude, any(hops.longitude) AS longitude,
  any(hops.address) AS address, any(hops.country) AS country, arrayMap(x -> toString(x), any(hops.latency_ns)) AS hop_latency
FROM ${db}.path_headers WHERE key IN (${keyList(keys)}) GROUP BY key`;
}

function pathOf(r: PathRow): ScionPath {
  const expiry = r.expiry === null ? undefined : BigInt(r.expiry);
  return {
    srcIa: r.src_ia,
    dstIa: r.dst_ia,
    fingerprint: r.fingerprint,
    hops: r.isd_as.map((isdAs, i) => ({
      isdAs,
      ingressInterface: r.ingress[i],
      egressInterface: r.egress[i],
      geo: r.latitude[i] === null ? undefined : { latitude: r.latitude[i] as number, longitude: r.longitude[i] ?? 0, address: r.address[i] },
      country: r.country[i],
      latencyNs: r.hop_latency[i] === null ? undefined : BigInt(r.hop_latency[i] as string),
    })),
    expiry: expiry === undefined ? undefined : { seconds: expiry / 1_000_000_000n, nanos: Number(expiry % 1_000_000_000n) },
    mtu: r.mtu,
    type: r.type,
    pathId: r.path_id,
    latencyNs: r.latency_ns === null ? undefined : BigInt(r.latency_ns),
    knownToControlPlane: r.known === 1,
    raw: Buffer.from(r.raw, 'hex'),
  };
}

function jsonRows<T>(body: Buffer): T[] {
  const text = body.toString('utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as T);
}
