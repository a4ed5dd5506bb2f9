// A batch of judged flow.Flow objects as the JudgedBatch the store writes: for callers that
// hold whole flows (tests and benches that seed a store from a corpus, the attestation
// fixtures). The columns are the collector's encoding (columns/encode.ts); the flow's path
// (SCION or SRv6) and geofence, as the relay set them, become the batch's paths and verdict table.
import { encodeColumns } from '../../columns/encode';
import { viewColumns } from '../../columns/view';
import type { Flow, Geofence, Srv6Path } from '../../proto/gen/flow/flow';
import { FlowValueError } from './flow_block';
import type { JudgedBatch, StoredPath } from './judged';
import { storedEndpoint, storedPath } from './keys';

export interface SessionBatch {
  sessionId: string;
  sequence: bigint;
  nodeName: string;
  flows: Flow[];
}

/** The flows as columns with their tables, and what the relay decided about them (flow.geofence). Throws FlowValueError on a flow no column can hold. */
export function judgedFromFlows(b: SessionBatch): JudgedBatch {
  const { columns, refused } = encodeColumns(b.flows);
  if (refused.length > 0) throw new FlowValueError(`flow ${refused[0].index} of batch ${b.sequence}: ${refused[0].reason}`);
  const view = viewColumns(columns, { maxFlows: b.flows.length });
  // A batch's path table holds evidence only; the path each flow carries is taken as the
  // relay's rebuilt one, as its geofence is taken as the relay's verdict.
  const pathIndex = view.u32('path');
  const paths: (StoredPath | undefined)[] = view.paths.map(() => undefined);
  b.flows.forEach((f, i) => {
    const p = pathIndex[i];
    if (f.scionPath && paths[p] === undefined) paths[p] = storedPath(f.scionPath);
  });
  const srv6Index = view.u32('srv6Path');
  const srv6Paths: (Srv6Path | undefined)[] = view.srv6Paths.map(() => undefined);
  b.flows.forEach((f, i) => {
    const p = srv6Index[i];
    if (f.srv6Path && srv6Paths[p] === undefined) srv6Paths[p] = f.srv6Path;
  });
  const geofences: (Geofence | undefined)[] = [undefined];
  const judgementOf = new Uint32Array(b.flows.length);
  const byText = new Map<string, number>();
  b.flows.forEach((f, i) => {
    if (!f.geofence) return;
    const text = JSON.stringify(f.geofence);
    let j = byText.get(text);
    if (j === undefined) {
      j = geofences.length;
      geofences.push(f.geofence);
      byText.set(text, j);
    }
    judgementOf[i] = j;
  });
  return {
    nodeName: b.nodeName,
    sessionId: b.sessionId,
    sequence: b.sequence,
    columns: view,
    endpoints: view.endpoints.map((e) => e && storedEndpoint(e)),
    paths,
    srv6Paths,
    judgementOf,
    geofences,
  };
}
