// Rows of several Native blocks as one block in the flows table's key order (time,
// session_id, sequence, batch_index). The engine merging its parts' sorted streams copies
// every column row by row and costs several times reading them unordered; a page of a few
// thousand rows or more is read unordered and put in order here instead (query.ts).
import { NativeFormatError, type NativeBlock, type NativeColumn } from './native_reader';
import { col, halves } from './stored_flow';

/** Each row's sort key, flattened so that comparing rows reads only typed arrays and one string. */
interface Keys {
  /** time_s's high half as signed, low half, then time_ns. */
  secondsHigh: Int32Array;
  secondsLow: Uint32Array;
  nanos: Uint32Array;
  /** session_id's rank among the page's sessions in the engine's (bytewise) order. */
  session: Uint32Array;
  sequenceHigh: Uint32Array;
  sequenceLow: Uint32Array;
  index: Uint32Array;
}

function keysOf(blocks: readonly NativeBlock[], n: number): Keys {
  const k: Keys = {
    secondsHigh: new Int32Array(n),
    secondsLow: new Uint32Array(n),
    nanos: new Uint32Array(n),
    session: new Uint32Array(n),
    sequenceHigh: new Uint32Array(n),
    sequenceLow: new Uint32Array(n),
    index: new Uint32Array(n),
  };
  const rank = sessionRanks(blocks);
  let g = 0;
  for (const b of blocks) {
    const s = halves(b, 'time_s');
    const ns = col(b, 'time_ns');
    const session = col(b, 'session_id');
    const seq = halves(b, 'sequence');
    const idx = col(b, 'batch_index');
    if (ns.kind !== 'number' || idx.kind !== 'number' || session.kind !== 'dict') throw new NativeFormatError('page with key columns of the wrong type');
    for (let i = 0; i < b.rows; i++, g++) {
      k.secondsLow[g] = s[2 * i];
      k.secondsHigh[g] = s[2 * i + 1] | 0;
      k.nanos[g] = ns.values[i];
      k.session[g] = rank.get(session.dict[session.index[i]])!;
      k.sequenceLow[g] = seq[2 * i];
      k.sequenceHigh[g] = seq[2 * i + 1];
      k.index[g] = idx.values[i];
    }
  }
  return k;
}

/** Strings compare by their UTF-8 bytes in the engine, by UTF-16 units in JS: ranked the engine's way. */
function sessionRanks(blocks: readonly NativeBlock[]): Map<string, number> {
  const all = new Set<string>();
  for (const b of blocks) {
    const c = col(b, 'session_id');
    if (c.kind === 'dict') for (const v of c.dict) all.add(v);
  }
  const sorted = [...all].map((v) => ({ v, bytes: Buffer.from(v, 'utf8') })).sort((x, y) => Buffer.compare(x.bytes, y.bytes));
  return new Map(sorted.map((x, i) => [x.v, i]));
}

function compare(k: Keys, a: number, b: number): number {
  return k.secondsHigh[a] - k.secondsHigh[b] || k.secondsLow[a] - k.secondsLow[b] || k.nanos[a] - k.nanos[b]
    || k.session[a] - k.session[b]
    || k.sequenceHigh[a] - k.sequenceHigh[b] || k.sequenceLow[a] - k.sequenceLow[b] || k.index[a] - k.index[b];
}

/**
 * The first `keep` rows of `blocks` in key order (descending with `desc`), as one block.
 * Every block must have the same columns.
 */
export function sortedBlock(blocks: readonly NativeBlock[], desc: boolean, keep = Infinity): NativeBlock {
  const total = blocks.reduce((n, b) => n + b.rows, 0);
  const keys = keysOf(blocks, total);
  // Block order first: the engine's blocks are sorted runs, which the sort takes as they come.
  const order = Array.from({ length: total }, (_, g) => g);
  order.sort(desc ? (a, b) => compare(keys, b, a) : (a, b) => compare(keys, a, b));
  const n = Math.min(total, keep);
  const blockOf = new Uint32Array(total);
  const rowOf = new Uint32Array(total);
  let g = 0;
  blocks.forEach((b, k) => {
    for (let i = 0; i < b.rows; i++, g++) {
      blockOf[g] = k;
      rowOf[g] = i;
    }
  });
  const columns = new Map<string, NativeColumn>();
  for (const name of blocks[0].columns.keys()) {
    const parts = blocks.map((b) => col(b, name));
    columns.set(name, gather(parts, name, order, n, blockOf, rowOf));
  }
  return { rows: n, columns };
}

/** Row rowOf[j] of block blockOf[j] as row j of one block, for every j. Every block must have the same columns. */
export function pickedBlock(blocks: readonly NativeBlock[], blockOf: Uint32Array, rowOf: Uint32Array): NativeBlock {
  const n = blockOf.length;
  const order = Array.from({ length: n }, (_, j) => j);
  const columns = new Map<string, NativeColumn>();
  for (const name of blocks[0].columns.keys()) {
    const parts = blocks.map((b) => col(b, name));
    columns.set(name, gather(parts, name, order, n, blockOf, rowOf));
  }
  return { rows: n, columns };
}

function gather(parts: NativeColumn[], name: string, order: number[], n: number, blockOf: Uint32Array, rowOf: Uint32Array): NativeColumn {
  const first = parts[0];
  const same = <K extends NativeColumn['kind']>(kind: K) => {
    if (parts.some((p) => p.kind !== kind || (p.kind !== 'fixed' && p.kind !== 'dict' && p.values.constructor !== (first as { values: object }).values.constructor))) {
      throw new NativeFormatError(`column ${name} differs between blocks`);
    }
    return parts as Extract<NativeColumn, { kind: K }>[];
  };
  // Copies go through byte, 16-bit and 32-bit views, one loop for each: a loop that met every
  // typed array type would look each element up the slow way.
  switch (first.kind) {
    case 'number': {
      const ps = same('number');
      const width = first.values.BYTES_PER_ELEMENT;
      const out = new Uint8Array(n * width);
      copyRows(ps.map((p) => bytesOf(p.values)), out, width, order, n, blockOf, rowOf);
      return { kind: 'number', values: like(first.values, out.buffer, n) };
    }
    case 'bigint': {
      const ps = same('bigint');
      const out = new Uint8Array(n * 8);
      copyRows(ps.map((p) => bytesOf(p.values)), out, 8, order, n, blockOf, rowOf);
      return { kind: 'bigint', values: like(first.values, out.buffer, n) };
    }
    case 'nullable-bigint': {
      const ps = same('nullable-bigint');
      const nulls = new Uint8Array(n);
      const values = new Uint8Array(n * 8);
      copyRows(ps.map((p) => p.nulls), nulls, 1, order, n, blockOf, rowOf);
      copyRows(ps.map((p) => bytesOf(p.values)), values, 8, order, n, blockOf, rowOf);
      return { kind: 'nullable-bigint', nulls, values: like(first.values, values.buffer, n) };
    }
    case 'dict': {
      const ps = same('dict');
      // One dictionary for all: each block's entries after the ones before (repeats do no harm).
      const dict: string[] = [];
      const wide = ps.map((p) => {
        const w = widened(p.index, dict.length);
        dict.push(...p.dict);
        return w;
      });
      const index = new Uint32Array(n);
      for (let j = 0; j < n; j++) index[j] = wide[blockOf[order[j]]][rowOf[order[j]]];
      return { kind: 'dict', dict, index };
    }
    case 'fixed': {
      const ps = same('fixed');
      const bytes = new Uint8Array(n * first.width);
      copyRows(ps.map((p) => p.bytes), bytes, first.width, order, n, blockOf, rowOf);
      return { kind: 'fixed', width: first.width, bytes };
    }
  }
}

/** A typed array of `model`'s type over `buffer`. */
function like<T extends ArrayBufferView>(model: T, buffer: ArrayBufferLike, n: number): T {
  return new (model.constructor as new (b: ArrayBufferLike, o: number, l: number) => T)(buffer, 0, n);
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A LowCardinality index as 32-bit, plus `offset`. */
function widened(index: Uint8Array | Uint16Array | Uint32Array, offset: number): Uint32Array {
  const out = new Uint32Array(index.length);
  if (index instanceof Uint8Array) widen8(index, out, offset);
  else if (index instanceof Uint16Array) widen16(index, out, offset);
  else widen32(index, out, offset);
  return out;
}

function widen8(from: Uint8Array, to: Uint32Array, offset: number): void {
  for (let i = 0; i < from.length; i++) to[i] = from[i] + offset;
}

function widen16(from: Uint16Array, to: Uint32Array, offset: number): void {
  for (let i = 0; i < from.length; i++) to[i] = from[i] + offset;
}

function widen32(from: Uint32Array, to: Uint32Array, offset: number): void {
  for (let i = 0; i < from.length; i++) to[i] = from[i] + offset;
}

/** Row order[j] of the blocks' values of `width` bytes into row j of `to`. */
function copyRows(from: Uint8Array[], to: Uint8Array, width: number, order: number[], n: number, blockOf: Uint32Array, rowOf: Uint32Array): void {
  if (width === 1) {
    for (let j = 0; j < n; j++) to[j] = from[blockOf[order[j]]][rowOf[order[j]]];
    return;
  }
  if (width === 2 || width === 4 || width === 8) {
    // Whole 16- or 32-bit words where the width allows.
    const unit = width === 2 ? 2 : 4;
    const per = width / unit;
    if (unit === 2) {
      const src = from.map((b) => new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2));
      const dst = new Uint16Array(to.buffer, to.byteOffset, to.byteLength / 2);
      for (let j = 0; j < n; j++) dst[j] = src[blockOf[order[j]]][rowOf[order[j]]];
      return;
    }
    const src = from.map((b) => new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4));
    const dst = new Uint32Array(to.buffer, to.byteOffset, to.byteLength / 4);
    for (let j = 0; j < n; j++) {
      const s = src[blockOf[order[j]]];
      const r = rowOf[order[j]] * per;
      for (let k = 0; k < per; k++) dst[j * per + k] = s[r + k];
    }
    return;
  }
  for (let j = 0; j < n; j++) {
    const s = from[blockOf[order[j]]];
    const r = rowOf[order[j]] * width;
    for (let k = 0; k < width; k++) to[j * width + k] = s[r + k];
  }
}
