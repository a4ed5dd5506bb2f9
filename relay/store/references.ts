// The endpoints and SCION paths flows refer to by key (`workloads`, `path_headers`), kept
// in bounded LRUs: a cluster has far fewer workloads and paths than flows, so a page of
// flows mostly finds them here, and the keys it does not find are fetched in one query.
import { LRUCache } from 'lru-cache';
import { Endpoint, ScionPath } from '../../proto/gen/flow/flow';
import { NativeFormatError, readNative, type BigArray } from './native_reader';
import type { PageRefs } from './stored_flow';

export interface ReferenceLimits {
  /** Endpoints kept; default 50,000. */
  endpoints: number;
  /** Paths kept; default 20,000. */
  paths: number;
}

export const DEFAULT_REFERENCE_LIMITS: ReferenceLimits = { endpoints: 50_000, paths: 20_000 };

/** Runs a SELECT (with FORMAT Native) and gives its whole result. */
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
    if (missingEndpoints.size > 0 || missingPaths.size > 0) {
      const parts: string[] = [];
      if (missingEndpoints.size > 0) parts.push(lookup(0, 'endpoint', `${this.db}.workloads`, missingEndpoints));
      if (missingPaths.size > 0) parts.push(lookup(1, 'path', `${this.db}.path_headers`, missingPaths));
      for (const block of readNative(await run(`${parts.join('\nUNION ALL\n')}\nFORMAT Native`))) {
        const kind = block.columns.get('kind');
        const key = block.columns.get('key');
        const blob = block.columns.get('blob');
        if (kind?.kind !== 'number' || key?.kind !== 'bigint' || blob?.kind !== 'bytes') {
          throw new NativeFormatError('reference lookup answered in an unexpected shape');
        }
        for (let i = 0; i < block.rows; i++) {
          const bytes = blob.bytes.subarray(blob.starts[i], blob.starts[i + 1]);
          const k = key.values[i];
          if (kind.values[i] === 0) {
            const e = Endpoint.decode(bytes);
            endpoints.set(k, e);
            this.endpoints.set(k, e);
          } else {
            const p = ScionPath.decode(bytes);
            paths.set(k, p);
            this.paths.set(k, p);
          }
        }
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
function lookup(kind: number, column: string, table: string, keys: Set<bigint>): string {
  return `SELECT toUInt8(${kind}) AS kind, key, any(${column}) AS blob FROM ${table} WHERE key IN (${[...keys].join(',')}) GROUP BY key`;
}
