import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '../../../../relay/store/chdb';
import { CounterLog } from '../../../../relay/export/counter_log';
import { openStore } from '../../../../relay/store/store';
import { zeroCounters } from '../../../../observer/nodes';

const counters = (n: bigint) => ({ ...zeroCounters(), ringRecords: 10n * n, ringReserveFailures: n, exportDrops: 2n * n, decodeErrors: 0n, flowsExported: 9n * n, packetsLost: 5n * n });

describe('relay/export CounterLog into the store', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cillion-counters-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every report, heartbeats included, as a node_counters row once closed', async () => {
    const store = await openStore({ dataDir: dir });
    const errors: Error[] = [];
    const log = new CounterLog(store, { flushMs: 60_000, onError: (e) => errors.push(e) });
    log.add({ nodeName: 'n1', clusterName: 'c1', sessionId: 's1', sequence: 0n, counters: counters(1n), sentAtMs: 1_700_000_000_250 });
    log.add({ nodeName: 'n1', clusterName: 'c1', sessionId: 's1', sequence: 1n, counters: counters(2n) });
    log.add({ nodeName: 'n2', clusterName: 'c2', sessionId: 's2', sequence: 7n, counters: counters(3n), sentAtMs: 1_700_000_001_000 });
    await log.close();
    await store.close();
    assert.deepEqual(errors, []);

    const ch = openClickHouse({ dataDir: dir });
    try {
      const rows = await (
        await ch.client.query({
          query: `SELECT node_name, cluster, session_id, toString(sequence) AS seq, toString(ring_reserve_failures) AS rrf,
            toString(export_drops) AS drops, toString(packets_lost) AS lost, toString(toUnixTimestamp64Milli(sent_at)) AS sent, received_at >= sent_at AS after
            FROM cillion.node_counters ORDER BY node_name, sequence`,
          format: 'JSONEachRow',
        })
      ).json<{ node_name: string; cluster: string; session_id: string; seq: string; rrf: string; drops: string; lost: string; sent: string; after: number }>();
      assert.deepEqual(rows.map((r) => [r.node_name, r.cluster, r.session_id, r.seq, r.rrf, r.drops, r.lost]), [
        ['n1', 'c1', 's1', '0', '1', '2', '5'],
        ['n1', 'c1', 's1', '1', '2', '4', '10'],
        ['n2', 'c2', 's2', '7', '3', '6', '15'],
      ]);
      assert.equal(rows[0].sent, '1700000000250');
      assert.equal(rows[2].sent, '1700000001000');
      assert.equal(rows[1].after, 1, 'without sent_at the row takes its arrival time');
    } finally {
      await ch.close();
    }
  });

  it('keeps going after a write fails and reports the failure', async () => {
    const errors: Error[] = [];
    let calls = 0;
    const log = new CounterLog(
      { insertCounters: async () => { if (calls++ === 0) throw new Error('store down'); } },
      { flushMs: 60_000, onError: (e) => errors.push(e) },
    );
    log.add({ nodeName: 'n', clusterName: 'c', sessionId: 's', sequence: 1n, counters: counters(1n) });
    await log.flush();
    log.add({ nodeName: 'n', clusterName: 'c', sessionId: 's', sequence: 2n, counters: counters(2n) });
    await log.close();
    assert.deepEqual(errors.map((e) => e.message), ['store down']);
    assert.equal(calls, 2);
  });
});
