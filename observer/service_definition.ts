// observer.Observer as servers mount it: the generated definition, except that GetFlows
// sends a response already encoded (a Buffer, stored history as the store encoded it)
// as it is, and encodes any other response as before.
import { GetFlowsResponse, ObserverService } from '../proto/gen/observer/observer';

export const ObserverServiceDefinition = {
  ...ObserverService,
  getFlows: {
    ...ObserverService.getFlows,
    responseSerialize: (value: GetFlowsResponse | Buffer): Buffer =>
      Buffer.isBuffer(value) ? value : Buffer.from(GetFlowsResponse.encode(value).finish()),
  },
} as const;
