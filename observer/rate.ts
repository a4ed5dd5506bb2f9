// Events per second over a sliding window of whole seconds, in constant memory.
export class RateWindow {
  private readonly buckets: number[];
  /** The second each bucket counts, so stale buckets read as empty. */
  private readonly stamps: number[];

  constructor(
    private readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  add(n: number): void {
    const sec = Math.floor(this.now() / 1000);
    const i = sec % this.seconds;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i] += n;
  }

  /** Average over the window, the current (partial) second included. */
  perSecond(): number {
    const sec = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < this.seconds; i++) if (this.stamps[i] > sec - this.seconds) sum += this.buckets[i];
    return sum / this.seconds;
  }
}
