// What `cillion operator` and `cillion agent` share: where resources and workloads come
// from (a directory of YAML, the embedded mode, or the Kubernetes API) and the options of
// the node runtime (uplinks, pin directory, control plane).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { UplinkSpec } from '../operator/node/uplinks';
import { parseUplink } from '../operator/node/uplinks';
import type { NodeRuntimeOptions } from '../operator/node/runtime';
import type { ClusterAS } from '../resources/clusteras';
import { DirectorySource } from '../operator/sources/directory';
import type { ClientNode } from '../kube/client';
import type { KubernetesSource } from '../operator/sources/kubernetes';
import type { ResourceSource } from '../resources/source';
import { readWorkloads } from '../operator/workloads/directory';
import type { Workload } from '../identity/workload';

export interface SourceOptions {
  resources?: string;
  kubernetes?: boolean;
  kubeconfig?: string;
  workloads?: string;
}

export interface NodeOptions {
  uplink: string[];
  netns?: string;
  instance: string;
  state: string;
  daemon?: string;
  masterKey?: string;
  refresh: number;
}

export interface Sources {
  readonly source: ResourceSource;
  /** Set in the Kubernetes mode, for leader election and status writing. */
  readonly kubernetes?: { readonly kubeConfig: ClientNode.KubeConfig; readonly source: KubernetesSource };
  /** The workloads on the node now (none when no node was given). */
  readonly workloads: () => Workload[];
  /** Every workload of the cluster, when opened with `clusterPods` (the operator's allocator numbers them). */
  readonly clusterWorkloads: () => Workload[];
  /** Where the resources come from, for messages. */
  readonly origin: string;
  /** Waits for queued status writes, then stops watching. */
  close(): Promise<void>;
}

export function positive(text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function addSourceOptions(cmd: Command, workloadsHelp: string): Command {
  return cmd
    .option('--resources <dir>', 'directory of Cillion resources (the embedded mode)')
    .option('--kubernetes', 'take resources and pods from the Kubernetes API')
    .option('--kubeconfig <file>', 'with --kubernetes: kubeconfig file (default: in-cluster, then KUBECONFIG or ~/.kube/config)')
    .option('--workloads <file>', workloadsHelp);
}

export function addNodeOptions(cmd: Command): Command {
  return cmd
    .option('--uplink <ifid=device[:port]>', 'an uplink of this node (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--netns <name|path>', 'network namespace of the uplink devices (attach enters it)')
    .option('--instance <name>', 'pin directory under /sys/fs/bpf/cillion', 'edge')
    .option('--state <dir>', "the cluster's identity allocation (identities.json): the operator writes it, agents only read it", '.cillion')
    .option('--daemon <address>', 'SCION daemon address instead of the ClusterAS control plane')
    .option('--master-key <file>', "the local AS's master key (base64), to check its own hop fields at ingress")
    .addOption(new Option('--refresh <seconds>', 'recompute paths at least this often').default(30).argParser(positive));
}

export function uplinkSpecs(opts: NodeOptions): UplinkSpec[] {
  return opts.uplink.map(parseUplink);
}

/** What the agent and the operator run their node runtime with alike: the node's flags and resources. */
export function nodeRuntimeBase(opts: NodeOptions, sources: Sources, cluster: ClusterAS): Pick<NodeRuntimeOptions, 'source' | 'cluster' | 'workloads' | 'uplinks' | 'netns' | 'instance' | 'daemon' | 'masterKeyFile' | 'refreshMs'> {
  return {
    source: sources.source,
    cluster,
    workloads: sources.workloads,
    uplinks: uplinkSpecs(opts),
    netns: opts.netns,
    instance: opts.instance,
    daemon: opts.daemon,
    masterKeyFile: opts.masterKey,
    refreshMs: opts.refresh * 1000,
  };
}

/**
 * Opens the resource source and, when a node is given, its workloads (with `clusterPods`, also
 * every pod of the cluster). In the embedded mode the workloads file is read on every call;
 * from Kubernetes, informers keep them and call `onWorkloads` on every change.
 */
export async function openSources(
  opts: SourceOptions,
  node: string | undefined,
  onWorkloads: () => void,
  log: (line: string) => void,
  clusterPods = false,
): Promise<Sources> {
  if (opts.kubernetes === undefined && opts.resources === undefined) throw new InvalidArgumentError('give --resources DIR (the embedded mode) or --kubernetes');
  if (opts.kubernetes && opts.resources !== undefined) throw new InvalidArgumentError('give either --resources or --kubernetes, not both');
  if (!opts.kubernetes) {
    if (opts.kubeconfig !== undefined) throw new InvalidArgumentError('--kubeconfig goes with --kubernetes');
    const dir = opts.resources as string;
    const file = opts.workloads;
    if (node !== undefined && file === undefined) throw new InvalidArgumentError('the embedded mode reads the pods of a node from --workloads FILE');
    const source = new DirectorySource(dir);
    return {
      source,
      workloads: () => (node !== undefined && file !== undefined ? readWorkloads(file).filter((w) => w.node === node) : []),
      clusterWorkloads: () => (clusterPods && file !== undefined ? readWorkloads(file) : []),
      origin: dir,
      close: () => source.close(),
    };
  }
  if (opts.workloads !== undefined) throw new InvalidArgumentError('--workloads goes with --resources; with --kubernetes pods come from the API');
  return kubernetesMode().openKubernetesSources(opts.kubeconfig, node, onWorkloads, log, clusterPods);
}

/** The Kubernetes mode's code, loaded on first use (see cli/kubernetes.ts). */
export function kubernetesMode(): typeof import('./kubernetes') {
  return require('./kubernetes') as typeof import('./kubernetes');
}

/** Resolves on the first SIGINT or SIGTERM: how the node processes are stopped. */
export function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** A process command's action: its failure on stderr, exit 2 for a usage error and 1 otherwise. */
export function processAction<O>(name: string, run: (opts: O) => Promise<void>): (opts: O) => Promise<void> {
  return async (opts) => {
    try {
      await run(opts);
    } catch (e) {
      process.stderr.write(`cillion ${name}: ${(e as Error).message}\n`);
      process.exitCode = e instanceof InvalidArgumentError ? 2 : 1;
    }
  };
}
