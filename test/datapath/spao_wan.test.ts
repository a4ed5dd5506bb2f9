// SPAO authentication between two clusters in the real kernel: both edges seal and verify
// (edge_kfunc.bpf.o), transit routers in between rewrite CurrHF and SegIDs, and real UDP
// and TCP still flow both ways, every delivered packet verified; the wire carries
// E2E{SPAO} then the shim, and the TypeScript reference accepts every tag. Without the rx
// key the receiving edge drops everything as AUTH_NO_KEY.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeDatapath } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { decodeBatch, type PacketRecord } from '../../bpf/records';
import { readFrames, udpPayload } from '../../cli/scion/capture';
import { parseIA } from '../../scion/isdas';
import { decodePacket, type SpaoOption } from '../../scion/packet';
import { decodeShim, PROTO_CILLION_SHIM } from '../../scion/shim';
import { CILLION_SPI, cillionTagValid } from '../../scion/spao/cillion';
import { requireDatapath } from './harness/require';
import { echoServer, startCapture, tcpEcho, udpEcho } from './harness/traffic';
import { Wan } from './harness/wan';

const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const ID_A = (1 << 16) | 256;
const ID_B = (2 << 16) | 256;
const SEC = 1_000_000_000n;

function drainRecords(dp: EdgeDatapath): PacketRecord[] {
  const reader = new RingReader(dp.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
  const out: PacketRecord[] = [];
  for (;;) {
    const { records, bytes } = reader.drain();
    if (records === 0) return out;
    out.push(...decodeBatch(reader.buffer, bytes, (e) => assert.fail(e.message)));
  }
}

describe('datapath: SPAO-authenticated traffic between two clusters in the real kernel', function () {
  requireDatapath(this);
  this.timeout(60000);
  let wan: Wan | undefined;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cilspw-'));
    Wan.sweep(`cilspw${process.pid}`);
  });
  after(() => {
    wan?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seals at one edge, verifies at the other across rewriting routers, both ways; without a key nothing gets through', async () => {
    wan = new Wan([ZRH, ZRH_CORE, FRA_CORE, FRA], { prefix: `cilspw${process.pid}`, spao: 'on' }).build([ZRH, FRA]);
    const a = wan.addPod('a', ZRH, '10.164.0.5', ID_A);
    const b = wan.addPod('b', FRA, '10.165.0.7', ID_B);
    const there = wan.paths(ZRH, FRA).find((p) => p.ases.length === 4 && p.ases[1] === ZRH_CORE);
    const back = wan.paths(FRA, ZRH).find((p) => p.ases.length === 4 && p.ases[1] === FRA_CORE);
    assert.ok(there && back, 'the core path exists both ways');
    wan.route(ZRH, ID_A, '10.165.0.0/16', [there]);
    wan.route(FRA, ID_B, '10.164.0.0/16', [back]);
    const zrh = wan.edges.get(ZRH)!;
    const fra = wan.edges.get(FRA)!;
    assert.deepEqual([zrh.spao.state, fra.spao.state], ['on', 'on'], `${zrh.spao.reason ?? ''} ${fra.spao.reason ?? ''}`);
    const kZF = randomBytes(16);
    const kFZ = randomBytes(16);
    const begin = BigInt(Date.now()) * 1_000_000n - 60n * SEC;
    const epoch = { epochBeginNs: begin, notAfterNs: begin + 3600n * SEC };
    zrh.keys!.put({ peerIa: FRA, dir: 'tx', ...epoch, clusterId: 2, key: kZF });
    fra.keys!.put({ peerIa: ZRH, dir: 'rx', ...epoch, clusterId: 1, key: kZF });
    fra.keys!.put({ peerIa: ZRH, dir: 'tx', ...epoch, clusterId: 1, key: kFZ });
    zrh.keys!.put({ peerIa: FRA, dir: 'rx', ...epoch, clusterId: 2, key: kFZ });

    const udpSrv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    const tcpSrv = await echoServer(wan.hosts, b.ns, 'tcp', 7001);
    const upZ = wan.iface(ZRH, 1);
    const cap = await startCapture(wan.hosts, upZ.ns, upZ.ifname, join(dir, 'zrh.pcap'), `udp and dst port ${upZ.remote.port}`);
    for (const dp of [zrh, fra]) drainRecords(dp);
    assert.deepEqual(await udpEcho(a.ns, b.ip, 7000, { count: 20, size: 200, srcPort: 40000 }), { sent: 20, received: 20 });
    const tcp = await tcpEcho(a.ns, b.ip, 7001, 32 * 1024);
    assert.equal(tcp.received, 32 * 1024, JSON.stringify(tcp));
    const wire = await cap.stop();

    const sent = readFrames(wire).map(udpPayload).filter((u) => u !== null).map((u) => u.payload);
    assert.ok(sent.length >= 20, `${sent.length} packets captured`);
    for (const s of sent) {
      const p = decodePacket(s);
      const opt = p.extensions[0]?.options.find((o): o is SpaoOption => o.kind === 'SPAO');
      assert.equal(opt?.spi, CILLION_SPI);
      assert.equal((p.l4 as { nextHdr: number }).nextHdr, PROTO_CILLION_SHIM);
      assert.equal(decodeShim((p.l4 as { payload: Uint8Array }).payload).shim.identity, ID_A);
      assert.equal(cillionTagValid(s, kZF), true, 'the TypeScript reference accepts the kernel tag');
    }
    const rings = { fra: drainRecords(fra), zrh: drainRecords(zrh) };
    for (const [ring, dir_] of [[rings.fra, 'INGRESS_DECAP'], [rings.zrh, 'INGRESS_DECAP'], [rings.zrh, 'EGRESS_ENCAP'], [rings.fra, 'EGRESS_ENCAP']] as const) {
      const recs = ring.filter((r) => r.direction === dir_);
      assert.ok(recs.length >= 20, `${dir_} records`);
      assert.ok(recs.every((r) => r.verdict === 'FORWARDED' && r.authenticated), `every ${dir_} packet authenticated`);
    }
    const drops = Object.keys(fra.counterTotals()).filter((k) => k.startsWith('AUTH_'));
    assert.deepEqual(drops, [], 'no authentication drop');

    fra.keys!.remove(ZRH, 'rx', begin);
    const before = fra.counter('AUTH_NO_KEY');
    const lost = await udpEcho(a.ns, b.ip, 7000, { count: 5, size: 100, srcPort: 40001, timeoutMs: 1000 });
    assert.deepEqual(lost, { sent: 5, received: 0 });
    assert.equal(fra.counter('AUTH_NO_KEY'), before + 5n);
    udpSrv.kill();
    tcpSrv.kill();
  });
});
