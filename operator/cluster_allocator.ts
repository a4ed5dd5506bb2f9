// The cluster's one allocator, as the operator runs it: it takes the lock on the state file
// (waiting while another operator process of the cluster holds it), numbers every pod of the
// cluster, and frees numbers whose grace period ran out. Nodes read what it writes
// (IdentityReader); on Kubernetes only the Lease holder runs one.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { IdentityBook } from './datapath/identities';
import type { Workload } from '../identity/workload';
import { IdentityAllocator, type Identity, type IdentityView } from '../identity/allocator';
import { AllocatorLock, type LockHolder } from '../identity/lock';
import { resumeFromPublished } from '../identity/published';
import { readIdentityState, writeIdentityState } from '../identity/state_file';

export interface ClusterIdentitiesOptions {
  stateFile: string;
  clusterId: number;
  /** Every pod of the cluster, read on every sync. */
  workloads: () => readonly Workload[];
  graceMs?: number;
  now?: () => number;
  /** Local numbers to allocate from (tests); default 256-65535. */
  min?: number;
  max?: number;
  /** How often a waiting operator retries the lock; default 1 s. */
  lockPollMs?: number;
  signal?: AbortSignal;
  /**
   * The cluster's identities as published (on Kubernetes, its CillionIdentity objects): they
   * win over the state file where the two disagree (resumeFromPublished), so a new leader
   * with an empty or stale volume renumbers nothing that nodes already program.
   */
  published?: () => readonly Identity[];
  log: (line: string) => void;
}

export interface SyncReport {
  /** Whether any number was allocated or freed (nodes then reprogram). */
  changed: boolean;
  /** Pods left without an identity because the cluster's range is full. */
  exhausted: number;
}

export class ClusterIdentities {
  private constructor(
    private readonly opts: ClusterIdentitiesOptions,
    private readonly lock: AllocatorLock,
    private readonly allocator: IdentityAllocator,
    private readonly book: IdentityBook,
    private readonly exhausted: Set<string>,
  ) {}

  /** Waits for the lock, then loads the state (upgrading a version 1 file). */
  static async open(opts: ClusterIdentitiesOptions): Promise<ClusterIdentities> {
    mkdirSync(dirname(opts.stateFile), { recursive: true });
    const lockFile = AllocatorLock.fileFor(opts.stateFile);
    const lock = await AllocatorLock.acquire(lockFile, {
      pollMs: opts.lockPollMs,
      signal: opts.signal,
      onWait: (h: LockHolder) =>
        opts.log(`identities of cluster ${opts.clusterId} are allocated by pid ${h.pid} on ${h.host}: waiting for ${lockFile} (remove it if no operator holds it)`),
    });
    try {
      const published = opts.published?.() ?? [];
      if (published.length > 0) {
        const file = readIdentityState(opts.stateFile, opts.clusterId)?.state.identities ?? [];
        const r = resumeFromPublished(file, published);
        if (r.changed) {
          writeIdentityState(opts.stateFile, { clusterId: opts.clusterId, identities: r.identities });
          opts.log(`identities: resuming from the ${published.length} published identities of cluster ${opts.clusterId}` + (r.dropped ? ` (${r.dropped} number(s) of ${opts.stateFile} contradicted them and were dropped)` : ''));
        }
      }
      const allocator = IdentityAllocator.open(opts.stateFile, {
        clusterId: opts.clusterId, graceMs: opts.graceMs, now: opts.now, min: opts.min, max: opts.max, guard: () => lock.check(),
      });
      const exhausted = new Set<string>();
      const book = new IdentityBook(allocator, (w) => exhausted.add(IdentityBook.key(w)));
      return new ClusterIdentities(opts, lock, allocator, book, exhausted);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** The allocation, for readers in this process (the catalogue's list of {id, labels}). */
  get view(): IdentityView {
    return this.allocator;
  }

  /** Numbers the cluster's pods and collects what outlived its grace period; writes the state file once. */
  sync(): SyncReport {
    const before = this.allocator.all();
    this.exhausted.clear();
    const freed = this.allocator.batch(() => {
      this.book.sync(this.opts.workloads());
      return this.allocator.gc();
    });
    if (this.exhausted.size > 0) {
      const some = [...this.exhausted].slice(0, 3).join(', ') + (this.exhausted.size > 3 ? ', ...' : '');
      this.opts.log(`identities: cluster ${this.opts.clusterId} has no free number for ${this.exhausted.size} pod(s) (${some}): they stay unprogrammed`);
    }
    const after = this.allocator.all();
    const changed = freed.length > 0 || after.length !== before.length || after.some((a, i) => a !== before[i]);
    return { changed, exhausted: this.exhausted.size };
  }

  /** Stops allocating: the lock goes to the next operator process. */
  close(): void {
    this.lock.release();
  }
}
