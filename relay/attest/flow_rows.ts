// Export's rows one Flow at a time (the store's query(), which has checked every filter on
// the rebuilt Flow): for a flow source without stored columns, and for a selection the
// columns cannot decide exactly.
import { WanPathType, type Flow } from '../../proto/gen/flow/flow';
import type { FlowQuery } from '../store/store';
import { canonicalFlow, canonicalLine } from './canonical_flow';
import { pathEntry, recordCounts, srv6Entry, type EvidenceRow, type RecordChoice } from './evidence_row';
import type { PathTable } from './predicate';

/** Rows between two yields, so the consumer can write out what it was handed. */
const ROWS_AT_ONCE = 1024;

/** Hands each selected flow's row to `accept`, in the store's order; yields now and then. */
export async function* flowRows(
  source: { query(q: FlowQuery): AsyncIterable<Flow> },
  q: FlowQuery,
  records: RecordChoice,
  pathTable: PathTable,
  accept: (r: EvidenceRow) => void,
): AsyncGenerator<void> {
  let n = 0;
  for await (const f of source.query(q)) {
    if (!recordCounts(records, f.scionObservationPoint)) continue;
    const c = canonicalFlow(f);
    if (c.path !== '' && !pathTable.has(c.path)) {
      if (f.pathType === WanPathType.WAN_PATH_SRV6 && f.srv6Path) pathTable.set(c.path, srv6Entry(f.srv6Path));
      else if (f.scionPath) pathTable.set(c.path, pathEntry(f.scionPath));
    }
    accept({ line: canonicalLine(c), time: c.time, uuid: c.uuid, path: c.path, packets: c.packets, bytes: c.bytes, fence: c.fence });
    if (++n % ROWS_AT_ONCE === 0) yield;
  }
}
