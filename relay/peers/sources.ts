// The streams a fan-out merges: this relay's own answer (LocalSource) and each peer's
// (PeerSource), as queues of responses in their own time order. A queue past its high
// water pauses what fills it (the local answer waits, a peer's stream stops being read), so
// a fan-out holds a bounded number of responses whatever its sources send.
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { GetFlowsResponse, type GetFlowsRequest } from '../../proto/gen/observer/observer';
import type { ResponseSink } from '../../observer/get_flows';
import { nowNs, nsTimestamp, timestampNs } from '../../observer/time';
import type { Peer } from './peer_set';
import { MalformedAnswer, wireFacts } from './wire_items';

/** A peer batch as the peer call's deserializer gives it. */
type PeerBatch = Buffer[] | MalformedAnswer;

/** Responses a source may have queued before it is paused. */
export const SOURCE_HIGH_WATER = 4096;
const LOW_WATER = SOURCE_HIGH_WATER / 2;

export interface Item {
  /** As it came: encoded (a peer's, most of this relay's) or not. */
  response: GetFlowsResponse | Buffer;
  timeNs: bigint;
  /** What dedupes the flow: its node and uuid; empty for events. */
  key: string;
  /** When it was queued (ms), for the follow window. */
  arrived: number;
}

/** A flow's dedupe key: two relays storing one flow have it under the same node and uuid. */
function flowKey(node: string, uuid: string): string {
  return uuid === '' ? '' : `${node}\0${uuid}`;
}

/** One of this relay's own responses (trusted: bytes this cannot read are decoded, and say what is wrong). */
function localItem(r: GetFlowsResponse | Buffer): Item {
  if (Buffer.isBuffer(r)) {
    const facts = wireFacts(r);
    if (!facts) return localItem(GetFlowsResponse.decode(r));
    return { response: r, timeNs: facts.timeNs ?? nowNs(), key: flowKey(facts.node, facts.uuid), arrived: Date.now() };
  }
  const t = r.responseTypes;
  const flow = t?.$case === 'flow' ? t.value : undefined;
  return { response: r, timeNs: timestampNs(r.time) ?? timestampNs(flow?.time) ?? nowNs(), key: flowKey(flow?.nodeName || r.nodeName, flow?.uuid ?? ''), arrived: Date.now() };
}

/** Responses in their time order, taken from the front. */
class Queue {
  private items: Item[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): Item | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  take(): Item {
    const it = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return it;
  }

  push(it: Item): void {
    this.items.push(it);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export abstract class Source {
  /** The answer's responses; a resumed follow's catch-up (older flows) in a lane of its own, so each lane stays in time order. */
  private readonly lanes = [new Queue(), new Queue()];
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
    return this.lanes[0].size + this.lanes[1].size;
  }

  private lane(): Queue {
    const [a, b] = this.lanes;
    const x = a.peek();
    const y = b.peek();
    return y && (!x || y.timeNs < x.timeNs) ? b : a;
  }

  peek(): Item | undefined {
    return this.lane().peek();
  }

  take(): Item {
    const it = this.lane().take();
    if (it.key !== '' && (this.lastSeenNs === undefined || it.timeNs > this.lastSeenNs)) this.lastSeenNs = it.timeNs;
    if (this.size <= LOW_WATER) this.resume();
    return it;
  }

  protected push(it: Item, lane: 0 | 1 = 0): boolean {
    this.lanes[lane].push(it);
    this.wake();
    return this.size < SOURCE_HIGH_WATER;
  }

  protected end(state: 'ended' | 'dropped'): void {
    if (this.state !== 'open') return;
    this.state = state;
    if (state === 'dropped') for (const q of this.lanes) q.clear();
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
    return this.push(localItem(r));
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
 * Live flows are never held to a time bound: a node whose clock lags still shows. History
 * is: a peer's flows later than `notAfterNs` (the answer's `until`, or when it began) are
 * none of its business, and the peer's answer ends at the first (it answers in time order),
 * so a peer that ignores the bound cannot hold the answer open.
 */
export class PeerSource extends Source {
  private call: ClientReadableStream<PeerBatch> | undefined;
  private catchUp: ClientReadableStream<PeerBatch> | undefined;
  private headersTimer: NodeJS.Timeout | undefined;
  private catchUpTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private cancelled = false;
  private reported = false;
  private backoffMs = 0;
  private readonly startedNs = nowNs();

  constructor(
    private readonly peer: Peer,
    private readonly request: GetFlowsRequest,
    private readonly opts: { follow: boolean; timeoutMs: number; windowMs: number; events: PeerEvents; notAfterNs?: bigint; followQueue?: number },
    wake: () => void,
  ) {
    super(`relay/${peer.name}`, wake);
    this.open(false);
  }

  private open(resumed: boolean): void {
    const call = this.peer.flows(this.request, this.opts.followQueue);
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
    this.feed(call, 0, this.opts.notAfterNs, () => {
      done(undefined);
      call.cancel();
    });
    call.on('error', (e: ServiceError) => done(e.code === status.CANCELLED && this.cancelled ? undefined : `${status[e.code] ?? e.code}: ${e.details}`));
    call.on('end', () => done(undefined));
  }

  /**
   * Queues what `call` sends into `lane`. A batch the fan-out cannot read drops the peer (a
   * peer that lies gets no further say in this answer); the first response later than
   * `notAfterNs` ends the call through `passed`.
   */
  private feed(call: ClientReadableStream<PeerBatch>, lane: 0 | 1, notAfterNs: bigint | undefined, passed: () => void): void {
    call.on('data', (batch: PeerBatch) => {
      if (this.state !== 'open' || (call !== this.call && call !== this.catchUp)) return;
      if (batch instanceof MalformedAnswer) return this.malformed(batch.message);
      let more = true;
      for (const r of batch) {
        const facts = wireFacts(r);
        if (!facts) return this.malformed('a response that is not a GetFlowsResponse');
        // A flow without a uuid would pass the dedupe, a response of nothing known says nothing: skipped.
        if (facts.kind === 'none' || (facts.kind === 'flow' && facts.uuid === '')) continue;
        if (notAfterNs !== undefined && facts.timeNs !== undefined && facts.timeNs > notAfterNs) return passed();
        more = this.push({ response: r, timeNs: facts.timeNs ?? nowNs(), key: facts.uuid === '' ? '' : `${facts.node}\0${facts.uuid}`, arrived: Date.now() }, lane);
      }
      if (lane === 1) this.armCatchUpTimer(call);
      if (!more && !this.paused) {
        this.paused = true;
        clearTimeout(this.catchUpTimer);
        this.call?.pause();
        this.catchUp?.pause();
      }
    });
  }

  /** The peer's flows since the last one seen less the window, up to now: a call with the peer timeout, whose failure is a break. */
  private readCatchUp(): void {
    const from = (this.lastSeenNs ?? this.startedNs) - BigInt(this.opts.windowMs) * 1_000_000n;
    const now = nowNs();
    const call = this.peer.flows({ ...this.request, number: 0n, first: false, follow: false, since: nsTimestamp(from), until: nsTimestamp(now) });
    this.catchUp?.cancel();
    this.catchUp = call;
    const over = () => {
      if (this.catchUp !== call) return;
      this.catchUp = undefined;
      clearTimeout(this.catchUpTimer);
    };
    this.feed(call, 1, now, () => {
      over();
      call.cancel();
    });
    this.armCatchUpTimer(call);
    call.on('error', (e: ServiceError) => {
      if (this.catchUp !== call || this.cancelled) return;
      over();
      this.broken(`its catch-up failed: ${status[e.code] ?? e.code}: ${e.details}`);
    });
    call.on('end', over);
  }

  /** A catch-up that sends nothing for the peer timeout (while it is read) is a break. */
  private armCatchUpTimer(call: ClientReadableStream<PeerBatch>): void {
    clearTimeout(this.catchUpTimer);
    this.catchUpTimer = setTimeout(() => {
      if (this.catchUp !== call || this.cancelled) return;
      this.catchUp = undefined;
      call.cancel();
      this.broken(`its catch-up sent nothing for ${this.opts.timeoutMs} ms`);
    }, this.opts.timeoutMs);
  }

  /** The follow is broken as if its stream had: reported, asked again with backoff. */
  private broken(reason: string): void {
    const live = this.call;
    this.call = undefined;
    this.connected = false;
    live?.cancel();
    this.fail(reason);
  }

  private malformed(what: string): void {
    this.drop(`malformed answer: ${what}`);
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
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.cancelled) this.open(true);
    }, this.backoffMs);
  }

  private untilPassed(): boolean {
    const until = timestampNs(this.request.until);
    return until !== undefined && nowNs() > until;
  }

  /** Gives up on the peer for this answer, reported with `reason`: it kept the merge waiting too long, or its answer is malformed. */
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
    const c = this.catchUp;
    if (c) {
      c.resume();
      this.armCatchUpTimer(c);
    }
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.headersTimer);
    clearTimeout(this.catchUpTimer);
    clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.catchUp?.cancel();
    this.call = undefined;
    this.catchUp = undefined;
  }
}
