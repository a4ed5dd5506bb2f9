// Where everything of the demo goes, decided before anything is created: one namespace per
// transit AS (its router) joined by veth links; for each cluster AS one namespace per node
// and per pod, a node LAN, and one switched segment per uplink on which the provider's
// router and every node of the cluster meet. Pure: the builder and the tests read the same
// plan.
import type { Topology } from '../../controlplane/topology';
import type { Workload } from '../../identity/workload';
import { formatIA, type IA } from '../../scion/isdas';

/** Every namespace of the demo starts with this, so a sweep finds the leftovers of a crash. */
export const DEMO_PREFIX = 'cildemo';
/** Routers and nodes listen on this plus the SCION interface id, as the test harness does. */
export const PORT_BASE = 50000;

export interface ClusterInput {
  /** The ClusterAS's name. */
  name: string;
  ia: IA;
  /** SCION interfaces the ClusterAS declares as uplinks. */
  uplinks: readonly number[];
  /** Its pods, each with the node it runs on. */
  pods: readonly Workload[];
  /** IPv4 prefixes of the clusters it sends to (its RemoteClusters). */
  remotePrefixes: readonly string[];
}

export interface PlannedInterface {
  ia: IA;
  ifid: number;
  ns: string;
  ifname: string;
  ip: string;
  port: number;
}

export interface WanLink {
  index: number;
  a: PlannedInterface;
  b: PlannedInterface;
}

export interface Route {
  prefix: string;
  dev: string;
  via?: string;
}

export interface SegmentMember {
  node: string;
  ns: string;
  ip: string;
  /** The switch's port for this node. */
  port: string;
}

/** An uplink of a cluster: a LAN of the provider's router interface and all nodes. */
export interface Segment {
  index: number;
  cluster: string;
  ifid: number;
  /** The switch namespace. */
  ns: string;
  router: PlannedInterface;
  members: SegmentMember[];
  /** The node the router hands this interface's incoming packets to. */
  receiver: string;
}

export interface PlannedNode {
  cluster: string;
  name: string;
  ns: string;
  lanIp: string;
  /** SCION interface ids of the uplinks this node sends on (all of its cluster's). */
  uplinks: number[];
  routes: Route[];
}

export interface PlannedPod {
  cluster: string;
  node: string;
  workload: Workload;
  ns: string;
  /** The node's end of the pod's veth. */
  hostIf: string;
}

export interface DemoPlan {
  prefix: string;
  /** Transit ASes, each run by a `cillion router` in its namespace. */
  routers: Array<{ ia: IA; ns: string }>;
  wanLinks: WanLink[];
  segments: Segment[];
  nodes: PlannedNode[];
  pods: PlannedPod[];
  /** Underlay (ip:port) of every SCION interface, keyed "ISD-AS#ifid", for the topology file. */
  underlays: Map<string, string>;
}

export class DemoPlanError extends Error {
  override readonly name = 'DemoPlanError';
}

export const ifaceKey = (ia: IA, ifid: number): string => `${formatIA(ia)}#${ifid}`;
const slug = (ia: IA): string => formatIA(ia).replace(/[-:]/g, '_');
/** The node end of the LAN between a cluster's nodes. */
export const LAN_DEV = 'lan0';
/** The address a pod's default route points at, on the node's end of every pod veth. */
export const POD_GATEWAY = '169.254.1.1';

export function planDemo(topology: Topology, clusters: readonly ClusterInput[], prefix = DEMO_PREFIX): DemoPlan {
  if (topology.links.length > 255) throw new DemoPlanError('more than 255 links do not fit the 10.200.<link>.0/24 addressing');
  const clusterOf = new Map<IA, ClusterInput>();
  for (const c of clusters) {
    const as = topology.ases.get(c.ia);
    if (!as) throw new DemoPlanError(`cluster ${c.name}: ${formatIA(c.ia)} is not in the topology`);
    for (const ifid of c.uplinks) {
      if (!as.interfaces.has(ifid)) throw new DemoPlanError(`cluster ${c.name}: uplink ${ifid} is not an interface of ${formatIA(c.ia)} in the topology`);
    }
    if (c.pods.length === 0) throw new DemoPlanError(`cluster ${c.name} has no pods`);
    clusterOf.set(c.ia, c);
  }
  const plan: DemoPlan = { prefix, routers: [], wanLinks: [], segments: [], nodes: [], pods: [], underlays: new Map() };
  const asNs = new Map<IA, string>();
  for (const ia of [...topology.ases.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (clusterOf.has(ia)) continue;
    const ns = `${prefix}-as-${slug(ia)}`;
    asNs.set(ia, ns);
    plan.routers.push({ ia, ns });
  }

  const nodesOf = new Map<string, PlannedNode[]>();
  clusters.forEach((c, ci) => {
    const names = [...new Set(c.pods.map((p) => p.node))].sort();
    const nodes = names.map((name, ni) => ({
      cluster: c.name, name, ns: `${prefix}-node-${name}`, lanIp: `10.210.${ci}.${ni + 1}`, uplinks: [...c.uplinks].sort((a, b) => a - b), routes: [] as Route[],
    }));
    nodesOf.set(c.name, nodes);
    plan.nodes.push(...nodes);
    for (const node of nodes) {
      c.pods
        .filter((p) => p.node === node.name)
        .forEach((w, k) => {
          const hostIf = `lxc${k}`;
          plan.pods.push({ cluster: c.name, node: node.name, workload: w, ns: `${prefix}-pod-${c.name}-${w.namespace}-${w.name}`, hostIf });
          node.routes.push({ prefix: `${w.ip}/32`, dev: hostIf });
        });
      for (const other of nodes) {
        if (other === node) continue;
        for (const w of c.pods.filter((p) => p.node === other.name)) node.routes.push({ prefix: `${w.ip}/32`, dev: LAN_DEV, via: other.lanIp });
      }
    }
  });

  topology.links.forEach((link, k) => {
    const ca = clusterOf.get(link.a.ia);
    const cb = clusterOf.get(link.b.ia);
    if (ca && cb) throw new DemoPlanError(`link ${ifaceKey(link.a.ia, link.a.ifid)} joins two clusters; the demo puts a router between them`);
    if (!ca && !cb) {
      const end = (ia: IA, ifid: number, host: number): PlannedInterface => ({
        ia, ifid, ns: asNs.get(ia) as string, ifname: `if${ifid}`, ip: `10.200.${k}.${host}`, port: PORT_BASE + ifid,
      });
      const l = { index: k, a: end(link.a.ia, link.a.ifid, 1), b: end(link.b.ia, link.b.ifid, 2) };
      plan.wanLinks.push(l);
      plan.underlays.set(ifaceKey(l.a.ia, l.a.ifid), `${l.a.ip}:${l.a.port}`);
      plan.underlays.set(ifaceKey(l.b.ia, l.b.ifid), `${l.b.ip}:${l.b.port}`);
      return;
    }
    const [cluster, own, remote] = ca ? [ca, link.a, link.b] : [cb as ClusterInput, link.b, link.a];
    // A cluster interface that is no uplink of the ClusterAS stays unwired.
    if (!cluster.uplinks.includes(own.ifid)) return;
    const nodes = nodesOf.get(cluster.name) as PlannedNode[];
    const router: PlannedInterface = {
      ia: remote.ia, ifid: remote.ifid, ns: asNs.get(remote.ia) as string, ifname: `if${remote.ifid}`, ip: `10.200.${k}.1`, port: PORT_BASE + remote.ifid,
    };
    const members = nodes.map((n, i) => ({ node: n.name, ns: n.ns, ip: `10.200.${k}.${i + 2}`, port: `n${i}` }));
    // Incoming packets of an interface go to one node; the uplinks take turns among the nodes.
    const receiver = members[[...cluster.uplinks].sort((a, b) => a - b).indexOf(own.ifid) % members.length];
    plan.segments.push({ index: k, cluster: cluster.name, ifid: own.ifid, ns: `${prefix}-sw-${cluster.name}-${own.ifid}`, router, members, receiver: receiver.node });
    plan.underlays.set(ifaceKey(router.ia, router.ifid), `${router.ip}:${router.port}`);
    plan.underlays.set(ifaceKey(cluster.ia, own.ifid), `${receiver.ip}:${PORT_BASE + own.ifid}`);
  });

  for (const c of clusters) {
    const segs = plan.segments.filter((s) => s.cluster === c.name).sort((a, b) => a.ifid - b.ifid);
    const missing = c.uplinks.filter((i) => !segs.some((s) => s.ifid === i));
    if (missing.length > 0) throw new DemoPlanError(`cluster ${c.name}: uplink ${missing.join(', ')} has no link in the topology`);
    // The stack only has to hand remote-cluster packets to an uplink; tc egress picks the path.
    const first = segs[0];
    for (const node of nodesOf.get(c.name) as PlannedNode[]) {
      for (const p of c.remotePrefixes) node.routes.push({ prefix: p, dev: `if${first.ifid}`, via: first.router.ip });
    }
  }
  return plan;
}
