// cillion.observer.v1.FlowHistory/GetFlowBatches (proto/observer/v1/flow_history.proto):
// GetFlows' answer, many responses to a gRPC message. grpc-js spends about 5 us of CPU per
// message on each side whatever its size, so one message per flow caps a reader near 90k
// flows/s; a batch of a thousand flows pays it once.
//
// A batch is the wire form of GetFlowBatchesResponse written by hand: each response, as
// GetFlows would send it (stored history already encoded, anything else encoded here),
// behind field 1's tag and its length. Nothing is decoded or re-encoded on the way.
import type { ServerWritableStream } from '@grpc/grpc-js';
import { ProtoWriter, tag } from '../columns/proto_writer';
import { fieldBytes } from '../columns/size';
import { GetFlowsResponse, type GetFlowsRequest } from '../proto/gen/observer/observer';
import type { GetFlowBatchesResponse } from '../proto/gen/observer/v1/flow_history';
import { FlowResponseWriter, type ResponseSink } from './get_flows';

/** The most bytes a batch holds, unless one response alone is larger (it then goes alone). */
export const MAX_BATCH_BYTES = 1 << 20;

/**
 * Batches handed to the stream and not yet written out. The stream would queue sixteen
 * messages before it pushed back, 16 MiB of batches for each slow reader; this keeps it to 4,
 * plus the batch being filled (whose responses may be views into the store's 1 MiB buffers).
 */
const MAX_QUEUED_BATCHES = 4;

/** GetFlowBatchesResponse.responses: field 1, length-delimited. */
const RESPONSES_TAG = tag(1, 2);

/** Holds responses until a batch is full or getFlows flushes, then sends them as one message. */
export class BatchWriter implements ResponseSink {
  private readonly out: FlowResponseWriter;
  /** Each batch in a buffer of its own, its exact size: the stream holds it until written. */
  private readonly frames = new ProtoWriter(0);
  private held: Uint8Array[] = [];
  /** The batch's encoded size so far, tags and lengths included. */
  private heldBytes = 0;
  private queued = 0;
  private waiter: (() => void) | undefined;

  constructor(
    call: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>,
    private readonly maxBytes = MAX_BATCH_BYTES,
  ) {
    this.out = new FlowResponseWriter(call);
    this.out.onGone(() => this.wake());
  }

  get closed(): boolean {
    return this.out.closed;
  }

  onGone(fn: () => void): void {
    this.out.onGone(fn);
  }

  writeNow(r: GetFlowsResponse | Buffer): boolean {
    if (this.closed) return false;
    // An encoding made here is held as a view: send() copies it into the batch anyway.
    const bytes = Buffer.isBuffer(r) ? r : GetFlowsResponse.encode(r).finish();
    const size = fieldBytes(bytes.length);
    const more = this.heldBytes > 0 && this.heldBytes + size > this.maxBytes ? this.send() : true;
    // Held as given: a stored page's messages are views that stay valid until copied here.
    this.held.push(bytes);
    this.heldBytes += size;
    return more;
  }

  async drained(): Promise<boolean> {
    while (!this.closed && this.queued >= MAX_QUEUED_BATCHES) await new Promise<void>((resolve) => (this.waiter = resolve));
    return !this.closed;
  }

  flush(): boolean | Promise<boolean> {
    if (this.closed) return false;
    if (this.heldBytes === 0) return true;
    return this.send() || this.drained();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private send(): boolean {
    this.frames.begin(this.heldBytes);
    for (const m of this.held) this.frames.field(RESPONSES_TAG, m);
    const batch = this.frames.end();
    this.held = [];
    this.heldBytes = 0;
    this.queued++;
    this.out.writeNow(batch, () => {
      this.queued--;
      this.wake();
    });
    return this.queued < MAX_QUEUED_BATCHES;
  }
}
