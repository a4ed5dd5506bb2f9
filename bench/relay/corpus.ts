// The relay bench's corpus: flows as a fleet of Cillion collectors reports them, built by
// the collector's own toFlow from synthetic meter reports, so every field is filled the way
// the real collector fills it. 500 pods in 10 namespaces with Kubernetes-style label sets
// (app, version, team, tier, service account; the namespace's labels), every path of the
// example topology between any two of its ASes (1,428, raw hop fields of the current
// beaconing round, so the relay's path check accepts them), and a UUIDv7 per flow from the
// collector's own generator (collector/flow_uuid.ts), made as the corpus is built: in flow
// order, a few seconds for a collector's share, where a live collector makes each when it
// reports the flow. Deterministic per seed except the UUIDs and the clock.
import { join } from 'node:path';
import { toFlow, type NodeContext } from '../../collector/flow';
import type { EndpointInfo } from '../../identity/endpoint';
import type { MeteredFlow } from '../../collector/flowtable';
import { COUNTERS } from '../../bpf/abi';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { flowLabels, workloadLabels } from '../../identity/workload_labels';
import { describePath } from '../../paths/describe';
import type { Flow, ScionPath } from '../../proto/gen/flow/flow';
import { encodeScionPathBytes } from '../../scion/path/raw';
import { prng } from '../../test/unit/relay/store/corpus';

export const TOPOLOGY = join(__dirname, '..', '..', 'examples', 'topology.yaml');
export const CLUSTER = 'bench';

/** Namespaces with their apps; each app runs REPLICAS pods in two versions. */
export const NAMESPACES: ReadonlyArray<{ name: string; team: string; apps: string[] }> = [
  { name: 'shop', team: 'storefront', apps: ['frontend', 'cart', 'catalog', 'checkout', 'recommend'] },
  { name: 'payments', team: 'payments', apps: ['billing', 'ledger', 'fraud', 'gateway', 'refunds'] },
  { name: 'analytics', team: 'data', apps: ['analytics', 'ingest', 'warehouse', 'etl', 'reports'] },
  { name: 'search', team: 'discovery', apps: ['indexer', 'query', 'suggest', 'crawler', 'ranker'] },
  { name: 'media', team: 'content', apps: ['video', 'transcode', 'thumbs', 'cdn-edge', 'uploads'] },
  { name: 'identity', team: 'security', apps: ['auth', 'sessions', 'directory', 'mfa', 'audit'] },
  { name: 'logistics', team: 'fulfilment', apps: ['shipping', 'tracking', 'inventory', 'routing', 'returns'] },
  { name: 'ml', team: 'ml-platform', apps: ['training', 'serving', 'features', 'registry', 'notebooks'] },
  { name: 'messaging', team: 'platform', apps: ['kafka', 'mailer', 'notify', 'webhooks', 'scheduler'] },
  { name: 'platform', team: 'platform', apps: ['replication', 'backup', 'metrics', 'logging', 'dns-cache'] },
];
const REPLICAS = 10;
const TIERS = ['frontend', 'backend', 'data'] as const;
const PORTS = [80, 443, 8080, 8443, 9090, 5432, 6379, 9092, 50051];

export interface Pod {
  ip: string;
  info: EndpointInfo;
}

function podSuffix(rnd: () => number, n: number): string {
  const abc = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < n; i++) s += abc[Math.floor(rnd() * abc.length)];
  return s;
}

/** Every pod of the fleet, in a fixed order (index = pod number). */
export function pods(): Pod[] {
  const rnd = prng(16);
  const out: Pod[] = [];
  NAMESPACES.forEach((ns, n) => {
    ns.apps.forEach((app, a) => {
      const hashes = [podSuffix(rnd, 10), podSuffix(rnd, 10)];
      for (let r = 0; r < REPLICAS; r++) {
        const v = r % 2;
        const podLabels = {
          app,
          version: `v${3 + a}.${v}`,
          team: ns.team,
          tier: TIERS[a % TIERS.length],
          'app.kubernetes.io/part-of': ns.name,
          'io.cilium.k8s.policy.serviceaccount': app,
          'pod-template-hash': hashes[v],
        };
        const labels = flowLabels(ns.name, workloadLabels(ns.name, podLabels, { environment: 'production', owner: ns.team }));
        const identity = 10_000 + n * 100 + a * 10 + v;
        out.push({
          ip: `10.${64 + n}.${a * 16 + r}.${10 + v}`,
          info: { identity, podName: `${app}-${hashes[v]}-${podSuffix(rnd, 5)}`, namespace: ns.name, labels, clusterName: CLUSTER },
        });
      }
    });
  });
  return out;
}

/** Every path between two ASes of the example topology, as a collector describes it (raw hop fields included). */
export function paths(service = EmbeddedPathService.fromFile(TOPOLOGY)): ScionPath[] {
  const ases = [...service.topology.ases.keys()];
  const out: ScionPath[] = [];
  for (const src of ases) {
    for (const dst of ases) {
      if (src === dst) continue;
      for (const cp of service.pathsSync(src, dst)) out.push({ ...describePath(cp, out.length + 1), raw: Buffer.from(encodeScionPathBytes(cp.path)) });
    }
  }
  return out;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;

/**
 * `n` flows of one node, reported over the last `spanMs` before now: between a pod of the
 * node (`local`, one of `fleet`'s slices) and any pod of the fleet, leaving (85%) or
 * arriving. Each pod pair talks over one of three paths picked by the pair, so all paths
 * are used and a pair keeps to a few, as the datapath's path selection does.
 */
export function flows(n: number, seed: number, nodeName: string, fleet: Pod[], local: Pod[], allPaths: ScionPath[], spanMs = 60_000): Flow[] {
  const rnd = prng(seed);
  const nowMs = Date.now();
  const ctx: NodeContext = { nodeName, clusterName: CLUSTER, realtimeOffsetNs: BigInt(nowMs - spanMs) * 1_000_000n, interfaceName: (i) => (i === 2 ? 'eth0' : `lxc${i}`) };
  const out: Flow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = Math.floor(rnd() * local.length);
    const remote = fleet[Math.floor(rnd() * fleet.length)];
    const ingress = rnd() < 0.15;
    const [src, dst] = ingress ? [remote, local[l]] : [local[l], remote];
    const pair = src.info.identity * 7919 + dst.info.identity;
    const path = allPaths[(pair * 3 + Math.floor(rnd() * 3)) % allPaths.length];
    const u = rnd();
    const proto = u < 0.7 ? TCP : u < 0.95 ? UDP : ICMP;
    const dropped = rnd() < 0.03 ? 1 + Math.floor(rnd() * 5) : 0;
    const packets = 1 + Math.floor(Math.exp(rnd() * 9));
    const size = 64 + Math.floor(rnd() * 1400);
    const lastMs = (i / n) * spanMs;
    const durMs = rnd() * 10_000;
    const syn = proto === TCP && rnd() < 0.3;
    const metered: MeteredFlow = {
      ifindex: ingress ? 2 : 10 + l,
      direction: ingress ? 'INGRESS_DECAP' : 'EGRESS_ENCAP',
      inner: {
        proto,
        srcAddr: src.ip,
        dstAddr: dst.ip,
        srcPort: proto === ICMP ? 0x0800 : 32768 + Math.floor(rnd() * 28000),
        dstPort: proto === ICMP ? 0 : PORTS[Math.floor(rnd() * PORTS.length)],
      },
      identity: src.info.identity,
      srcIA: 0n,
      dstIA: 0n,
      pathType: 1,
      pathId: path.pathId,
      path: path.raw,
      pathTruncated: false,
      ingressIfid: 0,
      egressIfid: 0,
      firstNs: Math.max(0, lastMs - durMs) * 1e6,
      lastNs: lastMs * 1e6,
      packets,
      bytes: packets * size,
      podBytes: packets * size,
      wireBytes: packets * (size + 120),
      foldedReports: rnd() < 0.01 ? 1 : 0,
      lostPackets: 0,
      lostBytes: 0,
      dropped,
      tcpFlags: proto === TCP ? 0x18 | (syn ? 0x02 : 0) | (rnd() < 0.2 ? 0x01 : 0) : 0,
      firstTcpFlags: syn ? (rnd() < 0.5 ? 0x02 : 0x12) : 0x10,
      dropReasons: 0,
      lastDropReason: dropped > 0 ? COUNTERS.INGRESS_DENIED : 0,
      lastDropPolicyId: 0,
      start: rnd() < 0.5,
      end: 'active',
    };
    out[i] = toFlow(metered, { source: src.info, destination: dst.info, path }, ctx);
  }
  return out;
}
