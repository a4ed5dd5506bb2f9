// A store's side of collector failover: takeovers move a session's position, retractions
// delete a node's session's batches in a range (flows, batch marks, takeovers, and their
// part of the per-minute rollup), nobody else's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { sql } from './sql';

describe('relay/store takeovers and retractions (embedded chdb)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-takeover-test-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a takeover sets the position of that node\'s session alone; batches after it count on', async () => {
    store = await openStore({ dataDir: dir });
    await store.insertTakeover({ nodeName: 'n1', sessionId: 's', afterSequence: 40n, previousRelay: 'relay-a', takenAt: Date.now() });
    assert.equal(await store.position('n1', 's'), 40n);
    assert.equal(await store.position('n2', 's'), 0n);
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 41n, flows: makeCorpus(3, 2, Date.now() - 600_000) });
    assert.equal(await store.position('n1', 's'), 41n);
    await store.close();
    store = undefined;
    const rows = await sql<{ node_name: string; after_sequence: string; previous_relay: string }>(dir, 'SELECT node_name, toString(after_sequence) AS after_sequence, previous_relay FROM cillion.takeovers');
    assert.deepEqual(rows, [{ node_name: 'n1', after_sequence: '40', previous_relay: 'relay-a' }]);
  });

  it('a retraction deletes the node\'s session\'s batches in its range, flows_1m included, and gives back their uuids', async () => {
    store = await openStore({ dataDir: dir });
    const start = Date.now() - 3_600_000;
    const batches = [1, 2, 3, 4].map((i) => makeCorpus(50, i, start + i * 120_000));
    for (const [i, flows] of batches.entries()) {
      await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: BigInt(i + 1), flows });
      // Another node's session of the same id, untouched by n1's retraction.
      await store.insertBatch({ nodeName: 'n2', sessionId: 's', sequence: BigInt(i + 1), flows: makeCorpus(10, 10 + i, start + i * 120_000) });
    }
    // An empty batch leaves a batch mark; a takeover above the range stays.
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 5n, flows: [] });
    await store.insertTakeover({ nodeName: 'n1', sessionId: 's', afterSequence: 3n, previousRelay: 'x', takenAt: Date.now() });
    await store.rollUp(new Date(Date.now() + 120_000));
    assert.equal(await store.position('n1', 's'), 5n);
    const gone = await store.retract('n1', 's', 2n, 5n, 1000);
    assert.equal(gone.flows, 100n);
    assert.deepEqual(new Set(gone.uuids), new Set([...batches[2], ...batches[3]].map((f) => f.uuid)));
    assert.equal(await store.position('n1', 's'), 2n);
    assert.equal(await store.position('n2', 's'), 4n);
    assert.equal(await store.count(), 140n);
    // Again: nothing left in the range.
    assert.equal((await store.retract('n1', 's', 2n, 5n, 1000)).flows, 0n);
    // Capped uuids.
    assert.equal((await store.retract('n2', 's', 0n, 1n, 3)).uuids.length, 3);
    await store.close();
    store = undefined;
    const [r] = await sql<{ n1: string; n2: string; marks: string; takeovers: string }>(dir, `
      SELECT (SELECT toString(sum(flows)) FROM cillion.flows_1m WHERE node_name = 'n1') AS n1,
        (SELECT toString(sum(flows)) FROM cillion.flows_1m WHERE node_name = 'n2') AS n2,
        (SELECT toString(count()) FROM cillion.batch_marks) AS marks,
        (SELECT toString(count()) FROM cillion.takeovers) AS takeovers`);
    assert.deepEqual(r, { n1: '100', n2: '30', marks: '0', takeovers: '0' });
  });
});
