// `cillion demo`: the two-cluster demo on this machine. Cleans up an earlier run, plans and
// builds the namespaces, starts one relay per cluster (federated with each other), one
// router per transit AS, one agent per node, one operator per cluster and a traffic peer
// per pod, then shows the live flows until Ctrl-C (or for a set number of seconds) and
// removes everything but the logs.
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadTopology } from '../../controlplane/topology';
import { groupResources, type ResourceSet } from '../../operator/datapath/resources';
import type { ClusterAS } from '../../resources/clusteras';
import { matchesWorkload } from '../../resources/selector';
import { DirectorySource } from '../../operator/sources/directory';
import { readWorkloads } from '../../operator/workloads/directory';
import type { Workload } from '../../identity/workload';
import { formatIA, isdOf, type IA } from '../../scion/isdas';
import { clientTlsArgs, mintDemoCerts, P12_PASSWORD, RELAY_SERVER_NAME, spkiHash, type DemoCerts, type RelayCerts } from './certs';
import { pinRoot, teardown, writeState, type DemoState } from './cleanup';
import { clusterASYaml, geofencesYaml, nodeWorkloadsYaml, topologyWithUnderlays } from './files';
import { writeDemoMesh } from './mesh';
import { buildNetwork } from './network';
import { planDemo, PORT_BASE, type DemoPlan } from './plan';
import { DemoProcess, type ProcessContext } from './processes';
import { planRelays, relayOf, uiUrl, type DemoRelay } from './relays';
import { planTraffic } from './traffic';
import { planSrv6, SRV6_UPLINK_DEV, type Srv6Plan } from './srv6_plan';
import { loadSidCatalogue, type SidCatalogue } from '../../srv6/catalogue';
import { Lifecycle } from '../../lifecycle/lifecycle';

export const DEFAULT_RUN_DIR = '/var/run/cillion-demo';

/** The repository's examples/, found upward from here (the sources, or their build in dist/). */
export function examplesDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples', 'topology.yaml'))) return join(dir, 'examples');
    if (dirname(dir) === dir) return resolve('examples');
  }
}
export const DEFAULT_RELAY = '127.0.0.1:4245';
/** Cluster i publishes its identity catalogue on 127.0.0.1:(this + i). */
const MESH_PORT_BASE = 4300;
/** Routers' and agents' Prometheus /metrics on loopback: routers from ROUTER_METRICS_BASE, agents from AGENT_METRICS_BASE, in plan order. */
export const ROUTER_METRICS_BASE = 4320;
export const AGENT_METRICS_BASE = 4340;
/** How often each SRv6 provider node logs what its End program handled. */
const SRV6_STATS_SECONDS = 10;
/** A relay's attestation signing key and its public half, in the run directory. */
const attestKeyOf = (runDir: string, cluster: string): string => join(runDir, `attest-${cluster}.pem`);
export const attestPubOf = (runDir: string, cluster: string): string => join(runDir, `attest-${cluster}.pub`);

export interface DemoOptions {
  /** The repository's examples/ (topology.yaml, policies/<cluster>/, workloads/<cluster>.yaml). */
  examples: string;
  runDir: string;
  prefix: string;
  /** The first cluster's relay (host:port); cluster i's listens on its port + i. */
  relay: string;
  /** Stop by itself this long after it is up; undefined: until SIGINT or SIGTERM. */
  seconds?: number;
  /** Show the live `cillion observe` view on standard output. */
  view: boolean;
}

interface ClusterSetup {
  name: string;
  ia: IA;
  cluster: ClusterAS;
  set: ResourceSet;
  pods: Workload[];
  policyDir: string;
}

const progress = (line: string): void => void process.stderr.write(`demo: ${line}\n`);

class Interrupted extends Error {}

async function loadClusters(examples: string, scratch: string): Promise<ClusterSetup[]> {
  const policies = join(examples, 'policies');
  const out: ClusterSetup[] = [];
  for (const dir of readdirSync(policies, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const policyDir = join(policies, dir);
    // Read-only: status files go to the run directory, not next to the examples.
    const source = new DirectorySource(policyDir, { statusDir: join(scratch, dir), rescanMs: 0 });
    const set = groupResources(await source.list());
    await source.close();
    const cluster = set.clusters[0];
    if (!cluster) continue;
    const workloadsFile = join(examples, 'workloads', `${cluster.metadata.name}.yaml`);
    if (!existsSync(workloadsFile)) throw new Error(`cluster ${cluster.metadata.name}: no ${workloadsFile}`);
    out.push({ name: cluster.metadata.name, ia: cluster.spec.isdAS, cluster, set, pods: readWorkloads(workloadsFile), policyDir });
  }
  if (out.length < 2) throw new Error(`${policies}: the demo needs at least two cluster directories with a ClusterAS`);
  return out.sort((a, b) => (a.ia < b.ia ? -1 : a.ia > b.ia ? 1 : 0));
}

/** A cluster's resources for its agents and operator: the examples' files without their ClusterAS, and the generated one. */
function writeClusterResources(c: ClusterSetup, dir: string, plan: DemoPlan, topologyFile: string, srv6Catalogue: string | undefined): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(c.policyDir).filter((f) => /^[^.].*\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(readFileSync(join(c.policyDir, f), 'utf8')).filter((d) => (d.toJS() as { kind?: unknown } | null)?.kind !== 'ClusterAS');
    if (docs.length > 0) writeFileSync(join(dir, f), docs.map((d) => d.toString()).join('---\n'));
  }
  writeFileSync(join(dir, 'zz-demo-cluster.yaml'), clusterASYaml(c.cluster, plan, topologyFile, srv6Catalogue));
}

/** A fresh Ed25519 pair for each relay and run: the relay signs attestations, verify takes the public half. */
function writeAttestKey(runDir: string, cluster: string): string {
  const pair = generateKeyPairSync('ed25519');
  const key = attestKeyOf(runDir, cluster);
  writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(attestPubOf(runDir, cluster), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return key;
}

function describePolicies(clusters: readonly ClusterSetup[]): string[] {
  const lines: string[] = [];
  for (const c of clusters) {
    for (const p of [...c.set.policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
      const s = p.spec;
      const shape = s.mode === 'multipath' ? `over ${s.paths ?? 'several'} paths` : 'on a single path';
      const seq = (s.pathPolicy as { sequence?: string } | undefined)?.sequence;
      const pods = c.pods.map((w) => ({ namespaceLabels: w.namespaceLabels, podLabels: w.labels })).filter((w) => matchesWorkload(s.workloadSelector, w));
      const fences = c.set.fences.filter((f) => pods.some((w) => matchesWorkload(f.spec.workloadSelector, w))).map((f) => `${f.metadata.name} (${f.spec.mode})`);
      lines.push(
        `  ${c.name.padEnd(10)} ${p.metadata.name.padEnd(12)} ${s.preference} ${shape}${seq ? `, path sequence "${seq}"` : ''}${fences.length ? `; geofence ${fences.join(', ')}` : ''}`,
      );
    }
  }
  return lines;
}

/** Each SRv6PathPolicy: its constraints, the tenant of the pods it selects, and their fences. */
function describeSrv6Policies(clusters: readonly ClusterSetup[]): string[] {
  const lines: string[] = [];
  for (const c of clusters) {
    for (const p of [...c.set.srv6Policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
      const s = p.spec;
      const pp = s.pathPolicy;
      const constraints = [
        pp.throughCountries.length ? `through ${pp.throughCountries.join(', ')}` : '',
        pp.avoidCountries.length ? `avoiding ${pp.avoidCountries.join(', ')}` : '',
        pp.throughNodes.length ? `through ${pp.throughNodes.join(', ')}` : '',
        pp.avoidNodes.length ? `avoiding ${pp.avoidNodes.join(', ')}` : '',
        pp.operators.length ? `operators ${pp.operators.join(', ')}` : '',
        s.hmac ? `HMAC TLV key ${s.hmac.keyId}` : '',
      ].filter((x) => x !== '');
      const pods = c.pods.filter((w) => matchesWorkload(s.workloadSelector, { namespaceLabels: w.namespaceLabels, podLabels: w.labels }));
      const tenants = c.set.tenants.filter((t) => pods.some((w) => t.spec.namespaces.includes(w.namespace))).map((t) => `${t.metadata.name} (VRF ${t.spec.vrf})`);
      const fences = c.set.fences.filter((f) => pods.some((w) => matchesWorkload(f.spec.workloadSelector, { namespaceLabels: w.namespaceLabels, podLabels: w.labels }))).map((f) => `${f.metadata.name} (${f.spec.mode})`);
      lines.push(
        `  ${c.name.padEnd(10)} ${p.metadata.name.padEnd(12)} SRv6 ${s.preference} ${s.mode === 'multipath' ? `over ${s.lists} segment lists` : 'on one segment list'}${constraints.length ? `, ${constraints.join(', ')}` : ''}; tenant ${tenants.join(', ') || 'none'}${fences.length ? `; geofence ${fences.join(', ')}` : ''}`,
      );
    }
  }
  return lines;
}

function describeNetworkPolicies(clusters: readonly ClusterSetup[]): string[] {
  return clusters.flatMap((c) =>
    [...c.set.networkPolicies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((p) => {
      const dirs = [...(p.spec.ingress ? ['ingress'] : []), ...(p.spec.egress ? ['egress'] : [])].join(' and ');
      return `  ${c.name.padEnd(10)} ${p.metadata.name.padEnd(16)} CillionNetworkPolicy, ${dirs} by remote labels and cluster`;
    }),
  );
}

/** The SRv6 provider network in a few lines: its nodes with country and operator, and what to ask observe. */
function describeSrv6Network(srv6: DemoWorld['srv6']): string[] {
  if (!srv6) return [];
  const node = (name: string): string => {
    const n = srv6.catalogue.node(name);
    return `${name} (${n?.geo?.country ?? '?'}, ${n?.operator ?? '?'})`;
  };
  return [
    '',
    `The SRv6 provider network (${srv6.catalogueFile}): ${srv6.plan.providers.map((p) => node(p.name)).join(', ')},`,
    `each a namespace running cillion srv6-node (XDP End); every node's agent encapsulates (H.Encaps) on its uplink ${SRV6_UPLINK_DEV} and decapsulates (End.DT4) into the tenant's table.`,
  ];
}

function banner(plan: DemoPlan, clusters: readonly ClusterSetup[], opts: DemoOptions, relays: readonly DemoRelay[], certs: DemoCerts, srv6: DemoWorld['srv6']): string {
  const isds = new Set([...plan.routers.map((r) => isdOf(r.ia)), ...clusters.map((c) => isdOf(c.ia))]);
  const [z, f] = clusters;
  const zrhFile = join(opts.runDir, 'workloads', `${z.name}.yaml`);
  const env = (r: DemoRelay): string => (certs.relays.get(r.cluster) as RelayCerts).envFile;
  const [first, second] = relays;
  const stop = opts.seconds !== undefined ? `It stops by itself after ${opts.seconds} s, or on Ctrl-C.` : 'Ctrl-C stops it.';
  return [
    '',
    `The demo is up: clusters ${clusters.map((c) => `${c.name} (${formatIA(c.ia)})`).join(' and ')}, ${plan.nodes.length} nodes, ${plan.pods.length} pods,`,
    `${plan.routers.length} transit ASes in ${isds.size} ISDs. The policies in force:`,
    ...describePolicies(clusters),
    ...describeSrv6Policies(clusters),
    ...describeNetworkPolicies(clusters),
    ...describeSrv6Network(srv6),
    '',
    'One relay per cluster; each stores its own cluster\'s flows and answers for every cluster by asking',
    'the others (federation: mutual TLS with peer certificates, over loopback, not the SCION WAN):',
    ...relays.map((r) => `  ${r.cluster.padEnd(10)} ${r.name.padEnd(16)} ${r.listen}  metrics ${r.metrics}  web UI ${r.ui}  store ${r.dataDir}`),
    '',
    `What you are seeing: every flow the agents report, through the ${first.cluster} relay, as it happens: the`,
    'node that saw it (cluster/node), the pods, the SCION path it took (ISD-ASes and countries) or its SRv6',
    'segment list (each segment\'s node and country), and the geofence verdict its cluster\'s relay gave it.',
    'A flow between the clusters shows up twice: where it was encapsulated (one cluster) and where it was',
    'decapsulated (the other), each with its verdict.',
    '',
    'The relays speak mutual TLS only: every agent has a collector certificate for its node, and',
    `you have a reader and an attester certificate (in ${join(opts.runDir, 'certs')}). Try, in another`,
    `terminal (from this directory), after pointing the client commands at either relay as the reader:`,
    `  source ${env(first)}      # or ${env(second)}: either relay shows both clusters`,
    `  npx cillion observe --last 20 --cluster ${f.name} --print-node-name  # ${f.name}'s flows, through the ${first.cluster} relay`,
    `  npx cillion observe --last 10 --from-ip 10.164.0.5 --to-ip 10.165.0.5 --print-node-name   # billing from both ends`,
    `  npx cillion observe --last 20 --geofence-verdict violation     # the audited workload's violations`,
    `  npx cillion observe --last 20 --from-pod db/replication-0 -o json`,
    `  npx cillion observe --last 50 --from-pod db/ --through-isd 66      # nothing: the fence holds`,
    `  npx cillion observe --follow --from-pod media/video-0 --through-country NL`,
    ...(srv6
      ? [
          `  npx cillion observe --last 20 --path-type srv6 --print-node-name        # the SRv6 flows: segment lists, tenants, HMAC`,
          `  npx cillion observe --last 20 --from-pod archive/ --through-country IT  # backup through Milan: a violation of its audit fence`,
          `  npx cillion observe --last 20 --through-sid ${srv6.plan.providers.at(-1)?.locator}    # every flow through ${srv6.plan.providers.at(-1)?.name}'s SIDs`,
        ]
      : []),
    `  npx cillion paths ${formatIA(f.ia)} --resources ${join(opts.runDir, 'resources', z.name)} --workloads ${zrhFile} --from-pod shop/billing-0`,
    `  npx cillion status --router 127.0.0.1:${ROUTER_METRICS_BASE}    # both relays' nodes, and how the first transit router computes hop MACs`,
    `  npx cillion observe --last 20 --verdict DROPPED                    # what the CillionNetworkPolicies refuse, and which one`,
    `  npx cillion list nodes                                             # every node of both clusters, as cluster/node`,
    `  npx cillion attest export --selector app=replication --since 10m --until 0s --out audit \\`,
    `      --tls-client-cert-file ${certs.attester.cert} --tls-client-key-file ${certs.attester.key}   # the attester; signed by the relay you asked`,
    `  npx cillion attest verify audit --key ${attestPubOf(opts.runDir, first.cluster)}   # that relay's key (${attestPubOf(opts.runDir, second.cluster)} for the other)`,
    '',
    ...webUi(relays, certs),
    `Logs: ${join(opts.runDir, 'logs')}. ${stop} make demo-down removes everything.`,
    '',
  ].join('\n');
}

/** The banner's part on the relays' web UI: where it is and how a browser gets in. */
function webUi(relays: readonly DemoRelay[], certs: DemoCerts): string[] {
  const [first] = relays;
  const pins = relays.map((r) => spkiHash((certs.relays.get(r.cluster) as RelayCerts).server.cert)).join(',');
  return [
    'The web UI (service map, world map of the paths, live flows, compliance), on each relay, HTTPS with its',
    'server certificate; it asks your browser for a client certificate of the demo CA: the auditor\'s (reader',
    'and attester) shows everything and downloads signed attestations (the compliance view):',
    ...relays.map((r) => `  ${r.cluster.padEnd(10)} ${uiUrl(r)}`),
    `Import ${certs.auditor.p12} (password ${P12_PASSWORD}; ${certs.reader.p12} only reads) under your`,
    'certificates (Chromium: chrome://certificate-manager, Firefox: Settings > Privacy & Security > View Certificates),',
    `and trust ${certs.ca} for websites, or, in Chromium, just the relays' keys, in a profile of its own:`,
    `  chromium --user-data-dir=/tmp/cillion-demo-ui --ignore-certificate-errors-spki-list=${pins} ${uiUrl(first)}`,
    'From this machine without a browser (the API the page uses):',
    `  curl --cacert ${certs.ca} --cert ${certs.reader.cert} --key ${certs.reader.key} -H 'x-cillion-ui: 1' ${uiUrl(first)}api/v1/whoami`,
  ];
}

/** SIGINT, SIGTERM or the set time asks the demo to stop; a start step's wait is cut short by it. */
class StopRequest {
  reason: string | null = null;
  private wake: () => void = () => undefined;
  readonly stopped = new Promise<void>((r) => (this.wake = r));
  private readonly onInt = (): void => this.request('SIGINT');
  private readonly onTerm = (): void => this.request('SIGTERM');

  constructor() {
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
  }

  request(reason: string): void {
    this.reason = reason;
    progress(`${reason}: stopping`);
    this.wake();
  }

  /** Throws Interrupted once a stop was asked for: between steps. */
  check(): void {
    if (this.reason) throw new Interrupted(this.reason);
  }

  /** A step's wait, cut short by Ctrl-C; whatever it settles to afterwards is no news. */
  interruptible<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined);
    return Promise.race([p, this.stopped.then((): never => { throw new Interrupted(this.reason ?? 'stopped'); })]);
  }

  dispose(): void {
    process.off('SIGINT', this.onInt);
    process.off('SIGTERM', this.onTerm);
  }
}

/** What every start step uses: the options, the run directory, how processes are started, and the run's lifecycle. */
interface DemoRun {
  opts: DemoOptions;
  runDir: string;
  ctx: ProcessContext;
  life: Lifecycle;
  stop: StopRequest;
}

/** The demo's world as planned from examples/, its files written to the run directory. */
interface DemoWorld {
  clusters: ClusterSetup[];
  plan: DemoPlan;
  topologyFile: string;
  /** Both clusters' geofences, for the relays. */
  relayResources: string;
  /** The SRv6 provider network, when the ClusterASes name a SID catalogue. */
  srv6?: { catalogueFile: string; catalogue: SidCatalogue; plan: Srv6Plan };
}

/**
 * The demo, step by step: what an earlier run left is removed, the world planned and built,
 * then relays, routers, operators, agents and traffic started, each group recorded in the
 * run's lifecycle; on Ctrl-C, the set time, or a failing step, the groups stop newest first
 * and the namespaces go.
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const runDir = resolve(opts.runDir);
  const started = Date.now();
  const stop = new StopRequest();
  await clearEarlierRun(opts, runDir);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  let stopping = false;
  const life = new Lifecycle();
  life.defer('namespaces and pins', async () => {
    await teardown({ runDir, prefix: opts.prefix, keepRunDir: true, log: (l) => progress(`      ${l}`) });
    progress(`removed the namespaces and ${pinRoot(opts.prefix)}; logs stay in ${logDir} until make demo-down`);
  });
  const run: DemoRun = { opts, runDir, ctx: processContext(opts, runDir, logDir, () => stopping), life, stop };
  try {
    const world = await planWorld(run);
    stop.check();
    buildWorld(world);
    stop.check();
    const { relays, certs } = await startRelays(run, world);
    stop.check();
    await startRouters(run, world);
    stop.check();
    await startNodes(run, world, relays, certs);
    stop.check();
    await startTraffic(run, world);
    stop.check();

    progress(`[8/8] up after ${Math.round((Date.now() - started) / 1000)} s`);
    process.stderr.write(`${banner(world.plan, world.clusters, opts, relays, certs, world.srv6)}\n`);
    if (opts.view) startGroup(run, [DemoProcess.cillion(run.ctx, 'observe', ['observe', '--server', relays[0].listen, ...clientTlsArgs(certs, certs.reader), '--follow'], 'inherit')]);
    const timer = opts.seconds !== undefined ? setTimeout(() => stop.request(`${opts.seconds} s are up`), opts.seconds * 1000) : null;
    await stop.stopped;
    if (timer) clearTimeout(timer);
  } catch (e) {
    if (!(e instanceof Interrupted)) {
      progress(`failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  } finally {
    stopping = true;
    progress('stopping: traffic and view, agents and operators, routers, relays');
    await life.stop();
    stop.dispose();
  }
}

async function clearEarlierRun(opts: DemoOptions, runDir: string): Promise<void> {
  progress('[1/8] removing what an earlier demo left behind');
  const left = await teardown({ runDir, prefix: opts.prefix, log: (l) => progress(`      ${l}`) });
  if (left.processes + left.namespaces === 0) progress('      nothing left behind');
}

/** How the demo's processes start: each is named in the state file (for demo-down) and its exit said while the demo runs. */
function processContext(opts: DemoOptions, runDir: string, logDir: string, stopping: () => boolean): ProcessContext {
  const state: DemoState = { pid: process.pid, prefix: opts.prefix, relay: opts.relay, startedAt: new Date().toISOString(), processes: [] };
  writeState(runDir, state);
  return {
    runDir,
    logDir,
    cwd: resolve(opts.examples, '..'),
    onStart: (p) => {
      state.processes.push({ name: p.name, pid: p.pid });
      writeState(runDir, state);
      p.child.once('exit', (code, signal) => {
        if (!stopping()) progress(`${p.name} exited (${code ?? signal}) while the demo runs; its log: ${p.logFile}`);
      });
    },
  };
}

/**
 * A group of processes just started: stopped together, and before every group started
 * earlier, so nothing is left sending into a datapath that is going away, and the agents'
 * last flows still reach their relays.
 */
function startGroup(run: DemoRun, group: DemoProcess[]): DemoProcess[] {
  run.life.defer(group.map((p) => p.name).join(', '), async () => {
    await Promise.all(group.map((p) => p.stop(15000)));
  });
  return group;
}

async function planWorld({ opts, runDir }: DemoRun): Promise<DemoWorld> {
  progress('[2/8] planning from examples/ (topology, policies, workloads)');
  const topologySrc = join(opts.examples, 'topology.yaml');
  const topology = loadTopology(topologySrc);
  const clusters = await loadClusters(opts.examples, join(runDir, 'scan'));
  const plan = planDemo(
    topology,
    clusters.map((c) => ({
      name: c.name,
      ia: c.ia,
      uplinks: c.cluster.spec.uplinks.map((u) => u.interface),
      pods: c.pods,
      remotePrefixes: c.set.remotes.flatMap((r) => r.spec.prefixes).filter((p) => p.includes('.')),
    })),
    opts.prefix,
  );
  const topologyFile = join(runDir, 'topology.yaml');
  writeFileSync(topologyFile, topologyWithUnderlays(readFileSync(topologySrc, 'utf8'), plan.underlays));
  const srv6 = planSrv6World(clusters, plan, resolve(opts.examples, '..'), runDir, opts.prefix);
  // Both relays judge by the geofences of both clusters, so each end of a flow between them
  // is judged by the same fence (Frankfurt's relay by Zurich's audit fence too).
  const relayResources = join(runDir, 'resources', 'relay');
  mkdirSync(relayResources, { recursive: true });
  const texts = clusters.flatMap((c) => readdirSync(c.policyDir).filter((f) => /^[^.].*\.ya?ml$/.test(f)).map((f) => readFileSync(join(c.policyDir, f), 'utf8')));
  writeFileSync(join(relayResources, 'geofences.yaml'), geofencesYaml(texts));
  mkdirSync(join(runDir, 'workloads'), { recursive: true });
  for (const c of clusters) {
    writeClusterResources(c, join(runDir, 'resources', c.name), plan, topologyFile, srv6?.catalogueFile);
    copyFileSync(join(opts.examples, 'workloads', `${c.name}.yaml`), join(runDir, 'workloads', `${c.name}.yaml`));
    for (const n of plan.nodes.filter((x) => x.cluster === c.name)) writeFileSync(join(runDir, 'workloads', `${n.name}.yaml`), nodeWorkloadsYaml(c.pods, n.name));
  }
  return { clusters, plan, topologyFile, relayResources, srv6 };
}

/**
 * The SID catalogue the ClusterASes name (paths relative to the repository, as the agents
 * run there), copied into the run directory, and the provider network planned from it.
 * Both clusters must name the same one: the demo builds one provider network.
 */
function planSrv6World(clusters: readonly ClusterSetup[], plan: DemoPlan, cwd: string, runDir: string, prefix: string): DemoWorld['srv6'] {
  const files = [...new Set(clusters.flatMap((c) => (c.cluster.spec.srv6 ? [resolve(cwd, c.cluster.spec.srv6.catalogue)] : [])))];
  if (files.length === 0) return undefined;
  if (files.length > 1) throw new Error(`the clusters name different SRv6 catalogues (${files.join(', ')}); the demo builds one provider network`);
  const catalogueFile = join(runDir, 'srv6.yaml');
  copyFileSync(files[0], catalogueFile);
  const catalogue = loadSidCatalogue(catalogueFile);
  const srv6 = planSrv6(
    { nodes: catalogue.nodes.map((n) => ({ name: n.name, role: n.role, locator: n.locatorText })), links: catalogue.links.map((l) => ({ a: l.a, b: l.b, latencyMs: l.latencyMs })) },
    plan.nodes,
    prefix,
  );
  return { catalogueFile, catalogue, plan: srv6 };
}

function buildWorld({ plan, srv6 }: DemoWorld): void {
  const sr = srv6 ? `; SRv6: ${srv6.plan.providers.length} provider nodes, ${srv6.plan.links.length} links, ${srv6.plan.segments.length} uplink segments` : '';
  progress(`[3/8] building the network: ${plan.routers.length} transit ASes, ${plan.segments.length} uplink segments, ${plan.nodes.length} nodes, ${plan.pods.length} pods${sr}`);
  let lastShown = 0;
  buildNetwork(
    plan,
    (what, done, total) => {
      if (done === total || Date.now() - lastShown > 1000) {
        lastShown = Date.now();
        progress(`      ${done}/${total} namespaces (${what})`);
      }
    },
    srv6?.plan,
  );
}

async function startRelays(run: DemoRun, world: DemoWorld): Promise<{ relays: DemoRelay[]; certs: DemoCerts }> {
  const { runDir } = run;
  const relays = planRelays(world.clusters.map((c) => c.name), run.opts.relay, runDir);
  progress(`[4/8] starting ${relays.length} relays, one per cluster, federated (${relays.map((r) => `${r.cluster} on ${r.listen}, web UI ${r.ui}`).join(', ')}; mutual TLS, certificates in ${join(runDir, 'certs')}; embedded ClickHouse in ${join(runDir, 'store')})`);
  const certs = mintDemoCerts(runDir, relays, world.plan.nodes.map((n) => n.name));
  const relayProcs = startGroup(run, relays.map((r) => {
    const own = certs.relays.get(r.cluster) as RelayCerts;
    // Each checks flows' hop fields against its own embedded control plane over the same topology.
    return DemoProcess.cillion(run.ctx, `relay-${r.cluster}`, [
      'relay', '--name', r.name, '--cluster', r.cluster, '--listen', r.listen, '--metrics', r.metrics, '--ui-listen', r.ui, '--data-dir', r.dataDir,
      '--resources', world.relayResources, '--topology', world.topologyFile, '--attest-key', writeAttestKey(runDir, r.cluster),
      // SRv6 paths are rebuilt from their SRH against the same catalogue the provider network is built from.
      ...(world.srv6 ? ['--srv6-catalogue', world.srv6.catalogueFile] : []),
      '--tls-cert', own.server.cert, '--tls-key', own.server.key, '--tls-client-ca', certs.ca,
      // Its peers' server certificates chain to the same CA (--peer-ca defaults to --tls-client-ca).
      ...r.peers.flatMap((p) => ['--peer', `${p.name}=${p.address}`]),
      '--peer-cert', own.peer.cert, '--peer-key', own.peer.key, '--peer-server-name', RELAY_SERVER_NAME,
      // With its heap capped, as a deployment runs it (docs/operations.md, Limits).
    ], 'log', ['--max-old-space-size=512']);
  }));
  await run.stop.interruptible(Promise.all(relayProcs.map((p) => p.waitFor(/serving Observer and FlowExport/, 120000))));
  return { relays, certs };
}

async function startRouters(run: DemoRun, { plan, topologyFile, srv6 }: DemoWorld): Promise<void> {
  const providers = srv6?.plan.providers ?? [];
  progress(`[5/8] starting ${plan.routers.length} routers (cillion router, XDP)${providers.length ? ` and ${providers.length} SRv6 provider nodes (cillion srv6-node, XDP End)` : ''}`);
  const routers = startGroup(run, plan.routers.map((r, i) => {
    const name = `router-${formatIA(r.ia).replace(/[-:]/g, '_')}`;
    return DemoProcess.cillion(run.ctx, name, [
      'router', '--topology', topologyFile, '--ia', formatIA(r.ia), '--netns', r.ns, '--instance', `${run.opts.prefix}/${name}`, '--metrics', `127.0.0.1:${ROUTER_METRICS_BASE + i}`,
    ]);
  }));
  const srv6Nodes = srv6
    ? startGroup(run, providers.map((p) =>
        DemoProcess.cillion(run.ctx, `srv6-node-${p.name}`, [
          'srv6-node', '--catalogue', srv6.catalogueFile, '--node', p.name, '--netns', p.ns, '--instance', `${run.opts.prefix}/srv6-${p.name}`, '--stats', String(SRV6_STATS_SECONDS),
        ]),
      ))
    : [];
  const total = routers.length + srv6Nodes.length;
  let ready = 0;
  await run.stop.interruptible(
    Promise.all([
      ...routers.map(async (r) => {
        await r.waitFor(/forwarding on/, 120000);
        progress(`      ${++ready}/${total} ${r.name}`);
      }),
      ...srv6Nodes.map(async (r) => {
        await r.waitFor(/serving End/, 120000);
        progress(`      ${++ready}/${total} ${r.name}`);
      }),
    ]),
  );
}

/** The operators first (each its cluster's identity allocator), then one agent per node. */
async function startNodes(run: DemoRun, { clusters, plan, srv6 }: DemoWorld, relays: readonly DemoRelay[], certs: DemoCerts): Promise<void> {
  const { runDir, opts } = run;
  progress(`[6/8] starting ${clusters.length} operators (each its cluster's identity allocator), then ${plan.nodes.length} agents`);
  const nodesOf = (cluster: string): string[] => plan.nodes.filter((n) => n.cluster === cluster).map((n) => n.name);
  const meshFiles = writeDemoMesh(
    runDir,
    clusters.map((c) => ({
      name: c.name,
      clusterId: c.cluster.spec.clusterId,
      ia: c.cluster.spec.isdAS,
      nodes: nodesOf(c.name),
      // Its pod prefixes as the other clusters' RemoteClusters declare them.
      prefixes: [...new Set(clusters.flatMap((o) => o.set.remotes.filter((r) => r.metadata.name === c.name).flatMap((r) => r.spec.prefixes)))],
    })),
    MESH_PORT_BASE,
  );
  // The operators number the pods first: an agent programs a pod once it has its identity.
  // Each follows the peers' catalogues too (a node's mesh file that does not publish), for its network policies' status.
  const operators = startGroup(run, clusters.map((c) =>
    DemoProcess.cillion(run.ctx, `operator-${c.name}`, [
      'operator', '--resources', join(runDir, 'resources', c.name), '--workloads', join(runDir, 'workloads', `${c.name}.yaml`), '--state', join(runDir, 'state', c.name),
      '--mesh', meshFiles.get(nodesOf(c.name).at(-1) as string) as string,
    ]),
  ));
  let ready = 0;
  const total = plan.nodes.length + operators.length;
  await run.stop.interruptible(
    Promise.all(
      operators.map(async (o) => {
        await o.waitFor(/watching for changes/, 180000);
        progress(`      ${++ready}/${total} ${o.name}`);
      }),
    ),
  );
  run.stop.check();
  const agents = startGroup(run, plan.nodes.map((n, i) => {
    const own = certs.agents.get(n.name) as { cert: string; key: string };
    return DemoProcess.cillion(run.ctx, `agent-${n.name}`, [
      'agent', '--node', n.name, '--resources', join(runDir, 'resources', n.cluster), '--workloads', join(runDir, 'workloads', `${n.name}.yaml`),
      '--netns', n.ns, '--instance', `${opts.prefix}/edge-${n.name}`, '--state', join(runDir, 'state', n.cluster),
      // Its own cluster's relay only: a relay refuses another cluster's batches.
      '--relay', relayOf(relays, n.cluster).listen,
      '--relay-ca', certs.ca, '--relay-cert', own.cert, '--relay-key', own.key,
      '--observer-socket', join(runDir, `${n.name}.sock`), '--flow-idle', '2', '--flow-active', '5', '--mesh', meshFiles.get(n.name) as string,
      '--metrics', `127.0.0.1:${AGENT_METRICS_BASE + i}`,
      // Identities between the clusters travel authenticated; the mesh file's master secret keys them.
      '--spao', 'on',
      ...n.uplinks.flatMap((i) => ['--uplink', `${i}=if${i}:${PORT_BASE + i}`]),
      // Its segment to the SRv6 provider: H.Encaps out of it, End.DT4 on it.
      ...(srv6?.plan.edges.some((e) => e.name === n.name) ? ['--srv6-uplink', SRV6_UPLINK_DEV] : []),
    ]);
  }));
  await run.stop.interruptible(
    Promise.all(
      agents.map(async (a) => {
        await a.waitFor(/collecting/, 180000);
        // Traffic waits for the peers' catalogues (policies name remote workloads) and keys (SPAO).
        await a.waitFor(/mesh ready/, 60000);
        progress(`      ${++ready}/${total} ${a.name}`);
      }),
    ),
  );
}

/** One peer per pod, all listening before any sends. */
async function startTraffic(run: DemoRun, { clusters, plan }: DemoWorld): Promise<void> {
  const traffic = planTraffic(plan.pods, new Map(clusters.map((c) => [c.name, c.set])), new Map(clusters.map((c) => [c.name, c.ia])));
  const senders = traffic.filter((t) => t.config.send.length > 0).length;
  progress(`[7/8] starting traffic: ${senders} of ${traffic.length} pods send, every pod listens`);
  const peerScript = join(__dirname, `peer${extname(__filename)}`);
  const peers = startGroup(run, traffic.map((t) =>
    DemoProcess.nodeInNetns(run.ctx, `pod-${t.pod.cluster}-${t.pod.workload.namespace}-${t.pod.workload.name}`, t.pod.ns, peerScript, [JSON.stringify(t.config)]),
  ));
  await run.stop.interruptible(Promise.all(peers.map((p) => p.waitFor(/"listening"/, 60000))));
  for (const p of peers) p.child.stdin?.write('send\n');
  for (const t of traffic.filter((x) => x.targets.length > 0)) {
    const flows = t.config.send.reduce((n, s) => n + s.srcPorts.length, 0);
    progress(`      ${t.pod.cluster}/${t.pod.workload.namespace}/${t.pod.workload.name} → ${t.targets.join(', ')} (${flows} flow${flows > 1 ? 's' : ''})`);
  }
}
