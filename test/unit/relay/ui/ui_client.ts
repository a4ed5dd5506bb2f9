// A bare HTTP(S) client for the web UI tests: the raw path as given (no URL normalisation,
// so traversal attempts reach the server as sent), the API header, NDJSON lines as they come.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface UiAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  text: string;
}

export interface UiTarget {
  /** host:port */
  address: string;
  /** TLS: the client's certificate and key and the CA of the server's; plain HTTP without. */
  tls?: { cert?: Buffer; key?: Buffer; ca: Buffer };
}

export const API = { 'x-cillion-ui': '1' };

function options(t: UiTarget, method: string, path: string, headers: Record<string, string | number>): RequestOptions {
  const i = t.address.lastIndexOf(':');
  return {
    host: t.address.slice(0, i),
    port: Number(t.address.slice(i + 1)),
    method,
    path,
    headers,
    agent: false,
    ...(t.tls ? { cert: t.tls.cert, key: t.tls.key, ca: t.tls.ca, servername: 'localhost' } : {}),
  };
}

/** Starts a request and resolves with the response as soon as its headers are in. */
export function open(t: UiTarget, method: string, path: string, body?: string | Buffer, headers: Record<string, string | number> = {}): Promise<IncomingMessage> {
  const h = { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) };
  return new Promise((resolve, reject) => {
    const req = (t.tls ? httpsRequest : httpRequest)(options(t, method, path, h), resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends a request and goes away `ms` later, answered or not. */
export function leaveAfter(t: UiTarget, method: string, path: string, body: string, headers: Record<string, string>, ms: number): Promise<void> {
  const h = { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const req = (t.tls ? httpsRequest : httpRequest)(options(t, method, path, h), (res) => res.resume());
  req.on('error', () => undefined);
  req.end(body);
  return new Promise((resolve) => setTimeout(() => {
    req.destroy();
    resolve();
  }, ms));
}

export async function fetchUi(t: UiTarget, method: string, path: string, body?: string | Buffer, headers: Record<string, string | number> = {}): Promise<UiAnswer> {
  const res = await open(t, method, path, body, headers);
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  const all = Buffer.concat(parts);
  return { status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8') };
}

/** An API call: POST with a JSON body (GET without one), the header set. */
export function api(t: UiTarget, path: string, body?: unknown): Promise<UiAnswer> {
  return fetchUi(t, body === undefined ? 'GET' : 'POST', `/api/v1/${path}`, body === undefined ? undefined : JSON.stringify(body), API);
}

/** The lines of an NDJSON body, parsed. */
export function lines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Reads NDJSON lines off a streaming response, each handed to `onLine`, until it says stop (true) or the stream ends. */
export function readLines(res: IncomingMessage, onLine: (line: Record<string, unknown>) => boolean | void): Promise<'stopped' | 'ended'> {
  return new Promise((resolve, reject) => {
    let rest = '';
    let done = false;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (done) return;
      rest += chunk;
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (onLine(JSON.parse(line) as Record<string, unknown>) === true) {
          done = true;
          resolve('stopped');
          return;
        }
      }
    });
    res.on('end', () => {
      if (!done) resolve('ended');
    });
    res.on('error', (e) => {
      if (!done) reject(e);
    });
  });
}
