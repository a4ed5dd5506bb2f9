// A small protobuf writer for messages written many at a time: each one goes into a large
// reused chunk and comes out as a view of it, so a page of flows costs a few allocations
// instead of several per flow (ts-proto's writer allocates per message and per field).
// The caller says beforehand how many bytes a message may take at most (`begin`). With a
// chunk size of 0 each message gets a buffer of its own, of just its most bytes.
//
// A nested message's length comes before its bytes but is known only after them: `open`
// leaves one byte for it and `close` moves the bytes along when the length needs more.
import { varintBytes } from './size';

/** Where a new chunk starts, and the least a chunk holds. */
const CHUNK_BYTES = 1 << 20;

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  private start = 0;

  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Starts a message of at most `maxBytes`. */
  begin(maxBytes: number): void {
    if (this.buf.length - this.pos < maxBytes) {
      // The views handed out keep the old chunk alive as long as they need it.
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, maxBytes));
      this.pos = 0;
    }
    this.start = this.pos;
  }

  /** The message written since `begin`, as a view of the chunk. */
  end(): Buffer {
    return this.buf.subarray(this.start, this.pos);
  }

  /** An unsigned number below 2^53. */
  varint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7fffffff) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 127) {
      b[p++] = (v & 127) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** An int32 field's value: negative ones take ten bytes, as 64-bit two's complement. */
  int32(v: number): void {
    if (v >= 0) this.varint(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  /** A 64-bit value from its low and high 32 bits (two's complement for signed ones). */
  varint64(lo: number, hi: number): void {
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo > 127) {
      b[p++] = (lo & 127) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** Bytes as they are (a field already encoded, tag included). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n < 32) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i];
      this.pos = p;
      return;
    }
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  /** A length-delimited field holding `bytes`. */
  field(tag: number, bytes: Uint8Array): void {
    this.varint(tag);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** Starts a nested message after its tag; give what it returns to `close`. */
  open(tag: number): number {
    this.varint(tag);
    return this.pos++;
  }

  close(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    const extra = varintBytes(len) - 1;
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    const p = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = p;
  }

  /** A length-delimited field of `n` (< 128) bytes that `fill` writes into the chunk at the offset it is given. */
  filled(tag: number, n: number, fill: (b: Buffer, at: number) => void): void {
    this.varint(tag);
    this.buf[this.pos++] = n;
    fill(this.buf, this.pos);
    this.pos += n;
  }
}

function varintArray(v: number): number[] {
  const out: number[] = [];
  while (v > 127) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A field's tag (number and wire type) as its varint. */
export function tag(field: number, wireType: 0 | 2): number {
  return field * 8 + wireType;
}

/** A string field as its bytes (tag, length, UTF-8), or none for "" (proto3 leaves defaults out). */
export function stringField(field: number, value: string): Uint8Array {
  if (value === '') return EMPTY;
  return lengthDelimited(field, Buffer.from(value, 'utf8'));
}

/** A length-delimited field (a string's UTF-8, a message's encoding) as its bytes, tag and length included. */
export function lengthDelimited(field: number, bytes: Uint8Array): Uint8Array {
  const head = [...varintArray(tag(field, 2)), ...varintArray(bytes.length)];
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

const EMPTY = new Uint8Array(0);
