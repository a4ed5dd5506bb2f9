// Two clusters' relays peered both ways (--cluster zurich, --cluster frankfurt): a flow
// between them is shown from both ends, with both ends' verdicts, through either relay.
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { FlowFilter, Verdict } from '../../../../proto/gen/flow/flow';
import { GetNodesRequest, type GetNodesResponse, type ObserverClient } from '../../../../proto/gen/observer/observer';
import type { Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { getFlows, makeFlow, readAll, serverStatus } from '../../observer/helpers';
import { freePort, observer, readBatches, relayWithPeers } from './set';

function nodeNames(client: ObserverClient): Promise<string[]> {
  return new Promise((resolve, reject) =>
    client.getNodes(GetNodesRequest.fromPartial({}), (e: ServiceError | null, r?: GetNodesResponse) => (e ? reject(e) : resolve((r as GetNodesResponse).nodes.map((n) => n.name)))),
  );
}

describe('relay federation: two clusters peered both ways', function () {
  this.timeout(30_000);
  let zurich: Relay;
  let frankfurt: Relay;
  const collectors: FakeCollector[] = [];
  const clients: ObserverClient[] = [];
  // One connection, seen leaving zurich (forwarded) and arriving in frankfurt (dropped there).
  const egress = makeFlow(1, {
    verdict: Verdict.FORWARDED,
    source: { namespace: 'shop', podName: 'web-0', labels: [], clusterName: 'zurich' } as never,
    destination: { namespace: 'bank', podName: 'api-0', labels: [], clusterName: 'frankfurt' } as never,
  });
  const ingress = makeFlow(2, {
    verdict: Verdict.DROPPED,
    source: { namespace: 'shop', podName: 'web-0', labels: [], clusterName: 'zurich' } as never,
    destination: { namespace: 'bank', podName: 'api-0', labels: [], clusterName: 'frankfurt' } as never,
  });

  before(async () => {
    const zh = `127.0.0.1:${await freePort()}`;
    const fr = `127.0.0.1:${await freePort()}`;
    zurich = await relayWithPeers(zh, 'zurich-relay', [{ name: 'frankfurt-relay', address: fr }], { cluster: 'zurich' });
    frankfurt = await relayWithPeers(fr, 'frankfurt-relay', [{ name: 'zurich-relay', address: zh }], { cluster: 'frankfurt' });
    const zc = new FakeCollector(zh, 'zh-1', 'zh-s', undefined, 'zurich');
    const fc = new FakeCollector(fr, 'fr-1', 'fr-s', undefined, 'frankfurt');
    collectors.push(zc, fc);
    await zc.acked(zc.send([egress]));
    await fc.acked(fc.send([ingress]));
    zurich.flushLive();
    frankfurt.flushLive();
    clients.push(observer(zh), observer(fr));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const c of collectors) await c.close();
    await zurich?.close();
    await frankfurt?.close();
  });

  it('shows the flow from both ends, with both verdicts, through either relay', async () => {
    for (const client of clients) {
      const rs = await readAll(getFlows(client, { number: 10n }));
      const flows = rs.flatMap((r) => (r.responseTypes?.$case === 'flow' ? [r.responseTypes.value] : []));
      assert.deepEqual(
        flows.map((f) => [f.nodeName, f.verdict, f.source?.clusterName, f.destination?.clusterName]),
        [
          ['zurich/zh-1', Verdict.FORWARDED, 'zurich', 'frankfurt'],
          ['frankfurt/fr-1', Verdict.DROPPED, 'zurich', 'frankfurt'],
        ],
      );
      assert.deepEqual(rs.map((r) => r.nodeName), ['zurich/zh-1', 'frankfurt/fr-1']);
      assert.deepEqual(await nodeNames(client), ['frankfurt/fr-1', 'zurich/zh-1']);
    }
  });

  it('filters by cluster (node_name cluster/*) through either relay, in batches too', async () => {
    for (const relay of [zurich, frankfurt]) {
      for (const [cluster, node] of [['zurich', 'zurich/zh-1'], ['frankfurt', 'frankfurt/fr-1']]) {
        const rs = await readBatches(relay.address, { number: 10n, whitelist: [FlowFilter.fromPartial({ nodeName: [`${cluster}/*`] })] });
        assert.deepEqual(rs.map((r) => r.nodeName), [node], `${cluster} through ${relay.address}`);
      }
      const plain = await readBatches(relay.address, { number: 10n, whitelist: [FlowFilter.fromPartial({ nodeName: ['fr-1'] })] });
      assert.deepEqual(plain.map((r) => r.nodeName), ['frankfurt/fr-1']);
      const none = await readBatches(relay.address, { number: 10n, whitelist: [FlowFilter.fromPartial({ nodeName: ['default/*'] })] });
      assert.deepEqual(none, []);
    }
  });

  it('refuses a batch of another cluster with FAILED_PRECONDITION, and counts it', async () => {
    const stray = new FakeCollector(zurich.address, 'fr-2', 'fr-2-s', undefined, 'frankfurt');
    stray.send([makeFlow(3)]);
    await stray.ended;
    assert.equal(stray.error?.code, status.FAILED_PRECONDITION);
    assert.match(stray.error?.details ?? '', /serves cluster "zurich"; the batch is of cluster "frankfurt"/);
    assert.match(await zurich.metrics.text(), /reason="cluster_mismatch"\} 1/);
  });

  it('reports an unreachable peer cluster in ServerStatus instead of hanging', async () => {
    await frankfurt.close();
    const t0 = Date.now();
    const { res } = await serverStatus(clients[0]);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.deepEqual(res.unavailableNodes, ['relay/frankfurt-relay']);
    assert.equal(res.numConnectedNodes, 1);
    const rs = await readAll(getFlows(clients[0], { number: 10n }));
    assert.deepEqual(rs.map((r) => r.nodeName), ['', 'zurich/zh-1']);
  });
});
