// GetFlowBatches (observer/flow_batches.ts) against GetFlows: the same responses for the same
// request, from the embedded store and from the hub, the same status for each limit, bounded
// batches, live flows without waiting for a full batch, a reader that leaves half-way, and
// cli/observe/flow_stream.ts falling back to GetFlows on a server without the method.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Server, ServerCredentials, status, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { FlowFilter, LostEventSource, type Flow } from '../../../proto/gen/flow/flow';
import { GetFlowsRequest, GetFlowsResponse, ObserverClient } from '../../../proto/gen/observer/observer';
import { FlowHistoryService, GetFlowBatchesResponse } from '../../../proto/gen/observer/v1/flow_history';
import { NodeBook } from '../../../observer/nodes';
import { FlowHub } from '../../../observer/hub';
import { BatchWriter, MAX_BATCH_BYTES } from '../../../observer/flow_batches';
import { nsTimestamp } from '../../../observer/time';
import { observerService, type ObserverDeps } from '../../../observer/service';
import { ObserverServiceDefinition } from '../../../observer/service_definition';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { startRelay } from '../../../relay/server';
import { flowStream, type FlowStream } from '../../../cli/observe/flow_stream';
import { FakeCollector } from '../relay/exporter_client';
import { flowTimeNs, getFlows, makeFlow, readAll, serveObserver, uuidOf, uuidsOf, type Served } from './helpers';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
/** Enough flows, with long label lists, that all of them take several batches. */
const FLOWS = 6000;
const LABELS = range(0, 40).map((k) => `k8s:label-${k}=value-${k}-of-a-longer-label`);

function bigFlow(i: number): Flow {
  const f = makeFlow(i);
  return { ...f, source: { ...f.source!, labels: LABELS } };
}

const serialize = (r: GetFlowsRequest): Buffer => Buffer.from(GetFlowsRequest.encode(r).finish());

/** GetFlowBatches as raw messages: each batch's bytes, to check their sizes. */
function rawBatches(client: ObserverClient, req: Partial<GetFlowsRequest>): ClientReadableStream<Buffer> {
  return (client as unknown as Client).makeServerStreamRequest(FlowHistoryService.getFlowBatches.path, serialize, (b: Buffer) => b, GetFlowsRequest.fromPartial(req));
}

function readBatches(stream: ClientReadableStream<Buffer>): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    stream.on('data', (b: Buffer) => out.push(b));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

function flatten(batches: Buffer[]): GetFlowsResponse[] {
  return batches.flatMap((b) => GetFlowBatchesResponse.decode(b).responses);
}

async function readStream(s: FlowStream): Promise<GetFlowsResponse[]> {
  const out: GetFlowsResponse[] = [];
  for await (const r of s.responses) out.push(r);
  return out;
}

function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  return p.then(
    () => assert.fail('the call succeeded'),
    (e: { code: number; details: string }) => ({ code: e.code, details: e.details }),
  );
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('observer/flow_batches: GetFlowBatches', function () {
  this.timeout(120_000);

  describe('with the embedded store', () => {
    let dir: string;
    let store: FlowStore;
    let hub: FlowHub;
    let served: Served;
    const limits: string[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-flow-batches-test-'));
      store = await openStore({ dataDir: dir });
      for (let i = 0; i < FLOWS; i += 2000) {
        await store.insertBatch({ sessionId: 'sess', sequence: BigInt(i + 1), nodeName: 'node-a', flows: range(i, i + 2000).map(bigFlow) });
      }
    });
    after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      limits.length = 0;
      // A small ring: history must come from the store.
      hub = new FlowHub({ capacity: 4 });
      served = await serveObserver({ hub, store, nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }), onLimit: (kind) => limits.push(kind) });
    });
    afterEach(() => served.close());

    it('gives what GetFlows gives for the same request, in batches of at most 1 MiB', async () => {
      const requests: Partial<GetFlowsRequest>[] = [
        { number: BigInt(FLOWS) * 2n },
        { number: 3000n },
        { number: 2500n, first: true },
        { since: nsTimestamp(flowTimeNs(100) + 1n), until: nsTimestamp(flowTimeNs(4100)) },
        { number: 5000n, whitelist: [FlowFilter.fromPartial({ sourcePod: ['shop/'] })], blacklist: [FlowFilter.fromPartial({ verdict: [2] })] },
        // A label filter is checked on rebuilt flows, and a mask rebuilds every flow too.
        { number: 4000n, whitelist: [FlowFilter.fromPartial({ sourceLabel: ['label-3=value-3-of-a-longer-label'] })] },
        { number: 4000n, fieldMask: ['uuid', 'time', 'source.pod_name'] },
      ];
      for (const req of requests) {
        const single = await readAll(getFlows(served.client, req));
        const batches = await readBatches(rawBatches(served.client, req));
        assert.ok(single.length > 1000, `${JSON.stringify(Object.keys(req))} answers ${single.length} flows`);
        assert.deepEqual(flatten(batches), single, `the same responses for ${JSON.stringify(Object.keys(req))}`);
        // History is cut only where the next response would not fit.
        for (let k = 0; k + 1 < batches.length; k++) {
          const next = GetFlowsResponse.encode(flatten([batches[k + 1]])[0]).finish().length;
          assert.ok(batches[k].length + next + 3 > MAX_BATCH_BYTES, `batch ${k} of ${batches[k].length} bytes was cut early`);
        }
        if (req.fieldMask) assert.equal(batches.length, 1, 'masked flows fit one batch');
        else assert.ok(batches.length > 1, `several batches for ${single.length} flows`);
        for (const b of batches) assert.ok(b.length <= MAX_BATCH_BYTES, `a batch of ${b.length} bytes`);
      }
    });

    it('refuses what GetFlows refuses, with the same status, and keeps serving', async () => {
      const bad: Partial<GetFlowsRequest>[] = [
        { whitelist: [FlowFilter.fromPartial({ sourceIp: ['not an address'] })] },
        { first: true, follow: true, number: 1n },
        { since: { seconds: -1n, nanos: 0 } },
      ];
      for (const req of bad) {
        const single = await codeOf(readAll(getFlows(served.client, req)));
        const batched = await codeOf(readBatches(rawBatches(served.client, req)));
        assert.equal(single.code, status.INVALID_ARGUMENT);
        assert.deepEqual(batched, single);
      }
      assert.deepEqual(limits, ['time_range', 'time_range']);
      assert.equal(flatten(await readBatches(rawBatches(served.client, { number: 2n }))).length, 2);
    });

    it('ends a history read over its time limit with RESOURCE_EXHAUSTED, counted as GetFlows is', async () => {
      await served.close();
      served = await serveObserver({
        hub,
        store,
        nodes: new NodeBook(),
        status: () => ({ version: 'v', uptimeNs: 0n }),
        getFlows: { historyTimeoutMs: 1 },
        onLimit: (kind) => limits.push(kind),
      });
      const batched = await codeOf(readBatches(rawBatches(served.client, { number: BigInt(FLOWS) })));
      assert.equal(batched.code, status.RESOURCE_EXHAUSTED);
      assert.match(batched.details, /reading history took longer than 1 ms/);
      assert.deepEqual(limits, ['query_time']);
    });

    it('a reader that leaves half-way does not disturb another reader, and the server goes on serving', async () => {
      const all = { number: BigInt(FLOWS) * 2n };
      const expected = uuidsOf(await readAll(getFlows(served.client, all)));
      const leaving = rawBatches(served.client, all);
      const other = readStream(flowStream(served.client as unknown as Client, GetFlowsRequest.fromPartial(all)));
      const firstBatch = new Promise<Buffer>((resolve) => leaving.once('data', resolve));
      const ended = new Promise<{ code: number }>((resolve) => leaving.on('error', resolve));
      assert.ok(flatten([await firstBatch]).length > 0);
      leaving.cancel();
      assert.equal((await ended).code, status.CANCELLED);
      assert.deepEqual(uuidsOf(await other), expected);
      // The server goes on serving.
      assert.deepEqual(uuidsOf(await readStream(flowStream(served.client as unknown as Client, GetFlowsRequest.fromPartial({ number: 2n })))), expected.slice(-2));
    });
  });

  describe('from the hub', () => {
    let hub: FlowHub;
    let served: Served;

    afterEach(() => served.close());

    it('sends live flows as they come, without waiting for a full batch', async () => {
      hub = new FlowHub({ capacity: 100 });
      served = await serveObserver({ hub, nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }) });
      hub.publish(range(0, 5).map((i) => makeFlow(i)));
      const s = flowStream(served.client as unknown as Client, GetFlowsRequest.fromPartial({ number: 2n, follow: true }));
      const got: string[] = [];
      const reading = (async () => {
        for await (const r of s.responses) if (r.responseTypes?.$case === 'flow') got.push(r.responseTypes.value.uuid);
      })().catch((e: { code?: number }) => assert.equal(e.code, status.CANCELLED));
      await waitFor(() => got.length === 2);
      assert.equal(s.method, 'GetFlowBatches');
      hub.publish([makeFlow(5)]);
      await waitFor(() => got.length === 3);
      hub.publish(range(6, 9).map((i) => makeFlow(i)));
      await waitFor(() => got.length === 6);
      assert.deepEqual(got, range(3, 9).map(uuidOf));
      s.cancel();
      await reading;
      await waitFor(() => hub.followers === 0);
    });

    it('a follower that falls behind gets the same LostEvent as from GetFlows', async () => {
      hub = new FlowHub({ capacity: 100, subscriberQueue: 2 });
      served = await serveObserver({ hub, nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }) });
      const stream = rawBatches(served.client, { follow: true });
      const got: GetFlowsResponse[] = [];
      stream.on('data', (b: Buffer) => got.push(...flatten([b])));
      stream.on('error', () => undefined);
      await waitFor(() => hub.followers === 1);
      // All offered in one tick: the stream cannot drain in between.
      hub.publish(range(100, 110).map((i) => makeFlow(i)));
      await waitFor(() => got.length >= 3);
      stream.cancel();
      assert.deepEqual(uuidsOf(got), [100, 101].map(uuidOf));
      const lost = got[2].responseTypes;
      assert.equal(lost?.$case, 'lostEvents');
      if (lost?.$case !== 'lostEvents') return;
      assert.equal(lost.value.source, LostEventSource.HUBBLE_RING_BUFFER);
      assert.equal(lost.value.numEventsLost, 8n);
    });
  });

  it('holds at most four batches for a reader that does not read, and goes on once they are written out', async () => {
    const written: (() => void)[] = [];
    const call = Object.assign(new EventEmitter(), {
      cancelled: false,
      write: (_b: Buffer, done?: () => void) => {
        written.push(done ?? (() => undefined));
        return true;
      },
    });
    const w = new BatchWriter(call as unknown as ConstructorParameters<typeof BatchWriter>[0], 1000);
    const response = Buffer.alloc(600);
    const taken = [];
    for (let k = 0; k < 10 && w.writeNow(response); k++) taken.push(k);
    // Each response fills a batch of its own: the fifth write sends the fourth batch.
    assert.equal(written.length, 4);
    assert.equal(taken.length, 4);
    let drained = false;
    const waiting = w.drained().then((ok) => (drained = ok));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    written[0]();
    assert.equal(await waiting, true);
    // The held response goes out as a fifth batch, and the flush waits for room again.
    const flushed = w.flush();
    assert.equal(written.length, 5);
    written[1]();
    assert.equal(await flushed, true);
    call.emit('cancelled');
    assert.equal(w.writeNow(response), false);
    assert.equal(await w.drained(), false);
  });

  describe('observe against a server without it (a Hubble relay)', () => {
    let server: Server;
    let client: ObserverClient;
    const hub = new FlowHub({ capacity: 100 });
    hub.publish(range(0, 20).map((i) => makeFlow(i)));

    before(async () => {
      server = new Server();
      const deps: ObserverDeps = { hub, nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }) };
      server.addService(ObserverServiceDefinition, observerService(deps));
      const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
      client = new ObserverClient(`127.0.0.1:${port}`, credentials.createInsecure());
    });
    after(async () => {
      client.close();
      await new Promise<void>((res) => server.tryShutdown(() => res()));
    });

    it('reads GetFlows instead when GetFlowBatches is UNIMPLEMENTED', async () => {
      const req = GetFlowsRequest.fromPartial({ number: 5n, whitelist: [FlowFilter.fromPartial({ nodeName: ['node-a'] })] });
      const batched = await codeOf(readBatches(rawBatches(client, req)));
      assert.equal(batched.code, status.UNIMPLEMENTED);
      const s = flowStream(client as unknown as Client, req);
      assert.deepEqual(await readStream(s), await readAll(client.getFlows(req)));
      assert.equal(s.method, 'GetFlows');
      assert.deepEqual(uuidsOf(await readStream(flowStream(client as unknown as Client, req))), [10, 12, 14, 16, 18].map(uuidOf));
    });

    it('does not fall back on any other error', async () => {
      const s = flowStream(client as unknown as Client, GetFlowsRequest.fromPartial({ whitelist: [FlowFilter.fromPartial({ sourceIp: ['bad'] })] }));
      assert.equal((await codeOf(readStream(s))).code, status.INVALID_ARGUMENT);
    });
  });

  it('through the real relay, while another reader follows GetFlows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cillion-flow-batches-relay-'));
    const store = await openStore({ dataDir: dir });
    const relay = await startRelay({ listen: '127.0.0.1:0', store, mergeWindowMs: 50, shutdownGraceMs: 200 });
    const collector = new FakeCollector(relay.address, 'node-a', 'batches-session');
    const client = new ObserverClient(relay.address, credentials.createInsecure());
    const follower = new ObserverClient(relay.address, credentials.createInsecure());
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const flowAt = (i: number): Flow => ({ ...bigFlow(i), nodeName: 'node-a', time: nsTimestamp(now + BigInt(i) * 1000n) });
      const following = getFlows(follower, { follow: true });
      const live: string[] = [];
      following.on('data', (r: GetFlowsResponse) => {
        if (r.responseTypes?.$case === 'flow') live.push(r.responseTypes.value.uuid);
      });
      following.on('error', () => undefined);
      await waitFor(() => relay.hub.followers === 1);
      let last = 0n;
      for (let i = 0; i < 4000; i += 1000) last = collector.send(range(i, i + 1000).map(flowAt));
      await collector.acked(last, 30_000);
      const req = GetFlowsRequest.fromPartial({ number: 10_000n });
      const batches = flowStream(client as unknown as Client, req);
      const got = await readStream(batches);
      assert.equal(batches.method, 'GetFlowBatches');
      assert.equal(got.length, 4000);
      assert.deepEqual(got, await readAll(client.getFlows(req)));
      await waitFor(() => live.length === 4000);
      assert.deepEqual(new Set(live), new Set(uuidsOf(got)));
      following.cancel();
    } finally {
      client.close();
      follower.close();
      await collector.close();
      await relay.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
