// `cillion agent`, one per node: loads the edge datapath onto the node's uplinks and keeps
// its maps programmed (the operator's node runtime), drains the path records into flows
// (the collector), judges them against the geofences in force, exports them to the relay
// and serves them on the node's own Observer socket. Identities are the operator's to
// allocate: the agent reads them (from --state, or with --kubernetes from the cluster's
// CillionIdentity objects) and programs a pod once it has one.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WorkloadEndpoints } from '../../collector/enrich';
import type { LocalObserver } from '../../collector/local_observer';
import { Lifecycle } from '../../lifecycle/lifecycle';
import { followMesh, type FollowedMesh } from '../../mesh/follow';
import type { PathService } from '../../controlplane/pathservice';
import { IdentityLookup } from '../../operator/datapath/identities';
import { groupResources } from '../../operator/datapath/resources';
import type { IdentityView } from '../../identity/allocator';
import { IdentityReader } from '../../identity/reader';
import { NodeRuntime } from '../../operator/node/runtime';
import type { RecomputeResult } from '../../operator/programmer';
import type { ClusterAS } from '../../resources/clusteras';
import type { IdentityViewStats } from '../../kube/identity_view';
import { ControlPlaneCatalog, type CatalogEntry } from '../../paths/catalog';
import type { IA } from '../../scion/isdas';
import { startAgentMetrics, startCollection, startObserverSocket } from '../agent/flows';
import { startMesh } from '../agent/mesh';
import { loadSidCatalogue, type SidCatalogue } from '../../srv6/catalogue';
import { addNodeOptions, addSourceOptions, kubernetesMode, nodeRuntimeBase, openSources, positive, processAction, signalled, uplinkSpecs, type NodeOptions, type Sources, type SourceOptions } from '../node';

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
  srv6Uplink?: string;
}

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
  life: Lifecycle,
): Promise<{ view: IdentityView; stats?: () => IdentityViewStats }> {
  if (sources.kubernetes) {
    const view = new (kubernetesMode().KubernetesIdentityView)({ kubeConfig: sources.kubernetes.kubeConfig, clusterId, onChange, log });
    view.start();
    life.defer('identity view', () => view.stop());
    await view.synced;
    log(`identities of cluster id ${clusterId}: ${view.all().length} read from CillionIdentity objects (watched)`);
    return { view, stats: () => view.stats() };
  }
  const reader = new IdentityReader(join(stateDir, 'identities.json'), clusterId);
  const first = reader.refresh();
  if (first.error) log(`identities: ${first.error.message}`);
  log(`identities of cluster id ${clusterId}: ${reader.all().length} read from ${reader.file}`);
  life.defer('identity file watch', reader.watch(onChange, (e) => log(`identities: ${e.message}`)));
  return { view: reader };
}

/** What the node's recomputes keep current for the flows' enrichment, and the runtime they run on. */
class NodeState {
  runtime: NodeRuntime | null = null;
  identityByIp = new Map<string, number>();
  /** CillionNetworkPolicy ids as this node's programmer numbered them, for naming policy drops in flows. */
  policyNames = new Map<number, string>();
  /** Builds this cluster's identity catalogue again when the identities or addresses may have changed (with --mesh publish). */
  republish: (() => void) | undefined;
  readonly recompute = (): void => void this.runtime?.programmer.recompute();
}

/** After each recompute: the flows' identities, policy names and path catalogue follow what the node programmed. */
/** The catalogue the node's judge places SRv6 segments in; without one (or unreadable, which the programmer reports) SRv6 flows under a fence are UNVERIFIED. */
function srv6Catalogue(cluster: ClusterAS | undefined, log: (m: string) => void): SidCatalogue | undefined {
  const file = cluster?.spec.srv6?.catalogue;
  if (file === undefined) return undefined;
  try {
    return loadSidCatalogue(resolve(file));
  } catch (e) {
    log(`geofence judge: SID catalogue ${file}: ${(e as Error).message}; SRv6 flows are judged UNVERIFIED`);
    return undefined;
  }
}

function explainer(node: NodeState, sources: Sources, cluster: ClusterAS, endpoints: WorkloadEndpoints, catalog: ControlPlaneCatalog): (r: RecomputeResult) => void {
  return (r) => {
    node.identityByIp = new Map(r.desired.endpoints.map(([ip, e]) => [ip, e.identity]));
    node.policyNames = new Map(r.desired.networkPolicyOutcomes.map((o) => [o.id, o.policy.metadata.name]));
    endpoints.update(sources.workloads());
    node.republish?.();
    if (!node.runtime) return;
    const rt = node.runtime;
    void sources.source.list().then(async (entries) => {
      const remotes = groupResources(entries).remotes.map((rc) => rc.spec.isdAS);
      catalog.set(await catalogEntries(r, rt.control, cluster.spec.isdAS, remotes));
    });
  };
}

/**
 * The agent up to collecting, in steps: resources and identities, the node runtime (the
 * datapath loaded), the mesh, the flows, metrics and the Observer socket, then the runtime's
 * timers. Each step's stop is recorded in `life`, which stops them last first.
 */
async function startAgent(opts: AgentOptions, life: Lifecycle): Promise<{ clusterName: string; exporting: boolean; observer: LocalObserver | null }> {
  const credentials = relayCredentials(opts);
  const node = new NodeState();
  // With SRv6 the node decapsulates for every pod of its tenants in the cluster, so it reads them all.
  const sources = await life.start('resources', () => openSources(opts, opts.node, node.recompute, log, opts.srv6Uplink !== undefined), (s) => () => s.close());
  const cluster = groupResources(await sources.source.list()).clusters[0];
  if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to run`);
  const clusterName = cluster.metadata.name;
  const { view: identities, stats: identityStats } = await openIdentities(sources, opts.state, cluster.spec.clusterId, node.recompute, life);
  const endpoints = new WorkloadEndpoints(clusterName, (w) => node.identityByIp.get(w.ip));
  const catalog = new ControlPlaneCatalog();
  // The mesh: peers' catalogues name the remote end of flows and resolve network policies' remote selectors.
  const followed = opts.mesh ? followMesh(opts.mesh, cluster, log) : undefined;
  const explain = explainer(node, sources, cluster, endpoints, catalog);
  const opened = await openRuntime(opts, sources, cluster, identities, followed, explain, life);
  const rt = opened.runtime;
  node.runtime = rt;
  if (opened.first) explain(opened.first);
  const dp = rt.datapath;
  if (!dp) throw new Error('the datapath did not load');
  const mesh = followed
    ? await startMesh({
      followed, file: opts.mesh as string, cluster, runtime: rt, dp, identities, addresses: () => node.identityByIp.entries(), setRepublish: (f) => (node.republish = f), log,
    }, life)
    : { keySync: undefined, level1: undefined };
  const flows = startCollection({
    node: opts.node,
    clusterName,
    relays: opts.relay ?? [],
    relayFailover: opts.relayFailover,
    credentials,
    flowMax: opts.flowMax,
    flowIdle: opts.flowIdle,
    flowActive: opts.flowActive,
    exportBuffer: opts.exportBuffer,
    devices: new Map(rt.uplinks.map((u) => [u.ifindex, uplinkSpecs(opts).find((s) => s.ifid === u.ifid)?.device ?? ''])),
    policyName: (id) => node.policyNames.get(id),
  }, { source: sources.source, dp, endpoints, catalog, remote: followed?.store, srv6Catalogue: srv6Catalogue(cluster, log), log }, life);
  if (opts.metrics !== '') await startAgentMetrics(opts.metrics, flows, { dp, remote: followed?.store, mesh, identities: identityStats, log }, life);
  const observer = opts.observerSocket !== '' ? await startObserverSocket(opts.observerSocket, flows, dp, log, life) : null;
  await rt.start();
  return { clusterName, exporting: flows.exporter !== null, observer };
}

/** The node runtime: the datapath loaded onto the uplinks and its maps programmed (the first time now). */
async function openRuntime(
  opts: AgentOptions,
  sources: Sources,
  cluster: ClusterAS,
  identities: IdentityView,
  followed: FollowedMesh | undefined,
  explain: (r: RecomputeResult) => void,
  life: Lifecycle,
): Promise<Awaited<ReturnType<typeof NodeRuntime.open>>> {
  const opened = await NodeRuntime.open({
    ...nodeRuntimeBase(opts, sources, cluster),
    identities: new IdentityLookup(identities),
    remoteIdentities: followed?.directory,
    spao: opts.spao,
    spaoWindowNs: BigInt(Math.round(opts.spaoWindow * 1e6)),
    srv6: { uplink: opts.srv6Uplink, node: opts.node, clusterWorkloads: opts.srv6Uplink !== undefined ? sources.clusterWorkloads : undefined },
    // Status is the operator's to write; every agent programs its own node.
    writeStatus: false,
    log,
    onRecompute: explain,
  });
  const rt = opened.runtime;
  life.defer('node runtime', () => rt.stop(true));
  return opened;
}

async function run(opts: AgentOptions): Promise<void> {
  if (opts.uplink.length === 0) throw new InvalidArgumentError('give at least one --uplink: the agent runs the datapath on them');
  const life = new Lifecycle();
  try {
    const { clusterName, exporting, observer } = await startAgent(opts, life);
    // Listening before the line that says so: a signal right after it must find a handler.
    const stopped = signalled();
    const relays = opts.relay ?? [];
    log(`agent ${opts.node} of ${clusterName}: collecting${exporting ? `, exporting to ${relays.join(', ')}${relays.length > 1 ? ' (failover order)' : ''}` : ''}${observer ? `, Observer on unix://${observer.socket}` : ''} (Ctrl-C stops and detaches)`);
    await stopped;
  } finally {
    // Last started, first stopped: the observer, then the collector's final flows go out,
    // then the datapath comes off the uplinks.
    await life.stop();
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
    .option('--mesh <file>', 'mesh file: peer clusters whose signed identity catalogues name remote flow ends, this cluster\'s catalogue to publish, and with a master secret the keys between clusters (docs/identity.md: identity catalogues, keys between clusters)')
    .addOption(new Option('--spao <on|off>', 'authenticate the identity between clusters with the SPAO (needs the kernel\'s BPF crypto kfuncs; off where the kernel refuses them, as metrics say)').choices(['on', 'off']).default('off'))
    .addOption(new Option('--spao-window <ms>', 'SPAO acceptance window: a packet\'s time may differ from this node\'s clock by half of it').default(2000).argParser(positive))
    .option('--srv6-uplink <device>', 'device towards this node\'s SRv6 provider edge (ClusterAS spec.srv6): runs the SRv6 endpoint there and sends SRv6-encapsulated traffic out of it')
    .action(processAction('agent', run));
  return cmd;
}
