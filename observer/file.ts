// A file-backed Observer, Hubble's `observe --input-file`: flows read from a file answer
// GetFlows through the relay's own getFlows over a hub that holds exactly them, so filters,
// --last/--first and --since/--until mean what they mean against a relay.
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { Flow } from '../proto/gen/flow/flow';
import type { GetFlowsRequest, GetFlowsResponse } from '../proto/gen/observer/observer';
import { getFlows } from './get_flows';
import { RequestError } from './request_error';
import { FlowHub } from './hub';
import { timestampNs } from './time';

/**
 * The part of a server stream that getFlows uses, delivered in-process. Writes are never
 * refused, so getFlows never waits for 'drain'; nothing cancels a local call.
 */
class LocalCall extends EventEmitter {
  readonly cancelled = false;

  constructor(
    readonly request: GetFlowsRequest,
    private readonly sink: (r: GetFlowsResponse) => void,
  ) {
    super();
  }

  write(r: GetFlowsResponse): boolean {
    this.sink(r);
    return true;
  }
}

function timeOrder(a: Flow, b: Flow): number {
  const ta = timestampNs(a.time);
  const tb = timestampNs(b.time);
  if (ta === tb) return 0;
  if (ta === undefined) return -1;
  if (tb === undefined) return 1;
  return ta < tb ? -1 : 1;
}

export class FileObserver {
  private readonly hub: FlowHub;

  /** Flows in any order; they are answered in time order, like the relay's store. */
  constructor(flows: readonly Flow[]) {
    this.hub = new FlowHub({ capacity: Math.max(1, flows.length) });
    this.hub.publish([...flows].sort(timeOrder));
  }

  get size(): number {
    return this.hub.size;
  }

  /** Answers `req` to `onResponse`; throws RequestError for a request the relay would refuse. */
  async getFlows(req: GetFlowsRequest, onResponse: (r: GetFlowsResponse) => void): Promise<void> {
    if (req.follow) throw new RequestError(status.INVALID_ARGUMENT, 'follow needs a live source; a file has no new flows');
    const call = new LocalCall(req, onResponse) as unknown as ServerWritableStream<GetFlowsRequest, GetFlowsResponse>;
    await getFlows(call, this.hub, undefined, { maxLastN: this.hub.capacity });
  }
}
