// A FlowColumns batch from the wire checked once, then read by column (ColumnBatch). Every
// check is about shape, so that no later reader can index out of bounds: a count within
// the limit, each column empty or exactly count values long, every table index within its
// table, tables no longer than the flows could reference, and the few columns that encode
// a choice (is_reply, identity_authenticated, l4_protocol) within it. Field values (enum
// numbers, times) are the relay's to judge flow by flow.
import type { FlowColumns } from '../proto/gen/export/v1/export';
import type { Endpoint, ScionPath, Srv6Path } from '../proto/gen/flow/flow';
import { arrayOf, type ColumnArray } from './arrays';
import type { ColumnBatch } from './batch';
import { COLUMNS, L4, WIDTH, type ColumnKey, type ColumnKind } from './layout';

export interface ColumnLimits {
  /** Flows in one batch at most. */
  maxFlows: number;
}

/** A batch whose columns do not fit together; `column` names the first offending field. */
export class MalformedColumnsError extends Error {
  readonly code = 'MALFORMED_COLUMNS';
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
    this.name = 'MalformedColumnsError';
  }
}

const KIND = new Map<ColumnKey, ColumnKind>(COLUMNS.map((c) => [c.key, c.kind]));
const STRING_COLUMNS = COLUMNS.filter((c) => c.kind === 'string').length;
/** Columns whose values name one of a few cases, with the largest case. */
const CHOICES: ReadonlyArray<[ColumnKey, number]> = [
  ['isReply', 2],
  ['identityAuthenticated', 1],
  ['l4Protocol', L4.SCTP],
];

export function viewColumns(c: FlowColumns, limits: ColumnLimits): ColumnBatch {
  const count = c.count;
  if (!Number.isSafeInteger(count) || count < 0) throw new MalformedColumnsError('count', `column count ${count} is no whole number`);
  if (count > limits.maxFlows) throw new MalformedColumnsError('count', `batch of ${count} flows in columns; at most ${limits.maxFlows} per batch`);
  for (const { key, kind } of COLUMNS) {
    const len = c[key].length;
    if (len !== 0 && len !== count * WIDTH[kind]) {
      throw new MalformedColumnsError(key, `column ${key} has ${len} bytes; ${count} flows of ${WIDTH[kind]} bytes take ${count * WIDTH[kind]} (or 0 for all zeros)`);
    }
  }
  const tables: Record<'string' | 'endpoint' | 'path' | 'srv6path', [string, number, number]> = {
    string: ['strings', c.strings.length, STRING_COLUMNS * count],
    endpoint: ['endpoints', c.endpoints.length, 2 * count],
    path: ['paths', c.paths.length, count],
    srv6path: ['srv6Paths', c.srv6Paths.length, count],
  };
  for (const [name, len, max] of Object.values(tables)) {
    if (len > max) throw new MalformedColumnsError(name, `table ${name} has ${len} entries; ${count} flows can reference at most ${max}`);
  }
  const view = new ColumnView(c);
  for (const { key, kind } of COLUMNS) {
    if (kind !== 'string' && kind !== 'endpoint' && kind !== 'path' && kind !== 'srv6path') continue;
    const [name, len] = tables[kind];
    const at = firstAbove(view.u32(key), len);
    if (at >= 0) throw new MalformedColumnsError(key, `column ${key} of flow ${at} references entry ${view.u32(key)[at]} of ${name}, which has ${len} (1-based; 0 for none)`);
  }
  for (const [key, max] of CHOICES) {
    const at = firstAbove(view.u8(key), max);
    if (at >= 0) throw new MalformedColumnsError(key, `column ${key} of flow ${at} is ${view.u8(key)[at]}; at most ${max}`);
  }
  return view;
}

function firstAbove(values: Uint8Array | Uint32Array, max: number): number {
  for (let i = 0; i < values.length; i++) if (values[i] > max) return i;
  return -1;
}

class ColumnView implements ColumnBatch {
  readonly count: number;
  readonly strings: readonly string[];
  readonly endpoints: readonly (Endpoint | undefined)[];
  readonly paths: readonly (ScionPath | undefined)[];
  readonly srv6Paths: readonly (Srv6Path | undefined)[];
  private readonly arrays = new Map<ColumnKey, ColumnArray>();
  private zeros: ArrayBuffer | undefined;
  /** Omitted columns read as bytes, each with zeros of its own. */
  private readonly owned = new Map<ColumnKey, Uint8Array>();

  constructor(private readonly c: FlowColumns) {
    this.count = c.count;
    this.strings = ['', ...c.strings];
    this.endpoints = [undefined, ...c.endpoints];
    this.paths = [undefined, ...c.paths];
    this.srv6Paths = [undefined, ...c.srv6Paths];
  }

  bytes(key: ColumnKey): Uint8Array {
    const b = this.c[key];
    if (b.length > 0) return b;
    // Bytes may be written in place (the relay fills missing uuids), so an omitted column
    // read as bytes gets zeros of its own: in the shared ones it would show in every other
    // omitted column.
    let own = this.owned.get(key);
    if (!own) {
      own = new Uint8Array(this.count * WIDTH[kindOf(key)]);
      this.owned.set(key, own);
      this.arrays.delete(key);
    }
    return own;
  }

  u8(key: ColumnKey): Uint8Array {
    return this.array(key, 'u8') as Uint8Array;
  }

  u16(key: ColumnKey): Uint16Array {
    return this.array(key, 'u16') as Uint16Array;
  }

  u32(key: ColumnKey): Uint32Array {
    return this.array(key, 'u32') as Uint32Array;
  }

  u64(key: ColumnKey): BigUint64Array {
    return this.array(key, 'u64') as BigUint64Array;
  }

  i64(key: ColumnKey): BigInt64Array {
    return this.array(key, 'i64') as BigInt64Array;
  }

  /** The column as `as`, whose width must be the column's; a copy when its bytes sit at an offset the type cannot start at. */
  private array(key: ColumnKey, as: ColumnKind): ColumnArray {
    let a = this.arrays.get(key);
    if (a) return a;
    const kind = kindOf(key);
    const size = WIDTH[as];
    if (size !== WIDTH[kind] && !(kind === 'uuid' && as === 'u8')) throw new TypeError(`column ${key} is ${kind}, not readable as ${as}`);
    const n = (this.count * WIDTH[kind]) / size;
    const b = this.c[key].length > 0 ? this.c[key] : this.owned.get(key);
    if (b === undefined) {
      a = arrayOf(as, this.zeroBuffer(), 0, n);
    } else {
      const aligned = b.byteOffset % size === 0 ? b : new Uint8Array(b);
      a = arrayOf(as, aligned.buffer, aligned.byteOffset, n);
    }
    this.arrays.set(key, a);
    return a;
  }

  /** Shared by every omitted column read as numbers: zeros for the widest kind, never written. */
  private zeroBuffer(): ArrayBuffer {
    this.zeros ??= new ArrayBuffer(this.count * 16);
    return this.zeros;
  }
}

function kindOf(key: ColumnKey): ColumnKind {
  const k = KIND.get(key);
  if (!k) throw new TypeError(`no column ${String(key)}`);
  return k;
}
