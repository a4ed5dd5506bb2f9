import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { credentials, Server, ServerCredentials, status, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { FlowBatch, FlowExportClient, FlowExportService, type ExportAck } from '../../../../proto/gen/export/v1/export';
import { Flow } from '../../../../proto/gen/flow/flow';
import { exportService, type CollectorReport, type IngestOptions } from '../../../../relay/export/ingest';
import { MemorySink } from './memorysink';
import { batchCost, boundedBatchDecoder, HARD_FACTOR, IngestBudget } from '../../../../relay/export/admission';
import { relayLimits } from '../../../../relay/limits';
import { zeroCounters } from '../../../../observer/nodes';

async function serve(sink: MemorySink, opts: IngestOptions = {}): Promise<{ server: Server; port: number }> {
  const server = new Server();
  // With a budget, messages are admitted by the relay's bounded decoder, as in relay/server.ts.
  const def = opts.budget
    ? { ...FlowExportService, export: { ...FlowExportService.export, requestDeserialize: boundedBatchDecoder(relayLimits(), opts.budget) } }
    : FlowExportService;
  server.addService(def, exportService(sink, opts));
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

interface Stream {
  call: ClientDuplexStream<FlowBatch, ExportAck>;
  acks: bigint[];
  status: Promise<StatusObject>;
  client: FlowExportClient;
}

function open(port: number): Stream {
  const client = new FlowExportClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.export();
  const acks: bigint[] = [];
  call.on('data', (a: ExportAck) => acks.push(a.ackedSequence));
  call.on('error', () => undefined);
  const st = new Promise<StatusObject>((res) => call.on('status', res));
  return { call, acks, status: st, client };
}

/** Flow labels by uuid: a flow's uuid is a real UUID, made from its label `session-sequence-index`. */
const labels = new Map<string, string>();

function uuidFor(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  labels.set(uuid, label);
  return uuid;
}

const stored = (sink: MemorySink): string[] => sink.uuids().map((u) => labels.get(u) ?? u);

function batch(sessionId: string, sequence: bigint, n = 2): FlowBatch {
  const flows = Array.from({ length: n }, (_, i) => Flow.fromPartial({ uuid: uuidFor(`${sessionId}-${sequence}-${i}`), nodeName: 'n1', time: { seconds: 1_767_225_600n, nanos: 0 } }));
  return { nodeName: 'n1', clusterName: 'c1', sessionId, sequence, flows, counters: undefined, sentAt: undefined, columns: undefined, handover: undefined, retraction: undefined, flowTable: undefined };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('relay/export/ingest', () => {
  let server: Server;
  let port: number;
  let sink: MemorySink;
  const streams: Stream[] = [];
  const stream = (): Stream => {
    const s = open(port);
    streams.push(s);
    return s;
  };

  beforeEach(async () => {
    sink = new MemorySink();
    ({ server, port } = await serve(sink));
  });
  afterEach(() => {
    for (const s of streams.splice(0)) {
      s.call.cancel();
      s.client.close();
    }
    server.forceShutdown();
  });

  it('answers a heartbeat with the stored position and stores batches in order, acking each', async () => {
    const s = stream();
    s.call.write(batch('a', 0n, 0));
    await until(() => s.acks.length === 1);
    assert.deepEqual(s.acks, [0n]);
    s.call.write(batch('a', 1n));
    s.call.write(batch('a', 2n));
    await until(() => s.acks.length === 3);
    assert.deepEqual(s.acks, [0n, 1n, 2n]);
    assert.equal(sink.uuids().length, 4);
    s.call.end();
    assert.equal((await s.status).code, status.OK);
  });

  it('drops a duplicate and acknowledges the current position again', async () => {
    const s = stream();
    for (const q of [1n, 2n, 1n, 2n, 3n]) s.call.write(batch('a', q));
    await until(() => s.acks.length === 5);
    assert.deepEqual(s.acks, [1n, 2n, 2n, 2n, 3n]);
    assert.equal(sink.accepts, 3);
    assert.equal(new Set(sink.uuids()).size, 6);
  });

  it('holds a batch that skips ahead, never acks it early, and stores it once the gap fills', async () => {
    const s = stream();
    s.call.write(batch('a', 1n));
    s.call.write(batch('a', 3n));
    s.call.write(batch('a', 4n));
    await until(() => s.acks.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(s.acks, [1n]);
    assert.equal(sink.accepts, 1);
    s.call.write(batch('a', 2n));
    await until(() => s.acks.length === 2);
    assert.deepEqual(s.acks, [1n, 4n]);
    assert.deepEqual(sink.batches.get('a')!.map((b) => b.sequence), [1n, 2n, 3n, 4n]);
  });

  it('refuses a stream that runs too far ahead, and keeps serving others', async () => {
    sink = new MemorySink();
    server.forceShutdown();
    ({ server, port } = await serve(sink, { maxHeldBatches: 2 }));
    const s = stream();
    for (const q of [2n, 3n, 4n]) s.call.write(batch('a', q));
    const st = await s.status;
    assert.equal(st.code, status.FAILED_PRECONDITION);
    assert.equal(s.acks.length, 0);
    const t = stream();
    t.call.write(batch('a', 1n));
    await until(() => t.acks.length === 1);
  });

  it('pauses streams while the ingest budget is full, stores everything in order, and gives the budget back', async () => {
    const one = FlowBatch.encode(batch('x', 1n)).finish().length;
    const budget = new IngestBudget(3 * batchCost(one, 2));
    sink = new MemorySink();
    sink.delayMs = 30;
    server.forceShutdown();
    ({ server, port } = await serve(sink, { budget }));
    const ss = ['p', 'q', 'r'].map((id) => {
      const s = stream();
      for (let q = 1n; q <= 5n; q++) s.call.write(batch(id, q));
      return s;
    });
    let peak = 0;
    await until(() => {
      peak = Math.max(peak, budget.inflight);
      return ss.every((s) => s.acks.includes(5n));
    }, 10_000);
    assert.equal(sink.violations, 0);
    assert.equal(sink.uuids().length, 30);
    assert.ok(peak <= HARD_FACTOR * budget.limit, `${peak} in flight`);
    assert.equal(budget.inflight, 0);
  });

  it('refuses a stream holding out-of-order batches once the budget fills, so it cannot keep others paused', async () => {
    const one = FlowBatch.encode(batch('x', 1n)).finish().length;
    const budget = new IngestBudget(2 * batchCost(one, 2));
    sink = new MemorySink();
    server.forceShutdown();
    ({ server, port } = await serve(sink, { budget }));
    const holder = stream();
    holder.call.write(batch('h', 2n));
    await until(() => budget.inflight > 0);
    sink.delayMs = 200;
    const other = stream();
    for (let q = 1n; q <= 3n; q++) other.call.write(batch('o', q));
    const st = await holder.status;
    assert.equal(st.code, status.RESOURCE_EXHAUSTED);
    assert.match(st.details, /out-of-order batches of this stream given up/);
    await until(() => other.acks.includes(3n), 10_000);
  });

  it('gives back the budget of a collector that hangs up half-way, holding batches, and keeps serving others', async () => {
    const one = FlowBatch.encode(batch('x', 1n)).finish().length;
    const budget = new IngestBudget(8 * batchCost(one, 2));
    sink = new MemorySink();
    server.forceShutdown();
    ({ server, port } = await serve(sink, { budget }));
    const quitter = stream();
    quitter.call.write(batch('gone', 1n));
    await until(() => quitter.acks.includes(1n));
    // Batches 3 and 4 wait for a 2 that never comes; then the collector is gone.
    quitter.call.write(batch('gone', 3n));
    quitter.call.write(batch('gone', 4n));
    await until(() => budget.inflight >= 2 * batchCost(one, 2));
    quitter.call.cancel();
    await until(() => budget.inflight === 0);
    const other = stream();
    for (let q = 1n; q <= 3n; q++) other.call.write(batch('stays', q));
    await until(() => other.acks.includes(3n));
    assert.deepEqual(stored(sink).filter((u) => u.startsWith('gone-')).sort(), ['gone-1-0', 'gone-1-1']);
    assert.equal(budget.inflight, 0);
  });

  it('answers a batch without session or a heartbeat with flows with INVALID_ARGUMENT, and keeps serving', async () => {
    const errors: string[] = [];
    server.forceShutdown();
    ({ server, port } = await serve(sink, { onError: (e) => errors.push(e.message) }));
    const s = stream();
    s.call.write(batch('', 1n));
    assert.equal((await s.status).code, status.INVALID_ARGUMENT);
    const t = stream();
    t.call.write(batch('a', 0n, 1));
    assert.equal((await t.status).code, status.INVALID_ARGUMENT);
    assert.equal(errors.length, 2);
    const u = stream();
    u.call.write(batch('a', 1n));
    await until(() => u.acks.length === 1);
    assert.equal(sink.accepts, 1);
  });

  it('answers garbage on the wire with an error status, and keeps serving', async () => {
    const client = new FlowExportClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const raw = client.makeBidiStreamRequest('/cillion.export.v1.FlowExport/Export', (b: Buffer) => b, (b: Buffer) => b);
    raw.on('error', () => undefined);
    const st = new Promise<StatusObject>((res) => raw.on('status', res));
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    assert.notEqual((await st).code, status.OK);
    client.close();
    const s = stream();
    s.call.write(batch('a', 1n));
    await until(() => s.acks.length === 1);
  });

  it('fails the stream with UNAVAILABLE when the sink fails, and stores the batch on retry', async () => {
    sink.failing = true;
    const s = stream();
    s.call.write(batch('a', 1n));
    assert.equal((await s.status).code, status.UNAVAILABLE);
    assert.equal(s.acks.length, 0);
    sink.failing = false;
    const t = stream();
    t.call.write(batch('a', 1n));
    await until(() => t.acks.length === 1);
    assert.deepEqual(t.acks, [1n]);
  });

  it('after a failed batch, fails the session\'s batches taken behind it, then acks a resent stored batch and stores the rest', async () => {
    const s = stream();
    s.call.write(batch('f', 1n));
    await until(() => s.acks.length === 1);
    sink.delayMs = 30;
    sink.failing = true;
    // Taken one after another, stored (and failed) later: neither may be acknowledged.
    s.call.write(batch('f', 2n));
    s.call.write(batch('f', 3n));
    assert.equal((await s.status).code, status.UNAVAILABLE);
    assert.deepEqual(s.acks, [1n]);
    sink.failing = false;
    sink.delayMs = 0;
    const t = stream();
    for (const q of [1n, 2n, 3n]) t.call.write(batch('f', q));
    await until(() => t.acks.at(-1) === 3n);
    assert.deepEqual(sink.batches.get('f')!.map((b) => b.sequence), [1n, 2n, 3n]);
    assert.equal(sink.violations, 0);
  });

  it('keeps one session in order across overlapping streams and serves many sessions at once', async () => {
    sink.delayMs = 5;
    const a1 = stream();
    const a2 = stream();
    const b = stream();
    for (let q = 1n; q <= 5n; q++) {
      a1.call.write(batch('a', q));
      a2.call.write(batch('a', q));
      b.call.write(batch('b', q));
    }
    await until(() => a1.acks.length === 5 && a2.acks.length === 5 && b.acks.length === 5);
    assert.equal(sink.batches.get('a')!.length, 5);
    assert.equal(sink.batches.get('b')!.length, 5);
    assert.equal(a1.acks.at(-1), 5n);
    assert.equal(a2.acks.at(-1), 5n);
    assert.equal(new Set(sink.uuids()).size, 20);
    assert.equal(sink.violations, 0);
  });

  it('passes every batch\'s counters and flow table on', async () => {
    const reports: CollectorReport[] = [];
    server.forceShutdown();
    ({ server, port } = await serve(sink, { onCounters: (r) => reports.push(r) }));
    const s = stream();
    const hb = batch('a', 0n, 0);
    hb.counters = { ...zeroCounters(), ringRecords: 10n, ringReserveFailures: 1n, exportDrops: 2n, decodeErrors: 3n, flowsExported: 4n, packetsLost: 5n };
    hb.sentAt = { seconds: 1_700_000_000n, nanos: 250_000_000 };
    hb.flowTable = { entries: 7n, capacity: 100n };
    s.call.write(hb);
    await until(() => s.acks.length === 1);
    assert.deepEqual(reports, [{ nodeName: 'n1', clusterName: 'c1', sessionId: 'a', sequence: 0n, counters: hb.counters, flowTable: { entries: 7n, capacity: 100n }, sentAtMs: 1_700_000_000_250 }]);
  });
});
