// The WAN channel on loopback: a peer's catalogue fetched over HTTP into the store, and the
// ways a peer's server can misbehave (oversize, silent, erroring), each bounded and counted.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CatalogueError } from '../../../mesh/error';
import { CatalogueExchange } from '../../../mesh/exchange';
import { CATALOGUE_PATH, fetchCatalogue, serveCatalogue } from '../../../mesh/http';
import { RemoteCatalogues } from '../../../mesh/store';
import { BILLING, FRANKFURT, frankfurtContent, signedBytes, zurichPeers } from './helpers';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${CATALOGUE_PATH}`;
}

describe('mesh/exchange: catalogues over HTTP', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('fetches a peer\'s signed catalogue into the store; the same generation again changes nothing', async () => {
    let bytes = signedBytes(frankfurtContent(), FRANKFURT.privateKey);
    const { server, url } = await serveCatalogue(() => ({ ok: true, value: bytes }), '127.0.0.1', 0);
    servers.push(server);
    const store = new RemoteCatalogues(zurichPeers());
    const ex = new CatalogueExchange(zurichPeers(url), store, { timeoutMs: 2000 });
    const [first] = await ex.refresh();
    assert.deepEqual(first.result.ok && first.result.value, { clusterName: 'frankfurt', generation: 10n, changed: true });
    assert.equal(store.byIdentity(BILLING)?.clusterName, 'frankfurt');
    const [again] = await ex.refresh();
    assert.equal(again.result.ok && again.result.value.changed, false);
    bytes = signedBytes(frankfurtContent({ generation: 9n }), FRANKFURT.privateKey);
    const [stale] = await ex.refresh();
    assert.equal(!stale.result.ok && stale.result.error.code, 'STALE');
    assert.equal(store.byIdentity(BILLING)?.clusterName, 'frankfurt');
    const wrongPath = await fetchCatalogue(url.replace(CATALOGUE_PATH, '/'), 1024, 2000);
    assert.match(!wrongPath.ok ? wrongPath.error.message : '', /FETCH_FAILED: .* HTTP 404/);
  });

  it('a server that sends too much, says nothing or fails is cut off at its limit and counted; the last good catalogue stays', async () => {
    const good = signedBytes(frankfurtContent(), FRANKFURT.privateKey);
    type Mode = 'good' | 'flood' | 'announce' | 'silent' | 'error';
    let mode = 'good' as Mode;
    let floodWritten = 0;
    const server = createServer((_req, res) => {
      if (mode === 'good') res.end(Buffer.from(good));
      else if (mode === 'announce') res.writeHead(200, { 'content-length': 1 << 30 }).write('x');
      else if (mode === 'error') res.writeHead(503).end('publisher not ready');
      else if (mode === 'flood') {
        // Chunked, no length announced: the fetch must stop reading by itself.
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024);
        const pump = () => {
          while (floodWritten < 64 * 1024 * 1024 && res.write(chunk)) floodWritten += chunk.length;
        };
        res.on('drain', pump);
        pump();
      }
    });
    servers.push(server);
    const url = await listen(server);
    const store = new RemoteCatalogues(zurichPeers());
    const ex = new CatalogueExchange(zurichPeers(url), store, { maxBytes: 64 * 1024, timeoutMs: 300 });
    assert.equal((await ex.refresh())[0].result.ok, true);
    const cases: Array<[Mode, string, RegExp]> = [
      ['flood', 'TOO_LARGE', /more than 65536 bytes/],
      ['announce', 'TOO_LARGE', /1073741824 bytes announced, limit 65536/],
      ['silent', 'FETCH_FAILED', /no complete answer within 300 ms/],
      ['error', 'FETCH_FAILED', /HTTP 503/],
    ];
    for (const [m, code, message] of cases) {
      mode = m;
      const [r] = await ex.refresh();
      assert.equal(!r.result.ok && r.result.error.code, code, m);
      assert.match(!r.result.ok ? r.result.error.message : '', message);
      assert.equal(store.byIdentity(BILLING)?.clusterName, 'frankfurt', `${m}: the last good catalogue stays`);
    }
    assert.ok(floodWritten < 64 * 1024 * 1024, 'the flood was cut off before the server finished');
    assert.deepEqual([store.stats().refused.TOO_LARGE, store.stats().refused.FETCH_FAILED], [2, 2]);
  });

  it('the server answers 503 with the reason while the publisher cannot publish', async () => {
    const { server, url } = await serveCatalogue(() => ({ ok: false, error: new CatalogueError('FOREIGN_IDENTITY', 'identity 256 is not in cluster id 2') }), '127.0.0.1', 0);
    servers.push(server);
    const r = await fetchCatalogue(url, 1024, 2000);
    assert.match(!r.ok ? r.error.message : '', /HTTP 503/);
  });
});
