// The Prometheus endpoint of the agent and the relay: GET /metrics from a registry's text,
// /healthz for probes, on its own HTTP port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoint serves: a prom-client registry's exposition, or anything shaped like it. */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface MetricsEndpoint {
  /** host:port it listens on (the port resolved when 0 was asked). */
  address: string;
  close(): Promise<void>;
}

/** Serves GET /metrics (and /healthz) on `listen`, host:port. */
export async function serveMetrics(listen: string, metrics: MetricsSource): Promise<MetricsEndpoint> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`metrics address ${listen} is not host:port`);
  const http: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      metrics.text().then(
        (body) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else if (req.url === '/healthz') res.writeHead(200).end('ok\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(m[2]), m[1].replace(/^\[(.*)\]$/, '$1'), () => resolve());
  });
  const a = http.address() as AddressInfo;
  return {
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}
