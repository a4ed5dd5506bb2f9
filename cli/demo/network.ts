// Builds a DemoPlan as namespaces, veth links and bridges on this machine. Programs are
// not loaded here: routers and agents load and attach their own from the root namespace.
import { LAN_DEV, POD_GATEWAY, type DemoPlan } from './plan';
import { NetnsHosts } from './netns';
import type { Srv6Plan } from './srv6_plan';

/** Pods get a smaller MTU than the underlay so the SCION overhead always fits. */
const POD_MTU = 1280;
/** Root-namespace names of veth pairs between creation and move; swept after a crash. */
export const TMP_LINK_TAG = 'cdmtmp';

/** Called after each namespace with what is being built and how far it got. */
export type BuildProgress = (step: string, done: number, total: number) => void;

function offloadsOff(hosts: NetnsHosts, ns: string, dev: string, features: string[]): void {
  hosts.exec(ns, 'ethtool', ['-K', dev, ...features.flatMap((f) => [f, 'off'])]);
}

/** Builds everything or throws; a half-built network is left to the prefix sweep. */
export function buildNetwork(plan: DemoPlan, progress: BuildProgress, srv6?: Srv6Plan): void {
  const hosts = new NetnsHosts(plan.prefix, TMP_LINK_TAG);
  const total = plan.routers.length + plan.segments.length + plan.nodes.length + plan.pods.length + (srv6 ? srv6.providers.length + srv6.segments.length : 0);
  let done = 0;
  const step = (what: string): void => progress(what, ++done, total);

  for (const r of plan.routers) {
    hosts.addHost(r.ns.slice(plan.prefix.length + 1));
    step('transit AS namespaces');
  }
  for (const n of plan.nodes) {
    const ns = hosts.addHost(n.ns.slice(plan.prefix.length + 1));
    hosts.exec(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    step('node namespaces');
  }
  for (const l of plan.wanLinks) {
    hosts.link({ ns: l.a.ns, ifname: l.a.ifname, addr: `${l.a.ip}/24` }, { ns: l.b.ns, ifname: l.b.ifname, addr: `${l.b.ip}/24` });
  }
  for (const s of plan.segments) {
    const sw = hosts.addHost(s.ns.slice(plan.prefix.length + 1));
    step('uplink segments');
    hosts.exec(sw, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    hosts.exec(sw, 'ip', ['link', 'set', 'br0', 'up']);
    hosts.link({ ns: s.router.ns, ifname: s.router.ifname, addr: `${s.router.ip}/24` }, { ns: sw, ifname: 'rt' });
    // The router redirects frames in XDP onto its veth; the peer takes them only with NAPI,
    // which GRO switches on when no XDP program runs there.
    hosts.exec(sw, 'ethtool', ['-K', 'rt', 'gro', 'on']);
    hosts.exec(sw, 'ip', ['link', 'set', 'rt', 'master', 'br0']);
    for (const m of s.members) {
      hosts.link({ ns: m.ns, ifname: `if${s.ifid}`, addr: `${m.ip}/24` }, { ns: sw, ifname: m.port });
      hosts.exec(sw, 'ip', ['link', 'set', m.port, 'master', 'br0']);
      // The edge's tc egress sees whole, checksummed packets only without offloads.
      offloadsOff(hosts, m.ns, `if${s.ifid}`, ['tso', 'gso', 'gro']);
    }
  }
  const clusters = [...new Set(plan.nodes.map((n) => n.cluster))];
  for (const c of clusters) {
    const nodes = plan.nodes.filter((n) => n.cluster === c);
    // Two nodes share one veth; more would need a bridge, which no cluster of the demo has.
    if (nodes.length > 2) throw new Error(`cluster ${c}: the demo joins at most two nodes`);
    if (nodes.length === 2) {
      hosts.link({ ns: nodes[0].ns, ifname: LAN_DEV, addr: `${nodes[0].lanIp}/24` }, { ns: nodes[1].ns, ifname: LAN_DEV, addr: `${nodes[1].lanIp}/24` });
    }
  }
  for (const p of plan.pods) {
    const node = plan.nodes.find((n) => n.name === p.node && n.cluster === p.cluster);
    if (!node) throw new Error(`pod ${p.workload.name}: no node ${p.node}`);
    const ns = hosts.addHost(p.ns.slice(plan.prefix.length + 1));
    hosts.link({ ns, ifname: 'eth0', addr: `${p.workload.ip}/32` }, { ns: node.ns, ifname: p.hostIf, addr: `${POD_GATEWAY}/32` });
    hosts.exec(ns, 'ip', ['link', 'set', 'eth0', 'mtu', String(POD_MTU)]);
    hosts.exec(ns, 'ip', ['route', 'add', 'default', 'via', POD_GATEWAY, 'dev', 'eth0', 'onlink']);
    offloadsOff(hosts, ns, 'eth0', ['tso', 'gso', 'tx']);
    offloadsOff(hosts, node.ns, p.hostIf, ['gro']);
    step('pod namespaces');
  }
  for (const n of plan.nodes) {
    for (const r of n.routes) hosts.exec(n.ns, 'ip', ['route', 'replace', r.prefix, ...(r.via ? ['via', r.via] : []), 'dev', r.dev]);
  }
  if (srv6) buildSrv6(hosts, plan.prefix, srv6, step);
}

/** An IPv6 address on a device, usable at once: duplicate address detection would hold it back a second or more. */
function addr6(hosts: NetnsHosts, ns: string, dev: string, ip: string): void {
  hosts.exec(ns, 'ip', ['-6', 'addr', 'add', `${ip}/64`, 'dev', dev, 'nodad']);
}

/**
 * The SRv6 provider network: provider namespaces forwarding IPv6, their links, one switched
 * segment per cluster and provider with the cluster's nodes on it, and every node's routes
 * to the locators. The node namespaces exist already.
 */
function buildSrv6(hosts: NetnsHosts, prefix: string, srv6: Srv6Plan, step: (what: string) => void): void {
  for (const p of srv6.providers) {
    const ns = hosts.addHost(p.ns.slice(prefix.length + 1));
    // End falls back to the kernel when it has no neighbour entry for the next segment yet.
    hosts.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    step('SRv6 provider namespaces');
  }
  for (const l of srv6.links) {
    hosts.link({ ns: l.a.ns, ifname: l.a.ifname }, { ns: l.b.ns, ifname: l.b.ifname });
    addr6(hosts, l.a.ns, l.a.ifname, l.a.ip);
    addr6(hosts, l.b.ns, l.b.ifname, l.b.ip);
  }
  for (const s of srv6.segments) {
    const sw = hosts.addHost(s.ns.slice(prefix.length + 1));
    step('SRv6 uplink segments');
    hosts.exec(sw, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    hosts.exec(sw, 'ip', ['link', 'set', 'br0', 'up']);
    hosts.link({ ns: s.provider.ns, ifname: s.provider.ifname }, { ns: sw, ifname: 'pe' });
    addr6(hosts, s.provider.ns, s.provider.ifname, s.provider.ip);
    // The provider's XDP redirects onto this veth: its peer takes such frames only with NAPI (GRO on).
    hosts.exec(sw, 'ethtool', ['-K', 'pe', 'gro', 'on']);
    hosts.exec(sw, 'ip', ['link', 'set', 'pe', 'master', 'br0']);
    for (const m of s.members) {
      hosts.link({ ns: m.ns, ifname: m.ifname }, { ns: sw, ifname: m.port });
      addr6(hosts, m.ns, m.ifname, m.ip);
      hosts.exec(sw, 'ip', ['link', 'set', m.port, 'master', 'br0']);
      offloadsOff(hosts, m.ns, m.ifname, ['tso', 'gso', 'gro']);
    }
  }
  for (const n of [...srv6.providers, ...srv6.edges]) {
    for (const r of n.routes) hosts.exec(n.ns, 'ip', ['-6', 'route', 'replace', r.prefix, ...(r.via ? ['via', r.via] : []), 'dev', r.dev]);
  }
}
