// Stored rows a newest-first read already fetched, by their key in the flows table: a flow
// row never changes once stored (a batch is stored once, by its deduplication token, and
// no statement updates rows), so a read that has just asked the engine which rows match
// can take the columns of those it fetched before from here instead of reading the ~65
// columns of each again, which is most of what a repeated "last N" costs.
//
// The engine always decides which rows a page holds; the cache only stands in for their
// columns. Bounded by the bytes of the blocks it keeps (their strings counted as JS holds
// them), each of at most MAX_BLOCK_ROWS rows: a block leaves with all its rows, so no row
// keeps a large block alive alone.
import { LRUCache } from 'lru-cache';
import type { NativeBlock } from './native_reader';
import { cursorOf, texts } from './stored_flow';

/** Where a cached row is: row `row` of `block`. */
export interface CachedRow {
  block: NativeBlock;
  row: number;
}

/** Blocks larger than this are not kept. */
const MAX_BLOCK_ROWS = 4096;
/** Bytes of blocks kept: about 32 blocks of 4096 ordinary rows, fewer when rows carry long strings. */
const MAX_CACHE_BYTES = 48 * 1024 * 1024;

/**
 * A row's identity: its sort key and node (a batch is the node's session and sequence). The
 * session id, the only text a collector chooses, goes with its length, so no two identities
 * read the same; the others are numbers, and the node name comes last.
 */
export function rowKey(timeNs: string, sessionId: string, sequence: string, index: number, node: string): string {
  return `${timeNs}:${sessionId.length}:${sessionId}:${sequence}:${index}:${node}`;
}

/** What a block holds in memory: its arrays, and its strings at two bytes a character. */
export function blockBytes(block: NativeBlock): number {
  let n = 0;
  for (const c of block.columns.values()) {
    if (c.kind === 'dict') {
      n += c.index.byteLength;
      for (const s of c.dict) n += 2 * s.length + 16;
    } else if (c.kind === 'fixed') n += c.bytes.byteLength;
    else if (c.kind === 'nullable-bigint') n += c.nulls.byteLength + c.values.byteLength;
    else n += c.values.byteLength;
  }
  return n;
}

/** Each row's rowKey, in the block's order. */
export function rowKeys(block: NativeBlock): string[] {
  const node = texts(block, 'node_name');
  const keys = new Array<string>(block.rows);
  for (let i = 0; i < block.rows; i++) {
    const c = cursorOf(block, i);
    keys[i] = rowKey(c.timeNs, c.sessionId, c.sequence, c.index, node(i));
  }
  return keys;
}

export class RowCache {
  private readonly rows = new Map<string, CachedRow>();
  private readonly blocks: LRUCache<NativeBlock, string[]> | undefined;

  /** `maxBytes` 0 keeps nothing (the bench's uncached reader). */
  constructor(private readonly maxBytes = MAX_CACHE_BYTES) {
    this.blocks = maxBytes === 0 ? undefined : new LRUCache<NativeBlock, string[]>({
      maxSize: maxBytes,
      dispose: (keys, block) => {
        for (const k of keys) if (this.rows.get(k)?.block === block) this.rows.delete(k);
      },
    });
  }

  get(key: string): CachedRow | undefined {
    const hit = this.rows.get(key);
    if (hit) this.blocks?.get(hit.block);
    return hit;
  }

  /** Every row of `block` by its key (`keys`, from rowKeys); a key the block holds twice is kept for neither. */
  add(block: NativeBlock, keys: readonly string[]): void {
    // A block of long strings may not push out every other at once.
    if (!this.blocks || block.rows === 0 || block.rows > MAX_BLOCK_ROWS) return;
    const size = blockBytes(block);
    if (size > this.maxBytes / 8) return;
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const k of keys) {
      if (seen.has(k)) twice.add(k);
      seen.add(k);
    }
    const kept: string[] = [];
    keys.forEach((k, row) => {
      if (twice.has(k)) {
        this.rows.delete(k);
        return;
      }
      this.rows.set(k, { block, row });
      kept.push(k);
    });
    this.blocks.set(block, kept, { size });
  }
}
