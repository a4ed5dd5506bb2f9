// Big-endian field access for the codecs. Decoders check bounds once per header and then
// read at absolute offsets through one DataView; the encoder writes into a buffer sized
// up front. Range checks on values live here so every encoder rejects the same way.
import { ScionError } from './errors';

export class Reader {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly length: number;

  /** @param share hand out views into `bytes` instead of copies (see DecodeOptions.share) */
  constructor(bytes: Uint8Array, private readonly share = false) {
    // A Buffer's slice() shares memory and its prototype differs; always work on a plain view.
    this.bytes =
      Object.getPrototypeOf(bytes) === Uint8Array.prototype
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.length = this.bytes.length;
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    return this.view.getUint16(at);
  }

  u32(at: number): number {
    return this.view.getUint32(at);
  }

  u48(at: number): number {
    return this.view.getUint16(at) * 0x1_0000_0000 + this.view.getUint32(at + 2);
  }

  u64(at: number): bigint {
    return this.view.getBigUint64(at);
  }

  /** A copy, so decoded packets never alias a buffer the caller may reuse, unless sharing was asked for. */
  copy(at: number, length: number): Uint8Array {
    if (this.share) return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + at, length);
    const out = new Uint8Array(length);
    // slice() and subarray() go through the species lookup, which dominates for short fields.
    if (length <= 32) {
      for (let i = 0; i < length; i++) out[i] = this.bytes[at + i]!;
    } else {
      out.set(new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + at, length));
    }
    return out;
  }
}

export class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  u48(v: number): void {
    this.view.setUint16(this.pos, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.pos + 2, v % 0x1_0000_0000);
    this.pos += 6;
  }

  u64(v: bigint): void {
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  put(b: Uint8Array): void {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  zeros(n: number): void {
    this.pos += n;
  }
}

/** Rejects anything but an integer in [0, max]; DataView would silently wrap or write 0. */
export function checkUint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new ScionError('BAD_ARGUMENT', `${what} must be an integer in 0..${max}, got ${String(v)}`);
  }
  return v;
}

const U64_MAX = (1n << 64n) - 1n;

export function checkU64(v: unknown, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new ScionError('BAD_ARGUMENT', `${what} must be a bigint in 0..2^64-1, got ${String(v)}`);
  }
  return v;
}

export function checkBytes(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) {
    const want = length === undefined ? 'a Uint8Array' : `${length} bytes`;
    throw new ScionError('BAD_ARGUMENT', `${what} must be ${want}`);
  }
  return v;
}

export function checkObject(v: unknown, what: string): void {
  if (typeof v !== 'object' || v === null) throw new ScionError('BAD_ARGUMENT', `${what} must be an object`);
}

export function checkBool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new ScionError('BAD_ARGUMENT', `${what} must be a boolean`);
  return v;
}
