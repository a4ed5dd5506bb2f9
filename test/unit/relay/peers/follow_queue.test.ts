// A viewer's short follower queue (cillion-follow-queue) through a fan-out: the relay asks it of
// each peer for the peer's live part, so the peer, too, drops for a slow viewer at once instead
// of queueing its own 65,536 flows; history calls and callers that asked nothing carry no key.
import assert from 'node:assert/strict';
import { Metadata, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { FOLLOW_QUEUE_KEY } from '../../../../observer/follow_queue';
import { GetFlowsRequest } from '../../../../proto/gen/observer/observer';
import { FlowHistoryService, type GetFlowBatchesResponse } from '../../../../proto/gen/observer/v1/flow_history';
import type { Relay } from '../../../../relay/server';
import { SCOPE_HEADER } from '../../../../relay/peers/scope';
import { readAll } from '../../observer/helpers';
import { observer, relayWithPeers, waitFor } from './set';

interface Asked {
  follow: boolean;
  scope: unknown;
  queue: unknown;
}

describe('relay fan-out: a short follower queue is asked of the peers', function () {
  this.timeout(20_000);
  let server: Server;
  let relay: Relay;
  const asked: Asked[] = [];
  const calls: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>[] = [];

  before(async () => {
    server = new Server();
    server.addService(FlowHistoryService, {
      getFlowBatches(call: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>) {
        asked.push({ follow: call.request.follow, scope: call.metadata.get(SCOPE_HEADER)[0], queue: call.metadata.get(FOLLOW_QUEUE_KEY)[0] });
        calls.push(call);
        call.sendMetadata(new Metadata());
        // History ends at once; a follow stays open until the caller goes.
        if (!call.request.follow) call.end();
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    relay = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'b', address: `127.0.0.1:${port}` }]);
  });

  after(async () => {
    await relay?.close();
    server?.forceShutdown();
  });

  const followWith = async (md: Metadata): Promise<Asked[]> => {
    asked.length = 0;
    const stream = observer(relay.address).getFlows(GetFlowsRequest.fromPartial({ follow: true, number: 5n }), md);
    stream.on('error', () => undefined);
    await waitFor('the peer asked for history and live', () => asked.some((a) => a.follow) && asked.some((a) => !a.follow), 10_000);
    stream.cancel();
    return [...asked].sort((x, y) => Number(x.follow) - Number(y.follow));
  };

  it('asks each peer for the queue the viewer asked for, for the live part only', async () => {
    const md = new Metadata();
    md.set(FOLLOW_QUEUE_KEY, '64');
    assert.deepEqual(await followWith(md), [
      { follow: false, scope: 'local', queue: undefined },
      { follow: true, scope: 'local', queue: '64' },
    ]);
  });

  it('asks the peer for no queue when the viewer asked for none', async () => {
    assert.deepEqual(await followWith(new Metadata()), [
      { follow: false, scope: 'local', queue: undefined },
      { follow: true, scope: 'local', queue: undefined },
    ]);
  });

  it('asks at most its own bound: a longer queue is capped before it reaches the peer', async () => {
    const md = new Metadata();
    md.set(FOLLOW_QUEUE_KEY, '999999999');
    const live = (await followWith(md)).find((a) => a.follow);
    assert.equal(live?.queue, String(relay.hub.followQueue));
  });

  it('refuses a bad value before any peer is asked', async () => {
    asked.length = 0;
    const md = new Metadata();
    md.set(FOLLOW_QUEUE_KEY, 'lots');
    await assert.rejects(readAll(observer(relay.address).getFlows(GetFlowsRequest.fromPartial({ follow: true }), md)), /cillion-follow-queue/);
    assert.deepEqual(asked, []);
  });
});
