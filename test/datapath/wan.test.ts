// The datapath in the real kernel: two cluster edges and XDP routers of transit ASes in
// network namespaces, built from examples/topology.yaml, with real UDP and TCP between
// pods. Every test builds its own WAN and tears it down, also when it fails.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlanePath } from '../../controlplane/combinator';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { decodeBatch, type PacketRecord } from '../../bpf/records';
import { RingReader } from '../../bpf/native';
import { ingressPathKey } from '../../bpf/template';
import type { EdgeDatapath, RouterDatapath } from '../../bpf/datapath';
import { readFrames, udpPayload } from '../../cli/scion/capture';
import { formatIA, parseIA, type IA } from '../../scion/isdas';
import { verifyPathMacs } from '../../scion/mac/segid';
import { decodePacket } from '../../scion/packet';
import { decodeScionPathBytes } from '../../scion/path/raw';
import { decodeShim, PROTO_CILLION_SHIM, SHIM_INNER_IPV4 } from '../../scion/shim';
import type { ScionPath } from '../../scion/path/model';
import { requireDatapath } from './harness/require';
import { echoServer, startCapture, tcpEcho, udpEcho } from './harness/traffic';
import { EXAMPLE_TOPOLOGY, Wan, type Pod } from './harness/wan';

const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const CORE_PATH_ASES = [ZRH, ZRH_CORE, FRA_CORE, FRA];
const ID_A = 300;
const ID_B = 400;

/** Everything the ring of a datapath object holds right now. */
function drainRecords(dp: EdgeDatapath | RouterDatapath): PacketRecord[] {
  const reader = new RingReader(dp.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
  const out: PacketRecord[] = [];
  for (;;) {
    const { records, bytes } = reader.drain();
    if (records === 0) return out;
    out.push(...decodeBatch(reader.buffer, bytes, (e) => assert.fail(e.message)));
  }
}

function keysFor(wan: Wan, cp: ControlPlanePath): (Uint8Array | null)[] {
  return cp.hopFieldAses.map((ia) => wan.topology.ases.get(ia)?.hopKey ?? null);
}

function hopInterfaces(p: ScionPath): string {
  return p.hopFields.map((h) => `${h.consIngress}/${h.consEgress}`).join(' ');
}

interface TwoClusters {
  wan: Wan;
  a: Pod;
  b: Pod;
  there: ControlPlanePath;
  back: ControlPlanePath;
  thereId: number;
  backId: number;
}

/** ZRH and FRA clusters over the Zurich-Frankfurt core link, one pod each, routed both ways. */
function twoClusters(ases: readonly IA[] = CORE_PATH_ASES): TwoClusters {
  const wan = new Wan(ases, { prefix: `cilwan${process.pid}` }).build([ZRH, FRA]);
  const a = wan.addPod('a', ZRH, '10.164.0.5', ID_A);
  const b = wan.addPod('b', FRA, '10.165.0.7', ID_B);
  const there = wan.paths(ZRH, FRA).find((p) => p.ases.length === 4 && p.ases[1] === ZRH_CORE && p.ases[2] === FRA_CORE);
  const back = wan.paths(FRA, ZRH).find((p) => p.ases.length === 4 && p.ases[1] === FRA_CORE && p.ases[2] === ZRH_CORE);
  assert.ok(there && back, 'the core path exists both ways');
  const [thereId] = wan.route(ZRH, ID_A, '10.165.0.0/16', [there]);
  const [backId] = wan.route(FRA, ID_B, '10.164.0.0/16', [back]);
  return { wan, a, b, there, back, thereId, backId };
}

describe('datapath: SCION between two clusters in the real kernel', function () {
  requireDatapath(this);
  this.timeout(60000);
  let t: TwoClusters | undefined;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cilwan-'));
    Wan.sweep(`cilwan${process.pid}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    t?.wan.destroy();
    t = undefined;
  });

  it('carries UDP and TCP both ways; the wire shows valid SCION whose MACs verify; the rings match the traffic', async () => {
    t = twoClusters();
    const { wan, a, b } = t;
    // The MACs below verify after routers that ran the kernel's AES, where the kernel has the kfuncs.
    if (process.env.CILLION_HOP_MAC !== 'table' && readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_crypto_encrypt')) {
      for (const r of wan.routers.values()) assert.equal(r.hopMac.method, 'kfunc', `a router fell back: ${r.hopMac.reason}`);
    }
    const udpSrv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    const tcpSrv = await echoServer(wan.hosts, b.ns, 'tcp', 7001);
    // Routers forward with XDP redirects, which no packet socket sees; the edges' uplinks
    // carry what the edges send through the stack.
    const upZ = wan.iface(ZRH, 1);
    const upF = wan.iface(FRA, 1);
    const capZ = await startCapture(wan.hosts, upZ.ns, upZ.ifname, join(dir, 'zrh.pcap'), `udp and dst port ${upZ.remote.port}`);
    const capF = await startCapture(wan.hosts, upF.ns, upF.ifname, join(dir, 'fra.pcap'), `udp and dst port ${upF.remote.port}`);
    for (const dp of [...wan.edges.values(), ...wan.routers.values()]) drainRecords(dp);

    const udp = await udpEcho(a.ns, b.ip, 7000, { count: 40, size: 200, srcPort: 40000 });
    const tcp = await tcpEcho(a.ns, b.ip, 7001, 64 * 1024);
    const wire = [await capZ.stop(), await capF.stop()];
    udpSrv.kill();
    tcpSrv.kill();
    assert.deepEqual(udp, { sent: 40, received: 40 });
    assert.equal(tcp.received, 64 * 1024, JSON.stringify(tcp));

    // On the wire: SCION only, both directions, the shim with the identity, valid MACs.
    const packets = wire
      .flatMap((w) => readFrames(w))
      .map(udpPayload)
      .filter((u) => u !== null)
      .map((u) => decodePacket(u.payload));
    const there = packets.filter((p) => p.srcIA === ZRH && p.dstIA === FRA);
    const back = packets.filter((p) => p.srcIA === FRA && p.dstIA === ZRH);
    assert.equal(there.length + back.length, packets.length, 'only traffic between the clusters');
    assert.ok(there.length >= 40 + 10 && back.length >= 40 + 10, `${there.length} there, ${back.length} back`);
    for (const [pkts, cp, identity] of [[there, t.there, ID_A], [back, t.back, ID_B]] as const) {
      for (const p of pkts) {
        assert.equal(p.path.type, 'SCION');
        const path = p.path as ScionPath;
        assert.equal(hopInterfaces(path), hopInterfaces(cp.path));
        const verdicts = verifyPathMacs(path, keysFor(wan, cp), { arrival: 'link' });
        assert.ok(verdicts.slice(path.meta.currHf).every((v) => v.valid === true), `MACs from hop ${path.meta.currHf}`);
        assert.equal(p.l4.kind, 'Raw');
        assert.equal((p.l4 as { nextHdr: number }).nextHdr, PROTO_CILLION_SHIM, 'the Cillion shim under protocol 253');
        const { shim, inner } = decodeShim((p.l4 as { payload: Uint8Array }).payload);
        assert.deepEqual(shim, { innerProto: SHIM_INNER_IPV4, identity });
        assert.equal(inner[0] >> 4, 4, 'an IPv4 packet inside');
        const src = inner.subarray(12, 16).join('.');
        const dst = inner.subarray(16, 20).join('.');
        assert.deepEqual([src, dst], identity === ID_A ? [a.ip, b.ip] : [b.ip, a.ip]);
      }
    }

    // Ring records: the encapsulated and decapsulated UDP datagrams, one record each.
    const zrh = drainRecords(wan.edges.get(ZRH) as EdgeDatapath);
    const fra = drainRecords(wan.edges.get(FRA) as EdgeDatapath);
    const udpOf = (rs: PacketRecord[], dir: string, port: number) =>
      rs.filter((r) => r.direction === dir && r.inner?.proto === 17 && (r.inner.srcPort === port || r.inner.dstPort === port));
    const zrhOut = udpOf(zrh, 'EGRESS_ENCAP', 40000);
    const fraIn = udpOf(fra, 'INGRESS_DECAP', 40000);
    const fraOut = udpOf(fra, 'EGRESS_ENCAP', 40000);
    const zrhIn = udpOf(zrh, 'INGRESS_DECAP', 40000);
    for (const rs of [zrhOut, fraIn, fraOut, zrhIn]) assert.equal(rs.length, 40);
    for (const r of zrhOut) {
      assert.deepEqual(
        [r.verdict, r.inner?.srcAddr, r.inner?.dstAddr, r.inner?.srcPort, r.inner?.dstPort, r.identity, r.pathId],
        ['FORWARDED', a.ip, b.ip, 40000, 7000, ID_A, t.thereId],
      );
      assert.equal(formatIA(r.srcIA), '64-2:0:20');
      assert.equal(formatIA(r.dstIA), '65-2:0:20');
      assert.equal(hopInterfaces(decodeScionPathBytes(r.path)), hopInterfaces(t.there.path));
    }
    for (const r of fraIn) {
      assert.deepEqual([r.inner?.srcAddr, r.inner?.dstAddr, r.identity, r.srcIA, r.dstIA], [a.ip, b.ip, ID_A, ZRH, FRA]);
      const path = decodeScionPathBytes(r.path);
      assert.equal(path.meta.currHf, path.hopFields.length - 1, 'the path ended at the receiving edge');
    }
    for (const r of zrhIn) assert.deepEqual([r.inner?.srcAddr, r.inner?.srcPort, r.identity, r.pathId], [b.ip, 7000, ID_B, 0]);
    assert.deepEqual(fraOut.map((r) => r.pathId), fraOut.map(() => t?.backId));
    // Pod bytes are the same on both edges (the pod's frame: Ethernet, IPv4, UDP, 200 bytes);
    // wire bytes are the SCION frames, larger by the same outer headers on both.
    const podFrame = 14 + 20 + 8 + 200;
    for (const r of [...zrhOut, ...fraIn]) assert.equal(r.podLen, podFrame, `${r.direction} pod bytes`);
    assert.ok(zrhOut.every((r) => r.wireLen > podFrame));
    assert.deepEqual(new Set(fraIn.map((r) => r.wireLen)), new Set(zrhOut.map((r) => r.wireLen)), 'the frame that left is the frame that arrived');
    // TCP in both directions, with its handshake.
    const tcpOut = zrh.filter((r) => r.direction === 'EGRESS_ENCAP' && r.inner?.proto === 6);
    const tcpBack = zrh.filter((r) => r.direction === 'INGRESS_DECAP' && r.inner?.proto === 6);
    assert.ok(tcpOut.some((r) => r.inner?.tcpFlags === 0x02), 'SYN encapsulated');
    assert.ok(tcpBack.some((r) => r.inner?.tcpFlags === 0x12), 'SYN-ACK decapsulated');
    // The routers forwarded every one of them, and said so in their own records.
    const router = drainRecords(wan.routers.get(ZRH_CORE) as RouterDatapath);
    const fwd = udpOf(router, 'ROUTER_FORWARD', 40000);
    assert.equal(fwd.length, 80);
    assert.ok(fwd.every((r) => r.verdict === 'FORWARDED' && r.egressIfid !== 0 && r.ingressIfid !== 0));
    assert.ok(fwd.every((r) => r.podLen === podFrame && r.wireLen > podFrame), 'a router knows both figures too');
    assert.equal(wan.edges.get(ZRH)?.counter('RING_RESERVE_FAIL'), 0n);
  });

  it('spreads flows over a multipath set and keeps each flow on its path', async () => {
    const ases = [...new Set([...CORE_PATH_ASES, parseIA('64-2:0:21'), parseIA('65-2:0:21'), parseIA('64-2:0:11'), parseIA('65-2:0:12')])];
    t = twoClusters(ases);
    const { wan, a, b } = t;
    const candidates = wan.paths(ZRH, FRA);
    const peering = candidates.find((p) => p.path.infoFields.some((f) => f.peer));
    const viaGeneva = candidates.find((p) => p.ases.includes(parseIA('64-2:0:11')));
    assert.ok(peering && viaGeneva, `a peering path and one via Geneva among ${candidates.length}`);
    // The core path changes segment at both cores; the peering path crosses at the peering link.
    const set = [t.there, peering, viaGeneva];
    const ids = wan.route(ZRH, ID_A, '10.165.0.0/16', set);
    const srv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    for (const dp of wan.edges.values()) drainRecords(dp);
    const flows = Array.from({ length: 16 }, (_, i) => 41000 + i);
    const results = await Promise.all(flows.map((port) => udpEcho(a.ns, b.ip, 7000, { count: 5, size: 100, srcPort: port })));
    srv.kill();
    assert.ok(results.every((r) => r.received === 5), JSON.stringify(results));
    const out = drainRecords(wan.edges.get(ZRH) as EdgeDatapath).filter((r) => r.direction === 'EGRESS_ENCAP');
    const arrived = drainRecords(wan.edges.get(FRA) as EdgeDatapath).filter((r) => r.direction === 'INGRESS_DECAP');
    const used = new Set<number>();
    for (const port of flows) {
      const ofFlow = out.filter((r) => r.inner?.srcPort === port);
      assert.equal(ofFlow.length, 5);
      const pathIds = new Set(ofFlow.map((r) => r.pathId));
      assert.equal(pathIds.size, 1, `flow ${port} stayed on one path`);
      const id = [...pathIds][0];
      used.add(id);
      // What arrived at the other edge crossed the hops of the path the sender chose.
      const chosen = set[ids.indexOf(id)];
      for (const r of arrived.filter((x) => x.inner?.srcPort === port)) {
        assert.equal(hopInterfaces(decodeScionPathBytes(r.path)), hopInterfaces(chosen.path));
      }
    }
    // The flow hash is deterministic, so these 16 source ports always cover all three paths.
    assert.equal(used.size, 3, `16 flows used ${used.size} of 3 paths`);
    for (const ia of [parseIA('64-2:0:21'), parseIA('65-2:0:21'), parseIA('64-2:0:11'), ZRH_CORE]) {
      assert.ok((wan.routers.get(ia)?.counter('FORWARD') ?? 0n) > 0n, `${formatIA(ia)} forwarded`);
    }
  });

  it('routers drop a tampered MAC, an expired hop field and a wrong ingress interface, each under its own reason', async () => {
    t = twoClusters();
    const { wan, a } = t;
    // The hop field the Zurich core checks is hop 1 of the up segment.
    const tampered = wan.programPath(ZRH, t.there, { edit: (p) => (p.hopFields[1].mac[0] ^= 0xff) });
    const wrongIngress = wan.programPath(ZRH, t.there, {
      edit: (p) => {
        const h = p.hopFields[1];
        if (p.infoFields[0].consDir) h.consIngress = 99;
        else h.consEgress = 99;
      },
    });
    const old = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { now: () => Math.floor(Date.now() / 1000) - 2 * 86400 });
    const stale = old.pathsSync(ZRH, FRA, { maxPaths: 50 }).find((p) => hopInterfaces(p.path) === hopInterfaces(t?.there.path as ScionPath));
    assert.ok(stale, 'the same path, beaconed two days ago');
    const expired = wan.programPath(ZRH, stale);
    wan.policy(ZRH, ID_A, '10.165.9.1/32', [tampered]);
    wan.policy(ZRH, ID_A, '10.165.9.2/32', [wrongIngress]);
    wan.policy(ZRH, ID_A, '10.165.9.3/32', [expired]);
    const router = wan.routers.get(ZRH_CORE) as RouterDatapath;
    drainRecords(router);
    for (const dst of ['10.165.9.1', '10.165.9.2', '10.165.9.3']) {
      const r = await udpEcho(a.ns, dst, 7000, { count: 7, size: 64, srcPort: 42000, timeoutMs: 400 });
      assert.equal(r.received, 0);
    }
    assert.equal(router.counter('BAD_MAC'), 7n);
    assert.equal(router.counter('WRONG_INGRESS'), 7n);
    assert.equal(router.counter('EXPIRED_HOP'), 7n);
    assert.equal(router.counter('FORWARD'), 0n);
    const drops = drainRecords(router).filter((r) => r.inner?.srcPort === 42000);
    const reasons = (dst: string) => new Set(drops.filter((r) => r.inner?.dstAddr === dst).map((r) => r.dropReason));
    assert.deepEqual(reasons('10.165.9.1'), new Set(['BAD_MAC']));
    assert.deepEqual(reasons('10.165.9.2'), new Set(['WRONG_INGRESS']));
    assert.deepEqual(reasons('10.165.9.3'), new Set(['EXPIRED_HOP']));
    assert.ok(drops.every((r) => r.verdict === 'DROPPED' && r.direction === 'ROUTER_FORWARD'));
    assert.equal(wan.edges.get(FRA)?.counter('DECAP'), 0n);
  });

  it('the ingress allow list admits and refuses by path and identity', async () => {
    t = twoClusters();
    const { wan, a, b } = t;
    const fra = wan.edges.get(FRA) as EdgeDatapath;
    const key = ingressPathKey(t.there.path);
    const srv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    const send = (port: number) => udpEcho(a.ns, b.ip, 7000, { count: 5, size: 80, srcPort: port, timeoutMs: 800 });

    assert.equal((await send(43000)).received, 5, 'no fence on b: admitted');
    fra.ingressEnforced.set(ID_B, 1);
    assert.equal((await send(43001)).received, 0, 'enforced, nothing listed: refused');
    assert.equal(fra.counter('INGRESS_DENIED'), 5n);
    fra.ingressAllow.set({ dstIdentity: ID_B, srcIdentity: ID_A, pathKey: key }, 1);
    assert.equal((await send(43002)).received, 5, 'this identity on this path: admitted');
    fra.ingressAllow.delete({ dstIdentity: ID_B, srcIdentity: ID_A, pathKey: key });
    fra.ingressAllow.set({ dstIdentity: ID_B, srcIdentity: ID_A + 1, pathKey: key }, 1);
    assert.equal((await send(43003)).received, 0, 'another identity listed: refused');
    fra.ingressAllow.set({ dstIdentity: ID_B, srcIdentity: 0, pathKey: key ^ 1n }, 1);
    assert.equal((await send(43004)).received, 0, 'any identity, but on another path: refused');
    fra.ingressAllow.set({ dstIdentity: ID_B, srcIdentity: 0, pathKey: key }, 1);
    assert.equal((await send(43005)).received, 5, 'any identity on this path: admitted');
    srv.kill();
    assert.equal(fra.counter('INGRESS_DENIED'), 15n);
    const denied = drainRecords(fra).filter((r) => r.dropReason === 'INGRESS_DENIED');
    assert.equal(denied.length, 15);
    assert.ok(denied.every((r) => r.identity === ID_A && r.inner?.dstAddr === b.ip));
  });

  it('leaves traffic no policy covers untouched, and drops what exceeds the path MTU', async () => {
    t = twoClusters();
    const { wan, a } = t;
    const zrh = wan.edges.get(ZRH) as EdgeDatapath;
    const up = wan.iface(ZRH, 1);
    const cap = await startCapture(wan.hosts, up.ns, up.ifname, join(dir, 'uplink.pcap'), 'icmp');
    try {
      wan.hosts.exec(a.ns, 'ping', ['-c', '2', '-W', '1', up.remote.ip]);
    } catch {
      // The router has no route back to the pod; the request leaving is what counts.
    }
    const wire = await cap.stop();
    const frames = readFrames(wire);
    assert.ok(frames.length >= 2, 'the pings left the node as plain ICMP');
    assert.ok(frames.every((f) => f.data[23] === 1 && Buffer.from(f.data.subarray(26, 30)).join('.') === a.ip));
    assert.ok(zrh.counter('NOT_COVERED') >= 2n);
    assert.equal(zrh.counter('ENCAP'), 0n);

    const small = wan.programPath(ZRH, t.there, { mtu: 300 });
    wan.policy(ZRH, ID_A, '10.165.9.4/32', [small]);
    const r = await udpEcho(a.ns, '10.165.9.4', 7000, { count: 3, size: 600, srcPort: 44000, timeoutMs: 400 });
    assert.equal(r.received, 0);
    assert.equal(zrh.counter('PATH_MTU'), 3n);
    const drops = drainRecords(zrh).filter((x) => x.dropReason === 'PATH_MTU');
    assert.equal(drops.length, 3);
    assert.ok(drops.every((x) => x.pathId === small && x.inner?.dstPort === 7000));
  });

  it('survives an agent restart: a second load finds the pinned maps and takes over the attachments', async () => {
    t = twoClusters();
    const { wan, a, b } = t;
    const srv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    assert.equal((await udpEcho(a.ns, b.ip, 7000, { count: 3, size: 64, srcPort: 45000 })).received, 3);
    const again = wan.restartEdge(ZRH);
    assert.deepEqual(again.endpoints.get(a.ip), { identity: ID_A, ifindex: a.hostIfindex });
    assert.deepEqual(again.egressPolicy.get({ identity: ID_A, prefix: '10.165.0.0/16' }), [t.thereId]);
    assert.equal((await udpEcho(a.ns, b.ip, 7000, { count: 3, size: 64, srcPort: 45001 })).received, 3);
    srv.kill();
    assert.ok(again.counter('ENCAP') >= 6n, 'the counters kept counting across the restart');
  });
});
