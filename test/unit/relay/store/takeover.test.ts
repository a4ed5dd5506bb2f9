// A store's side of collector failover: takeovers move a session's position, retractions
// delete a node's session's batches in a range (flows, batch marks, and their part of the
// per-minute rollup), nobody else's, never above a later takeover nor older than asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { sql } from './sql';

/** Bounds that keep every batch received in the last hour, as the relay's default. */
const recent = (maxUuids: number): { maxUuids: number; receivedSinceMs: number } => ({ maxUuids, receivedSinceMs: Date.now() - 3_600_000 });

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
    // An empty batch leaves a batch mark, deleted too; a takeover at the range's start stays.
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 5n, flows: [] });
    await store.insertTakeover({ nodeName: 'n1', sessionId: 's', afterSequence: 2n, previousRelay: 'x', takenAt: Date.now() });
    await store.rollUp(new Date(Date.now() + 120_000));
    assert.equal(await store.position('n1', 's'), 5n);
    const gone = await store.retract('n1', 's', 2n, 5n, recent(1000));
    assert.equal(gone.flows, 100n);
    assert.deepEqual(new Set(gone.uuids), new Set([...batches[2], ...batches[3]].map((f) => f.uuid)));
    assert.equal(await store.position('n1', 's'), 2n);
    assert.equal(await store.position('n2', 's'), 4n);
    assert.equal(await store.count(), 140n);
    // Again: nothing left in the range.
    assert.equal((await store.retract('n1', 's', 2n, 5n, recent(1000))).flows, 0n);
    // Capped uuids.
    assert.equal((await store.retract('n2', 's', 0n, 1n, recent(3))).uuids.length, 3);
    await store.close();
    store = undefined;
    const [r] = await sql<{ n1: string; n2: string; marks: string; takeovers: string }>(dir, `
      SELECT (SELECT toString(sum(flows)) FROM cillion.flows_1m WHERE node_name = 'n1') AS n1,
        (SELECT toString(sum(flows)) FROM cillion.flows_1m WHERE node_name = 'n2') AS n2,
        (SELECT toString(count()) FROM cillion.batch_marks) AS marks,
        (SELECT toString(count()) FROM cillion.takeovers) AS takeovers`);
    assert.deepEqual(r, { n1: '100', n2: '30', marks: '0', takeovers: '1' });
  });

  it('a retraction stops below a later takeover: what the relay stored after taking the session back is kept', async () => {
    store = await openStore({ dataDir: dir });
    const start = Date.now() - 600_000;
    const flows = [1, 2, 3, 4, 7, 8].map((i) => makeCorpus(5, i, start + i * 1000));
    // Batches 1-4 from its first stint (3 and 4 never acknowledged), then it took the
    // session back at 6 from the relay that acknowledged 3-6, and acknowledged 7 and 8.
    for (const [i, seq] of [1n, 2n, 3n, 4n].entries()) await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: seq, flows: flows[i] });
    await store.insertTakeover({ nodeName: 'n1', sessionId: 's', afterSequence: 6n, previousRelay: 'relay-b', takenAt: Date.now() });
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 7n, flows: flows[4] });
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 8n, flows: flows[5] });
    // A stale retraction of (2, 10] arrives late.
    const gone = await store.retract('n1', 's', 2n, 10n, recent(1000));
    assert.equal(gone.through, 6n);
    assert.deepEqual(new Set(gone.uuids), new Set([...flows[2], ...flows[3]].map((f) => f.uuid)));
    assert.equal(await store.position('n1', 's'), 8n);
    assert.equal(await store.count(), 20n);
    // Again: nothing below the takeover is left, nothing more goes.
    assert.equal((await store.retract('n1', 's', 2n, 10n, recent(1000))).flows, 0n);
    assert.equal(await store.count(), 20n);
  });

  it('a retraction keeps batches received before the age bound: a node cannot erase its history', async () => {
    store = await openStore({ dataDir: dir });
    for (const seq of [1n, 2n, 3n]) await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: seq, flows: makeCorpus(4, Number(seq), Date.now() - 600_000) });
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 4n, flows: [] });
    // Every batch is older than "received since a second from now".
    const gone = await store.retract('n1', 's', 0n, 2n ** 48n, { maxUuids: 1000, receivedSinceMs: Date.now() + 2000 });
    assert.equal(gone.flows, 0n);
    assert.equal(gone.kept, 13n, '12 flows and 1 batch mark kept');
    assert.equal(await store.count(), 12n);
    assert.equal(await store.position('n1', 's'), 4n);
  });

  it('stores a batch sent again under a retracted sequence (the engine does not take it for the deleted one\'s retry)', async () => {
    store = await openStore({ dataDir: dir });
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 1n, flows: makeCorpus(5, 1, Date.now() - 600_000) });
    assert.equal((await store.retract('n1', 's', 0n, 1n, recent(10))).flows, 5n);
    assert.equal(await store.position('n1', 's'), 0n);
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 1n, flows: makeCorpus(3, 2, Date.now() - 600_000) });
    assert.equal(await store.position('n1', 's'), 1n);
    assert.equal(await store.count(), 3n);
  });

  it('gives back the uuids of the newest flows deleted when more are deleted than asked for', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(200, 3, Date.now() - 600_000);
    await store.insertBatch({ nodeName: 'n1', sessionId: 's', sequence: 1n, flows });
    const gone = await store.retract('n1', 's', 0n, 1n, recent(5));
    assert.equal(gone.flows, 200n);
    assert.deepEqual(new Set(gone.uuids), new Set(flows.slice(-5).map((f) => f.uuid)));
  });
});
