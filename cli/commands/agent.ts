// `cillion agent`, one per node: loads the edge datapath onto the node's uplinks and keeps
// its maps programmed (the operator's node runtime), drains the path records into flows
// (the collector), judges them against the geofences in force, exports them to the relay
// and serves them on the node's own Observer socket. Identities are the operator's to
// allocate: the agent reads them (from --state, or with --kubernetes from the cluster's
// CillionIdentity objects) and programs a pod once it has one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { version } from '../../package.json';
import { realtimeOffsetNs } from '../../bpf/clock';
import { RingReader } from '../../bpf/native';
import { Collector, flowTableGauge, pipelineCounters } from '../../collector/collector';
import { AgentMetrics } from '../../collector/metrics';
import { serveMetrics } from '../../metrics/endpoint';
import { WorkloadEndpoints } from '../../collector/enrich';
import { ControlPlaneCatalog, type CatalogEntry } from '../../paths/catalog';
import { Exporter } from '../../collector/exporter';
import { serveLocalObserver, type LocalObserver } from '../../collector/local_observer';
import type { PathService } from '../../operator/controlplane/pathservice';
import { IdentityLookup } from '../../operator/datapath/identities';
import { groupResources } from '../../operator/datapath/resources';
import type { IdentityView } from '../../operator/identity/allocator';
import { IdentityReader } from '../../operator/identity/reader';
import type { IdentityViewStats } from '../../operator/sources/k8s/identity_view';
import { NodeRuntime } from '../../operator/node/runtime';
import type { RecomputeResult } from '../../operator/programmer';
import type { IA } from '../../scion/isdas';
import type { Flow } from '../../proto/gen/flow/flow';
import { FlowJudge } from '../../geofence/judge';
import { FlowHub } from '../../observer/hub';
import { zeroCounters } from '../../observer/nodes';
import type { CatalogueResult } from '../../mesh/error';
import { serveCatalogue } from '../../mesh/http';
import { allocatorListing, CataloguePublisher, withAddresses } from '../../mesh/publisher';
import { followMesh } from '../../mesh/follow';
import type { RemoteCatalogues } from '../../mesh/store';
import { KeySync } from '../../mesh/key_sync';
import { fetchLevel1 } from '../../mesh/level1_client';
import { Level1Server } from '../../mesh/level1_server';
import { LEVEL1_PATH } from '../../mesh/level1_wire';
import { DrkeyIssuer } from '../../scion/drkey/level1';
import { formatIA } from '../../scion/isdas';
import { addNodeOptions, addSourceOptions, kubernetesMode, openSources, positive, processAction, signalled, uplinkSpecs, type NodeOptions, type Sources, type SourceOptions } from '../node';

interface AgentOptions extends SourceOptions, NodeOptions {
  node: string;
  relay?: string[];
  relayFailover: number;
  relayCa?: string;
  relayCert?: string;
  relayKey?: string;
  observerSocket: string;
  flowIdle: number;
  flowActive: number;
  flowMax: number;
  exportBuffer: number;
  metrics: string;
  mesh?: string;
  spao: 'on' | 'off';
  spaoWindow: number;
}

const RING_BATCH_BYTES = 1 << 20;

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

function relayCredentials(opts: AgentOptions): ChannelCredentials {
  if (!opts.relayCa && !opts.relayCert && !opts.relayKey) return grpcCredentials.createInsecure();
  if (!opts.relayCa) throw new InvalidArgumentError('--relay-cert and --relay-key need --relay-ca');
  if (!opts.relayCert !== !opts.relayKey) throw new InvalidArgumentError('give --relay-cert and --relay-key together');
  return grpcCredentials.createSsl(
    readFileSync(opts.relayCa),
    opts.relayKey ? readFileSync(opts.relayKey) : null,
    opts.relayCert ? readFileSync(opts.relayCert) : null,
  );
}

/** The paths this node sends on (by path id) and the paths remote clusters send to it (by hop fields). */
async function catalogEntries(r: RecomputeResult, control: PathService, local: IA, remotes: readonly IA[]): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = r.desired.pathsInUse.map(([pathId, path]) => ({ pathId, path }));
  for (const remote of remotes) {
    try {
      for (const path of await control.paths(remote, local)) entries.push({ path });
    } catch (e) {
      log(`paths from ${remote} unknown: ${(e as Error).message}`);
    }
  }
  return entries;
}

/**
 * This node's view of the operator's allocation, kept current (`onChange` after each change):
 * the cluster's CillionIdentity objects on Kubernetes, where the operator shares no volume
 * with the nodes, the operator's state file otherwise.
 */
async function openIdentities(
  sources: Sources,
  stateDir: string,
  clusterId: number,
  onChange: () => void,
  stops: Array<() => Promise<void> | void>,
): Promise<{ view: IdentityView; stats?: () => IdentityViewStats }> {
  if (sources.kubernetes) {
    const view = new (kubernetesMode().KubernetesIdentityView)({ kubeConfig: sources.kubernetes.kubeConfig, clusterId, onChange, log });
    view.start();
    stops.push(() => view.stop());
    await view.synced;
    log(`identities of cluster id ${clusterId}: ${view.all().length} read from CillionIdentity objects (watched)`);
    return { view, stats: () => view.stats() };
  }
  const reader = new IdentityReader(join(stateDir, 'identities.json'), clusterId);
  const first = reader.refresh();
  if (first.error) log(`identities: ${first.error.message}`);
  log(`identities of cluster id ${clusterId}: ${reader.all().length} read from ${reader.file}`);
  stops.push(reader.watch(onChange, (e) => log(`identities: ${e.message}`)));
  return { view: reader };
}

async function run(opts: AgentOptions): Promise<void> {
  if (opts.uplink.length === 0) throw new InvalidArgumentError('give at least one --uplink: the agent runs the datapath on them');
  const credentials = relayCredentials(opts);
  let runtime: NodeRuntime | null = null;
  const sources = await openSources(opts, opts.node, () => void runtime?.programmer.recompute(), log);
  const source = sources.source;
  const stops: Array<() => Promise<void> | void> = [];
  try {
    const cluster = groupResources(await source.list()).clusters[0];
    if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to run`);
    const clusterName = cluster.metadata.name;
    const { view: identities, stats: identityStats } = await openIdentities(sources, opts.state, cluster.spec.clusterId, () => void runtime?.programmer.recompute(), stops);
    let identityByIp = new Map<string, number>();
    const endpoints = new WorkloadEndpoints(clusterName, (w) => identityByIp.get(w.ip));
    const catalog = new ControlPlaneCatalog();
    // The mesh: peers' catalogues name the remote end of flows and resolve network policies' remote selectors.
    const followed = opts.mesh ? followMesh(opts.mesh, cluster, log) : undefined;
    const mesh = followed?.config;
    const catalogues = followed?.store;
    // CillionNetworkPolicy ids as this node's programmer numbered them, for naming policy drops in flows.
    let policyNames = new Map<number, string>();
    // Builds this cluster's identity catalogue again when the identities or addresses may have changed (with --mesh publish).
    let republish: (() => void) | undefined;
    const explain = (r: RecomputeResult): void => {
      identityByIp = new Map(r.desired.endpoints.map(([ip, e]) => [ip, e.identity]));
      policyNames = new Map(r.desired.networkPolicyOutcomes.map((o) => [o.id, o.policy.metadata.name]));
      endpoints.update(sources.workloads());
      republish?.();
      if (!runtime) return;
      const rt = runtime;
      void source.list().then(async (entries) => {
        const remotes = groupResources(entries).remotes.map((rc) => rc.spec.isdAS);
        catalog.set(await catalogEntries(r, rt.control, cluster.spec.isdAS, remotes));
      });
    };
    const opened = await NodeRuntime.open({
      source,
      cluster,
      workloads: sources.workloads,
      uplinks: uplinkSpecs(opts),
      netns: opts.netns,
      instance: opts.instance,
      identities: new IdentityLookup(identities),
      remoteIdentities: followed?.directory,
      daemon: opts.daemon,
      masterKeyFile: opts.masterKey,
      refreshMs: opts.refresh * 1000,
      spao: opts.spao,
      spaoWindowNs: BigInt(Math.round(opts.spaoWindow * 1e6)),
      // Status is the operator's to write; every agent programs its own node.
      writeStatus: false,
      log,
      onRecompute: explain,
    });
    runtime = opened.runtime;
    const rt = runtime;
    stops.push(() => rt.stop(true));
    if (opened.first) explain(opened.first);
    const dp = rt.datapath;
    if (!dp) throw new Error('the datapath did not load');

    // The mesh: the publishing node serves this cluster's catalogue and its peers' Level 1 key
    // requests; with a master secret every node keeps the datapath's key table filled; a peer's
    // new catalogue reprograms the policies naming its workloads.
    let keySync: KeySync | undefined;
    let level1: Level1Server | undefined;
    if (followed && mesh) {
      if (mesh.keys) {
        const keys = mesh.keys;
        if (keys.ia !== cluster.spec.isdAS) throw new InvalidArgumentError(`--mesh ${opts.mesh} gives ISD-AS ${formatIA(keys.ia)}, the ClusterAS ${formatIA(cluster.spec.isdAS)}`);
        const issuer = new DrkeyIssuer({ localIA: keys.ia, masterSecret: keys.masterSecret, epochSeconds: keys.epochSeconds });
        if (mesh.publish) level1 = new Level1Server({ clusterName, issuer, privateKey: keys.privateKey, peers: mesh.peers, log });
        // The SPAO key table exists when the edge authenticates (--spao on and a kernel that can).
        const table = dp.keys;
        if (table) {
          const self = { clusterName, ia: keys.ia, privateKey: keys.privateKey };
          const sync = new KeySync({ self, issuer, peers: mesh.peers, table, fetch: (peer, validAt) => fetchLevel1(self, peer, validAt), log });
          keySync = sync;
          sync.start(mesh.refreshMs);
          stops.push(() => sync.stop());
          log(`mesh keys: ${keys.epochSeconds} s epochs; keeping tx and rx keys for ${mesh.peers.list().map((p) => p.clusterName).join(', ') || 'no peer'} in the datapath key table`);
        } else {
          log(`mesh keys: the edge does not authenticate (${dp.spao.reason ?? 'off'}); keys are served to peers but none is installed`);
        }
      }
      // Said once, when every peer's catalogue is held and programmed and, with keys, every
      // peer's packets can be verified: what the demo waits for before it sends.
      let ready = false;
      const noteReady = (): void => {
        if (ready) return;
        const held = new Set(followed.store.catalogues().map((c) => c.clusterName));
        const peers = mesh.peers.list().map((p) => p.clusterName);
        if (peers.some((p) => !held.has(p))) return;
        const keys = keySync?.stats();
        if (keys && (keys.rounds === 0 || keys.peersWithoutRxKey > 0)) return;
        ready = true;
        log(`mesh ready: catalogues${keySync ? ' and keys' : ''} of ${peers.join(', ') || 'no peer'} in place`);
      };
      followed.start(() => void rt.programmer.recompute().then(noteReady));
      const readiness = setInterval(() => (ready ? clearInterval(readiness) : noteReady()), 500);
      readiness.unref();
      stops.push(() => clearInterval(readiness));
      stops.push(() => followed.stop());
      if (mesh.publish) {
        const publisher = new CataloguePublisher({
          clusterName,
          clusterId: mesh.clusterId,
          privateKey: mesh.publish.privateKey,
          listing: withAddresses(allocatorListing(identities), () => identityByIp.entries()),
        });
        // Built when the node recomputes, not per request: a peer asking in a loop costs a buffer write each.
        let lastRefusal = '';
        const build = (): CatalogueResult<Uint8Array> => {
          const c = publisher.current();
          if (!c.ok && c.error.message !== lastRefusal) log(`identity catalogue not published: ${c.error.message}`);
          lastRefusal = c.ok ? '' : c.error.message;
          return c;
        };
        let published = build();
        republish = () => {
          published = build();
        };
        const served = await serveCatalogue(() => published, mesh.publish.host, mesh.publish.port, { post: level1?.route() });
        stops.push(() => new Promise<void>((resolve) => served.server.close(() => resolve())));
        log(`identity catalogue of ${clusterName} (cluster id ${mesh.clusterId}) on ${served.url}${level1 ? `, Level 1 keys on ${LEVEL1_PATH}` : ''}`);
      }
      log(`mesh: fetching the identity catalogues of ${mesh.peers.list().map((p) => p.clusterName).join(', ') || 'no peer'} every ${mesh.refreshMs / 1000} s`);
    }

    // The node's own view of the control plane: its judge checks hop fields as the relay does,
    // with the verifier (and its cache) the collector's enrichment already filled.
    const judge = new FlowJudge(source, { verifier: catalog.verifier, log });
    stops.push(() => judge.close());
    const hub = new FlowHub();
    let exporter: Exporter | null = null;
    const devices = new Map(rt.uplinks.map((u) => [u.ifindex, uplinkSpecs(opts).find((s) => s.ifid === u.ifid)?.device ?? '']));
    const collector = new Collector({
      // Reports wait for room in the export backlog instead of being dropped there.
      table: { maxEntries: opts.flowMax, idleTimeoutMs: opts.flowIdle * 1000, activeTimeoutMs: opts.flowActive * 1000, room: () => exporter?.room() ?? Infinity },
      context: { nodeName: opts.node, clusterName, realtimeOffsetNs: realtimeOffsetNs(), interfaceName: (i) => devices.get(i), policyName: (id) => policyNames.get(id) },
      endpoints,
      paths: catalog,
      remote: catalogues,
      deliver: (flows: Flow[]) => {
        for (const f of flows) {
          judge.judge(f);
          exporter?.push(f);
        }
        hub.publish(flows);
      },
      onDecodeError: (e) => log(`ring record: ${e.message}`),
    });
    const relays = opts.relay ?? [];
    let exportingTo = '';
    exporter = relays.length > 0
      ? new Exporter({
          target: relays,
          failoverMs: opts.relayFailover,
          credentials,
          nodeName: opts.node,
          clusterName,
          maxBacklogFlows: opts.exportBuffer,
          // Half the relay's default --max-batch-flows; as columns a flow is well under 100
          // bytes, so batches of a busy node are cut here, or at 1 MiB encoded.
          batchFlows: 16_384,
          flushMs: 200,
          ringCounters: () => pipelineCounters(collector.stats(), dp.counterTotals()),
          flowTable: () => flowTableGauge(collector.stats()),
          onError: (e) => log(`export: ${e.message}`),
          onConnected: (target, name) => {
            const now = `${target}${name ? ` (relay ${name})` : ''}`;
            if (now !== exportingTo) log(`export: exporting to ${now}`);
            exportingTo = now;
          },
        })
      : null;
    if (!exporter) log('no --relay: flows stay on this node (cillion observe --node)');
    const reader = new RingReader(dp.events, { bufferBytes: RING_BATCH_BYTES, onBatch: collector.ingest });
    reader.start();
    collector.start();
    // Shed reports are counted in metrics and status; the log says so once per stretch.
    let shed = { reports: 0, packets: 0 };
    const lossLog = setInterval(() => {
      const st = collector.stats();
      if (st.lostReports > shed.reports) {
        log(`flow table: ${st.lostReports - shed.reports} reports (${st.lostPackets - shed.packets} packets) shed while the export backlog stayed full`);
      }
      shed = { reports: st.lostReports, packets: st.lostPackets };
    }, 10_000);
    lossLog.unref();
    stops.push(async () => {
      clearInterval(lossLog);
      reader.stop();
      reader.drain();
      collector.stop();
      await exporter?.close();
    });
    if (opts.metrics !== '') {
      const ex = exporter;
      const endpoint = await serveMetrics(opts.metrics, new AgentMetrics({
        datapath: () => dp.counterTotals(),
        table: () => collector.stats(),
        exporter: ex ? () => ex.counters() : undefined,
        catalogues: catalogues && (() => (catalogues as RemoteCatalogues).stats()),
        keys: keySync && (() => (keySync as KeySync).stats()),
        level1: level1 && (() => (level1 as Level1Server).stats()),
        spao: dp.spao,
        identities: identityStats,
      }));
      stops.push(() => endpoint.close());
      log(`metrics on http://${endpoint.address}/metrics`);
    }
    let observer: LocalObserver | null = null;
    if (opts.observerSocket !== '') {
      const ex = exporter;
      observer = await serveLocalObserver({
        socket: opts.observerSocket.replace(/^unix:\/\//, ''),
        hub,
        version,
        log,
        counters: () => (ex ? ex.counters() : { ...zeroCounters(), ...pipelineCounters(collector.stats(), dp.counterTotals()) }),
        flowTable: () => flowTableGauge(collector.stats()),
      });
      const o = observer;
      stops.push(() => o.close());
    }
    await rt.start();
    // Listening before the line that says so: a signal right after it must find a handler.
    const stopped = signalled();
    log(`agent ${opts.node} of ${clusterName}: collecting${exporter ? `, exporting to ${relays.join(', ')}${relays.length > 1 ? ' (failover order)' : ''}` : ''}${observer ? `, Observer on unix://${observer.socket}` : ''} (Ctrl-C stops and detaches)`);
    await stopped;
  } finally {
    // Last started, first stopped: the observer, then the collector's final flows go out,
    // then the datapath comes off the uplinks.
    for (const stop of stops.reverse()) await stop();
    await sources.close();
  }
}

/** --relay values, repeated or comma-separated, in order. */
function relayList(value: string, previous: string[] | undefined): string[] {
  const more = value.split(',').map((v) => v.trim());
  if (more.some((v) => v === '')) throw new InvalidArgumentError(`--relay ${value}: an empty relay address`);
  return [...(previous ?? []), ...more];
}

export function agentCommand(): Command {
  const cmd = new Command('agent').description(
    'run this node: program its edge datapath, collect its flows, export them to the relay and serve them locally',
  );
  addSourceOptions(cmd, 'with --resources: pods of the embedded mode (v1 Pod YAML); this node runs those with spec.nodeName = --node');
  cmd.requiredOption('--node <name>', 'this node');
  addNodeOptions(cmd)
    .option('--relay <host:port>', 'export flows to this relay; repeat (or a comma list) for replicas, tried in order on failover', relayList)
    .addOption(new Option('--relay-failover <ms>', 'how long the current relay may be unreachable before the next --relay is tried').default(5000).argParser(positive))
    .option('--relay-ca <file>', 'CA of the relay certificate (PEM): export over TLS')
    .option('--relay-cert <file>', 'client certificate for the relay (PEM)')
    .option('--relay-key <file>', 'client key for the relay (PEM)')
    .addOption(new Option('--observer-socket <path>', "this node's Observer API; empty to disable").default('/var/run/cillion/observer.sock'))
    .addOption(new Option('--flow-idle <seconds>', 'a flow without packets this long is reported and forgotten').default(5).argParser(positive))
    .addOption(new Option('--flow-active <seconds>', 'a busy flow is reported at least this often').default(10).argParser(positive))
    .addOption(new Option('--flow-max <n>', 'flows tracked at most (memory bound)').default(65536).argParser(positive))
    .addOption(new Option('--export-buffer <flows>', 'flows kept while the relay is away').default(100000).argParser(positive))
    .addOption(new Option('--metrics <host:port>', 'HTTP address for Prometheus /metrics; empty to disable').default(''))
    .option('--mesh <file>', 'mesh file: peer clusters whose signed identity catalogues name remote flow ends, this cluster\'s catalogue to publish, and with a master secret the keys between clusters (README, Identity catalogues; Keys between clusters)')
    .addOption(new Option('--spao <on|off>', 'authenticate the identity between clusters with the SPAO (needs the kernel\'s BPF crypto kfuncs; off where the kernel refuses them, as metrics say)').choices(['on', 'off']).default('off'))
    .addOption(new Option('--spao-window <ms>', 'SPAO acceptance window: a packet\'s time may differ from this node\'s clock by half of it').default(2000).argParser(positive))
    .action(processAction('agent', run));
  return cmd;
}
