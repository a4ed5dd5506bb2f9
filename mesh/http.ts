// The WAN channel: a peer's signed catalogue over plain HTTP(S) GET, and, beside it, the
// POST route a peer's Level 1 key requests arrive on. The channel needs no authentication
// of its own because every message carries its signature; what it must do is stay bounded,
// so a request or an answer stops at its byte limit and its deadline whatever the far end does.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CatalogueError, type CatalogueResult } from './error';

export const CATALOGUE_PATH = '/v1/identity-catalogue';

export interface PostAnswer {
  status: number;
  body: Uint8Array | string;
}

/** Why the server refused a POST before its handler saw it; counted by the route's owner. */
export type PostRefusal = 'TOO_LARGE' | 'BUSY' | 'TIMEOUT';

/** A POST route served beside the catalogue (the Level 1 key requests, mesh/level1_server.ts). */
export interface PostRoute {
  path: string;
  /** Request body limit; a larger one is answered 413 and its connection closed. */
  maxBytes: number;
  /**
   * Requests read or handled at once per client address; one more from that address is
   * answered 503 at once. Per address, so slow senders at one address cannot take the route
   * from everyone else (all connections together are bounded by MAX_CONNECTIONS).
   */
  maxInFlight: number;
  /** The whole body must have arrived this long after the headers, or 408. */
  bodyTimeoutMs: number;
  handle(body: Uint8Array): PostAnswer;
  refused(why: PostRefusal): void;
}

export interface ServeOptions {
  post?: PostRoute;
}

// A catalogue is one small GET and a key request one small POST: a client that holds a
// connection or sends slowly is cut off, and at most this many connections are open.
const HEADERS_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
export const MAX_CONNECTIONS = 256;

function answer(res: ServerResponse, a: PostAnswer, close = false): void {
  const body = typeof a.body === 'string' ? Buffer.from(`${a.body}\n`) : a.body;
  const type = typeof a.body === 'string' ? 'text/plain' : 'application/x-protobuf';
  res.writeHead(a.status, { 'content-type': type, 'content-length': body.length, ...(close ? { connection: 'close' } : {}) }).end(body);
}

function servePost(route: PostRoute, inFlight: Map<string, number>, req: IncomingMessage, res: ServerResponse): void {
  const from = req.socket.remoteAddress ?? '';
  const mine = inFlight.get(from) ?? 0;
  if (mine >= route.maxInFlight) {
    route.refused('BUSY');
    answer(res, { status: 503, body: `BUSY: ${route.maxInFlight} requests from ${from} in progress, try again later` }, true);
    req.resume();
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > route.maxBytes) {
    route.refused('TOO_LARGE');
    answer(res, { status: 413, body: `TOO_LARGE: ${declared} bytes announced, limit ${route.maxBytes}` }, true);
    // The answer goes out first; the unread body is not waited for.
    res.once('finish', () => req.destroy());
    return;
  }
  inFlight.set(from, mine + 1);
  let done = false;
  const finish = (a: PostAnswer | undefined, close: boolean) => {
    if (done) return;
    done = true;
    const left = (inFlight.get(from) ?? 1) - 1;
    if (left > 0) inFlight.set(from, left);
    else inFlight.delete(from);
    clearTimeout(timer);
    if (a) answer(res, a, close);
    if (close) res.once('finish', () => req.destroy());
  };
  const timer = setTimeout(() => {
    route.refused('TIMEOUT');
    finish({ status: 408, body: `TIMEOUT: the request body did not arrive within ${route.bodyTimeoutMs} ms` }, true);
  }, route.bodyTimeoutMs);
  const chunks: Buffer[] = [];
  let total = 0;
  req.on('data', (c: Buffer) => {
    if (done) return;
    total += c.length;
    if (total > route.maxBytes) {
      route.refused('TOO_LARGE');
      finish({ status: 413, body: `TOO_LARGE: more than ${route.maxBytes} bytes` }, true);
    } else chunks.push(c);
  });
  req.on('end', () => {
    if (done) return;
    let a: PostAnswer;
    try {
      a = route.handle(Buffer.concat(chunks));
    } catch (err) {
      // A handler bug answers this request, not the process.
      a = { status: 500, body: `INTERNAL: ${(err as Error).message}` };
    }
    finish(a, false);
  });
  req.on('error', () => finish(undefined, true));
  req.on('close', () => finish(undefined, false));
}

/** Serves `current()` at CATALOGUE_PATH (and the POST route, if any); resolves once listening. */
export async function serveCatalogue(current: () => CatalogueResult<Uint8Array>, host: string, port: number, opts: ServeOptions = {}): Promise<{ server: Server; url: string }> {
  const inFlight = new Map<string, number>();
  const post = opts.post;
  // Node checks the header and request deadlines only this often (30 s by default): a client
  // sending a header byte now and then would otherwise hold its connection six times as long.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    if (post && req.url === post.path) {
      if (req.method === 'POST') servePost(post, inFlight, req, res);
      else answer(res, { status: 405, body: `only POST ${post.path}` });
      return;
    }
    if (req.method !== 'GET' || req.url !== CATALOGUE_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${CATALOGUE_PATH}${post ? ` and POST ${post.path}` : ''}\n`);
      return;
    }
    const c = current();
    if (!c.ok) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`${c.error.message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': c.value.length }).end(c.value);
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.setTimeout(REQUEST_TIMEOUT_MS, (socket) => socket.destroy());
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${CATALOGUE_PATH}` };
}

export type ExchangeFailure = { code: 'FETCH_FAILED' | 'TOO_LARGE'; message: string };
export type ExchangeResult = { ok: true; value: Uint8Array } | { ok: false; error: ExchangeFailure };

/** Characters of a refusal's text kept in the error, so a peer's reason shows in the log. */
const REFUSAL_TEXT_CHARS = 200;

/**
 * The bytes answered at `url` (a GET, or a POST of `body`), at most `maxBytes`, within
 * `timeoutMs`. A non-200 answer is a failure that carries the first characters of its text.
 */
export function exchangeBytes(url: string, body: Uint8Array | undefined, maxBytes: number, timeoutMs: number): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ExchangeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const fail = (code: ExchangeFailure['code'], message: string) => finish({ ok: false, error: { code, message: `${url}: ${message}` } });
    const onResponse = (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length']);
      if (res.statusCode === 200 && declared > maxBytes) {
        fail('TOO_LARGE', `${declared} bytes announced, limit ${maxBytes}`);
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (res.statusCode !== 200) {
          if (total <= REFUSAL_TEXT_CHARS * 4) chunks.push(c);
        } else if (total > maxBytes) fail('TOO_LARGE', `more than ${maxBytes} bytes`);
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode === 200) finish({ ok: true, value: Buffer.concat(chunks) });
        else {
          const text = Buffer.concat(chunks).toString('utf8').trim().slice(0, REFUSAL_TEXT_CHARS).replace(/[^\x20-\x7e]/g, '?');
          fail('FETCH_FAILED', `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`);
        }
      });
      res.on('error', (err) => fail('FETCH_FAILED', err.message));
    };
    let req: ReturnType<typeof httpRequest>;
    try {
      const options = body ? { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } } : { method: 'GET' };
      req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, onResponse);
    } catch (err) {
      resolve({ ok: false, error: { code: 'FETCH_FAILED', message: `${url}: ${(err as Error).message}` } });
      return;
    }
    const timer = setTimeout(() => fail('FETCH_FAILED', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (err) => fail('FETCH_FAILED', err.message));
    req.end(body);
  });
}

/** A peer's signed catalogue bytes, at most `maxBytes`, within `timeoutMs`. */
export async function fetchCatalogue(url: string, maxBytes: number, timeoutMs: number): Promise<CatalogueResult<Uint8Array>> {
  const r = await exchangeBytes(url, undefined, maxBytes, timeoutMs);
  return r.ok ? r : { ok: false, error: new CatalogueError(r.error.code, r.error.message) };
}
