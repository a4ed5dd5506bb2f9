// Merkle tree hash of RFC 6962 / RFC 9162 (section 2.1) over SHA-256: a leaf is
// SHA-256(0x00 || bytes), an inner node SHA-256(0x01 || left || right), and a tree of n > 1
// leaves splits at the largest power of two below n. The empty tree's hash is SHA-256("").
// The prefixes keep a leaf from posing as an inner node, and the split fixes one tree per n
// (no duplicated last leaf as in Bitcoin's tree), so adding, removing or reordering a leaf
// always changes the root.
import { createHash, hash } from 'node:crypto';

const LEAF = Buffer.from([0]);
/** 0x01 || left || right, filled in place: one hashing call per node, not a Hash object and three updates. */
const PAIR = Buffer.alloc(65, 1);

export function leafHash(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(bytes).digest();
}

/**
 * leafHash(buf[start, end)) for a line inside a larger buffer, in one hashing call: the byte
 * before the line (start >= 1; a newline, in an evidence file) stands in for the leaf
 * prefix while it is hashed, and is put back.
 */
export function leafHashAt(buf: Buffer, start: number, end: number): Buffer {
  if (start < 1 || end > buf.length || end < start) throw new RangeError('a line hashed in place needs a byte before it');
  const before = buf[start - 1];
  buf[start - 1] = 0;
  try {
    return hash('sha256', buf.subarray(start - 1, end), 'buffer');
  } finally {
    buf[start - 1] = before;
  }
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('a Merkle node joins two 32-byte hashes');
  PAIR.set(left, 1);
  PAIR.set(right, 33);
  return hash('sha256', PAIR, 'buffer');
}

/**
 * Root over leaves given one at a time, in O(log n) memory: it keeps the roots of the
 * perfect subtrees so far (sizes strictly decreasing, as the binary digits of n), merging
 * equal neighbours; folding them right to left at the end is exactly the RFC's split.
 */
export class MerkleAccumulator {
  private readonly stack: { hash: Buffer; size: number }[] = [];
  private n = 0;

  addLeaf(bytes: Uint8Array): void {
    this.addLeafHash(leafHash(bytes));
  }

  addLeafHash(hash: Buffer): void {
    this.addSubtree(hash, 1);
  }

  /**
   * The root of a perfect subtree of `size` leaves (a power of two) that comes next; the
   * leaves so far must be a multiple of its size, as MerkleRun's subtrees are. The same as
   * adding its leaves one by one.
   */
  addSubtree(hash: Buffer, size: number): void {
    if (!(size >= 1 && (size & (size - 1)) === 0 && this.n % size === 0)) throw new RangeError(`a subtree of ${size} leaves cannot follow ${this.n} leaves`);
    let top = { hash, size };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].size === top.size) {
      const left = this.stack.pop() as { hash: Buffer; size: number };
      top = { hash: nodeHash(left.hash, top.hash), size: left.size * 2 };
    }
    this.stack.push(top);
    this.n += size;
  }

  get size(): number {
    return this.n;
  }

  root(): Buffer {
    if (this.stack.length === 0) return createHash('sha256').digest();
    let acc = this.stack[this.stack.length - 1].hash;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHash(this.stack[i].hash, acc);
    return acc;
  }
}

/** A perfect subtree: its root and its number of leaves. */
export interface Subtree {
  hash: Buffer;
  size: number;
}

/**
 * The hashes of a run of consecutive leaves that starts at leaf `first`, folded into
 * perfect subtrees each aligned to its size (it starts at a multiple of it), so a
 * MerkleAccumulator holding the leaves before the run takes them with addSubtree. Runs
 * hashed apart (in worker threads) join into the tree of the whole.
 */
export class MerkleRun {
  private readonly stack: (Subtree & { start: number })[] = [];
  private next: number;

  constructor(first: number) {
    this.next = first;
  }

  addLeafHash(hash: Buffer): void {
    let top = { hash, size: 1, start: this.next++ };
    for (let left = this.stack[this.stack.length - 1]; left?.size === top.size && left.start % (2 * top.size) === 0; left = this.stack[this.stack.length - 1]) {
      this.stack.pop();
      top = { hash: nodeHash(left.hash, top.hash), size: 2 * top.size, start: left.start };
    }
    this.stack.push(top);
  }

  /** The run's subtrees, in leaf order. */
  subtrees(): Subtree[] {
    return this.stack.map(({ hash, size }) => ({ hash, size }));
  }
}

export function merkleRoot(leaves: Iterable<Uint8Array>): Buffer {
  const acc = new MerkleAccumulator();
  for (const l of leaves) acc.addLeaf(l);
  return acc.root();
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeHash(hashes: readonly Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return hashes[lo];
  const k = largestPowerOfTwoBelow(hi - lo);
  return nodeHash(subtreeHash(hashes, lo, lo + k), subtreeHash(hashes, lo + k, hi));
}

/** The audit path of leaf `index` (RFC 6962 2.1.1 PATH), nearest sibling first. */
export function inclusionProof(leafHashes: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new RangeError(`leaf ${index} is outside a tree of ${leafHashes.length}`);
  }
  const path: Buffer[] = [];
  let lo = 0;
  let hi = leafHashes.length;
  // Walk down from the root, collecting each sibling subtree; reversed at the end.
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      path.push(subtreeHash(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(subtreeHash(leafHashes, lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 2.1.3.2: whether `proof` shows the leaf with `hash` at `index` in a tree of `size` with `root`. */
export function verifyInclusion(hash: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = hash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}
