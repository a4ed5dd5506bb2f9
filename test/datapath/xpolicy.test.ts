// Cross-cluster identity policy in the kernel: Frankfurt's example CillionNetworkPolicy
// compiled for its edge, then Zurich's packets through edge_ingress; Zurich's compiled for
// its edge, then its pods' packets through edge_egress (BPF_PROG_TEST_RUN). Allowed packets
// go on with the policy in their record; denied ones are dropped as POLICY_DENIED or
// POLICY_EGRESS_DENIED, counted, and name the policy; an endpoint no policy selects is untouched.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { EdgeDatapath, PIN_BASE } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { decodeBatch, type PacketRecord } from '../../bpf/records';
import { processSourceHop } from '../../bpf/template';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { compileXPolicies, PolicyIds } from '../../operator/datapath/xpolicy';
import { scopedIdentity } from '../../identity/cluster_scope';
import { endpointLabels, labelMap, StaticIdentityDirectory } from '../../resources/identity_directory';
import { identityLabels } from '../../identity/labels';
import type { CillionNetworkPolicy } from '../../resources/networkpolicy';
import { validateResource } from '../../resources/resource';
import { parseIA } from '../../scion/isdas';
import { IPPROTO_TCP, IPPROTO_UDP, ipv4Packet, scionFrame, tcpSegment, transitHop, udpDatagram, type Underlay } from './harness/frames';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';
import { EXAMPLE_TOPOLOGY } from './harness/wan';

const INSTANCE = `xpolicy-${process.pid}`;
const XDP_DROP = 1;
const XDP_PASS = 2;
const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const FRA = parseIA('65-2:0:20');
const PORT_BASE = 50000;

const labels = (cluster: string, namespace: string, app: string) => endpointLabels(labelMap(identityLabels(namespace, { app })), cluster);
const ZRH_BILLING = scopedIdentity(1, 256);
const ZRH_VIDEO = scopedIdentity(1, 257);
const FRA_BILLING = scopedIdentity(2, 256);
const FRA_VIDEO = scopedIdentity(2, 257);
const FRA_BILLING_IP = '10.165.0.7';
const FRA_VIDEO_IP = '10.165.0.8';

describe('datapath: cross-cluster identity policy at the receiving edge (BPF_PROG_TEST_RUN)', function () {
  requireDatapath(this);
  this.timeout(30000);
  const hosts = new Topology(`cilxp${process.pid}`);
  let fra: EdgeDatapath;
  let ring: RingReader;
  let policyId = 0;
  let send: (o: { src: string; dst: string; identity?: number; proto: number; dport: number }) => { retval: number; record: PacketRecord };

  before(() => {
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
    const ns = hosts.addHost('dp');
    const link = hosts.link({ ns, ifname: 'up0' }, { ns, ifname: 'up1' });
    const netns = `/var/run/netns/${ns}`;
    const control = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { seed: 7 });
    const there = control.pathsSync(ZRH, FRA).find((c) => c.ases.length === 4 && [ZRH, ZRH_CORE, FRA_CORE, FRA].every((ia, i) => c.ases[i] === ia));
    assert.ok(there, 'the core path Zurich -> Frankfurt');
    const ifs = there.interfaces.map((i) => i.ifid);
    const fraCoreOut = ifs[4]!;
    const fraUp = ifs[5]!;
    const atFra = transitHop(transitHop(processSourceHop(there.path).path).path).path;

    fra = EdgeDatapath.load({ instance: INSTANCE });
    fra.config.set(0, { localIA: FRA, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(control.topology.ases.get(FRA)!.hopKey) });
    fra.ifindexToIfid.set(link.a.ifindex, fraUp);
    fra.interfaces.set(fraUp, {
      ifindex: link.a.ifindex, localIp: '10.201.3.2', remoteIp: '10.201.3.1', localPort: PORT_BASE + fraUp, remotePort: PORT_BASE + fraCoreOut,
      localMac: link.a.mac, remoteMac: link.b.mac,
    });
    fra.endpoints.set(FRA_BILLING_IP, { identity: FRA_BILLING, ifindex: link.b.ifindex });
    fra.endpoints.set(FRA_VIDEO_IP, { identity: FRA_VIDEO, ifindex: link.b.ifindex });

    // The example policy, compiled as the operator does, straight into the kernel's maps.
    const doc = parse(readFileSync(join(__dirname, '../../examples/policies/frankfurt/billing-ingress.yaml'), 'utf8')) as unknown;
    const v = validateResource(doc);
    assert.ok(v.ok && v.value.kind === 'CillionNetworkPolicy');
    const ids = new PolicyIds();
    const compiled = compileXPolicies({
      policies: [v.value as CillionNetworkPolicy],
      endpoints: [{ identity: FRA_BILLING, labels: labels('frankfurt', 'shop', 'billing') }, { identity: FRA_VIDEO, labels: labels('frankfurt', 'media', 'video') }],
      peers: new StaticIdentityDirectory([{ id: ZRH_BILLING, labels: labels('zurich', 'shop', 'billing') }, { id: ZRH_VIDEO, labels: labels('zurich', 'media', 'video') }]),
    }, ids);
    for (const [k, p] of compiled.selected) fra.xpolicySelected.set(k, p);
    for (const [k, p] of compiled.allow) fra.xpolicyAllow.set(k, p);
    policyId = ids.idOf('billing-ingress');

    ring = new RingReader(fra.events, { bufferBytes: 1 << 16, onBatch: () => undefined });
    const underlay: Underlay = { srcMac: link.b.mac, dstMac: link.a.mac, srcIp: '10.201.3.1', dstIp: '10.201.3.2', srcPort: PORT_BASE + fraCoreOut, dstPort: PORT_BASE + fraUp };
    send = (o) => {
      const l4 = o.proto === IPPROTO_UDP ? udpDatagram(41000, o.dport, Buffer.from('xpolicy')) : tcpSegment(41000, o.dport, 0x02, Buffer.alloc(0));
      const { frame } = scionFrame({
        underlay, srcIA: ZRH, dstIA: FRA, srcHost: o.src, dstHost: o.dst, path: atFra,
        ...(o.identity === undefined ? {} : { identity: o.identity }),
        inner: ipv4Packet({ src: o.src, dst: o.dst, proto: o.proto, payload: l4 }),
      });
      const ctx = Buffer.alloc(24);
      ctx.writeUInt32LE(frame.length, 4);
      ctx.writeUInt32LE(link.a.ifindex, 12);
      ring.drain();
      const r = fra.obj.program('edge_ingress').testRun(frame, { ctx, netns });
      const records = decodeBatch(ring.buffer, ring.drain().bytes);
      assert.equal(records.length, 1, `one record per packet (retval ${r.retval})`);
      return { retval: r.retval, record: records[0]! };
    };
  });

  after(() => {
    fra?.close();
    hosts.destroy();
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });

  it('delivers Zurich billing to Frankfurt billing on UDP 7000, naming the allowing policy', () => {
    const before = fra.counter('DECAP');
    const { retval, record } = send({ src: '10.164.0.5', dst: FRA_BILLING_IP, identity: ZRH_BILLING, proto: IPPROTO_UDP, dport: 7000 });
    assert.equal(retval, XDP_PASS);
    assert.equal(fra.counter('DECAP'), before + 1n);
    assert.deepEqual([record.verdict, record.identity, record.policyId], ['FORWARDED', ZRH_BILLING, policyId]);
  });

  const denied: Array<[string, { identity?: number; proto: number; dport: number }]> = [
    ['Zurich video', { identity: ZRH_VIDEO, proto: IPPROTO_UDP, dport: 7000 }],
    ['Zurich billing on another port', { identity: ZRH_BILLING, proto: IPPROTO_UDP, dport: 7001 }],
    ['Zurich billing over TCP', { identity: ZRH_BILLING, proto: IPPROTO_TCP, dport: 7000 }],
    ['a packet carrying no identity', { proto: IPPROTO_UDP, dport: 7000 }],
  ];
  for (const [name, o] of denied) {
    it(`drops ${name} to Frankfurt billing as POLICY_DENIED, counted, with the policy in the record`, () => {
      const before = fra.counter('POLICY_DENIED');
      const decap = fra.counter('DECAP');
      const { retval, record } = send({ src: '10.164.0.6', dst: FRA_BILLING_IP, ...o });
      assert.equal(retval, XDP_DROP);
      assert.equal(fra.counter('POLICY_DENIED'), before + 1n);
      assert.equal(fra.counter('DECAP'), decap, 'nothing delivered');
      assert.deepEqual([record.verdict, record.dropReason, record.direction, record.policyId], ['DROPPED', 'POLICY_DENIED', 'INGRESS_DECAP', policyId]);
    });
  }

  it('leaves an endpoint no policy selects alone: Zurich video reaches Frankfurt video, no policy named', () => {
    const { retval, record } = send({ src: '10.164.0.6', dst: FRA_VIDEO_IP, identity: ZRH_VIDEO, proto: IPPROTO_UDP, dport: 7001 });
    assert.equal(retval, XDP_PASS);
    assert.deepEqual([record.verdict, record.policyId], ['FORWARDED', 0]);
  });
});

/** Ethernet + IPv4 + UDP from a pod, as edge_egress sees it on the pod's side. */
function podUdp(src: string, dst: string, dport: number): Buffer {
  const payload = 32;
  const f = Buffer.alloc(14 + 20 + 8 + payload);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + payload, 16);
  f[22] = 64;
  f[23] = IPPROTO_UDP;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(41000, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt16BE(8 + payload, 38);
  return f;
}

describe('datapath: cross-cluster identity policy at the sending edge (BPF_PROG_TEST_RUN)', function () {
  requireDatapath(this);
  this.timeout(30000);
  const TC_ACT_SHOT = 2;
  const TC_ACT_REDIRECT = 7;
  const ZRH_BILLING_IP = '10.164.0.5';
  const ZRH_VIDEO_IP = '10.164.0.6';
  const instance = `${INSTANCE}-egress`;
  let zrh: EdgeDatapath;
  let ring: RingReader;
  let policyId = 0;
  const send = (src: string, dst: string, dport: number): { retval: number; record: PacketRecord } => {
    ring.drain();
    const r = zrh.obj.program('edge_egress').testRun(podUdp(src, dst, dport));
    const records = decodeBatch(ring.buffer, ring.drain().bytes);
    assert.equal(records.length, 1, `one record per packet (retval ${r.retval})`);
    return { retval: r.retval, record: records[0]! };
  };

  before(() => {
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
    zrh = EdgeDatapath.load({ instance });
    zrh.endpoints.set(ZRH_BILLING_IP, { identity: ZRH_BILLING, ifindex: 1 });
    zrh.endpoints.set(ZRH_VIDEO_IP, { identity: ZRH_VIDEO, ifindex: 1 });
    // A made-up path to Frankfurt: egress checks policy before it reads the path.
    const header = Buffer.alloc(36 + 4 + 8 + 24);
    header[5] = header.length / 4;
    header[8] = 1;
    header.writeUInt32BE((1 << 24) | (2 << 12), 36);
    zrh.paths.set(7, {
      ifindex: 99, mtu: 1400, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.200.0.1',
      dstIp: '10.200.0.2', srcPort: 50001, dstPort: 50004, egressIfid: 1, header,
    });
    for (const identity of [ZRH_BILLING, ZRH_VIDEO]) zrh.egressPolicy.set({ identity, prefix: '10.165.0.0/16' }, [7]);

    // Zurich's example policy, compiled as its agents do with Frankfurt's catalogue (addresses included).
    const doc = parse(readFileSync(join(__dirname, '../../examples/policies/zurich/billing-egress.yaml'), 'utf8')) as unknown;
    const v = validateResource(doc);
    assert.ok(v.ok && v.value.kind === 'CillionNetworkPolicy');
    const ids = new PolicyIds();
    const compiled = compileXPolicies({
      policies: [v.value as CillionNetworkPolicy],
      endpoints: [{ identity: ZRH_BILLING, labels: labels('zurich', 'shop', 'billing') }, { identity: ZRH_VIDEO, labels: labels('zurich', 'media', 'video') }],
      peers: new StaticIdentityDirectory([
        { id: FRA_BILLING, labels: labels('frankfurt', 'shop', 'billing'), addresses: [FRA_BILLING_IP] },
        { id: FRA_VIDEO, labels: labels('frankfurt', 'media', 'video'), addresses: [FRA_VIDEO_IP] },
      ]),
    }, ids);
    for (const [k, p] of compiled.peers) zrh.xpolicyPeers.set(k, p);
    for (const [k, p] of compiled.egressAllow) zrh.xpolicyEgressAllow.set(k, p);
    for (const [k, p] of compiled.egressSelected) zrh.xpolicyEgressSelected.set(k, p);
    policyId = ids.idOf('billing-egress');
    ring = new RingReader(zrh.events, { bufferBytes: 1 << 16, onBatch: () => undefined });
  });

  after(() => {
    zrh?.close();
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
  });

  it('encapsulates Zurich billing to Frankfurt billing on UDP 7000, naming the allowing policy', () => {
    const { retval, record } = send(ZRH_BILLING_IP, FRA_BILLING_IP, 7000);
    assert.equal(retval, TC_ACT_REDIRECT);
    assert.deepEqual([record.verdict, record.policyId], ['FORWARDED', policyId]);
  });

  const denied: Array<[string, string, number]> = [
    ['Frankfurt video', FRA_VIDEO_IP, 7001],
    ['Frankfurt billing on another port', FRA_BILLING_IP, 7001],
    ['an address no catalogue names', '10.165.0.99', 7000],
  ];
  for (const [name, dst, dport] of denied) {
    it(`drops Zurich billing to ${name} before encapsulation as POLICY_EGRESS_DENIED, counted, with the policy in the record`, () => {
      const before = zrh.counter('POLICY_EGRESS_DENIED');
      const encap = zrh.counter('ENCAP');
      const { retval, record } = send(ZRH_BILLING_IP, dst, dport);
      assert.equal(retval, TC_ACT_SHOT);
      assert.equal(zrh.counter('POLICY_EGRESS_DENIED'), before + 1n);
      assert.equal(zrh.counter('ENCAP'), encap, 'nothing sent');
      assert.deepEqual([record.verdict, record.dropReason, record.direction, record.policyId], ['DROPPED', 'POLICY_EGRESS_DENIED', 'EGRESS_ENCAP', policyId]);
    });
  }

  it('leaves a sender no egress policy selects alone: Zurich video reaches Frankfurt billing\'s address', () => {
    const { retval, record } = send(ZRH_VIDEO_IP, FRA_BILLING_IP, 7000);
    assert.equal(retval, TC_ACT_REDIRECT);
    assert.deepEqual([record.verdict, record.policyId], ['FORWARDED', 0]);
  });
});
