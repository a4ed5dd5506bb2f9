// `cillion relay`: collectors export in, geofences checked, flows stored, Observer API,
// /metrics and the web UI out. Runs until SIGINT or SIGTERM, then stops taking calls,
// releases held flows and closes the store.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KeyObject } from 'node:crypto';
import { storeIdentity, type StoreIdentity } from '../../relay/attest/export';
import { keyAlgorithm, KeyError, keyFromFile, keyId, privateKeyFromPem } from '../../relay/attest/keys';
import { DEFAULT_LIMITS, relayLimits, type RelayLimits } from '../../relay/limits';
import { DaemonPathService } from '../../controlplane/daemon_client';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import type { PathAuthority } from '../../paths/authority';
import { DaemonAuthority } from '../../paths/daemon';
import { EmbeddedAuthority } from '../../paths/embedded';
import { loadSidCatalogue, type SidCatalogue } from '../../srv6/catalogue';
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, DEFAULT_UI_LISTEN, startRelay, type Relay } from '../../relay/server';
import { openStore, type FlowStore } from '../../relay/store/store';
import { listenCredentials, RelayConfigError, type RelayTlsOptions } from '../../relay/tls';
import { DEFAULT_TRUST_DOMAIN } from '../../relay/auth/identity';
import { AccessConfigError, AccessPolicy, readAllowList, type AccessOptions } from '../../relay/auth/policy';
import { openSources } from '../node';
import type { ResourceSource } from '../../resources/source';
import { Lifecycle } from '../../lifecycle/lifecycle';
import { checkCluster, checkName, DEFAULT_PEER_TIMEOUT_MS, parsePeer, peerOptions, type PeerFlags } from '../../relay/peers/config';
import { PeerConfigError } from '../../relay/peers/peer_set';
import type { PeerOptions } from '../../relay/peers/options';
import { hostname } from 'node:os';

/** The peer flags are PeerFlags' (relay/peers/config.ts); the rest are the relay's own. */
export interface RelayCommandOptions extends Omit<PeerFlags, 'tls' | 'storeUrl'> {
  listen: string;
  metrics: string;
  /** The web UI's address. */
  uiListen: string;
  /** False with --no-ui. */
  ui: boolean;
  dataDir?: string;
  clickhouseUrl?: string;
  database?: string;
  ttlDays?: number;
  resources?: string;
  kubernetes?: boolean;
  kubeconfig?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustDomain: string;
  roles?: string;
  buffer: number;
  mergeWindow: number;
  attestKey?: string;
  topology?: string;
  daemon?: string;
  srv6Catalogue?: string;
  cluster?: string;
}

/** Each limit's flag: name, what it bounds, and the RelayLimits field it sets. */
const LIMIT_FLAGS: [flag: string, help: string, key: keyof RelayLimits][] = [
  ['--max-message-bytes <n>', 'largest gRPC message accepted', 'maxMessageBytes'],
  ['--max-batch-flows <n>', 'flows in one export batch', 'maxBatchFlows'],
  ['--max-node-name <n>', 'characters of a node, cluster or session name', 'maxNodeNameLength'],
  ['--max-hops <n>', 'hops in one flow\'s path', 'maxHops'],
  ['--max-labels <n>', 'labels on one endpoint of a flow', 'maxLabels'],
  ['--max-label-length <n>', 'characters of one label', 'maxLabelLength'],
  ['--max-string-length <n>', 'characters of any other string field of a flow', 'maxStringLength'],
  ['--max-filters <n>', 'filters in each of a GetFlows allow and deny list', 'maxFilters'],
  ['--max-filter-values <n>', 'values over all filters of one GetFlows request', 'maxFilterValues'],
  ['--ingest-budget-bytes <n>', 'estimated memory of export batches in flight; collectors are paused beyond it', 'ingestBudgetBytes'],
  ['--max-concurrent-inserts <n>', 'store inserts at once (each a group of batches)', 'maxConcurrentInserts'],
  ['--max-group-flows <n>', 'flows one store insert takes from the batches waiting for it; the rest wait for the next', 'maxGroupFlows'],
  ['--uuid-window <n>', 'uuids of recently stored flows remembered to store each once', 'uuidWindow'],
  ['--query-timeout-ms <n>', 'time one store query, and one GetFlows history read, may take', 'queryTimeoutMs'],
  ['--max-rows-to-read <n>', 'rows one store query may read', 'maxRowsToRead'],
  ['--max-follow-queue <n>', 'flows queued for one --follow viewer; a slower viewer loses its own and is told how many', 'maxFollowQueue'],
  ['--max-follow-queue-bytes <n>', 'encoded bytes of the flows queued for one --follow viewer; beyond them, as beyond --max-follow-queue', 'maxFollowQueueBytes'],
  ['--max-flow-streams <n>', 'GetFlows calls served at once; one more is refused with RESOURCE_EXHAUSTED', 'maxFlowStreams'],
  ['--stream-stall-ms <n>', 'time a flow stream waits for a client that reads nothing before it ends the call with RESOURCE_EXHAUSTED', 'streamStallMs'],
  ['--max-retractions-per-minute <n>', 'retractions that delete stored batches, per node and minute; one more is refused with RESOURCE_EXHAUSTED', 'maxRetractionsPerMinute'],
  ['--max-retract-age-ms <n>', 'age of the stored batches a collector\'s retraction may delete; older ones are kept', 'maxRetractAgeMs'],
];

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

function countArg(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

async function signingKey(path: string): Promise<KeyObject> {
  try {
    return await keyFromFile(path, privateKeyFromPem);
  } catch (e) {
    if (e instanceof KeyError) throw new RelayConfigError(`--attest-key: ${e.message}`);
    throw e;
  }
}

/** The relay's own view of the control plane, which flows' hop fields are checked against. */
function pathAuthority(opts: RelayCommandOptions): { authority?: PathAuthority; close(): void } {
  if (opts.topology !== undefined && opts.daemon !== undefined) throw new RelayConfigError('give either --topology or --daemon, not both');
  if (opts.topology !== undefined) {
    let service: EmbeddedPathService;
    try {
      service = EmbeddedPathService.fromFile(opts.topology);
    } catch (e) {
      throw new RelayConfigError(`--topology ${opts.topology}: ${(e as Error).message}`);
    }
    return { authority: new EmbeddedAuthority(service), close: () => undefined };
  }
  if (opts.daemon !== undefined) {
    const daemon = new DaemonPathService(opts.daemon);
    return { authority: new DaemonAuthority(daemon, { onError: (e) => log(`SCION daemon ${opts.daemon}: ${e.message}`) }), close: () => daemon.close() };
  }
  return { close: () => undefined };
}

/** The SID catalogue SRv6 flows' segments are placed in; a file that does not load stops the relay before it serves. */
function srv6Catalogue(opts: RelayCommandOptions): SidCatalogue | undefined {
  if (opts.srv6Catalogue === undefined) return undefined;
  try {
    return loadSidCatalogue(opts.srv6Catalogue);
  } catch (e) {
    throw new RelayConfigError(`--srv6-catalogue ${opts.srv6Catalogue}: ${(e as Error).message}`);
  }
}

/** What the flags say, checked before anything is opened: a bad setup is refused before the store is created. */
interface RelaySetup {
  tls: RelayTlsOptions;
  access: AccessOptions;
  peers: PeerOptions | undefined;
  attestKey: KeyObject | undefined;
  limits: RelayLimits;
}

async function relaySetup(opts: RelayCommandOptions): Promise<RelaySetup> {
  if (!opts.dataDir && !opts.clickhouseUrl) throw new RelayConfigError('give --data-dir (embedded ClickHouse) or --clickhouse-url');
  if (opts.dataDir && opts.clickhouseUrl) throw new RelayConfigError('give either --data-dir or --clickhouse-url, not both');
  if (opts.resources !== undefined && opts.kubernetes) throw new RelayConfigError('give either --resources or --kubernetes, not both');
  if (opts.kubeconfig !== undefined && !opts.kubernetes) throw new RelayConfigError('--kubeconfig goes with --kubernetes');
  const tls = { cert: opts.tlsCert, key: opts.tlsKey, clientCa: opts.tlsClientCa, insecureListen: opts.insecureListen };
  // Refuse a bad listen setup or signing key before the store is opened (and maybe created).
  const { tls: tlsOn } = await listenCredentials(opts.listen, tls);
  if (opts.roles !== undefined && !tlsOn) throw new RelayConfigError('--roles grants roles to client certificates: it needs --tls-cert, --tls-key and --tls-client-ca');
  let access: AccessOptions;
  try {
    access = { trustDomain: opts.trustDomain, allowList: opts.roles === undefined ? undefined : await readAllowList(opts.roles) };
    // Built once here only to refuse a bad trust domain before the store is opened.
    new AccessPolicy(access);
  } catch (e) {
    if (e instanceof AccessConfigError) throw new RelayConfigError(e.message);
    throw e;
  }
  if (!tlsOn) log('plaintext: every client may push, read and export, and collectors name their own nodes (development only)');
  let peers: PeerOptions | undefined;
  try {
    checkName('--name', opts.name);
    if (opts.cluster !== undefined) checkCluster('--cluster', opts.cluster);
    peers = await peerOptions({ ...opts, tls: tlsOn, storeUrl: opts.clickhouseUrl !== undefined });
  } catch (e) {
    if (e instanceof PeerConfigError) throw new RelayConfigError(e.message);
    throw e;
  }
  if ((opts.peer ?? []).some((p) => parsePeer(p).name === opts.name)) log(`peers: the --peer entry named ${opts.name} is this relay: left out`);
  if (peers) {
    log(`peers: ${peers.targets.map((t) => `${t.name} (${t.address})`).join(', ')}; ${peers.sharedStore ? 'shared store: history from it, live flows fanned out' : 'own stores: history and live flows fanned out'}, timeout ${peers.timeoutMs} ms`);
  }
  const attestKey = opts.attestKey ? await signingKey(opts.attestKey) : undefined;
  // Commander keeps each flag's value under the flag's camel-cased name.
  const given = opts as unknown as Record<string, number | undefined>;
  const limits = relayLimits(Object.fromEntries(LIMIT_FLAGS.map(([flag, , key]) => [key, given[new Option(flag).attributeName()]])));
  return { tls, access, peers, attestKey, limits };
}

async function openFlowStore(opts: RelayCommandOptions, limits: RelayLimits, life: Lifecycle, open: typeof openStore): Promise<FlowStore> {
  const store = await life.start('flow store', () => open({
    dataDir: opts.dataDir,
    url: opts.clickhouseUrl,
    database: opts.database,
    ttlDays: opts.ttlDays,
    queryLimits: { timeoutMs: limits.queryTimeoutMs, maxRowsToRead: limits.maxRowsToRead },
    onError: (e) => log(`flow store: ${e.message}`),
  }), (s) => () => s.close());
  log(`flow store: ${opts.dataDir ? `embedded ClickHouse in ${opts.dataDir}` : storeLocation(opts).location}`);
  return store;
}

const storeLocation = (opts: RelayCommandOptions): StoreIdentity => storeIdentity({ dataDir: opts.dataDir, url: opts.clickhouseUrl, database: opts.database ?? 'cillion' });

/** Geofences from a directory or from the Kubernetes API; the relay writes no status. */
async function openGeofences(opts: RelayCommandOptions, life: Lifecycle): Promise<ResourceSource | undefined> {
  if (opts.resources === undefined && !opts.kubernetes) {
    log('no --resources or --kubernetes: flows get no geofence verdict');
    return undefined;
  }
  return (await life.start('resources', () => openSources(opts, undefined, () => undefined, log), (s) => () => s.close())).source;
}

/** The first of SIGINT and SIGTERM. */
function signals(): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export interface RelayProcessDeps {
  openStore: typeof openStore;
  /** Settles with the name of what asks the relay to stop. */
  signals: () => Promise<string>;
}

/**
 * `cillion relay` up to serving: the flags checked, then the control plane, the store, the
 * resources and the relay started, each recorded in `life` to be stopped in reverse.
 */
export async function startRelayProcess(opts: RelayCommandOptions, life: Lifecycle, deps: RelayProcessDeps = { openStore, signals }): Promise<{ relay: Relay; stopped: Promise<string> }> {
  const { tls, access, peers, attestKey, limits } = await relaySetup(opts);
  const paths = pathAuthority(opts);
  life.defer('path authority', () => paths.close());
  const sids = srv6Catalogue(opts);
  const store = await openFlowStore(opts, limits, life, deps.openStore);
  if (attestKey) log(`attestations: exports signed on request with ${keyAlgorithm(attestKey)} key ${keyId(attestKey)}`);
  const resources = await openGeofences(opts, life);
  // Listening before the relay says it serves: a signal right after that line must find a handler.
  const stopped = deps.signals();
  const relay = await life.start('relay', () => startRelay({
    listen: opts.listen,
    metricsListen: opts.metrics === '' ? undefined : opts.metrics,
    ui: opts.ui ? { listen: opts.uiListen } : undefined,
    store,
    resources,
    paths: paths.authority,
    srv6Catalogue: sids,
    srv6CatalogueName: opts.srv6Catalogue,
    tls,
    access,
    buffer: opts.buffer,
    mergeWindowMs: opts.mergeWindow,
    attest: { key: attestKey, storeIdentity: storeLocation(opts) },
    limits,
    name: opts.name,
    cluster: opts.cluster,
    peers,
    log,
  }), (r) => () => r.close());
  return { relay, stopped };
}

async function run(opts: RelayCommandOptions): Promise<void> {
  const life = new Lifecycle();
  const { stopped } = await life.starting((l) => startRelayProcess(opts, l));
  log(`${await stopped}: shutting down`);
  await life.stop();
}

/** The host name as a relay name: its first label, other characters as '-'. */
function defaultName(): string {
  const label = hostname().split('.')[0].replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return label === '' ? 'relay' : label;
}

export function relayCommand(): Command {
  const cmd = new Command('relay')
    .description('Receive flows from node collectors, check geofences, store flows, serve the Observer API')
    .addOption(new Option('--listen <addr>', 'gRPC address for the Observer API and collector export').default(DEFAULT_LISTEN))
    .addOption(new Option('--metrics <addr>', 'HTTP address for Prometheus /metrics; empty to disable').default(DEFAULT_METRICS_LISTEN))
    .addOption(new Option('--ui-listen <addr>', 'address of the web UI (HTTPS with the --tls-* files, which then requires a client certificate)').default(DEFAULT_UI_LISTEN))
    .option('--no-ui', 'serve no web UI')
    .option('--data-dir <dir>', 'store flows in embedded ClickHouse (chdb) in this directory')
    .option('--clickhouse-url <url>', 'store flows in this ClickHouse server, e.g. http://clickhouse:8123')
    .option('--database <name>', 'ClickHouse database', 'cillion')
    .option('--ttl-days <n>', 'days flows are kept', positiveInt)
    .option('--resources <dir>', 'directory of YAML resources (Geofence) to check flows against')
    .option('--kubernetes', 'take the Geofence resources from the Kubernetes API instead')
    .option('--kubeconfig <file>', 'with --kubernetes: kubeconfig file (default: in-cluster, then KUBECONFIG or ~/.kube/config)')
    .option('--topology <file>', "check flows' hop fields against the embedded control plane over this topology file (the operator's)")
    .option('--daemon <address>', "check flows' hop fields against the paths this SCION daemon hands out (host:port)")
    .option('--srv6-catalogue <file>', "place SRv6 flows' segments in this SID catalogue (nodes, operators, geo, HMAC keys; docs/srv6.md)")
    .option('--tls-cert <file>', 'server certificate (PEM)')
    .option('--tls-key <file>', 'server private key (PEM)')
    .option('--tls-client-ca <file>', 'CA that client certificates must chain to (PEM)')
    .option('--insecure-listen', 'allow plaintext on a non-loopback address')
    .option('--trust-domain <domain>', 'trust domain of the client certificates\' role URIs (spiffe://<domain>/cillion/<role>/<name>)', DEFAULT_TRUST_DOMAIN)
    .option('--roles <file>', 'YAML map of certificate names (role URI name, else subject CN) to roles: collector, reader, attester, peer')
    .addOption(new Option('--buffer <n>', 'flows kept in memory for live queries').default(4095).argParser(positiveInt))
    .option('--attest-key <key.pem>', 'sign attestation exports with this key (Ed25519 or ECDSA P-256, PEM) when a client asks')
    .addOption(new Option('--merge-window <ms>', 'how long flows are held to order them by time across nodes (and across relays)').default(1000).argParser(positiveInt))
    .addOption(new Option('--name <name>', "this relay's name among its replicas and peers (in collectors' handovers, ServerStatus, attestations)").default(defaultName(), 'the host name'))
    .option('--cluster <name>', 'the cluster this relay serves: its flows and nodes are named cluster/node; batches of other clusters are refused')
    .addOption(new Option('--peer <name=host:port>', 'another relay to answer reads together with (a replica or another cluster\'s relay); repeatable').argParser((v: string, acc: string[] = []) => [...acc, v]))
    .option('--peer-cert <pem>', 'client certificate with the peer role, for calls to the peers')
    .option('--peer-key <pem>', 'key of --peer-cert')
    .option('--peer-ca <pem>', 'CA the peers\' server certificates chain to (default: --tls-client-ca)')
    .option('--peer-server-name <name>', 'name the peers\' server certificates must carry, when their address is not in them')
    .addOption(new Option('--peer-timeout <ms>', `how long a peer may take to answer (or to send its next flow) before it is left out and reported (default ${DEFAULT_PEER_TIMEOUT_MS})`).argParser(countArg))
    .option('--shared-store', 'the peers share this relay\'s ClickHouse (--clickhouse-url): history from it, only live flows fan out');
  for (const [flag, help, key] of LIMIT_FLAGS) cmd.addOption(new Option(flag, `limit: ${help}`).default(DEFAULT_LIMITS[key]).argParser(countArg));
  return cmd.action(async (opts: RelayCommandOptions) => {
    try {
      await run(opts);
    } catch (e) {
      log(`cillion relay: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  });
}
