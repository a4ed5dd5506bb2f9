// The `flows` table's columns, one typed column per field the collector sets (schema.ts says
// what each holds for dashboards). No copy of the whole flow is stored: GetFlows rebuilds
// flow.Flow from these columns, the endpoint's labels from `workloads` and the SCION path
// from `path_headers`, both by reference. The insert writer and the reader both follow this
// list, in this order.
import {
  DropReason,
  FlowType,
  GeofenceMode,
  GeofenceVerdict,
  IdentityCheck,
  ScionObservationPoint,
  Srv6HmacStatus,
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
  WanPathType,
} from '../../proto/gen/flow/flow';

const LC = 'LowCardinality(String)';

/** A ts-proto enum as a ClickHouse Enum of its names, so SQL compares names ('DROPPED') and stores a number. */
export function enumType(bits: 8 | 16, e: Record<string, string | number>): string {
  const entries = Object.entries(e).filter(([k, v]) => typeof v === 'number' && v >= 0 && k !== 'UNRECOGNIZED');
  return `Enum${bits}(${entries.map(([k, v]) => `'${k}' = ${v}`).join(', ')})`;
}

/** Layer4 protocol names as before ('' when the flow has none), numbered as the l4_protocol column (columns/layout.ts L4). */
const PROTOCOL_TYPE = "Enum8('' = 0, 'TCP' = 1, 'UDP' = 2, 'ICMPv4' = 3, 'ICMPv6' = 4, 'SCTP' = 5)";

export interface StoredColumn {
  name: string;
  type: string;
  codec?: string;
}

const TIME_CODEC = 'CODEC(Delta, ZSTD(1))';
const COUNT_CODEC = 'CODEC(T64, ZSTD(1))';
/** Constant within a batch, one step between batches: DoubleDelta leaves next to nothing. */
const STEP_CODEC = 'CODEC(DoubleDelta, ZSTD(1))';
/**
 * The uuid's first half: a UUIDv7's Unix milliseconds and counter (collector/flow_uuid.ts),
 * rising with the rows of one collector, so neighbours differ by little (a random v4 half
 * stays 8 bytes). Its second half, the collector's rand_b, repeats per node.
 */
const UUID_HI_CODEC = 'CODEC(Delta, ZSTD(1))';
/** Small numbers in wide columns: T64 drops the unused high bits first. */
const NARROW_CODEC = 'CODEC(T64, ZSTD(1))';

/**
 * A key or number from a few thousand values in no order (rows are in time order): as a
 * dictionary and a small index per row it takes half the bytes of the plain 8-byte value
 * (1.6 against 3.5 B a row for path_key on the relay bench corpus). ClickHouse calls
 * LowCardinality of a number "suspicious", so tables with these columns are created and
 * altered with SUSPICIOUS_LOW_CARDINALITY; Native blocks carry and read them as the plain
 * number (nativeType, and the readers' CAST).
 */
const KEY = 'LowCardinality(UInt64)';

/** The setting that lets a statement create a LowCardinality number column (KEY). */
export const SUSPICIOUS_LOW_CARDINALITY = 'allow_suspicious_low_cardinality_types = 1';

/** The type a Native block carries for a column: the number itself for a LowCardinality number. */
export function nativeType(type: string): string {
  return /^LowCardinality\((U?Int\d+)\)$/.exec(type)?.[1] ?? type;
}

/**
 * The endpoint columns of one side: a reference into `workloads`, and what filters and
 * dashboards select on. The pod name and identity are the workloads row's alone (filters
 * look them up there by key).
 */
function endpointColumns(side: 'source' | 'destination'): StoredColumn[] {
  return [
    { name: `${side}_workload`, type: KEY },
    { name: `${side}_cluster`, type: LC },
    { name: `${side}_namespace`, type: LC },
    { name: `${side}_app`, type: LC },
  ];
}

export const STORED_FLOW_COLUMNS: readonly StoredColumn[] = [
  { name: 'time', type: "DateTime64(9, 'UTC')", codec: TIME_CODEC },
  { name: 'received_at', type: "DateTime('UTC')", codec: TIME_CODEC },
  { name: 'session_id', type: LC },
  { name: 'sequence', type: 'UInt64', codec: STEP_CODEC },
  { name: 'batch_index', type: 'UInt32', codec: TIME_CODEC },
  { name: 'node_name', type: LC },
  { name: 'uuid_hi', type: 'UInt64', codec: UUID_HI_CODEC },
  { name: 'uuid_lo', type: 'UInt64' },
  { name: 'present', type: 'UInt16', codec: NARROW_CODEC },
  { name: 'verdict', type: enumType(8, Verdict) },
  { name: 'drop_reason', type: enumType(16, DropReason) },
  { name: 'drop_reason_code', type: 'UInt16' },
  { name: 'flow_type', type: enumType(8, FlowType) },
  { name: 'traffic_direction', type: enumType(8, TrafficDirection) },
  { name: 'observation_point', type: enumType(8, TraceObservationPoint) },
  { name: 'scion_observation_point', type: enumType(8, ScionObservationPoint) },
  { name: 'is_reply', type: 'UInt8', codec: NARROW_CODEC },
  { name: 'event_type', type: 'UInt8' },
  { name: 'event_sub_type', type: 'UInt8' },
  { name: 'emitter_name', type: LC },
  { name: 'emitter_version', type: LC },
  { name: 'interface_index', type: 'UInt32', codec: NARROW_CODEC },
  { name: 'interface_name', type: LC },
  { name: 'ip_version', type: 'UInt8' },
  { name: 'source_ip', type: LC },
  { name: 'destination_ip', type: LC },
  { name: 'protocol', type: PROTOCOL_TYPE },
  { name: 'source_port', type: 'UInt16' },
  { name: 'destination_port', type: 'UInt16' },
  { name: 'tcp_flags', type: 'UInt16', codec: NARROW_CODEC },
  { name: 'icmp_type', type: 'UInt8' },
  { name: 'icmp_code', type: 'UInt8' },
  ...endpointColumns('source'),
  ...endpointColumns('destination'),
  { name: 'path_key', type: KEY },
  { name: 'src_ia', type: LC },
  { name: 'dst_ia', type: LC },
  { name: 'path_fingerprint', type: LC },
  { name: 'path_known', type: 'UInt8' },
  { name: 'identity_ext', type: 'LowCardinality(UInt32)' },
  { name: 'identity_cluster', type: LC },
  { name: 'identity_option_type', type: 'UInt8' },
  { name: 'identity_authenticated', type: 'UInt8' },
  { name: 'identity_check', type: enumType(8, IdentityCheck) },
  { name: 'geofence', type: LC },
  { name: 'packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'bytes_xor', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'dropped_packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'pod_bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'wire_over_pod', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'lost_packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'lost_bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'first_seen_gap_ns', type: 'Int64', codec: NARROW_CODEC },
  { name: 'last_seen_gap_ns', type: 'Int64', codec: NARROW_CODEC },
  { name: 'drop_reason_name', type: LC },
  { name: 'folded_reports', type: 'UInt32' },
  { name: 'ingress_denied_by', type: LC },
  { name: 'egress_denied_by', type: LC },
  { name: 'path_type', type: enumType(8, WanPathType) },
  // The SRv6 path as the relay rebuilt it (Srv6Path's protobuf encoding, base64; "" without
  // one): a batch's flows share a few segment lists, so the dictionary holds each once. The
  // columns after it are its fields for SQL: segments and their nodes' countries in travel
  // order, comma-separated and aligned ("" where a node declares no country).
  { name: 'srv6_path', type: LC },
  { name: 'srv6_segments', type: LC },
  { name: 'srv6_countries', type: LC },
  { name: 'srv6_vrf', type: 'UInt32', codec: NARROW_CODEC },
  { name: 'srv6_tenant', type: LC },
  { name: 'srv6_fingerprint', type: LC },
  { name: 'srv6_hmac', type: enumType(8, Srv6HmacStatus) },
];

/**
 * Fields the flows table holds in another form, read back under their own names by ALIAS
 * columns. The uuid as its two 64-bit halves (UUID_HI_CODEC; 16 -> 0.1 B a row for the
 * collector's UUIDv7 on the relay bench corpus, a random v4 uuid still takes 16). The
 * geofence judgement as one text (GEOFENCE_FIELDS). Meter fields as their difference from
 * a neighbour: the datapath's first and last packet as nanoseconds before the flow's time
 * (last_seen is the time itself; first_seen a few seconds before), wire bytes as the SCION
 * overhead over the pod bytes, and bytes as its difference (XOR) from the pod or wire bytes
 * it equals. The differences are small or zero
 * where the raw values are not: 5.3 -> 4.2 B a row for first_seen, 2.6 -> 0 for bytes on
 * the relay bench corpus. Every difference wraps around 64 bits both ways and the halves
 * are the uuid's bits, so any value comes back as sent.
 */
export interface AliasColumn {
  name: string;
  type: string;
  /** SQL over the stored columns (and the aliases before it). */
  expression: string;
  /**
   * The stored columns it is read from, in table order, each with the SQL that computes it
   * over a store where `name` is itself stored (schema.ts upgradeStatements).
   */
  storedAs: readonly { name: string; from: string }[];
}

/**
 * A flow's geofence judgement, read through ALIAS columns of these names and types, is
 * stored as one LowCardinality text: the fields in this order, joined by NUL (enums by
 * name, the hop as a number, -1 for none), the fields of no judgement where the flow has
 * none. All follow from the judgement, which a batch decides once per (source, destination,
 * path, fence generation): in time order each column of its own cost what a row's index into
 * the judgements costs, eight times over (2.6 B a flow on the relay bench corpus), one
 * column costs it once. The aliases pick their field with a regular expression the engine
 * runs on each part's few distinct judgements, not on every row.
 */
export const GEOFENCE_FIELDS: readonly { name: string; type: string }[] = [
  { name: 'geofence_verdict', type: enumType(8, GeofenceVerdict) },
  { name: 'geofence_name', type: LC },
  { name: 'geofence_namespace', type: LC },
  { name: 'geofence_mode', type: enumType(8, GeofenceMode) },
  { name: 'geofence_reason', type: LC },
  { name: 'geofence_offending_hop', type: 'Int16' },
  { name: 'geofence_offending_isd_as', type: LC },
  { name: 'geofence_offending_country', type: LC },
  { name: 'geofence_offending_sid', type: LC },
];

/** The fields of the first release: a store that kept them as columns is upgraded from these; a judgement text without the later ones reads them as "". */
const FIRST_GEOFENCE_FIELDS = GEOFENCE_FIELDS.slice(0, 8);

/** The separator of the geofence column's fields; the writer refuses a judgement whose text holds it (FLOW_VALUE). */
export const GEOFENCE_SEPARATOR = '\0';

/** The i-th field of the geofence column (RE2 sees \x00 for NUL). */
function geofenceField(i: number): string {
  return `extract(geofence, '^(?:[^\\\\x00]*\\\\x00){${i}}([^\\\\x00]*)')`;
}

function geofenceAlias(f: { name: string; type: string }, i: number): AliasColumn {
  const field = geofenceField(i);
  const expression = f.type.startsWith('Enum') ? `CAST(${field} AS ${f.type})` : f.type === 'Int16' ? `toInt16(${field})` : field;
  const from = `concat(${FIRST_GEOFENCE_FIELDS.map((g) => (g.type === LC ? g.name : `toString(${g.name})`)).join(", '\\0', ")})`;
  return { name: f.name, type: f.type, expression, storedAs: [{ name: 'geofence', from }] };
}

const before = (gap: string) => `fromUnixTimestamp64Nano(toUnixTimestamp64Nano(time) - ${gap}, 'UTC')`;

export const FLOW_ALIASES: readonly AliasColumn[] = [
  {
    // The engine's UUID is a UInt128 whose low 64 bits are the uuid's first half.
    name: 'uuid', type: 'UUID', expression: "reinterpret(bitOr(bitShiftLeft(toUInt128(uuid_lo), 64), toUInt128(uuid_hi)), 'UUID')",
    storedAs: [{ name: 'uuid_hi', from: 'toUInt64(bitShiftRight(toUInt128(uuid), 64))' }, { name: 'uuid_lo', from: 'toUInt64(toUInt128(uuid))' }],
  },
  ...GEOFENCE_FIELDS.map(geofenceAlias),
  { name: 'wire_bytes', type: 'UInt64', expression: 'pod_bytes + wire_over_pod', storedAs: [{ name: 'wire_over_pod', from: 'wire_bytes - pod_bytes' }] },
  {
    name: 'bytes', type: 'UInt64', expression: 'bitXor(bytes_xor, if(pod_bytes != 0, pod_bytes, wire_bytes))',
    storedAs: [{ name: 'bytes_xor', from: 'bitXor(bytes, if(pod_bytes != 0, pod_bytes, wire_bytes))' }],
  },
  {
    name: 'first_seen', type: "DateTime64(9, 'UTC')", expression: before('first_seen_gap_ns'),
    storedAs: [{ name: 'first_seen_gap_ns', from: 'toUnixTimestamp64Nano(time) - toUnixTimestamp64Nano(first_seen)' }],
  },
  {
    name: 'last_seen', type: "DateTime64(9, 'UTC')", expression: before('last_seen_gap_ns'),
    storedAs: [{ name: 'last_seen_gap_ns', from: 'toUnixTimestamp64Nano(time) - toUnixTimestamp64Nano(last_seen)' }],
  },
];

/** A SELECT * REPLACE list giving stored flows random (v4) uuids, as older collectors sent them: the bench's comparison. */
export const UUID_V4_REPLACE = 'toUInt64(bitShiftRight(toUInt128(generateUUIDv4(1)), 64)) AS uuid_hi, toUInt64(toUInt128(generateUUIDv4(2))) AS uuid_lo';
