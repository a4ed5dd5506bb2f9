// Newest-first reads ("the last N") look back from the newest stored flow in time windows
// that grow, instead of planning every part of the table at once. A window has a lower
// time bound only ([lo, ∞) the first time, then [lo', lo)), so the rows it holds are all the
// newer rows there are: whatever the starting point (an anchor that is stale or wrong only
// costs more windows), the flows come back exactly as a read without windows gives them.
// The bound lets the primary key drop every older part and granule before the engine plans
// the read, which is most of what a last-100 costs on a large table.

/** The first window: a minute back from the newest flow. */
const FIRST_WINDOW_NS = 60n * 1_000_000_000n;
/** Each next window reaches this many times further back. */
const GROWTH = 16n;
/** 1900-01-01, the oldest time a DateTime64(9) holds. */
const OLDEST_NS = -2_208_988_800n * 1_000_000_000n;
/** Windows before the last, unbounded, one: a minute, 16 minutes, 4.3 hours, 2.8 days. */
const BOUNDED_WINDOWS = 4;

/** A window's time bounds in nanoseconds, [lo, hi); an end left out is unbounded. */
export interface WindowBounds {
  lo?: bigint;
  hi?: bigint;
}

/** Where a newest-first read stands: the window it reads and the ones it has read. */
export class TimeWindows {
  private index = 0;
  /** Exclusive upper bound: the lower bound of the window read before (none for the first). */
  private hi: bigint | undefined;
  private lo: bigint | undefined;

  /**
   * `anchorNs`: about the newest time stored (nanoseconds since the epoch); `sinceNs`: the
   * query's own lower bound, below which no window needs to reach.
   */
  constructor(private readonly anchorNs: bigint, private readonly sinceNs?: bigint) {
    this.lo = this.boundAt(0);
  }

  get bounds(): WindowBounds {
    return { lo: this.lo, hi: this.hi };
  }

  /** True once the window reaches back to the beginning: a short page then is the end. */
  get unbounded(): boolean {
    return this.lo === undefined;
  }

  /** The next, wider window, below the current one. */
  widen(): void {
    if (this.lo === undefined) throw new Error('the last time window has no next one');
    this.hi = this.lo;
    this.index++;
    this.lo = this.boundAt(this.index);
  }

  private boundAt(i: number): bigint | undefined {
    if (i >= BOUNDED_WINDOWS) return undefined;
    const lo = this.anchorNs - FIRST_WINDOW_NS * GROWTH ** BigInt(i);
    // At or below the query's own bound, or below what DateTime64(9) holds, a bound adds nothing.
    return lo <= OLDEST_NS || (this.sinceNs !== undefined && lo <= this.sinceNs) ? undefined : lo;
  }
}
