// Large pages are read unordered and put in key order by the reader (block_order.ts): the
// order must be the engine's to the last tie (many flows of one time across sessions whose
// names sort differently as UTF-8 than as UTF-16), or keyset paging would skip or repeat
// rows at a page's edge.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow } from '../../../../proto/gen/flow/flow';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { FlowReader } from '../../../../relay/store/query';
import type { FlowQuery } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { createNarrowStore, insertCorpus } from './narrow';

const DB = 'cillion';
/** U+FFFD is above a surrogate pair's first unit in UTF-16 and below it as UTF-8. */
const NODES = ['node-a', 'node-\uFFFD', 'node-\u{1F600}'];
/** More than two pages of 20,000. */
const FLOWS = 45_000;

describe('relay/store page order', function () {
  this.timeout(300_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let reader: FlowReader;

  const engineOrder = async (dir: 'ASC' | 'DESC', limit = FLOWS): Promise<string[]> => {
    const rows = await (await ch.client.query({
      query: `SELECT toString(uuid) AS u FROM ${DB}.flows ORDER BY time ${dir}, session_id ${dir}, sequence ${dir}, batch_index ${dir} LIMIT ${limit}`,
      format: 'JSONEachRow',
    })).json<{ u: string }>();
    return rows.map((r) => r.u);
  };
  const read = async (q: Partial<FlowQuery>): Promise<string[]> => {
    const out: string[] = [];
    for await (const f of reader.query({ allow: [], deny: [], order: 'asc', ...q })) out.push(f.uuid);
    return out;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-order-test-'));
    ch = openClickHouse({ dataDir: dir });
    await createNarrowStore(ch.client, DB);
    const base = Date.UTC(2026, 5, 1);
    // 60 flows a millisecond, spread over the three nodes' sessions, in batches that overlap in time.
    const flows = makeCorpus(FLOWS, 21).map((f, i) => Flow.fromPartial({
      ...f,
      nodeName: NODES[i % 3],
      time: { seconds: BigInt(Math.floor((base + Math.floor(i / 60)) / 1000)), nanos: ((base + Math.floor(i / 60)) % 1000) * 1_000_000 },
    }));
    await insertCorpus(ch, DB, flows, 4000);
    reader = new FlowReader(ch.client, DB, { limits: { timeoutMs: 60_000, maxRowsToRead: 1e9 }, kill: async () => {} });
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every flow once in the engine\'s order, oldest first', async () => {
    const want = await engineOrder('ASC');
    assert.equal(want.length, FLOWS);
    assert.deepEqual(await read({}), want);
  });

  it('reads the last N newest first in the engine\'s order, across pages', async () => {
    assert.deepEqual(await read({ order: 'desc', limit: 41_000 }), await engineOrder('DESC', 41_000));
    assert.deepEqual(await read({ order: 'desc' }), await engineOrder('DESC'));
  });
});
