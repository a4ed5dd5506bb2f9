// The relay's web UI server: the browser app's static files, and the API under /api/v1
// answered by the relay's own guarded service handlers through in-process calls
// (gateway_call.ts): no second data path, so the role check, the flow stream slots, the
// stall guard, filter bounds and fan-out to peers apply as they do over gRPC. With the
// relay's TLS it is HTTPS on the relay's server certificate and requires a client
// certificate of the relay's client CA; the certificate's roles are the AccessPolicy's.
import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { ExportRequest, type AttestServer } from '../../proto/gen/attest/v1/attest';
import {
  GetFlowsRequest,
  GetFlowsResponse,
  GetNamespacesRequest,
  GetNamespacesResponse,
  GetNodesRequest,
  GetNodesResponse,
  ServerStatusRequest,
  ServerStatusResponse,
  type ObserverServer,
} from '../../proto/gen/observer/observer';
import type { AccessPolicy } from '../auth/policy';
import type { TlsFiles } from '../tls';
import { downloadAttestation } from './attest_download';
import { callUnary, GatewayCall, serviceError, type CallPeer } from './gateway_call';
import { API_HEADERS, GatewayError, sendError } from './http_error';
import { uiLimits, type UiLimits } from './limits';
import { FOLLOW_QUEUE_KEY } from '../../observer/follow_queue';
import { NdjsonAnswer } from './ndjson_answer';
import { fromJson, readBody, rfc3339, uint64 } from './request_body';
import { defaultStaticDir, serveStatic } from './static_files';

/** The header every API request carries; a cross-site page cannot send it without a preflight, which is never granted. */
export const UI_HEADER = 'x-cillion-ui';

export interface GatewayOptions {
  /** host:port; port 0 picks one. */
  listen: string;
  /** The relay's server certificate, key and client CA; plain HTTP without. */
  tls: TlsFiles | undefined;
  policy: AccessPolicy;
  /** The guarded handler objects the relay's gRPC server serves. */
  observer: ObserverServer;
  attest: AttestServer;
  relayName: string;
  cluster: string | undefined;
  /** The built browser app; default dist/web of the package. */
  staticDir?: string;
  limits?: Partial<UiLimits>;
  /** Unexpected failures, for the log; the client sees only an error id. */
  log?: (message: string) => void;
  /** A client hit one of the UI's own bounds (the relay's breaches: counted and logged). */
  onLimit?: (kind: 'ui_body' | 'ui_connections' | 'ui_downloads', message: string, peer: string) => void;
}

export interface Gateway {
  /** The address bound, the port resolved when 0 was asked. */
  readonly address: string;
  readonly url: string;
  close(): Promise<void>;
}

const UNARY = {
  ServerStatus: { req: ServerStatusRequest, res: ServerStatusResponse, method: 'serverStatus' },
  GetNodes: { req: GetNodesRequest, res: GetNodesResponse, method: 'getNodes' },
  GetNamespaces: { req: GetNamespacesRequest, res: GetNamespacesResponse, method: 'getNamespaces' },
} as const;

type Route = { method: 'GET' | 'POST'; run: (req: IncomingMessage, res: ServerResponse, peer: CallPeer) => Promise<void> };

function splitListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new GatewayError(status.INVALID_ARGUMENT, `web UI address "${listen}" is not host:port`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: Number(m[3]) };
}

function addressOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, API_HEADERS);
  res.end(`${JSON.stringify(value)}\n`);
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const limits = uiLimits(o.limits);
  const staticDir = o.staticDir ?? defaultStaticDir();
  const tlsOn = o.tls !== undefined;
  // Open GetFlows answers: on close each ends with a status line before its connection goes.
  const calls = new Map<GatewayCall<unknown>, ServerResponse>();
  let attesting = 0;

  const peerOf = (req: IncomingMessage): CallPeer => {
    const s = req.socket as Socket & Partial<TLSSocket>;
    const cert = tlsOn && s.getPeerCertificate ? s.getPeerCertificate() : undefined;
    return { address: addressOf(s), certificate: cert && Object.keys(cert).length > 0 ? cert : undefined };
  };

  const routes = new Map<string, Route>();
  routes.set('/api/v1/whoami', {
    method: 'GET',
    run: async (_req, res, peer) => {
      const id = o.policy.identify(tlsOn, peer.certificate);
      json(res, { name: id.name, roles: [...id.roles].sort(), tls: tlsOn, relay: o.relayName, cluster: o.cluster ?? '' });
    },
  });
  routes.set('/api/v1/observer.Observer/GetFlows', {
    method: 'POST',
    run: async (req, res, peer) => {
      const request = fromJson(GetFlowsRequest.fromJSON, await readBody(req, limits.maxBodyBytes), 'GetFlowsRequest', { number: uint64, since: rfc3339, until: rfc3339 });
      const answer = new NdjsonAnswer(res, (m) => GetFlowsResponse.toJSON(Buffer.isBuffer(m) ? GetFlowsResponse.decode(m) : (m as GetFlowsResponse)), limits.endGraceMs);
      const call = new GatewayCall<unknown>(request, peer, answer);
      call.metadata.set(FOLLOW_QUEUE_KEY, String(limits.followQueue));
      answer.attach(call);
      calls.set(call, res);
      res.once('close', () => calls.delete(call));
      o.observer.getFlows(call as never);
    },
  });
  for (const [name, u] of Object.entries(UNARY)) {
    routes.set(`/api/v1/observer.Observer/${name}`, {
      method: 'POST',
      run: async (req, res, peer) => {
        const request = fromJson((x) => u.req.fromJSON(x), await readBody(req, limits.maxBodyBytes), `${name}Request`);
        const handler = o.observer[u.method] as unknown as Parameters<typeof callUnary>[0];
        const value = await callUnary(handler, request, peer);
        json(res, (u.res.toJSON as (v: unknown) => unknown)(value));
      },
    });
  }
  routes.set('/api/v1/cillion.attest.v1.Attest/Export', {
    method: 'POST',
    run: async (req, res, peer) => {
      const request = fromJson(ExportRequest.fromJSON, await readBody(req, limits.maxBodyBytes), 'ExportRequest', { since: rfc3339, until: rfc3339 });
      if (attesting >= limits.maxAttestDownloads) {
        const message = `${limits.maxAttestDownloads} attestation downloads are being assembled, the most at once; retry when one is done`;
        o.onLimit?.('ui_downloads', message, peer.address);
        throw new GatewayError(status.RESOURCE_EXHAUSTED, message);
      }
      // Held until the tar has gone out (or the client has): the temporary directory lives that long.
      attesting++;
      res.once('close', () => attesting--);
      await downloadAttestation(res, (c) => o.attest.export(c), request, peer, o.relayName);
    },
  });

  const api = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.headers[UI_HEADER] !== '1') throw new GatewayError(status.PERMISSION_DENIED, `API requests must carry the header ${UI_HEADER}: 1`);
    const route = routes.get(path);
    if (!route) throw new GatewayError(status.NOT_FOUND, `no such API path: ${path}`);
    if (req.method !== route.method) throw new GatewayError(status.UNIMPLEMENTED, `${path} takes ${route.method}, not ${req.method}`, 405);
    await route.run(req, res, peerOf(req));
  };

  const overCap = new WeakSet<object>();
  let connections = 0;
  const count = (socket: Socket): void => {
    connections++;
    if (connections > limits.maxConnections) overCap.add(socket);
    socket.once('close', () => connections--);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (overCap.has(req.socket)) {
      const message = `${limits.maxConnections} connections are open to the web UI, the most it serves at once`;
      o.onLimit?.('ui_connections', message, addressOf(req.socket));
      res.shouldKeepAlive = false;
      sendError(res, status.RESOURCE_EXHAUSTED, message, 429, { connection: 'close' });
      return;
    }
    const answer = path === '/api' || path.startsWith('/api/') ? api(req, res, path) : serveStatic(req, res, staticDir, path);
    answer.catch((e: unknown) => {
      if (e instanceof GatewayError) {
        // A refused body is not read on: the connection goes with the answer.
        if (e.httpStatus === 413) {
          res.shouldKeepAlive = false;
          o.onLimit?.('ui_body', e.message, addressOf(req.socket));
        }
        sendError(res, e.code, e.message, e.httpStatus, e.httpStatus === 405 ? { allow: routes.get(path)?.method ?? 'GET' } : {});
        return;
      }
      const err = e as { code?: unknown; details?: string; message?: string };
      if (typeof err.code === 'number') {
        sendError(res, err.code, err.details ?? err.message ?? '');
        return;
      }
      const id = randomBytes(6).toString('hex');
      o.log?.(`web UI: ${req.method} ${path}: error id ${id}: ${err.message ?? String(e)}`);
      sendError(res, status.INTERNAL, `internal error (error id ${id})`);
    });
  };

  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  const server: Server = o.tls
    ? createHttpsServer({ ...serverOptions, cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true, handshakeTimeout: limits.headersTimeoutMs }, onRequest)
    : createHttpServer(serverOptions, onRequest);
  server.on(o.tls ? 'secureConnection' : 'connection', count);
  // A client that cannot finish the handshake (no certificate) is no error of the relay's.
  server.on('tlsClientError', () => undefined);

  const { host, port } = splitListen(o.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  return {
    address,
    url: `${tlsOn ? 'https' : 'http'}://${address}/`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Streams end now with UNAVAILABLE as their last line, their slots given back; every
      // connection goes once those lines are out, or after the grace for a client not reading.
      const written = [...calls].map(([call, res]) => {
        call.abandon(serviceError(status.UNAVAILABLE, 'the relay is shutting down'));
        return res.writableFinished || res.destroyed ? undefined : new Promise<void>((resolve) => {
          res.once('finish', resolve);
          res.once('close', resolve);
        });
      });
      await Promise.race([Promise.all(written), delay(limits.endGraceMs)]);
      server.closeAllConnections();
      await closed;
    },
  };
}
