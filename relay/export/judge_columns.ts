// Judges a column batch by table entry, not by flow: each path of the batch's path table is
// rebuilt from its hop fields once, each endpoint's workload looked up once, and each
// distinct (source endpoint, destination endpoint, path) of the batch decided once by the
// geofence engine (whose own caches key on workload, path and fence generation). A flow's
// cost is one lookup of its combination. SRv6 paths likewise, from the batch's SRv6 path
// table; an SRv6 flow's combination also holds where it was seen (its verdict says so).
// Each flow's path type is set here from its evidence (geofence/judge.ts evidencePathType),
// written over the collector's claim in the batch's pathType column.
import type { ColumnBatch } from '../../columns/batch';
import { evidencePathType, type FlowJudge, type RebuiltSrv6Path } from '../../geofence/judge';
import type { Unchecked } from '../../geofence/engine';
import type { Geofence, ScionObservationPoint, Srv6Path } from '../../proto/gen/flow/flow';
import type { StoredEndpoint, StoredPath } from '../store/judged';
import type { KnownEndpoints } from './endpoint_cache';
import type { RebuiltPaths } from './path_cache';

export interface ColumnVerdicts {
  endpoints: (StoredEndpoint | undefined)[];
  paths: (StoredPath | undefined)[];
  /** By SRv6 path index, as rebuilt. */
  srv6Paths: (Srv6Path | undefined)[];
  judgementOf: Uint32Array;
  geofences: (Geofence | undefined)[];
  /** Flows whose path table entry named a fingerprint other than the one its hop fields (or segments) give. */
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
  const srv6: (RebuiltSrv6Path | undefined)[] = batch.srv6Paths.map((sent) => (sent === undefined ? undefined : judge.rebuildSrv6(sent)));

  const src = batch.u32('sourceEndpoint');
  const dst = batch.u32('destinationEndpoint');
  const path = batch.u32('path');
  const srv6Path = batch.u32('srv6Path');
  const point = batch.u8('scionObservationPoint');
  // Written in place: from here on the column is the relay's word.
  const pathType = batch.bytes('pathType');
  const nEndpoints = endpoints.length;
  const nPaths = paths.length;
  const nSrv6 = srv6.length;
  const judgementOf = new Uint32Array(batch.count);
  const geofences: (Geofence | undefined)[] = [];
  const indexOf = new Map<Geofence | undefined, number>();
  const byCombination = new Map<number, number>();
  const bySrv6Combination = new Map<number, number>();
  let fingerprintMismatches = 0;
  const judgement = (g: Geofence | undefined): number => {
    let j = indexOf.get(g);
    if (j === undefined) {
      j = geofences.length;
      geofences.push(g);
      indexOf.set(g, j);
    }
    return j;
  };
  for (let i = 0; i < batch.count; i++) {
    const s = src[i];
    const d = dst[i];
    const p = path[i];
    const q = srv6Path[i];
    pathType[i] = evidencePathType(pathType[i], p !== 0, q !== 0);
    if (mismatched[p]) fingerprintMismatches++;
    if (q !== 0) {
      const rebuilt = srv6[q] as RebuiltSrv6Path;
      if (rebuilt.fingerprintMismatch) fingerprintMismatches++;
      // Points beyond the enum (refused by the screen) are judged as "as reported".
      const seenAt = (point[i] <= 3 ? point[i] : 0) as ScionObservationPoint;
      const key = ((((s * nEndpoints + d) * nSrv6 + q) * 4 + seenAt) * 2) + (p !== 0 ? 1 : 0);
      let j = bySrv6Combination.get(key);
      if (j === undefined) {
        j = judgement(judge.decideSrv6(workloads[s], workloads[d], rebuilt, seenAt, p !== 0));
        bySrv6Combination.set(key, j);
      }
      judgementOf[i] = j;
      continue;
    }
    // Table sizes are bounded by the batch's flow count (admission), so this stays exact.
    const combination = (s * nEndpoints + d) * nPaths + p;
    let j = byCombination.get(combination);
    if (j === undefined) {
      j = judgement(judge.decide(workloads[s], workloads[d], paths[p]?.path, unchecked[p]));
      byCombination.set(combination, j);
    }
    judgementOf[i] = j;
  }
  return { endpoints, paths, srv6Paths: srv6.map((r) => r?.path), judgementOf, geofences, fingerprintMismatches };
}
