import assert from 'node:assert/strict';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetNodesRequest, ObserverClient, type GetNodesResponse } from '../../../proto/gen/observer/observer';
import { startRelay } from '../../../relay/server';
import { isLoopbackListen, listenCredentials, RelayConfigError } from '../../../relay/tls';
import { FakeCollector } from './exporter_client';
import { makeFlow, serverStatus } from '../observer/helpers';
import { makeCerts } from './test_certs';

describe('relay/tls', function () {
  this.timeout(60_000);

  it('tells loopback listen addresses from the others', () => {
    for (const a of ['127.0.0.1:4245', '127.1.2.3:1', 'localhost:4245', '[::1]:4245', 'ipv4:127.0.0.1:80', 'unix:/run/cillion.sock', '[::ffff:127.0.0.1]:1']) {
      assert.ok(isLoopbackListen(a), a);
    }
    for (const a of ['0.0.0.0:4245', '[::]:4245', '10.0.0.1:4245', 'relay.example:4245', ':4245', '128.0.0.1:1']) {
      assert.ok(!isLoopbackListen(a), a);
    }
  });

  it('refuses plaintext on a non-loopback address unless told to', async () => {
    await assert.rejects(listenCredentials('0.0.0.0:4245', {}), (e: Error) => e instanceof RelayConfigError && /--insecure-listen/.test(e.message) && /0\.0\.0\.0:4245/.test(e.message));
    await assert.rejects(startRelay({ listen: '0.0.0.0:0' }), RelayConfigError);
    assert.equal((await listenCredentials('0.0.0.0:4245', { insecureListen: true })).tls, false);
    assert.equal((await listenCredentials('127.0.0.1:4245', {})).tls, false);
    await assert.rejects(listenCredentials('127.0.0.1:4245', { cert: 'a.pem' }), /all three/);
  });

  describe('mutual TLS', () => {
    let dir: string;
    const file = (n: string) => readFileSync(join(dir, n));

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-tls-test-'));
      makeCerts(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('serves clients with a certificate from the CA, names the node by it, and refuses the rest', async () => {
      const relay = await startRelay({
        listen: '127.0.0.1:0',
        tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') },
        mergeWindowMs: 0,
        shutdownGraceMs: 200,
      });
      const good = credentials.createSsl(file('ca.pem'), file('client.key'), file('client.pem'));
      // By name, as certificates are checked: TLS has no server name for a bare IP.
      const address = relay.address.replace('127.0.0.1', 'localhost');
      const client = new ObserverClient(address, good);
      try {
        assert.ok(relay.tls);
        const collector = new FakeCollector(address, 'node-a', 's', good);
        await collector.acked(collector.send([makeFlow(1, { nodeName: 'node-a' })]));
        const nodes = await new Promise<GetNodesResponse>((res, rej) => client.getNodes(GetNodesRequest.fromPartial({}), (e, r) => (e ? rej(e) : res(r))));
        assert.deepEqual(nodes.nodes.map((n) => [n.name, n.tls]), [['node-a', { enabled: true, serverName: 'node-a' }]]);
        assert.equal((await serverStatus(client)).res.seenFlows, 1n);
        await collector.close();

        for (const creds of [
          credentials.createSsl(file('ca.pem')),
          credentials.createSsl(file('ca.pem'), file('rogue.key'), file('rogue.pem')),
          credentials.createInsecure(),
        ]) {
          const other = new ObserverClient(address, creds);
          await assert.rejects(serverStatus(other), (e: ServiceError) => e.code === status.UNAVAILABLE);
          other.close();
        }
      } finally {
        client.close();
        await relay.close();
      }
    });
  });
});
