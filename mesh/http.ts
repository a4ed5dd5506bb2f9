// The WAN channel: a peer's signed catalogue over plain HTTP(S) GET. The channel needs no
// authentication of its own because the catalogue carries its signature; what it must do is
// stay bounded, so a fetch stops at the byte limit and at its deadline whatever the far end does.
import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CatalogueError, type CatalogueResult } from './error';

export const CATALOGUE_PATH = '/v1/identity-catalogue';

/** Serves `current()` at CATALOGUE_PATH; resolves once listening. */
export async function serveCatalogue(current: () => CatalogueResult<Uint8Array>, host: string, port: number): Promise<{ server: Server; url: string }> {
  // Node checks the header and request deadlines only this often (30 s by default): a client
  // sending a header byte now and then would otherwise hold its connection six times as long.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    if (req.method !== 'GET' || req.url !== CATALOGUE_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${CATALOGUE_PATH}\n`);
      return;
    }
    const c = current();
    if (!c.ok) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`${c.error.message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': c.value.length }).end(c.value);
  });
  // A catalogue is one small GET: a client that holds a connection or sends slowly is cut off.
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.setTimeout(10_000, (socket) => socket.destroy());
  server.maxConnections = 256;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${CATALOGUE_PATH}` };
}

/** A peer's signed catalogue bytes, at most `maxBytes`, within `timeoutMs`. */
export function fetchCatalogue(url: string, maxBytes: number, timeoutMs: number): Promise<CatalogueResult<Uint8Array>> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: CatalogueResult<Uint8Array>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const fail = (code: 'FETCH_FAILED' | 'TOO_LARGE', message: string) => finish({ ok: false, error: new CatalogueError(code, `${url}: ${message}`) });
    const onResponse = (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        fail('FETCH_FAILED', `HTTP ${res.statusCode}`);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > maxBytes) {
        fail('TOO_LARGE', `${declared} bytes announced, limit ${maxBytes}`);
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total > maxBytes) fail('TOO_LARGE', `more than ${maxBytes} bytes`);
        else chunks.push(c);
      });
      res.on('end', () => finish({ ok: true, value: Buffer.concat(chunks) }));
      res.on('error', (err) => fail('FETCH_FAILED', err.message));
    };
    let req: ReturnType<typeof httpGet>;
    try {
      req = (url.startsWith('https:') ? httpsGet : httpGet)(url, onResponse);
    } catch (err) {
      resolve({ ok: false, error: new CatalogueError('FETCH_FAILED', `${url}: ${(err as Error).message}`) });
      return;
    }
    const timer = setTimeout(() => fail('FETCH_FAILED', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (err) => fail('FETCH_FAILED', err.message));
  });
}
