// One GetFlows call as an NDJSON stream: each line a GetFlowsResponse in proto3 JSON, read
// through the generated fromJSON, handed on in batches (one per network chunk, never one
// call per flow); the last line is the call's gRPC status. Aborting (a filter change, the
// page leaving) cancels the call on the relay too.
import { LostEventSource, type Flow } from '../../proto/gen/flow/flow';
import { GetFlowsRequest, GetFlowsResponse } from '../../proto/gen/observer/observer';
import { apiPost, UiApiError } from './http';
import { NdjsonLines } from './ndjson';

export type StreamState = 'connecting' | 'live' | 'ended' | 'error';

export interface FlowSink {
  /** `lost`: events nodes or the relay reported lost before they were judged; `missed`: flows the relay did not send this page because it read too slowly (they are stored). */
  flows(batch: Flow[], lost: number, missed: number): void;
  state(state: StreamState, error?: string): void;
}

interface StatusLine {
  status: { code: number; name: string; message: string };
}

/** Parses a batch of lines into flows; returns the status when a line is the final one. */
export function readLines(lines: readonly string[], out: Flow[]): { lost: number; missed: number; status?: StatusLine['status'] } {
  let lost = 0;
  let missed = 0;
  let status: StatusLine['status'] | undefined;
  for (const line of lines) {
    const obj = JSON.parse(line) as Record<string, unknown>;
    if (obj.status && typeof obj.status === 'object') {
      status = (obj as unknown as StatusLine).status;
      continue;
    }
    const res = GetFlowsResponse.fromJSON(obj);
    const ev = res.responseTypes;
    if (ev?.$case === 'flow') out.push(ev.value);
    else if (ev?.$case === 'lostEvents') {
      // A relay's own follower queue overflowing: its ring-buffer source, and no node named.
      if (ev.value.source === LostEventSource.HUBBLE_RING_BUFFER && !res.nodeName) missed += Number(ev.value.numEventsLost);
      else lost += Number(ev.value.numEventsLost);
    }
  }
  return { lost, missed, status };
}

/** Starts the stream; the returned function stops it. */
export function openFlowStream(request: GetFlowsRequest, sink: FlowSink): () => void {
  const abort = new AbortController();
  void run(request, sink, abort.signal).catch((e: unknown) => {
    if (abort.signal.aborted) return;
    sink.state('error', e instanceof UiApiError ? `${e.grpcName || 'error'}: ${e.message}` : String((e as Error)?.message ?? e));
  });
  return () => abort.abort();
}

async function run(request: GetFlowsRequest, sink: FlowSink, signal: AbortSignal): Promise<void> {
  sink.state('connecting');
  const res = await apiPost('observer.Observer/GetFlows', GetFlowsRequest.toJSON(request), signal);
  if (!res.body) throw new Error('the answer has no body');
  sink.state('live');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = new NdjsonLines();
  for (;;) {
    const { done, value } = await reader.read();
    const batch: Flow[] = [];
    const { lost, missed, status } = readLines(done ? lines.end() : lines.push(value), batch);
    if (batch.length || lost || missed) sink.flows(batch, lost, missed);
    if (status) {
      if (status.code === 0) sink.state('ended');
      else sink.state('error', `${status.name}: ${status.message}`);
      await reader.cancel().catch(() => undefined);
      return;
    }
    if (done) throw new Error('the stream ended without a status line');
  }
}
