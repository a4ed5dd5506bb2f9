// A per-key write queue: at most one write in flight per key, only the newest value per key
// is kept (an older status is worthless once a newer one exists), and a failed write is
// retried with that key's own backoff while other keys go on being written.
import { Backoff, type BackoffOptions } from './backoff';

export interface WriteQueueOptions {
  backoff?: BackoffOptions;
  /** False for errors a retry cannot fix (the value is then dropped); default: retry all. */
  retryable?: (error: unknown) => boolean;
  /** Told about every failed write and what happens next. */
  onError?: (key: string, error: unknown, retryInMs: number | undefined) => void;
}

interface Slot<V> {
  pending?: { value: V };
  running: boolean;
  timer?: NodeJS.Timeout;
  backoff: Backoff;
}

export class WriteQueue<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;
  /** Bumped by clear(): a write that was in flight across it is not retried. */
  private epoch = 0;

  constructor(
    private readonly write: (key: string, value: V) => Promise<void>,
    private readonly opts: WriteQueueOptions = {},
  ) {}

  /** Queues `value` for `key`, replacing any value for it not yet written. */
  put(key: string, value: V): void {
    if (this.closed) throw new Error('write queue is closed');
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { running: false, backoff: new Backoff(this.opts.backoff) };
      this.slots.set(key, slot);
    }
    slot.pending = { value };
    // A key waiting out its backoff keeps waiting: the newer value goes with the retry.
    if (!slot.running && !slot.timer) void this.run(key, slot);
  }

  /** Keys with a value not yet written (queued, in flight or waiting to retry). */
  get size(): number {
    return this.slots.size;
  }

  /** Resolves once every queued value has been written or dropped. */
  idle(): Promise<void> {
    if (this.slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(key: string, slot: Slot<V>): Promise<void> {
    slot.running = true;
    while (slot.pending && !this.closed) {
      const { value } = slot.pending;
      slot.pending = undefined;
      const epoch = this.epoch;
      try {
        await this.write(key, value);
        slot.backoff.reset();
      } catch (e) {
        if (this.closed) break;
        if (epoch !== this.epoch) continue;
        if (this.opts.retryable && !this.opts.retryable(e)) {
          this.opts.onError?.(key, e, undefined);
          continue;
        }
        slot.pending ??= { value };
        const delay = slot.backoff.next();
        this.opts.onError?.(key, e, delay);
        slot.running = false;
        slot.timer = setTimeout(() => {
          slot.timer = undefined;
          void this.run(key, slot);
        }, delay);
        return;
      }
    }
    slot.running = false;
    this.slots.delete(key);
    this.settleIfIdle();
  }

  private settleIfIdle(): void {
    if (this.slots.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Drops every value not yet written and stops retries; writes in flight finish but are not retried. */
  clear(): void {
    this.epoch++;
    for (const [key, slot] of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.pending = undefined;
      if (!slot.running) this.slots.delete(key);
    }
    this.settleIfIdle();
  }

  /** Drops what is not yet written, stops retries and waits for writes in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.clear();
    await this.idle();
  }
}
