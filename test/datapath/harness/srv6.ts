// A small SRv6 network in network namespaces: two edge nodes, each with a pod behind it,
// joined through one provider node. Every node runs srv6_endpoint (XDP) on its links; the
// edges also run srv6_encap at tc egress of their uplink. Links carry IPv6 (fd00:<link>::/64)
// for the segments and IPv4 (10.201.<link>.0/30) only so that a pod's packet finds its way
// to the uplink's tc egress. Everything is torn down by destroy(), also after a failed test.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PIN_BASE } from '../../../bpf/datapath';
import { ipv6Bytes, srv6Header } from '../../../bpf/maps';
import { decodeBatch, type PacketRecord } from '../../../bpf/records';
import { RingReader } from '../../../bpf/native';
import { Srv6Datapath } from '../../../bpf/srv6_datapath';
import { ethernet } from './frames';
import { Topology } from './topology';

export const ETH_P_IPV6 = 0x86dd;

const POD_MTU = 1280;

export interface Srv6Node {
  name: string;
  ns: string;
  dp: Srv6Datapath;
  /** Locator and the SIDs programmed so far. */
  locator: string;
  /** Devices srv6_endpoint is attached to. */
  ifaces: Array<{ ifname: string; ifindex: number; mac: string; ip6: string; ip4: string; peer: { mac: string; ip6: string; ip4: string } }>;
}

export interface Srv6Pod {
  name: string;
  ns: string;
  ip: string;
  identity: number;
  node: Srv6Node;
}

/**
 * An SRH (RFC 8754) for `travel` segments (first to visit first), Segments Left pointing at
 * the first; `tlvs` are appended as given (already padded to a multiple of 8 bytes).
 */
export function buildSrh(travel: readonly Uint8Array[], opts: { nextHeader?: number; tlvs?: Uint8Array; flags?: number } = {}): Buffer {
  const tlvs = opts.tlvs ?? new Uint8Array(0);
  const len = 8 + 16 * travel.length + tlvs.length;
  const b = Buffer.alloc(len);
  b[0] = opts.nextHeader ?? 4;
  b[1] = len / 8 - 1;
  b[2] = 4;
  b[3] = travel.length - 1;
  b[4] = travel.length - 1;
  b[5] = opts.flags ?? 0;
  [...travel].reverse().forEach((s, i) => b.set(s, 8 + 16 * i));
  b.set(tlvs, 8 + 16 * travel.length);
  return b;
}

export class Srv6Net {
  readonly hosts: Topology;
  readonly nodes = new Map<string, Srv6Node>();
  readonly pods = new Map<string, Srv6Pod>();
  private readonly instances: string[] = [];
  private links = 0;
  private nextSeglist = 1;

  constructor(readonly prefix: string) {
    this.hosts = new Topology(prefix);
  }

  /** A node namespace with the SRv6 object loaded in an instance of its own. */
  addNode(name: string, locator: string, opts: { records?: boolean } = {}): Srv6Node {
    const ns = this.hosts.addHost(name);
    this.hosts.exec(ns, 'sysctl', [
      '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    const instance = `${this.prefix}/srv6-${name}`;
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
    this.instances.push(instance);
    const dp = Srv6Datapath.load({ instance, records: opts.records });
    dp.locators.set(locator, 1);
    const node: Srv6Node = { name, ns, dp, locator, ifaces: [] };
    this.nodes.set(name, node);
    return node;
  }

  /** A link between two nodes with srv6_endpoint on both ends. */
  connect(a: Srv6Node, b: Srv6Node): [Srv6Node['ifaces'][number], Srv6Node['ifaces'][number]] {
    const k = ++this.links;
    const ifA = `to-${b.name}`.slice(0, 15);
    const ifB = `to-${a.name}`.slice(0, 15);
    const l = this.hosts.link({ ns: a.ns, ifname: ifA, addr: `10.201.${k}.1/30` }, { ns: b.ns, ifname: ifB, addr: `10.201.${k}.2/30` });
    const ip6A = `fd00:${k}::1`;
    const ip6B = `fd00:${k}::2`;
    this.hosts.exec(a.ns, 'ip', ['-6', 'addr', 'add', `${ip6A}/64`, 'dev', ifA, 'nodad']);
    this.hosts.exec(b.ns, 'ip', ['-6', 'addr', 'add', `${ip6B}/64`, 'dev', ifB, 'nodad']);
    const ea = { ifname: ifA, ifindex: l.a.ifindex, mac: l.a.mac, ip6: ip6A, ip4: `10.201.${k}.1`, peer: { mac: l.b.mac, ip6: ip6B, ip4: `10.201.${k}.2` } };
    const eb = { ifname: ifB, ifindex: l.b.ifindex, mac: l.b.mac, ip6: ip6B, ip4: `10.201.${k}.2`, peer: { mac: l.a.mac, ip6: ip6A, ip4: `10.201.${k}.1` } };
    for (const [n, e] of [[a, ea], [b, eb]] as const) {
      n.ifaces.push(e);
      // Pods' packets reach tc egress already segmented and with full checksums.
      this.hosts.exec(n.ns, 'ethtool', ['-K', e.ifname, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      n.dp.attachEndpoint(e.ifindex, { netns: `/var/run/netns/${n.ns}` });
    }
    return [ea, eb];
  }

  /** The IPv6 route on `node` to another node's locator, via the link towards `via`. */
  route6(node: Srv6Node, locator: string, via: Srv6Node): void {
    const e = node.ifaces.find((f) => f.ifname === `to-${via.name}`.slice(0, 15));
    if (!e) throw new Error(`${node.name} has no link to ${via.name}`);
    this.hosts.exec(node.ns, 'ip', ['-6', 'route', 'replace', locator, 'via', e.peer.ip6, 'dev', e.ifname]);
  }

  /** A pod behind an edge node, known to the node's endpoints map. */
  addPod(name: string, node: Srv6Node, ip: string, identity: number): Srv6Pod {
    const ns = this.hosts.addHost(`pod-${name}`);
    const hostIf = `lxc${name}`.slice(0, 15);
    const l = this.hosts.link({ ns, ifname: 'eth0', addr: `${ip}/32` }, { ns: node.ns, ifname: hostIf, addr: '169.254.1.1/32' });
    this.hosts.exec(ns, 'ip', ['link', 'set', 'eth0', 'mtu', String(POD_MTU)]);
    this.hosts.exec(ns, 'ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
    this.hosts.exec(ns, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'tx', 'off']);
    this.hosts.exec(node.ns, 'ip', ['route', 'add', `${ip}/32`, 'dev', hostIf]);
    this.hosts.exec(node.ns, 'ethtool', ['-K', hostIf, 'gro', 'off']);
    node.dp.endpoints.set(ip, { identity, ifindex: l.b.ifindex });
    const pod = { name, ns, ip, identity, node };
    this.pods.set(name, pod);
    return pod;
  }

  /** A local SID on `node`. */
  sid(node: Srv6Node, sid: string, behavior: 'End' | 'End.DT4' | 'End.DT6', tenantId = 0): void {
    node.dp.localSids.set(sid, { behavior, tenantId, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
  }

  /**
   * Steers `identity`'s traffic to `prefix` from edge `node` over a segment list: the
   * template written to srv6_seglists, the policy to srv6_egress, and an IPv4 route that
   * hands the packet to the uplink towards `via`. Returns the segment list's id.
   */
  steer(node: Srv6Node, via: Srv6Node, opts: { identity: number; prefix: string; source: string; srh: Uint8Array; tenantId: number; mtu?: number }): number {
    const up = node.ifaces.find((f) => f.ifname === `to-${via.name}`.slice(0, 15));
    if (!up) throw new Error(`${node.name} has no link to ${via.name}`);
    const id = this.nextSeglist++;
    node.dp.seglists.set(id, {
      ifindex: up.ifindex, mtu: opts.mtu ?? 1500, tenantId: opts.tenantId, srcMac: up.mac, dstMac: up.peer.mac,
      header: srv6Header(opts.source, opts.srh),
    });
    node.dp.egress.set({ identity: opts.identity, prefix: opts.prefix }, [id]);
    this.hosts.exec(node.ns, 'ip', ['route', 'replace', opts.prefix, 'via', up.peer.ip4, 'dev', up.ifname]);
    return id;
  }

  /** Everything a node's ring holds right now. */
  drain(node: Srv6Node): PacketRecord[] {
    const reader = new RingReader(node.dp.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
    const out: PacketRecord[] = [];
    for (;;) {
      const { records, bytes } = reader.drain();
      if (records === 0) return out;
      out.push(...decodeBatch(reader.buffer, bytes, (e) => {
        throw e;
      }));
    }
  }

  /** Removes what a crashed run with this prefix left: namespaces and pinned maps. */
  static sweep(prefix: string): void {
    Topology.sweep(prefix);
    rmSync(join(PIN_BASE, prefix), { recursive: true, force: true });
  }

  /** Detaches and unloads every program, removes pinned maps and every namespace. */
  destroy(): void {
    for (const n of this.nodes.values()) {
      for (const f of n.ifaces) {
        try {
          n.dp.detachEndpoint(f.ifindex, { netns: `/var/run/netns/${n.ns}` });
          n.dp.detachEncap(f.ifindex, { netns: `/var/run/netns/${n.ns}` });
        } catch {
          // The namespace may already be gone with its devices.
        }
      }
      n.dp.close();
    }
    this.nodes.clear();
    this.hosts.destroy();
    for (const name of this.instances.splice(0)) rmSync(join(PIN_BASE, name), { recursive: true, force: true });
    rmSync(join(PIN_BASE, this.prefix), { recursive: true, force: true });
  }
}

/** An IPv6 header in front of `payload`. */
export function ipv6Packet(o: { src: string; dst: string; nextHeader: number; payload: Uint8Array; hopLimit?: number; payloadLen?: number }): Buffer {
  const p = Buffer.alloc(40 + o.payload.length);
  p[0] = 0x60;
  p.writeUInt16BE(o.payloadLen ?? o.payload.length, 4);
  p[6] = o.nextHeader;
  p[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(p, 8);
  ipv6Bytes(o.dst).copy(p, 24);
  p.set(o.payload, 40);
  return p;
}

/** An Ethernet frame with an IPv6 packet: outer header, then `srh` (if any), then `inner`. */
export function srv6Frame(o: {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  srh?: Uint8Array;
  inner: Uint8Array;
  hopLimit?: number;
  nextHeader?: number;
  payloadLen?: number;
}): Buffer {
  const payload = Buffer.concat([o.srh ?? Buffer.alloc(0), o.inner]);
  const nh = o.nextHeader ?? (o.srh ? 43 : 4);
  return ethernet(o.dstMac, o.srcMac, ETH_P_IPV6, ipv6Packet({ src: o.src, dst: o.dst, nextHeader: nh, payload, hopLimit: o.hopLimit, payloadLen: o.payloadLen }));
}

/** struct xdp_md for BPF_PROG_TEST_RUN: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
export function xdpCtx(ifindex: number, len: number): Buffer {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(len, 4);
  c.writeUInt32LE(ifindex, 12);
  return c;
}

/** struct __sk_buff for a SCHED_CLS test run: ifindex and GSO size; the rest stays zero. */
export function skbCtx(ifindex: number, opts: { gsoSize?: number; gsoSegs?: number } = {}): Buffer {
  const c = Buffer.alloc(192);
  c.writeUInt32LE(ifindex, 40);
  c.writeUInt32LE(opts.gsoSegs ?? 0, 164);
  c.writeUInt32LE(opts.gsoSize ?? 0, 176);
  return c;
}
