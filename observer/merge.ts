// Approximate time order across collectors. Each collector's flows arrive in batches, late
// by its flush interval and the network, so flows of many nodes interleave out of order.
// The merger holds batches for a bounded window and releases their flows by capture time:
// a flow goes once the wall clock is `windowMs` past its time, or once its batch has waited
// `windowMs` twice over (a node whose clock runs ahead must not hold everything back), or
// when more than `maxFlows` wait. A flow arriving after later ones have gone is released on
// the next tick, out of order: the window bounds the delay, not the disorder.
//
// Work is per batch, not per flow: a batch's flows are sorted by time once on arrival and
// the heap orders batches by their next flow, so releasing a flow is a step along its
// batch and a sift among the few batches held.
import type { LiveBatch } from './live';

export interface TimeMergerOptions {
  windowMs?: number;
  maxFlows?: number;
  /** How often held flows are checked; default a tenth of the window. */
  tickMs?: number;
  /** Flows released per turn of the event loop; default 1024. */
  sliceFlows?: number;
  /** Flows released in time order: flow `index[k]` of `batches[k]`, for k below `n`. */
  release: (batches: readonly LiveBatch[], index: Uint32Array, n: number) => void;
  now?: () => number;
}

interface Held {
  batch: LiveBatch;
  /** The batch's flow indexes in time order, and their times (ms). */
  order: Uint32Array;
  times: Float64Array;
  /** The next flow to release, as a position in `order`. */
  next: number;
  arrived: number;
}

const headTime = (h: Held): number => h.times[h.next];

function before(x: Held, y: Held): boolean {
  const a = headTime(x);
  const b = headTime(y);
  return a < b || (a === b && x.arrived < y.arrived);
}

/** Binary min-heap of held batches by their next flow's time, then arrival. */
class HeldHeap {
  readonly a: Held[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Held | undefined {
    return this.a[0];
  }

  push(h: Held): void {
    const a = this.a;
    a.push(h);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  /** Restores order after the top's key grew (its next flow moved on). */
  siftTop(): void {
    const a = this.a;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l], a[m])) m = l;
      if (r < a.length && before(a[r], a[m])) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }

  pop(): void {
    const a = this.a;
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      this.siftTop();
    }
  }
}

/** A batch's flow indexes sorted by capture time; a flow without one counts as arriving now. */
function sorted(batch: LiveBatch, arrived: number): { order: Uint32Array; times: Float64Array } {
  const n = batch.count;
  const t = new Float64Array(n);
  let inOrder = true;
  for (let i = 0; i < n; i++) {
    const x = batch.timeMs(i);
    t[i] = Number.isNaN(x) ? arrived : x;
    if (i > 0 && t[i] < t[i - 1]) inOrder = false;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (inOrder) return { order, times: t };
  order.sort((x, y) => t[x] - t[y] || x - y);
  const times = new Float64Array(n);
  for (let k = 0; k < n; k++) times[k] = t[order[k]];
  return { order, times };
}

export class TimeMerger {
  private readonly heap = new HeldHeap();
  /** Held batches in arrival order, to bound how long any flow waits. */
  private arrivals: Held[] = [];
  private heldFlows = 0;
  /** Flows a tick releases before it lets the event loop run; the rest follow at once after. */
  private readonly sliceFlows: number;
  /** A follow-up tick is scheduled. */
  private again = false;
  private readonly windowMs: number;
  private readonly maxFlows: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: TimeMergerOptions) {
    this.windowMs = opts.windowMs ?? 1000;
    this.maxFlows = opts.maxFlows ?? 100_000;
    this.sliceFlows = opts.sliceFlows ?? 1024;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? Math.max(10, this.windowMs / 10));
    this.timer.unref();
  }

  /** Flows held now. */
  get held(): number {
    return this.heldFlows;
  }

  add(batch: LiveBatch): void {
    if (batch.count === 0) return;
    if (this.windowMs <= 0) {
      const index = new Uint32Array(batch.count);
      for (let i = 0; i < index.length; i++) index[i] = i;
      this.opts.release(new Array<LiveBatch>(index.length).fill(batch), index, index.length);
      return;
    }
    const arrived = this.now();
    const h: Held = { batch, ...sorted(batch, arrived), next: 0, arrived };
    this.heap.push(h);
    this.arrivals.push(h);
    this.heldFlows += batch.count;
    if (this.heldFlows > this.maxFlows) this.emit(this.heldFlows - this.maxFlows, -Infinity);
  }

  /**
   * Releases what is due now, a slice at a time: a batch of a busy node brings tens of
   * thousands of flows due at once, and between slices the event loop lets followers'
   * streams drain, so a follower that keeps up is not overrun by one burst.
   */
  tick(): void {
    this.again = false;
    const now = this.now();
    let through = now - this.windowMs;
    // A batch that waited twice the window goes now, with everything captured before its last flow.
    this.arrivals = this.arrivals.filter((h) => h.next < h.order.length);
    for (const h of this.arrivals) {
      if (h.arrived > now - 2 * this.windowMs) break;
      through = Math.max(through, h.times[h.times.length - 1]);
    }
    if (this.emit(0, through, this.sliceFlows) && !this.again) {
      this.again = true;
      setImmediate(() => this.tick());
    }
  }

  /** Releases everything held, in time order. */
  flush(): void {
    this.emit(this.heldFlows, Infinity);
    this.arrivals = [];
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** Releases at least `count` flows, and every flow captured at or before `through`, at most `most`; says whether due flows are left. */
  private emit(count: number, through: number, most = Infinity): boolean {
    const batches: LiveBatch[] = [];
    let index = new Uint32Array(1024);
    let n = 0;
    let top = this.heap.peek();
    for (; top && n < most && (n < count || headTime(top) <= through); top = this.heap.peek()) {
      if (n === index.length) {
        const wider = new Uint32Array(2 * n);
        wider.set(index);
        index = wider;
      }
      batches.push(top.batch);
      index[n++] = top.order[top.next++];
      if (top.next === top.order.length) this.heap.pop();
      else this.heap.siftTop();
    }
    this.heldFlows -= n;
    if (n > 0) this.opts.release(batches, index, n);
    return top !== undefined && headTime(top) <= through;
  }
}
