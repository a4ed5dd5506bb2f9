// Fuzzing the SRv6 programs (bpf/srv6.bpf.c) through BPF_PROG_TEST_RUN, as fuzz.test.ts
// does the SCION ones: valid seeds (End, End.X, End.DT4/DT6, an HMAC TLV, padding TLVs; pod
// packets for H.Encaps) must get their verdict, then at least RUNS mutated and random
// frames per program, and every seed truncated at every byte. Every verdict must be one of
// the program's action codes; every packet srv6_endpoint handles ends in exactly one of its
// counters (a drop reason, End, decap, not-SRv6), every drop in an SRv6 drop reason and a
// record naming it; srv6_encap either leaves a packet alone without a trace or counts and
// records it. The PRNG seed is printed; CILLION_FUZZ_SEED=<n> replays the same inputs.
// Failures print the exact input bytes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTERS, COUNTER_SLOTS, DROP_REASON_MAX, counterName, type CounterName } from '../../bpf/abi';
import { PIN_BASE } from '../../bpf/datapath';
import { sumCounter } from '../../bpf/maps';
import { RingReader, type BpfMap, type BpfProgram } from '../../bpf/native';
import { decodeBatch, type PacketRecord } from '../../bpf/records';
import { Srv6Datapath } from '../../bpf/srv6_datapath';
import { hmacTlv, srhHmac } from '../../srv6/hmac';
import { parseSid } from '../../srv6/sid';
import { TLV_HMAC, TLV_PAD1, TLV_PADN, encodeSrh, srhOrder } from '../../srv6/srh';
import { INTERESTING, Rng, corruptField, hex, kernelWarnings, skbCtx, tcRunnable, xdpCtx, type Field } from './harness/fuzz';
import {
  ETH_HLEN,
  ETH_P_IP,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ethernet,
  icmpEcho,
  ipv4Packet,
  tcpSegment,
  udpDatagram,
} from './harness/frames';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';

const FUZZ_SEED = (Number(process.env.CILLION_FUZZ_SEED || 0x5126f) >>> 0) || 1;
/** Inputs per program, half mutated seeds and half random frames. */
const RUNS = 100_000;
/** Counters and records are compared after every batch, so a miscounted input is found by replaying one batch. */
const BATCH = 1000;
const MAX_FRAME = 3000;
const INSTANCE = `srv6fz-${process.pid}`;

const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const XDP_REDIRECT = 4;
const TC_ACT_UNSPEC = -1;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;

const ETH_P_IPV6 = 0x86dd;
const IPV6_HLEN = 40;
const SRH_AT = ETH_HLEN + IPV6_HLEN;
const IPPROTO_ROUTING = 43;
const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;

/** The node under test: pe-zurich's locator, SIDs and tenants. */
const LOCATOR = 'fc00:0:1::/48';
const SID_END = 'fc00:0:1::1';
const SID_END_X = 'fc00:0:1::2';
const SID_DT4_VOICE = 'fc00:0:1::100';
const SID_DT4_ARCHIVE = 'fc00:0:1::200';
const SID_DT6_VOICE = 'fc00:0:1::600';
const SID_UNKNOWN = 'fc00:0:1::dead';
/** Next segments: one routed through a neighbour (redirect), one routed without a neighbour (the stack resolves it), one not routed. */
const NEXT_ROUTED = 'fc00:0:4::1';
const NEXT_NO_NEIGH = 'fc00:0:3::1';
const NEXT_UNROUTED = 'fc00:0:9::1';
const FAR_DT4 = 'fc00:0:201::100';
const EDGE_SOURCE = 'fc00:0:101::1';
const VOICE = 100;
const ARCHIVE = 200;
const ID_A = 300;
const ID_A2 = 301;
const SEGLIST_MTU = 1500;

/** The SRv6 drop reasons of srv6_endpoint. */
const SRV6_REASONS = [
  'SRH_MALFORMED', 'SRH_BAD_LAST_ENTRY', 'SRH_BAD_SEGLEFT', 'SRH_BAD_TLV', 'SRV6_UNKNOWN_SID', 'SRV6_NO_SRH',
  'SRV6_HOP_LIMIT', 'SRV6_NO_ROUTE', 'SRV6_BAD_INNER', 'SRV6_NO_TENANT_ROUTE',
];
/** What srv6_endpoint may name: those, and a forwarded packet larger than the next hop's MTU (the FIB says so). */
const SRV6_DROPS: ReadonlySet<string> = new Set([...SRV6_REASONS, 'PATH_MTU']);
/** srv6_encap's: a missing segment list, and what any encapsulation can meet (the path MTU, GSO, the kernel refusing to grow the packet). */
const ENCAP_DROPS: ReadonlySet<string> = new Set(['SRV6_NO_SEGLIST', 'PATH_MTU', 'GSO', 'ENCAP_FAILED']);

interface Input {
  frame: Buffer;
  ctx: Buffer;
}

interface RunResult {
  retval: number;
  data: Buffer;
}

/** What a batch did to the counters: a named slot's packets after minus before, and the drop slots'. */
interface Delta {
  (name: CounterName): bigint;
  drops: bigint;
  dropSlots: Map<number, bigint>;
}

interface Seed {
  name: string;
  input: Input;
  fields: Field[];
  /** Where the SRH starts and its segments, for SRv6-aware mutations; absent for pod packets. */
  srh?: { segments: number; tlvs: number; inner: number };
  /** The counter the seed's verdict must advance by one. */
  counter: CounterName;
  check(r: RunResult): void;
}

interface Target {
  name: string;
  prog: BpfProgram;
  seeds: Seed[];
  mutate(rng: Rng, seed: Seed): Input;
  random(rng: Rng): Input;
  /**
   * Checks one batch: its inputs and verdicts, the counter deltas and the records the ring
   * gave; returns what is wrong, empty when all is well.
   */
  audit(batch: Array<{ input: Input; r: RunResult }>, delta: Delta, records: PacketRecord[]): string[];
}

function ip6(text: string): Buffer {
  return Buffer.from(parseSid(text));
}

/** An IPv6 header (flow label 0) in front of `payload`. */
function ipv6Packet(o: { src: string; dst: string; nextHeader: number; payload: Uint8Array; hopLimit?: number }): Buffer {
  const p = Buffer.alloc(IPV6_HLEN + o.payload.length);
  p.writeUInt32BE(0x60000000, 0);
  p.writeUInt16BE(o.payload.length, 4);
  p[6] = o.nextHeader;
  p[7] = o.hopLimit ?? 64;
  ip6(o.src).copy(p, 8);
  ip6(o.dst).copy(p, 24);
  p.set(o.payload, IPV6_HLEN);
  return p;
}

function inner4(dst: string, proto: number, src = '10.164.0.5', data: Uint8Array = Buffer.from('srv6 fuzz')): Buffer {
  const l4 = proto === IPPROTO_UDP ? udpDatagram(40000, 7000, data) : proto === IPPROTO_TCP ? tcpSegment(40001, 7001, 0x02, data) : icmpEcho(1, 1, data);
  return ipv4Packet({ src, dst, proto, payload: l4 });
}

function inner6(dst: string): Buffer {
  return ipv6Packet({ src: 'fd00:164::5', dst, nextHeader: IPPROTO_UDP, payload: udpDatagram(40000, 7000, Buffer.from('srv6 fuzz v6')) });
}

interface Srv6FrameSpec {
  /** Segments in travel order; the SRH carries them reversed. */
  travel: string[];
  segmentsLeft: number;
  /** The destination address; default the active segment. */
  dst?: string;
  hopLimit?: number;
  hmac?: boolean;
  /** Pad1 and PadN TLVs after the segment list (and before an HMAC TLV). */
  pad?: boolean;
  inner: Buffer;
  innerHeader: number;
  /** No SRH: the inner packet follows the IPv6 header directly. */
  noSrh?: boolean;
}

const HMAC_KEY = randomBytes(32);
const HMAC_KEY_ID = 1;

/** Ethernet + IPv6 + SRH (srv6/srh.ts) + inner packet, and where each part starts. */
function srv6Frame(dstMac: string, srcMac: string, s: Srv6FrameSpec): { frame: Buffer; fields: Field[]; srh?: Seed['srh'] } {
  const segments = srhOrder(s.travel.map(ip6));
  const dst = s.dst ?? s.travel[s.travel.length - 1 - s.segmentsLeft];
  if (s.noSrh) {
    const pkt = ipv6Packet({ src: EDGE_SOURCE, dst, nextHeader: s.innerHeader, payload: s.inner, hopLimit: s.hopLimit });
    return { frame: ethernet(dstMac, srcMac, ETH_P_IPV6, pkt), fields: ipv6Fields() };
  }
  const lastEntry = segments.length - 1;
  const tlvs = s.pad ? [{ type: TLV_PAD1, value: new Uint8Array(0) }, { type: TLV_PADN, value: new Uint8Array(s.hmac ? 5 : 3) }] : [];
  const hmac = s.hmac
    ? { keyId: HMAC_KEY_ID, dBit: false, mac: srhHmac(HMAC_KEY, { source: ip6(EDGE_SOURCE), lastEntry, flags: 0, keyId: HMAC_KEY_ID, segments }) }
    : undefined;
  const srh = Buffer.from(encodeSrh({ nextHeader: s.innerHeader, segmentsLeft: s.segmentsLeft, lastEntry, flags: 0, tag: 0, segments, tlvs, ...(hmac ? { hmac } : {}) }));
  const pkt = ipv6Packet({ src: EDGE_SOURCE, dst, nextHeader: IPPROTO_ROUTING, payload: Buffer.concat([srh, s.inner]), hopLimit: s.hopLimit });
  const frame = ethernet(dstMac, srcMac, ETH_P_IPV6, pkt);
  const tlvAt = SRH_AT + 8 + 16 * segments.length;
  const innerAt = SRH_AT + srh.length;
  const fields = [...ipv6Fields(), ...srhFields(segments.length, tlvAt, innerAt, frame), ...innerFields(innerAt, s.innerHeader)];
  return { frame, fields, srh: { segments: SRH_AT + 8, tlvs: tlvAt, inner: innerAt } };
}

function ipv6Fields(): Field[] {
  return [
    { name: 'eth type', off: 12, size: 2 },
    { name: 'version/traffic class', off: ETH_HLEN, size: 1 },
    { name: 'payload length', off: ETH_HLEN + 4, size: 2 },
    { name: 'next header', off: ETH_HLEN + 6, size: 1 },
    { name: 'hop limit', off: ETH_HLEN + 7, size: 1 },
    { name: 'destination', off: ETH_HLEN + 24, size: 16 },
    { name: 'destination last byte', off: ETH_HLEN + 39, size: 1 },
  ];
}

/** The SRH's fixed fields, each segment, and every TLV's type and length (walked from the bytes). */
function srhFields(n: number, tlvAt: number, innerAt: number, frame: Buffer): Field[] {
  const f: Field[] = [
    { name: 'SRH next header', off: SRH_AT, size: 1 },
    { name: 'SRH hdr ext len', off: SRH_AT + 1, size: 1 },
    { name: 'routing type', off: SRH_AT + 2, size: 1 },
    { name: 'segments left', off: SRH_AT + 3, size: 1 },
    { name: 'last entry', off: SRH_AT + 4, size: 1 },
    { name: 'flags', off: SRH_AT + 5, size: 1 },
    { name: 'tag', off: SRH_AT + 6, size: 2 },
  ];
  for (let i = 0; i < n; i++) {
    f.push({ name: `segment ${i}`, off: SRH_AT + 8 + 16 * i, size: 16 }, { name: `segment ${i} last byte`, off: SRH_AT + 8 + 16 * i + 15, size: 1 });
  }
  for (let at = tlvAt; at < innerAt; ) {
    f.push({ name: 'TLV type', off: at, size: 1 });
    if (frame[at] === TLV_PAD1) {
      at += 1;
      continue;
    }
    f.push({ name: 'TLV length', off: at + 1, size: 1 });
    if (frame[at] === TLV_HMAC) f.push({ name: 'HMAC D bit/reserved', off: at + 2, size: 2 }, { name: 'HMAC key id', off: at + 4, size: 4 });
    at += 2 + frame[at + 1];
  }
  return f;
}

function innerFields(at: number, header: number): Field[] {
  return header === IPPROTO_IPIP
    ? [
        { name: 'inner version/ihl', off: at, size: 1 },
        { name: 'inner total length', off: at + 2, size: 2 },
        { name: 'inner fragment', off: at + 6, size: 2 },
        { name: 'inner protocol', off: at + 9, size: 1 },
        { name: 'inner destination', off: at + 16, size: 4 },
        { name: 'inner destination last byte', off: at + 19, size: 1 },
      ]
    : [
        { name: 'inner version', off: at, size: 1 },
        { name: 'inner payload length', off: at + 4, size: 2 },
        { name: 'inner destination', off: at + 24, size: 16 },
      ];
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

/** A 16-byte address the endpoint may meet: its SIDs, others in its locator, outside it, random. */
function someAddress(rng: Rng): Buffer {
  switch (rng.int(5)) {
    case 0:
      return ip6(rng.pick([SID_END, SID_END_X, SID_DT4_VOICE, SID_DT4_ARCHIVE, SID_DT6_VOICE]));
    case 1: {
      const a = ip6(SID_END);
      rng.bytes(10).copy(a, 6);
      return a;
    }
    case 2:
      return ip6(rng.pick([NEXT_ROUTED, NEXT_NO_NEIGH, NEXT_UNROUTED, FAR_DT4, SID_UNKNOWN]));
    case 3:
      return ip6(rng.pick(['fc00:0:1::', 'fc00:0:1:ffff:ffff:ffff:ffff:ffff', 'fc00:0:0:ffff:ffff:ffff:ffff:ffff', 'fc00:0:2::']));
    default:
      return rng.bytes(16);
  }
}

/** A TLV of a kind the SRH may carry (Pad1, PadN, HMAC) or not, its length right or wrong. */
function someTlv(rng: Rng): Buffer {
  switch (rng.int(4)) {
    case 0:
      return Buffer.of(TLV_PAD1);
    case 1: {
      const n = rng.chance(0.7) ? rng.int(6) : rng.int(256);
      return Buffer.concat([Buffer.of(TLV_PADN, rng.chance(0.8) ? n : rng.int(256)), Buffer.alloc(n)]);
    }
    case 2: {
      const { value } = hmacTlv(rng.chance(0.5) ? HMAC_KEY_ID : rng.u32(), rng.bytes(rng.pick([8, 16, 32])));
      const t = Buffer.concat([Buffer.of(TLV_HMAC, value.length), value]);
      if (rng.chance(0.5)) t[1] = rng.pick([0, 6, 37, 39, 40, 255, rng.int(256)]);
      return rng.chance(0.3) ? t.subarray(0, rng.int(t.length)) : t;
    }
    default:
      return Buffer.concat([Buffer.of(rng.int(256), rng.int(16)), rng.bytes(rng.int(16))]);
  }
}

/** One to four mutations of an SRv6 frame: generic byte damage and SRH-aware ones. */
function mutateSrv6(rng: Rng, seed: Seed): Buffer {
  let f: Buffer = Buffer.from(seed.input.frame);
  const s = seed.srh;
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    switch (rng.int(10)) {
      case 0:
        f[rng.chance(0.8) ? rng.int(Math.min(f.length, 200)) : rng.int(f.length)] ^= 1 << rng.int(8);
        break;
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
        corruptField(rng, f, rng.pick(seed.fields));
        break;
      case 6:
        // The destination in or out of the locator, a local SID of another behavior, a segment.
        if (f.length >= SRH_AT) someAddress(rng).copy(f, ETH_HLEN + 24);
        break;
      case 7:
        // Segments Left and Last Entry near their limits, together or apart.
        if (s && f.length >= SRH_AT + 5) {
          const le = f[SRH_AT + 4];
          if (rng.chance(0.5)) f[SRH_AT + 3] = rng.pick([0, 1, le, le + 1, le + 2, 0xff, rng.int(256)]) & 0xff;
          else f[SRH_AT + 4] = rng.pick([0, le - 1, le + 1, le + 2, 0x7f, 0xff, rng.int(256)]) & 0xff;
        }
        break;
      case 8:
        // A TLV inserted after the segments, the header length grown to cover it, or not.
        if (s && f.length >= s.tlvs) {
          const tlv = someTlv(rng);
          f = Buffer.concat([f.subarray(0, s.tlvs), tlv, f.subarray(s.tlvs)]);
          if (rng.chance(0.6) && f.length > SRH_AT + 1) f[SRH_AT + 1] = (f[SRH_AT + 1] + Math.ceil(tlv.length / 8)) & 0xff;
        }
        break;
      default:
        // Garbage where the inner packet is, or an inner packet of the other family.
        if (s && f.length > s.inner) {
          const junk = rng.chance(0.5) ? rng.bytes(rng.int(100)) : rng.chance(0.5) ? inner6('fd00:165::7') : inner4('10.165.0.7', IPPROTO_UDP);
          f = Buffer.concat([f.subarray(0, s.inner), junk]);
        }
    }
  }
  // Often the IPv6 payload length is made to agree, so that the damage reaches the SRH checks.
  if (rng.chance(0.6) && f.length >= SRH_AT) f.writeUInt16BE(Math.min(0xffff, f.length - SRH_AT), ETH_HLEN + 4);
  return Buffer.from(f.subarray(0, MAX_FRAME));
}

function drainRecords(events: BpfMap): PacketRecord[] {
  const out: PacketRecord[] = [];
  const reader = new RingReader(events, { bufferBytes: 1 << 20, onBatch: () => undefined });
  for (;;) {
    const { records, bytes } = reader.drain();
    if (records === 0) return out;
    out.push(...decodeBatch(reader.buffer, bytes, (e) => {
      throw e;
    }));
  }
}

/** Packets per counter slot, summed over CPUs. */
function slots(counters: BpfMap): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < COUNTER_SLOTS; i++) {
    const raw = counters.lookup(Buffer.from(Uint32Array.of(i).buffer));
    out.push(raw === null ? 0n : sumCounter(raw, counters.possibleCpus).packets);
  }
  return out;
}

function deltaOf(before: bigint[], after: bigint[]): Delta {
  const dropSlots = new Map<number, bigint>();
  let drops = 0n;
  for (let i = 1; i < DROP_REASON_MAX; i++) {
    const n = after[i] - before[i];
    if (n !== 0n) dropSlots.set(i, n);
    drops += n;
  }
  return Object.assign((name: CounterName) => after[COUNTERS[name]] - before[COUNTERS[name]], { drops, dropSlots });
}

const normal = (retval: number): number => retval | 0;

describe('datapath: fuzzing srv6_endpoint and srv6_encap with BPF_PROG_TEST_RUN', function () {
  requireDatapath(this);
  this.timeout(180000);
  const hosts = new Topology(`cils6fz${process.pid}`);
  let netns = '';
  const targets: Target[] = [];
  const opened: Array<{ close(): void }> = [];
  let endpoint: Srv6Datapath;
  let edge: Srv6Datapath;
  let warningsBefore = 0;

  const run = (t: Target, input: Input): RunResult => {
    try {
      const r = t.prog.testRun(input.frame, { ctx: input.ctx, netns });
      return { retval: normal(r.retval), data: r.data };
    } catch (err) {
      throw new Error(`${t.name}: ${(err as Error).message} for ${hex(input.frame)} ctx ${hex(input.ctx)}`);
    }
  };

  before(function () {
    console.log(`      fuzz seed ${FUZZ_SEED} (replay with CILLION_FUZZ_SEED=${FUZZ_SEED})`);
    warningsBefore = kernelWarnings().length;
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
    const ns = hosts.addHost('s6');
    netns = `/var/run/netns/${ns}`;
    const link = hosts.link({ ns, ifname: 'up0' }, { ns, ifname: 'up1' });
    const A = link.a.ifindex;
    const B = link.b.ifindex;
    const macA = link.a.mac;
    const macB = link.b.mac;
    // The FIB End consults: one next segment through a resolved neighbour, one without, one with no route.
    hosts.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1']);
    hosts.exec(ns, 'ip', ['-6', 'addr', 'add', 'fc00:0:1::ffff/128', 'dev', 'up1', 'nodad']);
    hosts.exec(ns, 'ip', ['-6', 'route', 'add', 'fc00:0:4::/48', 'via', 'fe80::4', 'dev', 'up1']);
    hosts.exec(ns, 'ip', ['-6', 'neigh', 'replace', 'fe80::4', 'lladdr', macA, 'dev', 'up1', 'nud', 'permanent']);
    hosts.exec(ns, 'ip', ['-6', 'route', 'add', 'fc00:0:3::/48', 'via', 'fe80::3', 'dev', 'up1']);
    // A tenant route with a device redirects only when the FIB reaches the inner destination there.
    hosts.exec(ns, 'ip', ['addr', 'add', '10.201.0.1/24', 'dev', 'up1']);
    hosts.exec(ns, 'ip', ['route', 'add', '10.165.1.0/24', 'via', '10.201.0.2', 'dev', 'up1']);
    hosts.exec(ns, 'ip', ['neigh', 'replace', '10.201.0.2', 'lladdr', macA, 'dev', 'up1', 'nud', 'permanent']);

    // ---- srv6_endpoint: pe-zurich, packets arriving on up0.
    endpoint = Srv6Datapath.load({ instance: `${INSTANCE}/node` });
    opened.push(endpoint);
    endpoint.locators.set(LOCATOR, 1);
    endpoint.localSids.set(SID_END, { behavior: 'End', tenantId: 0, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
    endpoint.localSids.set(SID_END_X, { behavior: 'End.X', tenantId: 0, ifindex: B, srcMac: macB, dstMac: macA });
    endpoint.localSids.set(SID_DT4_VOICE, { behavior: 'End.DT4', tenantId: VOICE, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
    endpoint.localSids.set(SID_DT4_ARCHIVE, { behavior: 'End.DT4', tenantId: ARCHIVE, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
    endpoint.localSids.set(SID_DT6_VOICE, { behavior: 'End.DT6', tenantId: VOICE, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
    endpoint.tenantRoutes4.set({ tenantId: VOICE, prefix: '10.165.0.0/24' }, { ifindex: 0, identity: 400 });
    endpoint.tenantRoutes4.set({ tenantId: VOICE, prefix: '10.165.1.0/24' }, { ifindex: B, identity: 401 });
    endpoint.tenantRoutes4.set({ tenantId: ARCHIVE, prefix: '10.165.2.0/24' }, { ifindex: 0, identity: 402 });
    endpoint.tenantRoutes6.set({ tenantId: VOICE, prefix: 'fd00:165::/64' }, { ifindex: 0, identity: 403 });

    const frame = (spec: Srv6FrameSpec) => srv6Frame(macA, macB, spec);
    const endSeed = (name: string, spec: Srv6FrameSpec, counter: CounterName, check: (r: RunResult, frame: Buffer) => void): Seed => {
      const built = frame(spec);
      return { name, input: { frame: built.frame, ctx: xdpCtx(A, built.frame.length) }, fields: built.fields, ...(built.srh ? { srh: built.srh } : {}), counter, check: (r) => check(r, built.frame) };
    };
    /**
     * End/End.X: same length, Segments Left one less, the next segment the destination; the
     * hop limit one less when redirected, untouched when passed (the kernel then forwards
     * and decrements it).
     */
    const advanced = (retvals: number[], next: string) => (r: RunResult, f: Buffer) => {
      assert.ok(retvals.includes(r.retval), `retval ${r.retval}, want ${retvals.join(' or ')}`);
      assert.equal(r.data.length, f.length);
      assert.equal(r.data[SRH_AT + 3], f[SRH_AT + 3] - 1, 'Segments Left');
      assert.equal(hex(r.data.subarray(ETH_HLEN + 24, ETH_HLEN + 40)), hex(ip6(next)), 'the destination is the next segment');
      assert.equal(r.data[ETH_HLEN + 7], f[ETH_HLEN + 7] - (r.retval === XDP_REDIRECT ? 1 : 0), 'hop limit');
      assert.equal(hex(r.data.subarray(SRH_AT + 4)), hex(f.subarray(SRH_AT + 4)), 'the rest of the SRH and the payload untouched');
    };
    const decapsulated = (retval: number, etherType: number, innerPkt: Buffer) => (r: RunResult) => {
      assert.equal(r.retval, retval);
      assert.equal(r.data.readUInt16BE(12), etherType);
      assert.equal(hex(r.data.subarray(ETH_HLEN)), hex(innerPkt), 'the inner packet, unchanged');
    };
    const dropped = (r: RunResult) => assert.equal(r.retval, XDP_DROP);
    const travel = (...segs: string[]) => segs;
    const voip = inner4('10.165.0.7', IPPROTO_UDP);
    const endpointSeeds: Seed[] = [
      endSeed('End, next segment through a neighbour', { travel: travel(SID_END, NEXT_ROUTED, FAR_DT4), segmentsLeft: 2, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_END', advanced([XDP_REDIRECT], NEXT_ROUTED)),
      endSeed('End with Pad1, PadN and an HMAC TLV', { travel: travel(SID_END, NEXT_ROUTED, NEXT_NO_NEIGH, FAR_DT4), segmentsLeft: 3, hmac: true, pad: true, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_END', advanced([XDP_REDIRECT], NEXT_ROUTED)),
      endSeed('End, next segment without a resolved neighbour', { travel: travel(SID_END, NEXT_NO_NEIGH, FAR_DT4), segmentsLeft: 2, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_END', advanced([XDP_PASS], NEXT_NO_NEIGH)),
      endSeed('End.X to its adjacency', { travel: travel(NEXT_ROUTED, SID_END_X, NEXT_UNROUTED, FAR_DT4), segmentsLeft: 2, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_END', advanced([XDP_REDIRECT], NEXT_UNROUTED)),
      endSeed('End.DT4 for voice into the stack', { travel: travel(NEXT_ROUTED, SID_DT4_VOICE), segmentsLeft: 0, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_DECAP', decapsulated(XDP_PASS, ETH_P_IP, voip)),
      endSeed('End.DT4 for voice to a device, with an HMAC TLV', { travel: travel(NEXT_ROUTED, NEXT_NO_NEIGH, SID_DT4_VOICE), segmentsLeft: 0, hmac: true, inner: inner4('10.165.1.9', IPPROTO_TCP), innerHeader: IPPROTO_IPIP },
        'SRV6_DECAP', decapsulated(XDP_REDIRECT, ETH_P_IP, inner4('10.165.1.9', IPPROTO_TCP))),
      endSeed('End.DT6 for voice', { travel: travel(NEXT_ROUTED, SID_DT6_VOICE), segmentsLeft: 0, inner: inner6('fd00:165::7'), innerHeader: IPPROTO_IPV6 },
        'SRV6_DECAP', decapsulated(XDP_PASS, ETH_P_IPV6, inner6('fd00:165::7'))),
      endSeed('End.DT4 for archive, a destination only voice routes', { travel: travel(NEXT_ROUTED, SID_DT4_ARCHIVE), segmentsLeft: 0, inner: voip, innerHeader: IPPROTO_IPIP },
        'SRV6_NO_TENANT_ROUTE', dropped),
      endSeed('End.DT4 with segments left', { travel: travel(SID_DT4_VOICE, FAR_DT4), segmentsLeft: 1, inner: voip, innerHeader: IPPROTO_IPIP }, 'SRH_BAD_SEGLEFT', dropped),
      endSeed('End with no segments left', { travel: travel(NEXT_ROUTED, SID_END), segmentsLeft: 0, inner: voip, innerHeader: IPPROTO_IPIP }, 'SRH_BAD_SEGLEFT', dropped),
      endSeed('End with hop limit 1', { travel: travel(SID_END, NEXT_ROUTED, FAR_DT4), segmentsLeft: 2, hopLimit: 1, inner: voip, innerHeader: IPPROTO_IPIP }, 'SRV6_HOP_LIMIT', dropped),
      endSeed('End towards a segment with no route', { travel: travel(SID_END, NEXT_UNROUTED, FAR_DT4), segmentsLeft: 2, inner: voip, innerHeader: IPPROTO_IPIP }, 'SRV6_NO_ROUTE', dropped),
      endSeed('a SID in the locator that is not programmed', { travel: travel(SID_UNKNOWN, FAR_DT4), segmentsLeft: 1, inner: voip, innerHeader: IPPROTO_IPIP }, 'SRV6_UNKNOWN_SID', dropped),
      endSeed('End without an SRH', { travel: travel(SID_END), segmentsLeft: 0, noSrh: true, inner: udpDatagram(1, 2, Buffer.from('x')), innerHeader: IPPROTO_UDP }, 'SRV6_NO_SRH', dropped),
      endSeed('a destination outside the locator', { travel: travel(FAR_DT4, NEXT_ROUTED), segmentsLeft: 1, inner: voip, innerHeader: IPPROTO_IPIP }, 'NOT_SRV6', (r, f) => {
        assert.equal(r.retval, XDP_PASS);
        assert.equal(hex(r.data), hex(f));
      }),
    ];

    const endpointAudit = (batch: Array<{ input: Input; r: RunResult }>, d: Delta, records: PacketRecord[]): string[] => {
      const problems: string[] = [];
      const xdpDrops = batch.filter((b) => b.r.retval === XDP_DROP).length;
      const untouched = batch.filter((b) => b.r.retval === XDP_PASS && b.r.data.equals(b.input.frame)).length;
      const handled = batch.length - xdpDrops - untouched;
      if (d.drops !== BigInt(xdpDrops)) problems.push(`drop counters +${d.drops}, XDP_DROP ${xdpDrops} times`);
      if (d('NOT_SRV6') !== BigInt(untouched)) problems.push(`NOT_SRV6 +${d('NOT_SRV6')}, ${untouched} frames passed untouched`);
      if (d('SRV6_END') + d('SRV6_DECAP') !== BigInt(handled)) problems.push(`SRV6_END +${d('SRV6_END')} and SRV6_DECAP +${d('SRV6_DECAP')}, ${handled} frames forwarded or decapsulated`);
      for (const [slot, n] of d.dropSlots) {
        const name = counterName(slot);
        if (!SRV6_DROPS.has(name)) problems.push(`${n} drops counted as ${name}, not an SRv6 reason`);
      }
      if (d('RING_RESERVE_FAIL') !== 0n) problems.push(`RING_RESERVE_FAIL +${d('RING_RESERVE_FAIL')}`);
      if (records.length !== xdpDrops + handled) problems.push(`${records.length} records for ${xdpDrops + handled} handled packets`);
      const badRecords = records.filter((rec) => rec.pathKind !== 'srv6' || (rec.dropReason !== null && !SRV6_DROPS.has(rec.dropReason)));
      if (badRecords.length > 0) problems.push(`records of another kind or reason: ${badRecords.slice(0, 3).map((rec) => `${rec.pathKind}/${rec.dropReason}`).join(', ')}`);
      const recordDrops = records.filter((rec) => rec.verdict === 'DROPPED').length;
      if (recordDrops !== xdpDrops) problems.push(`${recordDrops} drop records for ${xdpDrops} drops`);
      return problems;
    };
    const endpointPorts = [A, B];
    targets.push({
      name: 'srv6_endpoint (XDP)',
      prog: endpoint.obj.program('srv6_endpoint'),
      seeds: endpointSeeds,
      mutate: (rng, seed) => {
        const f = mutateSrv6(rng, seed);
        return { frame: f, ctx: xdpCtx(seed.input.ctx.readUInt32LE(12), f.length) };
      },
      random: (rng) => {
        let f: Buffer;
        switch (rng.int(4)) {
          case 0:
            f = rng.bytes(rng.chance(0.7) ? rng.range(ETH_HLEN, 200) : rng.range(ETH_HLEN, MAX_FRAME));
            break;
          case 1:
            f = ethernet(macA, macB, rng.chance(0.9) ? ETH_P_IPV6 : rng.int(65536), Buffer.concat([Buffer.of(0x60 | rng.int(16)), rng.bytes(rng.range(0, 300))]));
            break;
          default: {
            // Well-formed SRv6 of random shape towards this node: 1 to 10 segments, any Segments Left.
            const n = rng.range(1, 10);
            const segs = Array.from({ length: n }, () => someAddress(rng));
            const sl = rng.chance(0.8) ? rng.int(n) : rng.int(256);
            const innerPkt = rng.chance(0.5) ? inner4(rng.pick(['10.165.0.7', '10.165.1.3', '10.165.2.1', '10.9.9.9']), rng.pick([IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP])) : rng.chance(0.5) ? inner6('fd00:165::9') : rng.bytes(rng.int(80));
            const srh = Buffer.from(encodeSrh({
              nextHeader: rng.pick([IPPROTO_IPIP, IPPROTO_IPV6, rng.int(256)]), segmentsLeft: 0, lastEntry: n - 1, flags: 0, tag: rng.int(65536),
              segments: segs, tlvs: [],
            }));
            srh[3] = sl;
            const tlv = rng.chance(0.3) ? someTlv(rng) : Buffer.alloc(0);
            const withTlv = Buffer.concat([srh, tlv]);
            if (tlv.length > 0 && rng.chance(0.7)) withTlv[1] += Math.ceil(tlv.length / 8);
            const dst = rng.chance(0.8) && sl < n ? segs[sl] : someAddress(rng);
            const pkt = Buffer.concat([Buffer.alloc(IPV6_HLEN), withTlv, innerPkt]);
            pkt.writeUInt32BE(0x60000000, 0);
            pkt.writeUInt16BE(pkt.length - IPV6_HLEN, 4);
            pkt[6] = rng.chance(0.9) ? IPPROTO_ROUTING : rng.int(256);
            pkt[7] = rng.chance(0.9) ? 64 : rng.int(3);
            ip6(EDGE_SOURCE).copy(pkt, 8);
            dst.copy(pkt, 24);
            f = ethernet(macA, macB, ETH_P_IPV6, pkt);
          }
        }
        f = f.subarray(0, MAX_FRAME);
        return { frame: f, ctx: xdpCtx(rng.pick(endpointPorts), f.length) };
      },
      audit: endpointAudit,
    });

    // ---- srv6_encap: zrh-node-1, pods' packets leaving on up0.
    edge = Srv6Datapath.load({ instance: `${INSTANCE}/edge` });
    opened.push(edge);
    edge.endpoints.set('10.164.0.5', { identity: ID_A, ifindex: B });
    edge.endpoints.set('10.164.0.6', { identity: ID_A2, ifindex: B });
    /** The outer IPv6 header and SRH the control plane would program, travel order given. */
    const template = (segs: string[], hmac: boolean): Buffer => {
      const built = srv6Frame(macA, macB, { travel: segs, segmentsLeft: segs.length - 1, hmac, inner: Buffer.alloc(0), innerHeader: IPPROTO_IPIP });
      return Buffer.from(built.frame.subarray(ETH_HLEN));
    };
    const lists: Record<number, Buffer> = {
      1: template([SID_END, NEXT_ROUTED, FAR_DT4], false),
      2: template(['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200'], true),
      3: template(['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:5::1', 'fc00:0:201::100'], false),
    };
    for (const [id, header] of Object.entries(lists)) {
      edge.seglists.set(Number(id), { ifindex: Number(id) === 3 ? A : B, mtu: SEGLIST_MTU, tenantId: Number(id) === 2 ? ARCHIVE : VOICE, srcMac: macB, dstMac: macA, header });
    }
    edge.egress.set({ identity: ID_A, prefix: '10.165.0.0/16' }, [1]);
    edge.egress.set({ identity: ID_A2, prefix: '10.165.0.0/16' }, [2]);
    edge.egress.set({ identity: ID_A, prefix: '10.166.0.0/16' }, [1, 2, 3]);
    edge.egress.set({ identity: ID_A, prefix: '10.167.0.0/16' }, [9]);
    const podFrom = (src: string, dst: string, proto: number, pad = 0): Buffer =>
      ethernet(macA, macB, ETH_P_IP, inner4(dst, proto, src, pad ? Buffer.alloc(pad) : undefined));
    const encapSeed = (name: string, frame: Buffer, expect: 'encap' | 'untouched' | 'drop', counter: CounterName, ids: number[] = [], ctx = skbCtx(A)): Seed => ({
      name, input: { frame, ctx }, fields: POD_FIELDS, counter,
      check: (r) => {
        if (expect === 'untouched') {
          assert.equal(r.retval, TC_ACT_UNSPEC);
          assert.equal(hex(r.data), hex(frame));
          return;
        }
        if (expect === 'drop') {
          assert.equal(r.retval, TC_ACT_SHOT);
          return;
        }
        // A list whose device is the one the packet is on continues there (list 3), the others are redirected.
        assert.ok(r.retval === TC_ACT_REDIRECT || (r.retval === TC_ACT_OK && ids.includes(3)), `retval ${r.retval}`);
        const header = ids.map((id) => lists[id]).find((h) => h.length + frame.length === r.data.length && r.data.subarray(ETH_HLEN + 8, ETH_HLEN + h.length).equals(h.subarray(8)));
        assert.ok(header, `the outer IPv6 and SRH of segment list ${ids.join(' or ')} after Ethernet: ${hex(r.data.subarray(0, 200))}`);
        assert.equal(r.data.readUInt16BE(12), ETH_P_IPV6);
        assert.equal(r.data[ETH_HLEN] >> 4, 6);
        assert.equal(r.data.readUInt16BE(ETH_HLEN + 4), r.data.length - ETH_HLEN - IPV6_HLEN, 'payload length');
        assert.equal(hex(r.data.subarray(ETH_HLEN + header.length)), hex(frame.subarray(ETH_HLEN)), 'the pod packet follows the headers');
      },
    });
    const encapSeeds: Seed[] = [
      encapSeed('UDP over one segment list', podFrom('10.164.0.5', '10.165.0.7', IPPROTO_UDP), 'encap', 'SRV6_ENCAP', [1]),
      encapSeed('TCP over five segments with an HMAC TLV', podFrom('10.164.0.6', '10.165.0.7', IPPROTO_TCP), 'encap', 'SRV6_ENCAP', [2]),
      encapSeed('ICMP over a set of three lists', podFrom('10.164.0.5', '10.166.0.9', IPPROTO_ICMP), 'encap', 'SRV6_ENCAP', [1, 2, 3]),
      encapSeed('a policy naming a missing segment list', podFrom('10.164.0.5', '10.167.0.1', IPPROTO_UDP), 'drop', 'SRV6_NO_SEGLIST'),
      encapSeed('a packet over the segment list MTU', podFrom('10.164.0.5', '10.165.0.7', IPPROTO_UDP, SEGLIST_MTU), 'drop', 'PATH_MTU'),
    ];
    const untouchedSeeds: Seed[] = [
      encapSeed('a destination no SRv6 policy covers', podFrom('10.164.0.5', '10.1.2.3', IPPROTO_UDP), 'untouched', 'SRV6_ENCAP'),
      encapSeed('a source that is no local pod', podFrom('10.164.0.99', '10.165.0.7', IPPROTO_UDP), 'untouched', 'SRV6_ENCAP'),
    ];
    const podSrcs = ['10.164.0.5', '10.164.0.6', '10.164.0.7'];
    const podDsts = ['10.165.0.7', '10.166.0.1', '10.167.0.1', '10.1.2.3'];
    const randomPod = (rng: Rng): Buffer => {
      const data = rng.bytes(rng.chance(0.9) ? rng.int(64) : rng.int(1600));
      const proto = rng.pick([IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, rng.int(256)]);
      const l4 = proto === IPPROTO_UDP ? udpDatagram(rng.int(65536), rng.int(65536), data) : proto === IPPROTO_TCP ? tcpSegment(rng.int(65536), rng.int(65536), rng.int(256), data) : data;
      const dst = rng.pick(podDsts).replace(/\.\d+$/, (m) => (rng.chance(0.5) ? m : `.${rng.int(256)}`));
      const pkt = ipv4Packet({ src: rng.chance(0.9) ? rng.pick(podSrcs) : `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`, dst, proto, payload: l4, id: rng.int(65536) });
      if (rng.chance(0.1)) pkt.writeUInt16BE(rng.int(0x4000), 6);
      return pkt;
    };
    targets.push({
      name: 'srv6_encap (tc)',
      prog: edge.obj.program('srv6_encap'),
      seeds: [...encapSeeds, ...untouchedSeeds],
      mutate: (rng, seed) => {
        let f: Buffer = Buffer.from(seed.input.frame);
        for (let i = rng.range(1, 3); i > 0; i--) {
          switch (rng.int(5)) {
            case 0:
              f[rng.int(Math.min(f.length, 60))] ^= 1 << rng.int(8);
              break;
            case 1:
              f = f.subarray(0, rng.range(ETH_HLEN, f.length));
              break;
            case 2:
              f = Buffer.concat([f, rng.bytes(rng.chance(0.8) ? rng.range(1, 64) : rng.range(1, 1600))]);
              break;
            default:
              corruptField(rng, f, rng.pick(seed.fields));
          }
        }
        if (rng.chance(0.4) && f.length >= ETH_HLEN + 4) f.writeUInt16BE(Math.min(0xffff, f.length - ETH_HLEN), ETH_HLEN + 2);
        f = tcRunnable(rng, Buffer.from(f.subarray(0, MAX_FRAME)));
        const ctx = rng.chance(0.05) ? skbCtx(A, { gsoSegs: rng.range(0, 64), gsoSize: rng.int(1500) }) : seed.input.ctx;
        return { frame: f, ctx };
      },
      random: (rng) => {
        let f: Buffer;
        if (rng.chance(0.2)) f = rng.bytes(rng.chance(0.7) ? rng.range(ETH_HLEN, 200) : rng.range(ETH_HLEN, MAX_FRAME));
        else if (rng.chance(0.1)) f = ethernet(macA, macB, ETH_P_IPV6, ipv6Packet({ src: EDGE_SOURCE, dst: FAR_DT4, nextHeader: rng.int(256), payload: rng.bytes(rng.int(200)) }));
        else f = ethernet(macA, macB, rng.chance(0.95) ? ETH_P_IP : rng.int(65536), randomPod(rng).subarray(0, MAX_FRAME - ETH_HLEN));
        f = tcRunnable(rng, f);
        const gso = rng.chance(0.03) ? { gsoSegs: rng.range(0, 8), gsoSize: rng.int(1500) } : {};
        return { frame: f, ctx: skbCtx(A, gso) };
      },
      audit: (batch, d, records) => {
        const problems: string[] = [];
        const shot = batch.filter((b) => b.r.retval === TC_ACT_SHOT).length;
        const encapped = batch.filter((b) => b.r.retval === TC_ACT_REDIRECT || (b.r.retval === TC_ACT_OK && b.r.data.length > b.input.frame.length)).length;
        const changedUnspec = batch.filter((b) => b.r.retval === TC_ACT_UNSPEC && !b.r.data.equals(b.input.frame)).length;
        if (changedUnspec > 0) problems.push(`${changedUnspec} packets left to edge_egress (TC_ACT_UNSPEC) but changed`);
        if (d.drops !== BigInt(shot)) problems.push(`drop counters +${d.drops}, TC_ACT_SHOT ${shot} times`);
        if (d('SRV6_ENCAP') !== BigInt(encapped)) problems.push(`SRV6_ENCAP +${d('SRV6_ENCAP')}, ${encapped} packets encapsulated`);
        for (const [slot, n] of d.dropSlots) {
          const name = counterName(slot);
          if (!ENCAP_DROPS.has(name)) problems.push(`${n} drops counted as ${name}`);
        }
        for (const other of ['ENCAP', 'NOT_COVERED', 'SRV6_END', 'SRV6_DECAP', 'NOT_SRV6', 'RING_RESERVE_FAIL'] as const) {
          if (d(other) !== 0n) problems.push(`${other} +${d(other)}`);
        }
        if (records.length !== shot + encapped) problems.push(`${records.length} records for ${shot + encapped} packets encapsulated or dropped`);
        const bad = records.filter((rec) => rec.pathKind !== 'srv6' || rec.direction !== 'EGRESS_ENCAP' || (rec.dropReason !== null && !ENCAP_DROPS.has(rec.dropReason)));
        if (bad.length > 0) problems.push(`records of another kind, direction or reason: ${bad.slice(0, 3).map((rec) => `${rec.pathKind}/${rec.direction}/${rec.dropReason}`).join(', ')}`);
        return problems;
      },
    });
  });

  after(() => {
    for (const dp of opened.splice(0).reverse()) dp.close();
    hosts.destroy();
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });

  const dpOf = (t: Target): Srv6Datapath => (t === targets[0] ? endpoint : edge);

  const checkSeeds = () => {
    for (const t of targets) {
      const dp = dpOf(t);
      for (const s of t.seeds) {
        const before = slots(dp.counters);
        const r = run(t, s.input);
        try {
          s.check(r);
          const d = deltaOf(before, slots(dp.counters));
          const untouched = normal(r.retval) === TC_ACT_UNSPEC;
          assert.equal(d(s.counter), untouched ? 0n : 1n, `the ${s.counter} counter`);
          const records = drainRecords(dp.events);
          assert.equal(records.length, s.counter === 'NOT_SRV6' || untouched ? 0 : 1, 'records');
          if (records.length === 1) {
            assert.equal(records[0].pathKind, 'srv6');
            const dropped = r.retval === (t === targets[0] ? XDP_DROP : TC_ACT_SHOT);
            assert.equal(records[0].dropReason, dropped ? s.counter : null);
          }
          if (t === targets[0] && s.name.includes('HMAC')) assert.equal(d('SRV6_HMAC_TLV'), 1n, 'the HMAC TLV counter');
        } catch (err) {
          throw new Error(`${t.name}, seed "${s.name}": ${(err as Error).message}\ninput ${hex(s.input.frame)}\noutput ${hex(r.data)}`);
        }
      }
    }
  };

  it('gives every valid seed its verdict: End, End.X, End.DT4/DT6, H.Encaps, or the named drop', checkSeeds);

  /** Runs inputs in batches and audits each; a failing batch is replayed one input at a time to name the frames. */
  const fuzz = (t: Target, next: () => Input, total: number): { counts: Map<number, number>; ms: number } => {
    const dp = dpOf(t);
    const counts = new Map<number, number>();
    drainRecords(dp.events);
    const started = process.hrtime.bigint();
    for (let done = 0; done < total; done += BATCH) {
      const before = slots(dp.counters);
      const batch: Array<{ input: Input; r: RunResult }> = [];
      for (let i = 0; i < Math.min(BATCH, total - done); i++) {
        const input = next();
        const r = run(t, input);
        counts.set(r.retval, (counts.get(r.retval) ?? 0) + 1);
        batch.push({ input, r });
      }
      const problems = t.audit(batch, deltaOf(before, slots(dp.counters)), drainRecords(dp.events));
      if (problems.length === 0) continue;
      const named: string[] = [];
      for (const { input } of batch) {
        const b = slots(dp.counters);
        const r = run(t, input);
        const p = t.audit([{ input, r }], deltaOf(b, slots(dp.counters)), drainRecords(dp.events));
        if (p.length > 0 && named.length < 5) named.push(`${p.join('; ')}: retval ${r.retval} for ${hex(input.frame)} ctx ${hex(input.ctx)}`);
      }
      assert.fail(`${t.name}: ${problems.join('; ')}\n${named.join('\n')}`);
    }
    return { counts, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  };

  const summary = (dp: Srv6Datapath, before: bigint[]): string => {
    const after = slots(dp.counters);
    return after.map((n, i) => [i, n - before[i]] as const).filter(([, n]) => n > 0n)
      .map(([i, n]) => `${counterName(i)} ${n}`).join(', ');
  };

  for (const index of [0, 1]) {
    it(`survives ${RUNS} mutated and random inputs (${['srv6_endpoint', 'srv6_encap'][index]})`, function () {
      const t = targets[index];
      if (!t) this.skip();
      const dp = dpOf(t);
      const rng = new Rng(FUZZ_SEED + index);
      const before = slots(dp.counters);
      let i = 0;
      const { counts, ms } = fuzz(t, () => (i++ % 2 === 0 ? t.mutate(rng, rng.pick(t.seeds)) : t.random(rng)), RUNS);
      const retvals = [...counts].sort(([a], [b]) => a - b).map(([k, v]) => `${k}:${v}`).join(' ');
      console.log(`      ${t.name}: ${RUNS} inputs in ${ms.toFixed(0)} ms; retvals ${retvals}; counters ${summary(dp, before)}`);
      const allowed = index === 0 ? [XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT] : [TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT];
      const unexpected = [...counts.keys()].filter((k) => !allowed.includes(k));
      assert.deepEqual(unexpected, [], 'every retval is one of the program action codes');
      const after = slots(dp.counters);
      const dropped = deltaOf(before, after).drops;
      const ok = index === 0 ? after[COUNTERS.SRV6_END] - before[COUNTERS.SRV6_END] + after[COUNTERS.SRV6_DECAP] - before[COUNTERS.SRV6_DECAP] : after[COUNTERS.SRV6_ENCAP] - before[COUNTERS.SRV6_ENCAP];
      assert.ok(dropped > 0n && ok > 0n, 'the fuzz reached both drops and successes');
      if (index === 0) {
        const reached = SRV6_REASONS.filter((name) => after[COUNTERS[name as CounterName]] > before[COUNTERS[name as CounterName]]);
        assert.ok(reached.length >= 8, `the fuzz reached most SRv6 drop reasons: ${reached.join(', ')}`);
      }
    });
  }

  it('counts every seed truncated at every byte', () => {
    for (const t of targets) {
      for (const s of t.seeds) {
        const f = s.input.frame;
        let n = 0;
        const rng = new Rng(FUZZ_SEED);
        fuzz(t, () => {
          const cut = Buffer.from(f.subarray(0, ETH_HLEN + (n++ % (f.length - ETH_HLEN))));
          const frame = t === targets[1] ? tcRunnable(rng, cut) : cut;
          return { frame, ctx: t === targets[1] ? s.input.ctx : xdpCtx(s.input.ctx.readUInt32LE(12), frame.length) };
        }, f.length - ETH_HLEN);
      }
    }
  });

  it('still gives every seed its verdict afterwards, and the kernel logged no warning', () => {
    checkSeeds();
    assert.deepEqual(kernelWarnings().slice(warningsBefore), []);
  });
});
