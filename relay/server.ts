// The relay process: collectors export batches in; each flow gets its geofence verdict,
// the batch is stored, and its flows go out live through the Observer API in approximate
// time order across nodes. Observer and FlowExport share one gRPC port; /metrics is plain
// HTTP on another.
import { Server, ServerInterceptingCall, status as grpcStatus, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import { hostname } from 'node:os';
import { version as packageVersion } from '../package.json';
import type { ResourceSource } from '../operator/sources/source';
import { AttestService } from '../proto/gen/attest/v1/attest';
import { FlowExportService, type FlowBatch, type FlowExportServer } from '../proto/gen/export/v1/export';
import { LostEventSource } from '../proto/gen/flow/flow';
import { FlowHistoryServiceDefinition, ObserverServiceDefinition } from '../observer/service_definition';
import { NodeState } from '../proto/gen/relay/relay';
import { attestService, type AttestOptions } from './attest/service';
import { CounterLog } from './export/counter_log';
import { boundedBatchDecoder, IngestBudget, refusalOf } from './export/admission';
import { exportService, sessionKey, type BatchOwner, type BatchSink, type CollectorReport, type FailoverEvent, type Rejections } from './export/ingest';
import { GroupCommit, type Committable } from './export/group_commit';
import { judgeColumns } from './export/judge_columns';
import { liveBatch } from './export/live_columns';
import { KnownEndpoints } from './export/endpoint_cache';
import { RebuiltPaths } from './export/path_cache';
import { PathChecks, screenColumns, uuidBytes, uuidKeys, UuidWindow } from './export/screen';
import { tallyStored } from './export/tally';
import { storedCount, type JudgedBatch } from './store/judged';
import { Breaches } from './breaches';
import { relayLimits, type RelayLimits } from './limits';
import type { GeofenceEngine } from '../geofence/engine';
import { FlowJudge } from '../geofence/judge';
import type { PathAuthority } from '../paths/authority';
import { serveMetrics, type MetricsEndpoint } from '../metrics/endpoint';
import { RelayMetrics } from './metrics';
import { NodeBook, type TlsInfo } from '../observer/nodes';
import { FlowHub } from '../observer/hub';
import { StreamSlots } from '../observer/stream_slots';
import { TimeMerger } from '../observer/merge';
import { flowHistoryService, observerService, type ObserverDeps } from '../observer/service';
import { nowNs } from '../observer/time';
import type { FlowStore } from './store/store';
import { listenCredentials, type RelayTlsOptions } from './tls';
import { Guard, type Refusal } from './auth/guard';
import type { Identity } from './auth/identity';
import { AccessPolicy, type AccessOptions } from './auth/policy';
import type { PeerOptions } from './peers/options';
import { PeerSet } from './peers/peer_set';
import { fanOutServices } from './peers/fan_observer';
import { ClusterNames } from '../observer/cluster_names';

export const DEFAULT_LISTEN = '127.0.0.1:4245';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9965';

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
}

export interface Relay {
  /** The gRPC address actually bound (the port resolved when 0 was asked). */
  readonly address: string;
  readonly metricsAddress: string | undefined;
  readonly tls: boolean;
  readonly hub: FlowHub;
  readonly nodes: NodeBook;
  readonly metrics: RelayMetrics;
  readonly geofences: GeofenceEngine;
  /** Releases flows held for ordering now (tests, shutdown). */
  flushLive(): void;
  close(): Promise<void>;
}

/**
 * The node a batch on this stream belongs to: the certificate's name over TLS, where a batch
 * naming another node is refused; the batch's own claim on a plaintext listener.
 */
/**
 * Sees the status every call ends with, also the ones grpc-js sends on its own before a
 * handler runs (a message over grpc.max_receive_message_length), which no handler hears of.
 */
function statusObserver(onStatus: (code: grpcStatus, details: string, peer: string) => void): ServerInterceptor {
  return (_method, call) => {
    const base = call as { sendStatus: (s: { code: grpcStatus; details: string }) => void };
    const send = base.sendStatus.bind(call);
    // grpc-js's own refusals call sendStatus on the underlying call, not through interceptors.
    base.sendStatus = (st) => {
      onStatus(st.code, st.details, call.getPeer());
      send(st);
    };
    return new ServerInterceptingCall(call);
  };
}

function batchOwner(id: Identity, claimed: string): BatchOwner {
  if (!id.authenticated) return { node: claimed };
  if (claimed !== '' && claimed !== id.name) return { refused: `the client certificate is for node "${id.name}"; this stream's batch claims node "${claimed}"` };
  return { node: id.name };
}

export async function startRelay(opts: RelayOptions = {}): Promise<Relay> {
  const log = opts.log ?? (() => undefined);
  const relayName = opts.name ?? hostname();
  const version = opts.version ?? packageVersion;
  const startedAt = nowNs();
  const listen = opts.listen ?? DEFAULT_LISTEN;
  const { credentials, tls } = await listenCredentials(listen, opts.tls ?? {});
  const store = opts.store;
  const limits = relayLimits(opts.limits);
  const budget = new IngestBudget(limits.ingestBudgetBytes);
  const uuids = new UuidWindow(limits.uuidWindow);
  // Oldest first, so the window forgets them in the order it would have.
  if (store) {
    const uuidKey = uuidKeys();
    for (const r of (await store.recentUuids(limits.uuidWindow)).reverse()) uuids.add(uuidKey(r.nodeName, uuidBytes(r.uuid)));
  }
  const policy = new AccessPolicy(opts.access);
  const peerSet = opts.peers ? new PeerSet(opts.peers) : undefined;

  const hub = new FlowHub({ capacity: opts.buffer, subscriberQueue: limits.maxFollowQueue, subscriberQueueBytes: limits.maxFollowQueueBytes });
  const metrics = new RelayMetrics({ followers: () => hub.followers, ingestInflight: () => budget.inflight });
  const breaches = new Breaches(metrics, log);
  // Said in the log at most once a minute: under load every group may be full.
  let groupFullLogged = 0;
  const commits = store
    ? new GroupCommit<JudgedBatch & Committable>((group) => store.insertGroup(group), {
      maxFlows: limits.maxGroupFlows,
      concurrency: limits.maxConcurrentInserts,
      onGroup: (g) => {
        metrics.group(g.batches, g.full);
        if (g.full && Date.now() - groupFullLogged >= 60_000) {
          groupFullLogged = Date.now();
          log(`store: an insert took ${g.flows} flows (${g.batches} batches), the group limit of ${limits.maxGroupFlows} flows; the other batches wait for the next insert`);
        }
      },
    })
    : undefined;
  const nodes = new NodeBook({
    onState: (name, state) => {
      log(`node ${name} ${state === NodeState.NODE_CONNECTED ? 'connected' : 'unavailable'}`);
      hub.publishNodeStatus({ stateChange: state, nodeNames: [name], message: '' });
    },
  });
  const judge = new FlowJudge(opts.resources, { paths: opts.paths, log });
  const known = { paths: new RebuiltPaths(), endpoints: new KnownEndpoints() };
  const pathChecks = new PathChecks(limits);
  log(
    opts.paths
      ? `paths: flows' hop fields are checked against ${opts.paths.name}`
      : 'paths: no control plane (--topology or --daemon): no path can be checked, flows under a geofence get UNVERIFIED',
  );
  const merger = new TimeMerger({ windowMs: opts.mergeWindowMs, maxFlows: opts.mergeMaxFlows, release: (batches, index, n) => hub.publishRefs(batches, index, n) });
  // Without a store: (node, session) -> position, keyed as ingest keys its sessions (sessionKey).
  const positions = new Map<string, bigint>();
  const guard = new Guard(policy, tls, (r: Refusal) => {
    metrics.refused(r.service, r.reason);
    log(`refused ${r.service}/${r.method} from ${r.peer}${r.identity.name ? ` (${r.identity.name})` : ''}: ${r.message}`);
  });

  // Batches the store refused; the collector sends them again, so no data is lost.
  let batchStoreErrors = 0n;
  const sink: BatchSink = {
    position: async (node, sessionId) => (store ? store.position(node, sessionId) : (positions.get(sessionKey(node, sessionId)) ?? 0n)),
    accept: async (b, incoming) => {
      const cols = incoming.columns;
      const screened = screenColumns(cols, b.nodeName, limits, uuids, pathChecks);
      await judge.preparePaths(cols.paths);
      const verdicts = judgeColumns(cols, judge, known);
      const judged: JudgedBatch = { nodeName: b.nodeName, sessionId: b.sessionId, sequence: b.sequence, columns: cols, keep: screened.keep, ...verdicts };
      // Live before stored: viewers see a flow once it is judged, whatever the store's lag.
      const live = liveBatch(judged);
      hub.expect(live);
      merger.add(live);
      const store = async (): Promise<Rejections> => {
        try {
          if (commits) await commits.add({ ...judged, flows: storedCount(judged) });
          else positions.set(sessionKey(b.nodeName, b.sessionId), b.sequence);
        } catch (e) {
          uuids.forget(screened.keys);
          metrics.storeError();
          batchStoreErrors++;
          const err = e as Error & { detail?: string };
          if (err.detail !== undefined) {
            // The engine's own words stay here; the collector hears only the error id.
            metrics.engineError('insert');
            log(`${err.message}: ${err.detail}`);
          }
          throw e;
        } finally {
          hub.settle(live);
        }
        const rejected = screened.rejected + incoming.refused;
        const reason = incoming.reason || screened.reason;
        if (rejected > 0) {
          metrics.rejected('duplicate', screened.duplicates);
          metrics.rejected('invalid', rejected - screened.duplicates);
          if (rejected > screened.duplicates) breaches.record('flow_invalid', reason, b.nodeName);
          if (screened.duplicates > 0) breaches.record('duplicate_uuid', `${screened.duplicates} flows of batch ${b.sequence} carried uuids already stored`, b.nodeName);
        }
        const tally = tallyStored(judged);
        for (const [verdict, n] of tally.verdicts) metrics.flow(verdict, n);
        for (const [g, n] of tally.geofences) metrics.geofence(g.name, g.verdict, n);
        metrics.stored(tally.stored, tally.newestNs === undefined ? undefined : Number(nowNs() - tally.newestNs) / 1e9);
        if (verdicts.fingerprintMismatches > 0) metrics.fingerprintMismatches(b.nodeName, verdicts.fingerprintMismatches);
        nodes.stored(b.nodeName, tally.stored);
        return { rejected, reason };
      };
      // Taken now; stored with whatever else waits for the next insert.
      return { stored: store() };
    },
    takeover: async (node, sessionId, after, previous) => {
      if (store) await store.insertTakeover({ nodeName: node, sessionId, afterSequence: after, previousRelay: previous, takenAt: Date.now() });
      else positions.set(sessionKey(node, sessionId), after);
    },
    retract: async (node, sessionId, after, through) => {
      if (!store) {
        positions.set(sessionKey(node, sessionId), after);
        return;
      }
      // A genuine retraction follows its failover within minutes; older batches are history.
      const gone = await store.retract(node, sessionId, after, through, { maxUuids: limits.uuidWindow, receivedSinceMs: Date.now() - limits.maxRetractAgeMs });
      // The deleted flows may come here again (from a relay that takes the session back).
      const uuidKey = uuidKeys();
      uuids.forget(gone.uuids.map((u) => uuidKey(node, uuidBytes(u))));
      metrics.retractedFlows(Number(gone.flows));
      if (gone.flows > 0n) log(`export: deleted ${gone.flows} flows of node ${node} session ${sessionId} batches (${after}, ${gone.through}]: another relay stores them`);
      if (gone.kept > 0n) {
        breaches.record('retraction_age', `node ${node} retracted session ${sessionId} batches (${after}, ${gone.through}]; ${gone.kept} flows and batch marks received more than ${limits.maxRetractAgeMs} ms ago are kept`, node);
      }
    },
  };
  const onFailover = (e: FailoverEvent): void => {
    if (e.kind === 'retraction_ignored') metrics.retractionIgnored(e.reason);
    else metrics.failover(e.kind);
    if (e.kind === 'takeover') log(`export: node ${e.node} session ${e.sessionId} taken over from relay ${e.previous} after batch ${e.after} (stored here up to ${e.position})`);
    else if (e.kind === 'retraction') log(`export: node ${e.node} retracted session ${e.sessionId} batches (${e.after}, ${e.through}]: stored by another relay; position now ${e.position}`);
    else {
      const why = e.reason === 'shared_store' ? 'the store is shared, each batch is in it once' : `it is meant for relay "${e.named}", this is "${relayName}"`;
      log(`export: node ${e.node} retraction of session ${e.sessionId} batches (${e.after}, ${e.through}] acknowledged, nothing deleted: ${why}`);
    }
  };

  const counterLog = store ? new CounterLog(store, { onError: (e) => { metrics.storeError(); log(`storing collector counters: ${e.message}`); } }) : undefined;
  const onCounters = (r: CollectorReport): void => {
    counterLog?.add(r);
    const d = nodes.report(r);
    metrics.collector(r.nodeName, d);
    hub.publishLost(LostEventSource.PERF_EVENT_RING_BUFFER, d.ringReserveFailures, r.nodeName);
    // Flow reports that never reach the relay, refused by the exporter or shed by the flow table.
    hub.publishLost(LostEventSource.OBSERVER_EVENTS_QUEUE, d.exportDrops + d.reportsLost, r.nodeName);
    hub.publishLost(LostEventSource.UNKNOWN_LOST_EVENT_SOURCE, d.decodeErrors, r.nodeName);
  };
  // A relay's store holds one cluster: another cluster's collector belongs to its own relay.
  const foreignCluster = (cluster: string): string | undefined =>
    opts.cluster && cluster !== '' && cluster !== opts.cluster
      ? `this relay serves cluster "${opts.cluster}"; the batch is of cluster "${cluster}": export to that cluster's relay`
      : undefined;
  const ingest = exportService(sink, {
    nodeOf: (call, claimed, cluster) => {
      const id = guard.identityOf(call);
      const message = foreignCluster(cluster);
      if (message !== undefined) {
        guard.refuse({ service: 'cillion.export.v1.FlowExport', method: 'Export', peer: call.getPeer(), identity: id, reason: 'cluster_mismatch', message });
        return { refused: message, code: grpcStatus.FAILED_PRECONDITION };
      }
      const owner = batchOwner(id, claimed);
      if ('refused' in owner) guard.refuse({ service: 'cillion.export.v1.FlowExport', method: 'Export', peer: call.getPeer(), identity: id, reason: 'node_mismatch', message: owner.refused });
      return owner;
    },
    onCounters,
    maxBatchFlows: limits.maxBatchFlows,
    relayName,
    sharedStore: opts.peers?.sharedStore ?? false,
    onFailover,
    maxRetractionsPerMinute: limits.maxRetractionsPerMinute,
    budget,
    onBreach: (kind, message, peer) => breaches.record(kind, message, peer),
    onError: (err, peer) => {
      const detail = (err as { detail?: string }).detail;
      if (detail !== undefined) metrics.engineError('export');
      log(`export from ${peer}: ${err.message}${detail === undefined ? '' : `: ${detail}`}`);
    },
  });
  const exportImpl: FlowExportServer = {
    export(call) {
      const id = guard.identityOf(call);
      const tlsInfo: TlsInfo = { enabled: tls, serverName: id.name };
      const stream = nodes.streamOpened(call.getPeer(), tlsInfo);
      const versionHeader = call.metadata.get('cillion-version')[0];
      call.on('data', (b: FlowBatch) => {
        // A retraction comes from a collector that exports elsewhere: no connected node here.
        if (refusalOf(b) || b.retraction || foreignCluster(b.clusterName) !== undefined) return;
        const owner = batchOwner(id, b.nodeName);
        if ('node' in owner) stream.identify(owner.node, b.clusterName, typeof versionHeader === 'string' ? versionHeader : undefined);
      });
      for (const ev of ['cancelled', 'error', 'finish', 'close']) call.on(ev, () => stream.close());
      ingest.export(call);
    },
  };

  const server = new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    interceptors: [
      statusObserver((code, details, peer) => {
        if (code === grpcStatus.RESOURCE_EXHAUSTED && /^Received message (that decompresses to a size )?larger than/.test(details)) {
          breaches.record('message_size', details, peer);
        }
      }),
    ],
  });
  // Export messages are measured before they are decoded (admission.ts).
  const boundedExport: ServiceDefinition = {
    ...FlowExportService,
    export: { ...FlowExportService.export, requestDeserialize: boundedBatchDecoder(limits, budget) },
  };
  // Every service through the guard: the certificate's role decides, before any handler runs.
  server.addService(boundedExport, guard.wrap(boundedExport, 'collector', exportImpl));
  const observerDeps: ObserverDeps = {
    hub,
    store,
    nodes,
    status: () => ({ version, uptimeNs: nowNs() - startedAt, storeErrors: store ? batchStoreErrors : undefined, fingerprintMismatches: metrics.mismatchesByNode() }),
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
  const own = { observer: observerService(observerDeps), history: flowHistoryService(observerDeps) };
  const reads = peerSet
    ? fanOutServices(own, observerDeps, peerSet, {
      windowMs: opts.mergeWindowMs,
      onPeer: (peer, state, reason) => {
        metrics.peer(peer, state);
        log(`peer ${peer} ${state}${reason ? `: ${reason}` : ''}`);
      },
    })
    : own;
  // Readers see the set; another relay of it (the peer role) only this relay's own data.
  const readers = ['reader', { role: 'peer', localScopeOnly: true }] as const;
  server.addService(ObserverServiceDefinition, guard.wrap(ObserverServiceDefinition, readers, reads.observer));
  server.addService(FlowHistoryServiceDefinition, guard.wrap(FlowHistoryServiceDefinition, readers, reads.history));
  server.addService(
    AttestService,
    guard.wrap(AttestService, ['attester', { role: 'peer', localScopeOnly: true }], attestService({
      ...opts.attest,
      store,
      fences: (n) => judge.engine.get(n),
      relay: { name: relayName, version, cluster: opts.cluster },
      peers: opts.peers,
      onError: (err) => log(`attest: ${err.message}`),
      onPeerFailure: (f) => {
        metrics.attestPeerMissing(f.kind);
        log(`attest: ${f.message}`);
      },
    })),
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p)))).catch((e: unknown) => {
    peerSet?.close();
    throw e;
  });
  const address = listen.replace(/:\d+$/, `:${port}`);

  let endpoint: MetricsEndpoint | undefined;
  if (opts.metricsListen !== undefined) {
    try {
      endpoint = await serveMetrics(opts.metricsListen, metrics);
    } catch (e) {
      server.forceShutdown();
      peerSet?.close();
      throw e;
    }
  }
  const metricsAddress = endpoint?.address;
  log(`relay ${version} serving Observer and FlowExport on ${address} (${tls ? 'mutual TLS' : 'plaintext'})${metricsAddress ? `, metrics on http://${metricsAddress}/metrics` : ''}`);
  if (peerSet) log(`relay ${opts.name ?? hostname()}${opts.cluster ? ` of cluster ${opts.cluster}` : ''} answers reads with ${peerSet.peers.map((p) => `relay/${p.name}`).join(', ')}`);

  let closing: Promise<void> | undefined;
  return {
    address,
    metricsAddress,
    tls,
    hub,
    nodes,
    metrics,
    geofences: judge.engine,
    flushLive: () => merger.flush(),
    close: () =>
      (closing ??= (async () => {
        judge.close();
        merger.flush();
        hub.closeFollowers();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.forceShutdown(), opts.shutdownGraceMs ?? 2000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        merger.close();
        peerSet?.close();
        // What streams handed over is stored (or failed) before the store may be closed or reopened.
        await commits?.idle();
        await counterLog?.close();
        await endpoint?.close();
      })()),
  };
}
