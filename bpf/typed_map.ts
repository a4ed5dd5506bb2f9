// A BPF map seen through its key and value codecs (bpf/maps.ts), so callers read and
// write objects, never bytes.
import type { BpfMap } from './native';

export interface Codec<T> {
  encode(v: T): Buffer;
  decode(b: Uint8Array): T;
}

export class TypedMap<K, V> {
  constructor(
    readonly raw: BpfMap,
    private readonly key: Codec<K>,
    private readonly value: Codec<V>,
  ) {}

  /** The key and value codecs, for a map that wraps this one. */
  codecs(): [Codec<K>, Codec<V>] {
    return [this.key, this.value];
  }

  get(k: K): V | null {
    const v = this.raw.lookup(this.key.encode(k));
    return v === null ? null : this.value.decode(v);
  }

  set(k: K, v: V): void {
    this.raw.update(this.key.encode(k), this.value.encode(v));
  }

  delete(k: K): boolean {
    return this.raw.delete(this.key.encode(k));
  }

  /** Every entry, read in batches where the map type allows it. */
  entries(): Array<[K, V]> {
    return this.raw.dump().map(([k, v]) => [this.key.decode(k), this.value.decode(v)]);
  }

  setMany(entries: ReadonlyArray<readonly [K, V]>): void {
    if (entries.length === 0) return;
    this.raw.updateBatch(
      entries.map(([k]) => this.key.encode(k)),
      entries.map(([, v]) => this.value.encode(v)),
    );
  }

  deleteMany(keys: readonly K[]): number {
    return keys.length === 0 ? 0 : this.raw.deleteBatch(keys.map((k) => this.key.encode(k)));
  }
}
