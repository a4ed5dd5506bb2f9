// One flow in full, by its uuid: the live stream carries only what the views draw (see
// STREAM_FIELDS), so the detail pane asks the relay once (GetFlows, number 1, a uuid filter,
// no follow) for the hops' every field, the identity check and the raw JSON.
import { Flow } from '../../proto/gen/flow/flow';
import { GetFlowsRequest } from '../../proto/gen/observer/observer';
import { apiPost } from './http';
import { NdjsonLines } from './ndjson';
import { readLines } from './flow_stream';

/** The flow, or undefined when the relay no longer holds it (a relay without a store keeps only its ring). */
export async function fetchFlow(uuid: string, signal?: AbortSignal): Promise<Flow | undefined> {
  const req = GetFlowsRequest.fromPartial({ number: 1n, whitelist: [{ uuid: [uuid] }] });
  const res = await apiPost('observer.Observer/GetFlows', GetFlowsRequest.toJSON(req), signal);
  const lines = new NdjsonLines();
  const got: Flow[] = [];
  const { status } = readLines([...lines.push(await res.text()), ...lines.end()], got);
  if (status && status.code !== 0) throw new Error(`${status.name}: ${status.message}`);
  return got.find((f) => f.uuid === uuid);
}
