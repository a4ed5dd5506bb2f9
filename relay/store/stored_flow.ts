// flow.Flow from the flows table's columns (flow_columns.ts), a page of rows at a time: what
// FlowStore.query gives, and what GetFlows falls back to when a filter or field mask needs a
// Flow (otherwise it sends response_wire.ts's bytes; attestations write evidence from the
// columns, attest/column_rows.ts). Each field comes back as the collector sent it (the
// mapping in flow_columns.ts, proved by the store's round-trip test); the endpoints and the
// SCION path come from `workloads` and `path_headers` by key, resolved by the caller; the
// SRv6 path from its own column (srv6_path).
//
// Rebuilt flows share their Endpoint and ScionPath objects with every other flow of the
// same workload or path, and one frozen empty array for the repeated fields no column
// holds: readers treat flows as read-only (a push into a shared array throws).
import {
  Endpoint, Flow, ScionPath, Srv6Path, type Geofence, type Layer4, type Policy, type TCPFlags,
} from '../../proto/gen/flow/flow';
import { L4, PRESENT } from '../../columns/layout';
import { parsePolicyRefs } from '../../columns/policy_refs';
import { NativeFormatError, type BigArray, type NativeBlock, type NativeColumn, type NumberArray } from './native_reader';

/** A DateTime64(9) as a Timestamp's whole seconds (rounded down, also before 1970) and nanoseconds. */
function secondsAndNanos(column: string): string[] {
  const ns = `toUnixTimestamp64Nano(${column})`;
  const s = `${column}_s`;
  return [
    `intDiv(${ns}, 1000000000) - if(${ns} % 1000000000 < 0, 1, 0) AS ${s}`,
    `toUInt32(${ns} - ${s} * 1000000000) AS ${column}_ns`,
  ];
}

/** A LowCardinality number column (flow_columns.ts KEY) as the plain number a page carries. */
const plain = (column: string, type: string) => `CAST(${column} AS ${type}) AS ${column}`;

/**
 * The SELECT list of a page: the stored columns a Flow is rebuilt from, times split into
 * whole seconds and nanoseconds by the engine, and the cursor of keyset paging.
 */
export const PAGE_COLUMNS = [
  ...secondsAndNanos('time'),
  'session_id', 'sequence', 'batch_index', 'node_name', 'uuid', 'present', 'verdict', 'drop_reason',
  'drop_reason_code', 'flow_type', 'traffic_direction', 'observation_point', 'scion_observation_point',
  'is_reply', 'event_type', 'event_sub_type', 'emitter_name', 'emitter_version', 'interface_index',
  'interface_name', 'ip_version', 'source_ip', 'destination_ip', 'protocol', 'source_port',
  'destination_port', 'tcp_flags', 'icmp_type', 'icmp_code',
  plain('source_workload', 'UInt64'), 'source_cluster', 'source_namespace',
  plain('destination_workload', 'UInt64'), 'destination_cluster', 'destination_namespace',
  plain('path_key', 'UInt64'), 'src_ia', 'dst_ia', 'path_fingerprint', 'path_known',
  plain('identity_ext', 'UInt32'), 'identity_cluster', 'identity_option_type', 'identity_authenticated', 'identity_check',
  'geofence_verdict', 'geofence_name', 'geofence_namespace', 'geofence_mode', 'geofence_reason',
  'geofence_offending_hop', 'geofence_offending_isd_as', 'geofence_offending_country', 'geofence_offending_sid',
  'packets', 'bytes', 'dropped_packets', 'pod_bytes', 'wire_bytes', 'lost_packets', 'lost_bytes',
  ...secondsAndNanos('first_seen'),
  ...secondsAndNanos('last_seen'),
  'drop_reason_name', 'folded_reports', 'ingress_denied_by', 'egress_denied_by', 'path_type', 'srv6_path',
].join(', ');

/** Where a page's rows stand in the table's sort order: the last one is where the next page starts. */
export interface Cursor {
  timeNs: string;
  sessionId: string;
  sequence: string;
  index: number;
}

/** Resolved references of one page: every key its rows hold, or undefined where the table had none. */
export interface PageRefs {
  endpoints: ReadonlyMap<bigint, Endpoint>;
  paths: ReadonlyMap<bigint, ScionPath>;
}

type Col = NativeColumn;

/** The repeated fields no column fills, one shared empty array instead of seven per flow. */
const NONE = Object.freeze([]) as never[];

// PRESENT's bits as plain constants: the loop below tests them for every row.
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
const UDP = L4.UDP;
const SCTP = L4.SCTP;
const ICMP4 = L4.ICMPv4;
const ICMP6 = L4.ICMPv6;

export function col(b: NativeBlock, name: string): Col {
  const c = b.columns.get(name);
  if (!c) throw new NativeFormatError(`page without column ${name}`);
  return c;
}

export function nums(b: NativeBlock, name: string): NumberArray {
  const c = col(b, name);
  if (c.kind !== 'number') throw new NativeFormatError(`column ${name} is not a number column`);
  return c.values;
}

export function bigs(b: NativeBlock, name: string): BigArray {
  const c = col(b, name);
  if (c.kind !== 'bigint') throw new NativeFormatError(`column ${name} is not a 64-bit column`);
  return c.values;
}

/** A 64-bit column as 32-bit halves: row i is low [2i], high [2i + 1] (little-endian). */
export function halves(b: NativeBlock, name: string): Uint32Array {
  const c = col(b, name);
  if (c.kind !== 'bigint') throw new NativeFormatError(`column ${name} is not a 64-bit column`);
  return new Uint32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2);
}

/** A LowCardinality column as a per-row accessor. */
export function texts(b: NativeBlock, name: string): (i: number) => string {
  const c = col(b, name);
  if (c.kind !== 'dict') throw new NativeFormatError(`column ${name} is not a LowCardinality column`);
  const { dict, index } = c;
  return (i) => dict[index[i]];
}

/** A policy-refs column (columns/policy_refs.ts), each dictionary entry parsed once. */
function policyLists(b: NativeBlock, name: string): (i: number) => Policy[] {
  const c = col(b, name);
  if (c.kind !== 'dict') throw new NativeFormatError(`column ${name} is not a LowCardinality column`);
  const lists = c.dict.map((s) => (s === '' ? NONE : parsePolicyRefs(s)));
  const { index } = c;
  return (i) => lists[index[i]];
}

/** The srv6_path column (flow_columns.ts), each dictionary entry decoded once and shared by its rows. */
export function srv6Paths(b: NativeBlock): (i: number) => Srv6Path | undefined {
  const c = col(b, 'srv6_path');
  if (c.kind !== 'dict') throw new NativeFormatError('column srv6_path is not a LowCardinality column');
  const paths = c.dict.map((s) => (s === '' ? undefined : Srv6Path.decode(Buffer.from(s, 'base64'))));
  const { index } = c;
  return (i) => paths[index[i]];
}

/** The uuid column's bytes: 16 per row. */
export function uuidBytes(b: NativeBlock): Uint8Array {
  const c = col(b, 'uuid');
  if (c.kind !== 'fixed') throw new NativeFormatError('column uuid is not a UUID column');
  return c.bytes;
}

/**
 * The flow columns every whole-flow reader takes as they are (numbers, enums, keys),
 * gathered once for the Flow builder here and the wire encoder (response_wire.ts).
 */
export function flowScalars(b: NativeBlock) {
  return {
    timeN: nums(b, 'time_ns'),
    uuids: uuidBytes(b),
    present: nums(b, 'present'),
    verdict: nums(b, 'verdict'),
    dropReason: nums(b, 'drop_reason'),
    dropCode: nums(b, 'drop_reason_code'),
    flowType: nums(b, 'flow_type'),
    direction: nums(b, 'traffic_direction'),
    point: nums(b, 'observation_point'),
    scionPoint: nums(b, 'scion_observation_point'),
    isReply: nums(b, 'is_reply'),
    eventType: nums(b, 'event_type'),
    eventSub: nums(b, 'event_sub_type'),
    ifIndex: nums(b, 'interface_index'),
    ipVersion: nums(b, 'ip_version'),
    proto: nums(b, 'protocol'),
    sport: nums(b, 'source_port'),
    dport: nums(b, 'destination_port'),
    flags: nums(b, 'tcp_flags'),
    icmpType: nums(b, 'icmp_type'),
    icmpCode: nums(b, 'icmp_code'),
    srcKey: bigs(b, 'source_workload'),
    dstKey: bigs(b, 'destination_workload'),
    pathKey: bigs(b, 'path_key'),
    idExt: nums(b, 'identity_ext'),
    idOption: nums(b, 'identity_option_type'),
    idAuth: nums(b, 'identity_authenticated'),
    idCheck: nums(b, 'identity_check'),
    firstN: nums(b, 'first_seen_ns'),
    lastN: nums(b, 'last_seen_ns'),
    folded: nums(b, 'folded_reports'),
    pathType: nums(b, 'path_type'),
  };
}

/** Every workload and path key of a block, for the caller to resolve before rebuilding. */
export function blockKeys(b: NativeBlock): { endpoints: BigArray[]; paths: BigArray } {
  return { endpoints: [bigs(b, 'source_workload'), bigs(b, 'destination_workload')], paths: bigs(b, 'path_key') };
}

export function cursorOf(b: NativeBlock, i: number): Cursor {
  return {
    timeNs: (bigs(b, 'time_s')[i] * 1_000_000_000n + BigInt(nums(b, 'time_ns')[i])).toString(),
    sessionId: texts(b, 'session_id')(i),
    sequence: bigs(b, 'sequence')[i].toString(),
    index: nums(b, 'batch_index')[i],
  };
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Which byte of the engine's layout each pair of hex digits shows, -1 for a dash. */
const UUID_ORDER = [7, 6, 5, 4, -1, 3, 2, -1, 1, 0, -1, 15, 14, -1, 13, 12, 11, 10, 9, 8];
const UUID_TEXT = Buffer.alloc(36);

/**
 * The engine's UUID layout (two little-endian halves) as RFC 4122 text. Written into a
 * scratch buffer and read out as one flat string: joined from 20 pieces, it would be a
 * string of 20 parts that every later use has to flatten first.
 */
export function uuidText(u: Uint8Array, at: number): string {
  let o = 0;
  for (const k of UUID_ORDER) {
    if (k < 0) {
      UUID_TEXT[o++] = 45;
      continue;
    }
    const v = u[at + k];
    UUID_TEXT[o++] = HEX_DIGITS[v >> 4];
    UUID_TEXT[o++] = HEX_DIGITS[v & 15];
  }
  return UUID_TEXT.toString('latin1', 0, 36);
}

function tcpFlags(bits: number): TCPFlags {
  return {
    FIN: (bits & 1) !== 0,
    SYN: (bits & 2) !== 0,
    RST: (bits & 4) !== 0,
    PSH: (bits & 8) !== 0,
    ACK: (bits & 16) !== 0,
    URG: (bits & 32) !== 0,
    ECE: (bits & 64) !== 0,
    CWR: (bits & 128) !== 0,
    NS: (bits & 256) !== 0,
  };
}

function layer4(proto: number, sport: number, dport: number, flags: number, type: number, code: number): Layer4 {
  switch (proto) {
    case TCP:
      return { protocol: { $case: 'TCP', value: { sourcePort: sport, destinationPort: dport, flags: tcpFlags(flags) } } };
    case UDP:
      return { protocol: { $case: 'UDP', value: { sourcePort: sport, destinationPort: dport } } };
    case SCTP:
      return { protocol: { $case: 'SCTP', value: { sourcePort: sport, destinationPort: dport } } };
    case ICMP4:
      return { protocol: { $case: 'ICMPv4', value: { type, code } } };
    case ICMP6:
      return { protocol: { $case: 'ICMPv6', value: { type, code } } };
    default:
      return { protocol: undefined };
  }
}

/**
 * The Flow of a block's row i, one at a time so that a flow handed on dies young. `refs`
 * must hold every key of the block that its table had; a key it lacks (its row expired
 * before the flow's) gives the endpoint or path the flow's own columns describe.
 */
export function blockFlows(b: NativeBlock, refs: PageRefs): (i: number) => Flow {
  const { timeN, uuids, present, verdict, dropReason, dropCode, flowType, direction, point, scionPoint, isReply, eventType, eventSub, ifIndex, ipVersion, proto, sport, dport, flags, icmpType, icmpCode, srcKey, dstKey, pathKey, idExt, idOption, idAuth, idCheck, firstN, lastN, folded, pathType } = flowScalars(b);
  const timeS = bigs(b, 'time_s');
  const srv6Of = srv6Paths(b);
  const node = texts(b, 'node_name');
  const emitterName = texts(b, 'emitter_name');
  const emitterVersion = texts(b, 'emitter_version');
  const ifName = texts(b, 'interface_name');
  const srcIp = texts(b, 'source_ip');
  const dstIp = texts(b, 'destination_ip');
  const idCluster = texts(b, 'identity_cluster');
  const packets = bigs(b, 'packets');
  const bytes = bigs(b, 'bytes');
  const dropped = bigs(b, 'dropped_packets');
  const podBytes = bigs(b, 'pod_bytes');
  const wireBytes = bigs(b, 'wire_bytes');
  const lostPackets = bigs(b, 'lost_packets');
  const lostBytes = bigs(b, 'lost_bytes');
  const firstS = bigs(b, 'first_seen_s');
  const lastS = bigs(b, 'last_seen_s');
  const dropName = texts(b, 'drop_reason_name');
  const ingressDenied = policyLists(b, 'ingress_denied_by');
  const egressDenied = policyLists(b, 'egress_denied_by');
  const endpointOf = missingEndpoint(b);
  const pathOf = missingPath(b);
  const fenceOf = geofenceReader(b);

  return (i) => {
    const p = present[i];
    const sk = srcKey[i];
    const dk = dstKey[i];
    const pk = pathKey[i];
    const reply = (p & HAS_IS_REPLY) !== 0 ? isReply[i] === 2 : undefined;
    return {
      time: { seconds: timeS[i], nanos: timeN[i] },
      uuid: uuidText(uuids, i * 16),
      emitter: (p & HAS_EMITTER) !== 0 ? { name: emitterName(i), version: emitterVersion(i) } : undefined,
      verdict: verdict[i],
      dropReason: dropCode[i],
      authType: 0,
      ethernet: undefined,
      IP: (p & HAS_IP) !== 0
        ? { source: srcIp(i), sourceXlated: '', destination: dstIp(i), ipVersion: ipVersion[i], encrypted: false }
        : undefined,
      l4: (p & HAS_L4) !== 0 ? layer4(proto[i], sport[i], dport[i], flags[i], icmpType[i], icmpCode[i]) : undefined,
      tunnel: undefined,
      source: sk === 0n ? undefined : (refs.endpoints.get(sk) ?? endpointOf('source', i)),
      destination: dk === 0n ? undefined : (refs.endpoints.get(dk) ?? endpointOf('destination', i)),
      Type: flowType[i],
      nodeName: node(i),
      nodeLabels: NONE,
      sourceNames: NONE,
      destinationNames: NONE,
      l7: undefined,
      reply: reply === true,
      eventType: (p & HAS_EVENT_TYPE) !== 0 ? { type: eventType[i], subType: eventSub[i] } : undefined,
      sourceService: undefined,
      destinationService: undefined,
      trafficDirection: direction[i],
      policyMatchType: 0,
      traceObservationPoint: point[i],
      traceReason: 0,
      file: undefined,
      ipTraceId: undefined,
      dropReasonDesc: dropReason[i],
      isReply: reply,
      debugCapturePoint: 0,
      interface: (p & HAS_INTERFACE) !== 0 ? { index: ifIndex[i], name: ifName(i) } : undefined,
      proxyPort: 0,
      traceContext: undefined,
      sockXlatePoint: 0,
      socketCookie: 0n,
      cgroupId: 0n,
      Summary: '',
      extensions: undefined,
      egressAllowedBy: NONE,
      ingressAllowedBy: NONE,
      egressDeniedBy: egressDenied(i),
      ingressDeniedBy: ingressDenied(i),
      policyLog: NONE,
      aggregate: undefined,
      scionPath: pk === 0n ? undefined : (refs.paths.get(pk) ?? pathOf(i)),
      pathType: pathType[i],
      srv6Path: srv6Of(i),
      geofence: (p & HAS_GEOFENCE) !== 0 ? fenceOf(i) : undefined,
      identityExtension: (p & HAS_IDENTITY) !== 0
        ? { identity: idExt[i], clusterName: idCluster(i), optionType: idOption[i], authenticated: idAuth[i] === 1, check: idCheck[i] }
        : undefined,
      scionObservationPoint: scionPoint[i],
      meter: (p & HAS_METER) !== 0
        ? {
          packets: packets[i],
          bytes: bytes[i],
          droppedPackets: dropped[i],
          firstSeen: (p & HAS_FIRST_SEEN) !== 0 ? { seconds: firstS[i], nanos: firstN[i] } : undefined,
          lastSeen: (p & HAS_LAST_SEEN) !== 0 ? { seconds: lastS[i], nanos: lastN[i] } : undefined,
          dropReasonName: dropName(i),
          podBytes: podBytes[i],
          wireBytes: wireBytes[i],
          foldedReports: folded[i],
          lostPackets: lostPackets[i],
          lostBytes: lostBytes[i],
        }
        : undefined,
    };
  };
}

function geofenceReader(b: NativeBlock): (i: number) => Geofence {
  const verdict = nums(b, 'geofence_verdict');
  const name = texts(b, 'geofence_name');
  const namespace = texts(b, 'geofence_namespace');
  const mode = nums(b, 'geofence_mode');
  const reason = texts(b, 'geofence_reason');
  const hop = nums(b, 'geofence_offending_hop');
  const isdAs = texts(b, 'geofence_offending_isd_as');
  const country = texts(b, 'geofence_offending_country');
  const sid = texts(b, 'geofence_offending_sid');
  return (i) => ({
    verdict: verdict[i],
    name: name(i),
    namespace: namespace(i),
    mode: mode[i],
    reason: reason(i),
    offendingHop: hop[i] < 0 ? undefined : hop[i],
    offendingIsdAs: isdAs(i),
    offendingCountry: country(i),
    offendingSid: sid(i),
  });
}

/**
 * An endpoint whose workloads row is gone: what the flow's own columns say of it, its
 * cluster and namespace (no pod name, identity or labels: those only the row holds).
 */
export function missingEndpoint(b: NativeBlock): (side: 'source' | 'destination', i: number) => Endpoint {
  const sides = {
    source: ['source_cluster', 'source_namespace'],
    destination: ['destination_cluster', 'destination_namespace'],
  } as const;
  return (side, i) => {
    const [cluster, namespace] = sides[side];
    return Endpoint.fromPartial({ clusterName: texts(b, cluster)(i), namespace: texts(b, namespace)(i) });
  };
}

/** A path whose path_headers row is gone: its ends and fingerprint from the flow's columns (no hops or latency). */
export function missingPath(b: NativeBlock): (i: number) => ScionPath {
  return (i) => ScionPath.fromPartial({
    srcIa: texts(b, 'src_ia')(i),
    dstIa: texts(b, 'dst_ia')(i),
    fingerprint: texts(b, 'path_fingerprint')(i),
    knownToControlPlane: nums(b, 'path_known')[i] === 1,
  });
}
