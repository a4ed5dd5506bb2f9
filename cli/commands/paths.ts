// `cillion paths DST-IA`: the paths to a destination, like `scion showpaths`, with their
// countries, each geofence's verdict, and which are installed for a workload.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ControlPlanePath } from '../../controlplane/combinator';
import { DaemonPathService } from '../../controlplane/daemon_client';
import { EmbeddedPathService, type PathService } from '../../controlplane/pathservice';
import { groupResources, type ResourceSet } from '../../operator/datapath/resources';
import { matchesWorkload } from '../../resources/selector';
import { selectPaths } from '../../operator/selection/select';
import { DirectorySource } from '../../operator/sources/directory';
import { readWorkloads } from '../../operator/workloads/directory';
import type { Workload } from '../../identity/workload';
import { parseIA, type IA } from '../../scion/isdas';
import { parsePolicy, PathPolicyError } from '../../scion/pathpol';
import { colorsFor, toJsonLine } from '../output';
import { renderText, reportPath } from '../paths/report';
import { UsageError } from '../usage_error';

interface PathsOptions {
  resources?: string;
  topology?: string;
  daemon?: string;
  src?: string;
  sequence?: string;
  policy?: string;
  fromPod?: string;
  fromLabel: string[];
  namespace: string;
  workloads?: string;
  output: 'text' | 'json';
}

async function loadResources(dir: string | undefined): Promise<ResourceSet> {
  if (!dir) return groupResources([]);
  if (!existsSync(dir)) throw new UsageError(`--resources ${dir} does not exist`);
  // Read-only: status files go to a scratch folder, not next to the user's YAML.
  const scratch = mkdtempSync(join(tmpdir(), 'cillion-paths-'));
  const source = new DirectorySource(dir, { statusDir: scratch, rescanMs: 0 });
  try {
    return groupResources(await source.list());
  } finally {
    await source.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function controlPlane(opts: PathsOptions, set: ResourceSet): PathService {
  if (opts.daemon) return new DaemonPathService(opts.daemon);
  const cp = set.clusters[0]?.spec.controlPlane;
  const topology = opts.topology ?? (cp?.kind === 'embedded' ? cp.topology : undefined);
  if (!topology) throw new UsageError('no control plane: give --topology FILE, --daemon ADDRESS, or --resources with a ClusterAS');
  const file = isAbsolute(topology) || existsSync(topology) || !opts.resources ? topology : resolve(opts.resources, topology);
  return EmbeddedPathService.fromFile(file);
}

/** The workload --from-pod or --from-label names, if any. */
function chosenWorkload(opts: PathsOptions): Workload | null {
  if (opts.fromPod) {
    if (!opts.workloads) throw new UsageError('--from-pod needs --workloads FILE (the embedded mode) to find the pod');
    const [ns, name] = opts.fromPod.includes('/') ? opts.fromPod.split('/', 2) : [opts.namespace, opts.fromPod];
    const w = readWorkloads(opts.workloads).find((x) => x.namespace === ns && x.name === name);
    if (!w) throw new UsageError(`no pod ${ns}/${name} in ${opts.workloads}`);
    return w;
  }
  if (opts.fromLabel.length === 0) return null;
  const labels: Record<string, string> = {};
  for (const l of opts.fromLabel) {
    const i = l.indexOf('=');
    if (i <= 0) throw new UsageError(`--from-label wants KEY=VALUE, got "${l}"`);
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  return { name: '', namespace: opts.namespace, labels, namespaceLabels: { 'kubernetes.io/metadata.name': opts.namespace }, ip: '', node: '' };
}

async function run(dst: string, opts: PathsOptions): Promise<number> {
  let dstIA: IA;
  try {
    dstIA = parseIA(dst);
  } catch {
    throw new UsageError(`"${dst}" is not an ISD-AS`);
  }
  const set = await loadResources(opts.resources);
  const src = opts.src ? parseIA(opts.src) : set.clusters[0]?.spec.isdAS;
  if (src === undefined) throw new UsageError('no source AS: give --src IA or --resources with a ClusterAS');
  const control = controlPlane(opts, set);
  try {
    let paths: ControlPlanePath[] = (await control.paths(src, dstIA)).filter((p) => p.interfaces.length > 0);
    const named = new Map(set.policies.map((p) => [p.metadata.name, p.spec.pathPolicy as unknown]));
    try {
      if (opts.sequence) paths = parsePolicy({ sequence: opts.sequence }).filter(paths);
      if (opts.policy) {
        const p = set.policies.find((x) => x.metadata.name === opts.policy);
        if (!p) throw new UsageError(`no WANPathPolicy ${opts.policy} in ${opts.resources ?? '(no --resources)'}`);
        paths = parsePolicy(p.spec.pathPolicy, named).filter(paths);
      }
    } catch (e) {
      if (e instanceof PathPolicyError) throw new UsageError(e.message);
      throw e;
    }
    const workload = chosenWorkload(opts);
    const labels = workload ? { namespaceLabels: workload.namespaceLabels, podLabels: workload.labels } : null;
    const fences = labels ? set.fences.filter((f) => matchesWorkload(f.spec.workloadSelector, labels)) : set.fences;
    const installed = new Set<string>();
    if (workload && labels) {
      for (const policy of set.policies.filter((p) => matchesWorkload(p.spec.workloadSelector, labels))) {
        const all = (await control.paths(src, dstIA)).filter((p) => p.interfaces.length > 0);
        for (const p of selectPaths(policy, parsePolicy(policy.spec.pathPolicy, named), all, fences).selected) installed.add(p.fingerprint);
      }
    }
    const who = !workload
      ? ''
      : workload.name
        ? `${workload.namespace}/${workload.name}`
        : `${workload.namespace}/{${Object.entries(workload.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`;
    const reports = paths.map((p, i) => reportPath(i, p, fences, installed.has(p.fingerprint) ? [who] : []));
    if (opts.output === 'json') {
      for (const r of reports) process.stdout.write(`${toJsonLine(r)}\n`);
    } else {
      const c = colorsFor(process.stdout);
      process.stdout.write(`Available paths to ${dst} from ${reports[0]?.hops[0]?.isdAS ?? String(src)}: ${reports.length}\n`);
      for (const r of reports) process.stdout.write(`${renderText(r, c, Date.now())}\n`);
    }
    return reports.length > 0 ? 0 : 1;
  } finally {
    if (control instanceof DaemonPathService) control.close();
  }
}

export function pathsCommand(): Command {
  return new Command('paths')
    .description('list the paths to a destination ISD-AS with hops, countries, metadata and geofence verdicts')
    .argument('<dst-ia>', 'destination ISD-AS, e.g. 65-2:0:20')
    .option('--resources <dir>', 'directory of Cillion resources (ClusterAS, policies, geofences)')
    .option('--topology <file>', 'embedded control plane topology (default: the ClusterAS control plane)')
    .option('--daemon <address>', 'a SCION daemon (host:port) instead of the embedded control plane')
    .option('--src <ia>', 'source ISD-AS (default: the ClusterAS)')
    .option('--sequence <seq>', 'only paths matching this hop-predicate sequence')
    .option('--policy <name>', "only paths a WANPathPolicy's path policy accepts")
    .option('--from-pod <ns/name>', 'mark the paths installed for this pod (needs --workloads)')
    .option('--from-label <key=value>', 'mark the paths installed for workloads with these labels (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('-n, --namespace <ns>', 'namespace of --from-label and a bare --from-pod name', 'default')
    .option('--workloads <file>', 'pods of the embedded mode (v1 Pod YAML)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (dst: string, opts: PathsOptions) => {
      try {
        process.exitCode = await run(dst, opts);
      } catch (e) {
        if (e instanceof UsageError) {
          process.stderr.write(`cillion paths: ${e.message}\n`);
          process.exitCode = 2;
          return;
        }
        process.stderr.write(`cillion paths: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
