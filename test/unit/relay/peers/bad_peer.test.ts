// Peers that lie: bytes that are no answer, batches of countless tiny responses, histories
// that trickle or never end, a follow's catch-up that fails. Each is a real grpc-js server
// sending what it likes; the relay drops or bounds it, reports it, and keeps serving.
import assert from 'node:assert/strict';
import { Metadata, Server, ServerCredentials, status, type ServerWritableStream, type ServiceDefinition } from '@grpc/grpc-js';
import { GetFlowsRequest, GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { FlowHistoryService } from '../../../../proto/gen/observer/v1/flow_history';
import { NodeState } from '../../../../proto/gen/relay/relay';
import type { Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { follow, getFlows, makeFlow, readAll, uuidOf } from '../../observer/helpers';
import { flowsOf, observer, relayWithPeers } from './set';
import { nowNs, nsTimestamp } from '../../../../observer/time';

type RawCall = ServerWritableStream<GetFlowsRequest, Buffer>;

/** A FlowHistory peer whose batches are whatever bytes `handler` writes. */
async function rawPeer(handler: (call: RawCall) => void): Promise<{ address: string; server: Server }> {
  const m = FlowHistoryService.getFlowBatches;
  const raw: ServiceDefinition = {
    getFlowBatches: { ...m, responseSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => GetFlowsRequest.decode(b) },
  };
  const server = new Server();
  server.addService(raw, { getFlowBatches: handler });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { address: `127.0.0.1:${port}`, server };
}

/** A batch (GetFlowBatchesResponse) of these encoded responses. */
function batch(rs: Buffer[]): Buffer {
  return Buffer.concat(rs.map((r) => Buffer.concat([Buffer.from([0x0a]), varint(r.length), r])));
}

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

function flowBytes(i: number, timeNs?: bigint): Buffer {
  const f = makeFlow(i, { nodeName: 'node-p', ...(timeNs === undefined ? {} : { time: nsTimestamp(timeNs) }) });
  return Buffer.from(GetFlowsResponse.encode({ responseTypes: { $case: 'flow', value: f }, nodeName: 'node-p', time: f.time }).finish());
}

function unavailable(rs: GetFlowsResponse[]): { name: string; message: string }[] {
  return rs.flatMap((r) => {
    const t = r.responseTypes;
    return t?.$case === 'nodeStatus' && t.value.stateChange === NodeState.NODE_UNAVAILABLE ? [{ name: t.value.nodeNames[0], message: t.value.message }] : [];
  });
}

describe('relay fan-out: peers that lie', function () {
  this.timeout(30_000);
  const servers: Server[] = [];
  const relays: Relay[] = [];
  const collectors: FakeCollector[] = [];

  async function relayWith(handler: (call: RawCall) => void, peer: { timeoutMs?: number } = {}, over: Parameters<typeof relayWithPeers>[3] = {}): Promise<Relay> {
    const p = await rawPeer(handler);
    servers.push(p.server);
    const a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'p', address: p.address }], over, peer);
    relays.push(a);
    const col = new FakeCollector(a.address, 'node-a');
    collectors.push(col);
    await col.acked(col.send([makeFlow(0), makeFlow(2)]));
    a.flushLive();
    return a;
  }

  afterEach(async () => {
    for (const c of collectors.splice(0)) await c.close();
    for (const r of relays.splice(0)) await r.close();
    for (const s of servers.splice(0)) s.forceShutdown();
  });

  it('drops a peer whose batch holds bytes that are no response, and keeps serving', async () => {
    const calls: RawCall[] = [];
    const a = await relayWith((call) => {
      calls.push(call);
      call.write(Buffer.from([0x0a, 0x01, 0x0f]));
    });
    const client = observer(a.address);
    try {
      const [rs, again] = await Promise.all([readAll(getFlows(client, { number: 10n })), readAll(getFlows(client, { number: 10n }))]);
      for (const r of [rs, again]) {
        assert.deepEqual(flowsOf(r).map((f) => f.uuid), [0, 2].map(uuidOf));
        const down = unavailable(r);
        assert.equal(down.length, 1);
        assert.equal(down[0].name, 'relay/p');
        assert.match(down[0].message, /malformed answer: a response that is not a GetFlowsResponse/);
      }
      assert.ok(calls.every((c) => c.cancelled), 'the peer\'s calls are cancelled');
      // Served meanwhile and after: the process lives.
      const st = await new Promise<unknown>((res, rej) => client.serverStatus({}, (e, r) => (e ? rej(e) : res(r))));
      assert.ok(st);
    } finally {
      client.close();
    }
  });

  it('refuses a batch of countless tiny responses, and drops flows without a uuid', async () => {
    const tiny = Buffer.from([0x12, 0x00]);
    const a = await relayWith((call) => {
      if (call.request.number === 1n) {
        call.write(batch(Array.from({ length: 20_000 }, () => tiny)));
        return;
      }
      // Flows without a uuid or anything known, then a real one.
      call.write(batch([...Array.from({ length: 5000 }, () => Buffer.from([0x0a, 0x00])), Buffer.alloc(0), flowBytes(1)]));
      call.end();
    });
    const client = observer(a.address);
    try {
      const rs = await readAll(getFlows(client, { number: 1n, first: true }));
      assert.match(unavailable(rs)[0]?.message ?? '', /malformed answer: a batch of more than 16384 responses/);
      const ok = await readAll(getFlows(client, { number: 10n }));
      assert.deepEqual(flowsOf(ok).map((f) => f.uuid), [0, 1, 2].map(uuidOf));
      assert.deepEqual(unavailable(ok), []);
    } finally {
      client.close();
    }
  });

  it('ends a peer that ignores the answer\'s end: its flows past the start are left out, nothing waits', async () => {
    const calls: RawCall[] = [];
    const a = await relayWith(
      (call) => {
        calls.push(call);
        // Flow 1, then one an hour ahead, and the call never ends.
        call.write(batch([flowBytes(1), flowBytes(3, nowNs() + 3_600_000_000_000n)]));
      },
      { timeoutMs: 10_000 },
    );
    const client = observer(a.address);
    try {
      const t0 = Date.now();
      const rs = await readAll(getFlows(client, { number: 10n }));
      assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms: the peer's timeout was waited out`);
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [0, 1, 2].map(uuidOf));
      assert.deepEqual(unavailable(rs), []);
      assert.ok(calls[0].cancelled, 'the peer\'s call is ended');
    } finally {
      client.close();
    }
  });

  it('bounds a history that a peer trickles, each flow within the timeout, by the history timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const a = await relayWith(
      (call) => {
        let i = 1;
        call.sendMetadata(new Metadata());
        const t = setInterval(() => call.write(batch([flowBytes(2 * i++ - 1)])), 100);
        timers.push(t);
        call.on('cancelled', () => clearInterval(t));
      },
      { timeoutMs: 1000 },
      { limits: { queryTimeoutMs: 1500 } },
    );
    const client = observer(a.address);
    try {
      const t0 = Date.now();
      const rs = await readAll(getFlows(client, { number: 100_000n }));
      const took = Date.now() - t0;
      assert.ok(took >= 1400 && took < 10_000, `took ${took} ms`);
      assert.deepEqual(unavailable(rs).map((d) => [d.name, d.message]), [['relay/p', 'its history took longer than 1500 ms']]);
      assert.ok(flowsOf(rs).length > 2, 'what trickled in before is in the answer');
    } finally {
      timers.forEach(clearInterval);
      client.close();
    }
  });

  it('treats a follow\'s failed catch-up as a break: asked again, reported, its flows in time order', async () => {
    let catchUps = 0;
    let follows = 0;
    const a = await relayWith((call) => {
      call.sendMetadata(new Metadata());
      if (call.request.follow) {
        follows++;
        if (follows === 1) {
          call.write(batch([flowBytes(10)]), () => call.emit('error', Object.assign(new Error('gone'), { code: status.UNAVAILABLE, details: 'gone' })));
        } else call.write(batch([flowBytes(13)]));
        return;
      }
      if (++catchUps === 1) {
        call.emit('error', Object.assign(new Error('store busy'), { code: status.UNAVAILABLE, details: 'store busy' }));
        return;
      }
      // Older than the live flow 13, which came first.
      call.write(batch([flowBytes(11), flowBytes(12)]));
      call.end();
    }, {}, { mergeWindowMs: 1000 });
    const client = observer(a.address);
    try {
      const rs = await follow(getFlows(client, { follow: true }), (got) => flowsOf(got).filter((f) => f.node === 'node-p').length >= 4, 15_000);
      assert.deepEqual(flowsOf(rs).filter((f) => f.node === 'node-p').map((f) => f.uuid), [10, 11, 12, 13].map(uuidOf));
      const events = rs.flatMap((r) => (r.responseTypes?.$case === 'nodeStatus' ? [[r.responseTypes.value.stateChange, r.responseTypes.value.message]] : []));
      assert.deepEqual(events.map((e) => e[0]), [NodeState.NODE_UNAVAILABLE, NodeState.NODE_CONNECTED, NodeState.NODE_UNAVAILABLE, NodeState.NODE_CONNECTED]);
      assert.match(String(events[2][1]), /catch-up failed: UNAVAILABLE: store busy/);
      assert.equal(catchUps, 2);
    } finally {
      client.close();
    }
  });

  it('cannot hide another relay\'s flow by sending its uuid under another node', async () => {
    const a = await relayWith((call) => {
      // a's flow 0, its uuid and time, claimed by node-p; and a genuine second copy of node-p's flow 1.
      call.write(batch([flowBytes(0), flowBytes(1), flowBytes(1)]));
      call.end();
    });
    const client = observer(a.address);
    try {
      const rs = await readAll(getFlows(client, { number: 10n }));
      assert.deepEqual(flowsOf(rs).map((f) => [f.uuid, f.node]).sort(), [[uuidOf(0), 'node-a'], [uuidOf(0), 'node-p'], [uuidOf(1), 'node-p'], [uuidOf(2), 'node-a']]);
    } finally {
      client.close();
    }
  });

  it('gives a follow\'s catch-up the peer timeout: one that sends nothing is a break, asked again', async () => {
    let catchUps = 0;
    let follows = 0;
    const a = await relayWith(
      (call) => {
        call.sendMetadata(new Metadata());
        if (call.request.follow) {
          if (++follows === 1) call.write(batch([flowBytes(10)]), () => call.emit('error', Object.assign(new Error('gone'), { code: status.UNAVAILABLE, details: 'gone' })));
          return;
        }
        // The first catch-up answers and then says nothing, and never ends.
        if (++catchUps === 1) return;
        call.write(batch([flowBytes(11)]));
        call.end();
      },
      { timeoutMs: 500 },
    );
    const client = observer(a.address);
    try {
      const rs = await follow(getFlows(client, { follow: true }), (got) => flowsOf(got).filter((f) => f.node === 'node-p').length >= 2, 15_000);
      assert.deepEqual(flowsOf(rs).filter((f) => f.node === 'node-p').map((f) => f.uuid), [10, 11].map(uuidOf));
      assert.deepEqual(unavailable(rs).map((d) => d.message).slice(1), ['its catch-up sent nothing for 500 ms']);
      assert.equal(catchUps, 2);
    } finally {
      client.close();
    }
  });
});
