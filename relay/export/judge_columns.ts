// Judges a column batch by table entry, not by flow: each path of the batch's path table is
// rebuilt from its hop fields once, each endpoint's workload looked up once, and each
// distinct (source endpoint, destination endpoint, path) of the batch decided once by the
// geofence engine (whose own caches key on workload, path and fence generation). A flow's
// cost is one lookup of its combination.
import type { ColumnBatch } from '../../columns/batch';
import type { FlowJudge } from '../../geofence/judge';
import type { Unchecked } from '../../geofence/engine';
import type { Geofence } from '../../proto/gen/flow/flow';
import type { StoredEndpoint, StoredPath } from '../store/judged';
import type { KnownEndpoints } from './endpoint_cache';
import type { RebuiltPaths } from './path_cache';

export interface ColumnVerdicts {
  endpoints: (StoredEndpoint | undefined)[];
  paths: (StoredPath | undefined)[];
  judgementOf: Uint32Array;
  geofences: (Geofence | undefined)[];
  /** Flows whose path table entry named a fingerprint other than the one its hop fields give. */
  fingerprintMismatches: number;
}

/** What the relay remembers of endpoints and paths from earlier batches. */
export interface Known {
  endpoints: KnownEndpoints;
  paths: RebuiltPaths;
}

/**
 * Rebuilds the batch's paths and keys its endpoints (or takes them from `known`, remembered
 * from earlier batches) and decides every flow's verdict; call judge.preparePaths(batch.paths) first.
 */
export function judgeColumns(batch: ColumnBatch, judge: FlowJudge, known: Known): ColumnVerdicts {
  const endpoints = batch.endpoints.map((ep) => (ep === undefined ? undefined : known.endpoints.of(ep)));
  const workloads = batch.endpoints.map((ep) => judge.workload(ep));
  const unchecked: (Unchecked | undefined)[] = [];
  const mismatched: boolean[] = [];
  const paths = batch.paths.map((sent, i) => {
    if (sent === undefined) return undefined;
    const { rebuilt, stored } = known.paths.of(judge, sent);
    unchecked[i] = rebuilt.unchecked;
    mismatched[i] = rebuilt.fingerprintMismatch;
    return stored;
  });

  const src = batch.u32('sourceEndpoint');
  const dst = batch.u32('destinationEndpoint');
  const path = batch.u32('path');
  const nEndpoints = endpoints.length;
  const nPaths = paths.length;
  const judgementOf = new Uint32Array(batch.count);
  const geofences: (Geofence | undefined)[] = [];
  const indexOf = new Map<Geofence | undefined, number>();
  const byCombination = new Map<number, number>();
  let fingerprintMismatches = 0;
  for (let i = 0; i < batch.count; i++) {
    const s = src[i];
    const d = dst[i];
    const p = path[i];
    if (mismatched[p]) fingerprintMismatches++;
    // Table sizes are bounded by the batch's flow count (admission), so this stays exact.
    const combination = (s * nEndpoints + d) * nPaths + p;
    let j = byCombination.get(combination);
    if (j === undefined) {
      const g = judge.decide(workloads[s], workloads[d], paths[p]?.path, unchecked[p]);
      j = indexOf.get(g);
      if (j === undefined) {
        j = geofences.length;
        geofences.push(g);
        indexOf.set(g, j);
      }
      byCombination.set(combination, j);
    }
    judgementOf[i] = j;
  }
  return { endpoints, paths, judgementOf, geofences, fingerprintMismatches };
}
