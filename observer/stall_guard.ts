// A flow stream whose client stops reading would wait for it forever, holding one of the
// server's stream slots (--max-flow-streams) and the store query or follower behind it, so
// a few paused clients could lock every other reader out. Past the stall limit the stream is
// treated as gone: its work stops, its slot is given back, and the call ends with
// RESOURCE_EXHAUSTED (which the client sees if it ever reads again).
import { status } from '@grpc/grpc-js';
import type { GetFlowsResponse } from '../proto/gen/observer/observer';
import type { ResponseSink } from './get_flows';
import { RequestError } from './request_error';

export class StallGuard implements ResponseSink {
  private error: RequestError | undefined;
  private readonly goneWaiters: (() => void)[] = [];

  constructor(
    private readonly inner: ResponseSink,
    private readonly limitMs: number,
  ) {}

  /** The error the stream ended with because its client stopped reading, if it did. */
  get stalled(): RequestError | undefined {
    return this.error;
  }

  get closed(): boolean {
    return this.error !== undefined || this.inner.closed;
  }

  onGone(fn: () => void): void {
    if (this.error) fn();
    else {
      this.goneWaiters.push(fn);
      this.inner.onGone(fn);
    }
  }

  writeNow(r: GetFlowsResponse | Buffer): boolean {
    return this.error === undefined && this.inner.writeNow(r);
  }

  drained(): Promise<boolean> {
    return this.watch(() => this.inner.drained());
  }

  flush(): boolean | Promise<boolean> {
    if (this.error) throw this.error;
    const sent = this.inner.flush();
    return typeof sent === 'boolean' ? sent : this.watch(() => sent);
  }

  /** The wait, or the stall error once it has lasted longer than the limit. */
  private async watch(wait: () => Promise<boolean>): Promise<boolean> {
    if (this.error) throw this.error;
    let timer: NodeJS.Timeout | undefined;
    const stall = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.error = new RequestError(status.RESOURCE_EXHAUSTED, `the client read nothing for ${this.limitMs} ms; the stream was ended to free its slot`, 'stalled');
        for (const fn of this.goneWaiters.splice(0)) fn();
        reject(this.error);
      }, this.limitMs);
    });
    try {
      return await Promise.race([wait(), stall]);
    } finally {
      clearTimeout(timer);
    }
  }
}
