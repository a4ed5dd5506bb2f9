// The datapath part of npm run bench (bench/run.ts): its costs, each as a ratio against a
// baseline measured in the same run. Needs root, a BPF-capable kernel and the built addon,
// like test/datapath.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hopFieldKeyMaterial } from '../bpf/aes_keys';
import { realtimeOffsetNs } from '../bpf/clock';
import { EdgeDatapath, PIN_BASE, RouterDatapath } from '../bpf/datapath';
import { BPF_F_TEST_XDP_LIVE_FRAMES, BpfObject, RingReader, type BpfProgram } from '../bpf/native';
import { decodeBatch } from '../bpf/records';
import { headerTemplate, processSourceHop } from '../bpf/template';
import { EmbeddedPathService } from '../controlplane/pathservice';
import { parseIA } from '../scion/isdas';
import { buildSegmentMacs } from '../scion/mac/segid';
import { encodePacket, type ScionPacket } from '../scion/packet';
import { encodeShim, PROTO_CILLION_SHIM, SHIM_INNER_IPV4 } from '../scion/shim';
import { Topology } from '../test/datapath/harness/topology';
import { Wan } from '../test/datapath/harness/wan';
import { edgeAuthCost } from './edge_auth';
import { Sink } from './sink';
import { fmt, median, pct, type Result } from './report';

const ROOT = join(__dirname, '..');
const BASELINE = join(ROOT, 'bench', 'build', 'baseline.bpf.o');
const TOOLS = join(ROOT, 'bench', 'build');
const INSTANCE = `bench-${process.pid}`;
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');
const run = promisify(execFile);

/** Ethernet + IPv4 + UDP from a pod to the other cluster. */
function podFrame(payload = 64): Buffer {
  const f = Buffer.alloc(14 + 28 + payload);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(28 + payload, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 164, 0, 5]).copy(f, 26);
  Buffer.from([10, 165, 0, 7]).copy(f, 30);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(7000, 36);
  f.writeUInt16BE(8 + payload, 38);
  return f;
}

/** An edge loaded and programmed to encapsulate podFrame() on a real demo path. */
function programmedEdge(instance: string, records: boolean): EdgeDatapath {
  const control = EmbeddedPathService.fromFile(join(ROOT, 'examples', 'topology.yaml'));
  const cp = control.pathsSync(ZRH, FRA)[0];
  const { path, egressIfid } = processSourceHop(cp.path);
  const dp = EdgeDatapath.load({ instance, records });
  dp.endpoints.set('10.164.0.5', { identity: 300, ifindex: 1 });
  dp.paths.set(1, {
    ifindex: 99, mtu: 1472, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.200.0.1',
    dstIp: '10.200.0.2', srcPort: 50001, dstPort: 50004, egressIfid, header: headerTemplate(cp.src, cp.dst, path),
  });
  dp.egressPolicy.set({ identity: 300, prefix: '10.165.0.0/16' }, [1]);
  return dp;
}

/**
 * Edge egress per packet: the kernel's own timing of single test runs (a run repeated on
 * its own output would see an already encapsulated packet), rounds interleaved.
 */
function egressCost(): Result {
  const withRec = programmedEdge(`${INSTANCE}/rec`, true);
  const without = programmedEdge(`${INSTANCE}/norec`, false);
  const base = BpfObject.open(BASELINE);
  const ring = new RingReader(withRec.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
  const frame = podFrame();
  const progs = {
    noop: base.program('tc_noop'),
    without: without.obj.program('edge_egress'),
    with: withRec.obj.program('edge_egress'),
  };
  const rounds: Record<keyof typeof progs, number[]> = { noop: [], without: [], with: [] };
  const perRound = 5000;
  try {
    for (let r = 0; r < 7; r++) {
      for (const name of Object.keys(progs) as Array<keyof typeof progs>) {
        let total = 0;
        for (let i = 0; i < perRound; i++) total += progs[name].testRun(frame).durationNs;
        rounds[name].push(total / perRound);
      }
      while (ring.drain().records > 0);
    }
    if (withRec.counter('RING_RESERVE_FAIL') !== 0n) throw new Error('the ring overflowed during the benchmark');
  } finally {
    base.close();
    withRec.close();
    without.close();
  }
  const noop = median(rounds.noop);
  const w = median(rounds.with);
  const wo = median(rounds.without);
  const added = w / wo - 1;
  return {
    what: 'edge egress encap: records on vs off (vs no-op tc program)',
    figures: `${fmt(w)} ns with records, ${fmt(wo)} ns without, ${fmt(noop)} ns no-op`,
    ratio: `records add ${pct(added)} (${pct((w - wo) / Math.max(1, wo - noop))} of the program's own work)`,
    target: 'at most 30%',
    met: added <= 0.3,
  };
}

/** A SCION packet arriving at the router on interface 1, leaving by interface 2. */
function routerPacket(routerKey: Uint8Array): Buffer {
  const ts = Math.floor(Date.now() / 1000);
  const hops = [
    { expTime: 63, consIngress: 0, consEgress: 5 },
    { expTime: 63, consIngress: 1, consEgress: 2 },
    { expTime: 63, consIngress: 7, consEgress: 0 },
  ];
  const keys = [randomBytes(16), routerKey, randomBytes(16)];
  const { macs, segIds } = buildSegmentMacs(0x1234, ts, hops, keys);
  const inner = Buffer.alloc(28 + 64);
  inner[0] = 0x45;
  inner.writeUInt16BE(inner.length, 2);
  inner[8] = 64;
  inner[9] = 17;
  const pkt: ScionPacket = {
    common: { version: 0, trafficClass: 0, flowId: 1, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'SCION' },
    dstIA: parseIA('1-ff00:0:3'),
    srcIA: parseIA('1-ff00:0:1'),
    dst: { kind: 'IPv4', bytes: Uint8Array.from([10, 165, 0, 7]) },
    src: { kind: 'IPv4', bytes: Uint8Array.from([10, 164, 0, 5]) },
    path: {
      type: 'SCION',
      meta: { currInf: 0, currHf: 1, segLens: [3, 0, 0] },
      infoFields: [{ consDir: true, peer: false, segId: segIds[1], timestamp: ts }],
      hopFields: hops.map((h, i) => ({ ...h, ingressAlert: false, egressAlert: false, mac: macs[i] })),
    },
    extensions: [],
    l4: { kind: 'Raw', nextHdr: PROTO_CILLION_SHIM, payload: encodeShim({ innerProto: SHIM_INNER_IPV4, identity: 300 }, inner) },
  };
  return Buffer.from(encodePacket(pkt));
}

function udpIpv4Frame(srcIp: number[], dstIp: number[], sport: number, dport: number, payload: Buffer, dstMac: string): Buffer {
  const f = Buffer.alloc(42 + payload.length);
  Buffer.from(dstMac.split(':').map((x) => parseInt(x, 16))).copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(28 + payload.length, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from(srcIp).copy(f, 26);
  Buffer.from(dstIp).copy(f, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt16BE(8 + payload.length, 38);
  payload.copy(f, 42);
  return f;
}

/**
 * Router with MAC verification against plain XDP forwarding, and the router's two hop-MAC
 * methods against each other (kernel crypto kfuncs vs the table AES fallback), rounds
 * interleaved: live test-run frames really leave through a veth into a sink, so each
 * figure includes the redirect and the veth.
 */
async function routerVsForward(): Promise<Result[]> {
  const hosts = new Topology(`cilbench${process.pid}`);
  const ns = hosts.addHost('r');
  const netns = `/var/run/netns/${ns}`;
  const inl = hosts.link({ ns, ifname: 'rin' }, { ns, ifname: 'rsrc' });
  const outl = hosts.link({ ns, ifname: 'rout' }, { ns, ifname: 'rsink' });
  const key = randomBytes(16);
  // Records off: this figure is the forwarding work itself; the edge benchmark prices records.
  const router = RouterDatapath.load({ instance: `${INSTANCE}/router`, records: false });
  const table = RouterDatapath.load({ instance: `${INSTANCE}/router-table`, records: false, hopMac: 'table' });
  const frame = udpIpv4Frame([10, 201, 0, 2], [10, 201, 0, 1], 50002, 50001, routerPacket(key), inl.a.mac);
  const base = BpfObject.open(BASELINE, {
    consts: {
      fwd_ifindex: Buffer.from(Uint32Array.of(outl.a.ifindex).buffer),
      fwd_src_mac: Buffer.from(outl.a.mac.split(':').map((x) => parseInt(x, 16))),
      fwd_dst_mac: Buffer.from(outl.b.mac.split(':').map((x) => parseInt(x, 16))),
    },
  });
  try {
    for (const dp of [router, table]) {
      dp.config.set(0, { localIA: parseIA('1-ff00:0:2'), realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(key) });
      dp.ifindexToIfid.set(inl.a.ifindex, 1);
      const iface = { localPort: 50001, remotePort: 50002, localMac: inl.a.mac };
      dp.interfaces.set(1, { ...iface, ifindex: inl.a.ifindex, localIp: '10.201.0.1', remoteIp: '10.201.0.2', remoteMac: inl.b.mac });
      dp.interfaces.set(2, { ...iface, ifindex: outl.a.ifindex, localIp: '10.202.0.1', remoteIp: '10.202.0.2', localMac: outl.a.mac, remoteMac: outl.b.mac });
    }
    const pristine = Buffer.alloc(4 + 512);
    pristine.writeUInt32LE(frame.length, 0);
    frame.copy(pristine, 4);
    base.map('pristine').update(Buffer.alloc(4), pristine);
    base.program('xdp_sink').attachXdp(outl.b.ifindex, { netns });
    const sink = new Sink(base);
    // struct xdp_md: data_end must equal the frame length; the frame arrives on rin.
    const ctx = Buffer.alloc(24);
    ctx.writeUInt32LE(frame.length, 4);
    ctx.writeUInt32LE(inl.a.ifindex, 12);
    const n = 500000;
    const rate = (prog: BpfProgram): Promise<number> => sink.rate(n, () => prog.testRun(frame, { repeat: n, flags: BPF_F_TEST_XDP_LIVE_FRAMES, ctx, netns, batchSize: 64 }));
    const routerRates: number[] = [];
    const tableRates: number[] = [];
    const fwdRates: number[] = [];
    for (let r = 0; r < 5; r++) {
      routerRates.push(await rate(router.obj.program('router')));
      tableRates.push(await rate(table.obj.program('router')));
      fwdRates.push(await rate(base.program('xdp_fwd')));
    }
    for (const dp of [router, table]) {
      const drops = Object.entries(dp.counterTotals()).filter(([k]) => !['FORWARD', 'NOT_SCION', 'RING_RESERVE_FAIL'].includes(k));
      if (drops.length > 0 || dp.counter('FORWARD') !== BigInt(5 * n)) {
        throw new Error(`the ${dp.hopMac.method} router did not forward every frame: ${JSON.stringify(dp.counterTotals(), (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      }
    }
    const ratio = median(routerRates) / median(fwdRates);
    const macRatio = median(routerRates) / median(tableRates);
    const active = router.hopMac.method === 'kfunc' ? `kfunc MACs, ${router.hopMac.driver}` : `table MACs: ${router.hopMac.reason}`;
    process.stderr.write(`bench: router hop MACs ${active}\n`);
    return [
      {
        what: `router (MAC verified, ${router.hopMac.method}) vs plain XDP forwarding, through a veth`,
        figures: `${fmt(median(routerRates) / 1e6, 2)} Mpps vs ${fmt(median(fwdRates) / 1e6, 2)} Mpps`,
        ratio: pct(ratio),
        target: 'at least 60%',
        met: ratio >= 0.6,
      },
      {
        what: `router hop MACs: ${active} vs table AES in BPF`,
        figures: `${fmt(median(routerRates) / 1e6, 2)} Mpps vs ${fmt(median(tableRates) / 1e6, 2)} Mpps`,
        ratio: pct(macRatio),
        // Constant time is the point; the target is only that it does not halve forwarding.
        target: 'at least 50%',
        met: macRatio >= 0.5,
      },
    ];
  } finally {
    base.close();
    router.close();
    table.close();
    hosts.destroy();
  }
}

/** Node's ring consumer against libbpf's ring_buffer__consume in C, on the same records. */
async function ringConsumer(): Promise<Result> {
  const instance = `${INSTANCE}/ring`;
  const dp = programmedEdge(instance, true);
  const prog = dp.obj.program('edge_egress');
  const frame = podFrame();
  const records = 30000;
  const fill = (): void => {
    for (let i = 0; i < records; i++) prog.testRun(frame);
  };
  // A batch of about 150 records: big enough that JS calls are rare, small enough to stay in cache.
  const reader = new RingReader(dp.events, { bufferBytes: 64 * 1024, onBatch: () => undefined });
  const rates = { c: [] as number[], node: [] as number[], decode: [] as number[] };
  try {
    for (let r = 0; r < 5; r++) {
      fill();
      const { stdout } = await run(join(TOOLS, 'ringcons'), [join(PIN_BASE, instance, 'events')]);
      const [count, ns] = stdout.trim().split(' ').map(Number);
      if (count !== records) throw new Error(`the C consumer read ${count} of ${records}`);
      rates.c.push(count / (ns / 1e9));
      for (const decode of [false, true]) {
        fill();
        let got = 0;
        const t0 = process.hrtime.bigint();
        for (;;) {
          const { records: n, bytes } = reader.drain();
          if (n === 0) break;
          got += decode ? decodeBatch(reader.buffer, bytes).length : n;
        }
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (got !== records) throw new Error(`Node read ${got} of ${records}`);
        (decode ? rates.decode : rates.node).push(got / seconds);
      }
    }
  } finally {
    dp.close();
  }
  const c = median(rates.c);
  const node = median(rates.node);
  const decoded = median(rates.decode);
  return {
    what: 'ring consumer: Node (addon drain, one JS call per batch) vs C libbpf',
    figures: `${fmt(node / 1e6, 2)} M records/s vs ${fmt(c / 1e6, 2)} M/s in C; decoded into JS objects ${fmt(decoded / 1e6, 2)} M/s`,
    ratio: `${pct(node / c)} (${pct(decoded / c)} with decoding)`,
    target: 'at least 80%',
    met: node / c >= 0.8,
  };
}

/** Packets per second between two pods through the namespace WAN: SCION vs plain IP routing. */
async function topologyRate(): Promise<Result> {
  const ases = ['64-2:0:20', '64-2:0:10', '65-2:0:10', '65-2:0:20'].map(parseIA);
  const count = 300000;
  const measure = async (plain: boolean): Promise<{ pps: number; delivered: number }> => {
    const wan = new Wan(ases, { prefix: `cilbw${process.pid}`, plain }).build([ZRH, FRA]);
    try {
      const a = wan.addPod('a', ZRH, '10.164.0.5', 300);
      const b = wan.addPod('b', FRA, '10.165.0.7', 400);
      if (plain) wan.plainRoute('10.165.0.0/16', ases);
      else wan.route(ZRH, 300, '10.165.0.0/16', [wan.paths(ZRH, FRA)[0]]);
      const recv = wan.hosts.spawn(b.ns, join(TOOLS, 'udpflood'), ['recv', '9000', '500']);
      let out = '';
      recv.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
      execFileSync('ip', ['netns', 'exec', a.ns, join(TOOLS, 'udpflood'), 'send', b.ip, '9000', String(count), '64']);
      await new Promise((r) => recv.on('exit', r));
      const [packets, ns] = out.trim().split('\n').pop()?.split(' ').map(Number) ?? [0, 1];
      return { pps: packets / (ns / 1e9), delivered: packets / count };
    } finally {
      wan.destroy();
    }
  };
  const scion: number[] = [];
  const plain: number[] = [];
  let delivered = 1;
  for (let r = 0; r < 3; r++) {
    const s = await measure(false);
    scion.push(s.pps);
    delivered = Math.min(delivered, s.delivered);
    plain.push((await measure(true)).pps);
  }
  const ratio = median(scion) / median(plain);
  return {
    what: 'pod to pod through 2 edges + 2 routers: SCION vs plain IP forwarding',
    figures: `${fmt(median(scion) / 1e3)} kpps vs ${fmt(median(plain) / 1e3)} kpps (64-byte UDP; SCION run delivered ${pct(delivered)} of what was sent)`,
    ratio: pct(ratio),
    target: 'reported',
    met: true,
  };
}

/** The datapath figures, one step after another; `only` picks steps by name prefix. */
export async function datapathBench(only: (name: string) => boolean): Promise<Result[]> {
  rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  Topology.sweep(`cilbench${process.pid}`);
  const results: Result[] = [];
  const steps: Array<[string, () => Result | Result[] | Promise<Result | Result[]>]> = [
    ['edge egress', egressCost],
    ['edge authentication', () => edgeAuthCost(`${INSTANCE}/auth`, ROOT)],
    ['router', routerVsForward],
    ['ring consumer', ringConsumer],
    ['topology', topologyRate],
  ];
  try {
    for (const [name, step] of steps) {
      if (!only(name)) continue;
      process.stderr.write(`bench: ${name}...\n`);
      results.push(...[await step()].flat());
    }
  } finally {
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  }
  return results;
}
