// `cillion operator`: resources in, paths chosen, status out; with --node it also programs
// this node's edge datapath (load, attach to the uplinks, reconcile the maps).
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { EdgeDatapath } from '../../bpf/datapath';
import { DaemonPathService } from '../../operator/controlplane/daemon_client';
import { EmbeddedPathService, type PathService } from '../../operator/controlplane/pathservice';
import { memoryEdgeMaps, type EdgeMaps } from '../../operator/datapath/reconcile';
import { groupResources } from '../../operator/datapath/resources';
import type { NodeUplink } from '../../operator/datapath/desired';
import { IdentityAllocator } from '../../operator/identity/allocator';
import { LinkWatch } from '../../operator/node/linkwatch';
import { discoverUplinks, parseUplink, type UplinkSpec } from '../../operator/node/uplinks';
import { NodeProgrammer } from '../../operator/programmer';
import type { ClusterAS } from '../../operator/resources/clusteras';
import { DirectorySource } from '../../operator/sources/directory';
import type { ResourceSource } from '../../operator/sources/source';
import { readWorkloads } from '../../operator/workloads/directory';
import { deriveHopFieldKey } from '../../scion/mac/keys';

interface OperatorOptions {
  resources: string;
  workloads?: string;
  node?: string;
  uplink: string[];
  netns?: string;
  instance: string;
  state: string;
  daemon?: string;
  masterKey?: string;
  refresh: string;
  once?: boolean;
}

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

function controlPlane(cluster: ClusterAS, opts: OperatorOptions): { control: PathService; hopKey: Uint8Array | null } {
  const masterKey = opts.masterKey ? Buffer.from(readFileSync(opts.masterKey, 'utf8').trim(), 'base64') : null;
  const cp = cluster.spec.controlPlane;
  if (opts.daemon || cp.kind === 'daemon') {
    return { control: new DaemonPathService(opts.daemon ?? (cp.kind === 'daemon' ? cp.address : '')), hopKey: masterKey ? deriveHopFieldKey(masterKey) : null };
  }
  const file = isAbsolute(cp.topology) ? cp.topology : resolve(cp.topology);
  const control = EmbeddedPathService.fromFile(file);
  return { control, hopKey: masterKey ? deriveHopFieldKey(masterKey) : (control.topology.ases.get(cluster.spec.isdAS)?.hopKey ?? null) };
}

function edgeMaps(dp: EdgeDatapath): EdgeMaps {
  return {
    as_config: dp.config, interfaces: dp.interfaces, ifindex_to_ifid: dp.ifindexToIfid, endpoints: dp.endpoints,
    paths: dp.paths, egress_policy: dp.egressPolicy, ingress_enforced: dp.ingressEnforced, ingress_allow: dp.ingressAllow,
  };
}

async function run(opts: OperatorOptions): Promise<void> {
  const source: ResourceSource = new DirectorySource(opts.resources);
  try {
    await operate(source, opts);
  } finally {
    await source.close();
  }
}

async function operate(source: ResourceSource, opts: OperatorOptions): Promise<void> {
  const entries = await source.list();
  const cluster = groupResources(entries).clusters[0];
  if (!cluster) throw new Error(`no valid ClusterAS in ${opts.resources}: nothing to operate`);
  const { control, hopKey } = controlPlane(cluster, opts);
  const specs: UplinkSpec[] = opts.uplink.map(parseUplink);
  let uplinks: NodeUplink[] = [];
  let dp: EdgeDatapath | null = null;
  const netnsPath = opts.netns ? (opts.netns.includes('/') ? opts.netns : `/var/run/netns/${opts.netns}`) : undefined;
  const netnsName = opts.netns && !opts.netns.includes('/') ? opts.netns : undefined;
  if (opts.node) {
    if (!opts.workloads) throw new Error('--node needs --workloads (the embedded mode reads pods from a file)');
    uplinks = discoverUplinks(cluster, specs, netnsName);
    dp = EdgeDatapath.load({ instance: opts.instance });
    for (const u of uplinks) dp.attach(u.ifindex, netnsPath);
    log(`edge attached to ${specs.map((s) => s.device).join(', ')}${opts.netns ? ` in ${opts.netns}` : ''}`);
  }
  const programmer = new NodeProgrammer({
    source,
    workloads: () => (opts.workloads && opts.node ? readWorkloads(opts.workloads).filter((w) => w.node === opts.node) : []),
    control,
    maps: dp ? edgeMaps(dp) : memoryEdgeMaps(),
    uplinks,
    identities: IdentityAllocator.open(join(opts.state, 'identities.json')),
    hopKey,
    refreshMs: Number(opts.refresh) * 1000,
    log,
  });
  const shutdown = (): void => {
    programmer.stop();
    if (dp) for (const u of uplinks) dp.detach(u.ifindex, netnsPath);
    dp?.close();
    if (control instanceof DaemonPathService) control.close();
  };
  const first = await programmer.sync();
  for (const o of first?.desired.outcomes ?? []) {
    const ok = !o.problem && o.destinations.every((d) => d.selection.outcome === 'Selected');
    log(`policy ${o.policy.metadata.name}: ${o.problem ?? o.destinations.map((d) => `${d.selection.outcome} ${d.selection.selected.length} path(s)`).join(', ')}${ok ? '' : ' (see its status)'}`);
  }
  if (opts.once) {
    // A one-shot run leaves the datapath programmed and attached for whoever runs next.
    programmer.stop();
    dp?.close();
    if (control instanceof DaemonPathService) control.close();
    return;
  }
  programmer.start();
  const links = new LinkWatch({
    links: specs,
    netns: netnsName,
    onChange: (ifid, up) => {
      log(`uplink ${ifid} is ${up ? 'up again' : 'down: failing over'}`);
      // The embedded control plane learns both directions; a SCION daemon relearns an
      // interface that comes back from beaconing by itself.
      if (control instanceof EmbeddedPathService) control.setInterfaceState(cluster.spec.isdAS, ifid, up);
      void (up ? programmer.recompute() : programmer.interfaceDown(ifid));
    },
    onError: (e) => log(`uplink watch: ${e.message}`),
  });
  if (opts.node) await links.start();
  log('watching for changes (Ctrl-C stops and detaches)');
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      void links.stop().then(() => {
        shutdown();
        resolveStop();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function operatorCommand(): Command {
  return new Command('operator')
    .description('choose paths for the declared policies and geofences, write their status, and program this node (--node)')
    .requiredOption('--resources <dir>', 'directory of Cillion resources (the embedded mode)')
    .option('--workloads <file>', 'pods of the embedded mode (v1 Pod YAML)')
    .option('--node <name>', "program this node's edge datapath for its pods")
    .option('--uplink <ifid=device[:port]>', 'an uplink of this node (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--netns <name|path>', 'network namespace of the uplink devices (attach enters it)')
    .option('--instance <name>', 'pin directory under /sys/fs/bpf/cillion', 'edge')
    .option('--state <dir>', 'where identities persist', '.cillion')
    .option('--daemon <address>', 'SCION daemon address instead of the ClusterAS control plane')
    .option('--master-key <file>', "the local AS's master key (base64), to check its own hop fields at ingress")
    .addOption(new Option('--refresh <seconds>', 'recompute at least this often').default('30'))
    .option('--once', 'compute, program and write status once, then exit')
    .action(async (opts: OperatorOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`cillion operator: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
