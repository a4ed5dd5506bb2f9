// A peer that answers, sends part of its history and then stalls: the merge waits for it at
// most the peer timeout, then answers with what the others had and reports it. And the
// bound on what a fan-out queues from one relay before it stops reading it.
import assert from 'node:assert/strict';
import { Metadata, Server, status, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import type { GetFlowsRequest, GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { FlowHistoryService, type GetFlowBatchesResponse } from '../../../../proto/gen/observer/v1/flow_history';
import { NodeState } from '../../../../proto/gen/relay/relay';
import type { Relay } from '../../../../relay/server';
import { LocalSource, SOURCE_HIGH_WATER } from '../../../../relay/peers/sources';
import { FakeCollector } from '../exporter_client';
import { flowTimeNs, follow, getFlows, makeFlow, readAll, uuidOf } from '../../observer/helpers';
import { flowsOf, observer, relayWithPeers, statusEventsOf, waitFor } from './set';

function flowResponse(i: number): GetFlowsResponse {
  const f = makeFlow(i, { nodeName: 'node-s' });
  return { responseTypes: { $case: 'flow', value: f }, nodeName: 'node-s', time: f.time };
}

describe('relay fan-out: a peer that stalls half-way through its history', function () {
  this.timeout(30_000);
  let server: Server;
  let a: Relay;
  let col: FakeCollector;
  const open: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>[] = [];

  before(async () => {
    server = new Server();
    server.addService(FlowHistoryService, {
      getFlowBatches(call: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>) {
        // Flow 1, then nothing more, and the call never ends.
        open.push(call);
        call.write({ responses: [flowResponse(1)] });
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'stalled', address: `127.0.0.1:${port}` }], {}, { timeoutMs: 500 });
    col = new FakeCollector(a.address, 'node-a');
    await col.acked(col.send([makeFlow(0), makeFlow(2), makeFlow(3)]));
    a.flushLive();
  });

  after(async () => {
    await col?.close();
    await a?.close();
    server?.forceShutdown();
  });

  it('answers within the timeout with what came, the peer reported', async () => {
    const client = observer(a.address);
    try {
      const t0 = Date.now();
      const rs = await readAll(getFlows(client, { number: 10n }));
      const took = Date.now() - t0;
      // It waited the peer's timeout (500 ms) and not much more: the bound is wide, so a loaded machine passes, a merge waiting on forever does not.
      assert.ok(took >= 450 && took < 8000, `took ${took} ms`);
      // Flow 1 came before the stall and is older than a's flows 2 and 3: it is in its place.
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [0, 1, 2, 3].map(uuidOf));
      assert.deepEqual(statusEventsOf(rs), [{ state: NodeState.NODE_UNAVAILABLE, names: ['relay/stalled'] }]);
      assert.equal(open[0].cancelled, true, 'the stalled call is cancelled');
    } finally {
      client.close();
    }
  });
});

describe('relay fan-out: the queue of one relay\'s answer', () => {
  it(`stops taking responses at ${SOURCE_HIGH_WATER} until the merge has taken half`, async () => {
    let wakes = 0;
    const sink = new LocalSource(
      () => wakes++,
      async (out) => {
        for (let i = 0; i < SOURCE_HIGH_WATER * 2; i++) {
          if (!out.writeNow(flowResponse(i)) && !(await out.drained())) return;
        }
      },
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.size, SOURCE_HIGH_WATER, 'the answer waits at the high water');
    for (let i = 0; i < SOURCE_HIGH_WATER / 2 - 1; i++) sink.take();
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.size, SOURCE_HIGH_WATER / 2 + 1, 'still waiting above the low water');
    sink.take();
    await waitFor('the answer to fill its queue again once at the low water', () => sink.size === SOURCE_HIGH_WATER);
    assert.ok(wakes > 0);
    sink.cancel();
    await waitFor('the answer to end', () => sink.state === 'ended');
  });
});

describe('relay fan-out: a follow resumed after its peer stream broke', function () {
  this.timeout(30_000);

  it('follows live again and reads what the peer stored since its last flow less the window', async () => {
    const requests: GetFlowsRequest[] = [];
    let caughtUp: () => void = () => undefined;
    const catchUpSent = new Promise<void>((resolve) => (caughtUp = resolve));
    const server = new Server();
    server.addService(FlowHistoryService, {
      getFlowBatches(call: ServerWritableStream<GetFlowsRequest, GetFlowBatchesResponse>) {
        const n = requests.push(call.request);
        call.sendMetadata(new Metadata());
        if (n === 1) {
          // The first follow: flow 10, then the stream breaks.
          call.write({ responses: [flowResponse(10)] }, () =>
            call.emit('error', Object.assign(new Error('peer went away'), { code: status.UNAVAILABLE, details: 'peer went away' })),
          );
        } else if (call.request.follow) {
          // The new follow: live from now on; flow 13 comes live once the catch-up is sent.
          void catchUpSent.then(() => call.write({ responses: [flowResponse(13)] }));
        } else {
          // The catch-up: what the peer stored meanwhile (11, 12; 10 again, to be dropped).
          call.write({ responses: [flowResponse(10), flowResponse(11), flowResponse(12)] });
          call.end();
          caughtUp();
        }
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'p', address: `127.0.0.1:${port}` }], { mergeWindowMs: 100 });
    const client = observer(a.address);
    try {
      const rs = await follow(getFlows(client, { follow: true }), (got) => flowsOf(got).length >= 4, 15_000);
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [10, 11, 12, 13].map(uuidOf));
      assert.deepEqual(statusEventsOf(rs).map((e) => [e.state, e.names[0]]), [[NodeState.NODE_UNAVAILABLE, 'relay/p'], [NodeState.NODE_CONNECTED, 'relay/p']]);
      assert.equal(requests.length, 3);
      const [first, again, catchUp] = requests;
      assert.equal(first.follow && again.follow, true);
      assert.equal(again.since, undefined, 'live flows are held to no time bound');
      assert.equal(catchUp.follow, false);
      const since = (catchUp.since?.seconds ?? 0n) * 1_000_000_000n + BigInt(catchUp.since?.nanos ?? 0);
      assert.equal(since, flowTimeNs(10) - 100_000_000n, 'since = the last flow seen less the window');
      assert.ok(catchUp.until !== undefined);
    } finally {
      client.close();
      await a.close();
      server.forceShutdown();
    }
  });
});
