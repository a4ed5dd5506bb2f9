// A streaming call's answer as NDJSON over HTTP: one proto3 JSON message per line, and last
// a status line, {"status":{"code":0,"name":"OK","message":""}} or the gRPC error the call
// ended with. The HTTP headers wait until the first line or a moment after the handler
// sends its own, so an error known at once (a bad filter, no free stream slot, no role) is
// an HTTP error instead of a 200 with one status line. The response's flow control is the
// call's: a full socket makes write() false, its 'drain' the call's. Lines go out together,
// up to FLUSH_BYTES or at the end of the current turn of the event loop: one write (one
// HTTP chunk, one system call) per line cost a relay following 10,000 flows/s for a page
// about a sixth of its time.
import type { ServiceError } from '@grpc/grpc-js';
import type { ServerResponse } from 'node:http';
import type { CallOutput, GatewayCall } from './gateway_call';
import { API_HEADERS, sendError, statusJson } from './http_error';

/** Lines held before they are written at once. */
const FLUSH_BYTES = 64 * 1024;

export class NdjsonAnswer implements CallOutput {
  private headed = false;
  private ended = false;
  private held = '';
  private heldDone: (() => void)[] = [];
  private flushSoon: NodeJS.Immediate | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly toJson: (m: unknown) => unknown,
    /** How long an ended answer may take to reach a client that stopped reading before the connection is cut. */
    private readonly endGraceMs: number,
  ) {}

  /** Ties the answer to its call: the response's drain and close become the call's. */
  attach(call: GatewayCall<unknown>): void {
    this.res.on('drain', () => call.drain());
    this.res.once('close', () => {
      if (!this.ended) call.cancel();
    });
  }

  open(): void {
    // After the handler's synchronous checks and the promise jobs that follow them.
    setImmediate(() => {
      if (!this.ended) this.head();
    });
  }

  message(m: unknown, done?: () => void): boolean {
    this.head();
    this.held += `${JSON.stringify(this.toJson(m))}\n`;
    if (done) this.heldDone.push(done);
    if (this.held.length >= FLUSH_BYTES) return this.flush();
    this.flushSoon ??= setImmediate(() => this.flush());
    return !this.res.writableNeedDrain;
  }

  /** Writes the held lines; false when the response wants 'drain' first. */
  private flush(): boolean {
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushSoon = undefined;
    if (this.res.destroyed) this.held = '';
    if (this.held === '') return !this.res.writableNeedDrain;
    const text = this.held;
    const done = this.heldDone;
    this.held = '';
    this.heldDone = [];
    return this.res.write(text, done.length ? () => done.forEach((d) => d()) : undefined);
  }

  finish(err: ServiceError | undefined): void {
    this.ended = true;
    if (err && !this.headed) {
      this.headed = true;
      sendError(this.res, err.code, err.details);
      return;
    }
    this.head();
    this.flush();
    const line = err ? statusJson(err.code, err.details) : statusJson(0, '');
    this.res.end(`${JSON.stringify({ status: line })}\n`);
    // A client that stopped reading never takes the end: its connection goes after a grace.
    if (!this.res.writableFinished) {
      const cut = setTimeout(() => this.res.destroy(), this.endGraceMs);
      this.res.once('finish', () => clearTimeout(cut));
      this.res.once('close', () => clearTimeout(cut));
    }
  }

  private head(): void {
    if (this.headed || this.res.destroyed) return;
    this.headed = true;
    this.res.writeHead(200, { ...API_HEADERS, 'content-type': 'application/x-ndjson; charset=utf-8' });
    this.res.flushHeaders();
  }
}
