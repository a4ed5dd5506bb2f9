// What the relay hands the store for one collector batch: the batch's columns as received,
// and what the relay decided about them, by table entry rather than by flow.
import type { ColumnBatch } from '../../columns/batch';
import type { Endpoint, Geofence, ScionPath, Srv6Path } from '../../proto/gen/flow/flow';

/** An endpoint table entry as stored in `workloads`. */
export interface StoredEndpoint {
  /** The `workloads` key: the first 8 bytes of the SHA-256 of the encoded Endpoint. */
  key: bigint;
  endpoint: Endpoint;
  /** The app label's value ('' when none), as appOf gives it. */
  app: string;
}

/** A path table entry as the relay rebuilt it from its hop fields, stored in `path_headers`. */
export interface StoredPath {
  /** The `path_headers` key: the first 8 bytes of the SHA-256 of the encoded rebuilt ScionPath. */
  key: bigint;
  path: ScionPath;
}

/** How many of the batch's flows are stored: the kept ones, or all. */
export function storedCount(j: Pick<JudgedBatch, 'keep' | 'columns'>): number {
  return j.keep ? j.keep.length : j.columns.count;
}

export interface JudgedBatch {
  nodeName: string;
  sessionId: string;
  sequence: bigint;
  columns: ColumnBatch;
  /** Indexes of the flows to store, ascending (the rest were refused); every flow when undefined. */
  keep?: Uint32Array;
  /** By endpoint index (index 0, no endpoint, undefined). */
  endpoints: readonly (StoredEndpoint | undefined)[];
  /** By path index (index 0, no path, undefined). */
  paths: readonly (StoredPath | undefined)[];
  /**
   * By SRv6 path index (index 0, no SRv6 path, undefined): each as the relay rebuilt it from
   * its SRH and outer source (paths/srv6_verify.ts). The batch's pathType column holds the
   * relay's path type by then (geofence/judge.ts evidencePathType).
   */
  srv6Paths?: readonly (Srv6Path | undefined)[];
  /** Per flow of the batch: its entry in `geofences`. */
  judgementOf: Uint32Array;
  /** Distinct verdicts of the batch; undefined where no fence applied. */
  geofences: readonly (Geofence | undefined)[];
}
