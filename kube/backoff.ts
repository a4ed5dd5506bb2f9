// Exponential backoff for retries against the API server: doubling from `initialMs` up to
// `maxMs`, with full jitter on the upper half so that many operators restarted together do
// not retry in lockstep, and a reset once an attempt succeeds.

export interface BackoffOptions {
  /** First delay; default 800 ms (client-go's reflector default). */
  initialMs?: number;
  /** Ceiling of the delay; default 30 s. */
  maxMs?: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 800;
    this.maxMs = opts.maxMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) throw new RangeError('backoff needs 0 < initialMs <= maxMs');
  }

  /** The delay before the next attempt, in [d/2, d) for d = min(max, initial * 2^failures). */
  next(): number {
    const d = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 52));
    this.attempt++;
    return d / 2 + (d / 2) * this.random();
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
