// ClickHouse's Native output format read by column: a result is a series of blocks, each
// with its columns one after the other, numbers as little-endian arrays and
// LowCardinality strings as a dictionary plus one index per row. Reading it this way
// costs one string per distinct value of a block instead of one per row, and a typed
// array per numeric column instead of a parsed value per row.
//
// Only the types the flow store selects are understood; anything else is an error, so a
// schema change shows up here and not as a wrong value.

export type NumberArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
export type BigArray = BigUint64Array | BigInt64Array;

export type NativeColumn =
  | { kind: 'number'; values: NumberArray }
  | { kind: 'bigint'; values: BigArray }
  /** Strings by index: value of row i is dict[index[i]]. */
  | { kind: 'dict'; dict: string[]; index: Uint8Array | Uint16Array | Uint32Array }
  /** Raw bytes of fixed-width values (UUID: 16 bytes a row, as the engine lays them out). */
  | { kind: 'fixed'; width: number; bytes: Uint8Array }
  /** Nullable numbers: nulls[i] is 1 where row i is NULL. */
  | { kind: 'nullable-bigint'; nulls: Uint8Array; values: BigArray };

export interface NativeBlock {
  rows: number;
  columns: Map<string, NativeColumn>;
}

export class NativeFormatError extends Error {
  readonly code = 'NATIVE_FORMAT';
}

type NumberCtor = { new (b: ArrayBuffer, off: number, len: number): NumberArray; BYTES_PER_ELEMENT: number };
type BigCtor = { new (b: ArrayBuffer, off: number, len: number): BigArray; BYTES_PER_ELEMENT: number };

const NUMBERS: Record<string, NumberCtor> = {
  UInt8: Uint8Array,
  Int8: Int8Array,
  UInt16: Uint16Array,
  Int16: Int16Array,
  UInt32: Uint32Array,
};
const BIGS: Record<string, BigCtor> = { UInt64: BigUint64Array, Int64: BigInt64Array };

/** LowCardinality index flags (SerializationLowCardinality): key width in the low byte. */
const HAS_ADDITIONAL_KEYS = 1 << 9;
const NEED_GLOBAL_DICTIONARY = 1 << 8;
const LC_KEY_TYPES = [Uint8Array, Uint16Array, Uint32Array] as const;

class Reader {
  off = 0;

  constructor(readonly buf: Buffer) {}

  varint(): number {
    let out = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.off >= this.buf.length) throw new NativeFormatError('Native result ends inside a number');
      const b = this.buf[this.off++];
      out += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return out;
      if (shift > 49) throw new NativeFormatError('Native result has an oversized length');
    }
  }

  u64(): number {
    const v = this.buf.readBigUInt64LE(this.take(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NativeFormatError('Native result has an oversized count');
    return Number(v);
  }

  take(n: number): number {
    const at = this.off;
    if (n < 0 || at + n > this.buf.length) throw new NativeFormatError('Native result is truncated');
    this.off += n;
    return at;
  }

  text(): string {
    const n = this.varint();
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }

  /** `count` values of `width` bytes in an aligned copy (the result's offsets are not aligned). */
  aligned(count: number, width: number): ArrayBuffer {
    const at = this.take(count * width);
    const out = new ArrayBuffer(count * width);
    new Uint8Array(out).set(this.buf.subarray(at, at + count * width));
    return out;
  }
}

/** Every block of a Native result, in order. */
export function readNative(buf: Buffer): NativeBlock[] {
  const r = new Reader(buf);
  const blocks: NativeBlock[] = [];
  while (r.off < buf.length) {
    const ncols = r.varint();
    const rows = r.varint();
    const columns = new Map<string, NativeColumn>();
    for (let c = 0; c < ncols; c++) {
      const name = r.text();
      const type = r.text();
      columns.set(name, readColumn(r, type, rows));
    }
    blocks.push({ rows, columns });
  }
  return blocks;
}

function readColumn(r: Reader, type: string, rows: number): NativeColumn {
  const num = NUMBERS[type];
  if (num) return { kind: 'number', values: new num(r.aligned(rows, num.BYTES_PER_ELEMENT), 0, rows) };
  const big = BIGS[type];
  if (big) return { kind: 'bigint', values: new big(r.aligned(rows, 8), 0, rows) };
  if (type.startsWith('Enum8(')) return { kind: 'number', values: new Int8Array(r.aligned(rows, 1), 0, rows) };
  if (type.startsWith('Enum16(')) return { kind: 'number', values: new Int16Array(r.aligned(rows, 2), 0, rows) };
  if (type === 'UUID') {
    // Copies, as every column here: no block keeps the whole result's buffer alive (row_cache.ts keeps blocks).
    return { kind: 'fixed', width: 16, bytes: new Uint8Array(r.aligned(rows, 16)) };
  }
  if (type === 'LowCardinality(String)') return readLowCardinality(r, rows);
  if (type === 'Nullable(UInt64)' || type === 'Nullable(Int64)') {
    const nulls = new Uint8Array(r.aligned(rows, 1));
    const ctor = type === 'Nullable(UInt64)' ? BigUint64Array : BigInt64Array;
    return { kind: 'nullable-bigint', nulls, values: new ctor(r.aligned(rows, 8), 0, rows) };
  }
  throw new NativeFormatError(`Native column type ${type} is not one the flow store reads`);
}

/** SerializationLowCardinality with its state prefix, as each Native block writes it. */
function readLowCardinality(r: Reader, rows: number): NativeColumn {
  const version = r.u64();
  if (version !== 1) throw new NativeFormatError(`LowCardinality keys version ${version} is not understood`);
  if (rows === 0) return { kind: 'dict', dict: [''], index: new Uint8Array(0) };
  const flags = r.u64();
  if ((flags & NEED_GLOBAL_DICTIONARY) !== 0 || (flags & HAS_ADDITIONAL_KEYS) === 0) {
    throw new NativeFormatError('LowCardinality column without its own dictionary');
  }
  const keyType = LC_KEY_TYPES[flags & 0xff];
  if (!keyType) throw new NativeFormatError(`LowCardinality key type ${flags & 0xff} is not understood`);
  const nkeys = r.u64();
  const dict = new Array<string>(nkeys);
  for (let k = 0; k < nkeys; k++) dict[k] = r.text();
  const n = r.u64();
  if (n !== rows) throw new NativeFormatError(`LowCardinality column of ${n} rows in a block of ${rows}`);
  const index = new keyType(r.aligned(rows, keyType.BYTES_PER_ELEMENT), 0, rows);
  for (let i = 0; i < rows; i++) if (index[i] >= nkeys) throw new NativeFormatError('LowCardinality index out of its dictionary');
  return { kind: 'dict', dict, index };
}
