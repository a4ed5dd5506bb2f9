// The endpoints and SCION paths flows refer to by key (`workloads`, `path_headers`), kept
// in bounded LRUs: a cluster has far fewer workloads and paths than flows, so a page of
// flows mostly finds them here, and the keys it does not find are fetched in one query.
import { LRUCache } from 'lru-cache';
import { type Endpoint, type ScionPath, scionPathTypeFromJSON } from '../../proto/gen/flow/flow';
import type { BigArray } from './native_reader';
import type { PageRefs } from './stored_flow';

export interface ReferenceLimits {
  /** Endpoints kept; default 20,000. */
  endpoints: number;
  /** Paths kept; default 10,000. */
  paths: number;
}

const DEFAULT_REFERENCE_LIMITS: ReferenceLimits = { endpoints: 20_000, paths: 10_000 };

/** Runs a SELECT and gives its rows as objects (JSONEachRow, 64-bit integers as text). */
type RowQuery = <T>(sql: string) => Promise<T[]>;

/** A `workloads` row as JSON. */
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

/** A `path_headers` row as JSON, the path header bytes in base64 and the expiry in nanoseconds. */
interface PathHeaderRow {
  key: string;
  fingerprint: string;
  type: string;
  src_ia: string;
  dst_ia: string;
  path_id: number;
  mtu: number;
  expiry_ns: string | null;
  latency_ns: string | null;
  known: number;
  raw_b64: string;
  'hops.isd_as': string[];
  'hops.ingress_interface': number[];
  'hops.egress_interface': number[];
  'hops.latitude': (number | null)[];
  'hops.longitude': (number | null)[];
  'hops.address': string[];
  'hops.country': string[];
  'hops.latency_ns': (string | null)[];
}

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
  async resolve(endpointKeys: readonly BigArray[], pathKeys: readonly BigArray[], run: RowQuery): Promise<PageRefs> {
    const endpoints = new Map<bigint, Endpoint>();
    const paths = new Map<bigint, ScionPath>();
    const missingEndpoints = collect(endpointKeys, endpoints, this.endpoints);
    const missingPaths = collect(pathKeys, paths, this.paths);
    // Few keys are new to a page once the caches are warm: their rows come as JSON, which
    // has the arrays of these tables for free. (`workloads.name` quoted: unquoted it would
    // be the column name of the table workloads.)
    const [workloads, headers] = await Promise.all([
      inChunks(missingEndpoints, (keys) => run<WorkloadRow>(`SELECT key, ID, identity, cluster_name, namespace, pod_name, labels,
  \`workloads.name\`, \`workloads.kind\`
FROM ${this.db}.workloads WHERE key IN (${keys}) LIMIT 1 BY key`)),
      inChunks(missingPaths, (keys) => run<PathHeaderRow>(`SELECT key, fingerprint, type, src_ia, dst_ia, path_id, mtu,
  toString(toUnixTimestamp64Nano(expiry)) AS expiry_ns, latency_ns, known, base64Encode(raw) AS raw_b64,
  hops.isd_as, hops.ingress_interface, hops.egress_interface, hops.latitude, hops.longitude, hops.address, hops.country,
  hops.latency_ns
FROM ${this.db}.path_headers WHERE key IN (${keys}) LIMIT 1 BY key`)),
    ]);
    for (const row of workloads) {
      const e = endpointOf(row);
      endpoints.set(BigInt(row.key), e);
      this.endpoints.set(BigInt(row.key), e);
    }
    for (const row of headers) {
      const p = pathOf(row);
      paths.set(BigInt(row.key), p);
      this.paths.set(BigInt(row.key), p);
    }
    return { endpoints, paths };
  }
}

/**
 * Keys a query lists at most: the engine refuses a query text over max_query_size (256 KiB),
 * and a page whose every flow has endpoints of its own names tens of thousands of them.
 */
const KEYS_PER_QUERY = 8192;

/** The rows for `keys`, asked a chunk at a time, one query after the other. */
async function inChunks<R>(keys: ReadonlySet<bigint>, query: (list: string) => Promise<R[]>): Promise<R[]> {
  const all = [...keys];
  const rows: R[] = [];
  for (let i = 0; i < all.length; i += KEYS_PER_QUERY) rows.push(...(await query(all.slice(i, i + KEYS_PER_QUERY).join(','))));
  return rows;
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

function pathOf(r: PathHeaderRow): ScionPath {
  const lat = r['hops.latitude'];
  const lon = r['hops.longitude'];
  const hopLatency = r['hops.latency_ns'];
  const expiryNs = r.expiry_ns === null ? undefined : BigInt(r.expiry_ns);
  const expiryS = expiryNs === undefined ? 0n : floorDiv(expiryNs, 1_000_000_000n);
  return {
    srcIa: r.src_ia,
    dstIa: r.dst_ia,
    fingerprint: r.fingerprint,
    hops: r['hops.isd_as'].map((isdAs, i) => ({
      isdAs,
      ingressInterface: r['hops.ingress_interface'][i],
      egressInterface: r['hops.egress_interface'][i],
      geo: lat[i] === null ? undefined : { latitude: lat[i] as number, longitude: lon[i] ?? 0, address: r['hops.address'][i] },
      country: r['hops.country'][i],
      latencyNs: hopLatency[i] === null ? undefined : BigInt(hopLatency[i] as string),
    })),
    expiry: expiryNs === undefined ? undefined : { seconds: expiryS, nanos: Number(expiryNs - expiryS * 1_000_000_000n) },
    mtu: r.mtu,
    type: scionPathTypeFromJSON(r.type),
    pathId: r.path_id,
    latencyNs: r.latency_ns === null ? undefined : BigInt(r.latency_ns),
    knownToControlPlane: r.known === 1,
    raw: Buffer.from(r.raw_b64, 'base64'),
  };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
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
