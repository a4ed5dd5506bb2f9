// A SCION WAN from a topology file, built as network namespaces on this machine: one
// namespace per AS, one veth pair per link (10.200.<link>.1 and .2, UDP port 50000 +
// interface id), the XDP router on every interface of a transit AS, the edge programs on
// the uplinks of a cluster AS, and pods in namespaces of their own behind their node.
// Everything is torn down by destroy(), also after a failed test.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hopFieldKeyMaterial } from '../../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../../bpf/clock';
import { EdgeDatapath, PIN_BASE, RouterDatapath } from '../../../bpf/datapath';
import { headerTemplate, processSourceHop } from '../../../bpf/template';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { loadTopology, type Topology as WanTopology } from '../../../controlplane/topology';
import { formatIA, type IA } from '../../../scion/isdas';
import type { ScionPath } from '../../../scion/path/model';
import { Topology } from './topology';

export const EXAMPLE_TOPOLOGY = join(__dirname, '..', '..', '..', 'examples', 'topology.yaml');
const PORT_BASE = 50000;
/** Pods get a smaller MTU than the underlay so the SCION overhead always fits. */
const POD_MTU = 1280;
const UNDERLAY_MTU = 1500;

export interface WanInterface {
  ia: IA;
  ifid: number;
  ns: string;
  ifname: string;
  ifindex: number;
  mac: string;
  ip: string;
  port: number;
  remote: { ia: IA; ifid: number; ip: string; port: number; mac: string };
}

export interface Pod {
  name: string;
  ia: IA;
  ns: string;
  ip: string;
  identity: number;
  hostIfindex: number;
}

function asSlug(ia: IA): string {
  return formatIA(ia).replace(/[-:]/g, '_');
}

export class Wan {
  readonly hosts: Topology;
  readonly topology: WanTopology;
  readonly control: EmbeddedPathService;
  readonly asNs = new Map<IA, string>();
  readonly ifaces = new Map<string, WanInterface>();
  readonly routers = new Map<IA, RouterDatapath>();
  readonly edges = new Map<IA, EdgeDatapath>();
  readonly pods = new Map<string, Pod>();
  private readonly instances: string[] = [];
  private nextPathId = 1;
  private readonly pathUplink = new Map<number, WanInterface>();
  private readonly edgeInstances = new Map<IA, string>();
  /** Plain IP forwarding through the same namespaces, no programs: the benchmark's baseline. */
  private readonly plain: boolean;
  /** SPAO authentication at the edges (EdgeLoadOptions.spao). */
  private readonly spao: 'on' | 'off';
  private edgeAses: IA[] = [];

  constructor(
    private readonly ases: readonly IA[],
    opts: { topologyFile?: string; prefix?: string; now?: () => number; plain?: boolean; spao?: 'on' | 'off' } = {},
  ) {
    this.plain = opts.plain ?? false;
    this.spao = opts.spao ?? 'off';
    const file = opts.topologyFile ?? EXAMPLE_TOPOLOGY;
    this.hosts = new Topology(opts.prefix ?? `cilwan${process.pid}`);
    this.topology = loadTopology(file);
    this.control = EmbeddedPathService.fromFile(file, { ...(opts.now ? { now: opts.now } : {}) });
  }

  iface(ia: IA, ifid: number): WanInterface {
    const f = this.ifaces.get(`${formatIA(ia)}#${ifid}`);
    if (!f) throw new Error(`${formatIA(ia)}#${ifid} is not part of this WAN`);
    return f;
  }

  /** Namespaces and links for every instantiated AS; routers on the transit ASes. */
  build(edgeAses: readonly IA[]): this {
    for (const ia of this.ases) {
      const ns = this.hosts.addHost(`as${asSlug(ia)}`);
      this.asNs.set(ia, ns);
      this.hosts.exec(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    }
    this.topology.links.forEach((link, k) => {
      const nsA = this.asNs.get(link.a.ia);
      const nsB = this.asNs.get(link.b.ia);
      if (!nsA || !nsB) return;
      const ipA = `10.200.${k}.1`;
      const ipB = `10.200.${k}.2`;
      const l = this.hosts.link(
        { ns: nsA, ifname: `if${link.a.ifid}`, addr: `${ipA}/24` },
        { ns: nsB, ifname: `if${link.b.ifid}`, addr: `${ipB}/24` },
      );
      const a: WanInterface = {
        ia: link.a.ia, ifid: link.a.ifid, ns: nsA, ifname: `if${link.a.ifid}`, ifindex: l.a.ifindex, mac: l.a.mac, ip: ipA,
        port: PORT_BASE + link.a.ifid,
        remote: { ia: link.b.ia, ifid: link.b.ifid, ip: ipB, port: PORT_BASE + link.b.ifid, mac: l.b.mac },
      };
      const b: WanInterface = {
        ia: link.b.ia, ifid: link.b.ifid, ns: nsB, ifname: `if${link.b.ifid}`, ifindex: l.b.ifindex, mac: l.b.mac, ip: ipB,
        port: PORT_BASE + link.b.ifid,
        remote: { ia: link.a.ia, ifid: link.a.ifid, ip: ipA, port: PORT_BASE + link.a.ifid, mac: l.a.mac },
      };
      this.ifaces.set(`${formatIA(a.ia)}#${a.ifid}`, a);
      this.ifaces.set(`${formatIA(b.ia)}#${b.ifid}`, b);
    });
    for (const ia of this.ases) {
      if (this.plain) continue;
      if (edgeAses.includes(ia)) this.startEdge(ia);
      else this.startRouter(ia);
    }
    this.edgeAses = [...edgeAses];
    return this;
  }

  private asIfaces(ia: IA): WanInterface[] {
    return [...this.ifaces.values()].filter((f) => f.ia === ia);
  }

  private instance(kind: string, ia: IA): string {
    const name = `${this.hosts.prefix}/${kind}-${asSlug(ia)}`;
    rmSync(join(PIN_BASE, name), { recursive: true, force: true });
    this.instances.push(name);
    return name;
  }

  /** The AS config plus interface maps every datapath object needs. */
  private configure(dp: RouterDatapath | EdgeDatapath, ia: IA): void {
    const as = this.topology.ases.get(ia);
    if (!as) throw new Error(`${formatIA(ia)} is not in the topology`);
    dp.config.set(0, { localIA: ia, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(as.hopKey) });
    for (const f of this.asIfaces(ia)) {
      dp.ifindexToIfid.set(f.ifindex, f.ifid);
      dp.interfaces.set(f.ifid, {
        ifindex: f.ifindex, localIp: f.ip, remoteIp: f.remote.ip, localPort: f.port, remotePort: f.remote.port,
        localMac: f.mac, remoteMac: f.remote.mac,
      });
    }
  }

  private startRouter(ia: IA): void {
    const dp = RouterDatapath.load({ instance: this.instance('router', ia) });
    this.routers.set(ia, dp);
    this.configure(dp, ia);
    for (const f of this.asIfaces(ia)) dp.attach(f.ifindex, `/var/run/netns/${f.ns}`);
  }

  private startEdge(ia: IA): void {
    const instance = this.instance('edge', ia);
    this.edgeInstances.set(ia, instance);
    const dp = EdgeDatapath.load({ instance, spao: this.spao });
    this.edges.set(ia, dp);
    this.configure(dp, ia);
    const ns = this.asNs.get(ia) as string;
    for (const f of this.asIfaces(ia)) {
      dp.attach(f.ifindex, `/var/run/netns/${f.ns}`);
      // Pods' packets reach tc egress already segmented and with full checksums.
      this.hosts.exec(ns, 'ethtool', ['-K', f.ifname, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    }
  }

  /** A pod behind the node of cluster AS `ia`, with a security identity. */
  addPod(name: string, ia: IA, ip: string, identity: number): Pod {
    const nodeNs = this.asNs.get(ia);
    const edge = this.edges.get(ia);
    if (!nodeNs || !this.edgeAses.includes(ia)) throw new Error(`${formatIA(ia)} is not a cluster AS of this WAN`);
    const ns = this.hosts.addHost(`pod-${name}`);
    const hostIf = `lxc${name}`.slice(0, 15);
    const l = this.hosts.link({ ns, ifname: 'eth0', addr: `${ip}/32` }, { ns: nodeNs, ifname: hostIf, addr: '169.254.1.1/32' });
    this.hosts.exec(ns, 'ip', ['link', 'set', 'eth0', 'mtu', String(POD_MTU)]);
    this.hosts.exec(ns, 'ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
    this.hosts.exec(ns, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'tx', 'off']);
    this.hosts.exec(nodeNs, 'ip', ['route', 'add', `${ip}/32`, 'dev', hostIf]);
    this.hosts.exec(nodeNs, 'ethtool', ['-K', hostIf, 'gro', 'off']);
    const pod: Pod = { name, ia, ns, ip, identity, hostIfindex: l.b.ifindex };
    edge?.endpoints.set(ip, { identity, ifindex: l.b.ifindex });
    this.pods.set(name, pod);
    return pod;
  }

  /** Paths from `src` to `dst` whose every AS is part of this WAN. */
  paths(src: IA, dst: IA): ControlPlanePath[] {
    return this.control.pathsSync(src, dst).filter((p) => p.ases.every((ia) => this.asNs.has(ia)));
  }

  /**
   * Writes one path into `src`'s paths map and returns its id. `edit` may change the
   * processed path before the template is built (tests use it to break a hop field).
   */
  programPath(src: IA, cp: ControlPlanePath, opts: { mtu?: number; edit?: (p: ScionPath) => void } = {}): number {
    const edge = this.edges.get(src);
    if (!edge) throw new Error(`${formatIA(src)} is not a cluster AS of this WAN`);
    const { path, egressIfid } = processSourceHop(cp.path);
    opts.edit?.(path);
    const up = this.iface(src, egressIfid);
    const id = this.nextPathId++;
    edge.paths.set(id, {
      ifindex: up.ifindex, mtu: opts.mtu ?? Math.min(cp.mtu, UNDERLAY_MTU - 28), srcMac: up.mac, dstMac: up.remote.mac,
      srcIp: up.ip, dstIp: up.remote.ip, srcPort: up.port, dstPort: up.remote.port, egressIfid,
      header: headerTemplate(cp.src, cp.dst, path),
    });
    this.pathUplink.set(id, up);
    return id;
  }

  /** Sends identity's traffic to `prefix` over the path set `ids`, and routes the prefix to an uplink. */
  policy(src: IA, identity: number, prefix: string, ids: readonly number[]): void {
    const edge = this.edges.get(src);
    const ns = this.asNs.get(src);
    const up = this.pathUplink.get(ids[0]);
    if (!edge || !ns || !up) throw new Error(`no edge in ${formatIA(src)} or unknown path ${ids[0]}`);
    edge.egressPolicy.set({ identity, prefix }, [...ids]);
    // The stack only has to hand the packet to an uplink; tc egress takes it from there.
    this.hosts.exec(ns, 'ip', ['route', 'replace', prefix, 'via', up.remote.ip, 'dev', up.ifname]);
  }

  /** programPath for each path, then policy; returns the path ids in order. */
  route(src: IA, identity: number, prefix: string, paths: readonly ControlPlanePath[]): number[] {
    const ids = paths.map((cp) => this.programPath(src, cp));
    this.policy(src, identity, prefix, ids);
    return ids;
  }

  /** Plain IP routes for `prefix` hop by hop along `ases` (for the plain baseline). */
  plainRoute(prefix: string, ases: readonly IA[]): void {
    for (let i = 0; i + 1 < ases.length; i++) {
      const out = this.asIfaces(ases[i]).find((f) => f.remote.ia === ases[i + 1]);
      if (!out) throw new Error(`no link from ${formatIA(ases[i])} to ${formatIA(ases[i + 1])}`);
      this.hosts.exec(out.ns, 'ip', ['route', 'replace', prefix, 'via', out.remote.ip, 'dev', out.ifname]);
    }
  }

  /**
   * What an agent restart does: the old object goes away without detaching, a new one
   * loads from the same pinned maps and attaches over the old programs.
   */
  restartEdge(ia: IA): EdgeDatapath {
    const old = this.edges.get(ia);
    const instance = this.edgeInstances.get(ia);
    if (!old || !instance) throw new Error(`${formatIA(ia)} has no edge`);
    old.close();
    const dp = EdgeDatapath.load({ instance });
    this.edges.set(ia, dp);
    for (const f of this.asIfaces(ia)) dp.attach(f.ifindex, `/var/run/netns/${f.ns}`);
    return dp;
  }

  /** The pin directory of an edge's objects, for an agent process that takes the edge over. */
  edgeInstance(ia: IA): string {
    const instance = this.edgeInstances.get(ia);
    if (!instance) throw new Error(`${formatIA(ia)} has no edge`);
    return instance;
  }

  /** Removes what a crashed run with this prefix left: namespaces and pinned maps. */
  static sweep(prefix: string): void {
    Topology.sweep(prefix);
    rmSync(join(PIN_BASE, prefix), { recursive: true, force: true });
  }

  /** Detaches and unloads every program, removes pinned maps and every namespace. */
  destroy(): void {
    for (const [ia, dp] of [...this.routers, ...this.edges]) {
      for (const f of this.asIfaces(ia)) {
        try {
          dp.detach(f.ifindex, `/var/run/netns/${f.ns}`);
        } catch {
          // The namespace may already be gone with its devices.
        }
      }
      dp.close();
    }
    this.routers.clear();
    this.edges.clear();
    this.hosts.destroy();
    for (const name of this.instances.splice(0)) rmSync(join(PIN_BASE, name), { recursive: true, force: true });
    rmSync(join(PIN_BASE, this.hosts.prefix), { recursive: true, force: true });
  }
}
