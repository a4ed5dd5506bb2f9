// The streams a fan-out merges: this relay's own answer (LocalSource) and each peer's
// (PeerSource), as queues of responses in their own time order. A queue past its high
// water pauses what fills it (the local answer waits, a peer's stream stops being read), so
// a fan-out holds a bounded number of responses whatever its sources send.
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { GetFlowsResponse, type GetFlowsRequest } from '../../proto/gen/observer/observer';
import type { ResponseSink } from '../../observer/get_flows';
import { nowNs, nsTimestamp, timestampNs } from '../../observer/time';
import type { Peer } from './peer_set';
import { wireFacts } from './wire_items';

/** Responses a source may have queued before it is paused. */
export const SOURCE_HIGH_WATER = 4096;
const LOW_WATER = SOURCE_HIGH_WATER / 2;

export interface Item {
  /** As it came: encoded (a peer's, most of this relay's) or not. */
  response: GetFlowsResponse | Buffer;
  timeNs: bigint;
  /** The flow's uuid; empty for events. */
  uuid: string;
  /** When it was queued (ms), for the follow window. */
  arrived: number;
}

function item(r: GetFlowsResponse | Buffer): Item {
  if (Buffer.isBuffer(r)) {
    const facts = wireFacts(r);
    // Bytes this cannot read are decoded, and GetFlowsResponse.decode says what is wrong with them.
    if (!facts) return item(GetFlowsResponse.decode(r));
    return { response: r, timeNs: facts.timeNs ?? nowNs(), uuid: facts.uuid, arrived: Date.now() };
  }
  const t = r.responseTypes;
  const flow = t?.$case === 'flow' ? t.value : undefined;
  return { response: r, timeNs: timestampNs(r.time) ?? timestampNs(flow?.time) ?? nowNs(), uuid: flow?.uuid ?? '', arrived: Date.now() };
}

export abstract class Source {
  private queue: Item[] = [];
  private head = 0;
  /** open: more may come; ended: its answer is complete; dropped: given up on. */
  state: 'open' | 'ended' | 'dropped' = 'open';
  /** Headers came: the source answers (a follow may stay quiet a long time after). */
  connected = false;
  /** Since when the merge has waited for this source's next response (ms); undefined when not waiting. */
  blockedSince: number | undefined;
  /** The newest flow time taken from this source. */
  lastSeenNs: bigint | undefined;

  constructor(
    /** "" for this relay, "relay/<name>" for a peer. */
    readonly name: string,
    protected readonly wake: () => void,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  peek(): Item | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }

  take(): Item {
    const it = this.queue[this.head++];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (it.uuid !== '' && (this.lastSeenNs === undefined || it.timeNs > this.lastSeenNs)) this.lastSeenNs = it.timeNs;
    if (this.size <= LOW_WATER) this.resume();
    return it;
  }

  protected push(r: GetFlowsResponse | Buffer): boolean {
    this.queue.push(item(r));
    this.blockedSince = undefined;
    this.wake();
    return this.size < SOURCE_HIGH_WATER;
  }

  protected end(state: 'ended' | 'dropped'): void {
    if (this.state !== 'open') return;
    this.state = state;
    if (state === 'dropped') {
      this.queue = [];
      this.head = 0;
    }
    this.wake();
  }

  /** Called when the queue is low again. */
  protected abstract resume(): void;

  /** Stops the source for good. */
  abstract cancel(): void;
}

/** This relay's own answer, through the same code that serves a local-scope call. */
export class LocalSource extends Source implements ResponseSink {
  private gone = false;
  private readonly goneFns: (() => void)[] = [];
  private waiter: (() => void) | undefined;
  /** The local answer's failure (a bad request, the store's error): the whole answer's. */
  error: unknown;

  constructor(wake: () => void, answer: (out: ResponseSink) => Promise<void>) {
    super('', wake);
    this.connected = true;
    answer(this).then(
      () => this.end('ended'),
      (e: unknown) => {
        this.error = e;
        this.end('ended');
      },
    );
  }

  get closed(): boolean {
    return this.gone;
  }

  onGone(fn: () => void): void {
    if (this.gone) fn();
    else this.goneFns.push(fn);
  }

  writeNow(r: GetFlowsResponse | Buffer): boolean {
    if (this.gone) return false;
    return this.push(r);
  }

  async drained(): Promise<boolean> {
    while (!this.gone && this.size >= SOURCE_HIGH_WATER) await new Promise<void>((resolve) => (this.waiter = resolve));
    return !this.gone;
  }

  flush(): boolean {
    return !this.gone;
  }

  protected resume(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  cancel(): void {
    if (this.gone) return;
    this.gone = true;
    for (const fn of this.goneFns.splice(0)) fn();
    this.resume();
  }
}

export interface PeerEvents {
  /** The peer stopped answering (no headers within the timeout, a broken stream, an error). */
  unavailable(source: PeerSource, reason: string): void;
  /** The peer answers again after it was reported unavailable (follow only). */
  connected(source: PeerSource): void;
}

/**
 * A peer's answer. For history it is asked once. A follow that breaks is asked again with
 * backoff: live from then on, and, once the peer answers, the flows since the last one seen
 * less the window (which the merge's dedupe thins), so a restarted peer leaves no gap.
 * Live flows are never held to a time bound: a node whose clock lags still shows.
 */
export class PeerSource extends Source {
  private call: ClientReadableStream<Buffer[]> | undefined;
  private catchUp: ClientReadableStream<Buffer[]> | undefined;
  private headersTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private cancelled = false;
  private reported = false;
  private backoffMs = 0;
  private readonly startedNs = nowNs();

  constructor(
    private readonly peer: Peer,
    private readonly request: GetFlowsRequest,
    private readonly opts: { follow: boolean; timeoutMs: number; windowMs: number; events: PeerEvents },
    wake: () => void,
  ) {
    super(`relay/${peer.name}`, wake);
    this.open(false);
  }

  private open(resumed: boolean): void {
    const call = this.peer.flows(this.request);
    this.call = call;
    let settled = false;
    const done = (reason: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(this.headersTimer);
      if (this.cancelled || this.call !== call) return;
      this.call = undefined;
      this.connected = false;
      // A follow with `until` ends by itself once it has passed: no break, nothing to report.
      if (reason === undefined && (!this.opts.follow || this.untilPassed())) return this.end('ended');
      this.fail(reason ?? 'its follow stream ended');
    };
    // A peer that takes the connection but never answers is given up on after the timeout;
    // first what already came in is read (setImmediate runs after pending I/O), so a relay
    // whose own event loop was busy does not blame its peer.
    this.headersTimer = setTimeout(
      () =>
        setImmediate(() => {
          if (this.connected || this.call !== call) return;
          done(`no answer within ${this.opts.timeoutMs} ms`);
          call.cancel();
        }),
      this.opts.timeoutMs,
    );
    call.on('metadata', () => {
      clearTimeout(this.headersTimer);
      if (this.call !== call || this.cancelled) return;
      this.connected = true;
      this.backoffMs = 0;
      this.wake();
      // The peer follows from here on (it subscribes before it answers); what it had meanwhile comes now.
      if (resumed) this.readCatchUp();
      if (this.reported) {
        this.reported = false;
        this.opts.events.connected(this);
      }
    });
    this.feed(call);
    call.on('error', (e: ServiceError) => done(e.code === status.CANCELLED && this.cancelled ? undefined : `${status[e.code] ?? e.code}: ${e.details}`));
    call.on('end', () => done(undefined));
  }

  private feed(call: ClientReadableStream<Buffer[]>): void {
    call.on('data', (responses: Buffer[]) => {
      if (this.state !== 'open' || (call !== this.call && call !== this.catchUp)) return;
      let more = true;
      for (const r of responses) more = this.push(r);
      if (!more && !this.paused) {
        this.paused = true;
        this.call?.pause();
        this.catchUp?.pause();
      }
    });
  }

  /** The peer's flows since the last one seen less the window, up to now. */
  private readCatchUp(): void {
    const from = (this.lastSeenNs ?? this.startedNs) - BigInt(this.opts.windowMs) * 1_000_000n;
    const now = nowNs();
    const call = this.peer.flows({ ...this.request, number: 0n, first: false, follow: false, since: nsTimestamp(from), until: nsTimestamp(now) });
    this.catchUp?.cancel();
    this.catchUp = call;
    this.feed(call);
    const over = () => {
      if (this.catchUp === call) this.catchUp = undefined;
    };
    call.on('error', over);
    call.on('end', over);
  }

  private fail(reason: string): void {
    if (!this.reported) {
      this.reported = true;
      this.opts.events.unavailable(this, reason);
    }
    if (!this.opts.follow || this.untilPassed()) {
      this.end('dropped');
      return;
    }
    this.backoffMs = Math.min(2000, Math.max(100, this.backoffMs * 2));
    this.retryTimer = setTimeout(() => {
      if (!this.cancelled) this.open(true);
    }, this.backoffMs);
  }

  private untilPassed(): boolean {
    const until = timestampNs(this.request.until);
    return until !== undefined && nowNs() > until;
  }

  /** Gives up on a peer that kept the merge waiting too long (history). */
  drop(reason: string): void {
    if (this.state !== 'open') return;
    this.reported = true;
    this.opts.events.unavailable(this, reason);
    this.cancel();
    this.end('dropped');
  }

  protected resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.call?.resume();
    this.catchUp?.resume();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.headersTimer);
    clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.catchUp?.cancel();
    this.call = undefined;
    this.catchUp = undefined;
  }
}
