// The flows a GetFlowsRequest asks for, as Cillion's clients read them: in batches through
// cillion.observer.v1.FlowHistory/GetFlowBatches (observer/flow_batches.ts), which a Cillion
// relay or agent serves several times faster than GetFlows, else, from a server that does
// not implement it (a Hubble relay, an older Cillion), through observer.Observer/GetFlows.
// Either way the caller sees the same GetFlowsResponses in the same order.
import { status as grpcStatus, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { GetFlowsRequest, type GetFlowsResponse, ObserverService } from '../../proto/gen/observer/observer';
import { FlowHistoryService, GetFlowBatchesResponse } from '../../proto/gen/observer/v1/flow_history';

export interface FlowStream {
  responses: AsyncIterable<GetFlowsResponse>;
  /** Ends the call: `responses` then ends, with a CANCELLED error when a call was under way. */
  cancel(): void;
  /** Which method answered, once the first response or the end came. */
  readonly method: 'GetFlowBatches' | 'GetFlows' | undefined;
}

const serialize = (r: GetFlowsRequest): Buffer => Buffer.from(GetFlowsRequest.encode(r).finish());

/** Reads `request` on `client`'s channel (any client of the server: the methods are called by path). */
export function flowStream(client: Client, request: GetFlowsRequest): FlowStream {
  let call: ClientReadableStream<unknown> | undefined;
  let cancelled = false;
  let method: FlowStream['method'];

  async function* responses(): AsyncGenerator<GetFlowsResponse> {
    if (cancelled) return;
    const batches = client.makeServerStreamRequest(FlowHistoryService.getFlowBatches.path, serialize, GetFlowBatchesResponse.decode, request);
    call = batches;
    let answered = false;
    try {
      for await (const b of batches as AsyncIterable<GetFlowBatchesResponse>) {
        answered = true;
        method = 'GetFlowBatches';
        yield* b.responses;
      }
      method = 'GetFlowBatches';
      return;
    } catch (e) {
      if (answered || cancelled || (e as { code?: number }).code !== grpcStatus.UNIMPLEMENTED) throw e;
    }
    if (cancelled) return;
    const single = client.makeServerStreamRequest(ObserverService.getFlows.path, serialize, ObserverService.getFlows.responseDeserialize, request);
    call = single;
    method = 'GetFlows';
    yield* single as AsyncIterable<GetFlowsResponse>;
  }

  return {
    responses: responses(),
    cancel: () => {
      cancelled = true;
      call?.cancel();
    },
    get method() {
      return method;
    },
  };
}
