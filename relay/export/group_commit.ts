// Group commit: batches that arrive while the store is busy wait together, and the next
// insert takes all of them (up to `maxFlows`) as one, so the engine writes one larger part
// instead of many small ones. Each batch's promise settles once its group's insert has
// settled: a batch is acknowledged only when durable. A session's batches keep their order:
// a batch waits while an earlier batch of its session is being inserted, and when a batch
// fails, the batches of its session queued behind it fail with it (storing them would move
// the session's position past the failed one).

/** What the committer needs of a batch: its session and size. */
export interface Committable {
  nodeName: string;
  sessionId: string;
  /** Flows the batch stores. */
  flows: number;
}

/** One group as it goes to the store. */
export interface GroupStats {
  batches: number;
  flows: number;
  /** Batches were left queued because the group reached maxFlows. */
  full: boolean;
}

export interface GroupCommitOptions {
  /** Flows one group may hold; a batch larger than this goes alone. */
  maxFlows: number;
  /** Groups inserted at once. */
  concurrency: number;
  /** Every group before its insert, for metrics and the log. */
  onGroup?: (g: GroupStats) => void;
}

/**
 * Inserts the group, all or none; per batch, an error when that batch alone was refused
 * (and then every later batch of its session in the group is refused too).
 */
export type GroupInsert<T> = (group: T[]) => Promise<(Error | undefined)[]>;

interface Waiting<T> {
  item: T;
  key: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

const keyOf = (c: Committable): string => `${c.nodeName.length}:${c.nodeName}/${c.sessionId}`;

export class GroupCommit<T extends Committable> {
  private queue: Waiting<T>[] = [];
  private running = 0;
  /** Sessions with a batch in an insert under way. */
  private readonly busy = new Set<string>();
  private idlers: Array<() => void> = [];

  constructor(
    private readonly insert: GroupInsert<T>,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Batches waiting for an insert. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once nothing is queued or being inserted (what was queued is stored or failed). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  /** Resolves once `item` is stored; rejects if it is not. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, key: keyOf(item), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.opts.concurrency) {
      const group = this.take();
      if (!group) break;
      this.running++;
      void this.run(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
    if (this.running === 0 && this.queue.length === 0 && this.idlers.length > 0) {
      const idlers = this.idlers;
      this.idlers = [];
      for (const f of idlers) f();
    }
  }

  /** The next group: queued batches in order, skipping sessions already in an insert. */
  private take(): Waiting<T>[] | undefined {
    const group: Waiting<T>[] = [];
    const left: Waiting<T>[] = [];
    const skipped = new Set<string>();
    let flows = 0;
    let full = false;
    for (const w of this.queue) {
      if (this.busy.has(w.key) || skipped.has(w.key)) {
        left.push(w);
        continue;
      }
      if (group.length > 0 && flows + w.item.flows > this.opts.maxFlows) {
        full = true;
        // Later batches of this session stay behind it.
        skipped.add(w.key);
        left.push(w);
        continue;
      }
      group.push(w);
      flows += w.item.flows;
    }
    if (group.length === 0) return undefined;
    this.queue = left;
    for (const w of group) this.busy.add(w.key);
    this.opts.onGroup?.({ batches: group.length, flows, full });
    return group;
  }

  private async run(group: Waiting<T>[]): Promise<void> {
    let outcome: (Error | undefined)[];
    try {
      outcome = await this.insert(group.map((w) => w.item));
    } catch (e) {
      outcome = group.map(() => e as Error);
    }
    for (const w of group) this.busy.delete(w.key);
    const failed = new Map<string, Error>();
    group.forEach((w, i) => {
      const err = outcome[i];
      if (err === undefined) return w.resolve();
      failed.set(w.key, err);
      w.reject(err);
    });
    if (failed.size === 0) return;
    this.queue = this.queue.filter((w) => {
      const err = failed.get(w.key);
      if (err === undefined) return true;
      w.reject(new Error(`an earlier batch of session ${w.item.sessionId} was not stored: ${err.message}`));
      return false;
    });
  }
}
