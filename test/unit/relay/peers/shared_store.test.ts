// Replicas over one shared store (--shared-store; the embedded engine stands in for the
// shared ClickHouse: two startRelay in one process given the same FlowStore). History comes
// from the store alone, so a dead peer cannot slow it; only live flows fan out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObserverClient } from '../../../../proto/gen/observer/observer';
import { NodeState } from '../../../../proto/gen/relay/relay';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import type { Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { follow, getFlows, makeFlow, readAll, serverStatus, uuidOf } from '../../observer/helpers';
import { flowsOf, freePort, observer, readBatches, relayWithPeers, silentPeer, statusEventsOf, waitFor } from './set';
import { FlowFilter } from '../../../../proto/gen/flow/flow';

describe('relay replicas over a shared store', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore;
  let a: Relay;
  let b: Relay;
  let silent: Awaited<ReturnType<typeof silentPeer>>;
  let client: ObserverClient;
  const collectors: FakeCollector[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-shared-store-'));
    store = await openStore({ dataDir: dir });
    silent = await silentPeer();
    const aAddress = `127.0.0.1:${await freePort()}`;
    const bAddress = `127.0.0.1:${await freePort()}`;
    const shared = { sharedStore: true, timeoutMs: 1500 };
    a = await relayWithPeers(aAddress, 'a', [{ name: 'b', address: bAddress }, { name: 'wedged', address: silent.address }], { store, cluster: 'zurich' }, shared);
    b = await relayWithPeers(bAddress, 'b', [{ name: 'a', address: aAddress }], { store, cluster: 'zurich' }, shared);
    const ca = new FakeCollector(aAddress, 'node-a', 'sa', undefined, 'zurich');
    const cb = new FakeCollector(bAddress, 'node-b', 'sb', undefined, 'zurich');
    collectors.push(ca, cb);
    await ca.acked(ca.send([0, 1, 2, 3, 4].map((i) => makeFlow(i))));
    await cb.acked(cb.send([5, 6, 7, 8, 9].map((i) => makeFlow(i))));
    client = observer(aAddress);
  });

  after(async () => {
    client?.close();
    for (const c of collectors) await c.close();
    await a?.close();
    await b?.close();
    await silent?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers history from the store alone: every replica\'s flows once, no peer asked', async () => {
    const t0 = Date.now();
    const rs = await readAll(getFlows(client, { number: 100n }));
    const took = Date.now() - t0;
    assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [...Array(10).keys()].map(uuidOf));
    assert.deepEqual(statusEventsOf(rs), [], 'the wedged peer is not asked for history');
    assert.ok(took < 1500, `took ${took} ms, the peer timeout`);
    assert.deepEqual([...new Set(flowsOf(rs).map((f) => f.node))], ['zurich/node-a', 'zurich/node-b']);
  });

  it('names stored flows cluster/node and filters them by cluster, in batches too', async () => {
    const byCluster = async (pattern: string) => flowsOf(await readBatches(a.address, { number: 100n, whitelist: [FlowFilter.fromPartial({ nodeName: [pattern] })] }));
    assert.equal((await byCluster('zurich/*')).length, 10);
    assert.deepEqual((await byCluster('zurich/node-b')).map((f) => f.node), Array(5).fill('zurich/node-b'));
    assert.deepEqual(await byCluster('frankfurt/*'), []);
    const all = await readBatches(a.address, { number: 100n });
    assert.deepEqual([...new Set(flowsOf(all).map((f) => f.node))], ['zurich/node-a', 'zurich/node-b']);
  });

  it('counts the shared store\'s flows once in ServerStatus', async () => {
    const { res } = await serverStatus(client);
    assert.equal(res.numFlows, 10n);
    assert.deepEqual(res.unavailableNodes, ['relay/wedged']);
    assert.equal(res.numConnectedNodes, 2);
  });

  it('fans live flows out: last 3 from the store, then flows of both replicas', async () => {
    const stream = getFlows(client, { number: 3n, follow: true });
    const got = follow(stream, (rs) => flowsOf(rs).length >= 5 && statusEventsOf(rs).length >= 1, 15_000);
    await waitFor('a follower on b', () => b.hub.followers > 0);
    await collectors[1].acked(collectors[1].send([makeFlow(10)]));
    await collectors[0].acked(collectors[0].send([makeFlow(11)]));
    const rs = await got;
    assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [7, 8, 9, 10, 11].map(uuidOf));
    assert.deepEqual(statusEventsOf(rs), [{ state: NodeState.NODE_UNAVAILABLE, names: ['relay/wedged'] }]);
  });
});
