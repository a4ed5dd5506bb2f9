// node_name patterns sent to a relay that serves a cluster: a malformed one is the client's
// error (INVALID_ARGUMENT, not INTERNAL), a pathological one costs no time; and a node
// name with "/" (which would pass for another cluster's node) is refused on export.
import assert from 'node:assert/strict';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { FlowFilter } from '../../../../proto/gen/flow/flow';
import { startRelay, type Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { getFlows, makeFlow, readAll, uuidOf } from '../../observer/helpers';
import { flowsOf, observer } from './set';

describe('relay with --cluster: node_name patterns of requests', function () {
  this.timeout(20_000);
  let relay: Relay;
  let col: FakeCollector;

  before(async () => {
    relay = await startRelay({ listen: '127.0.0.1:0', cluster: 'c1', shutdownGraceMs: 200 });
    col = new FakeCollector(relay.address, 'node-a');
    await col.acked(col.send([makeFlow(0), makeFlow(2)]));
    relay.flushLive();
  });

  after(async () => {
    await col?.close();
    await relay?.close();
  });

  it('refuses a malformed pattern with INVALID_ARGUMENT, and keeps serving', async () => {
    const client = observer(relay.address);
    try {
      for (const bad of ['(/x', 'a/b/c', 'zur[ich/*']) {
        const err = await readAll(getFlows(client, { whitelist: [FlowFilter.fromPartial({ nodeName: [bad] })] })).then(
          () => undefined,
          (e: ServiceError) => e,
        );
        assert.equal(err?.code, status.INVALID_ARGUMENT, `${bad}: ${err?.details}`);
        assert.match(err?.details ?? '', /node_name: invalid pattern/);
      }
      const rs = await readAll(getFlows(client, { number: 10n }));
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [0, 2].map(uuidOf));
    } finally {
      client.close();
    }
  });

  it('answers a pattern of many stars at once', async () => {
    const client = observer(relay.address);
    try {
      const t0 = Date.now();
      const stars = '*'.repeat(40);
      const rs = await readAll(getFlows(client, { number: 10n, whitelist: [FlowFilter.fromPartial({ nodeName: [`${stars}x/*`, `c1/${stars}x`, `${stars}/${stars}a`] })] }));
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [0, 2].map(uuidOf));
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    } finally {
      client.close();
    }
  });

  it('refuses an export whose node name holds "/" with INVALID_ARGUMENT', async () => {
    const liar = new FakeCollector(relay.address, 'c2/node-x');
    try {
      liar.send([makeFlow(4)]);
      await liar.ended;
      assert.equal(liar.error?.code, status.INVALID_ARGUMENT);
      assert.match(liar.error?.details ?? '', /node name "c2\/node-x" contains "\/"/);
    } finally {
      await liar.close();
    }
    const client = observer(relay.address);
    try {
      assert.deepEqual(flowsOf(await readAll(getFlows(client, { number: 10n }))).map((f) => f.uuid), [0, 2].map(uuidOf));
    } finally {
      client.close();
    }
  });
});
