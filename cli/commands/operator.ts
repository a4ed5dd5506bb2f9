// `cillion operator`: resources in, paths chosen, status out; with --node it also programs
// this node's edge datapath (load, attach to the uplinks, reconcile the maps). Resources come
// from a directory (the embedded mode) or the Kubernetes API, where replicas elect a leader
// on a Lease and only the leader writes status. The operator is the cluster's one identity
// allocator: it numbers every pod of the cluster into --state (holding a lock on the file in
// the embedded mode; on Kubernetes only the Lease holder allocates, and publishes the numbers
// as CillionIdentity objects for the agents); nodes read the numbers.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IdentityLookup, type WorkloadIdentities } from '../../operator/datapath/identities';
import { groupResources } from '../../operator/datapath/resources';
import { IdentityReader } from '../../identity/reader';
import { NodeRuntime } from '../../operator/node/runtime';
import { followMesh, type FollowedMesh } from '../../mesh/follow';
import { Lifecycle } from '../../lifecycle/lifecycle';
import type { ClusterAS } from '../../resources/clusteras';
import { IdentityAllocation } from '../operator/allocation';
import { invalidCondition } from '../../operator/programmer';
import { setCondition } from '../../resources/status';
import type { SourceEntry } from '../../resources/source';
import type { LeaderElector } from '../../kube/leader';
import { addNodeOptions, addSourceOptions, kubernetesMode, nodeRuntimeBase, openSources, processAction, signalled, type NodeOptions, type Sources, type SourceOptions } from '../node';

export interface OperatorOptions extends SourceOptions, NodeOptions {
  node?: string;
  once?: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  mesh?: string;
  srv6Uplink?: string;
}

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

/** Writes each invalid ClusterAS's Valid condition (when this process may write status) and says what is wrong. */
async function markInvalidClusters(sources: Sources, entries: readonly SourceEntry[], write: boolean): Promise<string> {
  const bad = entries.filter((e) => e.key.kind === 'ClusterAS' && !e.result.ok);
  for (const e of write ? bad : []) {
    const status = { observedGeneration: e.generation, conditions: setCondition([], invalidCondition(e), new Date()) };
    await sources.source.writeStatus(e.key, status).catch((err: Error) => log(`status of ClusterAS ${e.key.name}: ${err.message}`));
  }
  return bad.map((e) => `; ClusterAS ${e.key.name} is invalid: ${invalidCondition(e).message}`).join('');
}

/** The node's identities, read after `allocate` numbered the cluster's pods (when this process allocates). */
function allocatingFirst(lookup: IdentityLookup, allocate: () => void): WorkloadIdentities {
  return {
    view: lookup.view,
    sync: (workloads) => {
      allocate();
      return lookup.sync(workloads);
    },
  };
}

/**
 * The operator up to watching, in steps: resources, the cluster, leadership (on Kubernetes),
 * the identity allocation, the node's reader of it, the mesh, then the node runtime. Each
 * step's stop is recorded in `life`, which stops them last first. Returns the runtime, or
 * undefined for a one-shot run, which is done by then.
 */
export async function startOperator(opts: OperatorOptions, life: Lifecycle): Promise<NodeRuntime | undefined> {
  let runtime: NodeRuntime | null = null;
  const recompute = (): void => void runtime?.programmer.recompute();
  const sources = await life.start('resources', () => openSources(opts, opts.node, recompute, log, true), (s) => () => s.close());
  const entries = await sources.source.list();
  const cluster = groupResources(entries).clusters[0];
  if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to operate${await markInvalidClusters(sources, entries, !sources.kubernetes || opts.once === true)}`);
  const stateFile = join(opts.state, 'identities.json');
  const clusterId = cluster.spec.clusterId;
  const allocation = new IdentityAllocation({ stateFile, clusterId, workloads: sources.clusterWorkloads, recompute, log });
  lead(opts, sources, allocation, life);
  life.defer('identity allocation', () => allocation.stop());
  // Without a Lease (embedded mode, --once) this process allocates once it holds the file lock.
  if (!allocation.elector) await allocation.open();
  const nodeReader = readIdentities(opts, stateFile, clusterId, recompute, life);
  allocation.reader = nodeReader;
  const mesh = await followPeers(opts, cluster, recompute, life);
  const opened = await NodeRuntime.open({
    ...nodeRuntimeBase(opts, sources, cluster),
    identities: allocatingFirst(new IdentityLookup(nodeReader), allocation.allocate),
    remoteIdentities: mesh?.directory,
    writeStatus: allocation.elector ? () => (allocation.elector as LeaderElector).isLeader : true,
    log,
    srv6: { uplink: opts.srv6Uplink, node: opts.node, clusterWorkloads: sources.clusterWorkloads },
  });
  runtime = opened.runtime;
  for (const o of opened.first?.desired.outcomes ?? []) {
    const ok = !o.problem && o.destinations.every((d) => d.selection.outcome === 'Selected');
    log(`policy ${o.policy.metadata.name}: ${o.problem ?? o.destinations.map((d) => `${d.selection.outcome} ${d.selection.selected.length} path(s)`).join(', ')}${ok ? '' : ' (see its status)'}`);
  }
  for (const o of opened.first?.srv6?.desired.policies ?? []) {
    const lists = o.destinations.map((d) => d.problem ? `${d.cluster} (VRF ${d.tenant}): ${d.problem.reason}` : `${d.cluster} (VRF ${d.tenant}): ${d.lists.map((l) => l.segments.join(' > ')).join('; ')}`);
    log(`SRv6 policy ${o.policy.metadata.name}: ${o.problem ? o.problem.message : lists.join(', ')}`);
  }
  if (opts.once) {
    // A one-shot run leaves the datapath programmed and attached for whoever runs next.
    await runtime.stop(false);
    return undefined;
  }
  const rt = runtime;
  life.defer('node runtime', () => rt.stop(true));
  await rt.start();
  return rt;
}

/**
 * On Kubernetes (not --once): replicas elect a leader on a Lease; the leader writes status,
 * allocates and publishes the identities. Stopping lets what it queued go out first.
 */
function lead(opts: OperatorOptions, sources: Sources, allocation: IdentityAllocation, life: Lifecycle): void {
  const kubernetes = sources.kubernetes;
  if (!kubernetes || opts.once) return;
  const kube = kubernetes.source;
  const elector = new (kubernetesMode().LeaderElector)({
    kubeConfig: kubernetes.kubeConfig,
    namespace: opts.leaseNamespace,
    name: opts.leaseName,
    identity: opts.identity,
    onStartedLeading: () => {
      log(`leading (lease ${opts.leaseNamespace}/${opts.leaseName}): writing status and allocating identities`);
      kube.setWritingStatus(true);
      if (!allocation.published) {
        const writer = new (kubernetesMode().IdentityObjectWriter)({ kubeConfig: kubernetes.kubeConfig, clusterId: allocation.clusterId, log });
        writer.start();
        allocation.published = writer;
      }
      allocation.openSoon();
    },
    onStoppedLeading: () => {
      // Writes still queued would land after another replica may have taken over.
      kube.setWritingStatus(false);
      allocation.close();
      void allocation.stopPublishing();
      log('no longer leading: status and identities are left to the leader');
    },
    onNewLeader: (who) => log(who === '' ? 'the lease is free' : `${who} leads`),
    log,
  });
  allocation.elector = elector;
  elector.start();
  life.defer('leader election', () => elector.stop());
  life.defer('identity objects', () => allocation.stopPublishing());
  life.defer('queued writes', async () => {
    // What the leader queued goes out while it still holds the Lease, but a server that
    // does not answer must not keep the process from releasing it and exiting.
    if (elector.isLeader) await Promise.race([Promise.all([kube.idle(), allocation.published?.idle()]), new Promise((r) => setTimeout(r, 5000).unref())]);
  });
}

/** This node reads the allocation as every agent does, whichever process wrote it. */
function readIdentities(opts: OperatorOptions, stateFile: string, clusterId: number, recompute: () => void, life: Lifecycle): IdentityReader {
  const nodeReader = new IdentityReader(stateFile, clusterId);
  const refreshed = nodeReader.refresh();
  if (refreshed.error) log(`identities: ${refreshed.error.message}`);
  if (opts.node !== undefined) life.defer('identity file watch', nodeReader.watch(recompute, (e) => log(`identities: ${e.message}`)));
  return nodeReader;
}

/** The peers' catalogues, so network policies naming remote workloads resolve (and say in their status when they cannot). */
async function followPeers(opts: OperatorOptions, cluster: ClusterAS, recompute: () => void, life: Lifecycle): Promise<FollowedMesh | undefined> {
  const mesh = opts.mesh ? followMesh(opts.mesh, cluster, log) : undefined;
  if (!mesh) return undefined;
  // A one-shot run resolves against the catalogues fetched once; a long run follows them.
  if (opts.once) await mesh.refresh();
  else {
    mesh.start(recompute);
    life.defer('mesh catalogues', () => void mesh.stop());
  }
  return mesh;
}

async function run(opts: OperatorOptions): Promise<void> {
  if (opts.uplink.length > 0 && opts.node === undefined) throw new InvalidArgumentError('--uplink needs --node');
  const life = new Lifecycle();
  try {
    if (!(await startOperator(opts, life))) return;
    // Listening before the line that says so: a signal right after it must find a handler.
    const stopped = signalled();
    log('watching for changes (Ctrl-C stops and detaches)');
    await stopped;
  } finally {
    await life.stop();
  }
}

export function operatorCommand(): Command {
  const cmd = new Command('operator').description(
    'choose paths for the declared policies and geofences, write their status, and program this node (--node)',
  );
  addSourceOptions(cmd, "with --resources: every pod of the cluster in the embedded mode (v1 Pod YAML); the operator numbers them all, and programs those of --node");
  cmd.option('--node <name>', "program this node's edge datapath for its pods");
  addNodeOptions(cmd)
    .option('--once', 'compute, program and write status once, then exit (no leader election)')
    .option('--lease-namespace <ns>', 'with --kubernetes: namespace of the leader-election Lease', 'cillion-system')
    .option('--lease-name <name>', 'with --kubernetes: name of the Lease', 'cillion-operator')
    .addOption(new Option('--identity <id>', 'with --kubernetes: this replica in the Lease').default(`${hostname()}-${process.pid}`, 'host name and pid'))
    .option('--mesh <file>', "mesh file: fetch the peer clusters' signed identity catalogues so CillionNetworkPolicies select remote workloads (its publish section is the agent's and is ignored here)")
    .option('--srv6-uplink <device>', "with --node: device towards the node's SRv6 provider edge (ClusterAS spec.srv6), as for `cillion agent`")
    .action(processAction('operator', run));
  return cmd;
}
