// Typed arrays over column bytes. Columns are little-endian on the wire and typed arrays use
// the host's byte order, so the codec runs on little-endian hosts only (x86, arm64 as Linux
// runs them) and says so at once elsewhere rather than mixing up every number.
import { type ColumnKind } from './layout';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('columns: the column codec needs a little-endian host');

export type ColumnArray = Uint8Array | Uint16Array | Uint32Array | BigUint64Array | BigInt64Array;

/** A typed array of `count` values of `kind` over `bytes` (byte offset a multiple of the element size). */
export function arrayOf(kind: ColumnKind, buffer: ArrayBufferLike, byteOffset: number, count: number): ColumnArray {
  switch (kind) {
    case 'u8':
      return new Uint8Array(buffer, byteOffset, count);
    case 'uuid':
      return new Uint8Array(buffer, byteOffset, count * 16);
    case 'u16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'u32':
    case 'string':
    case 'endpoint':
    case 'path':
    case 'srv6path':
      return new Uint32Array(buffer, byteOffset, count);
    case 'u64':
      return new BigUint64Array(buffer, byteOffset, count);
    case 'i64':
      return new BigInt64Array(buffer, byteOffset, count);
  }
}
