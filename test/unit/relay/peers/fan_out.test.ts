// Fan-out reads through real relays over gRPC: three replicas (each with its own flows; no
// store, so each answers from its own memory), one asked for the whole set.
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { nsTimestamp } from '../../../../observer/time';
import { GetNodesRequest, type GetNodesResponse, type ObserverClient } from '../../../../proto/gen/observer/observer';
import { NodeState } from '../../../../proto/gen/relay/relay';
import { startRelay, type Relay } from '../../../../relay/server';
import { localScope } from '../../../../relay/peers/scope';
import { FakeCollector } from '../exporter_client';
import { follow, getFlows, makeFlow, readAll, serverStatus, uuidOf } from '../../observer/helpers';
import { flowsOf, freePort, observer, readBatches, relayWithPeers, silentPeer, statusEventsOf, waitFor } from './set';

function nodes(client: ObserverClient, local = false): Promise<GetNodesResponse> {
  return new Promise((resolve, reject) => {
    const cb = (e: ServiceError | null, r?: GetNodesResponse) => (e ? reject(e) : resolve(r as GetNodesResponse));
    if (local) client.getNodes(GetNodesRequest.fromPartial({}), localScope(), cb);
    else client.getNodes(GetNodesRequest.fromPartial({}), cb);
  });
}

describe('relay fan-out: replicas with their own flows', function () {
  this.timeout(30_000);
  let b: Relay;
  let c: Relay;
  let a: Relay;
  const collectors: FakeCollector[] = [];
  let client: ObserverClient;

  before(async () => {
    b = await startRelay({ listen: '127.0.0.1:0', name: 'b', mergeWindowMs: 50, shutdownGraceMs: 200 });
    c = await startRelay({ listen: '127.0.0.1:0', name: 'c', mergeWindowMs: 50, shutdownGraceMs: 200 });
    a = await relayWithPeers('127.0.0.1:0', 'a', [
      { name: 'b', address: b.address },
      { name: 'c', address: c.address },
    ]);
    client = observer(a.address);
    // Flows 0..29 spread over the three relays by i % 3, each relay its own node.
    for (const [relay, node] of [[a, 'node-a'], [b, 'node-b'], [c, 'node-c']] as const) {
      const col = new FakeCollector(relay.address, node);
      collectors.push(col);
      const idx = [...Array(30).keys()].filter((i) => i % 3 === [a, b, c].indexOf(relay));
      await col.acked(col.send(idx.map((i) => makeFlow(i))));
    }
    // Flow 100 stored by both b and c (a batch a collector's failover left on two replicas).
    const dupB = new FakeCollector(b.address, 'node-d', 'd-1');
    const dupC = new FakeCollector(c.address, 'node-d', 'd-2');
    collectors.push(dupB, dupC);
    await dupB.acked(dupB.send([makeFlow(100)]));
    await dupC.acked(dupC.send([makeFlow(100)]));
    for (const r of [a, b, c]) r.flushLive();
  });

  after(async () => {
    client?.close();
    for (const col of collectors) await col.close();
    for (const r of [a, b, c]) await r?.close();
  });

  it('answers history for the whole set in time order, each flow once', async () => {
    const got = flowsOf(await readAll(getFlows(client, { number: 1000n })));
    assert.deepEqual(got.map((f) => f.uuid), [...[...Array(30).keys()].map(uuidOf), uuidOf(100)]);
    assert.deepEqual(new Set(got.map((f) => f.node)), new Set(['node-a', 'node-b', 'node-c', 'node-d']));
  });

  it('keeps number, first, since and until over the union', async () => {
    const last = flowsOf(await readAll(getFlows(client, { number: 5n })));
    assert.deepEqual(last.map((f) => f.uuid), [26, 27, 28, 29, 100].map(uuidOf));
    const first = flowsOf(await readAll(getFlows(client, { number: 4n, first: true })));
    assert.deepEqual(first.map((f) => f.uuid), [0, 1, 2, 3].map(uuidOf));
    const t = (i: number) => {
      const ns = flowsOf([{ responseTypes: { $case: 'flow', value: makeFlow(i) }, nodeName: '', time: makeFlow(i).time }])[0].timeNs;
      return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
    };
    const range = flowsOf(await readAll(getFlows(client, { since: t(10), until: t(14) })));
    assert.deepEqual(range.map((f) => f.uuid), [10, 11, 12, 13, 14].map(uuidOf));
  });

  it('answers GetFlowBatches the same way, and a local-scope call from its own flows only', async () => {
    const all = flowsOf(await readBatches(a.address, { number: 1000n }));
    assert.equal(all.length, 31);
    const own = flowsOf(await readBatches(a.address, { number: 1000n }, true));
    assert.deepEqual(own.map((f) => f.uuid), [...Array(10).keys()].map((k) => uuidOf(3 * k)));
  });

  it('sums ServerStatus and lists every relay\'s nodes', async () => {
    const { res } = await serverStatus(client);
    assert.equal(res.numConnectedNodes, 5, 'node-a, node-b, node-c and node-d on two relays');
    assert.equal(res.numUnavailableNodes, 0);
    assert.equal(res.seenFlows, 32n);
    const list = await nodes(client);
    assert.deepEqual(list.nodes.map((n) => n.name), ['node-a', 'node-b', 'node-c', 'node-d']);
    assert.deepEqual((await nodes(client, true)).nodes.map((n) => n.name), ['node-a']);
  });

  it('refuses a bad request as one relay would, whatever the peers say', async () => {
    await assert.rejects(readAll(getFlows(client, { follow: true, first: true, number: 1n })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /first cannot be combined with follow/.test(e.details));
  });

  it('ends a follow with until by itself, no relay reported', async () => {
    const until = nsTimestamp(BigInt(Date.now() + 200) * 1_000_000n);
    const t0 = Date.now();
    const rs = await readAll(getFlows(client, { follow: true, until }));
    assert.ok(Date.now() - t0 < 6000);
    assert.deepEqual(statusEventsOf(rs), []);
  });

  it('follows flows of every relay live, each once', async () => {
    const stream = getFlows(client, { follow: true });
    const got = follow(stream, (rs) => flowsOf(rs).length >= 3);
    // The follow is open on every relay once a flow sent to each arrives.
    await waitFor('followers on b and c', () => b.hub.followers > 0 && c.hub.followers > 0);
    await collectors[1].acked(collectors[1].send([makeFlow(201)]));
    await collectors[2].acked(collectors[2].send([makeFlow(202)]));
    await collectors[0].acked(collectors[0].send([makeFlow(200)]));
    const rs = await got;
    assert.deepEqual(new Set(flowsOf(rs).map((f) => f.uuid)), new Set([200, 201, 202].map(uuidOf)));
  });
});

describe('relay fan-out: a peer that takes the connection and never answers', function () {
  this.timeout(30_000);
  let a: Relay;
  let silent: Awaited<ReturnType<typeof silentPeer>>;
  let col: FakeCollector;
  let client: ObserverClient;

  before(async () => {
    silent = await silentPeer();
    a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'wedged', address: silent.address }], {}, { timeoutMs: 400 });
    client = observer(a.address);
    col = new FakeCollector(a.address, 'node-a');
    await col.acked(col.send([makeFlow(1), makeFlow(2)]));
    a.flushLive();
  });

  after(async () => {
    client?.close();
    await col?.close();
    await a?.close();
    await silent?.close();
  });

  it('answers ServerStatus within the timeout and names the peer unavailable', async () => {
    const t0 = Date.now();
    const { res } = await serverStatus(client);
    const took = Date.now() - t0;
    assert.ok(took < 1400, `took ${took} ms`);
    assert.equal(res.numConnectedNodes, 1);
    assert.equal(res.numUnavailableNodes, 1);
    assert.deepEqual(res.unavailableNodes, ['relay/wedged']);
    const list = await nodes(client);
    assert.deepEqual(list.nodes.map((n) => [n.name, n.state]), [['node-a', NodeState.NODE_CONNECTED], ['relay/wedged', NodeState.NODE_UNAVAILABLE]]);
  });

  it('answers history within the timeout, with the peer reported in the stream', async () => {
    const t0 = Date.now();
    const rs = await readAll(getFlows(client, { number: 10n }));
    const took = Date.now() - t0;
    assert.ok(took < 1400, `took ${took} ms`);
    assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [1, 2].map(uuidOf));
    assert.deepEqual(statusEventsOf(rs), [{ state: NodeState.NODE_UNAVAILABLE, names: ['relay/wedged'] }]);
    const metrics = await a.metrics.text();
    assert.match(metrics, /cillion_peer_events_total\{peer="relay\/wedged",state="unavailable"\} [1-9]/);
  });

  it('follows its own flows meanwhile, the peer reported once', async () => {
    const stream = getFlows(client, { follow: true });
    const got = follow(stream, (rs) => flowsOf(rs).length >= 1 && statusEventsOf(rs).length >= 1);
    await waitFor('a follower', () => a.hub.followers > 0);
    await col.acked(col.send([makeFlow(3)]));
    const rs = await got;
    assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [uuidOf(3)]);
    assert.deepEqual(statusEventsOf(rs)[0], { state: NodeState.NODE_UNAVAILABLE, names: ['relay/wedged'] });
  });
});

describe('relay fan-out: a follow that outlives a peer restart', function () {
  this.timeout(90_000);

  it('resumes the restarted peer\'s stream with no gap', async () => {
    const port = await freePort();
    const bAddress = `127.0.0.1:${port}`;
    let b = await startRelay({ listen: bAddress, name: 'b', mergeWindowMs: 50, shutdownGraceMs: 100 });
    // Both relays share this process: on a busy machine the default 2 s peer timeout would
    // break each resumed follow before it answers; what is tested here is the gap, not the timeout.
    const a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'b', address: bAddress }], {}, { timeoutMs: 20_000 });
    const client = observer(a.address);
    let col = new FakeCollector(bAddress, 'node-b', 's1');
    try {
      const stream = getFlows(client, { follow: true });
      let seen = 0;
      const got = follow(stream, (rs) => (seen = flowsOf(rs).length) >= 4, 75_000);
      await waitFor('a follower on b', () => b.hub.followers > 0);
      await col.acked(col.send([makeFlow(1), makeFlow(2)]));
      // The follow has these before b goes: the gap tested is what b takes while it is away.
      b.flushLive();
      await waitFor('flows 1 and 2 at the follow', () => seen >= 2, 30_000);
      await col.close();
      await b.close();
      // The restarted replica takes flows before the follow has found it again.
      b = await startRelay({ listen: bAddress, name: 'b', mergeWindowMs: 50, shutdownGraceMs: 100 });
      col = new FakeCollector(bAddress, 'node-b', 's2');
      await col.acked(col.send([makeFlow(3), makeFlow(4)]));
      b.flushLive();
      const rs = await got;
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [1, 2, 3, 4].map(uuidOf));
      const events = statusEventsOf(rs).filter((e) => e.names[0] === 'relay/b');
      assert.deepEqual(events.map((e) => e.state), [NodeState.NODE_UNAVAILABLE, NodeState.NODE_CONNECTED]);
    } finally {
      client.close();
      await col.close();
      await a.close();
      await b.close();
    }
  });
});

describe('relay fan-out: more history than a relay\'s answer queue holds', function () {
  this.timeout(60_000);

  it('merges 3 x 12000 flows in order through the bounded queues, each once', async () => {
    const per = 12_000;
    const b = await startRelay({ listen: '127.0.0.1:0', name: 'b', buffer: per, mergeWindowMs: 0, shutdownGraceMs: 200 });
    const c = await startRelay({ listen: '127.0.0.1:0', name: 'c', buffer: per, mergeWindowMs: 0, shutdownGraceMs: 200 });
    // Three relays share this process's one core: a generous timeout, this is about the queues.
    const a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'b', address: b.address }, { name: 'c', address: c.address }], { buffer: per, mergeWindowMs: 0 }, { timeoutMs: 10_000 });
    const cols = [a, b, c].map((r, k) => new FakeCollector(r.address, `node-${k}`));
    try {
      for (const [k, col] of cols.entries()) {
        // Flow i on relay i % 3: the merge interleaves all three throughout.
        const mine = [...Array(3 * per).keys()].filter((i) => i % 3 === k);
        for (let at = 0; at < mine.length; at += 2000) await col.acked(col.send(mine.slice(at, at + 2000).map((i) => makeFlow(i))));
      }
      const t0 = Date.now();
      const rs = await readBatches(a.address, { number: BigInt(3 * per) });
      assert.deepEqual(rs.flatMap((r) => (r.responseTypes?.$case === 'nodeStatus' ? [r.responseTypes.value.message] : [])), []);
      const got = flowsOf(rs);
      const took = Date.now() - t0;
      assert.equal(got.length, 3 * per);
      for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].timeNs <= got[i].timeNs, `out of order at ${i}`);
      assert.equal(new Set(got.map((f) => f.uuid)).size, 3 * per);
      console.log(`      ${3 * per} flows from 3 relays in ${took} ms`);
    } finally {
      for (const col of cols) await col.close();
      for (const r of [a, b, c]) await r.close();
    }
  });
});
