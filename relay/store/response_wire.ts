// observer.GetFlowsResponse wire bytes straight from a page's columns, for GetFlows to send
// as they are: no Flow object and no ts-proto encode per flow. Each message decodes to
// exactly what GetFlows sends for blockFlows' Flow (proved by the response wire test):
// the same fields set, absent and defaulted.
//
// What flows share is encoded once: an endpoint or SCION path once per object the
// reference cache holds (a WeakMap, so it lives as long as the cache keeps the object), a
// LowCardinality string once per dictionary entry of a block. Per flow only numbers are
// written, 64-bit ones from their two 32-bit halves without a BigInt.
import { Endpoint, Policy, ScionPath, type Flow } from '../../proto/gen/flow/flow';
import type { EncodedFlows, FlowQuery } from '../../observer/history';
import { L4, PRESENT } from '../../columns/layout';
import { parsePolicyRefs } from '../../columns/policy_refs';
import { lengthDelimited, ProtoWriter, stringField, tag } from '../../columns/proto_writer';
import { NativeFormatError, type NativeBlock } from './native_reader';
import type { FlowReader } from './query';
import { pushdownIsExact } from './sql_filters';
import { bigs, blockFlows, col, flowScalars, halves, nums, uuidText, type PageRefs } from './stored_flow';

/**
 * The query's flows a block at a time as GetFlowsResponse messages, when the engine
 * decides every filter (pushdownIsExact); undefined otherwise.
 */
export function encodedResponses(reader: FlowReader, q: FlowQuery): AsyncIterable<EncodedFlows> | undefined {
  if (!pushdownIsExact(q.allow, q.deny)) return undefined;
  return (async function* () {
    const w = new ProtoWriter();
    for await (const page of reader.pages(q, true)) for (const b of page.blocks) yield encodeBlock(b, page.refs, w);
  })();
}

// Field numbers (proto/flow/flow.proto, proto/observer/observer.proto), as tags.
const V = 0;
const LD = 2;
const RESPONSE_FLOW = tag(1, LD);
const RESPONSE_NODE_NAME = 1000;
const RESPONSE_TIME = tag(1001, LD);
const FLOW = {
  time: tag(1, LD),
  verdict: tag(2, V),
  dropReason: tag(3, V),
  IP: tag(5, LD),
  l4: tag(6, LD),
  source: 8,
  destination: 9,
  Type: tag(10, V),
  nodeName: 11,
  reply: tag(16, V),
  eventType: tag(19, LD),
  trafficDirection: tag(22, V),
  traceObservationPoint: tag(24, V),
  dropReasonDesc: tag(25, V),
  isReply: tag(26, LD),
  interface: tag(28, LD),
  uuid: tag(34, LD),
  emitter: tag(41, LD),
  scionPath: 200001,
  geofence: tag(200002, LD),
  identityExtension: tag(200003, LD),
  scionObservationPoint: tag(200004, V),
  meter: tag(200005, LD),
  pathType: tag(200006, V),
  srv6Path: 200007,
  egressDeniedBy: 21004,
  ingressDeniedBy: 21005,
};
const TIMESTAMP_SECONDS = tag(1, V);
const TIMESTAMP_NANOS = tag(2, V);
/** Layer4's oneof by the stored protocol: TCP 1, UDP 2, ICMPv4 3, ICMPv6 4, SCTP 5. */
const L4_FIELD = new Map<number, number>([[L4.TCP, tag(1, LD)], [L4.UDP, tag(2, LD)], [L4.ICMPv4, tag(3, LD)], [L4.ICMPv6, tag(4, LD)], [L4.SCTP, tag(5, LD)]]);
const TCP_FLAGS = tag(3, LD);
const METER = {
  packets: tag(1, V),
  bytes: tag(2, V),
  droppedPackets: tag(3, V),
  firstSeen: tag(4, LD),
  lastSeen: tag(5, LD),
  dropReasonName: 6,
  podBytes: tag(7, V),
  wireBytes: tag(8, V),
  foldedReports: tag(9, V),
  lostPackets: tag(10, V),
  lostBytes: tag(11, V),
};

const HAS_IP = PRESENT.IP;
const HAS_L4 = PRESENT.L4;
const HAS_METER = PRESENT.METER;
const HAS_IDENTITY = PRESENT.IDENTITY_EXTENSION;
const HAS_EMITTER = PRESENT.EMITTER;
const HAS_INTERFACE = PRESENT.INTERFACE;
const HAS_EVENT_TYPE = PRESENT.EVENT_TYPE;
const HAS_IS_REPLY = PRESENT.IS_REPLY;
const HAS_FIRST_SEEN = PRESENT.FIRST_SEEN;
const HAS_LAST_SEEN = PRESENT.LAST_SEEN;
const HAS_GEOFENCE = PRESENT.GEOFENCE;
const TCP = L4.TCP;
const ICMP4 = L4.ICMPv4;
const ICMP6 = L4.ICMPv6;

/** An endpoint as Flow.source and as Flow.destination, each a whole field. */
interface EncodedEndpoint {
  source: Uint8Array;
  destination: Uint8Array;
}

const endpointBytes = new WeakMap<Endpoint, EncodedEndpoint>();
const pathBytes = new WeakMap<ScionPath, Uint8Array>();

function encodedEndpoint(e: Endpoint): EncodedEndpoint {
  let out = endpointBytes.get(e);
  if (!out) {
    const bytes = Endpoint.encode(e).finish();
    out = { source: lengthDelimited(FLOW.source, bytes), destination: lengthDelimited(FLOW.destination, bytes) };
    endpointBytes.set(e, out);
  }
  return out;
}

function encodedPath(p: ScionPath): Uint8Array {
  let out = pathBytes.get(p);
  if (!out) {
    out = lengthDelimited(FLOW.scionPath, ScionPath.encode(p).finish());
    pathBytes.set(p, out);
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/** Bounds every message's scalars, tags and nested lengths (the strings and references come on top). */
const FIXED_MAX_BYTES = 1024;

/**
 * A LowCardinality column as each dictionary entry encoded once (by default its whole string
 * field), and the longest of them.
 */
function strings(
  b: NativeBlock,
  name: string,
  field: number,
  encode: (s: string) => Uint8Array = (s) => stringField(field, s),
): { entries: Uint8Array[]; index: ArrayLike<number>; max: number } {
  const c = col(b, name);
  if (c.kind !== 'dict') throw new NativeFormatError(`column ${name} is not a LowCardinality column`);
  const entries = c.dict.map(encode);
  return { entries, index: c.index, max: entries.reduce((m, e) => Math.max(m, e.length), 0) };
}

/** A policy-refs column: each dictionary entry as its repeated Policy fields. */
const policies = (b: NativeBlock, name: string, field: number) =>
  strings(b, name, field, (s) => Buffer.concat(parsePolicyRefs(s).map((p) => lengthDelimited(field, Policy.encode(p).finish()))));

/** The engine's UUID layout (two little-endian halves) in RFC 4122 order, as bytes of the text. */
const UUID_ORDER = [7, 6, 5, 4, -1, 3, 2, -1, 1, 0, -1, 15, 14, -1, 13, 12, 11, 10, 9, 8];
const HEX_DIGITS = Buffer.from('0123456789abcdef');

function writeUuid(src: Uint8Array, at: number, out: Buffer, to: number): void {
  for (const k of UUID_ORDER) {
    if (k < 0) {
      out[to++] = 0x2d;
      continue;
    }
    const v = src[at + k];
    out[to++] = HEX_DIGITS[v >> 4];
    out[to++] = HEX_DIGITS[v & 15];
  }
}

function u64Field(w: ProtoWriter, t: number, h: Uint32Array, i: number): void {
  const lo = h[2 * i];
  const hi = h[2 * i + 1];
  if (lo === 0 && hi === 0) return;
  w.varint(t);
  w.varint64(lo, hi);
}

function timestamp(w: ProtoWriter, t: number, seconds: Uint32Array, nanos: ArrayLike<number>, i: number): void {
  const at = w.open(t);
  u64Field(w, TIMESTAMP_SECONDS, seconds, i);
  const n = nanos[i];
  if (n !== 0) {
    w.varint(TIMESTAMP_NANOS);
    w.varint(n);
  }
  w.close(at);
}

function int32Field(w: ProtoWriter, t: number, v: number): void {
  if (v === 0) return;
  w.varint(t);
  w.int32(v);
}

function uint32Field(w: ProtoWriter, t: number, v: number): void {
  if (v === 0) return;
  w.varint(t);
  w.varint(v);
}

/**
 * Row i's GetFlowsResponse, for every row of a block. `refs` must hold every key of the
 * block its tables had (as for blockFlows); a row whose endpoint or path is not there
 * takes what its own columns say, through blockFlows.
 */
export function encodeBlock(b: NativeBlock, refs: PageRefs, w: ProtoWriter): EncodedFlows {
  const { timeN, uuids, present, verdict, dropReason, dropCode, flowType, direction, point, scionPoint, isReply, eventType, eventSub, ifIndex, ipVersion, proto, sport, dport, flags, icmpType, icmpCode, srcKey, dstKey, pathKey, idExt, idOption, idAuth, idCheck, firstN, lastN, folded, pathType } = flowScalars(b);
  const timeS = halves(b, 'time_s');
  const fenceVerdict = nums(b, 'geofence_verdict');
  const fenceMode = nums(b, 'geofence_mode');
  const fenceHop = nums(b, 'geofence_offending_hop');
  const packets = halves(b, 'packets');
  const bytes = halves(b, 'bytes');
  const dropped = halves(b, 'dropped_packets');
  const podBytes = halves(b, 'pod_bytes');
  const wireBytes = halves(b, 'wire_bytes');
  const lostPackets = halves(b, 'lost_packets');
  const lostBytes = halves(b, 'lost_bytes');
  const firstS = halves(b, 'first_seen_s');
  const lastS = halves(b, 'last_seen_s');

  const node = strings(b, 'node_name', FLOW.nodeName);
  const responseNode = strings(b, 'node_name', RESPONSE_NODE_NAME);
  const emitterName = strings(b, 'emitter_name', 1);
  const emitterVersion = strings(b, 'emitter_version', 2);
  const ifName = strings(b, 'interface_name', 2);
  const srcIp = strings(b, 'source_ip', 1);
  const dstIp = strings(b, 'destination_ip', 2);
  const idCluster = strings(b, 'identity_cluster', 2);
  const fenceName = strings(b, 'geofence_name', 2);
  const fenceNamespace = strings(b, 'geofence_namespace', 3);
  const fenceReason = strings(b, 'geofence_reason', 5);
  const fenceIsdAs = strings(b, 'geofence_offending_isd_as', 7);
  const fenceCountry = strings(b, 'geofence_offending_country', 8);
  const fenceSid = strings(b, 'geofence_offending_sid', 9);
  // Each SRv6 path once per dictionary entry, as the whole Flow.srv6_path field.
  const srv6 = strings(b, 'srv6_path', FLOW.srv6Path, (s) => (s === '' ? EMPTY : lengthDelimited(FLOW.srv6Path, Buffer.from(s, 'base64'))));
  const dropName = strings(b, 'drop_reason_name', METER.dropReasonName);
  const egressDenied = policies(b, 'egress_denied_by', FLOW.egressDeniedBy);
  const ingressDenied = policies(b, 'ingress_denied_by', FLOW.ingressDeniedBy);
  const stringsMax = [node, responseNode, emitterName, emitterVersion, ifName, srcIp, dstIp, idCluster, fenceName, fenceNamespace,
    fenceReason, fenceIsdAs, fenceCountry, fenceSid, srv6, dropName, egressDenied, ingressDenied].reduce((n, s) => n + s.max, 0);

  // Rows whose endpoint or path row is gone (rare) are rebuilt as blockFlows does.
  let fallback: ((i: number) => Flow) | undefined;
  const rebuilt = (i: number): Flow => (fallback ??= blockFlows(b, refs))(i);
  const endpointAt = (key: bigint, i: number, side: 'source' | 'destination'): Uint8Array => {
    const e = refs.endpoints.get(key);
    if (e) return encodedEndpoint(e)[side];
    return lengthDelimited(FLOW[side], Endpoint.encode(rebuilt(i)[side]!).finish());
  };
  const pathAt = (key: bigint, i: number): Uint8Array => {
    const p = refs.paths.get(key);
    return p ? encodedPath(p) : lengthDelimited(FLOW.scionPath, ScionPath.encode(rebuilt(i).scionPath!).finish());
  };

  const messages = new Array<Buffer>(b.rows);
  for (let i = 0; i < b.rows; i++) {
    const p = present[i];
    const sk = srcKey[i];
    const dk = dstKey[i];
    const pk = pathKey[i];
    const src = sk === 0n ? undefined : endpointAt(sk, i, 'source');
    const dst = dk === 0n ? undefined : endpointAt(dk, i, 'destination');
    const path = pk === 0n ? undefined : pathAt(pk, i);
    w.begin(FIXED_MAX_BYTES + stringsMax + (src?.length ?? 0) + (dst?.length ?? 0) + (path?.length ?? 0));

    const flow = w.open(RESPONSE_FLOW);
    timestamp(w, FLOW.time, timeS, timeN, i);
    w.filled(FLOW.uuid, 36, (out, to) => writeUuid(uuids, i * 16, out, to));
    if ((p & HAS_EMITTER) !== 0) {
      const at = w.open(FLOW.emitter);
      w.raw(emitterName.entries[emitterName.index[i]]);
      w.raw(emitterVersion.entries[emitterVersion.index[i]]);
      w.close(at);
    }
    int32Field(w, FLOW.verdict, verdict[i]);
    uint32Field(w, FLOW.dropReason, dropCode[i]);
    if ((p & HAS_IP) !== 0) {
      const at = w.open(FLOW.IP);
      w.raw(srcIp.entries[srcIp.index[i]]);
      w.raw(dstIp.entries[dstIp.index[i]]);
      int32Field(w, tag(3, V), ipVersion[i]);
      w.close(at);
    }
    if ((p & HAS_L4) !== 0) {
      const at = w.open(FLOW.l4);
      const kind = proto[i];
      const field = L4_FIELD.get(kind);
      if (field !== undefined) {
        const inner = w.open(field);
        if (kind === ICMP4 || kind === ICMP6) {
          uint32Field(w, tag(1, V), icmpType[i]);
          uint32Field(w, tag(2, V), icmpCode[i]);
        } else {
          uint32Field(w, tag(1, V), sport[i]);
          uint32Field(w, tag(2, V), dport[i]);
          if (kind === TCP) tcpFlags(w, flags[i]);
        }
        w.close(inner);
      }
      w.close(at);
    }
    if (src) w.raw(src);
    if (dst) w.raw(dst);
    int32Field(w, FLOW.Type, flowType[i]);
    w.raw(node.entries[node.index[i]]);
    const reply = (p & HAS_IS_REPLY) !== 0 ? isReply[i] === 2 : undefined;
    if (reply === true) {
      w.varint(FLOW.reply);
      w.varint(1);
    }
    if ((p & HAS_EVENT_TYPE) !== 0) {
      const at = w.open(FLOW.eventType);
      int32Field(w, tag(1, V), eventType[i]);
      int32Field(w, tag(2, V), eventSub[i]);
      w.close(at);
    }
    int32Field(w, FLOW.trafficDirection, direction[i]);
    int32Field(w, FLOW.traceObservationPoint, point[i]);
    int32Field(w, FLOW.dropReasonDesc, dropReason[i]);
    if (reply !== undefined) {
      const at = w.open(FLOW.isReply);
      if (reply) {
        w.varint(tag(1, V));
        w.varint(1);
      }
      w.close(at);
    }
    if ((p & HAS_INTERFACE) !== 0) {
      const at = w.open(FLOW.interface);
      uint32Field(w, tag(1, V), ifIndex[i]);
      w.raw(ifName.entries[ifName.index[i]]);
      w.close(at);
    }
    w.raw(egressDenied.entries[egressDenied.index[i]]);
    w.raw(ingressDenied.entries[ingressDenied.index[i]]);
    if (path) w.raw(path);
    if ((p & HAS_GEOFENCE) !== 0) {
      const at = w.open(FLOW.geofence);
      int32Field(w, tag(1, V), fenceVerdict[i]);
      w.raw(fenceName.entries[fenceName.index[i]]);
      w.raw(fenceNamespace.entries[fenceNamespace.index[i]]);
      int32Field(w, tag(4, V), fenceMode[i]);
      w.raw(fenceReason.entries[fenceReason.index[i]]);
      // Optional: a hop of 0 is written, -1 (none) is not.
      if (fenceHop[i] >= 0) {
        w.varint(tag(6, V));
        w.varint(fenceHop[i]);
      }
      w.raw(fenceIsdAs.entries[fenceIsdAs.index[i]]);
      w.raw(fenceCountry.entries[fenceCountry.index[i]]);
      w.raw(fenceSid.entries[fenceSid.index[i]]);
      w.close(at);
    }
    if ((p & HAS_IDENTITY) !== 0) {
      const at = w.open(FLOW.identityExtension);
      uint32Field(w, tag(1, V), idExt[i]);
      w.raw(idCluster.entries[idCluster.index[i]]);
      uint32Field(w, tag(3, V), idOption[i]);
      if (idAuth[i] === 1) {
        w.varint(tag(4, V));
        w.varint(1);
      }
      int32Field(w, tag(5, V), idCheck[i]);
      w.close(at);
    }
    int32Field(w, FLOW.scionObservationPoint, scionPoint[i]);
    if ((p & HAS_METER) !== 0) {
      const at = w.open(FLOW.meter);
      u64Field(w, METER.packets, packets, i);
      u64Field(w, METER.bytes, bytes, i);
      u64Field(w, METER.droppedPackets, dropped, i);
      if ((p & HAS_FIRST_SEEN) !== 0) timestamp(w, METER.firstSeen, firstS, firstN, i);
      if ((p & HAS_LAST_SEEN) !== 0) timestamp(w, METER.lastSeen, lastS, lastN, i);
      w.raw(dropName.entries[dropName.index[i]]);
      u64Field(w, METER.podBytes, podBytes, i);
      u64Field(w, METER.wireBytes, wireBytes, i);
      uint32Field(w, METER.foldedReports, folded[i]);
      u64Field(w, METER.lostPackets, lostPackets, i);
      u64Field(w, METER.lostBytes, lostBytes, i);
      w.close(at);
    }
    int32Field(w, FLOW.pathType, pathType[i]);
    w.raw(srv6.entries[srv6.index[i]]);
    w.close(flow);

    w.raw(responseNode.entries[responseNode.index[i]]);
    timestamp(w, RESPONSE_TIME, timeS, timeN, i);
    messages[i] = w.end();
  }

  const timeBig = bigs(b, 'time_s');
  return {
    messages,
    uuid: (i) => uuidText(uuids, i * 16),
    timeNs: (i) => timeBig[i] * 1_000_000_000n + BigInt(timeN[i]),
  };
}

/** TCPFlags: FIN 1, SYN 2, RST 3, PSH 4, ACK 5, URG 6, ECE 7, CWR 8, NS 9 (bit k is field k + 1). */
function tcpFlags(w: ProtoWriter, bits: number): void {
  const at = w.open(TCP_FLAGS);
  for (let k = 0; k < 9; k++) {
    if ((bits & (1 << k)) !== 0) {
      w.varint(tag(k + 1, V));
      w.varint(1);
    }
  }
  w.close(at);
}
