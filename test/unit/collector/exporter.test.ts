import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Exporter, zeroPipelineCounters, type ExporterOptions } from '../../../collector/exporter';
import { FlowBatch, FlowExportService } from '../../../proto/gen/export/v1/export';
import { Flow } from '../../../proto/gen/flow/flow';
import { exportService } from '../../../relay/export/ingest';
import { until } from '../../until';
import { MemorySink } from '../relay/export/memorysink';

async function serve(sink: MemorySink, port = 0): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(FlowExportService, exportService(sink));
  const bound = await new Promise<number>((res, rej) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port: bound };
}

/** A port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const { server, port } = await serve(new MemorySink());
  server.forceShutdown();
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
const flow = (over: Partial<Flow> = {}): Flow => Flow.fromPartial({ time: { seconds: 1_700_000_000n + BigInt(++seq), nanos: 0 }, uuid: randomUUID(), nodeName: 'n1', ...over });

describe('collector/exporter with relay/export/ingest over loopback', () => {
  const exporters: Exporter[] = [];
  const servers: Server[] = [];
  const exporter = (o: Partial<ExporterOptions> & { target: string }): Exporter => {
    const e = new Exporter({ nodeName: 'n1', clusterName: 'c1', maxBacklogFlows: 1000, batchFlows: 10, flushMs: 20, backoff: { initialMs: 20, maxMs: 200 }, ...o });
    exporters.push(e);
    return e;
  };
  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.close(100)));
    for (const s of servers.splice(0)) s.forceShutdown();
  });

  it('delivers flows in numbered batches; acks empty the backlog', async () => {
    const sink = new MemorySink();
    const { server, port } = await serve(sink);
    servers.push(server);
    const e = exporter({ target: `127.0.0.1:${port}`, ringCounters: () => ({ ...zeroPipelineCounters(), ringRecords: 7n, ringReserveFailures: 1n, decodeErrors: 2n, reportsLost: 3n }) });
    const sent = Array.from({ length: 25 }, flow);
    for (const f of sent) e.push(f);
    await until('batch 3 acknowledged', () => e.counters().ackedSequence === 3n);
    const c = e.counters();
    assert.equal(c.flowsExported, 25n);
    assert.equal(c.backlogFlows, 0);
    assert.equal(c.backlogBatches, 0);
    assert.equal(c.exportDrops, 0n);
    assert.equal(c.connected, true);
    const stored = sink.batches.get(c.sessionId)!;
    // Sent as columns, no flow messages (the relay rebuilds the flows).
    assert.ok(stored.every((b) => b.columns?.count === b.flows.length));
    assert.deepEqual(stored.map((b) => [b.sequence, b.flows.length]), [
      [1n, 10],
      [2n, 10],
      [3n, 5],
    ]);
    assert.deepEqual(sink.uuids(), sent.map((f) => f.uuid));
    assert.equal(stored[0].nodeName, 'n1');
    assert.equal(stored[0].counters?.ringRecords, 7n);
    assert.equal(stored[0].counters?.reportsLost, 3n);
  });

  it('a relay restart on the same port loses no acknowledged flow and stores none twice', async () => {
    const sink = new MemorySink();
    let { server, port } = await serve(sink);
    const e = exporter({ target: `127.0.0.1:${port}`, batchFlows: 5 });
    const sent: Flow[] = [];
    const pushSome = (n: number) => {
      for (let i = 0; i < n; i++) {
        const f = flow();
        sent.push(f);
        e.push(f);
      }
    };
    pushSome(20);
    await until('batch 4 acknowledged', () => e.counters().ackedSequence === 4n);
    // Batches in flight while the relay goes away: the sink holds them, the server is killed.
    let release = (): void => undefined;
    sink.gate = new Promise((r) => (release = r));
    pushSome(20);
    await until('batch 5 taken by the relay', () => sink.accepts >= 5);
    server.forceShutdown();
    const ackedBefore = e.counters().ackedSequence;
    pushSome(20);
    await until('the exporter to see the relay gone', () => !e.counters().connected);
    sink.gate = null;
    release();
    ({ server, port } = await serve(sink, port));
    servers.push(server);
    await until('batch 12 acknowledged', () => e.counters().ackedSequence === 12n);
    assert.ok(ackedBefore >= 4n);
    const got = sink.uuids();
    assert.equal(got.length, 60);
    assert.deepEqual(got, sent.map((f) => f.uuid));
    assert.ok(e.counters().reconnects >= 1);
    assert.equal(e.counters().exportDrops, 0n);
    assert.equal(sink.violations, 0);
  });

  it('drops and counts flows beyond the backlog before numbering them, so no sequence gap appears', async () => {
    const port = await freePort();
    const e = exporter({ target: `127.0.0.1:${port}`, maxBacklogFlows: 10, batchFlows: 4 });
    for (let i = 0; i < 25; i++) e.push(flow());
    // The last, partial batch is cut on the flush timer.
    await until('batch 3 cut', () => e.counters().sequence === 3n);
    const c = e.counters();
    assert.equal(c.exportDrops, 15n);
    assert.equal(c.backlogFlows, 10);
    assert.equal(c.flowsExported, 10n);
    assert.equal(c.sequence, 3n);
    const sink = new MemorySink();
    const { server } = await serve(sink, port);
    servers.push(server);
    await until('batch 3 acknowledged', () => e.counters().ackedSequence === 3n);
    assert.deepEqual(sink.batches.get(c.sessionId)!.map((b) => b.sequence), [1n, 2n, 3n]);
    assert.equal(sink.uuids().length, 10);
    // Room again once acknowledged.
    e.push(flow());
    assert.equal(e.counters().exportDrops, 15n);
  });

  it('reconnects with growing delays while the relay is down, then delivers', async () => {
    const port = await freePort();
    const errors: Error[] = [];
    const started = Date.now();
    const e = exporter({ target: `127.0.0.1:${port}`, backoff: { initialMs: 20, maxMs: 10_000, multiplier: 2, jitter: 0 }, onError: (err) => errors.push(err) });
    e.push(flow());
    // The fifth retry is planned after waiting 20, 40, 80 and 160 ms: 300 ms at least (a busy
    // machine only adds to it), where a fixed 20 ms delay would have taken 80.
    await until('the fifth reconnect', () => e.counters().reconnects >= 5, 5000, 1);
    const waited = Date.now() - started;
    assert.ok(waited >= 300, `5 reconnects after ${waited} ms`);
    assert.ok(errors.length >= 4);
    const sink = new MemorySink();
    const { server } = await serve(sink, port);
    servers.push(server);
    await until('batch 1 acknowledged', () => e.counters().ackedSequence === 1n);
    assert.equal(sink.uuids().length, 1);
  });

  it('learns from the heartbeat what a restarted relay stored and does not send it again', async () => {
    const sink = new MemorySink();
    let { server, port } = await serve(sink);
    const e = exporter({ target: `127.0.0.1:${port}` });
    // The relay stores batch 1 but dies before its ack goes out.
    let release = (): void => undefined;
    sink.gate = new Promise((r) => (release = r));
    for (let i = 0; i < 10; i++) e.push(flow());
    await until('batch 1 taken by the relay', () => sink.accepts === 1);
    server.forceShutdown();
    sink.gate = null;
    release();
    await until('batch 1 stored', () => sink.uuids().length === 10);
    assert.equal(e.counters().ackedSequence, 0n);
    ({ server, port } = await serve(sink, port));
    servers.push(server);
    await until('batch 1 acknowledged', () => e.counters().ackedSequence === 1n);
    assert.equal(sink.accepts, 1);
    assert.equal(sink.violations, 0);
    assert.equal(e.counters().backlogFlows, 0);
  });

  it('starts a new session when the relay lost acknowledged batches, instead of stalling', async () => {
    const sink = new MemorySink();
    let { server, port } = await serve(sink);
    const errors: string[] = [];
    const e = exporter({ target: `127.0.0.1:${port}`, onError: (err) => errors.push(err.message) });
    for (let i = 0; i < 10; i++) e.push(flow());
    await until('batch 1 acknowledged', () => e.counters().ackedSequence === 1n);
    const first = e.counters().sessionId;
    server.forceShutdown();
    sink.batches.clear();
    for (let i = 0; i < 10; i++) e.push(flow());
    await until('batch 2 cut', () => e.counters().sequence === 2n);
    ({ server, port } = await serve(sink, port));
    servers.push(server);
    await until('a new session acknowledged', () => e.counters().sessionResets === 1 && e.counters().ackedSequence === 1n);
    const c = e.counters();
    assert.notEqual(c.sessionId, first);
    assert.equal(sink.batches.get(c.sessionId)!.length, 1);
    assert.equal(sink.uuids().length, 10);
    assert.ok(errors.some((m) => /below acknowledged/.test(m)));
  });

  it('several collectors export to one relay at once', async () => {
    const sink = new MemorySink();
    const { server, port } = await serve(sink);
    servers.push(server);
    const es = [0, 1, 2].map((i) => exporter({ target: `127.0.0.1:${port}`, nodeName: `n${i}` }));
    for (let i = 0; i < 30; i++) for (const e of es) e.push(flow());
    await until('every collector\'s batch 3 acknowledged', () => es.every((e) => e.counters().ackedSequence === 3n));
    assert.equal(sink.batches.size, 3);
    assert.equal(new Set(sink.uuids()).size, 90);
    assert.equal(sink.violations, 0);
  });

  it('while the relay is behind, a partial batch keeps filling and goes with the next acknowledgement', async () => {
    const sink = new MemorySink();
    let release = (): void => undefined;
    sink.gate = new Promise((r) => (release = r));
    const { server, port } = await serve(sink);
    servers.push(server);
    const e = exporter({ target: `127.0.0.1:${port}`, batchFlows: 100, flushMs: 20 });
    await until('connected', () => e.counters().connected);
    // Two small batches go on the flush timer; the relay holds the first until released.
    for (let n = 1; n <= 2; n++) {
      for (let i = 0; i < 5; i++) e.push(flow());
      await until(`batch ${n} cut`, () => e.counters().sequence === BigInt(n));
    }
    // With two unacknowledged, flushes come due (the 20 ms timer fires before the 40 ms sleep
    // ends, however late both are) but the next 30 flows wait as one batch.
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 10; k++) e.push(flow());
      await sleep(40);
    }
    assert.equal(e.counters().sequence, 2n, 'no batch cut while two wait for their acknowledgement');
    sink.gate = null;
    release();
    await until('the backlog sent and acknowledged', () => e.counters().backlogFlows === 0);
    const stored = sink.batches.get(e.counters().sessionId)!;
    assert.deepEqual(stored.map((b) => b.flows.length), [5, 5, 30]);
    assert.equal(sink.violations, 0);
  });

  it('close() sends the partial batch and waits for its acknowledgement', async () => {
    const sink = new MemorySink();
    const { server, port } = await serve(sink);
    servers.push(server);
    const e = new Exporter({ target: `127.0.0.1:${port}`, nodeName: 'n1', clusterName: 'c1', maxBacklogFlows: 100, batchFlows: 100, flushMs: 60_000 });
    await until('connected', () => e.counters().connected);
    e.push(flow());
    e.push(flow());
    await e.close(2000);
    assert.equal(sink.uuids().length, 2);
    e.push(flow());
    assert.equal(e.counters().exportDrops, 1n);
  });

  it('cuts batches by encoded size as well as by count, so each fits the relay\'s message limit', async () => {
    const sink = new MemorySink();
    const { server, port } = await serve(sink);
    servers.push(server);
    const limit = 16 * 1024;
    const e = exporter({ target: `127.0.0.1:${port}`, batchFlows: 1000, maxBatchBytes: limit, flushMs: 50 });
    // Distinct labels, so that each flow adds an endpoint of its own to the batch.
    const big = (): Flow => flow({ source: { ID: 0, identity: 0, clusterName: '', namespace: '', podName: '', labels: [`k8s:pad=${seq}${'x'.repeat(900)}`], workloads: [] } });
    for (let i = 0; i < 100; i++) e.push(big());
    e.push(flow({ source: { ID: 0, identity: 0, clusterName: '', namespace: '', podName: '', labels: ['x'.repeat(limit)], workloads: [] } }));
    await until('100 flows stored', () => sink.uuids().length === 100);
    const batches = [...sink.batches.values()].flat();
    assert.ok(batches.length >= 7, `${batches.length} batches`);
    // As sent: the columns (the flows beside them are what the relay rebuilt).
    const wire = (b: FlowBatch): number => FlowBatch.encode({ ...b, flows: [] }).finish().length;
    for (const b of batches) assert.ok(wire(b) <= limit, `a batch of ${wire(b)} bytes`);
    assert.equal(e.counters().oversizeDrops, 1n);
    assert.equal(e.counters().exportDrops, 1n);
  });

  it('drops and reports a flow the columns cannot hold, without a gap in the sequence', async () => {
    const sink = new MemorySink();
    const { server, port } = await serve(sink);
    servers.push(server);
    const errors: string[] = [];
    const e = exporter({ target: `127.0.0.1:${port}`, batchFlows: 2, onError: (err) => errors.push(err.message) });
    const sent = [flow(), flow(), flow({ uuid: 'not-a-uuid' }), flow({ time: undefined }), flow()];
    for (const f of sent) e.push(f);
    await until('batch 2 acknowledged', () => e.counters().ackedSequence === 2n);
    const c = e.counters();
    assert.equal(c.unencodableDrops, 2n);
    assert.equal(c.exportDrops, 2n);
    assert.equal(c.flowsExported, 3n);
    assert.deepEqual(sink.uuids(), [sent[0].uuid, sent[1].uuid, sent[4].uuid]);
    assert.match(errors.join('\n'), /flow not-a-uuid not exported: uuid "not-a-uuid" is not a UUID/);
    assert.match(errors.join('\n'), /without a time/);
  });

  it('counts the flows the relay acknowledged but refused', async () => {
    const sink = new MemorySink();
    const accept = sink.accept.bind(sink);
    sink.accept = async (b, columns) => {
      const { stored } = await accept(b, columns);
      return { stored: stored.then(() => ({ rejected: 1, reason: 'flow without a capture time' })) };
    };
    const { server, port } = await serve(sink);
    servers.push(server);
    const errors: string[] = [];
    const e = exporter({ target: `127.0.0.1:${port}`, batchFlows: 2, onError: (err) => errors.push(err.message) });
    for (let i = 0; i < 4; i++) e.push(flow());
    await until('batch 2 acknowledged', () => e.counters().ackedSequence === 2n);
    assert.equal(e.counters().flowsRejected, 2n);
    assert.match(errors.join('\n'), /relay refused 1 flows of batches up to \d: flow without a capture time/);
  });
});
