// Numeric security identities for label sets, as the datapath carries them in its endpoint
// map and ring records. Numbers 0-255 are reserved (Cilium's reserved identities: 0 unknown,
// 1 host, 2 world, 4 health, 6 remote-node, ...); cluster-local identities are 256-65535.
// The mapping is persisted in a file under the data directory, and an identity no workload
// uses any more is kept for a grace period before its number can be reused, so an operator
// restart or a brief scale-to-zero does not renumber workloads under the datapath's feet.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { identityLabels } from './labels';

export const LOCAL_IDENTITY_MIN = 256;
export const LOCAL_IDENTITY_MAX = 65535;
export const DEFAULT_GRACE_MS = 10 * 60 * 1000;

export interface Identity {
  id: number;
  /** Normalised labels (see identityLabels). */
  labels: readonly string[];
}

export type IdentityErrorCode = 'EXHAUSTED' | 'CORRUPT_STATE';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface AllocatorOptions {
  /** How long an unused identity keeps its number; default 10 minutes. */
  graceMs?: number;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Range to allocate from; defaults to LOCAL_IDENTITY_MIN..LOCAL_IDENTITY_MAX. */
  min?: number;
  max?: number;
}

interface Slot {
  identity: Identity;
  refs: number;
  /** When refs last dropped to 0 (ms); undefined while in use. */
  releasedAt?: number;
}

interface StateFile {
  version: 1;
  identities: { id: number; labels: string[]; releasedAt?: number }[];
}

export class IdentityAllocator {
  private readonly byNumber = new Map<number, Slot>();
  private readonly byKey = new Map<string, Slot>();
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly min: number;
  private readonly max: number;

  private constructor(
    readonly file: string,
    opts: AllocatorOptions,
  ) {
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.now = opts.now ?? Date.now;
    this.min = opts.min ?? LOCAL_IDENTITY_MIN;
    this.max = opts.max ?? LOCAL_IDENTITY_MAX;
    if (this.min < LOCAL_IDENTITY_MIN || this.max > LOCAL_IDENTITY_MAX || this.min > this.max) {
      throw new RangeError(`identity range ${this.min}-${this.max} outside ${LOCAL_IDENTITY_MIN}-${LOCAL_IDENTITY_MAX}`);
    }
  }

  /**
   * Loads the identities persisted in `file` (none if it does not exist). Every loaded
   * identity starts unused with its grace period running, so workloads that come back
   * within it get their old numbers.
   */
  static open(file: string, opts: AllocatorOptions = {}): IdentityAllocator {
    const a = new IdentityAllocator(file, opts);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return a;
      throw e;
    }
    let state: StateFile;
    try {
      state = JSON.parse(text) as StateFile;
    } catch (e) {
      throw new IdentityError('CORRUPT_STATE', `${file}: ${(e as Error).message}`);
    }
    if (state?.version !== 1 || !Array.isArray(state.identities)) throw new IdentityError('CORRUPT_STATE', `${file}: not a version 1 identity file`);
    const now = a.now();
    for (const s of state.identities) {
      if (!Number.isInteger(s.id) || !Array.isArray(s.labels) || a.byNumber.has(s.id) || a.byKey.has(s.labels.join('\n'))) {
        throw new IdentityError('CORRUPT_STATE', `${file}: bad or repeated identity ${JSON.stringify(s)}`);
      }
      const slot: Slot = { identity: { id: s.id, labels: s.labels }, refs: 0, releasedAt: s.releasedAt ?? now };
      a.byNumber.set(s.id, slot);
      a.byKey.set(s.labels.join('\n'), slot);
    }
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
    if (id === undefined) throw new IdentityError('EXHAUSTED', `all identities ${this.min}-${this.max} are in use or in their grace period`);
    const slot: Slot = { identity: { id, labels }, refs: 1 };
    this.byNumber.set(id, slot);
    this.byKey.set(key, slot);
    this.save();
    return slot.identity;
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

  private freeNumber(): number | undefined {
    for (let id = this.min; id <= this.max; id++) if (!this.byNumber.has(id)) return id;
    return undefined;
  }

  private save(): void {
    const state: StateFile = {
      version: 1,
      identities: this.all().map((identity) => {
        const slot = this.byNumber.get(identity.id)!;
        return { id: identity.id, labels: [...identity.labels], ...(slot.releasedAt !== undefined ? { releasedAt: slot.releasedAt } : {}) };
      }),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1));
    renameSync(tmp, this.file);
  }
}
