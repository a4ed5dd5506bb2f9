// The exporter's failover between relays and the relay's takeover and retraction
// (relay/export/ingest.ts), over loopback, each "relay" an export service over a MemorySink.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Metadata, Server, ServerCredentials, status, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { Exporter, type ExporterOptions } from '../../../collector/exporter';
import { FlowExportService, type ExportAck, type FlowBatch } from '../../../proto/gen/export/v1/export';
import { Flow } from '../../../proto/gen/flow/flow';
import { exportService, MAX_HANDOVER_SEQUENCE, type FailoverEvent, type IngestOptions } from '../../../relay/export/ingest';
import { MemorySink } from '../relay/export/memorysink';
import { exchange as sendOn } from '../relay/export_exchange';

/** One relay: its sink outlives its server, as a store outlives a relay process. */
class FakeRelay {
  server: Server | undefined;
  /** While set, batches are stored but acknowledgements are swallowed (the relay dies before acking). */
  mute = false;
  readonly events: FailoverEvent[] = [];
  readonly breaches: string[] = [];
  /** While set, retractions received are held (never handled): one still on its way. */
  holdRetractions = false;
  readonly held: { call: ServerDuplexStream<FlowBatch, ExportAck>; batch: FlowBatch }[] = [];
  /** Streams the collector cancelled. */
  readonly cancelled = new Set<ServerDuplexStream<FlowBatch, ExportAck>>();

  constructor(
    readonly name: string,
    readonly sink: MemorySink,
    private readonly opts: IngestOptions = {},
    public port = 0,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new Server();
    const svc = exportService(this.sink, { relayName: this.name, onFailover: (e) => this.events.push(e), onBreach: (_k, m) => this.breaches.push(m), ...this.opts });
    server.addService(FlowExportService, {
      export: (call: ServerDuplexStream<FlowBatch, ExportAck>) => {
        const write = call.write.bind(call);
        call.write = ((ack: ExportAck) => (this.mute ? true : write(ack))) as typeof call.write;
        call.on('cancelled', () => this.cancelled.add(call));
        const emit = call.emit.bind(call);
        call.emit = ((event: string | symbol, ...args: unknown[]) => {
          const batch = args[0] as FlowBatch | undefined;
          if (event === 'data' && this.holdRetractions && batch?.retraction) {
            this.held.push({ call, batch });
            return true;
          }
          // A stream with a held message is not done: its end waits too.
          if (event === 'end' && this.held.some((h) => h.call === call)) return true;
          return emit(event, ...args);
        }) as typeof call.emit;
        svc.export(call);
      },
    });
    this.port = await new Promise<number>((res, rej) => server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let seq = 0;
const flow = (): Flow => Flow.fromPartial({ time: { seconds: 1_700_000_000n + BigInt(++seq), nanos: 0 }, uuid: randomUUID(), nodeName: 'n1' });

/** Every uuid stored across the sinks, with how often. */
function copies(...sinks: MemorySink[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const s of sinks) for (const u of s.uuids()) n.set(u, (n.get(u) ?? 0) + 1);
  return n;
}

/** Pushes n fresh flows into the exporter, keeping them in `sent` when given. */
function pusher(e: Exporter, sent?: Flow[]): (n: number) => void {
  return (n) => {
    for (let i = 0; i < n; i++) {
      const f = flow();
      sent?.push(f);
      e.push(f);
    }
  };
}

describe('collector/exporter failover across relays', () => {
  const exporters: Exporter[] = [];
  const relays: FakeRelay[] = [];
  const relay = async (name: string, sink = new MemorySink(), opts: IngestOptions = {}): Promise<FakeRelay> => {
    const r = new FakeRelay(name, sink, opts);
    await r.start();
    relays.push(r);
    return r;
  };
  const exporter = (o: Partial<ExporterOptions> & Pick<ExporterOptions, 'target'>): Exporter => {
    const e = new Exporter({ nodeName: 'n1', clusterName: 'c1', maxBacklogFlows: 10_000, batchFlows: 5, flushMs: 10, failoverMs: 150, backoff: { initialMs: 10, maxMs: 50 }, ...o });
    exporters.push(e);
    return e;
  };
  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.close(100)));
    for (const r of relays.splice(0)) r.stop();
  });

  it('moves to the next relay keeping its session; that relay takes over at the acknowledged sequence; the restarted one retracts what it stored unacknowledged', async () => {
    const a = await relay('relay-a');
    const b = await relay('relay-b');
    const e = exporter({ target: [a.address, b.address] });
    const sent: Flow[] = [];
    const push = pusher(e, sent);
    push(10);
    await until('2 batches acked by a', () => e.counters().ackedSequence === 2n);
    assert.equal(e.counters().relayName, 'relay-a');
    const session = e.counters().sessionId;
    // a stores batches 3 and 4 and dies before acknowledging them.
    a.mute = true;
    push(10);
    await until('a stores 4 batches', () => a.sink.batches.get(session)?.length === 4);
    a.stop();
    push(10);
    await until('6 batches acked by b', () => e.counters().ackedSequence === 6n, 5000);
    const c = e.counters();
    assert.equal(c.sessionId, session, 'the session is kept');
    assert.equal(c.failovers, 1);
    assert.equal(c.target, b.address);
    assert.equal(c.relayName, 'relay-b');
    assert.deepEqual(b.sink.takeovers, [{ key: session, after: 2n, previous: 'relay-a' }]);
    assert.deepEqual(b.sink.batches.get(session)!.map((x) => x.sequence), [3n, 4n, 5n, 6n]);
    assert.deepEqual(e.pendingHandovers().map((h) => [h.relayName, h.after, h.through]), [['relay-a', 2n, 6n]]);
    // Until a answers again, batches 3 and 4 are in both stores.
    assert.equal([...copies(a.sink, b.sink).values()].filter((n) => n === 2).length, 10);
    a.mute = false;
    await a.start();
    await until('the retraction at a', () => e.counters().handoversPending === 0);
    assert.deepEqual(a.sink.retractions, [{ key: session, after: 2n, through: 6n }]);
    assert.deepEqual(a.sink.batches.get(session)!.map((x) => x.sequence), [1n, 2n]);
    const all = copies(a.sink, b.sink);
    assert.deepEqual([...all.keys()].sort(), sent.map((f) => f.uuid).sort(), 'every flow stored');
    assert.ok([...all.values()].every((n) => n === 1), 'none stored twice');
    assert.equal(e.counters().retractions, 1);
    assert.ok(a.events.some((x) => x.kind === 'retraction') && b.events.some((x) => x.kind === 'takeover'));
  });

  it('wraps round the list; a relay owed a retraction gets it first on the stream it is exported to again', async () => {
    const a = await relay('relay-a');
    const b = await relay('relay-b');
    const e = exporter({ target: [a.address, b.address] });
    const sent: Flow[] = [];
    const push = pusher(e, sent);
    push(10);
    await until('acked by a', () => e.counters().ackedSequence === 2n);
    const session = e.counters().sessionId;
    a.mute = true;
    push(5);
    await until('a stores batch 3', () => a.sink.batches.get(session)?.length === 3);
    a.stop();
    await until('b takes over', () => e.counters().relayName === 'relay-b' && e.counters().ackedSequence === 3n);
    // b stores batch 4 unacknowledged and dies; a is back (the retraction timer has not run yet).
    b.mute = true;
    push(5);
    await until('b stores batch 4', () => b.sink.batches.get(session)?.length === 2);
    b.stop();
    a.mute = false;
    await a.start();
    push(5);
    await until('a acks batch 5', () => e.counters().ackedSequence === 5n && e.counters().relayName === 'relay-a', 5000);
    assert.equal(e.counters().failovers, 2);
    // a dropped its batch 3 before taking the session over again at 3 from b.
    assert.deepEqual(a.sink.retractions.map((r) => [r.after, r.through]), [[2n, 3n]]);
    assert.deepEqual(a.sink.takeovers.map((t) => [t.after, t.previous]), [[3n, 'relay-b']]);
    assert.deepEqual(a.sink.batches.get(session)!.map((x) => x.sequence), [1n, 2n, 4n, 5n]);
    b.mute = false;
    await b.start();
    await until('b retracted batch 4', () => e.counters().handoversPending === 0);
    const all = copies(a.sink, b.sink);
    assert.deepEqual([...all.keys()].sort(), sent.map((f) => f.uuid).sort());
    assert.ok([...all.values()].every((n) => n === 1), 'none stored twice');
  });

  it('failing back to a relay, cancels the retraction still on a side stream to it: it goes first on the new stream, naming the relay', async () => {
    const a = await relay('relay-a');
    const b = await relay('relay-b');
    const e = exporter({ target: [a.address, b.address] });
    const push = pusher(e);
    push(10);
    await until('acked by a', () => e.counters().ackedSequence === 2n);
    const session = e.counters().sessionId;
    a.mute = true;
    push(10);
    await until('a stores 4 batches', () => a.sink.batches.get(session)?.length === 4);
    a.stop();
    push(10);
    await until('6 batches acked by b', () => e.counters().ackedSequence === 6n && e.counters().relayName === 'relay-b', 5000);
    a.mute = false;
    a.holdRetractions = true;
    await a.start();
    await until('a retraction on its way to a on a side stream', () => a.held.length === 1);
    const side = a.held[0];
    assert.deepEqual(side.batch.retraction, { afterSequence: 2n, throughSequence: 6n, relayName: 'relay-a' });
    b.stop();
    push(5);
    await until('a acks batch 7', () => e.counters().ackedSequence === 7n && e.counters().relayName === 'relay-a', 5000);
    // Cancelled as the exporter came back (its own deadline is 5 s away).
    await until('the side stream cancelled', () => a.cancelled.has(side.call), 1000);
    // Sent again on the export stream (a stream that broke before its first answer sends it again too).
    const later = a.held.slice(1);
    assert.ok(later.length >= 1);
    for (const h of later) {
      assert.notEqual(h.call, side.call);
      assert.deepEqual(h.batch.retraction, side.batch.retraction);
    }
  });

  it('with a shared store the next relay continues from the dead one\'s position: no takeover, nothing to retract, nothing stored twice', async () => {
    const shared = new MemorySink();
    const a = await relay('relay-a', shared, { sharedStore: true });
    const b = await relay('relay-b', shared, { sharedStore: true });
    const e = exporter({ target: [a.address, b.address] });
    const sent = Array.from({ length: 10 }, flow);
    for (const f of sent.slice(0, 5)) e.push(f);
    await until('acked by a', () => e.counters().ackedSequence === 1n);
    a.mute = true;
    for (const f of sent.slice(5)) e.push(f);
    await until('a stores batch 2', () => shared.uuids().length === 10);
    a.stop();
    await until('b acks batch 2', () => e.counters().relayName === 'relay-b' && e.counters().ackedSequence === 2n);
    assert.equal(shared.takeovers.length, 0);
    assert.equal(e.counters().handoversPending, 0);
    assert.deepEqual(shared.uuids(), sent.map((f) => f.uuid));
    assert.equal(shared.violations, 0);
  });

  it('with a shared store at exactly the handed-over position, nothing is retracted (it would delete what the next relay stores)', async () => {
    const shared = new MemorySink();
    const a = await relay('relay-a', shared, { sharedStore: true });
    const b = await relay('relay-b', shared, { sharedStore: true });
    const e = exporter({ target: [a.address, b.address] });
    for (let i = 0; i < 5; i++) e.push(flow());
    await until('acked by a', () => e.counters().ackedSequence === 1n);
    a.stop();
    for (let i = 0; i < 5; i++) e.push(flow());
    await until('b acks batch 2', () => e.counters().relayName === 'relay-b' && e.counters().ackedSequence === 2n);
    assert.equal(e.counters().handoversPending, 0);
    assert.equal(shared.uuids().length, 10);
  });

  it('the same address answering under a new name (a restart) owes no retraction: its store keeps what it holds', async () => {
    const sink = new MemorySink();
    const a = await relay('relay-a', sink);
    const e = exporter({ target: [a.address, '127.0.0.1:1'] });
    for (let i = 0; i < 5; i++) e.push(flow());
    await until('acked by a', () => e.counters().ackedSequence === 1n);
    a.stop();
    const renamed = new FakeRelay('relay-a2', sink, {}, a.port);
    await renamed.start();
    relays.push(renamed);
    for (let i = 0; i < 5; i++) e.push(flow());
    await until('acked by the renamed relay', () => e.counters().relayName === 'relay-a2' && e.counters().ackedSequence === 2n);
    assert.equal(e.counters().handoversPending, 0);
    assert.equal(sink.uuids().length, 10);
  });

  it('a relay named in the handover is no failover: the old rule holds (a lost position starts a new session)', async () => {
    const a = await relay('relay-a');
    const e = exporter({ target: [a.address] });
    for (let i = 0; i < 5; i++) e.push(flow());
    await until('acked', () => e.counters().ackedSequence === 1n);
    const first = e.counters().sessionId;
    a.stop();
    // The same relay name with an empty store (its data lost).
    const again = new FakeRelay('relay-a', new MemorySink(), {}, a.port);
    await again.start();
    relays.push(again);
    await until('a new session', () => e.counters().sessionResets === 1);
    assert.notEqual(e.counters().sessionId, first);
    assert.equal(again.sink.takeovers.length, 0);
  });
});

describe('relay/export/ingest handovers and retractions from a lying client', () => {
  let server: Server;
  let port: number;
  const sink = new MemorySink(true);
  const breaches: string[] = [];
  before(async () => {
    server = new Server();
    // The stream's node comes from the call (a certificate, here a header), never from the batch.
    server.addService(FlowExportService, exportService(sink, { relayName: 'me', nodeOf: (call) => ({ node: String(call.metadata.get('node')[0] ?? 'n1') }), onBreach: (_k, m) => breaches.push(m) }));
    port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  });
  after(() => server.forceShutdown());

  const base = (sessionId: string, sequence: bigint): FlowBatch => ({
    nodeName: 'n1', clusterName: 'c1', sessionId, sequence, flows: [], counters: undefined, sentAt: undefined, columns: undefined, handover: undefined, retraction: undefined, flowTable: undefined,
  });

  /** Sends the messages on one stream as `node`; resolves with the acks and how the stream ended. */
  function exchange(node: string, msgs: FlowBatch[], wantAcks = msgs.length): Promise<{ acks: ExportAck[]; error?: ServiceError }> {
    const md = new Metadata();
    md.set('node', node);
    return sendOn(`127.0.0.1:${port}`, msgs, wantAcks, md);
  }

  const withFlows = (sessionId: string, sequence: bigint): FlowBatch => ({ ...base(sessionId, sequence), flows: [Flow.fromPartial({ uuid: randomUUID(), time: { seconds: 1_700_000_000n, nanos: 0 } })] });

  it('refuses a handover beyond any plausible sequence, or one in a batch with flows, with INVALID_ARGUMENT, counted, and keeps serving', async () => {
    const far = await exchange('n1', [{ ...base('s-far', 0n), handover: { ackedSequence: MAX_HANDOVER_SEQUENCE + 1n, relayName: 'other' } }]);
    assert.equal(far.error?.code, status.INVALID_ARGUMENT);
    assert.match(far.error!.details, /beyond/);
    const inBatch = await exchange('n1', [{ ...withFlows('s-b', 1n), handover: { ackedSequence: 5n, relayName: 'other' } }]);
    assert.equal(inBatch.error?.code, status.INVALID_ARGUMENT);
    const empty = await exchange('n1', [{ ...base('s-r', 0n), retraction: { afterSequence: 4n, throughSequence: 4n, relayName: 'me' } }]);
    assert.equal(empty.error?.code, status.INVALID_ARGUMENT);
    assert.equal(breaches.length, 3);
    assert.equal(sink.takeovers.length, 0);
    // The largest plausible one is taken: the session waits at it, for its own node only.
    const max = await exchange('n1', [{ ...base('s-max', 0n), handover: { ackedSequence: MAX_HANDOVER_SEQUENCE, relayName: 'other' } }]);
    assert.equal(max.acks[0].ackedSequence, MAX_HANDOVER_SEQUENCE);
    assert.equal(max.acks[0].relayName, 'me');
    assert.equal(max.acks[0].retractPrevious, true);
    assert.equal(await sink.position('n2', 's-max'), 0n);
  });

  it('a node retracts only its own sessions: the same session id named by another node deletes nothing', async () => {
    const stored = await exchange('n1', [withFlows('s-own', 1n), withFlows('s-own', 2n)]);
    assert.deepEqual(stored.acks.map((a) => a.ackedSequence), [1n, 2n]);
    const other = await exchange('n2', [{ ...base('s-own', 0n), retraction: { afterSequence: 0n, throughSequence: 2n, relayName: 'me' } }]);
    assert.ok(other.acks[0].retracted);
    assert.equal(await sink.position('n1', 's-own'), 2n);
    assert.equal(sink.retractions.length, 0, 'n2 has no such session here: nothing to delete');
    const own = await exchange('n1', [{ ...base('s-own', 0n), retraction: { afterSequence: 1n, throughSequence: 2n, relayName: 'me' } }, base('s-own', 0n)]);
    assert.deepEqual(own.acks.map((a) => [a.ackedSequence, Boolean(a.retracted)]), [[1n, true], [1n, false]]);
    assert.deepEqual(sink.retractions, [{ key: 'n1/s-own', after: 1n, through: 2n }]);
  });
});
