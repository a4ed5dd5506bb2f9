// The row cache keeps blocks by their bytes, strings counted, and names rows so that no
// text a collector chooses can make one row stand for another.
import assert from 'node:assert/strict';
import type { NativeBlock, NativeColumn } from '../../../../relay/store/native_reader';
import { blockBytes, RowCache, rowKey, rowKeys } from '../../../../relay/store/row_cache';

const dict = (values: string[]): NativeColumn => ({ kind: 'dict', dict: values, index: Uint32Array.from(values, (_, i) => i) });

/** A block of `rows` rows of session `session`, sequence `seq`, with a node name of `nodeChars` characters. */
function block(rows: number, session: string, seq: bigint, nodeChars = 8): NativeBlock {
  return {
    rows,
    columns: new Map<string, NativeColumn>([
      ['time_s', { kind: 'bigint', values: BigInt64Array.from({ length: rows }, () => 1_700_000_000n) }],
      ['time_ns', { kind: 'number', values: Uint32Array.from({ length: rows }, (_, i) => i) }],
      ['session_id', dict(Array.from({ length: rows }, () => session))],
      ['sequence', { kind: 'bigint', values: BigUint64Array.from({ length: rows }, () => seq) }],
      ['batch_index', { kind: 'number', values: Uint32Array.from({ length: rows }, (_, i) => i) }],
      ['node_name', dict(Array.from({ length: rows }, (_, i) => `${i}`.padEnd(nodeChars, 'n')))],
    ]),
  };
}

const keyOf = (b: NativeBlock, i: number, session: string, seq: bigint) => rowKey(`${1_700_000_000n * 1_000_000_000n + BigInt(i)}`, session, `${seq}`, i, (b.columns.get('node_name') as { dict: string[] }).dict[i]);

describe('relay/store row cache', () => {
  it('keeps blocks up to its bytes, strings counted: blocks of long node names push out older ones sooner', () => {
    const cache = new RowCache(2_000_000);
    const small = block(100, 's', 1n);
    cache.add(small, rowKeys(small));
    assert.ok(cache.get(keyOf(small, 5, 's', 1n)));
    // Each about 100 rows x 1000 characters x 2 bytes: 200 KB, so nine fit and the first goes.
    const big = [2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n].map((seq) => block(100, 's', seq, 1000));
    for (const b of big) {
      assert.ok(blockBytes(b) > 200_000);
      cache.add(b, rowKeys(b));
    }
    assert.equal(cache.get(keyOf(small, 5, 's', 1n)), undefined, 'the oldest block left');
    assert.ok(cache.get(keyOf(big[9], 5, 's', 11n)));
  });

  it('keeps no block larger than an eighth of its bytes', () => {
    const cache = new RowCache(1_000_000);
    const b = block(100, 's', 1n, 1000);
    cache.add(b, rowKeys(b));
    assert.equal(cache.get(keyOf(b, 0, 's', 1n)), undefined);
  });

  it('names a row by a key no session text can forge', () => {
    // Joined with a separator alone, session "a:7" and sequence 1 would read as session "a" and sequence "7:1".
    assert.notEqual(rowKey('1', 'a:7', '1', 0, 'n'), rowKey('1', 'a', '7:1', 0, 'n'));
    assert.notEqual(rowKey('1', 'a\u00007', '1', 0, 'n'), rowKey('1', 'a', '7\u00001', 0, 'n'));
  });

  it('keeps a key its block holds twice for neither row', () => {
    const cache = new RowCache(1_000_000);
    const b = block(2, 's', 1n);
    (b.columns.get('time_ns') as { values: Uint32Array }).values[1] = 0;
    (b.columns.get('batch_index') as { values: Uint32Array }).values[1] = 0;
    (b.columns.get('node_name') as { dict: string[] }).dict[1] = (b.columns.get('node_name') as { dict: string[] }).dict[0];
    cache.add(b, rowKeys(b));
    assert.equal(cache.get(keyOf(b, 0, 's', 1n)), undefined);
  });
});
