// The live side of the Observer API: a bounded ring of the most recent flows (what a
// server without a store answers history from, and where namespaces are read) and the
// followers of GetFlows. Flows come in batches (live.ts) and become objects only when a
// follower or a reader of the ring needs them. Each follower has its own bounded queue; one that reads too slowly
// loses flows and is told so by a LostEvent in its stream, so a stuck client costs at most
// its queue, never the relay's memory. A queued flow is its response already encoded
// (a few hundred bytes, where the object takes several kilobytes), encoded once for every
// follower that shows flows whole.
import { LostEventSource, type Flow } from '../proto/gen/flow/flow';
import { GetFlowsResponse } from '../proto/gen/observer/observer';
import type { NodeStatusEvent } from '../proto/gen/relay/relay';
import { flowList, type LiveBatch } from './live';
import { RateWindow } from './rate';
import { nowNs, nsTimestamp } from './time';

export interface FlowHubOptions {
  /** Flows kept in the ring; default 4095, Hubble's default buffer. */
  capacity?: number;
  /** Default queue length of a follower, in flows; default 65536 (see RelayLimits.maxFollowQueue). */
  subscriberQueue?: number;
  /** Encoded bytes of the flows one follower may have queued; default 64 MiB (RelayLimits.maxFollowQueueBytes). */
  subscriberQueueBytes?: number;
  now?: () => number;
}

export interface SubscribeOptions {
  /** Only flows it accepts are queued; lost and node events always are. */
  filter?: (f: Flow) => boolean;
  /** What of a flow this follower is shown (a field mask); the whole flow by default. */
  mask?: (f: Flow) => Flow;
  queue?: number;
}

/** What a follower is given: a flow as its encoded GetFlowsResponse, or an event. */
export type LiveItem = { flow: true; uuid: string; wire: Buffer } | { flow: false; response: GetFlowsResponse };

/** A flow's GetFlowsResponse, with `mask` (a field mask) applied to what is shown. */
export function flowResponse(f: Flow, mask?: (f: Flow) => Flow): GetFlowsResponse {
  return { responseTypes: { $case: 'flow', value: mask ? mask(f) : f }, nodeName: f.nodeName, time: f.time };
}

/** A flow's GetFlowsResponse, encoded. */
export function encodeFlowResponse(f: Flow, mask?: (f: Flow) => Flow): Buffer {
  const u = GetFlowsResponse.encode(flowResponse(f, mask)).finish();
  // Its own memory: a small encoding is a view into Node's shared 8 KiB pool, all of which a
  // queued flow would otherwise keep, beyond what the queue's byte bound counts.
  const own = Buffer.allocUnsafeSlow(u.byteLength);
  own.set(u);
  return own;
}

function lostResponse(source: LostEventSource, count: bigint, nodeName: string, atNs: bigint): GetFlowsResponse {
  const at = nsTimestamp(atNs);
  return {
    responseTypes: { $case: 'lostEvents', value: { source, numEventsLost: count, cpu: undefined, first: at, last: at } },
    nodeName,
    time: at,
  };
}

/** One follower's view: what was published since it subscribed, in order, bounded. */
export class Subscription {
  private items: LiveItem[] = [];
  private head = 0;
  /** The queued LostEvent that further overflow adds to, while it is still the tail. */
  private overflow: LiveItem | undefined;
  private waiter: (() => void) | undefined;
  private closed = false;
  /** Flows queued, and their encoded bytes; only they count against the capacity. */
  private flows = 0;
  private bytes = 0;
  /** Uuids of queued flows, kept only while the caller asks (the history/live seam). */
  private tracked: Set<string> | undefined;
  /** Flows this follower lost to a full queue. */
  lost = 0n;

  constructor(
    readonly filter: ((f: Flow) => boolean) | undefined,
    private readonly mask: ((f: Flow) => Flow) | undefined,
    private readonly capacity: number,
    private readonly capacityBytes: number,
    private readonly detach: (s: Subscription) => void,
    private readonly countLost: () => void,
    /** Queues what a follower that reads history would otherwise miss (see FlowHub.catchUp). */
    private readonly catchUp: (s: Subscription) => void,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /**
   * Starts remembering the uuids of queued flows (see hasQueued), for a follower about to
   * read history: first queues the flows already live but not yet in the store.
   */
  track(): void {
    this.catchUp(this);
    this.tracked = new Set();
    for (let i = this.head; i < this.items.length; i++) {
      const q = this.items[i];
      if (q.flow) this.tracked.add(q.uuid);
    }
  }

  untrack(): void {
    this.tracked = undefined;
  }

  /** Whether a flow with this uuid was queued since track(). */
  hasQueued(uuid: string): boolean {
    return this.tracked?.has(uuid) ?? false;
  }

  /**
   * Queues a flow its filter accepted; `whole` gives its response encoded whole, shared
   * between followers. A full queue turns it into a count in one LostEvent.
   */
  offerFlow(f: Flow, whole: () => Buffer): void {
    if (this.closed) return;
    if (this.flows >= this.capacity || this.bytes >= this.capacityBytes) {
      this.lose();
      return;
    }
    const wire = this.mask ? encodeFlowResponse(f, this.mask) : whole();
    this.items.push({ flow: true, uuid: f.uuid, wire });
    this.flows++;
    this.bytes += wire.length;
    this.tracked?.add(f.uuid);
    this.wake();
  }

  /** Queues an event (lost flows, a node's status); events never count against the capacity. */
  offerEvent(response: GetFlowsResponse): void {
    if (this.closed) return;
    this.items.push({ flow: false, response });
    this.wake();
  }

  private lose(): void {
    this.lost++;
    this.countLost();
    const tail = this.items[this.items.length - 1];
    const ev = tail !== undefined && tail === this.overflow && !tail.flow ? tail.response.responseTypes : undefined;
    if (ev?.$case === 'lostEvents') {
      ev.value.numEventsLost++;
      ev.value.last = nsTimestamp(nowNs());
    } else {
      this.overflow = { flow: false, response: lostResponse(LostEventSource.HUBBLE_RING_BUFFER, 1n, '', nowNs()) };
      this.items.push(this.overflow);
    }
    this.wake();
  }

  /** The next queued item, or undefined when none is queued. */
  take(): LiveItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const q = this.items[this.head++];
    if (q.flow) {
      this.flows--;
      this.bytes -= q.wire.length;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return q;
  }

  /** The next item, waiting for one; undefined once closed. */
  async next(): Promise<LiveItem | undefined> {
    for (;;) {
      const q = this.take();
      if (q !== undefined) return q;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items = [];
    this.head = 0;
    this.flows = 0;
    this.bytes = 0;
    this.detach(this);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

interface Unsettled {
  published: Uint8Array;
  unpublished: number;
  stored: boolean;
}

export class FlowHub {
  readonly capacity: number;
  /** The ring holds references (batch, flow index); a flow is built when read. */
  private readonly ringBatch: (LiveBatch | undefined)[];
  private readonly ringIndex: Uint32Array;
  private next = 0;
  private filled = 0;
  private readonly subscribers = new Set<Subscription>();
  private readonly subscriberQueue: number;
  private readonly subscriberQueueBytes: number;
  private readonly rate: RateWindow;
  /** Batches accepted and not yet both stored and published, with which of their flows were published. */
  private readonly unsettled = new Map<LiveBatch, Unsettled>();
  private seenFlows = 0n;
  /** Flows followers lost to full queues, summed over all followers ever. */
  followerLost = 0n;

  constructor(opts: FlowHubOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 4095);
    this.ringBatch = new Array<LiveBatch | undefined>(this.capacity);
    this.ringIndex = new Uint32Array(this.capacity);
    this.subscriberQueue = Math.max(1, opts.subscriberQueue ?? 65_536);
    this.subscriberQueueBytes = Math.max(1, opts.subscriberQueueBytes ?? 64 * 1024 * 1024);
    this.rate = new RateWindow(60, opts.now);
  }

  /** A follower's queue length when it asks for none (opts.queue). */
  get followQueue(): number {
    return this.subscriberQueue;
  }

  /** Flows published since the hub started. */
  get seen(): bigint {
    return this.seenFlows;
  }

  /** Flows in the ring now. */
  get size(): number {
    return this.filled;
  }

  get followers(): number {
    return this.subscribers.size;
  }

  /** Flows a second, averaged over the last minute. */
  flowsRate(): number {
    return this.rate.perSecond();
  }

  /**
   * Marks a batch as accepted, on its way both to live viewers (through the merge window)
   * and to the store, in either order. A GetFlows that reads history meanwhile gets the
   * flows already live but not yet stored queued when it starts tracking (track()), and
   * knows which stored flows have their live copy still to come (isPending).
   */
  expect(batch: LiveBatch): void {
    this.unsettled.set(batch, { published: new Uint8Array(batch.count), unpublished: batch.count, stored: false });
  }

  /** The batch is stored, or will not be: history answers for it from now on. */
  settle(batch: LiveBatch): void {
    const u = this.unsettled.get(batch);
    if (!u) return;
    u.stored = true;
    if (u.unpublished === 0) this.unsettled.delete(batch);
  }

  /** Whether the flow with this uuid is on its way and not yet published. */
  isPending(uuid: string): boolean {
    for (const [b, u] of this.unsettled) {
      const i = b.indexOfUuid(uuid);
      if (i >= 0 && u.published[i] === 0) return true;
    }
    return false;
  }

  /** Publishes flows already built, in this order. */
  publish(flows: readonly Flow[]): void {
    const batch = flowList(flows);
    const index = Uint32Array.from(flows.keys());
    this.publishRefs(new Array<LiveBatch>(flows.length).fill(batch), index, flows.length);
  }

  /** Publishes flow `index[k]` of `batches[k]` for k below n, in this order. */
  publishRefs(batches: readonly LiveBatch[], index: Uint32Array, n: number): void {
    const watched = this.subscribers.size > 0;
    // The merge releases runs of one batch: its entry is looked up once per run.
    let runOf: LiveBatch | undefined;
    let u: Unsettled | undefined;
    for (let k = 0; k < n; k++) {
      const b = batches[k];
      const i = index[k];
      if (b !== runOf) {
        runOf = b;
        u = this.unsettled.get(b);
      }
      if (u && u.published[i] === 0) {
        u.published[i] = 1;
        if (--u.unpublished === 0 && u.stored) this.unsettled.delete(b);
      }
      this.ringBatch[this.next] = b;
      this.ringIndex[this.next] = i;
      this.next = (this.next + 1) % this.capacity;
      if (this.filled < this.capacity) this.filled++;
      if (watched) this.offer(b.flow(i));
    }
    this.seenFlows += BigInt(n);
    this.rate.add(n);
  }

  private offer(f: Flow): void {
    let whole: Buffer | undefined;
    const encoded = () => (whole ??= encodeFlowResponse(f));
    for (const s of this.subscribers) if (!s.filter || s.filter(f)) s.offerFlow(f, encoded);
  }

  /** Tells followers that `count` events were lost before they reached the hub. */
  publishLost(source: LostEventSource, count: bigint, nodeName: string): void {
    if (count <= 0n) return;
    const r = lostResponse(source, count, nodeName, nowNs());
    for (const s of this.subscribers) s.offerEvent(r);
  }

  publishNodeStatus(ev: NodeStatusEvent): void {
    const r: GetFlowsResponse = { responseTypes: { $case: 'nodeStatus', value: ev }, nodeName: '', time: nsTimestamp(nowNs()) };
    for (const s of this.subscribers) s.offerEvent(r);
  }

  subscribe(opts: SubscribeOptions = {}): Subscription {
    const s = new Subscription(
      opts.filter,
      opts.mask,
      Math.max(1, opts.queue ?? this.subscriberQueue),
      this.subscriberQueueBytes,
      (x) => this.subscribers.delete(x),
      () => this.followerLost++,
      (sub) => this.catchUp(sub),
    );
    this.subscribers.add(s);
    return s;
  }

  /** Queues for a follower that reads history the flows published but not yet stored, which history cannot hold yet. */
  private catchUp(s: Subscription): void {
    for (const [b, u] of this.unsettled) {
      if (u.stored) continue;
      for (let i = 0; i < u.published.length; i++) {
        if (u.published[i] === 0) continue;
        const f = b.flow(i);
        if (!s.filter || s.filter(f)) s.offerFlow(f, () => encodeFlowResponse(f));
      }
    }
  }

  /** Ends every follower's stream (shutdown). */
  closeFollowers(): void {
    for (const s of [...this.subscribers]) s.close();
  }

  /** The ring's flows, oldest first. */
  recent(): Flow[] {
    const out: Flow[] = [];
    const start = (this.next - this.filled + this.capacity) % this.capacity;
    for (let k = 0; k < this.filled; k++) {
      const j = (start + k) % this.capacity;
      out.push((this.ringBatch[j] as LiveBatch).flow(this.ringIndex[j]));
    }
    return out;
  }
}
