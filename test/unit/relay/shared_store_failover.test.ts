// Shared-store mode: two relays (startRelay) over one FlowStore object, the embedded engine
// standing in for one shared ClickHouse (chdb binds one data directory per process). A
// collector fails over from one to the other after the first stored batches it never
// acknowledged: the second reads the session's position from the shared store, takes
// nothing over, asks for no retraction, and nothing is stored twice. A retraction reaching
// a shared-store relay anyway deletes nothing: each batch is in the shared store once.
import assert from 'node:assert/strict';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../../../collector/exporter';
import { FlowExportClient, type ExportAck, type FlowBatch } from '../../../proto/gen/export/v1/export';
import type { Flow } from '../../../proto/gen/flow/flow';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { AnswerProxy } from './answer_proxy';
import { makeCorpus } from './store/corpus';
import { sql } from './store/sql';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('relay: failover between relays sharing one store', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore;
  const relays: Relay[] = [];
  let proxy: AnswerProxy | undefined;
  let exporter: Exporter | undefined;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-shared-store-'));
    store = await openStore({ dataDir: dir });
    for (const name of ['relay-a', 'relay-b']) {
      relays.push(await startRelay({
        listen: '127.0.0.1:0', name, store, log: (l) => logs.push(`${name}: ${l}`),
        peers: { targets: [], credentials: credentials.createInsecure(), timeoutMs: 2000, sharedStore: true },
      }));
    }
  });
  after(async () => {
    await exporter?.close(100);
    proxy?.close();
    for (const r of relays) await r.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues from the position the first relay left in the shared store: nothing stored twice, nothing retracted', async () => {
    const [a, b] = relays;
    proxy = new AnswerProxy(Number(a.address.split(':')[1]));
    exporter = new Exporter({
      target: [`127.0.0.1:${await proxy.port}`, b.address], failoverMs: 300, nodeName: 'n1', clusterName: 'c1',
      maxBacklogFlows: 10_000, batchFlows: 50, flushMs: 20, backoff: { initialMs: 20, maxMs: 100 },
    });
    const e = exporter;
    const sent: Flow[] = [];
    const push = (n: number, seed: number): void => {
      for (const f of makeCorpus(n, seed, Date.now())) {
        f.uuid = randomUUID();
        sent.push(f);
        e.push(f);
      }
    };
    push(100, 1);
    await until('2 batches acknowledged by relay-a', () => e.counters().ackedSequence === 2n && e.counters().relayName === 'relay-a');
    // relay-a stores on, and its acknowledgements never arrive.
    proxy.muted = true;
    push(100, 2);
    // At least batch 3 (HTTP/2 flow control may hold batch 4 back while no answer comes).
    await until('relay-a storing a batch it does not acknowledge', async () => (await store.position('n1', e.counters().sessionId)) >= 3n);
    await a.close();
    proxy.close();
    push(100, 3);
    await until('relay-b acknowledging every batch', () => e.counters().relayName === 'relay-b' && e.counters().backlogFlows === 0);
    const c = e.counters();
    assert.equal(c.failovers, 1);
    assert.equal(c.sessionResets, 0);
    assert.equal(c.handoversPending, 0, 'nothing to retract in a shared store');
    assert.equal(c.ackedSequence, 6n);
    assert.ok(!logs.some((l) => /taken over/.test(l)), logs.join('\n'));
    const [r] = await sql<{ n: string; u: string; takeovers: string }>(dir, `SELECT toString(count()) AS n, toString(uniqExact(uuid)) AS u,
      (SELECT toString(count()) FROM cillion.takeovers) AS takeovers FROM cillion.flows`);
    assert.deepEqual(r, { n: '300', u: '300', takeovers: '0' });
    assert.equal(await store.count(), BigInt(sent.length));
  });

  it('a retraction reaching a shared-store relay is acknowledged and deletes nothing, counted', async () => {
    const b = relays[1];
    const before = await store.count();
    const head = { nodeName: 'n1', clusterName: 'c1', sessionId: 's-shared', flows: [], counters: undefined, sentAt: undefined, columns: undefined, handover: undefined, retraction: undefined, flowTable: undefined };
    const msgs: FlowBatch[] = [
      { ...head, sequence: 1n, flows: makeCorpus(10, 9, Date.now()).map((f) => ({ ...f, uuid: randomUUID() })) },
      { ...head, sequence: 0n, retraction: { afterSequence: 0n, throughSequence: 1n, relayName: 'relay-b' } },
    ];
    const client = new FlowExportClient(b.address, credentials.createInsecure());
    const call = client.export();
    const acks: ExportAck[] = [];
    const error = await new Promise<ServiceError | undefined>((resolve) => {
      call.on('data', (a: ExportAck) => {
        acks.push(a);
        if (acks.length === msgs.length) resolve(undefined);
      });
      call.on('error', resolve);
      for (const m of msgs) call.write(m);
    });
    call.cancel();
    client.close();
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(acks.map((a) => [a.ackedSequence, Boolean(a.retracted)]), [[1n, false], [1n, true]]);
    assert.equal(await store.count(), before + 10n);
    assert.equal(await store.position('n1', 's-shared'), 1n);
    assert.ok(logs.some((l) => /relay-b: .*nothing deleted: the store is shared/.test(l)), logs.join('\n'));
    assert.match(await b.metrics.text(), /cillion_export_retractions_ignored_total\{reason="shared_store"\} 1/);
  });
});
