// The relay process: collectors export batches in; each flow gets its geofence verdict,
// the batch is stored, and its flows go out live through the Observer API in approximate
// time order across nodes. Observer and FlowExport share one gRPC port; /metrics is plain
// HTTP on another, and the web UI (relay/ui) on a third.
import { hostname } from 'node:os';
import { version as packageVersion } from '../package.json';
import type { ResourceSource } from '../resources/source';
import { NodeState } from '../proto/gen/relay/relay';
import type { AttestOptions } from './attest/service';
import { CounterLog } from './export/counter_log';
import { IngestBudget } from './export/admission';
import { GroupCommit, type Committable } from './export/group_commit';
import { uuidBytes, uuidKeys, UuidWindow } from './export/screen';
import type { JudgedBatch } from './store/judged';
import { Breaches } from './breaches';
import { relayLimits, type RelayLimits } from './limits';
import type { GeofenceEngine } from '../geofence/engine';
import { FlowJudge } from '../geofence/judge';
import type { PathAuthority } from '../paths/authority';
import { catalogueAuthority } from '../paths/srv6_authority';
import type { SidCatalogue } from '../srv6/catalogue';
import { serveMetrics } from '../metrics/endpoint';
import { RelayMetrics } from './metrics';
import { NodeBook } from '../observer/nodes';
import { FlowHub } from '../observer/hub';
import { StreamSlots } from '../observer/stream_slots';
import { TimeMerger } from '../observer/merge';
import type { ObserverDeps } from '../observer/service';
import { nowNs } from '../observer/time';
import type { FlowStore } from './store/store';
import { checkPlaintextListen, listenCredentials, type RelayTlsOptions } from './tls';
import { startGateway } from './ui/gateway';
import type { UiLimits } from './ui/limits';
import { Guard, type Refusal } from './auth/guard';
import { AccessPolicy, type AccessOptions } from './auth/policy';
import type { PeerOptions } from './peers/options';
import { PeerSet } from './peers/peer_set';
import { ClusterNames } from '../observer/cluster_names';
import { Lifecycle } from '../lifecycle/lifecycle';
import { relaySink } from './batch_sink';
import { exportEndpoint } from './export_endpoint';
import { bindServer, relayServer, shutdownServer } from './grpc_server';
import { addAttestService, addExportService, addReadServices } from './services';

export const DEFAULT_LISTEN = '127.0.0.1:4245';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9965';
/** Hubble UI's port. */
export const DEFAULT_UI_LISTEN = '127.0.0.1:12000';

export interface RelayOptions {
  /** gRPC address for Observer and FlowExport; default 127.0.0.1:4245. */
  listen?: string;
  /** host:port for /metrics; none when undefined. */
  metricsListen?: string;
  /** Without a store, flows live only in the hub's ring and sessions restart with the relay. */
  store?: FlowStore;
  /** Where Geofence resources come from; without it no flow gets a verdict. */
  resources?: ResourceSource;
  /**
   * The relay's own view of the control plane, which flows' hop fields are checked against.
   * Without it no path can be checked: flows under a fence come out UNVERIFIED.
   */
  paths?: PathAuthority;
  /**
   * The SID catalogue SRv6 flows' segments are placed in (node, operator, geo) and their
   * HMAC TLVs checked with. Without it no SRv6 path can be checked: flows under a fence
   * come out UNVERIFIED.
   */
  srv6Catalogue?: SidCatalogue;
  /** What to call the catalogue in the log (its file); default "the SID catalogue". */
  srv6CatalogueName?: string;
  tls?: RelayTlsOptions;
  /** Which certificates get which roles (relay/auth); only with tls. */
  access?: AccessOptions;
  /** Flows kept in memory for live history and namespaces; default 4095. */
  buffer?: number;
  /** How long flows are held to order them across nodes; default 1000 ms. */
  mergeWindowMs?: number;
  mergeMaxFlows?: number;
  version?: string;
  /** How long close() lets open calls (collectors' export streams) finish; default 2000 ms. */
  shutdownGraceMs?: number;
  log?: (message: string) => void;
  /** Signing key and store name for the Attest service's exports. */
  attest?: AttestOptions;
  /** Bounds on what clients may send and ask (relay/limits.ts); defaults for the rest. */
  limits?: Partial<RelayLimits>;
  /** This relay's name among its peers and in attestations; default the host name. */
  name?: string;
  /** The cluster this relay serves; flows and nodes are named "cluster/node" when set. */
  cluster?: string;
  /** The other relays this one answers together with (replicas and federated clusters). */
  peers?: PeerOptions;
  /** The web UI server (relay/ui); none when undefined. */
  ui?: RelayUiOptions;
}

export interface RelayUiOptions {
  /** host:port of the web UI; port 0 picks one. */
  listen: string;
  /** The built browser app; default dist/web of the package. */
  staticDir?: string;
  limits?: Partial<UiLimits>;
}

export interface Relay {
  /** The gRPC address actually bound (the port resolved when 0 was asked). */
  readonly address: string;
  readonly metricsAddress: string | undefined;
  /** The web UI's address actually bound; undefined without a UI. */
  readonly uiAddress: string | undefined;
  readonly tls: boolean;
  readonly hub: FlowHub;
  readonly nodes: NodeBook;
  readonly metrics: RelayMetrics;
  readonly geofences: GeofenceEngine;
  /** Releases flows held for ordering now (tests, shutdown). */
  flushLive(): void;
  close(): Promise<void>;
}

/** What every step of start-up reads: the options with their defaults filled in. */
interface RelaySettings {
  opts: RelayOptions;
  log: (message: string) => void;
  relayName: string;
  version: string;
  limits: RelayLimits;
  store: FlowStore | undefined;
}

/**
 * Starts the relay, step by step; each step that starts something records how to stop it,
 * and close() (or a step that fails) stops them in reverse.
 */
export async function startRelay(opts: RelayOptions = {}): Promise<Relay> {
  const startedAt = nowNs();
  const s: RelaySettings = {
    opts,
    log: opts.log ?? (() => undefined),
    relayName: opts.name ?? hostname(),
    version: opts.version ?? packageVersion,
    limits: relayLimits(opts.limits),
    store: opts.store,
  };
  const { log, limits, store, version } = s;
  const listen = opts.listen ?? DEFAULT_LISTEN;
  const { credentials, tls, files: tlsFiles } = await listenCredentials(listen, opts.tls ?? {});
  if (opts.ui && !tls) checkPlaintextListen(opts.ui.listen, opts.tls ?? {});
  return new Lifecycle().starting(async (life) => {
    const budget = new IngestBudget(limits.ingestBudgetBytes);
    const uuids = await storedUuids(s);
    const hub = new FlowHub({ capacity: opts.buffer, subscriberQueue: limits.maxFollowQueue, subscriberQueueBytes: limits.maxFollowQueueBytes });
    const metrics = new RelayMetrics({ followers: () => hub.followers, ingestInflight: () => budget.inflight });
    const breaches = new Breaches(metrics, log);
    const policy = new AccessPolicy(opts.access);
    const guard = relayGuard(policy, tls, metrics, log);
    const nodes = nodeBook(hub, log);
    const judge = startJudge(s, life);
    const merger = startMerger(opts, hub, life);
    const counterLog = startCounterLog(s, metrics, life);
    const commits = startGroupCommit(s, metrics, life);
    const peerSet = startPeers(opts, life);
    const { sink, storeErrors } = relaySink({ store, commits, limits, uuids, judge, hub, merger, metrics, breaches, nodes, log });

    const server = relayServer(limits, breaches);
    addExportService(server, guard, limits, budget, exportEndpoint({
      sink, guard, tls, nodes, hub, metrics, breaches, counterLog, budget, limits, relayName: s.relayName, cluster: opts.cluster, sharedStore: opts.peers?.sharedStore ?? false, log,
    }));
    const observer = observerDeps(s, { hub, nodes, metrics, breaches, storeErrors, startedAt });
    const reads = addReadServices(server, guard, { observer, peerSet, mergeWindowMs: opts.mergeWindowMs, metrics, log });
    const attest = addAttestService(server, guard, { attest: opts.attest, store, judge, relay: { name: s.relayName, version, cluster: opts.cluster }, peers: opts.peers, metrics, log });
    const address = await life.start('gRPC server', () => bindServer(server, listen, credentials), () => async () => {
      // Held flows go out and followers end, so their calls do not hold the shutdown up.
      merger.flush();
      hub.closeFollowers();
      await shutdownServer(server, opts.shutdownGraceMs ?? 2000);
    });
    const metricsAddress = opts.metricsListen === undefined
      ? undefined
      : (await life.start('metrics endpoint', () => serveMetrics(opts.metricsListen as string, metrics), (e) => () => e.close())).address;
    // Started after the gRPC server, so stopped before it: the browsers' streams end first.
    const uiOpts = opts.ui;
    const ui = uiOpts
      ? await life.start('web UI', () => startGateway({
        listen: uiOpts.listen,
        tls: tlsFiles,
        policy,
        observer: reads.observer,
        attest,
        relayName: s.relayName,
        cluster: opts.cluster,
        staticDir: uiOpts.staticDir,
        limits: uiOpts.limits,
        log,
        onLimit: (kind, message, peer) => breaches.record(kind, message, peer),
      }), (g) => () => g.close())
      : undefined;

    log(`relay ${version} serving Observer and FlowExport on ${address} (${tls ? 'mutual TLS' : 'plaintext'})${metricsAddress ? `, metrics on http://${metricsAddress}/metrics` : ''}`);
    if (ui) log(`web UI on ${ui.url}`);
    if (peerSet) log(`relay ${opts.name ?? hostname()}${opts.cluster ? ` of cluster ${opts.cluster}` : ''} answers reads with ${peerSet.peers.map((p) => `relay/${p.name}`).join(', ')}`);
    return {
      address,
      metricsAddress,
      uiAddress: ui?.address,
      tls,
      hub,
      nodes,
      metrics,
      geofences: judge.engine,
      flushLive: () => merger.flush(),
      close: () => life.stop(),
    };
  });
}

/** The uuids the store holds last, oldest first, so the window forgets them in the order it would have. */
async function storedUuids({ store, limits }: RelaySettings): Promise<UuidWindow> {
  const uuids = new UuidWindow(limits.uuidWindow);
  if (store) {
    const uuidKey = uuidKeys();
    for (const r of (await store.recentUuids(limits.uuidWindow)).reverse()) uuids.add(uuidKey(r.nodeName, uuidBytes(r.uuid)));
  }
  return uuids;
}

/** Nodes as collectors connect and go; each change is also a node status event for followers. */
function nodeBook(hub: FlowHub, log: (message: string) => void): NodeBook {
  return new NodeBook({
    onState: (name, state) => {
      log(`node ${name} ${state === NodeState.NODE_CONNECTED ? 'connected' : 'unavailable'}`);
      hub.publishNodeStatus({ stateChange: state, nodeNames: [name], message: '' });
    },
  });
}

/** The geofences in force (followed in the resource source) and the path checks behind verdicts. */
function startJudge({ opts, log }: RelaySettings, life: Lifecycle): FlowJudge {
  const sidsName = opts.srv6CatalogueName ?? 'the SID catalogue';
  const srv6 = opts.srv6Catalogue ? catalogueAuthority(opts.srv6Catalogue, sidsName) : undefined;
  const judge = new FlowJudge(opts.resources, { paths: opts.paths, srv6, log });
  life.defer('geofence judge', () => judge.close());
  log(
    opts.paths
      ? `paths: flows' hop fields are checked against ${opts.paths.name}`
      : 'paths: no control plane (--topology or --daemon): no path can be checked, flows under a geofence get UNVERIFIED',
  );
  log(
    srv6
      ? `srv6: segments are placed and HMAC TLVs checked with ${sidsName} (${opts.srv6Catalogue?.nodes.length} nodes)`
      : 'srv6: no SID catalogue (--srv6-catalogue): SRv6 flows under a geofence get UNVERIFIED',
  );
  return judge;
}

/** Holds judged flows for a moment to hand them to the hub in time order across nodes. */
function startMerger(opts: RelayOptions, hub: FlowHub, life: Lifecycle): TimeMerger {
  const merger = new TimeMerger({ windowMs: opts.mergeWindowMs, maxFlows: opts.mergeMaxFlows, release: (batches, index, n) => hub.publishRefs(batches, index, n) });
  life.defer('time merger', () => merger.close());
  return merger;
}

/** Collectors' counters, kept in the store. */
function startCounterLog({ store, log }: RelaySettings, metrics: RelayMetrics, life: Lifecycle): CounterLog | undefined {
  if (!store) return undefined;
  const counterLog = new CounterLog(store, { onError: (e) => { metrics.storeError(); log(`storing collector counters: ${e.message}`); } });
  life.defer('counter log', () => counterLog.close());
  return counterLog;
}

/** Batches into the store, several per insert. */
function startGroupCommit({ store, limits, log }: RelaySettings, metrics: RelayMetrics, life: Lifecycle): GroupCommit<JudgedBatch & Committable> | undefined {
  if (!store) return undefined;
  // Said in the log at most once a minute: under load every group may be full.
  let groupFullLogged = 0;
  const commits = new GroupCommit<JudgedBatch & Committable>((group) => store.insertGroup(group), {
    maxFlows: limits.maxGroupFlows,
    concurrency: limits.maxConcurrentInserts,
    onGroup: (g) => {
      metrics.group(g.batches, g.full);
      if (g.full && Date.now() - groupFullLogged >= 60_000) {
        groupFullLogged = Date.now();
        log(`store: an insert took ${g.flows} flows (${g.batches} batches), the group limit of ${limits.maxGroupFlows} flows; the other batches wait for the next insert`);
      }
    },
  });
  // What streams handed over is stored (or failed) before the store may be closed or reopened.
  life.defer('group commit', () => commits.idle());
  return commits;
}

/** The other relays this one answers reads together with. */
function startPeers(opts: RelayOptions, life: Lifecycle): PeerSet | undefined {
  if (!opts.peers) return undefined;
  const peerSet = new PeerSet(opts.peers);
  life.defer('peers', () => peerSet.close());
  return peerSet;
}

/** What the Observer and FlowHistory services read: the hub, the store, the node book, the relay's status. */
function observerDeps(
  { opts, store, limits, version, log }: RelaySettings,
  r: { hub: FlowHub; nodes: NodeBook; metrics: RelayMetrics; breaches: Breaches; storeErrors: () => bigint; startedAt: bigint },
): ObserverDeps {
  const { metrics, breaches } = r;
  return {
    hub: r.hub,
    store,
    nodes: r.nodes,
    status: () => ({ version, uptimeNs: nowNs() - r.startedAt, storeErrors: store ? r.storeErrors() : undefined, fingerprintMismatches: metrics.mismatchesByNode() }),
    getFlows: {
      filterBounds: { maxFilters: limits.maxFilters, maxFilterValues: limits.maxFilterValues },
      historyTimeoutMs: limits.queryTimeoutMs,
      stallTimeoutMs: limits.streamStallMs,
    },
    flowStreams: new StreamSlots(limits.maxFlowStreams),
    onError: (err, method) => {
      metrics.engineError(method);
      log(`${method}: ${err.message}`);
    },
    onLimit: (kind, message, peer) => breaches.record(kind, message, peer),
    names: opts.cluster ? new ClusterNames(opts.cluster) : undefined,
  };
}

/** Which certificate may call what; each refusal counted and logged. */
function relayGuard(policy: AccessPolicy, tls: boolean, metrics: RelayMetrics, log: (message: string) => void): Guard {
  return new Guard(policy, tls, (r: Refusal) => {
    metrics.refused(r.service, r.reason);
    log(`refused ${r.service}/${r.method} from ${r.peer}${r.identity.name ? ` (${r.identity.name})` : ''}: ${r.message}`);
  });
}
