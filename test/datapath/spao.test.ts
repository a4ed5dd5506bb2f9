// SPAO authentication in the edge (edge_kfunc.bpf.o), against the TypeScript reference in
// scion/spao/cillion.ts in both directions: packets sealed in TypeScript are verified by
// edge_ingress, packets sealed by edge_egress verify in TypeScript, and every way a packet
// can fail authentication is dropped under its own reason and counter. The last part
// injects attacks over a real veth from a namespace that is no node of the mesh and checks
// that the pod behind the edge receives none of them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { EdgeDatapath, PIN_BASE } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { decodeBatch, type PacketRecord } from '../../bpf/records';
import { headerTemplate, processSourceHop } from '../../bpf/template';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { scopedIdentity } from '../../identity/cluster_scope';
import { parseIA, type IA } from '../../scion/isdas';
import { decodePacket, type SpaoOption } from '../../scion/packet';
import type { ScionPath } from '../../scion/path/model';
import { decodeShim, PROTO_CILLION_SHIM } from '../../scion/shim';
import { CILLION_SPI, cillionSpaoOption, cillionTagValid, sealCillion } from '../../scion/spao/cillion';
import { ETH_P_IP, ethernet, IPPROTO_UDP, ipv4Packet, scionFrame, transitHop, udpDatagram, UNDERLAY_LEN, type Underlay } from './harness/frames';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';
import { EXAMPLE_TOPOLOGY } from './harness/wan';

const XDP_DROP = 1;
const XDP_PASS = 2;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const FRA = parseIA('65-2:0:20');
/** An AS whose only key has expired, and one Frankfurt has no key for. */
const EXPIRED_AS = parseIA('64-2:0:30');
const KEYLESS_AS = parseIA('64-2:0:40');
const PORT_BASE = 51000;
const ZRH_BILLING = scopedIdentity(1, 256);
const OTHER_CLUSTER_BILLING = scopedIdentity(3, 256);
const FRA_BILLING_IP = '10.165.0.7';
const ZRH_POD_IP = '10.164.0.5';
const SEC = 1_000_000_000n;

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
/** The expired key's epoch began an hour before the tests; its packets are sealed against that same begin, so only its validity can refuse them. */
const EXPIRED_BEGIN_NS = nowNs() - 3600n * SEC;

function spaoData(o: { spi: number; ts: bigint; auth?: Uint8Array }): Buffer {
  const d = Buffer.alloc(28);
  d.writeUInt32BE(o.spi, 0);
  d.writeUIntBE(Number(o.ts), 6, 6);
  if (o.auth) d.set(o.auth, 12);
  return d;
}

function xdpCtx(ifindex: number, len: number): Buffer {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(len, 4);
  c.writeUInt32LE(ifindex, 12);
  return c;
}

function skbCtx(ifindex: number): Buffer {
  const c = Buffer.alloc(192);
  c.writeUInt32LE(ifindex, 40);
  return c;
}

/** Where a built frame's parts are, for flipping bits after sealing. */
interface Built {
  frame: Buffer;
  shimAt: number;
  authAt: number;
}

/** The route from Zurich to Frankfurt's core path, as Frankfurt's edge sees it arrive. */
function corePath(): { atFra: ScionPath; atZrh: ScionPath; fraUp: number; fraCoreOut: number; zrhUp: number; zrhCoreIn: number; hopKey: Uint8Array } {
  const control = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { seed: 7 });
  const there = control.pathsSync(ZRH, FRA).find((c) => c.ases.length === 4 && [ZRH, ZRH_CORE, FRA_CORE, FRA].every((ia, i) => c.ases[i] === ia));
  assert.ok(there, 'the core path Zurich -> Frankfurt');
  const ifs = there.interfaces.map((i) => i.ifid);
  const atZrh = processSourceHop(there.path).path;
  return {
    atZrh, atFra: transitHop(transitHop(atZrh).path).path,
    zrhUp: ifs[0]!, zrhCoreIn: ifs[1]!, fraCoreOut: ifs[4]!, fraUp: ifs[5]!, hopKey: control.topology.ases.get(FRA)!.hopKey,
  };
}

/** A Frankfurt edge with authentication on, its hop key, one pod, and rx keys for Zurich (cluster 1) and an expired AS. */
function frankfurtEdge(instance: string, ifindex: number, podIfindex: number, r: ReturnType<typeof corePath>, key: Uint8Array, mac: { local: string; remote: string }): EdgeDatapath {
  const fra = EdgeDatapath.load({ instance, spao: 'on' });
  assert.equal(fra.spao.state, 'on', `authentication on: ${fra.spao.reason ?? ''}`);
  fra.config.set(0, { localIA: FRA, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(r.hopKey) });
  fra.ifindexToIfid.set(ifindex, r.fraUp);
  fra.interfaces.set(r.fraUp, {
    ifindex, localIp: '10.201.3.2', remoteIp: '10.201.3.1', localPort: PORT_BASE + r.fraUp, remotePort: PORT_BASE + r.fraCoreOut,
    localMac: mac.local, remoteMac: mac.remote,
  });
  fra.endpoints.set(FRA_BILLING_IP, { identity: scopedIdentity(2, 256), ifindex: podIfindex });
  const now = nowNs();
  fra.keys!.put({ peerIa: ZRH, dir: 'rx', epochBeginNs: now - 60n * SEC, notAfterNs: now + 3600n * SEC, clusterId: 1, key });
  fra.keys!.put({ peerIa: EXPIRED_AS, dir: 'rx', epochBeginNs: EXPIRED_BEGIN_NS, notAfterNs: now - 10n * SEC, clusterId: 1, key });
  return fra;
}

/** A SCION frame from `src` to Frankfurt billing, sealed in TypeScript unless `spao` says otherwise. */
function sealedFrame(
  underlay: Underlay, path: ScionPath, key: Uint8Array,
  o: { src?: IA; identity?: number; sendNs?: bigint; epochBeginNs: bigint; spi?: number; noSpao?: boolean; payload?: string },
): Built {
  const sendNs = o.sendNs ?? nowNs();
  const inner = ipv4Packet({ src: ZRH_POD_IP, dst: FRA_BILLING_IP, proto: IPPROTO_UDP, payload: udpDatagram(41000, 7000, Buffer.from(o.payload ?? 'authenticated')) });
  const opt: SpaoOption = cillionSpaoOption(o.epochBeginNs, sendNs);
  const { frame, layout } = scionFrame({
    underlay, srcIA: o.src ?? ZRH, dstIA: FRA, srcHost: ZRH_POD_IP, dstHost: FRA_BILLING_IP, path,
    ...(o.noSpao ? {} : { e2e: [{ type: 2, data: spaoData({ spi: o.spi ?? CILLION_SPI, ts: BigInt(opt.timestampSeq) }) }] }),
    identity: o.identity ?? ZRH_BILLING, inner,
  });
  const authAt = o.noSpao ? -1 : layout.options[0]! + 2 + 12;
  if (o.noSpao) return { frame, shimAt: layout.shim, authAt };
  const sealed = Buffer.from(sealCillion(frame.subarray(UNDERLAY_LEN), key));
  return { frame: Buffer.concat([frame.subarray(0, UNDERLAY_LEN), sealed]), shimAt: layout.shim, authAt };
}

function flip(f: Buffer, at: number, bit = 0x01): Buffer {
  const c = Buffer.from(f);
  c[at] ^= bit;
  return c;
}

describe('datapath: SPAO authentication at the edge (BPF_PROG_TEST_RUN)', function () {
  requireDatapath(this);
  this.timeout(30000);
  const instance = `spao-${process.pid}`;
  const hosts = new Topology(`cilsp${process.pid}`);
  const key = randomBytes(16);
  let r: ReturnType<typeof corePath>;
  let fra: EdgeDatapath;
  let zrh: EdgeDatapath;
  let ring: RingReader;
  let netns: string;
  let ifA: number;
  let underlay: Underlay;
  let epochBeginNs: bigint;
  let receive: (frame: Buffer) => { retval: number; record: PacketRecord };

  before(() => {
    for (const i of ['fra', 'zrh']) rmSync(join(PIN_BASE, `${instance}-${i}`), { recursive: true, force: true });
    const ns = hosts.addHost('dp');
    netns = `/var/run/netns/${ns}`;
    const link = hosts.link({ ns, ifname: 'up0' }, { ns, ifname: 'up1' });
    ifA = link.a.ifindex;
    r = corePath();
    fra = frankfurtEdge(`${instance}-fra`, ifA, link.b.ifindex, r, key, { local: link.a.mac, remote: link.b.mac });
    epochBeginNs = fra.keys!.list().find((k) => k.peerIa === ZRH)!.epochBeginNs;
    ring = new RingReader(fra.events, { bufferBytes: 1 << 16, onBatch: () => undefined });
    underlay = { srcMac: link.b.mac, dstMac: link.a.mac, srcIp: '10.201.3.1', dstIp: '10.201.3.2', srcPort: PORT_BASE + r.fraCoreOut, dstPort: PORT_BASE + r.fraUp };
    receive = (frame) => {
      ring.drain();
      const out = fra.obj.program('edge_ingress').testRun(frame, { ctx: xdpCtx(ifA, frame.length), netns });
      const records = decodeBatch(ring.buffer, ring.drain().bytes);
      assert.equal(records.length, 1, `one record per packet (retval ${out.retval})`);
      return { retval: out.retval, record: records[0]! };
    };

    zrh = EdgeDatapath.load({ instance: `${instance}-zrh`, spao: 'on' });
    zrh.config.set(0, { localIA: ZRH, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(randomBytes(16)) });
    zrh.endpoints.set(ZRH_POD_IP, { identity: ZRH_BILLING, ifindex: link.b.ifindex });
    const pathEntry = (dst: IA) => ({
      ifindex: ifA, mtu: 1472, srcMac: link.a.mac, dstMac: link.b.mac, srcIp: '10.201.1.1', dstIp: '10.201.1.2',
      srcPort: PORT_BASE + r.zrhUp, dstPort: PORT_BASE + r.zrhCoreIn, egressIfid: r.zrhUp, header: headerTemplate(ZRH, dst, r.atZrh),
    });
    zrh.paths.set(1, pathEntry(FRA));
    zrh.paths.set(2, pathEntry(KEYLESS_AS));
    zrh.egressPolicy.set({ identity: ZRH_BILLING, prefix: '10.165.0.0/16' }, [1]);
    zrh.egressPolicy.set({ identity: ZRH_BILLING, prefix: '10.166.0.0/16' }, [2]);
    zrh.keys!.put({ peerIa: FRA, dir: 'tx', epochBeginNs, notAfterNs: epochBeginNs + 3660n * SEC, clusterId: 2, key });
  });

  after(() => {
    ring?.stop();
    fra?.close();
    zrh?.close();
    hosts.destroy();
    for (const i of ['fra', 'zrh']) rmSync(join(PIN_BASE, `${instance}-${i}`), { recursive: true, force: true });
  });

  it('the key table lists what it installed, replaces an epoch in place and keeps at most three per peer and direction', () => {
    const t = zrh.keys!;
    const peer = parseIA('66-2:0:1');
    for (let e = 0n; e < 4n; e++) t.put({ peerIa: peer, dir: 'tx', epochBeginNs: (100n + e) * SEC, notAfterNs: (101n + e) * SEC, clusterId: 4, key: randomBytes(16) });
    t.put({ peerIa: peer, dir: 'tx', epochBeginNs: 103n * SEC, notAfterNs: 200n * SEC, clusterId: 4, key: randomBytes(16) });
    const mine = t.list().filter((k) => k.peerIa === peer).map((k) => [k.epochBeginNs / SEC, k.notAfterNs / SEC]);
    assert.deepEqual(mine.sort((a, b) => Number(a[0]! - b[0]!)), [[101n, 102n], [102n, 103n], [103n, 200n]], 'the oldest epoch made room; 103 replaced in place');
    for (const [b] of mine) t.remove(peer, 'tx', b! * SEC);
    assert.equal(t.list().filter((k) => k.peerIa === peer).length, 0);
    assert.throws(() => t.put({ peerIa: peer, dir: 'tx', epochBeginNs: 1n, notAfterNs: 2n, clusterId: 4, key: randomBytes(15) }), /16 bytes/);
  });

  it('verifies a packet sealed in TypeScript and delivers it, marked authenticated', () => {
    const decap = fra.counter('DECAP');
    const { retval, record } = receive(sealedFrame(underlay, r.atFra, key, { epochBeginNs }).frame);
    assert.equal(retval, XDP_PASS);
    assert.equal(fra.counter('DECAP'), decap + 1n);
    assert.deepEqual([record.verdict, record.identity, record.authenticated], ['FORWARDED', ZRH_BILLING, true]);
  });

  it('seals in tc egress what TypeScript verifies: E2E{SPAO} then the shim, the MAC over shim and packet', () => {
    const pod = ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', ETH_P_IP,
      ipv4Packet({ src: ZRH_POD_IP, dst: FRA_BILLING_IP, proto: IPPROTO_UDP, payload: udpDatagram(41000, 7000, Buffer.from('sealed in the kernel')) }));
    const out = zrh.obj.program('edge_egress').testRun(pod, { ctx: skbCtx(ifA), netns });
    assert.equal(out.retval, TC_ACT_OK);
    const scion = out.data.subarray(UNDERLAY_LEN);
    const p = decodePacket(scion);
    const opt = p.extensions[0]?.options.find((o): o is SpaoOption => o.kind === 'SPAO');
    assert.ok(opt, 'an SPAO in the end-to-end extension');
    assert.deepEqual([p.common.nextHdr, opt.spi, opt.algorithm], [201, CILLION_SPI, 0]);
    const sentAt = epochBeginNs + BigInt(opt.timestampSeq);
    assert.ok(sentAt > nowNs() - 5n * SEC && sentAt <= nowNs() + SEC, 'timestamp: ns since the epoch began');
    assert.equal((p.l4 as { nextHdr: number }).nextHdr, PROTO_CILLION_SHIM);
    assert.equal(decodeShim((p.l4 as { payload: Uint8Array }).payload).shim.identity, ZRH_BILLING);
    assert.equal(cillionTagValid(scion, key), true, 'the kernel MAC is the reference MAC');
    assert.equal(cillionTagValid(flip(Buffer.from(scion), scion.length - 1), key), false, 'and it covers the packet');
  });

  it('drops egress to a peer it holds no key for as AUTH_NO_KEY, counted', () => {
    const before = zrh.counter('AUTH_NO_KEY');
    const pod = ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', ETH_P_IP,
      ipv4Packet({ src: ZRH_POD_IP, dst: '10.166.0.9', proto: IPPROTO_UDP, payload: udpDatagram(41000, 7000, Buffer.from('x')) }));
    assert.equal(zrh.obj.program('edge_egress').testRun(pod, { ctx: skbCtx(ifA), netns }).retval, TC_ACT_SHOT);
    assert.equal(zrh.counter('AUTH_NO_KEY'), before + 1n);
  });

  const cases: Array<[string, string, () => Buffer]> = [
    ['a packet without SPAO', 'AUTH_MISSING', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, noSpao: true }).frame],
    ['an SPAO of another SPI', 'AUTH_MISSING', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, spi: CILLION_SPI + 1 }).frame],
    ['a packet from an AS without key', 'AUTH_NO_KEY', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, src: KEYLESS_AS }).frame],
    ['a timestamp 5 s old (window 2 s)', 'AUTH_STALE', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, sendNs: nowNs() - 5n * SEC }).frame],
    ['a timestamp 5 s ahead', 'AUTH_STALE', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, sendNs: nowNs() + 5n * SEC }).frame],
    ['a key whose epoch has expired', 'AUTH_STALE', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs: EXPIRED_BEGIN_NS, src: EXPIRED_AS }).frame],
    ['one flipped bit in the payload', 'AUTH_BAD_MAC', () => { const b = sealedFrame(underlay, r.atFra, key, { epochBeginNs }); return flip(b.frame, b.frame.length - 1); }],
    ['one flipped bit in the identity', 'AUTH_BAD_MAC', () => { const b = sealedFrame(underlay, r.atFra, key, { epochBeginNs }); return flip(b.frame, b.shimAt + 7); }],
    ['one flipped bit in the authenticator', 'AUTH_BAD_MAC', () => { const b = sealedFrame(underlay, r.atFra, key, { epochBeginNs }); return flip(b.frame, b.authAt + 15, 0x80); }],
    ['a packet sealed under another key', 'AUTH_BAD_MAC', () => sealedFrame(underlay, r.atFra, randomBytes(16), { epochBeginNs }).frame],
    ['an identity of another cluster, correctly sealed', 'AUTH_FOREIGN_IDENTITY', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, identity: OTHER_CLUSTER_BILLING }).frame],
    ['a reserved identity (world), correctly sealed', 'AUTH_FOREIGN_IDENTITY', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, identity: 2 }).frame],
    ['an identity with bits 24-31 set, correctly sealed', 'AUTH_FOREIGN_IDENTITY', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, identity: (ZRH_BILLING | 0x0100_0000) >>> 0 }).frame],
    ['a packet over an inter-AS link claiming Frankfurt itself as its source', 'SPOOFED_SRC', () => sealedFrame(underlay, r.atFra, key, { epochBeginNs, src: FRA }).frame],
  ];
  for (const [name, reason, build] of cases) {
    it(`drops ${name} as ${reason}, counted and recorded, nothing delivered`, () => {
      const before = fra.counter(reason as 'AUTH_MISSING');
      const decap = fra.counter('DECAP');
      const { retval, record } = receive(build());
      assert.equal(retval, XDP_DROP);
      assert.equal(fra.counter(reason as 'AUTH_MISSING'), before + 1n);
      assert.equal(fra.counter('DECAP'), decap);
      assert.deepEqual([record.verdict, record.dropReason, record.authenticated], ['DROPPED', reason, false]);
    });
  }

  it('drops the replay of an accepted packet as AUTH_REPLAYED', () => {
    const f = sealedFrame(underlay, r.atFra, key, { epochBeginNs, payload: 'once' }).frame;
    assert.equal(receive(f).retval, XDP_PASS);
    const before = fra.counter('AUTH_REPLAYED');
    const { retval, record } = receive(f);
    assert.equal(retval, XDP_DROP);
    assert.equal(fra.counter('AUTH_REPLAYED'), before + 1n);
    assert.equal(record.dropReason, 'AUTH_REPLAYED');
  });

  it('starts with an empty key table when loaded again over the pinned maps', () => {
    const again = EdgeDatapath.load({ instance: `${instance}-fra`, spao: 'on' });
    try {
      assert.deepEqual(again.keys!.list(), []);
      assert.equal(again.obj.map('spao_keys').dump().length, 0, 'the pinned map was cleared');
    } finally {
      again.close();
    }
    const { retval, record } = receive(sealedFrame(underlay, r.atFra, key, { epochBeginNs }).frame);
    assert.deepEqual([retval, record.dropReason], [XDP_DROP, 'AUTH_NO_KEY'], 'the first edge shares the map: its keys are gone too');
    fra.keys!.put({ peerIa: ZRH, dir: 'rx', epochBeginNs, notAfterNs: epochBeginNs + 3600n * SEC, clusterId: 1, key });
  });

  it('loads without authentication when asked, and says so', () => {
    const off = EdgeDatapath.load({ instance: `${instance}-off` });
    try {
      assert.deepEqual([off.spao.state, off.keys], ['off', undefined]);
      assert.match(off.spao.reason ?? '', /--spao off/);
    } finally {
      off.close();
      rmSync(join(PIN_BASE, `${instance}-off`), { recursive: true, force: true });
    }
  });
});
