// The demo's traffic as its collectors report it, for the browser tests: the pods of
// examples/workloads (Zurich and Frankfurt), the apps' flows as examples/policies steer them
// (billing on the lowest-latency path, analytics through Ashburn in ISD 66, video over three
// weighted paths, replication over two European paths each way), a billing -> video probe
// dropped at Zurich's edge by billing-egress, and some replication reports whose recorded
// path lost its hop fields. Each flow is built by the collector's own toFlow from a meter
// report, with the raw hop fields of the current beaconing round, so the relay's path check
// gives real verdicts: COMPLIANT (replication), VIOLATION (analytics, the US hop) and
// UNVERIFIED (replication without hop fields).
import { join } from 'node:path';
import { COUNTERS } from '../../bpf/abi';
import { toFlow, type NodeContext } from '../../collector/flow';
import type { MeteredFlow } from '../../collector/flowtable';
import type { ControlPlanePath } from '../../controlplane/combinator';
import type { EmbeddedPathService } from '../../controlplane/pathservice';
import type { EndpointInfo } from '../../identity/endpoint';
import { flowLabels, workloadLabels } from '../../identity/workload_labels';
import { readWorkloads } from '../../operator/workloads/directory';
import { rankPaths } from '../../operator/selection/rank';
import { describePath } from '../../paths/describe';
import type { Flow, ScionPath } from '../../proto/gen/flow/flow';
import { formatIA } from '../../scion/isdas';
import { EUROPE_OR_CH, exampleControlPlane, FRANKFURT, honestPath, ZURICH } from '../unit/paths/fixture';
import { prng } from '../unit/relay/store/corpus';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
export const CLUSTERS = ['zurich', 'frankfurt'] as const;
export type Cluster = (typeof CLUSTERS)[number];
const IA_OF: Record<Cluster, typeof ZURICH> = { zurich: ZURICH, frankfurt: FRANKFURT };

/** The fence names and the hop the demo's policies make: what the UI must show. */
export const VIOLATION = { fence: 'eu-plus-ch-audit', ia: '66-2:0:10', country: 'US' };
export const COMPLIANT_FENCE = 'eu-plus-ch';

const UDP = 17;
/** Ports as cli/demo/traffic.ts gives the apps. */
const PORTS: Record<string, number> = { billing: 7000, video: 7001, replication: 7002, analytics: 7003 };
const BILLING_EGRESS_ID = 1;

export interface DemoPod {
  cluster: Cluster;
  node: string;
  ip: string;
  app: string;
  info: EndpointInfo;
}

/** One sender's stream: its pod, the pod it sends to, and the paths its policy selected. */
export interface DemoRoute {
  name: string;
  src: DemoPod;
  dst: DemoPod;
  paths: ScionPath[];
  /** Share of this route's reports (weights of all routes add to 1). */
  weight: number;
  /** Dropped at the sender's edge by billing-egress. */
  denied?: boolean;
  /** Share of reports whose recorded path was truncated (no hop fields). */
  truncated?: number;
}

/** A flow with the node and cluster whose collector reports it. */
export interface NodeFlow {
  node: string;
  cluster: Cluster;
  flow: Flow;
}

function demoPods(): DemoPod[] {
  return CLUSTERS.flatMap((cluster, c) =>
    readWorkloads(join(EXAMPLES, 'workloads', `${cluster}.yaml`)).map((w, i): DemoPod => ({
      cluster,
      node: w.node,
      ip: w.ip,
      app: w.labels.app ?? '',
      info: { identity: 20_000 + c * 1000 + i, podName: w.name, namespace: w.namespace, labels: flowLabels(w.namespace, workloadLabels(w.namespace, w.labels, w.namespaceLabels)), clusterName: cluster },
    })),
  );
}

const countries = (cp: ControlPlanePath): string[] => describePath(cp, 0).hops.map((h) => h.country);
const viaIsd66 = (cp: ControlPlanePath): boolean => cp.ases.some((ia) => formatIA(ia).startsWith('66-'));

/** The paths each app's policy selects between the two cluster ASes (operator/selection's ranking). */
function selected(svc: EmbeddedPathService, from: Cluster, to: Cluster): Record<string, ScionPath[]> {
  const all = svc.pathsSync(IA_OF[from], IA_OF[to]).filter((p) => p.interfaces.length > 0);
  const none = { latency: 0, bandwidth: 0, hopCount: 0 };
  const europe = all.filter((p) => countries(p).every((c) => EUROPE_OR_CH.has(c)));
  const pick = (ps: ControlPlanePath[], n: number): ScionPath[] => ps.slice(0, n).map((p, i) => ({ ...honestPath(p), pathId: i + 1 }));
  return {
    billing: pick(rankPaths(all, 'latency', none), 1),
    analytics: pick(rankPaths(all.filter(viaIsd66), 'latency', none), 1),
    video: pick(rankPaths(all, 'weighted', { latency: 0.3, bandwidth: 0.7, hopCount: 0 }), 3),
    replication: pick(rankPaths(europe, 'bandwidth', none), 2),
  };
}

/** Every route of the demo, over the example topology's current beaconing round. */
export function demoRoutes(svc = exampleControlPlane()): DemoRoute[] {
  const pods = demoPods();
  const pod = (cluster: Cluster, app: string): DemoPod => {
    const p = pods.find((x) => x.cluster === cluster && x.app === app);
    if (!p) throw new Error(`examples/workloads/${cluster}.yaml has no ${app} pod`);
    return p;
  };
  const zf = selected(svc, 'zurich', 'frankfurt');
  const fz = selected(svc, 'frankfurt', 'zurich');
  const route = (app: string, from: Cluster, to: Cluster, paths: ScionPath[], weight: number, extra: Partial<DemoRoute> = {}): DemoRoute => ({
    name: `${from}/${app} -> ${to}/${extra.denied ? 'video' : app}`,
    src: pod(from, app),
    dst: pod(to, extra.denied ? 'video' : app),
    paths,
    weight,
    ...extra,
  });
  return [
    route('billing', 'zurich', 'frankfurt', zf.billing, 0.2),
    route('video', 'zurich', 'frankfurt', zf.video, 0.3),
    route('replication', 'zurich', 'frankfurt', zf.replication, 0.15, { truncated: 0.1 }),
    route('replication', 'frankfurt', 'zurich', fz.replication, 0.15, { truncated: 0.1 }),
    route('analytics', 'zurich', 'frankfurt', zf.analytics, 0.15),
    route('billing', 'zurich', 'frankfurt', zf.billing, 0.05, { denied: true }),
  ];
}

/**
 * Builds the demo's flow reports: `n` of them, the last at `endMs`, spread evenly over the
 * `spanMs` before it, each route in proportion to its weight. Deterministic per seed except
 * the uuids (the collector's UUIDv7 generator).
 */
export class DemoTraffic {
  readonly routes: DemoRoute[];
  private readonly cumulative: number[];

  constructor(routes = demoRoutes()) {
    this.routes = routes;
    let sum = 0;
    this.cumulative = routes.map((r) => (sum += r.weight));
  }

  flows(n: number, endMs: number, spanMs: number, seed = 1): NodeFlow[] {
    const rnd = prng(seed);
    const startMs = endMs - spanMs;
    const out: NodeFlow[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const u = rnd() * this.cumulative[this.cumulative.length - 1];
      const route = this.routes[Math.max(0, this.cumulative.findIndex((c) => u < c))];
      const atMs = n === 1 ? endMs : startMs + (i / (n - 1)) * spanMs;
      out[i] = { node: route.src.node, cluster: route.src.cluster, flow: this.report(route, rnd, startMs, atMs) };
    }
    return out;
  }

  private report(r: DemoRoute, rnd: () => number, baseMs: number, atMs: number): Flow {
    const path = r.paths[Math.floor(rnd() * r.paths.length)];
    const truncated = rnd() < (r.truncated ?? 0);
    const packets = 5 + Math.floor(rnd() * 50);
    const size = 200 + Math.floor(rnd() * 800);
    const lastNs = (atMs - baseMs) * 1e6;
    const metered: MeteredFlow = {
      ifindex: 10,
      direction: 'EGRESS_ENCAP',
      inner: { proto: UDP, srcAddr: r.src.ip, dstAddr: r.dst.ip, srcPort: 41000 + Math.floor(rnd() * 8), dstPort: PORTS[r.dst.app] ?? 7009 },
      identity: r.src.info.identity,
      srcIA: 0n,
      dstIA: 0n,
      pathType: 1,
      pathId: truncated ? 0 : path.pathId,
      path: truncated ? new Uint8Array(0) : path.raw,
      pathTruncated: truncated,
      ingressIfid: 0,
      egressIfid: 0,
      firstNs: Math.max(0, lastNs - 5e9),
      lastNs,
      packets,
      bytes: packets * size,
      podBytes: packets * size,
      wireBytes: packets * (size + 120),
      foldedReports: 0,
      lostPackets: 0,
      lostBytes: 0,
      dropped: r.denied ? packets : 0,
      tcpFlags: 0,
      firstTcpFlags: 0,
      dropReasons: 0,
      lastDropReason: r.denied ? COUNTERS.POLICY_EGRESS_DENIED : 0,
      lastDropPolicyId: r.denied ? BILLING_EGRESS_ID : 0,
      start: false,
      end: 'active',
    };
    const ctx: NodeContext = {
      nodeName: r.src.node,
      clusterName: r.src.cluster,
      realtimeOffsetNs: BigInt(Math.round(baseMs)) * 1_000_000n,
      interfaceName: () => 'lxc-demo',
      policyName: (id) => (id === BILLING_EGRESS_ID ? 'billing-egress' : undefined),
    };
    // A truncated record names no path id: the collector describes the path from no bytes.
    const described: ScionPath = truncated ? { ...path, raw: Buffer.alloc(0), pathId: 0, hops: [], fingerprint: '' } : path;
    return toFlow(metered, { source: r.src.info, destination: r.dst.info, path: described }, ctx);
  }
}
