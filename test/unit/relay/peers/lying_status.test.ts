// A peer that answers ServerStatus with the maximum of every field and holders of its own
// invention: a real grpc-js server. The relay's merged answer saturates instead of failing to
// encode, leaves the invented holders out, and the relay keeps taking batches meanwhile.
import assert from 'node:assert/strict';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { ObserverService, ServerStatusResponse, type ServerStatusRequest } from '../../../../proto/gen/observer/observer';
import type { Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { makeFlow, serverStatus } from '../../observer/helpers';
import { observer, relayWithPeers } from './set';

const U64_MAX = (1n << 64n) - 1n;

function lie(): ServerStatusResponse {
  return ServerStatusResponse.fromPartial({
    numFlows: U64_MAX,
    maxFlows: U64_MAX,
    seenFlows: U64_MAX,
    numConnectedNodes: 0xffff_ffff,
    lostFlows: [{ source: 0, reason: 'x', count: U64_MAX }],
    loss: [{ where: 'collector', name: 'export_drops', count: U64_MAX }],
    flowHolders: [
      { name: 'flow_table', held: U64_MAX, capacity: U64_MAX, atCapacity: 'y'.repeat(100_000), fullEvents: U64_MAX, nodes: 0xffff_ffff },
      ...Array.from({ length: 1000 }, (_, i) => ({ name: `invented-${i}`, held: U64_MAX, capacity: 1n, atCapacity: 'z', fullEvents: 0n, nodes: 1 })),
    ],
  });
}

describe('relay fan-out: a peer whose ServerStatus gives the maximum of every field', function () {
  this.timeout(30_000);
  let server: Server;
  let relay: Relay;

  before(async () => {
    server = new Server();
    server.addService(ObserverService, {
      serverStatus: (_call: ServerUnaryCall<ServerStatusRequest, ServerStatusResponse>, cb: sendUnaryData<ServerStatusResponse>) => cb(null, lie()),
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    relay = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'liar', address: `127.0.0.1:${port}` }, { name: 'liar2', address: `127.0.0.1:${port}` }]);
  });

  after(async () => {
    await relay?.close();
    server?.forceShutdown();
  });

  it('answers with sums saturated at the wire types, without invented holders, and keeps taking batches', async () => {
    const client = observer(relay.address);
    const col = new FakeCollector(relay.address, 'node-a', 's1');
    try {
      for (let round = 0; round < 3; round++) {
        const acked = col.acked(col.send([makeFlow(round)]));
        const { res: st } = await serverStatus(client);
        await acked;
        assert.equal(st.numFlows, U64_MAX);
        assert.equal(st.seenFlows, U64_MAX);
        assert.equal(st.numConnectedNodes, 0xffff_ffff);
        assert.equal(st.loss.find((l) => l.name === 'export_drops')?.count, U64_MAX);
        assert.deepEqual(st.flowHolders.map((h) => h.name).sort(), ['flow_table', 'recent_buffer']);
        const table = st.flowHolders.find((h) => h.name === 'flow_table');
        assert.equal(table?.held, U64_MAX);
        assert.equal(table?.nodes, 0xffff_ffff);
        assert.ok((table?.atCapacity.length ?? 0) <= 200, 'own text first, a peer\'s text bounded');
      }
    } finally {
      client.close();
      await col.close();
    }
  });
});
