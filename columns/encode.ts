// flow.Flow objects into a FlowColumns batch (proto/export/v1/export.proto): what every
// collector runs once per flow, and the relay for batches that arrive as Hubble flows.
// Text, endpoints and paths go into the batch's tables, equal ones once (compared by content,
// since the collector builds them per flow); an all-zero column is sent empty.
//
// A flow the columns cannot hold exactly is refused alone, with a reason: no time or a
// time outside int64 nanoseconds, a uuid that is not 8-4-4-4-12 hex, a number wider than its
// column, a Layer4 protocol without columns (VRRP, IGMP). Upper-case uuid hex is taken and
// comes back lower-case. Fields no column carries (Hubble's L7, tunnel, services, policies,
// IP.source_xlated and encrypted, a flow's geofence and node name) are not sent.
import { FlowColumns } from '../proto/gen/export/v1/export';
import type { Endpoint, Flow, ScionPath, Srv6Path, Workload } from '../proto/gen/flow/flow';
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';
import { arrayOf } from './arrays';
import { policyRefs } from './policy_refs';
import { COLUMNS, L4, PRESENT, WIDTH, type ColumnKey } from './layout';
import { endpointBytes, fieldBytes, pathBytes, srv6PathBytes, stringBytes } from './size';

/** Why a flow was not added. */
export interface EncodeRefusal {
  /** TOO_LARGE: the flow alone passes the byte bound; UNENCODABLE: no column can hold one of its fields. */
  code: 'TOO_LARGE' | 'UNENCODABLE';
  reason: string;
}

/** ColumnEncoder.add's answer: added, no room left (seal the batch and add again), or refused. */
export type AddOutcome = 'added' | 'full' | EncodeRefusal;

export interface Encoded {
  columns: FlowColumns;
  /** Flows left out, by their index in the input; the columns hold the others in order. */
  refused: { index: number; reason: string }[];
}

/** Every flow of `flows` that the columns can hold, in order, and why the others were refused. */
export function encodeColumns(flows: readonly Flow[]): Encoded {
  const enc = new ColumnEncoder(flows.length);
  const refused: Encoded['refused'] = [];
  for (let i = 0; i < flows.length; i++) {
    const r = enc.add(flows[i]);
    if (r !== 'added' && r !== 'full') refused.push({ index: i, reason: r.reason });
  }
  return { columns: enc.finish(), refused };
}

interface Arrays {
  present: Uint16Array;
  timeNs: BigInt64Array;
  uuid: Uint8Array;
  verdict: Uint8Array;
  dropReason: Uint16Array;
  dropReasonDesc: Uint16Array;
  flowType: Uint8Array;
  trafficDirection: Uint8Array;
  traceObservationPoint: Uint8Array;
  scionObservationPoint: Uint8Array;
  isReply: Uint8Array;
  eventType: Uint8Array;
  eventSubType: Uint8Array;
  emitterName: Uint32Array;
  emitterVersion: Uint32Array;
  interfaceIndex: Uint32Array;
  interfaceName: Uint32Array;
  ipVersion: Uint8Array;
  sourceIp: Uint32Array;
  destinationIp: Uint32Array;
  l4Protocol: Uint8Array;
  sourcePort: Uint16Array;
  destinationPort: Uint16Array;
  tcpFlags: Uint16Array;
  icmpType: Uint8Array;
  icmpCode: Uint8Array;
  sourceEndpoint: Uint32Array;
  destinationEndpoint: Uint32Array;
  path: Uint32Array;
  identity: Uint32Array;
  identityCluster: Uint32Array;
  identityOptionType: Uint8Array;
  identityAuthenticated: Uint8Array;
  identityCheck: Uint8Array;
  packets: BigUint64Array;
  bytes: BigUint64Array;
  droppedPackets: BigUint64Array;
  podBytes: BigUint64Array;
  wireBytes: BigUint64Array;
  lostPackets: BigUint64Array;
  lostBytes: BigUint64Array;
  firstSeenNs: BigInt64Array;
  lastSeenNs: BigInt64Array;
  dropReasonName: Uint32Array;
  foldedReports: Uint32Array;
  ingressDeniedBy: Uint32Array;
  egressDeniedBy: Uint32Array;
  pathType: Uint8Array;
  srv6Path: Uint32Array;
  /** The time columns as pairs of 32-bit words (low first). */
  timeNsWords: Uint32Array;
  firstSeenNsWords: Uint32Array;
  lastSeenNsWords: Uint32Array;
}

/** Bytes one flow adds to the columns, whichever are sent. */
const FLOW_BYTES = COLUMNS.reduce((s, c) => s + WIDTH[c.kind], 0);
/** Each column's field tag and length, the count, and the FlowColumns framing inside FlowBatch. */
const FRAMING_BYTES = COLUMNS.length * 8 + 16;

const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;
const U64 = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const NS = 1_000_000_000n;
const EMPTY = Buffer.alloc(0);

/** A field no column can hold; caught in add() and turned into an EncodeRefusal. */
class Unencodable extends Error {}

function fits(v: number, max: number, name: string): number {
  if ((v >>> 0) !== v || v > max) throw new Unencodable(`${name} ${v} is outside 0..${max}`);
  return v;
}

function u64(v: bigint, name: string): bigint {
  if (v < 0n || v > U64) throw new Unencodable(`${name} ${v} is outside 0..2^64-1`);
  return v;
}

/** Seconds below which a time's nanoseconds are worked out exactly in doubles (the year 2096). */
const FAST_SECONDS = 4_000_000_000n;

/**
 * Writes the time as int64 nanoseconds into words 2i (low) and 2i+1 (high) of the column.
 * Times from 1970 to 2096 take double arithmetic (seconds x 1953125 stays below 2^53, and
 * x 512 is a shift), sparing three BigInt products per flow; others take BigInt.
 */
function putNanos(t: Timestamp, name: string, words: Uint32Array, all: BigInt64Array, i: number): void {
  const n = t.nanos;
  if ((n >>> 0) !== n || n > 999_999_999) throw new Unencodable(`${name} nanos ${n} is outside 0..999999999`);
  const s = t.seconds;
  if (s >= 0n && s < FAST_SECONDS) {
    const x = Number(s) * 1953125;
    let hi = Math.floor(x / 8388608);
    let lo = (x - hi * 8388608) * 512 + n;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi++;
    }
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
    return;
  }
  const ns = s * NS + BigInt(n);
  if (ns < I64_MIN || ns > I64_MAX) throw new Unencodable(`${name} ${s} s is outside int64 nanoseconds (1677-09-21 to 2262-04-11)`);
  all[i] = ns;
}

const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX['0123456789abcdef'.charCodeAt(d)] = d;
  HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}
const hexAt = (s: string, k: number): number => {
  const c = s.charCodeAt(k);
  return c < 128 ? HEX[c] : -1;
};

/** Writes the 16 bytes of a canonical text uuid at `out[at]`. */
function putUuid(s: string, out: Uint8Array, at: number): void {
  let ok = s.length === 36 && s.charCodeAt(8) === 45 && s.charCodeAt(13) === 45 && s.charCodeAt(18) === 45 && s.charCodeAt(23) === 45;
  for (let k = 0, j = at; ok && k < 36; k += 2) {
    if (k === 8 || k === 13 || k === 18 || k === 23) k++;
    const hi = hexAt(s, k);
    const lo = hexAt(s, k + 1);
    if ((hi | lo) < 0) ok = false;
    out[j++] = (hi << 4) | lo;
  }
  if (!ok) throw new Unencodable(`uuid ${JSON.stringify(s.slice(0, 64))} is not a UUID (8-4-4-4-12 hex digits)`);
}

/**
 * Table entries compared with a new endpoint or path, newest first, before it gets an entry
 * of its own: equal entries are found among a pod's or a fingerprint's recent ones, and a
 * batch of many entries that differ only in what is not looked up by costs bounded work
 * per flow (and some entries twice) instead of a scan per flow.
 */
const CANDIDATES = 16;

/**
 * Builds one batch of columns flow by flow, knowing its encoded size as it goes, so a
 * sender can cut batches by bytes without encoding flows twice. finish() hands the batch
 * out and starts the next one.
 */
export class ColumnEncoder {
  private n = 0;
  private readonly a: Arrays;
  private readonly bytesOf: Record<ColumnKey, Uint8Array>;
  private strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  private endpoints: Endpoint[] = [];
  /** Table indexes of endpoints by pod name, oldest first. */
  private readonly endpointsByPod = new Map<string, number[]>();
  /** For each endpoint, the candidate list it joined (undone by rollback). */
  private endpointLists: number[][] = [];
  private paths: ScionPath[] = [];
  /** Table indexes of paths by fingerprint, oldest first. */
  private readonly pathsByFingerprint = new Map<string, number[]>();
  private pathLists: number[][] = [];
  private srv6Paths: Srv6Path[] = [];
  /** Table indexes of SRv6 paths by their raw SRH as hex, oldest first. */
  private readonly srv6PathsByRaw = new Map<string, number[]>();
  private srv6PathLists: number[][] = [];
  private tableBytes = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0)) throw new RangeError(`column capacity ${capacity} is no whole number`);
    let total = 0;
    for (const c of COLUMNS) total += Math.ceil((capacity * WIDTH[c.kind]) / 8) * 8;
    const buf = new ArrayBuffer(total);
    const a: Record<string, unknown> = {};
    const bytesOf: Record<string, Uint8Array> = {};
    let at = 0;
    for (const c of COLUMNS) {
      a[c.key] = arrayOf(c.kind, buf, at, capacity);
      bytesOf[c.key] = new Uint8Array(buf, at, capacity * WIDTH[c.kind]);
      at += Math.ceil((capacity * WIDTH[c.kind]) / 8) * 8;
    }
    for (const key of ['timeNs', 'firstSeenNs', 'lastSeenNs'] as const) {
      const t = a[key] as BigInt64Array;
      a[`${key}Words`] = new Uint32Array(t.buffer, t.byteOffset, 2 * capacity);
    }
    this.a = a as unknown as Arrays;
    this.bytesOf = bytesOf as Record<ColumnKey, Uint8Array>;
  }

  /** Flows added since the last finish(). */
  get count(): number {
    return this.n;
  }

  /** An upper bound of the encoded FlowColumns (with its field framing in FlowBatch). */
  get encodedBytes(): number {
    return FRAMING_BYTES + this.n * FLOW_BYTES + this.tableBytes;
  }

  /**
   * Adds the flow unless the batch is at capacity or would pass `maxBytes` encoded ('full':
   * nothing added), or the flow cannot be held (an EncodeRefusal; TOO_LARGE when it passes
   * `maxBytes` alone in an empty batch).
   */
  add(f: Flow, maxBytes = Infinity): AddOutcome {
    if (this.n >= this.capacity) return 'full';
    const strings = this.strings.length;
    const endpoints = this.endpoints.length;
    const paths = this.paths.length;
    const srv6Paths = this.srv6Paths.length;
    const tableBytes = this.tableBytes;
    try {
      this.write(f, this.n);
    } catch (e) {
      if (!(e instanceof Unencodable)) throw e;
      this.rollback(strings, endpoints, paths, srv6Paths, tableBytes);
      return { code: 'UNENCODABLE', reason: e.message };
    }
    const size = this.encodedBytes + FLOW_BYTES;
    if (size > maxBytes) {
      this.rollback(strings, endpoints, paths, srv6Paths, tableBytes);
      if (this.n > 0) return 'full';
      return { code: 'TOO_LARGE', reason: `flow encodes to ${size} bytes with its batch framing; a batch may have at most ${maxBytes}` };
    }
    this.n++;
    return 'added';
  }

  /** The batch of every flow added since the last finish(); the encoder is empty again after. */
  finish(): FlowColumns {
    const n = this.n;
    const c = { count: n, strings: this.strings, endpoints: this.endpoints, paths: this.paths, srv6Paths: this.srv6Paths } as FlowColumns;
    for (const { key, kind } of COLUMNS) {
      const bytes = this.bytesOf[key].subarray(0, n * WIDTH[kind]);
      c[key] = allZero(bytes) ? EMPTY : Buffer.from(bytes);
    }
    this.n = 0;
    this.strings = [];
    this.stringIndex.clear();
    this.endpoints = [];
    this.endpointLists = [];
    this.endpointsByPod.clear();
    this.paths = [];
    this.pathLists = [];
    this.pathsByFingerprint.clear();
    this.srv6Paths = [];
    this.srv6PathLists = [];
    this.srv6PathsByRaw.clear();
    this.tableBytes = 0;
    return c;
  }

  /** Forgets the table entries after these lengths: those of a flow not added. */
  private rollback(s: number, e: number, p: number, v: number, bytes: number): void {
    for (let k = s; k < this.strings.length; k++) this.stringIndex.delete(this.strings[k]);
    this.strings.length = s;
    // Entries are added last, so each is the last of its candidate list.
    for (let k = this.endpoints.length - 1; k >= e; k--) this.endpointLists[k].pop();
    this.endpoints.length = e;
    this.endpointLists.length = e;
    for (let k = this.paths.length - 1; k >= p; k--) this.pathLists[k].pop();
    this.paths.length = p;
    this.pathLists.length = p;
    for (let k = this.srv6Paths.length - 1; k >= v; k--) this.srv6PathLists[k].pop();
    this.srv6Paths.length = v;
    this.srv6PathLists.length = v;
    this.tableBytes = bytes;
  }

  /** Every column's value of flow `i` (zero where the flow has none), or throws Unencodable. */
  private write(f: Flow, i: number): void {
    const a = this.a;
    let present = 0;
    if (!f.time) throw new Unencodable('flow without a time');
    putNanos(f.time, 'time', a.timeNsWords, a.timeNs, i);
    putUuid(f.uuid, a.uuid, i * 16);
    a.verdict[i] = fits(f.verdict, U8, 'verdict');
    a.dropReason[i] = fits(f.dropReason, U16, 'drop_reason');
    a.dropReasonDesc[i] = fits(f.dropReasonDesc, U16, 'drop_reason_desc');
    a.flowType[i] = fits(f.Type, U8, 'Type');
    a.trafficDirection[i] = fits(f.trafficDirection, U8, 'traffic_direction');
    a.traceObservationPoint[i] = fits(f.traceObservationPoint, U8, 'trace_observation_point');
    a.scionObservationPoint[i] = fits(f.scionObservationPoint, U8, 'scion_observation_point');
    if (f.isReply === undefined) {
      a.isReply[i] = 0;
    } else {
      a.isReply[i] = f.isReply ? 2 : 1;
      present |= PRESENT.IS_REPLY;
    }

    const ev = f.eventType;
    a.eventType[i] = ev ? fits(ev.type, U8, 'event_type.type') : 0;
    a.eventSubType[i] = ev ? fits(ev.subType, U8, 'event_type.sub_type') : 0;
    if (ev) present |= PRESENT.EVENT_TYPE;

    const em = f.emitter;
    a.emitterName[i] = em ? this.str(em.name) : 0;
    a.emitterVersion[i] = em ? this.str(em.version) : 0;
    if (em) present |= PRESENT.EMITTER;

    const itf = f.interface;
    a.interfaceIndex[i] = itf ? fits(itf.index, U32, 'interface.index') : 0;
    a.interfaceName[i] = itf ? this.str(itf.name) : 0;
    if (itf) present |= PRESENT.INTERFACE;

    const ip = f.IP;
    a.ipVersion[i] = ip ? fits(ip.ipVersion, U8, 'IP.ipVersion') : 0;
    a.sourceIp[i] = ip ? this.str(ip.source) : 0;
    a.destinationIp[i] = ip ? this.str(ip.destination) : 0;
    if (ip) present |= PRESENT.IP;

    this.writeL4(f, i);
    if (f.l4) present |= PRESENT.L4;

    a.sourceEndpoint[i] = f.source ? this.endpoint(f.source) : 0;
    a.destinationEndpoint[i] = f.destination ? this.endpoint(f.destination) : 0;
    a.path[i] = f.scionPath ? this.path(f.scionPath) : 0;
    a.pathType[i] = fits(f.pathType, U8, 'path_type');
    a.srv6Path[i] = f.srv6Path ? this.srv6Path(f.srv6Path) : 0;

    const id = f.identityExtension;
    a.identity[i] = id ? fits(id.identity, U32, 'identity_extension.identity') : 0;
    a.identityCluster[i] = id ? this.str(id.clusterName) : 0;
    a.identityOptionType[i] = id ? fits(id.optionType, U8, 'identity_extension.option_type') : 0;
    a.identityAuthenticated[i] = id?.authenticated ? 1 : 0;
    a.identityCheck[i] = id ? fits(id.check, U8, 'identity_extension.check') : 0;
    if (id) present |= PRESENT.IDENTITY_EXTENSION;

    const m = f.meter;
    if (m) {
      present |= PRESENT.METER;
      a.packets[i] = u64(m.packets, 'meter.packets');
      a.bytes[i] = u64(m.bytes, 'meter.bytes');
      a.droppedPackets[i] = u64(m.droppedPackets, 'meter.dropped_packets');
      a.podBytes[i] = u64(m.podBytes, 'meter.pod_bytes');
      a.wireBytes[i] = u64(m.wireBytes, 'meter.wire_bytes');
      a.lostPackets[i] = u64(m.lostPackets, 'meter.lost_packets');
      a.lostBytes[i] = u64(m.lostBytes, 'meter.lost_bytes');
      if (m.firstSeen) putNanos(m.firstSeen, 'meter.first_seen', a.firstSeenNsWords, a.firstSeenNs, i);
      else a.firstSeenNs[i] = 0n;
      if (m.lastSeen) putNanos(m.lastSeen, 'meter.last_seen', a.lastSeenNsWords, a.lastSeenNs, i);
      else a.lastSeenNs[i] = 0n;
      if (m.firstSeen) present |= PRESENT.FIRST_SEEN;
      if (m.lastSeen) present |= PRESENT.LAST_SEEN;
      a.dropReasonName[i] = this.str(m.dropReasonName);
      a.foldedReports[i] = fits(m.foldedReports, U32, 'meter.folded_reports');
    } else {
      a.packets[i] = a.bytes[i] = a.droppedPackets[i] = a.podBytes[i] = a.wireBytes[i] = a.lostPackets[i] = a.lostBytes[i] = 0n;
      a.firstSeenNs[i] = a.lastSeenNs[i] = 0n;
      a.dropReasonName[i] = a.foldedReports[i] = 0;
    }
    a.ingressDeniedBy[i] = f.ingressDeniedBy.length > 0 ? this.str(policyRefs(f.ingressDeniedBy)) : 0;
    a.egressDeniedBy[i] = f.egressDeniedBy.length > 0 ? this.str(policyRefs(f.egressDeniedBy)) : 0;
    a.present[i] = present;
  }

  private writeL4(f: Flow, i: number): void {
    const a = this.a;
    let proto: number = L4.NONE;
    let sport = 0;
    let dport = 0;
    let flags = 0;
    let type = 0;
    let code = 0;
    const p = f.l4?.protocol;
    switch (p?.$case) {
      case undefined:
        break;
      case 'TCP': {
        proto = L4.TCP;
        sport = fits(p.value.sourcePort, U16, 'TCP.source_port');
        dport = fits(p.value.destinationPort, U16, 'TCP.destination_port');
        const t = p.value.flags;
        if (t) {
          flags =
            (t.FIN ? 1 : 0) | (t.SYN ? 2 : 0) | (t.RST ? 4 : 0) | (t.PSH ? 8 : 0) | (t.ACK ? 16 : 0) | (t.URG ? 32 : 0) | (t.ECE ? 64 : 0) | (t.CWR ? 128 : 0) | (t.NS ? 256 : 0);
        }
        break;
      }
      case 'UDP':
      case 'SCTP':
        proto = p.$case === 'UDP' ? L4.UDP : L4.SCTP;
        sport = fits(p.value.sourcePort, U16, `${p.$case}.source_port`);
        dport = fits(p.value.destinationPort, U16, `${p.$case}.destination_port`);
        break;
      case 'ICMPv4':
      case 'ICMPv6':
        proto = p.$case === 'ICMPv4' ? L4.ICMPv4 : L4.ICMPv6;
        type = fits(p.value.type, U8, `${p.$case}.type`);
        code = fits(p.value.code, U8, `${p.$case}.code`);
        break;
      default:
        throw new Unencodable(`Layer4 ${String(p?.$case)} has no columns`);
    }
    a.l4Protocol[i] = proto;
    a.sourcePort[i] = sport;
    a.destinationPort[i] = dport;
    a.tcpFlags[i] = flags;
    a.icmpType[i] = type;
    a.icmpCode[i] = code;
  }

  private str(s: string): number {
    if (s === '') return 0;
    let k = this.stringIndex.get(s);
    if (k === undefined) {
      k = this.strings.push(s);
      this.stringIndex.set(s, k);
      this.tableBytes += stringBytes(s);
    }
    return k;
  }

  /** The endpoint's table index: a recent entry of the same pod name that is equal in every field, else a new entry. */
  private endpoint(e: Endpoint): number {
    let same = this.endpointsByPod.get(e.podName);
    if (!same) {
      same = [];
      this.endpointsByPod.set(e.podName, same);
    }
    for (let c = same.length - 1; c >= 0 && c >= same.length - CANDIDATES; c--) if (sameEndpoint(this.endpoints[same[c] - 1], e)) return same[c];
    const k = this.endpoints.push(e);
    same.push(k);
    this.endpointLists.push(same);
    this.tableBytes += fieldBytes(endpointBytes(e));
    return k;
  }

  /**
   * The path's table index: a recent entry of the same fingerprint with the same evidence,
   * else a new entry. Only the evidence is sent (see evidenceOf).
   */
  private path(p: ScionPath): number {
    let same = this.pathsByFingerprint.get(p.fingerprint);
    if (!same) {
      same = [];
      this.pathsByFingerprint.set(p.fingerprint, same);
    }
    for (let c = same.length - 1; c >= 0 && c >= same.length - CANDIDATES; c--) if (sameEvidence(this.paths[same[c] - 1], p)) return same[c];
    const e = evidenceOf(p);
    const k = this.paths.push(e);
    same.push(k);
    this.pathLists.push(same);
    this.tableBytes += fieldBytes(pathBytes(e));
    return k;
  }

  /** The SRv6 path's table index: a recent entry with the same evidence, else a new entry of its evidence. */
  private srv6Path(p: Srv6Path): number {
    const raw = Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength).toString('hex');
    let same = this.srv6PathsByRaw.get(raw);
    if (!same) {
      same = [];
      this.srv6PathsByRaw.set(raw, same);
    }
    for (let c = same.length - 1; c >= 0 && c >= same.length - CANDIDATES; c--) if (sameSrv6Evidence(this.srv6Paths[same[c] - 1], p)) return same[c];
    const e = evidenceOfSrv6(p);
    const k = this.srv6Paths.push(e);
    same.push(k);
    this.srv6PathLists.push(same);
    this.tableBytes += fieldBytes(srv6PathBytes(e));
    return k;
  }
}

/**
 * What a relay rebuilds an SRv6 path from, and all of it a batch carries: the SRH as carried,
 * the outer source (the HMAC covers it), Segments Left where observed, the tenant and the
 * datapath's segment-list id. Segments, hops, fingerprint, HMAC status and the tenant's name
 * are the relay's to work out.
 */
export function evidenceOfSrv6(p: Srv6Path): Srv6Path {
  return {
    segments: [], segmentsLeft: p.segmentsLeft, source: p.source, tenantId: p.tenantId, tenant: '', hops: [], fingerprint: '',
    knownToCatalogue: false, hmac: undefined, raw: p.raw, pathId: p.pathId, latencyNs: undefined,
  };
}

function sameSrv6Evidence(a: Srv6Path, b: Srv6Path): boolean {
  return a.segmentsLeft === b.segmentsLeft && a.source === b.source && a.tenantId === b.tenantId && a.pathId === b.pathId && sameBytes(a.raw, b.raw);
}

/**
 * What a relay judges a path by, and all of it a batch carries: the ends, the path type and
 * id, the raw hop fields, and the fingerprint the collector computed (which the relay only
 * compares with its own). Hops, geo, latency, MTU and expiry are the relay's to look up.
 */
export function evidenceOf(p: ScionPath): ScionPath {
  return { srcIa: p.srcIa, dstIa: p.dstIa, fingerprint: p.fingerprint, hops: [], expiry: undefined, mtu: 0, type: p.type, pathId: p.pathId, latencyNs: undefined, knownToControlPlane: false, raw: p.raw };
}

function sameEvidence(a: ScionPath, b: ScionPath): boolean {
  return a.srcIa === b.srcIa && a.dstIa === b.dstIa && a.fingerprint === b.fingerprint && a.type === b.type && a.pathId === b.pathId && sameBytes(a.raw, b.raw);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function sameWorkloads(a: readonly Workload[], b: readonly Workload[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k].name !== b[k].name || a[k].kind !== b[k].kind) return false;
  return true;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a === b ||
    (a.ID === b.ID && a.identity === b.identity && a.podName === b.podName && a.clusterName === b.clusterName && a.namespace === b.namespace &&
      sameStrings(a.labels, b.labels) && sameWorkloads(a.workloads, b.workloads))
  );
}




function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function allZero(b: Uint8Array): boolean {
  for (let k = 0; k < b.length; k++) if (b[k] !== 0) return false;
  return true;
}
