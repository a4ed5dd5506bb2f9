// Stored rows a newest-first read already fetched, by their key in the flows table: a flow
// row never changes once stored (a batch is stored once, by its deduplication token, and
// no statement updates rows), so a read that has just asked the engine which rows match
// can take the columns of those it fetched before from here instead of reading the ~65
// columns of each again, which is most of what a repeated "last N" costs.
//
// The engine always decides which rows a page holds; the cache only stands in for their
// columns. Bounded by blocks, each of at most MAX_BLOCK_ROWS rows: a block leaves with all
// its rows, so no row keeps a large block alive alone.
import { LRUCache } from 'lru-cache';
import type { NativeBlock } from './native_reader';
import { cursorOf, texts } from './stored_flow';

/** Where a cached row is: row `row` of `block`. */
export interface CachedRow {
  block: NativeBlock;
  row: number;
}

/** Blocks larger than this are not kept. */
export const MAX_BLOCK_ROWS = 4096;
/** Blocks kept: at most 32 x 4096 rows of a page's columns (about 40 MB). */
const MAX_BLOCKS = 32;

/** A row's identity: its sort key and node (a batch is the node's session and sequence). */
export function rowKey(timeNs: string, sessionId: string, sequence: string, index: number, node: string): string {
  return `${timeNs}\u0000${sessionId}\u0000${sequence}\u0000${index}\u0000${node}`;
}

export class RowCache {
  private readonly rows = new Map<string, CachedRow>();
  private readonly blocks: LRUCache<NativeBlock, string[]> | undefined;

  constructor(maxBlocks = MAX_BLOCKS) {
    this.blocks = maxBlocks === 0 ? undefined : new LRUCache<NativeBlock, string[]>({
      max: maxBlocks,
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

  /** Every row of `block` by its key; a key the block holds twice is kept for neither. */
  add(block: NativeBlock): void {
    if (!this.blocks || block.rows === 0 || block.rows > MAX_BLOCK_ROWS) return;
    const node = texts(block, 'node_name');
    const keys: string[] = [];
    const twice = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < block.rows; i++) {
      const c = cursorOf(block, i);
      const k = rowKey(c.timeNs, c.sessionId, c.sequence, c.index, node(i));
      if (seen.has(k)) twice.add(k);
      seen.add(k);
      keys.push(k);
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
    this.blocks.set(block, kept);
  }
}
