// Approximate time order across collectors. Each collector's flows arrive in batches, late
// by its flush interval and the network, so flows of many nodes interleave out of order.
// The merger holds flows for a bounded window and releases them by capture time: a flow
// goes once the wall clock is `windowMs` past its time, or once it has waited `windowMs`
// twice over (a node whose clock runs ahead must not hold everything back), or when more
// than `maxFlows` wait. A flow arriving after later ones have gone is released on the next
// tick, out of order: the window bounds the delay, not the disorder.
import type { Flow } from '../proto/gen/flow/flow';
import { timestampNs } from './time';

export interface TimeMergerOptions {
  windowMs?: number;
  maxFlows?: number;
  /** How often held flows are checked; default a tenth of the window. */
  tickMs?: number;
  release: (flows: Flow[]) => void;
  now?: () => number;
}

interface Held {
  flow: Flow;
  /** Capture time, ms. */
  time: number;
  arrived: number;
  released: boolean;
}

/** Binary min-heap by capture time, then arrival. */
class HeldHeap {
  private readonly a: Held[] = [];

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

  pop(): Held | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Held, y: Held): boolean {
  return x.time < y.time || (x.time === y.time && x.arrived < y.arrived);
}

export class TimeMerger {
  private readonly heap = new HeldHeap();
  /** Arrival order, to bound how long any flow waits. */
  private arrivals: Held[] = [];
  private arrivalsHead = 0;
  private readonly windowMs: number;
  private readonly maxFlows: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: TimeMergerOptions) {
    this.windowMs = opts.windowMs ?? 1000;
    this.maxFlows = opts.maxFlows ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? Math.max(10, this.windowMs / 10));
    this.timer.unref();
  }

  get held(): number {
    return this.heap.size;
  }

  add(flows: readonly Flow[]): void {
    if (this.windowMs <= 0) {
      if (flows.length > 0) this.opts.release([...flows]);
      return;
    }
    const arrived = this.now();
    for (const flow of flows) {
      const ns = timestampNs(flow.time);
      const h: Held = { flow, time: ns === undefined ? arrived : Number(ns / 1_000_000n), arrived, released: false };
      this.heap.push(h);
      this.arrivals.push(h);
    }
    if (this.heap.size > this.maxFlows) this.emit(this.heap.size - this.maxFlows, -Infinity);
  }

  /** Releases what is due now. */
  tick(): void {
    const now = this.now();
    let through = now - this.windowMs;
    // A flow that waited twice the window goes now, with everything captured before it.
    while (this.arrivalsHead < this.arrivals.length) {
      const h = this.arrivals[this.arrivalsHead];
      if (!h.released && h.arrived > now - 2 * this.windowMs) break;
      if (!h.released && h.time > through) through = h.time;
      this.arrivalsHead++;
    }
    this.compactArrivals();
    this.emit(0, through);
  }

  /** Releases everything held, in time order. */
  flush(): void {
    this.emit(this.heap.size, Infinity);
    this.arrivals = [];
    this.arrivalsHead = 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** Releases at least `count` flows, and every flow captured at or before `through`. */
  private emit(count: number, through: number): void {
    const out: Flow[] = [];
    for (let top = this.heap.peek(); top && (out.length < count || top.time <= through); top = this.heap.peek()) {
      const h = this.heap.pop() as Held;
      h.released = true;
      out.push(h.flow);
    }
    if (out.length > 0) this.opts.release(out);
  }

  private compactArrivals(): void {
    if (this.arrivalsHead > 1024 && this.arrivalsHead * 2 > this.arrivals.length) {
      this.arrivals = this.arrivals.slice(this.arrivalsHead);
      this.arrivalsHead = 0;
    }
  }
}
