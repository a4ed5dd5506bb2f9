// The SRv6 datapath in the real kernel: pods behind two edge nodes joined through a
// provider node, H.Encaps at the sending edge, End on the provider, End.DT4 at the far
// edge, with real UDP both ways; an HMAC TLV through the same path; srv6_encap ahead of the
// SCION edge on one uplink. Every test builds its network and tears it down.
import assert from 'node:assert/strict';
import { ipv6Bytes, srv6Header } from '../../bpf/maps';
import type { PacketRecord } from '../../bpf/records';
import { Srv6Datapath } from '../../bpf/srv6_datapath';
import { parseIA } from '../../scion/isdas';
import { checkHmac, srhHmac } from '../../srv6/hmac';
import { decodeSrh, hmacTlv, type Srh } from '../../srv6/srh';
import { requireDatapath } from './harness/require';
import { buildSrh, drainRecords, Srv6Net, type Srv6Node, type Srv6Pod } from './harness/srv6';
import { echoServer, udpEcho } from './harness/traffic';
import { Wan } from './harness/wan';

const PREFIX = `bpfsrv6${process.pid}`;
const END_R = 'fc00:0:1::1';
const DT4_A = 'fc00:0:101::100';
const DT4_B = 'fc00:0:201::100';
const SRC_A = 'fc00:0:101::1';
const SRC_B = 'fc00:0:201::1';
const VRF = 100;

interface Line {
  net: Srv6Net;
  a: Srv6Node;
  r: Srv6Node;
  b: Srv6Node;
  podA: Srv6Pod;
  podB: Srv6Pod;
  srhAB: Buffer;
  srhBA: Buffer;
  idAB: number;
  idBA: number;
}

/** a -- r -- b, pods 10.164.0.5 (behind a) and 10.165.0.7 (behind b) in VRF 100, steered both ways over r's End. */
function line(): Line {
  const net = new Srv6Net(PREFIX);
  const a = net.addNode('a', 'fc00:0:101::/48');
  const r = net.addNode('r', 'fc00:0:1::/48');
  const b = net.addNode('b', 'fc00:0:201::/48');
  const [upA] = net.connect(a, r);
  const [, upB] = net.connect(r, b);
  net.route6(r, 'fc00:0:101::/48', a);
  net.route6(r, 'fc00:0:201::/48', b);
  net.route6(a, 'fc00::/16', r);
  net.route6(b, 'fc00::/16', r);
  net.sid(r, END_R, 'End');
  net.sid(a, DT4_A, 'End.DT4', VRF);
  net.sid(b, DT4_B, 'End.DT4', VRF);
  const podA = net.addPod('a', a, '10.164.0.5', 300);
  const podB = net.addPod('b', b, '10.165.0.7', 400);
  a.dp.tenantRoutes4.set({ tenantId: VRF, prefix: '10.164.0.5/32' }, { ifindex: 0, identity: 300 });
  b.dp.tenantRoutes4.set({ tenantId: VRF, prefix: '10.165.0.7/32' }, { ifindex: 0, identity: 400 });
  const srhAB = buildSrh([ipv6Bytes(END_R), ipv6Bytes(DT4_B)]);
  const srhBA = buildSrh([ipv6Bytes(END_R), ipv6Bytes(DT4_A)]);
  const idAB = net.steer(a, r, { identity: 300, prefix: '10.165.0.0/16', source: SRC_A, srh: srhAB, tenantId: VRF });
  const idBA = net.steer(b, r, { identity: 400, prefix: '10.164.0.0/16', source: SRC_B, srh: srhBA, tenantId: VRF });
  a.dp.attachEncap(upA.ifindex, { netns: `/var/run/netns/${a.ns}` });
  b.dp.attachEncap(upB.ifindex, { netns: `/var/run/netns/${b.ns}` });
  return { net, a, r, b, podA, podB, srhAB, srhBA, idAB, idBA };
}

/** The SRH with Segments Left set to `sl`: how it looks after sl fewer End behaviors. */
function decodeSrhOk(b: Uint8Array): Srh {
  const d = decodeSrh(b);
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.srh;
}

function withSegLeft(srh: Buffer, sl: number): Buffer {
  const c = Buffer.from(srh);
  c[3] = sl;
  return c;
}

function only(rs: PacketRecord[], dir: PacketRecord['direction'], src: string): PacketRecord[] {
  return rs.filter((r) => r.direction === dir && r.outerSrc === src);
}

describe('datapath: SRv6 encap, End and End.DT4 in the real kernel', function () {
  requireDatapath(this);
  this.timeout(60000);
  let t: Line | undefined;

  before(() => Srv6Net.sweep(PREFIX));
  afterEach(() => {
    t?.net.destroy();
    t = undefined;
  });

  it('delivers UDP both ways; each node records and counts what it did to every packet', async () => {
    t = line();
    const { net, a, r, b, podA, podB } = t;
    const srv = await echoServer(net.hosts, podB.ns, 'udp', 7000);
    for (const n of [a, r, b]) net.drain(n);
    const res = await udpEcho(podA.ns, podB.ip, 7000, { count: 20, size: 200, srcPort: 40000 });
    srv.kill();
    assert.deepEqual(res, { sent: 20, received: 20 });

    const [ra, rr, rb] = [a, r, b].map((n) => net.drain(n));
    const all = [...ra, ...rr, ...rb];
    assert.ok(all.every((x) => x.pathKind === 'srv6' && x.pathType === 4 && x.verdict === 'FORWARDED'), 'only forwarded SRv6 records');
    // There: encap at a, End at r, End.DT4 at b.
    const enc = only(ra, 'EGRESS_ENCAP', SRC_A);
    const fwd = only(rr, 'ROUTER_FORWARD', SRC_A);
    const dec = only(rb, 'INGRESS_DECAP', SRC_A);
    assert.deepEqual([enc.length, fwd.length, dec.length], [20, 20, 20]);
    for (const x of enc) {
      assert.equal(x.identity, 300);
      assert.equal(x.pathId, t.idAB);
      assert.equal(x.tenantId, VRF);
      assert.equal(x.outerDst, END_R);
      assert.deepEqual(Buffer.from(x.path), t.srhAB, 'the SRH as sent');
      assert.deepEqual(x.inner, { proto: 17, srcAddr: podA.ip, dstAddr: podB.ip, srcPort: 40000, dstPort: 7000, tcpFlags: 0 });
      assert.equal(x.podLen, 14 + 20 + 8 + 200);
      assert.equal(x.wireLen, x.podLen + 40 + t.srhAB.length);
    }
    for (const x of fwd) {
      assert.equal(x.outerDst, END_R);
      assert.equal(x.tenantId, 0);
      assert.deepEqual(Buffer.from(x.path), t.srhAB, 'the SRH as it arrived at r: Segments Left 1');
      assert.equal(x.inner, null);
    }
    for (const x of dec) {
      assert.equal(x.outerDst, DT4_B);
      assert.equal(x.tenantId, VRF);
      assert.equal(x.identity, 0, 'the source identity is not known at decap');
      assert.deepEqual(Buffer.from(x.path), withSegLeft(t.srhAB, 0), 'the SRH as it arrived at b: Segments Left 0');
      assert.deepEqual(x.inner, { proto: 17, srcAddr: podA.ip, dstAddr: podB.ip, srcPort: 40000, dstPort: 7000, tcpFlags: 0 });
      assert.equal(x.podLen, 14 + 20 + 8 + 200);
    }
    // Back: the echoes over b -> r -> a.
    assert.equal(only(rb, 'EGRESS_ENCAP', SRC_B).length, 20);
    assert.equal(only(rr, 'ROUTER_FORWARD', SRC_B).length, 20);
    const back = only(ra, 'INGRESS_DECAP', SRC_B);
    assert.equal(back.length, 20);
    assert.deepEqual(back[0].inner, { proto: 17, srcAddr: podB.ip, dstAddr: podA.ip, srcPort: 7000, dstPort: 40000, tcpFlags: 0 });

    assert.equal(a.dp.counter('SRV6_ENCAP'), 20n);
    assert.equal(a.dp.counter('SRV6_DECAP'), 20n);
    assert.equal(r.dp.counter('SRV6_END'), 40n);
    assert.equal(b.dp.counter('SRV6_DECAP'), 20n);
    assert.equal(b.dp.counter('SRV6_ENCAP'), 20n);
    for (const n of [a, r, b]) {
      const drops = Object.entries(n.dp.counterTotals()).filter(([k]) => !k.startsWith('SRV6_') && k !== 'NOT_SRV6');
      assert.deepEqual(drops, [], `${n.name} counted no drops`);
    }
  });
});

describe('datapath: an SRH with an HMAC TLV (RFC 8754 §2.1.2) through the kernel', function () {
  requireDatapath(this);
  this.timeout(60000);
  let t: Line | undefined;

  before(() => Srv6Net.sweep(PREFIX));
  afterEach(() => {
    t?.net.destroy();
    t = undefined;
  });

  it('travels with the packet, is counted at each endpoint, and the SRH each record carries verifies with the key', async () => {
    t = line();
    const { net, a, r, b, podA, podB } = t;
    const key = Buffer.alloc(32, 7);
    const segments = decodeSrhOk(t.srhAB).segments;
    const mac = srhHmac(key, { source: ipv6Bytes(SRC_A), lastEntry: 1, flags: 0, keyId: 1, segments });
    const srh = buildSrh([ipv6Bytes(END_R), ipv6Bytes(DT4_B)], { tlvs: [hmacTlv(1, mac)] });
    const old = a.dp.seglists.get(t.idAB);
    assert.ok(old);
    a.dp.seglists.set(t.idAB, { ...old, header: srv6Header(SRC_A, srh) });
    const srv = await echoServer(net.hosts, podB.ns, 'udp', 7000);
    for (const n of [a, r, b]) net.drain(n);
    const res = await udpEcho(podA.ns, podB.ip, 7000, { count: 10, size: 100, srcPort: 40002 });
    srv.kill();
    assert.deepEqual(res, { sent: 10, received: 10 });
    assert.equal(r.dp.counter('SRV6_HMAC_TLV'), 10n, 'only the A to B direction carries one');
    assert.equal(b.dp.counter('SRV6_HMAC_TLV'), 10n);
    const keys = new Map([[1, key]]);
    const seen = [...only(net.drain(r), 'ROUTER_FORWARD', SRC_A), ...only(net.drain(b), 'INGRESS_DECAP', SRC_A)];
    assert.equal(seen.length, 20);
    for (const x of seen) assert.equal(checkHmac(decodeSrhOk(x.path), ipv6Bytes(x.outerSrc), keys), 'VERIFIED');
  });
});

describe('datapath: srv6_encap ahead of the SCION edge on the same uplink', function () {
  requireDatapath(this);
  this.timeout(60000);
  const ZRH = parseIA('64-2:0:20');
  const FRA = parseIA('65-2:0:20');
  const ZRH_CORE = parseIA('64-2:0:10');
  const FRA_CORE = parseIA('65-2:0:10');
  const prefix = `bpfsrv6w${process.pid}`;
  let wan: Wan | undefined;
  let srv6: Srv6Datapath | undefined;

  before(() => Wan.sweep(prefix));
  afterEach(() => {
    srv6?.close();
    srv6 = undefined;
    wan?.destroy();
    wan = undefined;
  });

  it('leaves an uncovered pod to edge_egress (SCION still carries it) and takes a covered one into SRv6, over one ring and one counter array', async () => {
    wan = new Wan([ZRH, ZRH_CORE, FRA_CORE, FRA], { prefix }).build([ZRH, FRA]);
    const a = wan.addPod('a', ZRH, '10.164.0.5', 300);
    const b = wan.addPod('b', FRA, '10.165.0.7', 400);
    const there = wan.paths(ZRH, FRA).find((p) => p.ases.length === 4);
    const back = wan.paths(FRA, ZRH).find((p) => p.ases.length === 4);
    assert.ok(there && back);
    wan.route(ZRH, 300, '10.165.0.0/16', [there]);
    wan.route(FRA, 400, '10.164.0.0/16', [back]);
    const up = wan.iface(ZRH, 1);
    const edge = wan.edges.get(ZRH);
    assert.ok(edge);
    // Loaded into the edge's pin directory: the edge's endpoints, counters and ring.
    srv6 = Srv6Datapath.load({ instance: wan.edgeInstance(ZRH) });
    srv6.attachEncap(up.ifindex, { netns: `/var/run/netns/${up.ns}` });
    assert.deepEqual(srv6.endpoints.get(a.ip), { identity: 300, ifindex: a.hostIfindex }, 'the edge\'s endpoints map');

    const srv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    const res = await udpEcho(a.ns, b.ip, 7000, { count: 10, size: 200, srcPort: 40000 });
    assert.deepEqual(res, { sent: 10, received: 10 });
    assert.equal(edge.counter('ENCAP'), 10n, 'edge_egress wrapped every packet srv6_encap left alone');
    assert.equal(srv6.counter('ENCAP'), 10n, 'the same counter array');
    assert.equal(srv6.counter('SRV6_ENCAP'), 0n);
    const scion = drainRecords(srv6.events).filter((r) => r.direction === 'EGRESS_ENCAP');
    assert.equal(scion.length, 10, 'the SCION records, read from the SRv6 object\'s events map: one ring');
    assert.ok(scion.every((r) => r.pathKind === 'scion'));

    // Covered now: SRv6 wins, edge_egress never sees the packet.
    srv6.seglists.set(1, {
      ifindex: up.ifindex, mtu: 1500, tenantId: VRF, srcMac: up.mac, dstMac: up.remote.mac,
      header: srv6Header(SRC_A, buildSrh([ipv6Bytes(END_R), ipv6Bytes(DT4_B)])),
    });
    srv6.egress.set({ identity: 300, prefix: '10.165.0.0/16' }, [1]);
    await udpEcho(a.ns, b.ip, 7000, { count: 5, size: 200, srcPort: 40001, timeoutMs: 500 });
    srv.kill();
    assert.equal(srv6.counter('SRV6_ENCAP'), 5n);
    assert.equal(edge.counter('ENCAP'), 10n, 'no SCION encapsulation of a covered packet');
    srv6.detachEncap(up.ifindex, { netns: `/var/run/netns/${up.ns}` });
  });
});
