// Group commit through the real relay and store: batches of several collectors go to the
// store in one insert, each acknowledged only once stored, and every flow is stored exactly
// once across a relay restart in the middle of the streams, whatever groups the batches
// were in before and after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../../../collector/exporter';
import { Flow } from '../../../proto/gen/flow/flow';
import { openClickHouse } from '../../../relay/store/chdb';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { makeFlow, uuidFor } from '../observer/helpers';
import { FakeCollector } from './exporter_client';

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A metric's value summed over its label sets, from the relay's registry. */
async function metric(relay: Relay, name: string): Promise<number> {
  const text = await relay.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

let serial = 0;
/** Flows captured now, so that a starting relay's uuid window (the newest flows) holds them. */
function recent(node: string): Flow {
  const i = ++serial;
  const ns = BigInt(Date.now()) * 1_000_000n + BigInt(i);
  return makeFlow(i, { nodeName: node, uuid: uuidFor(`group-${process.pid}-${i}`), time: { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) } });
}

describe('relay group commit (embedded store)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: FlowStore;
  const exporters: Exporter[] = [];
  const relays: Relay[] = [];
  const logs: string[] = [];

  const relayOn = async (listen: string, maxGroupFlows?: number): Promise<Relay> => {
    const r = await startRelay({ listen, store, mergeWindowMs: 50, shutdownGraceMs: 200, limits: { maxGroupFlows }, log: (l) => logs.push(l) });
    relays.push(r);
    return r;
  };

  /** Rows stored, and distinct (node, uuid) among them. */
  const stored = async (): Promise<{ rows: number; distinct: number }> => {
    const ch = openClickHouse({ dataDir: dir });
    try {
      const [r] = await (await ch.client.query({ query: 'SELECT toString(count()) AS rows, toString(uniqExact(node_name, uuid)) AS distinct FROM cillion.flows', format: 'JSONEachRow' })).json<{ rows: string; distinct: string }>();
      return { rows: Number(r.rows), distinct: Number(r.distinct) };
    } finally {
      await ch.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-group-commit-'));
    store = await openStore({ dataDir: dir });
    logs.length = 0;
  });
  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.close(100)));
    for (const r of relays.splice(0)) await r.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every flow of three collectors exactly once across a relay restart mid-stream, with batches of several collectors in one insert', async () => {
    const first = await relayOn('127.0.0.1:0');
    const nodes = ['node-a', 'node-b', 'node-c'];
    const perNode = 1500;
    for (const nodeName of nodes) {
      exporters.push(new Exporter({ target: first.address, nodeName, clusterName: 'c1', maxBacklogFlows: 10_000, batchFlows: 25, flushMs: 5, backoff: { initialMs: 20, maxMs: 200 } }));
    }
    const push = (n: number) => exporters.forEach((e, k) => Array.from({ length: n }, () => e.push(recent(nodes[k]))));
    push(perNode / 2);
    await until(async () => (await metric(first, 'cillion_store_group_batches_sum')) > (await metric(first, 'cillion_store_group_batches_count')) && (await store.count()) >= 300n, 'inserts of several batches');
    // Down in the middle: batches in an insert, queued for one, and in flight on the wire.
    const unacked = exporters.reduce((n, e) => n + e.counters().backlogFlows, 0);
    await first.close();
    assert.ok(unacked > 0, 'the restart came while flows were unacknowledged');
    const second = await relayOn(first.address);
    push(perNode / 2);
    await until(() => exporters.every((e) => e.counters().backlogFlows === 0), 'every flow acknowledged');
    assert.ok(exporters.every((e) => e.counters().ackedSequence === e.counters().sequence));
    assert.equal(exporters.reduce((n, e) => n + Number(e.counters().flowsRejected), 0), 0, 'no flow refused');
    assert.ok((await metric(second, 'cillion_store_groups_total')) > 0);
    assert.deepEqual(await stored(), { rows: nodes.length * perNode, distinct: nodes.length * perNode });
  });

  it('after a restart drops flows already stored when they come again cut into other batches of another session', async () => {
    const first = await relayOn('127.0.0.1:0');
    const flows = Array.from({ length: 60 }, () => recent('node-a'));
    const a = new FakeCollector(first.address, 'node-a', 'before');
    const b = new FakeCollector(first.address, 'node-b', 'other');
    a.send(flows.slice(0, 20));
    a.send(flows.slice(20, 40));
    b.send([recent('node-b')]);
    await until(() => a.acks.includes(2n) && b.acks.includes(1n), 'acks');
    await a.close();
    await b.close();
    await first.close();
    // A collector that lost its acks sends everything again in a new session, in one batch with new flows.
    const second = await relayOn('127.0.0.1:0');
    const again = new FakeCollector(second.address, 'node-a', 'after');
    again.send(flows);
    await until(() => again.acks.includes(1n), 'ack after the restart');
    await again.close();
    assert.equal(await metric(second, 'cillion_flows_rejected_total'), 40);
    assert.deepEqual(await stored(), { rows: 61, distinct: 61 });
  });

  it('stops an insert at --max-group-flows, counts and logs it, and stores the batches left over with the next one', async () => {
    const relay = await relayOn('127.0.0.1:0', 30);
    const collectors = ['n1', 'n2', 'n3', 'n4'].map((n) => new FakeCollector(relay.address, n));
    // Each collector keeps batches of 20 flows coming, more than one group of 30 can take.
    for (let round = 0; round < 5; round++) for (const c of collectors) c.send(Array.from({ length: 20 }, () => recent(c.nodeName)));
    await until(() => collectors.every((c) => c.acks.includes(5n)), 'every batch acknowledged');
    for (const c of collectors) await c.close();
    assert.ok((await metric(relay, 'cillion_store_groups_full_total')) > 0, 'an insert reached the limit');
    assert.ok(logs.some((l) => /the group limit of 30 flows; the other batches wait for the next insert/.test(l)), logs.join('\n'));
    // Each batch alone is under the limit, so no insert held more than one.
    assert.equal(await metric(relay, 'cillion_store_group_batches_sum'), await metric(relay, 'cillion_store_group_batches_count'));
    assert.deepEqual(await stored(), { rows: 400, distinct: 400 });
  });
});
