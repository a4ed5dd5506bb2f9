// The relay as an outside client would try to exhaust it: oversized and malformed messages,
// bad timestamps, duplicate uuids, huge requests, expensive queries cancelled half-way, a
// flood of maximum-size batches. Each breach gets a status, the relay counts it, and an
// honest collector and reader are served throughout. The relay runs with mutual TLS, each
// client with a certificate of its own role; the flood test runs a relay process on
// plaintext loopback, where the limits are the same.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, type ChannelCredentials, status, type ClientDuplexStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { Session } from 'chdb';
import { ExportAck, FlowBatch, FlowExportClient, FlowExportService, type FlowColumns } from '../../../../proto/gen/export/v1/export';
import { Endpoint, Flow, FlowFilter, ScionPath, ScionPathType } from '../../../../proto/gen/flow/flow';
import { encodeScionPathBytes } from '../../../../scion/path/raw';
import { encodeColumns } from '../../../../columns/encode';
import { GetFlowsRequest as GetFlowsRequestCodec, ObserverClient, type GetFlowsRequest, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { FlowHistoryService, GetFlowBatchesResponse } from '../../../../proto/gen/observer/v1/flow_history';
import { DEFAULT_LIMITS } from '../../../../relay/limits';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { getFlows, makeFlow, readAll, uuidFor, uuidsOf } from '../../observer/helpers';
import { FakeCollector } from '../exporter_client';
import { issue, makeCerts } from '../test_certs';
import type { RelayTlsOptions } from '../../../../relay/tls';
import { until } from '../../../until';

const ROOT = join(__dirname, '..', '..', '..', '..');
const U64_MAX = 2n ** 64n - 1n;
const I64_MAX = 2n ** 63n - 1n;
/** Rows per block of the relay's store queries (query.ts): the engine notices a kill between blocks. */
const BLOCK_ROWS = 8192;
/** The relay's query time limit in these tests: far beyond what a cancel may take. */
const LIMIT_MS = 30_000;

interface Stream {
  call: ClientDuplexStream<FlowBatch, ExportAck>;
  acks: ExportAck[];
  status: Promise<StatusObject>;
  close(): void;
}

/** Set up in `before`: the relay's TLS files and the clients' certificates. */
let tls: RelayTlsOptions;
let hostileCreds: ChannelCredentials;
let readerCreds: ChannelCredentials;

/** A relay's address by the name its certificate carries. */
const byName = (address: string): string => address.replace('127.0.0.1', 'localhost');

function openStream(address: string, creds: ChannelCredentials = hostileCreds): Stream {
  const client = new FlowExportClient(byName(address), creds);
  const call = client.export();
  const acks: ExportAck[] = [];
  call.on('data', (a: ExportAck) => acks.push(a));
  call.on('error', () => undefined);
  const st = new Promise<StatusObject>((res) => call.on('status', res));
  return { call, acks, status: st, close: () => (call.cancel(), client.close()) };
}

function batch(sessionId: string, sequence: bigint, flows: Flow[], nodeName = 'hostile'): FlowBatch {
  return FlowBatch.fromPartial({ nodeName, clusterName: 'c1', sessionId, sequence, flows });
}

async function acked(s: Stream, sequence: bigint): Promise<ExportAck> {
  await until(`ack of ${sequence}`, () => s.acks.some((a) => a.ackedSequence >= sequence));
  return s.acks.find((a) => a.ackedSequence >= sequence) as ExportAck;
}

type FlowsMethod = 'GetFlows' | 'GetFlowBatches';

/** Every response to `req` by `method`, GetFlowBatches' batches taken apart. */
function responsesOf(client: ObserverClient, req: Partial<GetFlowsRequest>, method: FlowsMethod = 'GetFlows'): Promise<GetFlowsResponse[]> {
  if (method === 'GetFlows') return readAll(getFlows(client, req));
  const stream = client.makeServerStreamRequest(
    FlowHistoryService.getFlowBatches.path,
    (r: GetFlowsRequest) => Buffer.from(GetFlowsRequestCodec.encode(r).finish()),
    (b: Buffer) => GetFlowBatchesResponse.decode(b),
    GetFlowsRequestCodec.fromPartial(req),
  );
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse[] = [];
    stream.on('data', (b: GetFlowBatchesResponse) => out.push(...b.responses));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

function flowsOf(client: ObserverClient, req: Partial<GetFlowsRequest>, method: FlowsMethod = 'GetFlows'): Promise<string[]> {
  return responsesOf(client, req, method).then(uuidsOf);
}

function failure(client: ObserverClient, req: Partial<GetFlowsRequest>, method: FlowsMethod = 'GetFlows'): Promise<ServiceError> {
  return responsesOf(client, req, method).then(
    () => assert.fail('expected an error status'),
    (e: ServiceError) => e,
  );
}

function scrape(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A standard SCION path of two segments with these many hop fields each. */
function rawPathOf(...segments: number[]): Buffer {
  const hop = { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 1, consEgress: 2, mac: new Uint8Array(6) };
  const segLens: [number, number, number] = [segments[0] ?? 0, segments[1] ?? 0, segments[2] ?? 0];
  return Buffer.from(encodeScionPathBytes({
    type: 'SCION',
    meta: { currInf: 0, currHf: 0, segLens },
    infoFields: segments.map((_, k) => ({ consDir: true, peer: false, segId: k, timestamp: 1_767_225_600 })),
    hopFields: segments.flatMap((n) => Array.from({ length: n }, () => hop)),
  }));
}

/** A flow now-ish with a unique uuid. */
let serial = 0;
function fresh(over: Partial<Flow> = {}): Flow {
  const i = ++serial;
  const ns = BigInt(Date.now()) * 1_000_000n + BigInt(i);
  return makeFlow(i, { uuid: uuidFor(`bounds-${process.pid}-${i}`), time: { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) }, ...over });
}

describe('relay/hostile/bounds', function () {
  this.timeout(120_000);
  let dir: string;
  let store: FlowStore;
  let relay: Relay;
  let client: ObserverClient;
  let honest: FakeCollector;
  let honestFlows = 0;
  const logs: string[] = [];

  /** The honest collector and reader still get through. */
  async function served(): Promise<void> {
    const f = fresh({ nodeName: 'honest' });
    const seq = honest.send([f]);
    await honest.acked(seq, 10_000);
    honestFlows++;
    assert.deepEqual(await flowsOf(client, { whitelist: [FlowFilter.fromPartial({ uuid: [f.uuid] })] }), [f.uuid]);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-bounds-'));
    store = await openStore({ dataDir: join(dir, 'store'), queryLimits: { timeoutMs: LIMIT_MS }, onError: (e) => logs.push(`store: ${e.message}`) });
    makeCerts(join(dir, 'certs'));
    tls = { cert: join(dir, 'certs', 'server.pem'), key: join(dir, 'certs', 'server.key'), clientCa: join(dir, 'certs', 'ca.pem') };
    const creds = (out: string, name: string, role: 'collector' | 'reader'): ChannelCredentials => {
      const c = issue(join(dir, 'certs'), out, name, [role]);
      return credentials.createSsl(readFileSync(tls.clientCa as string), readFileSync(c.key), readFileSync(c.cert));
    };
    hostileCreds = creds('hostile', 'hostile', 'collector');
    readerCreds = creds('reader', 'auditor', 'reader');
    const honestCreds = creds('honest', 'honest', 'collector');
    relay = await startRelay({
      listen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      store,
      tls,
      mergeWindowMs: 50,
      shutdownGraceMs: 200,
      limits: { maxBatchFlows: 1000, maxHops: 3, queryTimeoutMs: LIMIT_MS },
      log: (l) => logs.push(l),
    });
    client = new ObserverClient(byName(relay.address), readerCreds);
    honest = new FakeCollector(byName(relay.address), 'honest', undefined, honestCreds);
  });

  after(async () => {
    client.close();
    await honest.close();
    await relay.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED, logs and counts it', async () => {
    const s = openStream(relay.address);
    // Over the default 4 MiB: 5000 labels of 1000 characters.
    const big = fresh({ source: Endpoint.fromPartial({ namespace: 'x', podName: 'p', labels: Array.from({ length: 5000 }, (_, i) => `k8s:l${i}=${'v'.repeat(1000)}`) }) });
    s.call.write(batch('big', 1n, [big]));
    const st = await s.status;
    assert.equal(st.code, status.RESOURCE_EXHAUSTED);
    assert.match(st.details, /larger than/);
    s.close();
    assert.equal(metric(await scrape(relay.metricsAddress as string), 'cillion_limit_breaches_total', 'kind="message_size"'), 1);
    assert.ok(logs.some((l) => /^limit message_size from .*: Received message larger than max/.test(l)), logs.join('\n'));
    await served();
  });

  it('refuses a batch of too many flows whole, and the session stays usable', async () => {
    const s = openStream(relay.address);
    s.call.write(batch('many', 1n, Array.from({ length: 1001 }, () => Flow.fromPartial({}))));
    const st = await s.status;
    assert.equal(st.code, status.RESOURCE_EXHAUSTED);
    assert.match(st.details, /batch of 1001 flows; at most 1000/);
    s.close();
    const again = openStream(relay.address);
    const f = fresh();
    again.call.write(batch('many', 1n, [f]));
    assert.equal((await acked(again, 1n)).rejectedFlows, 0n);
    again.close();
    assert.deepEqual(await flowsOf(client, { whitelist: [FlowFilter.fromPartial({ uuid: [f.uuid] })] }), [f.uuid]);
    await served();
  });

  it('refuses column batches that lie (an index past its table, padded tables, a column of the wrong length) with INVALID_ARGUMENT, and refuses a lying enum flow alone', async () => {
    const columnsBatch = (sessionId: string, sequence: bigint, poke: (c: FlowColumns) => void): FlowBatch => {
      const { columns } = encodeColumns([fresh(), fresh()]);
      poke(columns);
      return FlowBatch.fromPartial({ nodeName: 'hostile', clusterName: 'c1', sessionId, sequence, columns });
    };
    const lies: [string, (c: FlowColumns) => void, RegExp][] = [
      ['index', (c) => (c.sourceIp = Buffer.from([0, 0, 0, 0, 200, 0, 0, 0])), /sourceIp of flow 1 references entry 200/],
      ['padding', (c) => (c.strings = Array.from({ length: 100 }, (_, k) => `pad-${k}`)), /with 100 strings; at most 32/],
      ['length', (c) => (c.verdict = Buffer.from([1, 1, 1])), /verdict/],
    ];
    for (const [what, poke, why] of lies) {
      const s = openStream(relay.address);
      s.call.write(columnsBatch(`lie-${what}`, 1n, poke));
      const st = await s.status;
      assert.equal(st.code, status.INVALID_ARGUMENT, what);
      assert.match(st.details, why);
      s.close();
      await served();
    }
    // An enum value no stored column names: that flow alone is refused, the other stored.
    const s = openStream(relay.address);
    s.call.write(columnsBatch('lie-enum', 1n, (c) => (c.verdict = Buffer.from([1, 250]))));
    const ack = await acked(s, 1n);
    assert.equal(ack.rejectedFlows, 1n);
    assert.match(ack.rejectedReason, /verdict 250/);
    // Hanging up with the next batch half-way: the session stays at 1, and serves again.
    s.call.write(columnsBatch('lie-enum', 3n, () => undefined));
    s.close();
    const again = openStream(relay.address);
    again.call.write(FlowBatch.fromPartial({ nodeName: 'hostile', clusterName: 'c1', sessionId: 'lie-enum', sequence: 0n }));
    assert.equal((await acked(again, 1n)).ackedSequence, 1n);
    again.close();
    await served();
  });

  it('gives a column batch that sent no uuids fresh ones, and the other columns it left out stay empty', async () => {
    // The fresh uuids once went into the zero buffer every omitted column shared, so the
    // batch's missing verdicts, endpoints and path read random bytes.
    const at = (nanos: number) => ({ seconds: 1_700_000_123n, nanos });
    const { columns } = encodeColumns([fresh({ time: at(42) }), fresh({ time: at(43) })]);
    columns.uuid = Buffer.alloc(0);
    columns.verdict = Buffer.alloc(0);
    columns.sourceEndpoint = Buffer.alloc(0);
    columns.path = Buffer.alloc(0);
    const s = openStream(relay.address);
    s.call.write(FlowBatch.fromPartial({ nodeName: 'hostile', clusterName: 'c1', sessionId: 'no-uuids', sequence: 1n, columns }));
    assert.equal((await acked(s, 1n)).rejectedFlows, 0n);
    s.close();
    const back = (await readAll(getFlows(client, { since: at(42), until: at(43) }))).flatMap((r) => (r.responseTypes?.$case === 'flow' ? [r.responseTypes.value] : []));
    assert.equal(back.length, 2);
    assert.equal(new Set(back.map((f) => f.uuid)).size, 2);
    for (const f of back) {
      assert.match(f.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(f.verdict, 0);
      assert.equal(f.source, undefined);
      assert.equal(f.scionPath, undefined);
    }
    await served();
  });

  it('rejects flows with time 0, negative, year 2300, bad nanos, or empty alone; stores the rest and keeps the session', async () => {
    const s = openStream(relay.address);
    const good = [fresh(), fresh()];
    const bad = [
      fresh({ time: { seconds: 0n, nanos: 0 } }),
      fresh({ time: { seconds: -5n, nanos: 0 } }),
      fresh({ time: { seconds: 10_413_792_000n, nanos: 0 } }),
      fresh({ time: { seconds: 1_700_000_000n, nanos: 1_000_000_000 } }),
      Flow.fromPartial({}),
      // Hop fields past --max-hops in the raw path (what the relay rebuilds hops from); hops a
      // client lists itself are never read. SCION paths hold 64 at most, so 4 over a limit of 3.
      fresh({ scionPath: ScionPath.fromPartial({ srcIa: '1-ff00:0:1', dstIa: '1-ff00:0:2', type: ScionPathType.SCION_PATH_STANDARD, raw: rawPathOf(4) }) }),
    ];
    s.call.write(batch('mixed', 1n, [good[0], ...bad, good[1]]));
    const ack = await acked(s, 1n);
    assert.equal(ack.rejectedFlows, BigInt(bad.length));
    assert.match(ack.rejectedReason, /time/);
    const next = fresh();
    s.call.write(batch('mixed', 2n, [next]));
    assert.equal((await acked(s, 2n)).rejectedFlows, 0n);
    s.close();
    const uuids = [...good, ...bad, next].map((f) => f.uuid).filter((u) => u !== '');
    const stored = await flowsOf(client, { whitelist: [FlowFilter.fromPartial({ uuid: uuids })] });
    assert.deepEqual(stored.sort(), [good[0].uuid, good[1].uuid, next.uuid].sort());
    const m = await scrape(relay.metricsAddress as string);
    assert.ok(metric(m, 'cillion_flows_rejected_total', 'reason="invalid"') >= bad.length);
    await served();
  });

  it('stores a uuid once, whether repeated within a batch or across batches and sessions', async () => {
    const s = openStream(relay.address);
    const f = fresh();
    const g = fresh();
    s.call.write(batch('dup-a', 1n, [f, f, g, f]));
    assert.equal((await acked(s, 1n)).rejectedFlows, 2n);
    s.call.write(batch('dup-a', 2n, [g, fresh()]));
    assert.equal((await acked(s, 2n)).rejectedFlows, 1n);
    s.close();
    const other = openStream(relay.address);
    other.call.write(batch('dup-b', 1n, [f]));
    assert.equal((await acked(other, 1n)).rejectedFlows, 1n);
    other.close();
    const stored = await flowsOf(client, { whitelist: [FlowFilter.fromPartial({ uuid: [f.uuid, g.uuid] })] });
    assert.deepEqual(stored.sort(), [f.uuid, g.uuid].sort());
    await served();
  });

  it('still stores a uuid once after a restart: a starting relay remembers the newest uuids in the store', async () => {
    const f = fresh();
    const s = openStream(relay.address);
    s.call.write(batch('restart-a', 1n, [f]));
    assert.equal((await acked(s, 1n)).rejectedFlows, 0n);
    s.close();
    const second = await startRelay({ listen: '127.0.0.1:0', store, tls, shutdownGraceMs: 200 });
    try {
      const t = openStream(second.address);
      t.call.write(batch('restart-b', 1n, [f, fresh()]));
      const ack = await acked(t, 1n);
      assert.equal(ack.rejectedFlows, 1n);
      assert.match(ack.rejectedReason, /already stored/);
      t.close();
    } finally {
      await second.close();
    }
    assert.deepEqual(await flowsOf(client, { whitelist: [FlowFilter.fromPartial({ uuid: [f.uuid] })] }), [f.uuid]);
    await served();
  });

  for (const method of ['GetFlows', 'GetFlowBatches'] as const) {
    it(`answers a ${method} of 10k filters, 100k addresses, since = int64 max, until before 1970, or first with follow with INVALID_ARGUMENT`, async () => {
      const before = await scrape(relay.metricsAddress as string);
      const many = await failure(client, { blacklist: Array.from({ length: 10_000 }, (_, i) => FlowFilter.fromPartial({ sourcePod: [`p${i}`] })) }, method);
      assert.equal(many.code, status.INVALID_ARGUMENT);
      assert.match(many.details, /10000 deny filters; at most 256/);
      const ips = await failure(client, { whitelist: [FlowFilter.fromPartial({ sourceIp: Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`) })] }, method);
      assert.equal(ips.code, status.INVALID_ARGUMENT);
      assert.match(ips.details, /more than 1024 filter values/);
      const since = await failure(client, { since: { seconds: I64_MAX, nanos: 0 } }, method);
      assert.equal(since.code, status.INVALID_ARGUMENT);
      assert.match(since.details, /since must lie between 1970 and 2262/);
      const until_ = await failure(client, { until: { seconds: -1n, nanos: 0 } }, method);
      assert.equal(until_.code, status.INVALID_ARGUMENT);
      const lying = await failure(client, { first: true, follow: true, number: 1n }, method);
      assert.equal(lying.code, status.INVALID_ARGUMENT);
      const m = await scrape(relay.metricsAddress as string);
      const delta = (kind: string) => metric(m, 'cillion_limit_breaches_total', `kind="${kind}"`) - metric(before, 'cillion_limit_breaches_total', `kind="${kind}"`);
      assert.equal(delta('filters'), 2);
      assert.equal(delta('time_range'), 2);
      await served();
    });

    it(`answers a ${method} of number = 2^63, and first with the largest uint64, at once`, async () => {
      const t0 = Date.now();
      const last = await flowsOf(client, { number: 2n ** 63n }, method);
      const first = await flowsOf(client, { number: U64_MAX, first: true }, method);
      assert.ok(last.length >= honestFlows && first.length === last.length, `${last.length} and ${first.length} flows`);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      await served();
    });
  }

  it('refuses a 1 MB node name, and /metrics stays small', async () => {
    const s = openStream(relay.address);
    s.call.write(batch('long-name', 1n, [fresh()], 'n'.repeat(1 << 20)));
    const st = await s.status;
    assert.equal(st.code, status.INVALID_ARGUMENT);
    assert.match(st.details, /name of 1048576 bytes; at most 253/);
    s.close();
    const s2 = openStream(relay.address);
    // A flow's own node name is the stream's (the relay overwrites it); its other strings are bounded.
    s2.call.write(batch('long-flow-name', 1n, [fresh({ nodeName: 'm'.repeat(300_000), source: Endpoint.fromPartial({ podName: 'p'.repeat(300_000) }) })]));
    assert.equal((await acked(s2, 1n)).rejectedFlows, 1n);
    s2.close();
    const m = await scrape(relay.metricsAddress as string);
    assert.ok(m.length < 64 * 1024, `/metrics is ${m.length} bytes`);
    assert.equal(metric(m, 'cillion_limit_breaches_total', 'kind="node_name"'), 1);
    await served();
  });

  it('refuses a flow stream past --max-flow-streams (a GetFlows and a GetFlowBatches follower hold the two slots) with RESOURCE_EXHAUSTED, counts it, and takes one again once a follower leaves', async () => {
    const small = await startRelay({ listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', store, tls, shutdownGraceMs: 200, limits: { maxFlowStreams: 2 } });
    const reader = new ObserverClient(byName(small.address), readerCreds);
    // One follower of each method: both take from the same slots.
    const batched = reader.makeServerStreamRequest(FlowHistoryService.getFlowBatches.path, (r: GetFlowsRequest) => Buffer.from(GetFlowsRequestCodec.encode(r).finish()), (b: Buffer) => b, GetFlowsRequestCodec.fromPartial({ follow: true }));
    const followers = [getFlows(reader, { follow: true }), batched];
    for (const f of followers) f.on('error', () => undefined);
    try {
      // Both followers hold their slots once the relay has taken their calls.
      let refused: ServiceError | undefined;
      const end = Date.now() + 10_000;
      while (!refused) {
        assert.ok(Date.now() < end, 'a third stream was never refused');
        refused = await readAll(getFlows(reader, { number: 1n })).then(() => undefined, (e: ServiceError) => e);
      }
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /2 flow streams \(GetFlows, GetFlowBatches\) are open/);
      assert.ok(metric(await scrape(small.metricsAddress as string), 'cillion_limit_breaches_total', 'kind="flow_streams"') >= 1);
      followers[0].cancel();
      let again: string[] | undefined;
      const end2 = Date.now() + 10_000;
      while (!again) {
        assert.ok(Date.now() < end2, 'the slot of the follower that left was never given back');
        again = await flowsOf(reader, { number: 1n }).catch(() => undefined);
        if (!again) await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      for (const f of followers) f.cancel();
      reader.close();
      await small.close();
    }
    await served();
  });

  describe('an expensive query', () => {
    let probe: Session;
    // Enough rows that a filter matching none keeps the engine busy for seconds.
    before(async function () {
      this.timeout(60_000);
      for (let b = 0; b < 12; b++) {
        const flows = Array.from({ length: 10_000 }, () => fresh({ nodeName: 'bulk' }));
        await store.insertBatch({ sessionId: 'bulk', sequence: BigInt(b + 1), nodeName: 'bulk', flows });
      }
      probe = new Session(join(dir, 'store'));
    });
    after(() => probe.close());

    /** The relay's store queries in the engine, by query id: rows read so far and whether a kill reached them. */
    async function progress(): Promise<Map<string, { rows: number; cancelled: boolean }>> {
      const r = await probe.queryAsync("SELECT query_id AS id, read_rows AS n, is_cancelled AS c FROM system.processes WHERE startsWith(Settings['log_comment'], 'cq-')", { format: 'JSONEachRow' });
      const text = r.text().trim();
      const rows = text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as { id: string; n: string | number; c: string | number });
      return new Map(rows.map((x) => [x.id, { rows: Number(x.n), cancelled: Number(x.c) === 1 }]));
    }

    // 1024 address ranges no flow is in: every row is tested against each of them. Each call
    // asks different ranges, so the engine cannot answer from what it remembers of the last.
    let variant = 0;
    const costly = (): Partial<GetFlowsRequest> => {
      const v = 24 + (variant++ % 8);
      return { whitelist: [FlowFilter.fromPartial({ sourceIp: Array.from({ length: 1024 }, (_, i) => `172.${16 + (i >> 8)}.${i & 255}.0/${v}`) })] };
    };

    // Judged by what the engine did, not by the clock: on a busy machine the cancel takes
    // longer to arrive, and the engine reads more slowly meanwhile. The query reads every
    // row when nobody stops it; killed, it stops within the blocks its threads are on.
    it('stops in the engine once the client cancels: the kill reaches the query, which then reads nothing more', async () => {
      const one = async (sql: string): Promise<string> => (await probe.queryAsync(sql, { format: 'TSV' })).text().trim();
      const table = Number(await one('SELECT count() FROM cillion.flows'));
      const threads = Number(/\d+/.exec(await one("SELECT value FROM system.settings WHERE name = 'max_threads'"))?.[0]);
      const stream = getFlows(client, costly());
      stream.on('error', () => undefined);
      // The query runs and makes progress in the engine...
      let id = '';
      let before = 0;
      await until('the query to make progress in the engine', async () => {
        const [qid, q] = [...(await progress())][0] ?? ['', { rows: 0 }];
        const moving = qid !== '' && id === qid && q.rows > before;
        [id, before] = [qid, q.rows];
        return moving;
      }, 30_000, 20);
      // ...until the client cancels: the kill reaches it (the engine may list a killed query
      // a while longer, but it does no work), or it is gone.
      stream.cancel();
      let rows = before;
      let killedAt: number | undefined;
      let still = 0;
      await until('the engine to stop the query after the cancel', async () => {
        const q = (await progress()).get(id);
        if (q === undefined) return true;
        if (q.cancelled) killedAt ??= q.rows;
        still = q.cancelled && q.rows === rows ? still + 1 : 0;
        rows = q.rows;
        return still >= 5;
      }, LIMIT_MS - 2000, 50);
      const others = [...(await progress())].filter(([q, p]) => q !== id && !p.cancelled);
      assert.deepEqual(others, [], 'another query of the cancelled call went on');
      assert.ok(killedAt !== undefined || rows < table / 2, `the query was never seen killed and was last seen at ${rows} of ${table} rows`);
      // Killed, each of the engine's threads finishes the blocks it is on and has read ahead.
      if (killedAt !== undefined) assert.ok(rows - killedAt <= (2 * threads + 2) * BLOCK_ROWS, `the query read ${rows - killedAt} rows after the kill reached it (${threads} threads)`);
      assert.ok(rows < table, `the query read ${rows} of ${table} rows: it ran to the end`);
      process.stderr.write(`        cancelled at ${before} rows read, killed at ${killedAt ?? '(gone before seen)'}, stopped at ${rows} of ${table}\n`);
      await served();
    });

    for (const method of ['GetFlows', 'GetFlowBatches'] as const) {
      it(`ends a ${method} whose client stops reading after --stream-stall-ms, frees its slot for another reader, and tells the client if it reads again`, async () => {
        const small = await startRelay({ listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', store, tls, shutdownGraceMs: 200, limits: { maxFlowStreams: 1, streamStallMs: 500 } });
        const reader = new ObserverClient(byName(small.address), readerCreds);
        const request = GetFlowsRequestCodec.fromPartial({});
        const stalled =
          method === 'GetFlows'
            ? getFlows(reader, {})
            : reader.makeServerStreamRequest(FlowHistoryService.getFlowBatches.path, (r: GetFlowsRequest) => Buffer.from(GetFlowsRequestCodec.encode(r).finish()), (b: Buffer) => b, request);
        // Reads one message, then nothing: the 120k flows of history fill the windows and the
        // relay has to wait. (A grpc-js client that never reads at all buffers without bound
        // on its own side, so the relay would never notice.)
        stalled.once('data', () => stalled.pause());
        stalled.on('error', () => undefined);
        try {
          // The relay first fills the stalled client's windows from the store, which a busy
          // machine makes slow; the stall is counted from when it can send no more.
          let other: string[] | undefined;
          await until('the stalled stream to give its slot back', async () => {
            other = await flowsOf(reader, { number: 1n }).catch((e: ServiceError) => {
              assert.equal(e.code, status.RESOURCE_EXHAUSTED);
              return undefined;
            });
            return other !== undefined;
          }, 60_000, 50);
          assert.equal(other?.length, 1);
          assert.ok(metric(await scrape(small.metricsAddress as string), 'cillion_limit_breaches_total', 'kind="stalled"') >= 1);
          // Reading again, the client gets what was sent before the stall, then the status.
          let received = 0;
          const err = await new Promise<ServiceError>((resolve, reject) => {
            stalled.on('data', () => received++);
            stalled.on('error', resolve);
            stalled.on('end', () => reject(new Error('the stalled stream ended without an error')));
            stalled.resume();
          });
          assert.equal(err.code, status.RESOURCE_EXHAUSTED);
          assert.match(err.details, /read nothing for 500 ms/);
          assert.ok(received > 0 && (method === 'GetFlowBatches' || received < 120_000), `${received} messages before the stall`);
        } finally {
          stalled.cancel();
          reader.close();
          await small.close();
        }
        await served();
      });
    }

    it('ends with RESOURCE_EXHAUSTED when a store query would read more rows than allowed', async () => {
      // A second relay on the same store, with a row limit below what the store holds.
      const limited = await openStore({ dataDir: join(dir, 'store'), queryLimits: { maxRowsToRead: 50_000 } });
      const small = await startRelay({ listen: '127.0.0.1:0', store: limited, tls, shutdownGraceMs: 200, limits: { maxRowsToRead: 50_000 } });
      const reader = new ObserverClient(byName(small.address), readerCreds);
      try {
        const e = await failure(reader, costly());
        assert.equal(e.code, status.RESOURCE_EXHAUSTED);
        assert.match(e.details, /would read more than 50000 rows/);
      } finally {
        reader.close();
        await small.close();
        await limited.close();
      }
      await served();
    });

    it('stops a store query at its time limit with a limit error, not the engine text', async () => {
      // CPU time (this process's, the engine's threads included) rather than wall time, and
      // against the whole query run here too: a busy machine stretches the wall time of the
      // call and makes each CPU second do less, but an engine that stops at its 200 ms limit
      // spends a fraction of what the whole query takes in the same conditions.
      const cpuOf = async (run: () => Promise<void>): Promise<number> => {
        const cpu = process.cpuUsage();
        await run();
        const used = process.cpuUsage(cpu);
        return (used.user + used.system) / 1000;
      };
      const all = async (s: FlowStore): Promise<void> => {
        for await (const _ of s.query({ allow: costly().whitelist ?? [], deny: [], order: 'asc' })) void _;
      };
      const whole = await cpuOf(() => all(store));
      const limited = await openStore({ dataDir: join(dir, 'store'), queryLimits: { timeoutMs: 200 } });
      try {
        const t0 = Date.now();
        const stopped = await cpuOf(() =>
          assert.rejects(all(limited), (e: Error) => e.name === 'HistoryLimitError' && /time limit of 200 ms/.test(e.message)),
        );
        process.stderr.write(`        stopped at the time limit after ${Date.now() - t0} ms, ${Math.round(stopped)} ms of CPU; the whole query ${Math.round(whole)} ms\n`);
        assert.ok(stopped < whole / 2, `the stopped query spent ${Math.round(stopped)} ms of CPU, the whole one ${Math.round(whole)} ms`);
      } finally {
        await limited.close();
      }
    });
  });
});

/** The relay's V8 old-space cap, as docs/operations.md recommends running it. */
const RELAY_HEAP_MIB = 512;

/** Peak and current resident memory of a process, in bytes. */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

describe('relay/hostile/bounds: flood', function () {
  this.timeout(150_000);

  it('keeps `cillion relay` under 1 GiB while streams flood it with maximum-size batches, and serves an honest client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cillion-flood-'));
    // The heap cap docs/operations.md recommends for the relay: without it V8 lets garbage pile up to
    // whatever the host allows before collecting (peaks of 760-960 MiB in this test).
    const child = spawn(process.execPath, [`--max-old-space-size=${RELAY_HEAP_MIB}`, '--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const address = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          const m = / on (127\.0\.0\.1:\d+) /.exec(log);
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`relay exited ${code}:\n${log}`)));
      });
      const pid = child.pid as number;
      const base = memoryOf(pid);

      // Flows of ~420 bytes, as many as fit in the default 4 MiB message. Each stream encodes
      // its flows once and sends them again under each new sequence (the relay decodes and
      // screens every copy; all but the first are refused as duplicates), so the flood is
      // limited by the relay, not by this process encoding.
      const labels = Array.from({ length: 8 }, (_, i) => `k8s:io.example.label-${i}=value-${i}-${'x'.repeat(12)}`);
      const template = fresh({ source: Endpoint.fromPartial({ namespace: 'flood', podName: 'flood-0', labels, clusterName: 'c1' }) });
      const perFlow = Flow.encode({ ...template, uuid: uuidFor('flood-0-00000') }).finish().length + 4;
      const n = Math.min(DEFAULT_LIMITS.maxBatchFlows, Math.floor((4 * 1024 * 1024 - 64 * 1024) / perFlow));
      const streams = 6;
      // The flood lasts until the relay has taken a few batches of every stream's worth and
      // served the honest client a few times, and at least floodMs: a busy machine makes it
      // longer, not vacuous. Past the deadline the relay took too little to measure anything.
      const floodMs = 8000;
      const wantAcks = streams;
      const wantServed = 3;
      const started = Date.now();
      const deadline = started + 90_000;
      let flooding = true;
      const Raw = makeGenericClientConstructor(
        { export: { ...FlowExportService.export, requestSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => ExportAck.decode(b) } },
        'FlowExport',
      );
      let floodAcks = 0;
      const floods = Array.from({ length: streams }, (_, k) => {
        const rawClient = new Raw(address, credentials.createInsecure());
        const call = (rawClient as unknown as { export(): ClientDuplexStream<Buffer, ExportAck> }).export();
        call.on('data', () => floodAcks++);
        call.on('error', () => undefined);
        const flows = Buffer.from(FlowBatch.encode(FlowBatch.fromPartial({ flows: Array.from({ length: n }, (_, i) => ({ ...template, uuid: uuidFor(`flood-${k}-${String(i).padStart(5, '0')}`) })) })).finish());
        let seq = 0n;
        // One batch a turn, the next as soon as the stream takes it: as fast as flow control lets.
        const pump = (): void => {
          if (!flooding) return;
          seq++;
          const head = Buffer.from(FlowBatch.encode(batch(`flood-${k}`, seq, [], `flood-${k}`)).finish());
          if (call.write(Buffer.concat([head, flows]))) setImmediate(pump);
          else call.once('drain', pump);
        };
        pump();
        return { close: () => (call.cancel(), rawClient.close()) };
      });

      const honestOne = new FakeCollector(address, 'honest-flood');
      const reader = new ObserverClient(address, credentials.createInsecure());
      let peak = base.hwm;
      let served = 0;
      try {
        while (Date.now() < started + floodMs || floodAcks < wantAcks || served < wantServed) {
          assert.ok(Date.now() < deadline, `after ${deadline - started} ms the relay had acknowledged ${floodAcks} flood batches and served the honest client ${served} times. Relay log:\n${log}`);
          const f = fresh({ nodeName: 'honest-flood' });
          const seq = honestOne.send([f]);
          await honestOne.acked(seq, 20_000);
          const got = await flowsOf(reader, { whitelist: [FlowFilter.fromPartial({ uuid: [f.uuid] })] });
          assert.deepEqual(got, [f.uuid]);
          served++;
          peak = Math.max(peak, memoryOf(pid).hwm);
        }
      } finally {
        flooding = false;
        for (const s of floods) s.close();
        await honestOne.close();
        reader.close();
      }
      peak = Math.max(peak, memoryOf(pid).hwm);
      process.stderr.write(`      flood: ${streams} streams of ${n}-flow batches (${((n * perFlow) / 1048576).toFixed(1)} MiB) for ${Date.now() - started} ms: ` +
        `${floodAcks} batches acknowledged, honest round trips ${served}, relay RSS ${(base.rss / 1048576).toFixed(0)} MiB at start, peak ${(peak / 1048576).toFixed(0)} MiB\n`);
      assert.ok(served >= wantServed && floodAcks >= wantAcks);
      assert.ok(peak < 1024 * 1024 * 1024, `peak RSS ${peak} bytes`);
    } finally {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
