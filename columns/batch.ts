// A FlowColumns batch checked and ready to read by column: what the relay judges, stores
// and rebuilds flows from. viewColumns (columns/view.ts) makes one from the wire message.
import type { Endpoint, ScionPath, Srv6Path } from '../proto/gen/flow/flow';
import type { ColumnKey } from './layout';

export interface ColumnBatch {
  readonly count: number;
  /** The string table with "" at index 0, so that a string column's value indexes it directly. */
  readonly strings: readonly string[];
  /** The endpoint table with undefined (no endpoint) at index 0, indexed like `strings`. */
  readonly endpoints: readonly (Endpoint | undefined)[];
  /** The path table as sent, with undefined (no path) at index 0. */
  readonly paths: readonly (ScionPath | undefined)[];
  /** The SRv6 path table as sent (evidence only, see evidenceOfSrv6), with undefined at index 0. */
  readonly srv6Paths: readonly (Srv6Path | undefined)[];
  /** A column's little-endian bytes, count x WIDTH[kind] long (zeros where the batch omitted it). */
  bytes(key: ColumnKey): Uint8Array;
  /** The column as numbers, by its kind's width (u8, u16, u32, string, endpoint, path, srv6path). */
  u8(key: ColumnKey): Uint8Array;
  u16(key: ColumnKey): Uint16Array;
  u32(key: ColumnKey): Uint32Array;
  u64(key: ColumnKey): BigUint64Array;
  i64(key: ColumnKey): BigInt64Array;
}
