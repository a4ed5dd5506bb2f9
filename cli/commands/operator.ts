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
import { IdentityError } from '../../operator/identity/allocator';
import { ClusterIdentities } from '../../operator/identity/cluster_allocator';
import { IdentityReader } from '../../operator/identity/reader';
import { NodeRuntime } from '../../operator/node/runtime';
import { followMesh } from '../../mesh/follow';
import { invalidCondition } from '../../operator/programmer';
import { setCondition } from '../../operator/resources/status';
import type { SourceEntry } from '../../operator/sources/source';
import type { IdentityObjectWriter } from '../../operator/sources/k8s/identity_writer';
import type { LeaderElector } from '../../operator/sources/k8s/leader';
import { addNodeOptions, addSourceOptions, kubernetesMode, openSources, processAction, signalled, uplinkSpecs, type NodeOptions, type Sources, type SourceOptions } from '../node';

interface OperatorOptions extends SourceOptions, NodeOptions {
  node?: string;
  once?: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  mesh?: string;
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

async function run(opts: OperatorOptions): Promise<void> {
  if (opts.uplink.length > 0 && opts.node === undefined) throw new InvalidArgumentError('--uplink needs --node');
  let runtime: NodeRuntime | null = null;
  let allocation: ClusterIdentities | null = null;
  let reader: IdentityReader | null = null;
  // On Kubernetes, while leading: the allocation as CillionIdentity objects, for the agents.
  let published: IdentityObjectWriter | null = null;
  const stopPublishing = async (): Promise<void> => {
    const w = published;
    published = null;
    await w?.stop();
  };
  // Set once the cluster is known: takes the allocation (back) when this process may allocate.
  let reopen: (() => void) | null = null;
  // Run by every recompute before the node's identities are read: one timer (the programmer's)
  // numbers new pods, collects expired numbers and programs the node, in that order.
  const allocate = (): void => {
    try {
      if (allocation?.sync().changed) reader?.refresh();
      if (allocation) published?.publish(allocation.view.all());
    } catch (e) {
      log(`identities: ${(e as Error).message}`);
      if (e instanceof IdentityError && e.code === 'LOCK_LOST') {
        allocation?.close();
        allocation = null;
        reopen?.();
      }
    }
  };
  const recompute = (): void => void runtime?.programmer.recompute();
  const sources = await openSources(opts, opts.node, recompute, log, true);
  let elector: LeaderElector | null = null;
  const kube = sources.kubernetes?.source ?? null;
  const abort = new AbortController();
  const stops: Array<() => void> = [];
  try {
    const entries = await sources.source.list();
    const cluster = groupResources(entries).clusters[0];
    if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to operate${await markInvalidClusters(sources, entries, !sources.kubernetes || opts.once === true)}`);
    const stateFile = join(opts.state, 'identities.json');
    const clusterId = cluster.spec.clusterId;
    let opening: Promise<void> | null = null;
    const openAllocation = (): Promise<void> => {
      if (allocation) return Promise.resolve();
      const writer = published;
      opening ??= (writer ? writer.synced : Promise.resolve())
        .then(() => ClusterIdentities.open({ stateFile, clusterId, workloads: sources.clusterWorkloads, signal: abort.signal, published: writer ? () => writer.published() : undefined, log }))
        .then((a) => {
          // The Lease may have gone while this waited for the file lock.
          if (elector && !elector.isLeader) return a.close();
          allocation = a;
          const r = a.sync();
          published?.publish(a.view.all());
          log(`identities: allocating for cluster id ${clusterId} into ${stateFile} (${a.view.all().length} numbered${r.exhausted ? `, ${r.exhausted} pod(s) without a free number` : ''})`);
          reader?.refresh();
        })
        .finally(() => {
          opening = null;
        });
      return opening;
    };
    const closeAllocation = (): void => {
      allocation?.close();
      allocation = null;
    };
    stops.push(closeAllocation);
    reopen = () => {
      if (!elector || elector.isLeader) void openAllocation().then(recompute, (e: Error) => log(`identities: ${e.message}`));
    };
    if (sources.kubernetes && !opts.once) {
      elector = new (kubernetesMode().LeaderElector)({
        kubeConfig: sources.kubernetes.kubeConfig,
        namespace: opts.leaseNamespace,
        name: opts.leaseName,
        identity: opts.identity,
        onStartedLeading: () => {
          log(`leading (lease ${opts.leaseNamespace}/${opts.leaseName}): writing status and allocating identities`);
          kube?.setWritingStatus(true);
          if (!published) {
            const writer = new (kubernetesMode().IdentityObjectWriter)({ kubeConfig: sources.kubernetes!.kubeConfig, clusterId, log });
            writer.start();
            published = writer;
          }
          void openAllocation().then(recompute, (e: Error) => log(`identities: ${e.message}`));
        },
        onStoppedLeading: () => {
          // Writes still queued would land after another replica may have taken over.
          kube?.setWritingStatus(false);
          closeAllocation();
          void stopPublishing();
          log('no longer leading: status and identities are left to the leader');
        },
        onNewLeader: (who) => log(who === '' ? 'the lease is free' : `${who} leads`),
        log,
      });
      elector.start();
    }
    const lead = elector;
    // Without a Lease (embedded mode, --once) this process allocates once it holds the file lock.
    if (!lead) await openAllocation();
    // This node reads the allocation as every agent does, whichever process wrote it.
    const nodeReader = new IdentityReader(stateFile, clusterId);
    reader = nodeReader;
    const refreshed = nodeReader.refresh();
    if (refreshed.error) log(`identities: ${refreshed.error.message}`);
    if (opts.node !== undefined) stops.push(nodeReader.watch(recompute, (e) => log(`identities: ${e.message}`)));
    // The peers' catalogues, so network policies naming remote workloads resolve (and say in their status when they cannot).
    const mesh = opts.mesh ? followMesh(opts.mesh, cluster, log) : undefined;
    if (mesh) {
      // A one-shot run resolves against the catalogues fetched once; a long run follows them.
      if (opts.once) await mesh.refresh();
      else {
        mesh.start(recompute);
        stops.push(() => void mesh.stop());
      }
    }
    const opened = await NodeRuntime.open({
      source: sources.source,
      cluster,
      workloads: sources.workloads,
      uplinks: uplinkSpecs(opts),
      netns: opts.netns,
      instance: opts.instance,
      identities: allocatingFirst(new IdentityLookup(nodeReader), allocate),
      remoteIdentities: mesh?.directory,
      daemon: opts.daemon,
      masterKeyFile: opts.masterKey,
      refreshMs: opts.refresh * 1000,
      writeStatus: lead ? () => lead.isLeader : true,
      log,
    });
    runtime = opened.runtime;
    for (const o of opened.first?.desired.outcomes ?? []) {
      const ok = !o.problem && o.destinations.every((d) => d.selection.outcome === 'Selected');
      log(`policy ${o.policy.metadata.name}: ${o.problem ?? o.destinations.map((d) => `${d.selection.outcome} ${d.selection.selected.length} path(s)`).join(', ')}${ok ? '' : ' (see its status)'}`);
    }
    if (opts.once) {
      // A one-shot run leaves the datapath programmed and attached for whoever runs next.
      await runtime.stop(false);
      return;
    }
    await runtime.start();
    // Listening before the line that says so: a signal right after it must find a handler.
    const stopped = signalled();
    log('watching for changes (Ctrl-C stops and detaches)');
    await stopped;
    await runtime.stop(true);
  } finally {
    abort.abort();
    for (const stop of stops) stop();
    // What the leader queued goes out while it still holds the Lease, but a server that
    // does not answer must not keep the process from releasing it and exiting.
    if (kube && elector?.isLeader) await Promise.race([Promise.all([kube.idle(), (published as IdentityObjectWriter | null)?.idle()]), new Promise((r) => setTimeout(r, 5000).unref())]);
    await stopPublishing();
    await elector?.stop();
    await sources.close();
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
    .action(processAction('operator', run));
  return cmd;
}
