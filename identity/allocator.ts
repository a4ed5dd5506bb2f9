// Numeric security identities for label sets, as the datapath carries them in its endpoint
// map, ring records and the identity option. Numbers 0-255 are reserved (Cilium's reserved
// identities: 0 unknown, 1 host, 2 world, 4 health, 6 remote-node, ...) and the same in every
// cluster; a cluster's own identities are scopedIdentity(clusterId, local) with local
// 256-65535 (cluster_scope.ts), so one number names one workload across the mesh. There is
// one allocator per cluster, in the operator (AllocatorLock keeps it to one process); agents
// read its state file (IdentityReader). The mapping is persisted, and an identity no workload
// uses any more keeps its number for a grace period, so an operator restart or a brief
// scale-to-zero does not renumber workloads under the datapath's feet.
import { isClusterId, localIdentityOf, scopedIdentity } from './cluster_scope';
import { identityLabels } from './labels';
import { IdentityError, readIdentityState, writeIdentityState, type IdentityState } from './state_file';

export { IdentityError, type IdentityErrorCode } from './state_file';

export const LOCAL_IDENTITY_MIN = 256;
export const LOCAL_IDENTITY_MAX = 65535;
export const DEFAULT_GRACE_MS = 10 * 60 * 1000;

export interface Identity {
  /** The mesh-wide number (cluster id in bits 16-23). */
  id: number;
  /** Normalised labels (see identityLabels). */
  labels: readonly string[];
}

/** What a reader of the allocation needs: the catalogue, and lookups both ways. */
export interface IdentityView {
  readonly clusterId: number;
  lookupByLabels(namespace: string, podLabels: Readonly<Record<string, string>>): Identity | undefined;
  lookupById(id: number): Identity | undefined;
  /** Every identity that holds a number, in use or in its grace period, by number. */
  all(): Identity[];
}

export interface AllocatorOptions {
  /** This cluster's id (ClusterAS spec.clusterId), 1-255. */
  clusterId: number;
  /** How long an unused identity keeps its number; default 10 minutes. */
  graceMs?: number;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Local numbers to allocate from; defaults to LOCAL_IDENTITY_MIN..LOCAL_IDENTITY_MAX. */
  min?: number;
  max?: number;
  /** Called before every write of the state file; throws when this process may no longer allocate (AllocatorLock.check). */
  guard?: () => void;
}

interface Slot {
  identity: Identity;
  refs: number;
  /** When refs last dropped to 0 (ms); undefined while in use. */
  releasedAt?: number;
}

export class IdentityAllocator implements IdentityView {
  private readonly byNumber = new Map<number, Slot>();
  private readonly byKey = new Map<string, Slot>();
  readonly clusterId: number;
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly min: number;
  private readonly max: number;
  private readonly guard: () => void;
  /** Inside batch(): changes wait for one write at its end. */
  private batching = false;
  private dirty = false;
  /** No local number below this is free (numbers are handed out lowest first). */
  private lowestFree: number;

  private constructor(
    readonly file: string,
    opts: AllocatorOptions,
  ) {
    if (!isClusterId(opts.clusterId)) throw new RangeError(`cluster id ${opts.clusterId} outside 1-255`);
    this.clusterId = opts.clusterId;
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.now = opts.now ?? Date.now;
    this.min = opts.min ?? LOCAL_IDENTITY_MIN;
    this.max = opts.max ?? LOCAL_IDENTITY_MAX;
    this.guard = opts.guard ?? (() => undefined);
    this.lowestFree = this.min;
    if (this.min < LOCAL_IDENTITY_MIN || this.max > LOCAL_IDENTITY_MAX || this.min > this.max) {
      throw new RangeError(`identity range ${this.min}-${this.max} outside ${LOCAL_IDENTITY_MIN}-${LOCAL_IDENTITY_MAX}`);
    }
  }

  /**
   * Loads the identities persisted in `file` (none if it does not exist); a version 1 file is
   * upgraded and saved at once. Every loaded identity starts unused with its grace period
   * running, so workloads that come back within it get their old numbers.
   */
  static open(file: string, opts: AllocatorOptions): IdentityAllocator {
    const a = new IdentityAllocator(file, opts);
    const read = readIdentityState(file, a.clusterId);
    if (!read) return a;
    const now = a.now();
    for (const s of read.state.identities) {
      const slot: Slot = { identity: { id: s.id, labels: s.labels }, refs: 0, releasedAt: s.releasedAt ?? now };
      a.byNumber.set(s.id, slot);
      a.byKey.set(s.labels.join('\n'), slot);
    }
    if (read.upgraded) a.save();
    return a;
  }

  /** The identity of a workload's labels, allocating one if needed; counts one more user. */
  acquire(namespace: string, podLabels: Readonly<Record<string, string>>): Identity {
    const labels = identityLabels(namespace, podLabels);
    const key = labels.join('\n');
    const found = this.byKey.get(key);
    if (found) {
      found.refs++;
      if (found.releasedAt !== undefined) {
        delete found.releasedAt;
        this.save();
      }
      return found.identity;
    }
    let id = this.freeNumber();
    if (id === undefined && this.gc().length > 0) id = this.freeNumber();
    if (id === undefined) {
      throw new IdentityError('EXHAUSTED', `all local identities ${this.min}-${this.max} of cluster ${this.clusterId} are in use or in their grace period`);
    }
    const slot: Slot = { identity: { id, labels }, refs: 1 };
    this.byNumber.set(id, slot);
    this.byKey.set(key, slot);
    this.save();
    return slot.identity;
  }

  /**
   * Runs `fn` with every change it makes written once at its end rather than once each: a
   * sync numbering N pods writes the file once, not N times. Nobody outside this process
   * sees a number before the write (nodes read the file), so nothing is promised earlier.
   */
  batch<T>(fn: () => T): T {
    if (this.batching) return fn();
    this.batching = true;
    try {
      return fn();
    } finally {
      this.batching = false;
      if (this.dirty) this.save();
    }
  }

  /** One user fewer; at zero the grace period starts. */
  release(id: number): void {
    const slot = this.byNumber.get(id);
    if (!slot || slot.refs === 0) return;
    slot.refs--;
    if (slot.refs === 0) {
      slot.releasedAt = this.now();
      this.save();
    }
  }

  lookupByLabels(namespace: string, podLabels: Readonly<Record<string, string>>): Identity | undefined {
    return this.byKey.get(identityLabels(namespace, podLabels).join('\n'))?.identity;
  }

  lookupById(id: number): Identity | undefined {
    return this.byNumber.get(id)?.identity;
  }

  /** Frees identities unused for longer than the grace period; returns their numbers. */
  gc(): number[] {
    const cutoff = this.now() - this.graceMs;
    const freed: number[] = [];
    for (const [id, slot] of this.byNumber) {
      if (slot.refs === 0 && slot.releasedAt !== undefined && slot.releasedAt <= cutoff) {
        this.byNumber.delete(id);
        this.byKey.delete(slot.identity.labels.join('\n'));
        this.lowestFree = Math.min(this.lowestFree, localIdentityOf(id));
        freed.push(id);
      }
    }
    if (freed.length) this.save();
    return freed.sort((a, b) => a - b);
  }

  /** Every identity that holds a number, in use or in its grace period. */
  all(): Identity[] {
    return [...this.byNumber.values()].map((s) => s.identity).sort((a, b) => a.id - b.id);
  }

  // From the lowest number that may be free: numbering N pods scans the range once, not N times.
  private freeNumber(): number | undefined {
    for (let local = this.lowestFree; local <= this.max; local++) {
      const id = scopedIdentity(this.clusterId, local);
      if (!this.byNumber.has(id)) {
        this.lowestFree = local + 1;
        return id;
      }
    }
    this.lowestFree = this.max + 1;
    return undefined;
  }

  private save(): void {
    this.dirty = true;
    if (this.batching) return;
    this.guard();
    const state: IdentityState = {
      clusterId: this.clusterId,
      identities: this.all().map((identity) => {
        const slot = this.byNumber.get(identity.id)!;
        return { id: identity.id, labels: [...identity.labels], ...(slot.releasedAt !== undefined ? { releasedAt: slot.releasedAt } : {}) };
      }),
    };
    writeIdentityState(this.file, state);
    this.dirty = false;
  }
}

