// The generated grpc-js service over loopback, called by a client that knows only Hubble's
// schema and speaks raw gRPC paths, as the hubble CLI does.
import assert from 'node:assert/strict';
import { Client, credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerWritableStream, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, FileRegistry, Message } from '@bufbuild/protobuf';
import { LostEventSource } from '../../../proto/gen/flow/flow';
import { ObserverService } from '../../../proto/gen/observer/observer';
import type { GetFlowsRequest, GetFlowsResponse, ObserverServer, ServerStatusRequest, ServerStatusResponse } from '../../../proto/gen/observer/observer';
import { compile } from './descriptor';
import { hubbleOnly, message } from './hubble-view';
import { hubbleJson, sample } from './sample-flow';

describe('proto: Observer over gRPC with a Hubble-only client', () => {
  let hubble: FileRegistry;
  let server: Server;
  let client: Client;
  const seen: GetFlowsRequest[] = [];

  const impl: Pick<ObserverServer, 'getFlows' | 'serverStatus'> = {
    getFlows(call: ServerWritableStream<GetFlowsRequest, GetFlowsResponse>) {
      seen.push(call.request);
      call.write({ responseTypes: { $case: 'flow', value: sample }, nodeName: 'zrh-node-1', time: sample.time });
      call.write({
        responseTypes: {
          $case: 'lostEvents',
          value: { source: LostEventSource.PERF_EVENT_RING_BUFFER, numEventsLost: 3n, cpu: 1, first: undefined, last: undefined },
        },
        nodeName: 'zrh-node-1',
        time: undefined,
      });
      call.end();
    },
    serverStatus(_call: ServerUnaryCall<ServerStatusRequest, ServerStatusResponse>, done: sendUnaryData<ServerStatusResponse>) {
      done(null, {
        numFlows: 2n, maxFlows: 4096n, seenFlows: 9n, uptimeNs: 5_000_000_000n, numConnectedNodes: 1,
        numUnavailableNodes: 0, unavailableNodes: [], version: 'cillion-test', flowsRate: 0.5, lostFlows: [], loss: [], fingerprintMismatches: [], flowHolders: [],
      });
    },
  };

  before(async () => {
    hubble = hubbleOnly(compile(['observer/observer.proto']));
    server = new Server();
    server.addService(ObserverService, impl);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(() => {
    client?.close();
    server?.forceShutdown();
  });

  const ser = (desc: DescMessage) => (m: Message) => Buffer.from(toBinary(desc, m));
  const de = (desc: DescMessage) => (b: Buffer) => fromBinary(desc, b);

  it('streams GetFlows responses a Hubble client decodes, and the server sees its filters', async () => {
    const req = message(hubble, 'observer.GetFlowsRequest');
    const res = message(hubble, 'observer.GetFlowsResponse');
    const request = fromJson(req, { number: '20', whitelist: [{ sourcePod: ['shop/'] }], blacklist: [{ verdict: ['DROPPED'] }] }, { registry: hubble });
    const stream = client.makeServerStreamRequest('/observer.Observer/GetFlows', ser(req), de(res), request);
    const got: unknown[] = [];
    for await (const m of stream) got.push(toJson(res, m as Message, { registry: hubble }));
    assert.deepEqual(got, [
      { flow: hubbleJson, nodeName: 'zrh-node-1', time: '2026-01-01T00:00:00.000005Z' },
      { lostEvents: { source: 'PERF_EVENT_RING_BUFFER', numEventsLost: '3', cpu: 1 }, nodeName: 'zrh-node-1' },
    ]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].number, 20n);
    assert.deepEqual(seen[0].whitelist.map((f) => f.sourcePod), [['shop/']]);
    assert.deepEqual(seen[0].blacklist.map((f) => f.verdict), [[2]]);
  });

  it('answers ServerStatus in Hubble’s shape and leaves unimplemented RPCs to grpc-js', async () => {
    const req = message(hubble, 'observer.ServerStatusRequest');
    const res = message(hubble, 'observer.ServerStatusResponse');
    const call = (path: string) =>
      new Promise<Message>((resolve, reject) =>
        client.makeUnaryRequest(path, ser(req), de(res), fromBinary(req, new Uint8Array()), (err, m) => (err ? reject(err) : resolve(m as Message))),
      );
    assert.deepEqual(toJson(res, await call('/observer.Observer/ServerStatus'), { registry: hubble }), {
      numFlows: '2', maxFlows: '4096', seenFlows: '9', uptimeNs: '5000000000', numConnectedNodes: 1,
      numUnavailableNodes: 0, version: 'cillion-test', flowsRate: 0.5,
    });
    await assert.rejects(call('/observer.Observer/GetNodes'), /UNIMPLEMENTED/);
  });
});
