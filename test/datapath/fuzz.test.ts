// Fuzzing the three datapath programs through BPF_PROG_TEST_RUN (edge_ingress twice: as
// edge.bpf.o and with SPAO authentication as edge_kfunc.bpf.o): valid seeds (real paths
// with real MACs from the embedded control plane, sealed packets for the SPAO edge) must
// get their verdict, then at least RUNS mutated and random frames per program. Every verdict must be one of the program's
// action codes, every drop must show up in a drop-reason counter, every forward,
// encapsulation and decapsulation in its counter, and the seeds must still work after.
// The PRNG seed is printed; CILLION_FUZZ_SEED=<n> replays the same mutations (hop-field
// timestamps and MACs still follow the clock). Failures print the exact input bytes.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DROP_REASON_MAX, type CounterName } from '../../bpf/abi';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { EdgeDatapath, PIN_BASE, RouterDatapath } from '../../bpf/datapath';
import { sumCounter } from '../../bpf/maps';
import { RingReader, type BpfProgram } from '../../bpf/native';
import { headerTemplate, ingressPathKey, processSourceHop } from '../../bpf/template';
import type { ControlPlanePath } from '../../controlplane/combinator';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { formatIA, parseIA, type IA } from '../../scion/isdas';
import type { ScionPath } from '../../scion/path/model';
import { encodeScionPathBytes } from '../../scion/path/raw';
import { decodePacket } from '../../scion/packet';
import { CILLION_SPI, cillionSpaoOption, sealCillion } from '../../scion/spao/cillion';
import {
  ETH_HLEN,
  ETH_P_IP,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  UNDERLAY_LEN,
  ethernet,
  fixUnderlayLengths,
  icmpEcho,
  ipv4Packet,
  scionFrame,
  tcpSegment,
  transitHop,
  udpDatagram,
  type ScionFrameLayout,
  type Underlay,
} from './harness/frames';
import { INTERESTING, Rng, corruptField, hex, kernelWarnings, skbCtx, tcRunnable, xdpCtx, type Field } from './harness/fuzz';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';
import { EXAMPLE_TOPOLOGY } from './harness/wan';

const FUZZ_SEED = (Number(process.env.CILLION_FUZZ_SEED || 0x5c10a11) >>> 0) || 1;
/** Inputs per program, half mutated seeds and half random frames. */
const RUNS = 100_000;
/** The SPAO edge seals a fresh seed in TypeScript for every mutation: fewer inputs keep it near the others' time. */
const SPAO_RUNS = 25_000;
/** Counters are compared after every batch, so a miscounted input is found by replaying one batch. */
const BATCH = 1000;
/** Frames stay below what a test run takes without fragments (a page minus head- and tailroom). */
const MAX_FRAME = 3000;
const INSTANCE = `fuzz-${process.pid}`;

const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const XDP_REDIRECT = 4;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;

const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const FRA = parseIA('65-2:0:20');
const PORT_BASE = 50000;
const ID_A = 300;
const ID_A2 = 301;
const ID_B = 400;
const ID_B2 = 401;
const SCION_MTU = 1472;

interface Input {
  frame: Buffer;
  ctx: Buffer;
}

interface Seed {
  name: string;
  input: Input;
  /** Header fields a mutation corrupts on purpose. */
  fields: Field[];
  /** Offset of the SCION path meta header, for bit-level CurrINF/CurrHF/SegLen corruption. */
  meta?: number;
  /** The counter the seed's verdict must advance by one. */
  counter: CounterName;
  /** Asserts the seed's verdict and its effect on the frame. */
  check(r: RunResult): void;
}

interface RunResult {
  retval: number;
  data: Buffer;
}

interface Target {
  name: string;
  prog: BpfProgram;
  dp: EdgeDatapath | RouterDatapath;
  allowed: ReadonlySet<number>;
  drop: number;
  seeds: Seed[];
  mutate(rng: Rng, seed: Seed): Input;
  random(rng: Rng): Input;
  /** Inputs for this program; default RUNS. */
  runs?: number;
  /** Counters of successful verdicts, and which results they explain. */
  success: { counter: CounterName; is(input: Input, r: RunResult): boolean };
}

/** Rewrites CurrINF, CurrHF or one SegLen of the meta header, leaving the other bits alone. */
function corruptMeta(rng: Rng, f: Buffer, at: number): void {
  if (at + 4 > f.length) return;
  const word = f.readUInt32BE(at);
  const parts: Array<[number, number]> = [
    [30, 2], // CurrINF
    [24, 6], // CurrHF
    [12, 6], // SegLen0
    [6, 6], // SegLen1
    [0, 6], // SegLen2
  ];
  const [shift, bits] = rng.pick(parts);
  const mask = ((1 << bits) - 1) << shift;
  const cur = (word & mask) >>> shift;
  const v = rng.pick([0, 1, cur + 1, cur - 1, (1 << bits) - 1, rng.int(1 << bits)]) & ((1 << bits) - 1);
  f.writeUInt32BE(((word & ~mask) | (v << shift)) >>> 0, at);
}

/** One to four generic and targeted mutations of a frame; `meta` is its SCION path meta header. */
function mutateFrame(rng: Rng, frame: Buffer, fields: readonly Field[], meta?: number): Buffer {
  let f = Buffer.from(frame);
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    switch (rng.int(7)) {
      case 0: {
        const off = rng.chance(0.7) ? rng.int(Math.min(f.length, 200)) : rng.int(f.length);
        f[off] ^= 1 << rng.int(8);
        break;
      }
      case 1:
        f[rng.int(f.length)] = rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
        break;
      case 2:
        f = f.subarray(0, rng.range(ETH_HLEN, Math.max(ETH_HLEN, f.length - 1)));
        break;
      case 3:
        f = Buffer.concat([f, rng.bytes(rng.chance(0.8) ? rng.range(1, 64) : rng.range(1, 1500))]);
        break;
      case 4:
      case 5:
        corruptField(rng, f, rng.pick(fields));
        break;
      default:
        if (meta !== undefined) corruptMeta(rng, f, meta);
        else corruptField(rng, f, rng.pick(fields));
    }
  }
  return Buffer.from(f.subarray(0, MAX_FRAME));
}

function scionFields(l: ScionFrameLayout): Field[] {
  const s = l.scion;
  const fields: Field[] = [
    { name: 'eth type', off: 12, size: 2 },
    { name: 'ip version/ihl', off: 14, size: 1 },
    { name: 'ip total length', off: 16, size: 2 },
    { name: 'ip fragment', off: 20, size: 2 },
    { name: 'ip protocol', off: 23, size: 1 },
    { name: 'ip destination', off: 30, size: 4 },
    { name: 'udp destination port', off: 36, size: 2 },
    { name: 'udp length', off: 38, size: 2 },
    { name: 'version/traffic class', off: s, size: 1 },
    { name: 'NextHdr', off: s + 4, size: 1 },
    { name: 'HdrLen', off: s + 5, size: 1 },
    { name: 'PayloadLen', off: s + 6, size: 2 },
    { name: 'PathType', off: s + 8, size: 1 },
    { name: 'DT/DL/ST/SL', off: s + 9, size: 1 },
    { name: 'DstISD', off: s + 12, size: 2 },
    { name: 'DstIA', off: s + 12, size: 8 },
    { name: 'SrcIA', off: s + 20, size: 8 },
    { name: 'DstHostAddr', off: s + 28, size: 4 },
  ];
  for (let i = 0; i < l.nInf; i++) {
    const at = l.path + 4 + 8 * i;
    fields.push({ name: `info ${i} flags`, off: at, size: 1 }, { name: `info ${i} SegID`, off: at + 2, size: 2 });
    fields.push({ name: `info ${i} timestamp`, off: at + 4, size: 4 });
  }
  for (let i = 0; i < l.nHf; i++) {
    const at = l.path + 4 + 8 * l.nInf + 12 * i;
    fields.push({ name: `hop ${i} ExpTime`, off: at + 1, size: 1 }, { name: `hop ${i} ConsIngress`, off: at + 2, size: 2 });
    fields.push({ name: `hop ${i} ConsEgress`, off: at + 4, size: 2 }, { name: `hop ${i} MAC`, off: at + 6, size: 2 });
  }
  for (const e of l.ext) fields.push({ name: 'ext NextHdr', off: e, size: 1 }, { name: 'ext ExtLen', off: e + 1, size: 1 });
  for (const o of l.options) fields.push({ name: 'option type', off: o, size: 1 }, { name: 'option length', off: o + 1, size: 1 });
  fields.push(
    { name: 'shim version', off: l.shim, size: 1 },
    { name: 'shim inner protocol', off: l.shim + 1, size: 1 },
    { name: 'shim identity', off: l.shim + 4, size: 4 },
    { name: 'inner version/ihl', off: l.inner, size: 1 },
    { name: 'inner total length', off: l.inner + 2, size: 2 },
    { name: 'inner fragment', off: l.inner + 6, size: 2 },
    { name: 'inner protocol', off: l.inner + 9, size: 1 },
    { name: 'inner destination', off: l.inner + 16, size: 4 },
  );
  return fields;
}

const POD_FIELDS: Field[] = [
  { name: 'eth type', off: 12, size: 2 },
  { name: 'ip version/ihl', off: 14, size: 1 },
  { name: 'ip total length', off: 16, size: 2 },
  { name: 'ip fragment', off: 20, size: 2 },
  { name: 'ip protocol', off: 23, size: 1 },
  { name: 'ip source', off: 26, size: 4 },
  { name: 'ip destination', off: 30, size: 4 },
  { name: 'ip source last byte', off: 29, size: 1 },
  { name: 'ip destination last byte', off: 33, size: 1 },
  { name: 'l4 source port', off: 34, size: 2 },
  { name: 'l4 destination port', off: 36, size: 2 },
];

function portOf(ifid: number): number {
  return PORT_BASE + ifid;
}

/** An inner IPv4 packet of a random protocol, size and addresses drawn from `srcs`/`dsts`. */
function randomInner(rng: Rng, srcs: readonly string[], dsts: readonly string[]): Buffer {
  const data = rng.bytes(rng.chance(0.8) ? rng.int(64) : rng.int(1200));
  const proto = rng.pick([IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, rng.int(256)]);
  const l4 =
    proto === IPPROTO_UDP
      ? udpDatagram(rng.int(65536), rng.int(65536), data)
      : proto === IPPROTO_TCP
        ? tcpSegment(rng.int(65536), rng.int(65536), rng.int(256), data)
        : proto === IPPROTO_ICMP
          ? icmpEcho(rng.int(65536), rng.int(65536), data)
          : data;
  const pkt = ipv4Packet({ src: rng.pick(srcs), dst: rng.pick(dsts), proto, payload: l4, id: rng.int(65536) });
  if (rng.chance(0.1)) pkt.writeUInt16BE(rng.int(0x4000), 6);
  return pkt;
}

function randomIp(rng: Rng): string {
  return `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
}

/** A standard SCION path of random but consistent shape, with random info and hop fields. */
function randomPath(rng: Rng, ifids: readonly number[], now: number): ScionPath {
  const big = rng.chance(0.05);
  const s0 = big ? rng.range(1, 30) : rng.range(1, 4);
  const s1 = rng.chance(0.6) ? (big ? rng.range(1, 20) : rng.range(1, 4)) : 0;
  const s2 = s1 && rng.chance(0.5) ? (big ? rng.range(1, 14) : rng.range(1, 4)) : 0;
  const segLens: [number, number, number] = [s0, s1, s2];
  const nHf = s0 + s1 + s2;
  const currHf = rng.int(nHf);
  const currInf = (currHf >= s0 ? 1 : 0) + (currHf >= s0 + s1 ? 1 : 0);
  const nInf = 1 + (s1 ? 1 : 0) + (s2 ? 1 : 0);
  return {
    type: 'SCION',
    meta: { currInf, currHf, segLens },
    infoFields: Array.from({ length: nInf }, () => ({
      consDir: rng.chance(0.5),
      peer: rng.chance(0.15),
      segId: rng.int(65536),
      timestamp: rng.chance(0.8) ? now - rng.int(3600) : rng.u32(),
    })),
    hopFields: Array.from({ length: nHf }, () => ({
      ingressAlert: false,
      egressAlert: false,
      expTime: rng.int(256),
      consIngress: rng.chance(0.7) ? rng.pick(ifids) : rng.int(65536),
      consEgress: rng.chance(0.7) ? rng.pick(ifids) : rng.int(65536),
      mac: rng.bytes(6),
    })),
  };
}

interface XdpPort {
  ifindex: number;
  underlay: Underlay;
}

/** Random frames for an XDP program, from pure noise to well-formed SCION with random paths. */
function randomXdpFrame(rng: Rng, ports: readonly XdpPort[], ias: readonly IA[], ifids: readonly number[], hosts: readonly string[]): Input {
  const port = rng.pick(ports);
  const u = port.underlay;
  let frame: Buffer;
  switch (rng.int(4)) {
    case 0:
      frame = rng.bytes(rng.chance(0.7) ? rng.range(ETH_HLEN, 200) : rng.range(ETH_HLEN, MAX_FRAME));
      break;
    case 1: {
      const body = rng.bytes(rng.chance(0.7) ? rng.int(200) : rng.int(1500));
      frame = ethernet(u.dstMac, u.srcMac, ETH_P_IP, ipv4Packet({ src: u.srcIp, dst: u.dstIp, proto: IPPROTO_UDP, payload: udpDatagram(u.srcPort, u.dstPort, body) }));
      break;
    }
    default: {
      const now = Math.floor(Date.now() / 1000);
      const exts = rng.int(4);
      const built = scionFrame({
        underlay: u,
        srcIA: rng.pick(ias),
        dstIA: rng.pick(ias),
        srcHost: rng.pick(hosts),
        dstHost: rng.pick(hosts),
        path: randomPath(rng, ifids, now),
        ...(exts & 1 ? { hbh: [{ type: 1, data: rng.bytes(rng.int(6)) }] } : {}),
        ...(exts & 2 ? { e2e: [{ type: 1, data: rng.bytes(rng.int(6)) }] } : {}),
        identity: rng.pick([ID_A, ID_A2, ID_B, rng.u32()]),
        inner: randomInner(rng, hosts, hosts),
        flowId: rng.int(1 << 20),
      });
      frame = built.frame;
      if (rng.chance(0.5)) {
        frame = mutateFrame(rng, frame, scionFields(built.layout), built.layout.path);
        if (rng.chance(0.6)) fixUnderlayLengths(frame);
      }
    }
  }
  return { frame, ctx: xdpCtx(port.ifindex, frame.length) };
}

/** Mutates an XDP seed; often repairs the underlay lengths so the corruption reaches SCION parsing. */
function mutateXdp(rng: Rng, seed: Seed): Input {
  const frame = mutateFrame(rng, seed.input.frame, seed.fields, seed.meta);
  if (rng.chance(0.5)) fixUnderlayLengths(frame);
  if (rng.chance(0.3) && frame.length >= UNDERLAY_LEN + 12) {
    const hdrLen = frame[UNDERLAY_LEN + 5] * 4;
    const payload = frame.length - UNDERLAY_LEN - hdrLen;
    if (payload >= 0 && payload <= 0xffff) frame.writeUInt16BE(payload, UNDERLAY_LEN + 6);
  }
  return { frame, ctx: xdpCtx(seed.input.ctx.readUInt32LE(12), frame.length) };
}

/** Sum of the drop-reason counters (slots 1..31), unnamed slots included. */
function dropTotal(dp: EdgeDatapath | RouterDatapath): bigint {
  let sum = 0n;
  for (let i = 1; i < DROP_REASON_MAX; i++) {
    const raw = dp.counters.lookup(Buffer.from(Uint32Array.of(i).buffer));
    if (raw !== null) sum += sumCounter(raw, dp.counters.possibleCpus).packets;
  }
  return sum;
}

function drain(dp: EdgeDatapath | RouterDatapath): void {
  const reader = new RingReader(dp.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
  while (reader.drain().records > 0);
}

describe('datapath: fuzzing edge_egress, edge_ingress and router with BPF_PROG_TEST_RUN', function () {
  requireDatapath(this);
  this.timeout(120000);
  const hosts = new Topology(`cilfz${process.pid}`);
  let netns = '';
  const targets: Target[] = [];
  const opened: Array<EdgeDatapath | RouterDatapath> = [];
  let warningsBefore = 0;

  const run = (t: Target, input: Input): RunResult => {
    try {
      return t.prog.testRun(input.frame, { ctx: input.ctx, netns });
    } catch (err) {
      throw new Error(`${t.name}: ${(err as Error).message} for ${hex(input.frame)} ctx ${hex(input.ctx)}`);
    }
  };

  before(function () {
    console.log(`      fuzz seed ${FUZZ_SEED} (replay with CILLION_FUZZ_SEED=${FUZZ_SEED})`);
    warningsBefore = kernelWarnings().length;
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
    const ns = hosts.addHost('dp');
    netns = `/var/run/netns/${ns}`;
    const link = hosts.link({ ns, ifname: 'up0' }, { ns, ifname: 'up1' });
    const A = link.a.ifindex;
    const B = link.b.ifindex;
    const macA = link.a.mac;
    const macB = link.b.mac;

    const control = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { seed: FUZZ_SEED });
    const keyOf = (ia: IA): Uint8Array => {
      const as = control.topology.ases.get(ia);
      if (!as) throw new Error(`${formatIA(ia)} missing from the topology`);
      return as.hopKey;
    };
    const find = (src: IA, dst: IA, ases: IA[]): ControlPlanePath => {
      const p = control.pathsSync(src, dst).find((c) => c.ases.length === ases.length && c.ases.every((ia, i) => ia === ases[i]));
      if (!p) throw new Error(`no path ${ases.map((ia) => formatIA(ia)).join(' ')}`);
      return p;
    };
    const there = find(ZRH, FRA, [ZRH, ZRH_CORE, FRA_CORE, FRA]);
    const back = find(FRA, ZRH, [FRA, FRA_CORE, ZRH_CORE, ZRH]);
    const toCore = find(ZRH, ZRH_CORE, [ZRH, ZRH_CORE]);
    // Interfaces along `there`: ZRH#up, ZRH_CORE#in, ZRH_CORE#out, FRA_CORE#in, FRA_CORE#out, FRA#up.
    const ifs = there.interfaces.map((i) => i.ifid);
    const [zrhUp, coreIn, coreOut, fraCoreIn, fraCoreOut, fraUp] = ifs;
    // Underlay of the three links, ZRH side first: 10.201.<link>.1 and .2.
    const zrhLink = { near: '10.201.1.1', far: '10.201.1.2' };
    const coreLink = { near: '10.201.2.1', far: '10.201.2.2' };
    const fraLink = { near: '10.201.3.1', far: '10.201.3.2' };
    const offset = realtimeOffsetNs();
    const ifids = [...new Set([...ifs, ...back.interfaces.map((i) => i.ifid), 0])];

    // ---- router: the Zurich core AS, its cluster link on up0, its Frankfurt link on up1.
    const router = RouterDatapath.load({ instance: `${INSTANCE}/router` });
    opened.push(router);
    router.config.set(0, { localIA: ZRH_CORE, realtimeOffsetNs: offset, key: hopFieldKeyMaterial(keyOf(ZRH_CORE)) });
    router.ifindexToIfid.set(A, coreIn);
    router.ifindexToIfid.set(B, coreOut);
    router.interfaces.set(coreIn, {
      ifindex: A, localIp: zrhLink.far, remoteIp: zrhLink.near, localPort: portOf(coreIn), remotePort: portOf(zrhUp), localMac: macA, remoteMac: macB,
    });
    router.interfaces.set(coreOut, {
      ifindex: B, localIp: coreLink.near, remoteIp: coreLink.far, localPort: portOf(coreOut), remotePort: portOf(fraCoreIn), localMac: macB, remoteMac: macA,
    });
    const fromZrh: Underlay = { srcMac: macB, dstMac: macA, srcIp: zrhLink.near, dstIp: zrhLink.far, srcPort: portOf(zrhUp), dstPort: portOf(coreIn) };
    const fromFraCore: Underlay = { srcMac: macA, dstMac: macB, srcIp: coreLink.far, dstIp: coreLink.near, srcPort: portOf(fraCoreIn), dstPort: portOf(coreOut) };
    const routerPorts: XdpPort[] = [
      { ifindex: A, underlay: fromZrh },
      { ifindex: B, underlay: fromFraCore },
    ];
    const atZrhCore = processSourceHop(there.path).path;
    const leavingZrhCore = transitHop(atZrhCore).path;
    const backAtZrhCore = transitHop(processSourceHop(back.path).path).path;
    const inner = (src: string, dst: string, proto: number): Buffer =>
      ipv4Packet({
        src, dst, proto,
        payload:
          proto === IPPROTO_UDP ? udpDatagram(40000, 7000, Buffer.from('fuzz seed')) :
          proto === IPPROTO_TCP ? tcpSegment(40001, 7001, 0x02, Buffer.alloc(0)) : icmpEcho(1, 1, Buffer.from('ping')),
      });
    const routerSeed = (
      name: string, port: XdpPort, u: Underlay, src: IA, dst: IA, path: ScionPath, counter: CounterName, check: (r: RunResult, frame: Buffer) => void,
    ): Seed => {
      const { frame, layout } = scionFrame({
        underlay: u, srcIA: src, dstIA: dst, srcHost: '10.164.0.5', dstHost: '10.165.0.7', path,
        identity: ID_A, inner: inner('10.164.0.5', '10.165.0.7', IPPROTO_UDP),
      });
      decodePacket(frame.subarray(UNDERLAY_LEN));
      return { name, input: { frame, ctx: xdpCtx(port.ifindex, frame.length) }, fields: scionFields(layout), meta: layout.path, counter, check: (r) => check(r, frame) };
    };
    /** The forwarded frame: same length, new underlay for `eif`, the path as the next AS expects it. */
    const forwarded = (expectPath: ScionPath, dstIp: string, dstPort: number) => (r: RunResult, frame: Buffer) => {
      assert.equal(r.retval, XDP_REDIRECT);
      assert.equal(r.data.length, frame.length);
      assert.equal(r.data.subarray(30, 34).join('.'), dstIp);
      assert.equal(r.data.readUInt16BE(36), dstPort);
      const pathAt = UNDERLAY_LEN + 36;
      const want = Buffer.from(encodeScionPathBytes(expectPath));
      assert.equal(hex(r.data.subarray(pathAt, pathAt + want.length)), hex(want), 'the path as the router emulation advances it');
    };
    const routerSeeds: Seed[] = [
      routerSeed('ZRH cluster -> FRA via the core link', routerPorts[0], fromZrh, ZRH, FRA, atZrhCore, 'FORWARD', forwarded(leavingZrhCore, coreLink.far, portOf(fraCoreIn))),
      routerSeed('FRA -> ZRH cluster, against construction direction', routerPorts[1], fromFraCore, FRA, ZRH, backAtZrhCore, 'FORWARD',
        forwarded(transitHop(backAtZrhCore).path, zrhLink.near, portOf(zrhUp))),
      routerSeed('ZRH cluster -> the core AS itself', routerPorts[0], fromZrh, ZRH, ZRH_CORE, processSourceHop(toCore.path).path, 'LOCAL', (r, frame) => {
        assert.equal(r.retval, XDP_PASS);
        assert.equal(hex(r.data), hex(frame));
      }),
    ];
    targets.push({
      name: 'router (XDP)',
      prog: router.obj.program('router'),
      dp: router,
      allowed: new Set([XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT]),
      drop: XDP_DROP,
      seeds: routerSeeds,
      mutate: mutateXdp,
      random: (rng) => randomXdpFrame(rng, routerPorts, [ZRH, ZRH_CORE, FRA, FRA_CORE, BigInt(rng.u32())], ifids, ['10.164.0.5', '10.165.0.7', randomIp(rng)]),
      success: { counter: 'FORWARD', is: (_i, r) => r.retval === XDP_TX || r.retval === XDP_REDIRECT },
    });

    // ---- edge_ingress: the Frankfurt cluster's uplink to its core on up0.
    const fra = EdgeDatapath.load({ instance: `${INSTANCE}/edge-fra` });
    opened.push(fra);
    fra.config.set(0, { localIA: FRA, realtimeOffsetNs: offset, key: hopFieldKeyMaterial(keyOf(FRA)) });
    fra.ifindexToIfid.set(A, fraUp);
    fra.interfaces.set(fraUp, {
      ifindex: A, localIp: fraLink.far, remoteIp: fraLink.near, localPort: portOf(fraUp), remotePort: portOf(fraCoreOut), localMac: macA, remoteMac: macB,
    });
    fra.endpoints.set('10.165.0.7', { identity: ID_B, ifindex: B });
    fra.endpoints.set('10.165.0.8', { identity: ID_B2, ifindex: B });
    // 10.165.0.7 is under an enforcing fence that admits ID_A on the core-link path only.
    fra.ingressEnforced.set(ID_B, 1);
    fra.ingressAllow.set({ dstIdentity: ID_B, srcIdentity: ID_A, pathKey: ingressPathKey(there.path) }, 1);
    const fromFraCoreToFra: Underlay = { srcMac: macB, dstMac: macA, srcIp: fraLink.near, dstIp: fraLink.far, srcPort: portOf(fraCoreOut), dstPort: portOf(fraUp) };
    const ingressPorts: XdpPort[] = [{ ifindex: A, underlay: fromFraCoreToFra }];
    const atFra = transitHop(leavingZrhCore).path;
    assert.equal(atFra.meta.currHf, atFra.hopFields.length - 1, 'the path ends at FRA');
    const ingressSeed = (name: string, o: { dst: string; proto: number; identity?: number; hbh?: boolean; pad?: boolean; expect: 'DECAP' | 'INGRESS_DENIED' | 'UNKNOWN_ENDPOINT' }): Seed => {
      const innerPkt = inner('10.164.0.5', o.dst, o.proto);
      const e2e = o.pad ? [{ type: 0 }, { type: 1, data: Buffer.alloc(3) }] : undefined;
      const { frame, layout } = scionFrame({
        underlay: fromFraCoreToFra, srcIA: ZRH, dstIA: FRA, srcHost: '10.164.0.5', dstHost: o.dst, path: atFra,
        ...(o.hbh ? { hbh: [{ type: 1, data: Buffer.alloc(2) }] } : {}),
        ...(e2e ? { e2e } : {}),
        ...(o.identity === undefined ? {} : { identity: o.identity }),
        inner: innerPkt,
      });
      decodePacket(frame.subarray(UNDERLAY_LEN));
      return {
        name, input: { frame, ctx: xdpCtx(A, frame.length) }, fields: scionFields(layout), meta: layout.path, counter: o.expect,
        check: (r) => {
          if (o.expect !== 'DECAP') {
            assert.equal(r.retval, XDP_DROP);
            return;
          }
          assert.equal(r.retval, XDP_PASS);
          assert.equal(hex(r.data), hex(Buffer.concat([frame.subarray(0, 12), Buffer.of(0x08, 0x00), innerPkt])), 'decapsulated to the pod packet');
        },
      };
    };
    targets.push({
      name: 'edge_ingress (XDP)',
      prog: fra.obj.program('edge_ingress'),
      dp: fra,
      allowed: new Set([XDP_DROP, XDP_PASS]),
      drop: XDP_DROP,
      seeds: [
        ingressSeed('UDP to an enforced pod on its allowed path', { dst: '10.165.0.7', proto: IPPROTO_UDP, identity: ID_A, expect: 'DECAP' }),
        ingressSeed('TCP with hop-by-hop and padded end-to-end options', { dst: '10.165.0.8', proto: IPPROTO_TCP, identity: ID_A, hbh: true, pad: true, expect: 'DECAP' }),
        ingressSeed('ICMP without extensions', { dst: '10.165.0.8', proto: IPPROTO_ICMP, expect: 'DECAP' }),
        ingressSeed('an identity the enforced pod does not admit', { dst: '10.165.0.7', proto: IPPROTO_UDP, identity: 999, expect: 'INGRESS_DENIED' }),
        ingressSeed('a host that is no local endpoint', { dst: '10.165.0.99', proto: IPPROTO_UDP, identity: ID_A, expect: 'UNKNOWN_ENDPOINT' }),
      ],
      mutate: mutateXdp,
      random: (rng) => randomXdpFrame(rng, ingressPorts, [ZRH, FRA, FRA_CORE, BigInt(rng.u32())], ifids, ['10.164.0.5', '10.165.0.7', '10.165.0.8', randomIp(rng)]),
      success: { counter: 'DECAP', is: (i, r) => r.retval === XDP_PASS && r.data.length < i.frame.length },
    });

    // ---- edge_ingress with SPAO authentication (edge_kfunc.bpf.o): Zurich's packets sealed.
    // A seed's frame is sealed afresh each time it is read: the same frame twice is a replay.
    const fraAuth = EdgeDatapath.load({ instance: `${INSTANCE}/edge-fra-spao`, spao: 'on' });
    opened.push(fraAuth);
    assert.equal(fraAuth.spao.state, 'on', `SPAO loads: ${fraAuth.spao.reason ?? ''}`);
    fraAuth.config.set(0, { localIA: FRA, realtimeOffsetNs: offset, key: hopFieldKeyMaterial(keyOf(FRA)) });
    fraAuth.ifindexToIfid.set(A, fraUp);
    fraAuth.interfaces.set(fraUp, {
      ifindex: A, localIp: fraLink.far, remoteIp: fraLink.near, localPort: portOf(fraUp), remotePort: portOf(fraCoreOut), localMac: macA, remoteMac: macB,
    });
    fraAuth.endpoints.set('10.165.0.7', { identity: ID_B, ifindex: B });
    const spaoKey = Buffer.alloc(16, 0x5a);
    const epochBeginNs = BigInt(Date.now()) * 1_000_000n - 60_000_000_000n;
    fraAuth.keys!.put({ peerIa: ZRH, dir: 'rx', epochBeginNs, notAfterNs: epochBeginNs + 3_600_000_000_000n, clusterId: ID_A >>> 16, key: spaoKey });
    const sealedSeed = (name: string, proto: number): Seed => {
      const build = () => {
        const data = Buffer.alloc(28);
        data.writeUInt32BE(CILLION_SPI, 0);
        data.writeUIntBE(cillionSpaoOption(epochBeginNs, BigInt(Date.now()) * 1_000_000n + BigInt(sealedCount++)).timestampSeq, 6, 6);
        const built = scionFrame({
          underlay: fromFraCoreToFra, srcIA: ZRH, dstIA: FRA, srcHost: '10.164.0.5', dstHost: '10.165.0.7', path: atFra,
          e2e: [{ type: 2, data }], identity: ID_A, inner: inner('10.164.0.5', '10.165.0.7', proto),
        });
        const frame = Buffer.concat([built.frame.subarray(0, UNDERLAY_LEN), sealCillion(built.frame.subarray(UNDERLAY_LEN), spaoKey)]);
        return { frame, layout: built.layout };
      };
      const { layout } = build();
      return {
        name, fields: scionFields(layout), meta: layout.path, counter: 'DECAP',
        get input() {
          const { frame } = build();
          return { frame, ctx: xdpCtx(A, frame.length) };
        },
        check: (r) => assert.equal(r.retval, XDP_PASS),
      };
    };
    let sealedCount = 0;
    targets.push({
      name: 'edge_ingress with SPAO (XDP)',
      prog: fraAuth.obj.program('edge_ingress'),
      dp: fraAuth,
      allowed: new Set([XDP_DROP, XDP_PASS]),
      drop: XDP_DROP,
      seeds: [sealedSeed('a sealed UDP packet', IPPROTO_UDP), sealedSeed('a sealed TCP packet', IPPROTO_TCP)],
      // Some seeds go through unchanged, so that the fuzz reaches verified packets too.
      mutate: (rng, seed) => (rng.chance(0.1) ? seed.input : mutateXdp(rng, seed)),
      runs: SPAO_RUNS,
      random: (rng) => randomXdpFrame(rng, ingressPorts, [ZRH, FRA, BigInt(rng.u32())], ifids, ['10.164.0.5', '10.165.0.7', randomIp(rng)]),
      success: { counter: 'DECAP', is: (i, r) => r.retval === XDP_PASS && r.data.length < i.frame.length },
    });

    // ---- edge_egress: the Zurich cluster's node, pods' packets leaving on up0.
    const zrh = EdgeDatapath.load({ instance: `${INSTANCE}/edge-zrh` });
    opened.push(zrh);
    zrh.config.set(0, { localIA: ZRH, realtimeOffsetNs: offset, key: hopFieldKeyMaterial(keyOf(ZRH)) });
    zrh.endpoints.set('10.164.0.5', { identity: ID_A, ifindex: B });
    zrh.endpoints.set('10.164.0.6', { identity: ID_A2, ifindex: B });
    const header = headerTemplate(ZRH, FRA, atZrhCore);
    const pathEntry = (ifindex: number) => ({
      ifindex, mtu: SCION_MTU, srcMac: macB, dstMac: macA, srcIp: zrhLink.near, dstIp: zrhLink.far,
      srcPort: portOf(zrhUp), dstPort: portOf(coreIn), egressIfid: zrhUp, header,
    });
    // Path 1 leaves by another device (a redirect), path 2 by the one the packet is on.
    zrh.paths.set(1, pathEntry(B));
    zrh.paths.set(2, pathEntry(A));
    zrh.egressPolicy.set({ identity: ID_A, prefix: '10.165.0.0/16' }, [1]);
    zrh.egressPolicy.set({ identity: ID_A2, prefix: '10.165.0.0/16' }, [2]);
    zrh.egressPolicy.set({ identity: ID_A, prefix: '10.166.0.0/16' }, [1, 2, 1, 2, 2]);
    zrh.egressPolicy.set({ identity: ID_A, prefix: '10.167.0.0/16' }, [9]);
    const outer = 20 + 8 + header.length + 8;
    const podFrame = (src: string, dst: string, proto: number, pad = 0): Buffer =>
      ethernet(macA, macB, ETH_P_IP, pad ? ipv4Packet({ src, dst, proto, payload: udpDatagram(40000, 7000, Buffer.alloc(pad)) }) : inner(src, dst, proto));
    const egressSeed = (
      name: string, frame: Buffer, expect: 'redirect' | 'encap' | 'either' | 'untouched' | 'drop', counter: CounterName, ctx = skbCtx(A),
    ): Seed => ({
      name, input: { frame, ctx }, fields: POD_FIELDS, counter,
      check: (r) => {
        const want = { redirect: [TC_ACT_REDIRECT], encap: [TC_ACT_OK], either: [TC_ACT_OK, TC_ACT_REDIRECT], untouched: [TC_ACT_OK], drop: [TC_ACT_SHOT] }[expect];
        assert.ok(want.includes(r.retval), `retval ${r.retval}, want ${want.join(' or ')}`);
        if (expect === 'redirect' || expect === 'encap' || expect === 'either') {
          assert.equal(r.data.length, frame.length + outer);
          assert.equal(hex(r.data.subarray(r.data.length - (frame.length - ETH_HLEN))), hex(frame.subarray(ETH_HLEN)), 'the pod packet follows the headers');
        }
        if (expect === 'untouched') assert.equal(hex(r.data), hex(frame));
      },
    });
    const egressSeeds: Seed[] = [
      egressSeed('UDP on a path by another device', podFrame('10.164.0.5', '10.165.0.7', IPPROTO_UDP), 'redirect', 'ENCAP'),
      egressSeed('TCP on a path by this device', podFrame('10.164.0.6', '10.165.0.7', IPPROTO_TCP), 'encap', 'ENCAP'),
      egressSeed('ICMP over a multipath set', podFrame('10.164.0.5', '10.166.0.9', IPPROTO_ICMP), 'either', 'ENCAP'),
      egressSeed('a policy naming a missing path', podFrame('10.164.0.5', '10.167.0.1', IPPROTO_UDP), 'drop', 'NO_PATH'),
      egressSeed('a destination no policy covers', podFrame('10.164.0.5', '10.1.2.3', IPPROTO_UDP), 'untouched', 'NOT_COVERED'),
      egressSeed('a packet over the path MTU', podFrame('10.164.0.5', '10.165.0.7', IPPROTO_UDP, SCION_MTU), 'drop', 'PATH_MTU'),
      egressSeed('a GSO packet', podFrame('10.164.0.5', '10.165.0.7', IPPROTO_UDP, 400), 'drop', 'GSO', skbCtx(A, { gsoSegs: 4, gsoSize: 100 })),
      egressSeed('a GSO packet whose segments are not counted yet', podFrame('10.164.0.5', '10.165.0.7', IPPROTO_UDP, 400), 'drop', 'GSO', skbCtx(A, { gsoSegs: 0, gsoSize: 100 })),
    ];
    const podSrcs = ['10.164.0.5', '10.164.0.6'];
    const podDsts = ['10.165.0.7', '10.166.0.1', '10.167.0.1', '10.1.2.3'];
    targets.push({
      name: 'edge_egress (tc)',
      prog: zrh.obj.program('edge_egress'),
      dp: zrh,
      allowed: new Set([TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT]),
      drop: TC_ACT_SHOT,
      seeds: egressSeeds,
      mutate: (rng, seed) => {
        const frame = tcRunnable(rng, mutateFrame(rng, seed.input.frame, seed.fields));
        if (rng.chance(0.4) && frame.length >= ETH_HLEN + 4) frame.writeUInt16BE(frame.length - ETH_HLEN, ETH_HLEN + 2);
        return { frame, ctx: rng.chance(0.05) ? skbCtx(A, { gsoSegs: rng.range(0, 64), gsoSize: rng.int(1500) }) : seed.input.ctx };
      },
      random: (rng) => {
        let frame: Buffer;
        if (rng.chance(0.25)) frame = rng.bytes(rng.chance(0.7) ? rng.range(ETH_HLEN, 200) : rng.range(ETH_HLEN, MAX_FRAME));
        else {
          const srcs = rng.chance(0.8) ? podSrcs : [randomIp(rng)];
          const dsts = rng.chance(0.8) ? podDsts.map((d) => (rng.chance(0.5) ? d : d.replace(/\.\d+$/, `.${rng.int(256)}`))) : [randomIp(rng)];
          const pkt = rng.chance(0.7) ? randomInner(rng, srcs, dsts) : Buffer.concat([Buffer.of(0x40 | rng.int(16)), rng.bytes(rng.range(0, 300))]);
          frame = ethernet(macA, macB, rng.chance(0.95) ? ETH_P_IP : rng.int(65536), pkt.subarray(0, MAX_FRAME - ETH_HLEN));
        }
        frame = tcRunnable(rng, frame);
        const wire = rng.chance(0.05) ? { wireLen: frame.length + rng.int(2000) } : {};
        const gso = rng.chance(0.03) ? { gsoSegs: rng.range(0, 8), gsoSize: rng.int(1500) } : {};
        return { frame, ctx: skbCtx(A, { ...wire, ...gso }) };
      },
      success: { counter: 'ENCAP', is: (i, r) => r.retval === TC_ACT_REDIRECT || (r.retval === TC_ACT_OK && r.data.length > i.frame.length) },
    });

    // What the edge really sends is also a router seed.
    const sent = run(targets[3], egressSeeds[0].input).data;
    routerSeeds.push({
      name: 'the frame edge_egress built',
      input: { frame: sent, ctx: xdpCtx(A, sent.length) },
      fields: routerSeeds[0].fields,
      meta: UNDERLAY_LEN + 36,
      counter: 'FORWARD',
      check: (r) => {
        assert.equal(r.retval, XDP_REDIRECT);
        assert.equal(r.data.readUInt16BE(36), portOf(fraCoreIn));
      },
    });
  });

  after(() => {
    for (const dp of opened.splice(0)) dp.close();
    hosts.destroy();
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });

  const checkSeeds = () => {
    for (const t of targets) {
      for (const s of t.seeds) {
        const before = t.dp.counter(s.counter);
        const r = run(t, s.input);
        try {
          s.check(r);
          assert.equal(t.dp.counter(s.counter) - before, 1n, `the ${s.counter} counter`);
        } catch (err) {
          throw new Error(`${t.name}, seed "${s.name}": ${(err as Error).message}\ninput ${hex(s.input.frame)}\noutput ${hex(r.data)}`);
        }
      }
      drain(t.dp);
    }
  };

  it('gives every valid seed its verdict: forward, encapsulate, decapsulate, or the named drop', checkSeeds);

  for (const index of [0, 1, 2, 3]) {
    it(`survives ${index === 2 ? SPAO_RUNS : RUNS} mutated and random inputs (${['router', 'edge_ingress', 'edge_ingress with SPAO', 'edge_egress'][index]})`, function () {
      const t = targets[index];
      if (!t) this.skip();
      const rng = new Rng(FUZZ_SEED + index);
      const counts = new Map<number, number>();
      const unexpected: string[] = [];
      const miscounted: string[] = [];
      let successes = 0;
      const totalsBefore = t.dp.counterTotals();
      const successBefore = t.dp.counter(t.success.counter);
      const started = process.hrtime.bigint();
      const runs = t.runs ?? RUNS;
      for (let done = 0; done < runs; done += BATCH) {
        const dropsBefore = dropTotal(t.dp);
        const batch: Input[] = [];
        let drops = 0;
        for (let i = 0; i < BATCH; i++) {
          const input = i % 2 === 0 ? t.mutate(rng, rng.pick(t.seeds)) : t.random(rng);
          const r = run(t, input);
          batch.push(input);
          counts.set(r.retval, (counts.get(r.retval) ?? 0) + 1);
          if (!t.allowed.has(r.retval) && unexpected.length < 5) unexpected.push(`retval ${r.retval} for ${hex(input.frame)} ctx ${hex(input.ctx)}`);
          if (r.retval === t.drop) drops++;
          if (t.success.is(input, r)) successes++;
        }
        drain(t.dp);
        if (dropTotal(t.dp) - dropsBefore !== BigInt(drops)) {
          // Replay the batch one input at a time to name the frames whose drop went uncounted.
          for (const input of batch) {
            const before = dropTotal(t.dp);
            const r = run(t, input);
            const counted = dropTotal(t.dp) - before;
            if (t.success.is(input, r)) successes++;
            if (counted !== (r.retval === t.drop ? 1n : 0n) && miscounted.length < 5) {
              miscounted.push(`retval ${r.retval}, drop counters +${counted}, for ${hex(input.frame)} ctx ${hex(input.ctx)}`);
            }
          }
          drain(t.dp);
        }
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const summary = [...counts].sort(([a], [b]) => a - b).map(([k, v]) => `${k}:${v}`).join(' ');
      const reasons = Object.entries(t.dp.counterTotals())
        .map(([name, v]) => [name, v.packets - (totalsBefore[name]?.packets ?? 0n)] as const)
        .filter(([, n]) => n > 0n)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
      console.log(`      ${t.name}: ${runs} inputs in ${ms.toFixed(0)} ms; retvals ${summary}; counters ${reasons}`);
      assert.deepEqual(unexpected, [], 'every retval is one of the program action codes');
      assert.deepEqual(miscounted, [], 'every drop is counted in a drop-reason counter');
      assert.equal(t.dp.counter(t.success.counter) - successBefore, BigInt(successes), `the ${t.success.counter} counter matches the successful verdicts`);
      assert.ok((counts.get(t.drop) ?? 0) > 0 && successes > 0, 'the fuzz reached both drops and successes');
    });
  }

  it('still gives every seed its verdict afterwards, and the kernel logged no warning', () => {
    checkSeeds();
    assert.deepEqual(kernelWarnings().slice(warningsBefore), []);
  });
});
