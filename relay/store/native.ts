// ClickHouse's Native format, one block: the store's insert body. Columns are whole arrays of
// little-endian values, so a fixed-width column of a received batch is copied as it arrived
// and the engine parses nothing per row. Layout (as chdb writes it for `FORMAT Native`):
//   block   = VarUInt columns, VarUInt rows, then per column: String name, String type, data
//   String  = VarUInt length, bytes
//   numbers = rows x width bytes, little-endian; Enum8/16 as Int8/16, DateTime as UInt32,
//             DateTime64 as Int64, UUID as two UInt64 (bytes 0..7 reversed, then 8..15 reversed;
//             the flows table stores the two as columns of their own, uuidHalfColumn)
//   Nullable(T) = rows x UInt8 (1 = NULL), then T's data for every row
//   Array(T)    = rows x UInt64 cumulative end offsets, then T's data for every element
//   LowCardinality(String) = UInt64 1 (keys with each block), UInt64 index width code
//             (0..3 for UInt8..UInt64) | 0x200 (keys follow) | 0x400 (new dictionary),
//             UInt64 key count, the keys as Strings ("" first), UInt64 rows, the indexes

/** One column's data and type, without its name; a block names it. */
export interface NativeColumn {
  readonly type: string;
  readonly rows: number;
  write(w: NativeWriter): void;
}

class NativeWriter {
  private buf: Buffer;
  private at = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Room for n more bytes, returning the buffer and the offset to write them at. */
  reserve(n: number): number {
    if (this.at + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
      this.buf.copy(next, 0, 0, this.at);
      this.buf = next;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  varUInt(n: number): void {
    const at = this.reserve(10);
    let i = at;
    while (n >= 0x80) {
      this.buf[i++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[i++] = n;
    this.at = i;
  }

  u64(n: number): void {
    const at = this.reserve(8);
    this.buf.writeUInt32LE(n >>> 0, at);
    this.buf.writeUInt32LE(Math.floor(n / 2 ** 32), at + 4);
  }

  string(s: string | Uint8Array): void {
    if (typeof s === 'string') {
      const len = Buffer.byteLength(s);
      this.varUInt(len);
      const at = this.reserve(len);
      if (len > 0) this.buf.write(s, at, len, 'utf8');
    } else {
      this.varUInt(s.length);
      this.bytes(s);
    }
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** A block of equally long columns, by name, in the target table's column order. */
export function nativeBlock(columns: ReadonlyArray<readonly [string, NativeColumn]>, capacity?: number): Buffer {
  const rows = columns.length === 0 ? 0 : columns[0][1].rows;
  const w = new NativeWriter(capacity);
  w.varUInt(columns.length);
  w.varUInt(rows);
  for (const [name, col] of columns) {
    if (col.rows !== rows) throw new Error(`column ${name} has ${col.rows} rows, the block ${rows}`);
    w.string(name);
    w.string(col.type);
    col.write(w);
  }
  return w.finish();
}

/**
 * A column of width-byte values copied from `bytes` (width bytes per row, little-endian),
 * all of them or the rows `keep` names.
 */
export function fixedColumn(type: string, width: number, bytes: Uint8Array, keep?: Uint32Array): NativeColumn {
  const all = bytes.length / width;
  return {
    type,
    rows: keep ? keep.length : all,
    write(w) {
      if (!keep) return w.bytes(bytes);
      const at = w.reserve(keep.length * width);
      gather(w.buffer, at, bytes, width, keep);
    },
  };
}

function gather(out: Uint8Array, at: number, src: Uint8Array, width: number, keep: Uint32Array): void {
  let o = at;
  for (let j = 0; j < keep.length; j++) {
    const s = keep[j] * width;
    for (let b = 0; b < width; b++) out[o++] = src[s + b];
  }
}

/**
 * One half of each uuid as UInt64: RFC 4122 byte order in (16 bytes a row), the big-endian
 * 64-bit number of bytes 0..7 (`half` 0) or 8..15 (`half` 1) out, little-endian.
 */
export function uuidHalfColumn(bytes: Uint8Array, half: 0 | 1, keep?: Uint32Array): NativeColumn {
  const rows = keep ? keep.length : bytes.length / 16;
  return {
    type: 'UInt64',
    rows,
    write(w) {
      const at = w.reserve(rows * 8);
      const o = w.buffer;
      for (let j = 0; j < rows; j++) {
        const s = (keep ? keep[j] : j) * 16 + half * 8;
        const d = at + j * 8;
        for (let b = 0; b < 8; b++) o[d + b] = bytes[s + 7 - b];
      }
    },
  };
}

const INT_WIDTH: Record<string, { width: 1 | 2 | 4 | 8; signed: boolean }> = {
  UInt8: { width: 1, signed: false },
  UInt16: { width: 2, signed: false },
  UInt32: { width: 4, signed: false },
  UInt64: { width: 8, signed: false },
  Int8: { width: 1, signed: true },
  Int16: { width: 2, signed: true },
  Int32: { width: 4, signed: true },
  Int64: { width: 8, signed: true },
};

function storageOf(type: string): { width: 1 | 2 | 4 | 8; signed: boolean } {
  if (type.startsWith('Enum8(')) return INT_WIDTH.Int8;
  if (type.startsWith('Enum16(')) return INT_WIDTH.Int16;
  if (type.startsWith('DateTime64(')) return INT_WIDTH.Int64;
  if (type === 'DateTime' || type.startsWith('DateTime(')) return INT_WIDTH.UInt32;
  const s = INT_WIDTH[type];
  if (!s) throw new Error(`${type} is not an integer type the Native writer knows`);
  return s;
}

function writeInt(b: Buffer, o: number, width: 1 | 2 | 4 | 8, signed: boolean, v: number | bigint): void {
  if (width === 8) {
    if (signed) b.writeBigInt64LE(BigInt(v), o);
    else b.writeBigUInt64LE(BigInt(v), o);
  } else if (signed) {
    b.writeIntLE(Number(v), o, width);
  } else {
    b.writeUIntLE(Number(v), o, width);
  }
}

/** Integers of an integer-stored type (UIntN, IntN, EnumN, DateTime, DateTime64) from numbers or bigints. */
export function intColumn(type: string, values: ArrayLike<number | bigint>): NativeColumn {
  const { width, signed } = storageOf(type);
  return {
    type,
    rows: values.length,
    write(w) {
      const at = w.reserve(values.length * width);
      for (let i = 0; i < values.length; i++) writeInt(w.buffer, at + i * width, width, signed, values[i]);
    },
  };
}

/** A column whose rows all hold one integer. */
export function constIntColumn(type: string, value: number | bigint, rows: number): NativeColumn {
  const { width, signed } = storageOf(type);
  const one = Buffer.alloc(width);
  writeInt(one, 0, width, signed, value);
  return {
    type,
    rows,
    write(w) {
      const at = w.reserve(rows * width);
      const b = w.buffer;
      for (let i = 0; i < rows; i++) b.set(one, at + i * width);
    },
  };
}

export function float64Column(values: ArrayLike<number>): NativeColumn {
  return {
    type: 'Float64',
    rows: values.length,
    write(w) {
      const at = w.reserve(values.length * 8);
      for (let i = 0; i < values.length; i++) w.buffer.writeDoubleLE(values[i], at + i * 8);
    },
  };
}

/** Text or bytes, each as String. */
export function stringColumn(values: ReadonlyArray<string | Uint8Array>): NativeColumn {
  return {
    type: 'String',
    rows: values.length,
    write(w) {
      for (const v of values) w.string(v);
    },
  };
}

/**
 * LowCardinality(String) from a dictionary and per-row indexes into it. keys[0] must be ""
 * (the engine's default value leads every dictionary) and the keys distinct.
 */
export function lowCardinalityColumn(keys: readonly string[], indexes: Uint8Array | Uint16Array | Uint32Array): NativeColumn {
  if (keys[0] !== '') throw new Error('a LowCardinality dictionary starts with ""');
  const code = keys.length <= 0x100 ? 0 : keys.length <= 0x10000 ? 1 : 2;
  const width = 1 << code;
  return {
    type: 'LowCardinality(String)',
    rows: indexes.length,
    write(w) {
      w.u64(1);
      w.u64(code | 0x200 | 0x400);
      w.u64(keys.length);
      for (const k of keys) w.string(k);
      w.u64(indexes.length);
      const at = w.reserve(indexes.length * width);
      const b = w.buffer;
      if (width === 1) for (let i = 0; i < indexes.length; i++) b[at + i] = indexes[i];
      else if (width === 2) for (let i = 0; i < indexes.length; i++) b.writeUInt16LE(indexes[i], at + 2 * i);
      else for (let i = 0; i < indexes.length; i++) b.writeUInt32LE(indexes[i], at + 4 * i);
    },
  };
}

/** Nullable(T): `isNull[i]` 1 where row i is NULL; `inner` holds a value (any) for every row. */
export function nullableColumn(isNull: Uint8Array, inner: NativeColumn): NativeColumn {
  if (isNull.length !== inner.rows) throw new Error('a Nullable column needs one null flag per row');
  return {
    type: `Nullable(${inner.type})`,
    rows: inner.rows,
    write(w) {
      w.bytes(isNull);
      inner.write(w);
    },
  };
}

/** Array(T): row i holds the next lengths[i] elements of `inner`. */
export function arrayColumn(lengths: ArrayLike<number>, inner: NativeColumn): NativeColumn {
  // Its dictionary header would go before the offsets: send Array(String) and let the insert cast.
  if (inner.type.startsWith('LowCardinality')) throw new Error('Array(LowCardinality(...)) is not written; send Array(String)');
  let total = 0;
  for (let i = 0; i < lengths.length; i++) total += lengths[i];
  if (total !== inner.rows) throw new Error(`an Array column's lengths add up to ${total}, its elements are ${inner.rows}`);
  return {
    type: `Array(${inner.type})`,
    rows: lengths.length,
    write(w) {
      let end = 0;
      for (let i = 0; i < lengths.length; i++) {
        end += lengths[i];
        w.u64(end);
      }
      inner.write(w);
    },
  };
}
