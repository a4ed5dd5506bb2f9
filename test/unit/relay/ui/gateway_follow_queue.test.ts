// The gateway asks the relay for a short follower queue for each page (cillion-follow-queue,
// UiLimits.followQueue): a page that cannot keep up is told at once, by a lost-events line,
// how many flows it missed, while a gRPC follower of the same relay keeps the relay's bound.
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { ObserverClient, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { startRelay, type Relay } from '../../../../relay/server';
import { getFlows, makeFlow } from '../../observer/helpers';
import { FakeCollector } from '../exporter_client';
import { API, open, readLines, type UiTarget } from './ui_client';
import { until } from '../../../until';

describe('relay/ui gateway follower queue', function () {
  this.timeout(30_000);
  let relay: Relay;
  let collector: FakeCollector;

  before(async () => {
    relay = await startRelay({ listen: '127.0.0.1:0', mergeWindowMs: 20, ui: { listen: '127.0.0.1:0', staticDir: '/nonexistent', limits: { followQueue: 3 } } });
    collector = new FakeCollector(relay.address, 'node-a');
  });
  after(async () => {
    await collector?.close();
    await relay?.close();
  });

  it("a page's stream queues the gateway's bound and is told what it missed; a gRPC follower keeps the relay's", async () => {
    const ui: UiTarget = { address: relay.uiAddress as string };
    const res = await open(ui, 'POST', '/api/v1/observer.Observer/GetFlows', JSON.stringify({ follow: true }), API);
    assert.equal(res.statusCode, 200);
    const page: Record<string, unknown>[] = [];
    res.on('error', () => undefined);
    void readLines(res, (l) => void page.push(l));
    const client = new ObserverClient(relay.address, credentials.createInsecure());
    const grpc = getFlows(client, { follow: true });
    const grpcFlows: GetFlowsResponse[] = [];
    grpc.on('data', (r: GetFlowsResponse) => r.responseTypes?.$case === 'flow' && grpcFlows.push(r));
    grpc.on('error', () => undefined);
    try {
      await until('both followers', () => relay.hub.followers === 2, 10_000);
      // One batch, released to followers at once: the page's queue of 3 cannot drain in between.
      await collector.acked(collector.send(Array.from({ length: 10 }, (_, i) => makeFlow(i, { nodeName: 'node-a' }))));
      relay.flushLive();
      const lostIn = () => page.reduce((n, l) => n + Number((l.lostEvents as { numEventsLost?: string } | undefined)?.numEventsLost ?? 0), 0);
      await until('the page told of 7 lost flows, gRPC given all 10', () => lostIn() === 7 && grpcFlows.length === 10, 10_000);
      assert.equal(page.filter((l) => l.flow !== undefined).length, 3);
      assert.equal(relay.hub.followerLost, 7n, "the relay's own loss counter counts them");
    } finally {
      grpc.cancel();
      res.destroy();
      client.close();
    }
  });
});
