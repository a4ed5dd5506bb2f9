// The proof index beside an evidence file (flows.tree): the stored levels of the evidence's
// RFC 6962 Merkle tree, so one flow's audit path reads O(log n) hashes instead of hashing
// the whole file again. It stores every perfect subtree of 2^BLOCK_SHIFT leaves and up (a
// block of 16 lines and every aligned run of blocks), in the order they complete (post-
// order, so the file is written as the evidence streams through), then where each block of
// lines starts in the evidence, then a fixed trailer. The levels under a block are rebuilt
// from that block's ≤16 lines. Its size is about 4.5 bytes a flow.
//
// The index is a cache, not evidence: nothing in it is trusted. A proof built from it is
// checked against the Merkle root in the signed statement before anyone sees it.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { leafHash, nodeHash, verifyInclusion } from './merkle';

export const TREE_INDEX_NAME = 'flows.tree';

const MAGIC = Buffer.from('CILTREE1', 'latin1');
/** Leaves per block: 2^BLOCK_SHIFT. */
const BLOCK_SHIFT = 4;
const BLOCK = 1 << BLOCK_SHIFT;
const HASH = 32;
// magic, block shift (u32), reserved (u32), leaves, evidence bytes, stored nodes (u64 each), root
const TRAILER = 8 + 4 + 4 + 8 + 8 + 8 + HASH;

export class TreeIndexError extends Error {}

function popcount(x: number): number {
  let c = 0;
  for (; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** Nodes of the stored levels once `blocks` whole blocks are in: 2m - popcount(m). */
function storedNodes(blocks: number): number {
  return 2 * blocks - popcount(blocks);
}

/** Where the perfect subtree of 2^level leaves numbered `j` on its level sits, in nodes from the start. */
function nodePosition(level: number, j: number): number {
  const m = (j + 1) * 2 ** (level - BLOCK_SHIFT);
  return storedNodes(m - 1) + (level - BLOCK_SHIFT);
}

function subtreeOf(hashes: readonly Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return hashes[lo];
  let k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return nodeHash(subtreeOf(hashes, lo, lo + k), subtreeOf(hashes, lo + k, hi));
}

/**
 * Builds the index from the leaves in order, writing the stored levels as they complete.
 * `write` receives bytes in file order; awaiting it gives backpressure.
 */
export class TreeIndexBuilder {
  private readonly stack: { hash: Buffer; level: number }[] = [];
  private block: Buffer[] = [];
  private readonly offsets: number[] = [];
  private out: Buffer[] = [];
  private n = 0;
  private nodes = 0;

  constructor(private readonly write: (bytes: Buffer) => Promise<void>) {}

  /** The next leaf: its hash and where its line starts in the evidence. */
  async add(hash: Buffer, offset: number): Promise<void> {
    if (this.block.length === 0) this.offsets.push(offset);
    this.block.push(hash);
    this.n++;
    if (this.block.length < BLOCK) return;
    let top = { hash: subtreeOf(this.block, 0, BLOCK), level: BLOCK_SHIFT };
    this.block = [];
    this.emit(top.hash);
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].level === top.level) {
      const left = this.stack.pop() as { hash: Buffer; level: number };
      top = { hash: nodeHash(left.hash, top.hash), level: top.level + 1 };
      this.emit(top.hash);
    }
    this.stack.push(top);
    if (this.out.length >= 1024) await this.flush();
  }

  private emit(h: Buffer): void {
    this.out.push(h);
    this.nodes++;
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const b = Buffer.concat(this.out);
    this.out = [];
    await this.write(b);
  }

  get size(): number {
    return this.n;
  }

  /** The tree's root (RFC 6962; SHA-256 of nothing for no leaves). */
  root(): Buffer {
    let acc: Buffer | undefined = this.block.length > 0 ? subtreeOf(this.block, 0, this.block.length) : undefined;
    for (let i = this.stack.length - 1; i >= 0; i--) acc = acc ? nodeHash(this.stack[i].hash, acc) : this.stack[i].hash;
    return acc ?? emptyTreeHash();
  }

  /** Writes the block offsets and the trailer; the evidence was `evidenceBytes` long. */
  async finish(evidenceBytes: number): Promise<Buffer> {
    await this.flush();
    const offsets = Buffer.alloc(this.offsets.length * 8);
    this.offsets.forEach((o, i) => offsets.writeBigUInt64LE(BigInt(o), i * 8));
    const root = this.root();
    const t = Buffer.alloc(TRAILER);
    MAGIC.copy(t, 0);
    t.writeUInt32LE(BLOCK_SHIFT, 8);
    t.writeBigUInt64LE(BigInt(this.n), 16);
    t.writeBigUInt64LE(BigInt(evidenceBytes), 24);
    t.writeBigUInt64LE(BigInt(this.nodes), 32);
    root.copy(t, 40);
    await this.write(Buffer.concat([offsets, t]));
    return root;
  }
}

/** The empty tree's hash is SHA-256 of the empty string (RFC 6962 2.1). */
function emptyTreeHash(): Buffer {
  return createHash('sha256').digest();
}

export interface IndexedProof {
  index: number;
  size: number;
  /** The flow's evidence line, without its newline. */
  line: Buffer;
  leafHash: Buffer;
  /** Sibling hashes, nearest first (RFC 9162 2.1.3.1). */
  proof: Buffer[];
  root: Buffer;
}

async function readAt(fh: FileHandle, position: number, length: number, what: string): Promise<Buffer> {
  const b = Buffer.alloc(length);
  const { bytesRead } = await fh.read(b, 0, length, position);
  if (bytesRead !== length) throw new TreeIndexError(`${what}: short read at ${position}`);
  return b;
}

/**
 * Flow `index`'s audit path from the index at `indexPath` over the evidence at
 * `evidencePath`. Throws RangeError for an index outside the tree and TreeIndexError when
 * the index does not describe this evidence (wrong size, or a path that does not lead to
 * the index's own root).
 */
export async function proveFromIndex(indexPath: string, evidencePath: string, index: number): Promise<IndexedProof> {
  const idx = await open(indexPath, 'r');
  const ev = await open(evidencePath, 'r').catch(async (e: unknown) => {
    await idx.close();
    throw e;
  });
  try {
    const indexBytes = (await idx.stat()).size;
    if (indexBytes < TRAILER) throw new TreeIndexError(`${indexPath} is not a proof index (too short)`);
    const t = await readAt(idx, indexBytes - TRAILER, TRAILER, indexPath);
    if (!t.subarray(0, 8).equals(MAGIC) || t.readUInt32LE(8) !== BLOCK_SHIFT) throw new TreeIndexError(`${indexPath} is not a proof index of this version`);
    const n = Number(t.readBigUInt64LE(16));
    const evidenceBytes = Number(t.readBigUInt64LE(24));
    const nodes = Number(t.readBigUInt64LE(32));
    const root = Buffer.from(t.subarray(40, 40 + HASH));
    const blocks = Math.ceil(n / BLOCK);
    if (nodes !== storedNodes(Math.floor(n / BLOCK)) || indexBytes !== nodes * HASH + blocks * 8 + TRAILER) {
      throw new TreeIndexError(`${indexPath} is inconsistent: ${indexBytes} bytes for ${n} leaves`);
    }
    const evidenceSize = (await ev.stat()).size;
    if (evidenceSize !== evidenceBytes) throw new TreeIndexError(`${indexPath} describes ${evidenceBytes} bytes of evidence, ${evidencePath} has ${evidenceSize}`);
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`flow ${index} is outside the evidence's ${n} flows`);

    const offsetsAt = nodes * HASH;
    const blockCache = new Map<number, Buffer[]>();
    const blockLines = async (b: number): Promise<Buffer[]> => {
      const cached = blockCache.get(b);
      if (cached) return cached;
      const start = Number((await readAt(idx, offsetsAt + b * 8, 8, indexPath)).readBigUInt64LE(0));
      const end = b + 1 < blocks ? Number((await readAt(idx, offsetsAt + (b + 1) * 8, 8, indexPath)).readBigUInt64LE(0)) : evidenceBytes;
      if (!(start <= end && end <= evidenceBytes)) throw new TreeIndexError(`${indexPath}: block ${b} has impossible offsets`);
      const data = await readAt(ev, start, end - start, evidencePath);
      const lines: Buffer[] = [];
      let from = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, from)) {
        lines.push(data.subarray(from, nl));
        from = nl + 1;
      }
      if (from < data.length) lines.push(data.subarray(from));
      const want = Math.min(BLOCK, n - b * BLOCK);
      if (lines.length !== want) throw new TreeIndexError(`${indexPath}: block ${b} holds ${lines.length} lines, expected ${want}`);
      blockCache.set(b, lines);
      return lines;
    };
    // A proof may need several subtrees of one block: its leaves are hashed once.
    const leafCache = new Map<number, Buffer[]>();
    const leaves = async (b: number): Promise<Buffer[]> => {
      let hs = leafCache.get(b);
      if (!hs) leafCache.set(b, (hs = (await blockLines(b)).map((l) => leafHash(l))));
      return hs;
    };

    // Hash of the perfect subtree of 2^level leaves starting at leaf `lo`.
    const perfect = async (level: number, lo: number): Promise<Buffer> => {
      if (level >= BLOCK_SHIFT) return readAt(idx, nodePosition(level, lo / 2 ** level) * HASH, HASH, indexPath);
      const b = Math.floor(lo / BLOCK);
      const hs = await leaves(b);
      const first = lo - b * BLOCK;
      return subtreeOf(hs, first, first + 2 ** level);
    };
    // Any subtree [lo, hi) of the RFC split: perfect pieces, largest first.
    const range = async (lo: number, hi: number): Promise<Buffer> => {
      let k = 1;
      let level = 0;
      while (k * 2 <= hi - lo) {
        k *= 2;
        level++;
      }
      if (k === hi - lo) return perfect(level, lo);
      return nodeHash(await perfect(level, lo), await range(lo + k, hi));
    };

    const path: Buffer[] = [];
    let lo = 0;
    let hi = n;
    while (hi - lo > 1) {
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      if (index < lo + k) {
        path.push(await range(lo + k, hi));
        hi = lo + k;
      } else {
        path.push(await range(lo, lo + k));
        lo += k;
      }
    }
    path.reverse();
    const b = Math.floor(index / BLOCK);
    const line = Buffer.from((await blockLines(b))[index - b * BLOCK]);
    const leaf = leafHash(line);
    if (!verifyInclusion(leaf, index, n, path, root)) throw new TreeIndexError(`${indexPath} does not match ${evidencePath}: the path of flow ${index} does not lead to the index's root`);
    return { index, size: n, line, leafHash: leaf, proof: path, root };
  } finally {
    await ev.close();
    await idx.close();
  }
}
