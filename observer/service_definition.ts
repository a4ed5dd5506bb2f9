// observer.Observer and cillion.observer.v1.FlowHistory as servers mount them: the
// generated definitions, except that a response already encoded (a Buffer: stored history
// as the store encoded it, a batch as flow_batches.ts wrote it) is sent as it is, and any
// other response is encoded as before.
import { GetFlowsResponse, ObserverService } from '../proto/gen/observer/observer';
import { FlowHistoryService, GetFlowBatchesResponse } from '../proto/gen/observer/v1/flow_history';

export const ObserverServiceDefinition = {
  ...ObserverService,
  getFlows: {
    ...ObserverService.getFlows,
    responseSerialize: (value: GetFlowsResponse | Buffer): Buffer =>
      Buffer.isBuffer(value) ? value : Buffer.from(GetFlowsResponse.encode(value).finish()),
  },
} as const;

export const FlowHistoryServiceDefinition = {
  ...FlowHistoryService,
  getFlowBatches: {
    ...FlowHistoryService.getFlowBatches,
    responseSerialize: (value: GetFlowBatchesResponse | Buffer): Buffer =>
      Buffer.isBuffer(value) ? value : Buffer.from(GetFlowBatchesResponse.encode(value).finish()),
  },
} as const;
