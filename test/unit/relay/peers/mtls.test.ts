// Peers over mutual TLS with certificates `cillion certs` mints: the peer role reads another
// relay's own data in the local scope and nothing else; a certificate without it is refused,
// and the relay that used it reports the peer unavailable instead of failing the answer.
import assert from 'node:assert/strict';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetFlowsRequest, ObserverClient, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { NodeState } from '../../../../proto/gen/relay/relay';
import { peerOptions } from '../../../../relay/peers/config';
import { localScope } from '../../../../relay/peers/scope';
import { startRelay, type Relay } from '../../../../relay/server';
import { FakeCollector } from '../exporter_client';
import { makeFlow, readAll, uuidOf } from '../../observer/helpers';
import { issue, makeCerts } from '../test_certs';
import { flowsOf, statusEventsOf } from './set';

describe('relay peers over mutual TLS', function () {
  this.timeout(30_000);
  let dir: string;
  let b: Relay;
  const relays: Relay[] = [];
  const tls = () => ({ cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') });
  const client = (address: string, who: string) =>
    new ObserverClient(address, credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(join(dir, who, 'tls.key')), readFileSync(join(dir, who, 'tls.crt'))));
  const flows = (c: ObserverClient, local: boolean): Promise<GetFlowsResponse[]> =>
    readAll(local ? c.getFlows(GetFlowsRequest.fromPartial({ number: 10n }), localScope()) : c.getFlows(GetFlowsRequest.fromPartial({ number: 10n })));
  const relayA = async (certName: string): Promise<Relay> => {
    const peers = await peerOptions({
      name: 'a',
      peer: [`b=localhost:${b.address.split(':')[1]}`],
      peerCert: join(dir, certName, 'tls.crt'),
      peerKey: join(dir, certName, 'tls.key'),
      peerTimeout: 1000,
      tlsClientCa: join(dir, 'ca.pem'),
      tls: true,
      storeUrl: false,
    });
    const r = await startRelay({ listen: '127.0.0.1:0', name: 'a', tls: tls(), mergeWindowMs: 50, shutdownGraceMs: 200, peers });
    relays.push(r);
    return r;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-peer-tls-'));
    makeCerts(dir);
    issue(dir, 'peer-a', 'relay-a', ['peer']);
    issue(dir, 'reader', 'alice', ['reader']);
    issue(dir, 'node-b', 'node-b', ['collector']);
    b = await startRelay({ listen: '127.0.0.1:0', name: 'b', tls: tls(), mergeWindowMs: 50, shutdownGraceMs: 200 });
    relays.push(b);
    const creds = credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(join(dir, 'node-b', 'tls.key')), readFileSync(join(dir, 'node-b', 'tls.crt')));
    const col = new FakeCollector(b.address, 'node-b', 's', creds);
    await col.acked(col.send([makeFlow(1)]));
    await col.close();
    b.flushLive();
  });

  after(async () => {
    for (const r of relays) await r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a peer through a peer-role certificate', async () => {
    const a = await relayA('peer-a');
    const alice = client(a.address, 'reader');
    try {
      const rs = await flows(alice, false);
      assert.deepEqual(flowsOf(rs).map((f) => f.uuid), [uuidOf(1)]);
      assert.deepEqual(statusEventsOf(rs), []);
    } finally {
      alice.close();
    }
  });

  it('lets the peer role read only in the local scope', async () => {
    const asPeer = client(b.address, 'peer-a');
    try {
      assert.equal(flowsOf(await flows(asPeer, true)).length, 1);
      await assert.rejects(flows(asPeer, false), (e: ServiceError) => e.code === status.PERMISSION_DENIED && /needs the reader role or the peer role in the local scope/.test(e.details));
    } finally {
      asPeer.close();
    }
    // Pushing flows is no part of it.
    const creds = credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(join(dir, 'peer-a', 'tls.key')), readFileSync(join(dir, 'peer-a', 'tls.crt')));
    const push = new FakeCollector(b.address, 'relay-a', 'x', creds);
    push.send([makeFlow(2)]);
    await push.ended;
    assert.equal(push.error?.code, status.PERMISSION_DENIED);
  });

  it('reports a peer that refuses its certificate, and answers with its own flows', async () => {
    // A collector certificate grants no reads: b refuses a's calls.
    const a = await relayA('node-b');
    const alice = client(a.address, 'reader');
    try {
      const rs = await flows(alice, false);
      assert.deepEqual(flowsOf(rs), []);
      const events = statusEventsOf(rs);
      assert.deepEqual(events, [{ state: NodeState.NODE_UNAVAILABLE, names: ['relay/b'] }]);
      const detail = rs.find((r) => r.responseTypes?.$case === 'nodeStatus');
      assert.match(detail?.responseTypes?.$case === 'nodeStatus' ? detail.responseTypes.value.message : '', /PERMISSION_DENIED/);
    } finally {
      alice.close();
    }
  });
});
