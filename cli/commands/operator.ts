// `cillion operator`: resources in, paths chosen, status out; with --node it also programs
// this node's edge datapath (load, attach to the uplinks, reconcile the maps). Resources come
// from a directory (the embedded mode) or the Kubernetes API, where replicas elect a leader
// on a Lease and only the leader writes status.
import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { groupResources } from '../../operator/datapath/resources';
import { NodeRuntime } from '../../operator/node/runtime';
import type { LeaderElector } from '../../operator/sources/k8s/leader';
import { addNodeOptions, addSourceOptions, kubernetesMode, openSources, processAction, signalled, uplinkSpecs, type NodeOptions, type SourceOptions } from '../node';

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
  const sources = await openSources(opts, opts.node, () => void runtime?.programmer.recompute(), log);
  let elector: LeaderElector | null = null;
  const kube = sources.kubernetes?.source ?? null;
  try {
    const cluster = groupResources(await sources.source.list()).clusters[0];
    if (!cluster) throw new Error(`no valid ClusterAS in ${sources.origin}: nothing to operate`);
    if (sources.kubernetes && !opts.once) {
      elector = new (kubernetesMode().LeaderElector)({
        kubeConfig: sources.kubernetes.kubeConfig,
        namespace: opts.leaseNamespace,
        name: opts.leaseName,
        identity: opts.identity,
        onStartedLeading: () => {
          log(`leading (lease ${opts.leaseNamespace}/${opts.leaseName}): writing status`);
          kube?.setWritingStatus(true);
          void runtime?.programmer.recompute();
        },
        onStoppedLeading: () => {
          // Writes still queued would land after another replica may have taken over.
          kube?.setWritingStatus(false);
          log('no longer leading: status is left to the leader');
        },
        onNewLeader: (who) => log(who === '' ? 'the lease is free' : `${who} leads`),
        log,
      });
      elector.start();
    }
    const lead = elector;
    const opened = await NodeRuntime.open({
      source: sources.source,
      cluster,
      workloads: sources.workloads,
      uplinks: uplinkSpecs(opts),
      netns: opts.netns,
      instance: opts.instance,
      stateDir: opts.state,
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
    log('watching for changes (Ctrl-C stops and detaches)');
    await signalled();
    await runtime.stop(true);
  } finally {
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
  addSourceOptions(cmd, 'with --resources: pods of the embedded mode (v1 Pod YAML)');
  cmd.option('--node <name>', "program this node's edge datapath for its pods");
  addNodeOptions(cmd)
    .option('--once', 'compute, program and write status once, then exit (no leader election)')
    .option('--lease-namespace <ns>', 'with --kubernetes: namespace of the leader-election Lease', 'cillion-system')
    .option('--lease-name <name>', 'with --kubernetes: name of the Lease', 'cillion-operator')
    .option('--identity <id>', 'with --kubernetes: this replica in the Lease (default: host name and pid)', `${hostname()}-${process.pid}`)
    .action(processAction('operator', run));
  return cmd;
}
