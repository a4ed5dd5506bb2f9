// The evidence file as export writes it: lines encoded straight into chunks of about 1 MiB,
// each line's Merkle leaf hashed from the chunk, the file hashed a chunk at a time, and
// full chunks handed to the sink with their leaves. Adding a line never waits; the caller
// drains when `ready` says a chunk is full, so its loop awaits once per chunk, not per line.
import { createHash } from 'node:crypto';
import type { EvidenceSink } from './export';
import { leafHashAt, MerkleAccumulator } from './merkle';

const CHUNK_BYTES = 1 << 20;
/** UTF-8 takes at most three bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;

export class EvidenceWriter {
  private readonly merkle = new MerkleAccumulator();
  private readonly fileHash = createHash('sha256');
  // Byte 0 of each buffer is not part of the chunk: the first line's leaf prefix is hashed in its place.
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 1;
  private leaves: Buffer[] = [];
  private readonly full: { chunk: Buffer; leaves: Buffer[] }[] = [];

  /** Chunks go to `sink` in order, each with its lines' Merkle leaf hashes. */
  constructor(private readonly sink: EvidenceSink) {}

  /** Lines added so far. */
  get lines(): number {
    return this.merkle.size;
  }

  /** Whether full chunks wait for drain(). */
  get ready(): boolean {
    return this.full.length > 0;
  }

  /** Appends `line` and its newline. */
  add(line: string): void {
    const room = line.length * MAX_BYTES_PER_UNIT + 1;
    if (this.buf.length - this.used < room) this.setAside(room);
    const start = this.used;
    const end = start + this.buf.write(line, start, 'utf8');
    const leaf = leafHashAt(this.buf, start, end);
    this.merkle.addLeafHash(leaf);
    this.leaves.push(leaf);
    this.buf[end] = 10;
    this.used = end + 1;
  }

  /** Hands the full chunks to the sink. */
  async drain(): Promise<void> {
    while (this.full.length > 0) {
      const { chunk, leaves } = this.full.shift() as { chunk: Buffer; leaves: Buffer[] };
      this.fileHash.update(chunk);
      await this.sink(chunk, leaves);
    }
  }

  /** Hands every line to the sink; gives the file's SHA-256 and Merkle root, in hex. */
  async end(): Promise<{ sha256: string; merkleRoot: string }> {
    this.setAside(0);
    await this.drain();
    return { sha256: this.fileHash.digest('hex'), merkleRoot: this.merkle.root().toString('hex') };
  }

  /** The chunk so far goes aside, and the next has room for at least `room` bytes. */
  private setAside(room: number): void {
    if (this.used > 1) this.full.push({ chunk: this.buf.subarray(1, this.used), leaves: this.leaves });
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room + 1));
    this.used = 1;
    this.leaves = [];
  }
}
