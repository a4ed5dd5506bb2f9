// The messages of one Attest.Export answer, sent in order with backpressure, each item in
// pieces of at most chunkBytes. While the export works without sending (a slow store query,
// a peer awaited), a progress message goes out every heartbeatMs with the lines written so
// far, so a relay gathering this answer can tell a working relay from a stalled one.
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ExportRequest, ExportResponse } from '../../proto/gen/attest/v1/attest';

export class Cancelled extends Error {}

type Call = ServerWritableStream<ExportRequest, ExportResponse>;
export type ChunkCase = 'evidenceChunk' | 'statementChunk' | 'envelopeChunk' | 'reportChunk' | 'catalogueChunk';

export const HEARTBEAT_MS = 500;

function write(call: Call, item: ExportResponse['item']): Promise<void> {
  if (call.cancelled) return Promise.reject(new Cancelled());
  if (call.write({ item })) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const drained = (): void => {
      call.off('cancelled', gone);
      resolve();
    };
    const gone = (): void => {
      call.off('drain', drained);
      reject(new Cancelled());
    };
    call.once('drain', drained);
    call.once('cancelled', gone);
  });
}

export class Outbox {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private lastSent = Date.now();
  private flows = 0;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly call: Call, private readonly chunkBytes: number, heartbeatMs = HEARTBEAT_MS) {
    this.heartbeat = setInterval(() => {
      if (this.pending === 0 && Date.now() - this.lastSent >= heartbeatMs) this.progress(this.flows).catch(() => undefined);
    }, heartbeatMs);
  }

  /** Sends `item` after everything sent before it. */
  send(item: ExportResponse['item']): Promise<void> {
    this.pending++;
    const sent = this.tail.then(() => write(this.call, item)).finally(() => {
      this.pending--;
      this.lastSent = Date.now();
    });
    // The next send waits for this one, whether it succeeded or not; a failure is the caller's to see.
    this.tail = sent.catch(() => undefined);
    return sent;
  }

  /** The lines written so far, for the next heartbeat. */
  count(flows: number): void {
    this.flows = flows;
  }

  progress(flows: number): Promise<void> {
    this.flows = flows;
    return this.send({ $case: 'progress', value: { flows: BigInt(flows) } });
  }

  async chunks($case: ChunkCase, bytes: Buffer): Promise<void> {
    for (let at = 0; at < bytes.length; at += this.chunkBytes) await this.send({ $case, value: bytes.subarray(at, at + this.chunkBytes) });
  }

  /** Everything sent so far has gone out (or failed). */
  async flushed(): Promise<void> {
    await this.tail;
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }
}
