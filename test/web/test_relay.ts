// A real relay for the browser tests, set up as the demo's: mutual TLS with certificates
// minted by `cillion certs`' code (collectors per node, a reader, an attester), the
// demo's geofences (examples/policies/zurich), the example topology as its control plane
// so verdicts are real, the demo's SID catalogue for SRv6 paths, an embedded store and a
// signing key (attestation downloads), and the web UI on a port of the OS's choosing.
// Collectors of the demo's four nodes export over the real FlowExport gRPC.
import { credentials } from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource } from '../../operator/sources/directory';
import { EmbeddedAuthority } from '../../paths/embedded';
import { startRelay, type Relay } from '../../relay/server';
import { openStore, type FlowStore } from '../../relay/store/store';
import { until } from '../until';
import { FakeCollector } from '../unit/relay/exporter_client';
import { issue, makeCerts } from '../unit/relay/test_certs';
import { exampleControlPlane } from '../unit/paths/fixture';
import { SIDS } from '../unit/paths/srv6_fixture';
import { COMPLIANT_FENCE, VIOLATION, type NodeFlow } from './demo_flows';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
export const RELAY_NAME = 'zurich-relay';
/** The demo's nodes, as examples/workloads places the pods. */
export const NODES = [
  { node: 'zrh-node-1', cluster: 'zurich' },
  { node: 'zrh-node-2', cluster: 'zurich' },
  { node: 'fra-node-1', cluster: 'frankfurt' },
  { node: 'fra-node-2', cluster: 'frankfurt' },
] as const;

/** A client certificate for the browser: files and the name it carries. */
export interface BrowserCert {
  name: string;
  cert: string;
  key: string;
}

export interface WebTestRelay {
  relay: Relay;
  dir: string;
  /** https://localhost:PORT, the name the server certificate carries. */
  url: string;
  /** CA of the relay's server and client certificates. */
  ca: string;
  /** reader only; reader and attester. */
  reader: BrowserCert;
  attester: BrowserCert;
  /** The relay's attestation signing key's public half (PEM), for `attest verify --key`. */
  publicKey: string;
  /** A collector certificate per node (its name), for export clients in other processes. */
  collectorCert(node: string): BrowserCert;
  /** Exports the flows through each node's collector; resolves when every batch is acknowledged. */
  feed(flows: readonly NodeFlow[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the relay. `store: false` leaves the store (and so attestation downloads) out: the
 * load test spends the machine's two cores on the live path the page follows, not on
 * ClickHouse inserts, whose rate the relay bench measures.
 */
export async function startWebTestRelay(opts: { log?: (line: string) => void; store?: boolean } = {}): Promise<WebTestRelay> {
  const dir = mkdtempSync(join(tmpdir(), `cillion-web-${process.pid}-`));
  makeCerts(dir);
  const resourcesDir = join(dir, 'resources');
  cpSync(join(EXAMPLES, 'policies', 'zurich'), resourcesDir, { recursive: true });
  const resources = new DirectorySource(resourcesDir);
  await resources.list();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyFile = join(dir, 'attest.pub');
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  let store: FlowStore | undefined;
  let relay: Relay | undefined;
  const collectors = new Map<string, FakeCollector>();
  const close = async (): Promise<void> => {
    for (const c of collectors.values()) await c.close();
    await relay?.close();
    await resources.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (opts.store !== false) store = await openStore({ dataDir: join(dir, 'store'), log: opts.log });
    relay = await startRelay({
      listen: '127.0.0.1:0',
      ui: { listen: '127.0.0.1:0' },
      name: RELAY_NAME,
      store,
      resources,
      paths: new EmbeddedAuthority(exampleControlPlane()),
      srv6Catalogue: SIDS,
      tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') },
      attest: { key: privateKey },
      mergeWindowMs: 200,
      shutdownGraceMs: 200,
      log: opts.log,
    });
    const r = relay;
    await until('the demo fences in force', () => r.geofences.get(VIOLATION.fence) !== undefined && r.geofences.get(COMPLIANT_FENCE) !== undefined);
    const uiPort = /:(\d+)$/.exec(r.uiAddress ?? '')?.[1];
    if (!uiPort) throw new Error(`the relay serves no web UI (uiAddress ${String(r.uiAddress)})`);
    const cert = (out: string, name: string, roles: Parameters<typeof issue>[3]): BrowserCert => ({ name, ...issue(dir, out, name, roles) });
    const reader = cert('ui-reader', 'ui-reader', ['reader']);
    const attester = cert('ui-attester', 'ui-attester', ['reader', 'attester']);
    const collectorCert = (node: string): BrowserCert => cert(node, node, ['collector']);
    const grpcAddress = r.address.replace('127.0.0.1', 'localhost');
    const collector = (node: string, cluster: string): FakeCollector => {
      let c = collectors.get(node);
      if (!c) {
        const k = collectorCert(node);
        c = new FakeCollector(grpcAddress, node, `${node}-${process.pid}`, credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(k.key), readFileSync(k.cert)), cluster);
        collectors.set(node, c);
      }
      return c;
    };
    return {
      relay: r,
      dir,
      url: `https://localhost:${uiPort}`,
      ca: join(dir, 'ca.pem'),
      reader,
      attester,
      publicKey: publicKeyFile,
      collectorCert,
      async feed(flows) {
        const acks: Promise<void>[] = [];
        for (const { node, cluster } of NODES) {
          const mine = flows.filter((f) => f.node === node).map((f) => f.flow);
          const c = collector(node, cluster);
          for (let i = 0; i < mine.length; i += 500) acks.push(c.acked(c.send(mine.slice(i, i + 500))));
        }
        await Promise.all(acks);
        r.flushLive();
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
