// The demo's SRv6 provider network, decided before anything is created: one namespace per
// provider node of the SID catalogue (its `cillion srv6-node` runs the XDP endpoint program
// on every interface), an IPv6 veth link per catalogue link between two provider nodes, and
// for each provider a cluster's edge nodes attach to, one switched segment (a bridge in a
// switch namespace) joining that provider and those nodes, as the SCION uplinks do. Every
// node gets a static route to every other node's locator along the lowest-latency path
// through provider nodes, so End's FIB lookup finds the next segment. Pure: the builder, the
// processes and the tests read the same plan.
import { DemoPlanError, type Route } from './plan';

/** What the planner needs of the catalogue: nodes with a role and a locator, links with latency. */
export interface Srv6NodeInput {
  name: string;
  role: 'provider' | 'edge';
  /** The locator prefix, e.g. "fc00:0:1::/48". */
  locator: string;
}

export interface Srv6LinkInput {
  a: string;
  b: string;
  latencyMs: number;
}

/** One end of a provider link or a segment: a device with an IPv6 address (/64) in a namespace. */
export interface Srv6Port {
  node: string;
  ns: string;
  ifname: string;
  ip: string;
}

export interface Srv6Link {
  index: number;
  latencyMs: number;
  a: Srv6Port;
  b: Srv6Port;
}

/** A cluster's edge nodes and the provider node they attach to, on one LAN. */
export interface Srv6Segment {
  index: number;
  cluster: string;
  /** The switch namespace. */
  ns: string;
  provider: Srv6Port;
  /** Each member's `port` is the switch's port for it. */
  members: Array<Srv6Port & { cluster: string; port: string }>;
}

export interface Srv6ProviderNode {
  name: string;
  ns: string;
  locator: string;
  /** Its devices, each gets the XDP endpoint program. */
  devices: string[];
  routes: Route[];
}

/** An edge node of the demo on its SRv6 uplink: the agent's `--srv6-uplink`. */
export interface Srv6EdgeNode {
  name: string;
  cluster: string;
  ns: string;
  dev: string;
  ip: string;
  locator: string;
  routes: Route[];
}

export interface Srv6Plan {
  providers: Srv6ProviderNode[];
  links: Srv6Link[];
  segments: Srv6Segment[];
  edges: Srv6EdgeNode[];
}

/** The edge node's device on its segment. */
export const SRV6_UPLINK_DEV = 'sr0';
/** Addresses of provider links (fd00:a:<link>::/64) and of segments (fd00:b:<segment>::/64): outside every locator and pod prefix. */
const linkNet = (k: number): string => `fd00:a:${k.toString(16)}::`;
const segmentNet = (k: number): string => `fd00:b:${k.toString(16)}::`;
/** Linux device names: at most 15 characters. */
const IFNAMSIZ = 15;

/**
 * `nodes` are the demo's cluster nodes (name, cluster, namespace); an edge node of the
 * catalogue that is none of them is an error, as is a demo node the catalogue attaches to
 * more than one provider (the agent takes one SRv6 uplink).
 */
export function planSrv6(
  catalogue: { nodes: readonly Srv6NodeInput[]; links: readonly Srv6LinkInput[] },
  nodes: ReadonlyArray<{ name: string; cluster: string; ns: string }>,
  prefix: string,
): Srv6Plan {
  const byName = new Map(catalogue.nodes.map((n) => [n.name, n]));
  const demoNode = new Map(nodes.map((n) => [n.name, n]));
  for (const n of catalogue.nodes) {
    if (n.role === 'edge' && !demoNode.has(n.name)) throw new DemoPlanError(`SRv6 catalogue: edge node ${n.name} is no node of the demo's clusters (${[...demoNode.keys()].join(', ')})`);
  }
  const providers: Srv6ProviderNode[] = catalogue.nodes
    .filter((n) => n.role === 'provider')
    .map((n) => ({ name: n.name, ns: `${prefix}-srv6-${n.name}`, locator: n.locator, devices: [], routes: [] }));
  const provider = new Map(providers.map((p) => [p.name, p]));
  const plan: Srv6Plan = { providers, links: [], segments: [], edges: [] };

  // Where each link leads, per node: the device, and the neighbour's address as next hop.
  const adjacency = new Map<string, Array<{ to: string; latencyMs: number; dev: string; via: string }>>();
  const adj = (from: string, to: string, latencyMs: number, dev: string, via: string): void => {
    const list = adjacency.get(from) ?? [];
    list.push({ to, latencyMs, dev, via });
    adjacency.set(from, list);
  };
  const segmentOf = new Map<string, Srv6Segment>();
  for (const l of catalogue.links) {
    const a = byName.get(l.a);
    const b = byName.get(l.b);
    if (!a || !b) throw new DemoPlanError(`SRv6 catalogue: link ${l.a} - ${l.b} names an unknown node`);
    if (a.role === 'edge' && b.role === 'edge') throw new DemoPlanError(`SRv6 catalogue: link ${l.a} - ${l.b} joins two edge nodes; the demo puts a provider node between them`);
    if (a.role === 'provider' && b.role === 'provider') {
      const k = plan.links.length;
      const dev = (p: Srv6ProviderNode): string => `sr${p.devices.length}`;
      const pa = provider.get(a.name) as Srv6ProviderNode;
      const pb = provider.get(b.name) as Srv6ProviderNode;
      const link: Srv6Link = {
        index: k,
        latencyMs: l.latencyMs,
        a: { node: pa.name, ns: pa.ns, ifname: dev(pa), ip: `${linkNet(k)}1` },
        b: { node: pb.name, ns: pb.ns, ifname: dev(pb), ip: `${linkNet(k)}2` },
      };
      pa.devices.push(link.a.ifname);
      pb.devices.push(link.b.ifname);
      plan.links.push(link);
      adj(pa.name, pb.name, l.latencyMs, link.a.ifname, link.b.ip);
      adj(pb.name, pa.name, l.latencyMs, link.b.ifname, link.a.ip);
      continue;
    }
    const [edge, pe] = a.role === 'edge' ? [a, b] : [b, a];
    const node = demoNode.get(edge.name) as { name: string; cluster: string; ns: string };
    if (plan.edges.some((e) => e.name === edge.name)) throw new DemoPlanError(`SRv6 catalogue: edge node ${edge.name} links to more than one provider node; the demo gives a node one SRv6 uplink`);
    const p = provider.get(pe.name) as Srv6ProviderNode;
    const key = `${node.cluster}\0${p.name}`;
    let seg = segmentOf.get(key);
    if (!seg) {
      const j = plan.segments.length;
      // One segment per cluster and provider, so the cluster's name tells the provider's devices apart.
      const named = `up-${node.cluster}`.slice(0, IFNAMSIZ);
      const ifname = p.devices.includes(named) ? `up${j}` : named;
      seg = { index: j, cluster: node.cluster, ns: `${prefix}-sw6-${node.cluster}-${p.name}`, provider: { node: p.name, ns: p.ns, ifname, ip: `${segmentNet(j)}1` }, members: [] };
      p.devices.push(seg.provider.ifname);
      plan.segments.push(seg);
      segmentOf.set(key, seg);
    }
    const member = { node: node.name, cluster: node.cluster, ns: node.ns, ifname: SRV6_UPLINK_DEV, ip: `${segmentNet(seg.index)}${(seg.members.length + 2).toString(16)}`, port: `n${seg.members.length}` };
    seg.members.push(member);
    plan.edges.push({ name: node.name, cluster: node.cluster, ns: node.ns, dev: SRV6_UPLINK_DEV, ip: member.ip, locator: edge.locator, routes: [] });
    adj(p.name, edge.name, l.latencyMs, seg.provider.ifname, member.ip);
    adj(edge.name, p.name, l.latencyMs, SRV6_UPLINK_DEV, seg.provider.ip);
  }

  const locators = catalogue.nodes.map((n) => ({ node: n.name, locator: n.locator }));
  for (const from of [...plan.providers, ...plan.edges]) {
    const first = firstHops(from.name, adjacency, (n) => provider.has(n));
    for (const { node, locator } of locators) {
      if (node === from.name) continue;
      const hop = first.get(node);
      if (hop) from.routes.push({ prefix: locator, dev: hop.dev, via: hop.via });
    }
  }
  return plan;
}

/**
 * For every node reachable from `src`, the first link of a lowest-latency path whose
 * intermediate nodes all pass `transit` (Dijkstra; ties keep the link met first, so the
 * catalogue's order decides).
 */
function firstHops(
  src: string,
  adjacency: ReadonlyMap<string, ReadonlyArray<{ to: string; latencyMs: number; dev: string; via: string }>>,
  transit: (node: string) => boolean,
): Map<string, { dev: string; via: string }> {
  const dist = new Map<string, number>([[src, 0]]);
  const first = new Map<string, { dev: string; via: string }>();
  const done = new Set<string>();
  for (;;) {
    let cur: string | undefined;
    for (const [n, d] of dist) if (!done.has(n) && (cur === undefined || d < (dist.get(cur) as number))) cur = n;
    if (cur === undefined) return first;
    done.add(cur);
    if (cur !== src && !transit(cur)) continue;
    for (const e of adjacency.get(cur) ?? []) {
      const d = (dist.get(cur) as number) + e.latencyMs;
      if (d < (dist.get(e.to) ?? Infinity)) {
        dist.set(e.to, d);
        first.set(e.to, cur === src ? { dev: e.dev, via: e.via } : (first.get(cur) as { dev: string; via: string }));
      }
    }
  }
}
