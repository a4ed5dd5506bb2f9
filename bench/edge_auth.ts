// What SPAO authentication costs the edge (issue 17 item 5): edge_egress sealing and
// edge_ingress verifying, each against the same program with authentication off, as
// packets per second of one CPU from the kernel's own timing of single test runs (a run
// repeated on its own output would see an already encapsulated or unwrapped packet, and a
// repeated authenticator is a replay). Rounds interleave on and off.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hopFieldKeyMaterial } from '../bpf/aes_keys';
import { realtimeOffsetNs } from '../bpf/clock';
import { EdgeDatapath } from '../bpf/datapath';
import { headerTemplate, processSourceHop } from '../bpf/template';
import { EmbeddedPathService } from '../controlplane/pathservice';
import { parseIA } from '../scion/isdas';
import { CILLION_SPI, cillionSpaoOption, sealCillion } from '../scion/spao/cillion';
import { ipv4Packet, scionFrame, transitHop, udpDatagram, UNDERLAY_LEN, type Underlay } from '../test/datapath/harness/frames';
import { Topology } from '../test/datapath/harness/topology';
import { fmt, median, pct, type Result } from './report';

const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const FRA = parseIA('65-2:0:20');
const IDENTITY = (1 << 16) | 256;
const SEC = 1_000_000_000n;
const ROUNDS = 5;
const PER_ROUND = 3000;
/** The sealed packets are made before the runs; a wide window keeps them fresh meanwhile. */
const WINDOW_NS = 600n * SEC;

function skbCtx(ifindex: number): Buffer {
  const c = Buffer.alloc(192);
  c.writeUInt32LE(ifindex, 40);
  return c;
}

function xdpCtx(ifindex: number, len: number): Buffer {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(len, 4);
  c.writeUInt32LE(ifindex, 12);
  return c;
}

export function edgeAuthCost(instance: string, root: string): Result[] {
  const hosts = new Topology(`cilbauth${process.pid}`);
  const ns = hosts.addHost('e');
  const netns = `/var/run/netns/${ns}`;
  const link = hosts.link({ ns, ifname: 'up0' }, { ns, ifname: 'up1' });
  const control = EmbeddedPathService.fromFile(join(root, 'examples', 'topology.yaml'), { seed: 7 });
  const there = control.pathsSync(ZRH, FRA).find((c) => c.ases.length === 4 && [ZRH, ZRH_CORE, FRA_CORE, FRA].every((ia, i) => c.ases[i] === ia));
  if (!there) throw new Error('no core path Zurich -> Frankfurt in the example topology');
  const ifs = there.interfaces.map((i) => i.ifid);
  const atZrh = processSourceHop(there.path).path;
  const atFra = transitHop(transitHop(atZrh).path).path;
  const key = randomBytes(16);
  const epochBeginNs = BigInt(Date.now()) * 1_000_000n - 60n * SEC;
  const opened: EdgeDatapath[] = [];
  const load = (name: string, spao: 'on' | 'off'): EdgeDatapath => {
    const dp = EdgeDatapath.load({ instance: `${instance}/${name}`, records: false, spao, spaoWindowNs: WINDOW_NS });
    opened.push(dp);
    if (spao === 'on' && dp.spao.state !== 'on') throw new Error(`authentication did not load: ${dp.spao.reason}`);
    return dp;
  };
  try {
    // Egress: Zurich's edge wraps a pod's packet for Frankfurt.
    const egress = { off: load('zrh-off', 'off'), on: load('zrh-on', 'on') };
    for (const dp of [egress.off, egress.on]) {
      dp.config.set(0, { localIA: ZRH, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(randomBytes(16)) });
      dp.endpoints.set('10.164.0.5', { identity: IDENTITY, ifindex: link.b.ifindex });
      dp.paths.set(1, {
        ifindex: link.a.ifindex, mtu: 1472, srcMac: link.a.mac, dstMac: link.b.mac, srcIp: '10.201.1.1', dstIp: '10.201.1.2',
        srcPort: 50000 + ifs[0]!, dstPort: 50000 + ifs[1]!, egressIfid: ifs[0]!, header: headerTemplate(ZRH, FRA, atZrh),
      });
      dp.egressPolicy.set({ identity: IDENTITY, prefix: '10.165.0.0/16' }, [1]);
    }
    egress.on.keys!.put({ peerIa: FRA, dir: 'tx', epochBeginNs, notAfterNs: epochBeginNs + 3600n * SEC, clusterId: 2, key });
    const inner = ipv4Packet({ src: '10.164.0.5', dst: '10.165.0.7', proto: 17, payload: udpDatagram(40000, 7000, Buffer.alloc(64)) });
    const pod = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]), inner]);

    // Ingress: Frankfurt's edge checks and unwraps; every sealed packet is new (a repeat is a replay).
    const ingress = { off: load('fra-off', 'off'), on: load('fra-on', 'on') };
    for (const dp of [ingress.off, ingress.on]) {
      dp.config.set(0, { localIA: FRA, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(control.topology.ases.get(FRA)!.hopKey) });
      dp.ifindexToIfid.set(link.a.ifindex, ifs[5]!);
      dp.interfaces.set(ifs[5]!, {
        ifindex: link.a.ifindex, localIp: '10.201.3.2', remoteIp: '10.201.3.1', localPort: 50000 + ifs[5]!, remotePort: 50000 + ifs[4]!,
        localMac: link.a.mac, remoteMac: link.b.mac,
      });
      dp.endpoints.set('10.165.0.7', { identity: (2 << 16) | 256, ifindex: link.b.ifindex });
    }
    ingress.on.keys!.put({ peerIa: ZRH, dir: 'rx', epochBeginNs, notAfterNs: epochBeginNs + 3600n * SEC, clusterId: 1, key });
    const underlay: Underlay = { srcMac: link.b.mac, dstMac: link.a.mac, srcIp: '10.201.3.1', dstIp: '10.201.3.2', srcPort: 50000 + ifs[4]!, dstPort: 50000 + ifs[5]! };
    const arriving = (sealed: boolean, n: number): Buffer => {
      const opt = cillionSpaoOption(epochBeginNs, BigInt(Date.now()) * 1_000_000n + BigInt(n));
      const data = Buffer.alloc(28);
      data.writeUInt32BE(CILLION_SPI, 0);
      data.writeUIntBE(opt.timestampSeq, 6, 6);
      const { frame } = scionFrame({
        underlay, srcIA: ZRH, dstIA: FRA, srcHost: '10.164.0.5', dstHost: '10.165.0.7', path: atFra, identity: IDENTITY, inner,
        ...(sealed ? { e2e: [{ type: 2, data }] } : {}),
      });
      return sealed ? Buffer.concat([frame.subarray(0, UNDERLAY_LEN), sealCillion(frame.subarray(UNDERLAY_LEN), key)]) : frame;
    };
    const plain = arriving(false, 0);
    const sealed = Array.from({ length: ROUNDS * PER_ROUND }, (_, i) => arriving(true, i));

    const ns_ = { egressOff: [] as number[], egressOn: [] as number[], ingressOff: [] as number[], ingressOn: [] as number[] };
    const skb = skbCtx(link.a.ifindex);
    const time = (run: (i: number) => { retval: number; durationNs: number }, want: number): number => {
      let total = 0;
      for (let i = 0; i < PER_ROUND; i++) {
        const r = run(i);
        if (r.retval !== want) throw new Error(`a benchmark run returned ${r.retval}, want ${want}`);
        total += r.durationNs;
      }
      return total / PER_ROUND;
    };
    for (let round = 0; round < ROUNDS; round++) {
      ns_.egressOff.push(time(() => egress.off.obj.program('edge_egress').testRun(pod, { ctx: skb, netns }), 0));
      ns_.egressOn.push(time(() => egress.on.obj.program('edge_egress').testRun(pod, { ctx: skb, netns }), 0));
      ns_.ingressOff.push(time(() => ingress.off.obj.program('edge_ingress').testRun(plain, { ctx: xdpCtx(link.a.ifindex, plain.length), netns }), 2));
      ns_.ingressOn.push(time((i) => {
        const f = sealed[round * PER_ROUND + i]!;
        return ingress.on.obj.program('edge_ingress').testRun(f, { ctx: xdpCtx(link.a.ifindex, f.length), netns });
      }, 2));
    }
    const pps = (xs: number[]): number => 1e9 / median(xs);
    const result = (what: string, off: number[], on: number[]): Result => {
      const ratio = pps(on) / pps(off);
      return {
        what,
        figures: `${fmt(pps(on) / 1e6, 2)} Mpps with, ${fmt(pps(off) / 1e6, 2)} Mpps without (${fmt(median(on))} vs ${fmt(median(off))} ns)`,
        ratio: pct(ratio),
        target: 'at least 25%',
        met: ratio >= 0.25,
      };
    };
    return [
      result(`edge egress: SPAO sealing on vs off (${egress.on.spao.driver})`, ns_.egressOff, ns_.egressOn),
      result('edge ingress: SPAO verification on vs off', ns_.ingressOff, ns_.ingressOn),
    ];
  } finally {
    for (const dp of opened) dp.close();
    hosts.destroy();
  }
}
