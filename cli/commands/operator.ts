// `cillion operator`: resources in, paths chosen, status out; with --node it also programs
// this node's edge datapath (load, attach to the uplinks, reconcile the maps). Resources come
// from a directory (the embedded mode) or the Kubernetes API, where replicas elect a leader
// on a Lease and only the leader writes status. The operator is the cluster's one identity
// allocator: it numbers every pod of the cluster into --state (holding a lock on the file in
// the embedded mode; on Kubernetes only the Lease holder allocates); nodes read the numbers.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { IdentityLookup } from '../../operator/datapath/identities';
import { groupResources } from '../../operator/datapath/resources';
import { ClusterIdentities } from '../../operator/identity/cluster_allocator';
import { IdentityReader } from '../../operator/identity/reader';
import { NodeRuntime } from '../../operator/node/runtime';
import { LeaderElector } from '../../operator/sources/k8s/leader';
import { KubernetesSource } from '../../operator/sources/kubernetes';
import { addNodeOptions, addSourceOptions, openSources, processAction, signalled, uplinkSpecs, type NodeOptions, type SourceOptions } from '../node';

interface OperatorOptions extends SourceOptions, NodeOptions {
  node?: string;
  once?: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
}

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};


async function run(opts: OperatorOptions): Promise<void> {
  if (opts.uplink.length > 0 && opts.node === undefined) throw new InvalidArgumentError('--uplink needs --node');
  let runtime: NodeRuntime | null = null;
  let allocation: ClusterIdentities | null = null;
  const allocate = (): void => {
    if (allocation?.sync().changed) reader?.refresh();
    void runtime?.programmer.recompute();
  };
  let reader: IdentityReader | null = null;
  const sources = await openSources(opts, opts.node, allocate, log, true);
  let elector: LeaderElector | null = null;
  const kube = sources.source instanceof KubernetesSource ? sources.source : null;
  const abort = new AbortController();
  const stops: Array<() => void> = [];
  try {
    const cluster = groupResources(await sources.source.list()).clusters[0];
    if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to operate (an invalid one has its problems in its status)`);
    const stateFile = join(opts.state, 'identities.json');
    const clusterId = cluster.spec.clusterId;
    const openAllocation = async (): Promise<void> => {
      const a = await ClusterIdentities.open({ stateFile, clusterId, workloads: sources.clusterWorkloads, signal: abort.signal, log });
      allocation = a;
      const r = a.sync();
      log(`identities: allocating for cluster id ${clusterId} into ${stateFile} (${a.view.all().length} numbered${r.exhausted ? `, ${r.exhausted} pod(s) without a free number` : ''})`);
      reader?.refresh();
    };
    const closeAllocation = (): void => {
      allocation?.close();
      allocation = null;
    };
    stops.push(closeAllocation);
    if (sources.kubeConfig && !opts.once) {
      elector = new LeaderElector({
        kubeConfig: sources.kubeConfig,
        namespace: opts.leaseNamespace,
        name: opts.leaseName,
        identity: opts.identity,
        onStartedLeading: () => {
          log(`leading (lease ${opts.leaseNamespace}/${opts.leaseName}): writing status and allocating identities`);
          kube?.setWritingStatus(true);
          void openAllocation().then(allocate, (e: Error) => log(`identities: ${e.message}`));
        },
        onStoppedLeading: () => {
          // Writes still queued would land after another replica may have taken over.
          kube?.setWritingStatus(false);
          closeAllocation();
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
    if (opts.node !== undefined) stops.push(nodeReader.watch(() => void runtime?.programmer.recompute(), (e) => log(`identities: ${e.message}`)));
    const opened = await NodeRuntime.open({
      source: sources.source,
      cluster,
      workloads: sources.workloads,
      uplinks: uplinkSpecs(opts),
      netns: opts.netns,
      instance: opts.instance,
      identities: new IdentityLookup(nodeReader),
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
    // The refresh also numbers pods of the embedded mode's workloads file and collects expired numbers.
    const sweep = setInterval(allocate, opts.refresh * 1000);
    stops.push(() => clearInterval(sweep));
    log('watching for changes (Ctrl-C stops and detaches)');
    await signalled();
    await runtime.stop(true);
  } finally {
    abort.abort();
    for (const stop of stops) stop();
    // What the leader queued goes out while it still holds the Lease, but a server that
    // does not answer must not keep the process from releasing it and exiting.
    if (kube && elector?.isLeader) await Promise.race([kube.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
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
    .option('--identity <id>', 'with --kubernetes: this replica in the Lease (default: host name and pid)', `${hostname()}-${process.pid}`)
    .action(processAction('operator', run));
  return cmd;
}
