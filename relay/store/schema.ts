// The flow store's tables. Dashboards query these with SQL, so this comment is their
// reference. Every table lives in one database (default `cillion`); all times are UTC.
//
// flows — one row per stored flow; the columns and their order are STORED_FLOW_COLUMNS in
//   flow_columns.ts. Ordered by (time, session_id, sequence, batch_index): "the last N
//   flows" reads backwards in key order and stops early.
//   time                 DateTime64(9)  when the datapath saw the packet (Flow.time, ns)
//   received_at          DateTime       when the relay stored the batch; partition and TTL key,
//                                       equal for every row of a batch so that one batch is one
//                                       part and therefore all-or-nothing
//   session_id, sequence                the collector's export session and batch number
//   batch_index          UInt32         position of the flow inside the batch as sent
//   node_name            LowCardinality the node that captured the flow
//   uuid                 UUID           (toString(uuid) for the text form), an ALIAS of the
//                                       stored halves uuid_hi, uuid_lo UInt64 (FLOW_ALIASES)
//   present              UInt16         which optional parts the flow has (columns/layout.ts
//                                       PRESENT: 1 IP, 2 l4, 4 meter, 8 identity extension, 16
//                                       emitter, 32 interface, 64 event type, 128 is_reply, 256
//                                       first_seen, 512 last_seen, 1024 geofence verdict)
//   verdict, drop_reason, flow_type, traffic_direction, observation_point,
//   scion_observation_point, identity_check, geofence_verdict, geofence_mode
//                        Enum           Hubble/Cillion enum names: compare as text
//                                       (verdict = 'DROPPED'); the value 0 name (e.g.
//                                       'GEOFENCE_VERDICT_UNKNOWN') where unset
//   drop_reason_code     UInt16         the deprecated numeric Flow.drop_reason
//   is_reply             UInt8          0 unset, 1 false, 2 true
//   event_type, event_sub_type UInt8, emitter_name / emitter_version / interface_name
//                        LowCardinality, interface_index UInt32
//   ip_version UInt8, source_ip / destination_ip LowCardinality, protocol Enum8 ('' TCP UDP
//   ICMPv4 ICMPv6 SCTP), source_port / destination_port / tcp_flags UInt16 (0 without
//   ports), icmp_type / icmp_code UInt8
//   source_* / destination_*: workload LowCardinality(UInt64) (key into `workloads`, 0
//                        without an endpoint), cluster, namespace, app (value of the app,
//                        app.kubernetes.io/name or k8s-app label, "" when none)
//                        LowCardinality. The pod name, identity and labels are the
//                        workloads row's: join on the key (workloads.pod_name, .identity)
//   path_key             LowCardinality(UInt64) key into `path_headers` (0 without a path)
//   src_ia / dst_ia      LowCardinality ISD-AS text ("1-ff00:0:110") of the SCION path ends
//   path_fingerprint     LowCardinality hex fingerprint (join with paths.fingerprint)
//   path_known           UInt8          1 when the hop fields matched control-plane segments;
//                                       the path's latency is path_headers.latency_ns
//   identity_ext LowCardinality(UInt32), identity_cluster LowCardinality, identity_option_type UInt8,
//   identity_authenticated UInt8: the carried security identity
//   geofence_name, geofence_namespace, geofence_reason, geofence_offending_isd_as,
//   geofence_offending_country, geofence_offending_sid (an SRv6 segment)  LowCardinality ("" without
//                        a verdict); geofence_offending_hop
//                        Int16 (-1 when none). These and geofence_verdict, geofence_mode are
//                        ALIAS columns of the stored `geofence` LowCardinality text, the
//                        judgement's fields joined by NUL (flow_columns.ts GEOFENCE_FIELDS)
//   packets, bytes, dropped_packets  UInt64  the flow report's meter (Flow.meter) for the interval
//                        it covers: bytes are pod bytes where the flow has a pod packet (the same
//                        figure at both edges), wire bytes otherwise
//   pod_bytes, wire_bytes  UInt64      the pod's frames (IPv4 packet + 14 bytes of Ethernet) and the
//                        SCION frames on the underlay, both always filled where known
//   lost_packets, lost_bytes UInt64    what the collector counted but lost of this flow (a shed
//                        report): the flow's stored packets are short by this much; 0 almost always
//   first_seen, last_seen DateTime64(9), drop_reason_name LowCardinality, folded_reports UInt32
//   ingress_denied_by, egress_denied_by LowCardinality: the CillionNetworkPolicy that denied a
//                        policy drop, "kind/namespace/name" (columns/policy_refs.ts), "" for others
//   path_type            Enum8          'WAN_PATH_SCION', 'WAN_PATH_SRV6' or 'WAN_PATH_TYPE_UNKNOWN'
//   srv6_path            LowCardinality the SRv6 path as the relay rebuilt it from the SRH
//                                       (flow.Srv6Path, protobuf in base64; "" without one)
//   srv6_segments        LowCardinality its segments (SIDs, RFC 5952 text) in travel order,
//                                       comma-separated: splitByChar(',', srv6_segments)
//   srv6_countries       LowCardinality each segment's node country from the SID catalogue,
//                                       aligned with srv6_segments ("" where none is declared)
//   srv6_vrf UInt32, srv6_tenant LowCardinality  the tenant (VRF id, name) it delivers into
//   srv6_fingerprint     LowCardinality SHA-256 hex of the segment list (equal lists, equal text)
//   srv6_hmac            Enum8          the SRH HMAC TLV's status as the relay checked it
//                                       ('SRV6_HMAC_VERIFIED', 'SRV6_HMAC_ABSENT', ...)
//   bytes, wire_bytes, first_seen and last_seen are ALIAS columns (flow_columns.ts FLOW_ALIASES):
//   select them by name as any other; what is stored is bytes_xor, wire_over_pod,
//   first_seen_gap_ns and last_seen_gap_ns, their differences from pod bytes and time
//
// workloads — ReplacingMergeTree(last_seen) by key: one flow endpoint (flow.Endpoint) per key
//   (source_workload / destination_workload). Query with FINAL or any(): rows of one key are
//   equal but for last_seen.
//   key UInt64, ID UInt32, identity UInt32, cluster_name, namespace LowCardinality, pod_name
//   String, labels Array(String) ("k8s:app=web"), workloads Nested(name, kind), last_seen
//
// path_headers — ReplacingMergeTree(last_seen) by key: a SCION path as the relay rebuilt it
//   from its hop fields (flow.ScionPath), by path_key.
//   key UInt64, fingerprint String, type Enum8 (ScionPathType), src_ia, dst_ia String,
//   path_id UInt32, mtu UInt32, expiry Nullable(DateTime64(9)), latency_ns Nullable(UInt64),
//   known UInt8, raw String (the path header bytes), hops Nested(isd_as String,
//   ingress_interface, egress_interface UInt32, latitude, longitude Nullable(Float64) (NULL
//   without a declared location), address String, country String, latency_ns
//   Nullable(UInt64)): one array element per hop, source AS first; last_seen
//
// paths — ReplacingMergeTree(last_seen) by fingerprint: the path dimension. Query with FINAL
//   (or argMax by last_seen) for one row per fingerprint.
//   fingerprint, src_ia, dst_ia, hop_count, latency_ns Nullable(UInt64), mtu, known UInt8,
//   hops Nested(isd_as, ingress_interface, egress_interface, latitude, longitude, country,
//   latency_ns): one array element per hop, source AS first.
//
// last_seen of workloads, path_headers and paths: a stored flow used the row within the hour
//   before it (the relay rewrites a row in use at most hourly, which keeps it past the TTL of
//   the flows that reference it).
//
// flows_1m — SummingMergeTree: flow counts per minute (of the flows' time) by node_name,
//   source/destination namespace and app, path_fingerprint, src_ia, dst_ia, verdict,
//   geofence_verdict ("" without a verdict), geofence_name; measures flows, packets and bytes.
//   Always aggregate with sum(): rows for one key are merged lazily. The relay fills it once
//   a minute from the flows that arrived in the minute before last (by received_at; each
//   minute with its own deduplication token, so relays sharing a server, or one restarted,
//   never count a minute twice). A batch whose insert took over a minute to land can be left
//   out of the rollup, never counted in it twice; the newest two minutes are not in it yet.
//
// batch_marks — (node_name, session_id, sequence) of batches that carried no flows, so that
//   position() advances past them too. A session is (node_name, session_id): the node is the
//   one the collector's certificate names, so two nodes' sessions never share a position.
//
// node_counters — one row per batch a collector sent, heartbeats (sequence 0) and resent
//   duplicates included: its session's cumulative ExportCounters as of sent_at.
//   received_at DateTime64(3)  when the relay took the batch; partition and TTL key
//   node_name, cluster, session_id LowCardinality; sequence UInt64
//   ring_records, ring_reserve_failures, export_drops, decode_errors, flows_exported,
//   ring_reserve_failure_bytes, flow_table_evictions, reports_deferred, reports_carried,
//   reports_lost, packets_lost, bytes_lost, export_drop_packets, export_drop_bytes,
//   packets_exported  UInt64: ExportCounters (proto/export/v1/export.proto says each one's unit),
//                        cumulative since the session started, so a session's max() over a
//                        stretch of time is its count at the end of it, and the increase is
//                        that max less the one before
//   sent_at              DateTime64(3)  the collector's clock when it sent the batch
//
// flows_v1 — a store of the layout before typed columns (a `flow` blob column) is moved here
//   on upgrade, untouched, with its rollup view flows_1m_mv dropped (docs/relay.md: "Upgrading the
//   store"); flows_1m keeps its rows.
//
// TTL: flows, workloads, path_headers, paths, batch_marks, node_counters keep ttlDays after
// arrival (last use for the dimension tables); flows_1m keeps rollupTtlDays.
import { ScionPathType } from '../../proto/gen/flow/flow';
import { PRESENT } from '../../columns/layout';
import { FLOW_ALIASES, STORED_FLOW_COLUMNS, SUSPICIOUS_LOW_CARDINALITY, enumType, type AliasColumn } from './flow_columns';

const PRESENT_GEOFENCE = PRESENT.GEOFENCE;

export interface SchemaOptions {
  database: string;
  ttlDays: number;
  rollupTtlDays: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain SQL identifier`);
  return name;
}

const LC = 'LowCardinality(String)';

/** Answers position(): a session's highest sequence, by (node, session id). */
const NODE_SESSION_PROJECTION = 'node_session_position (SELECT node_name, session_id, max(sequence) GROUP BY node_name, session_id)';

/** node_counters columns holding ExportCounters, by column name, in insert order. */
export const NODE_COUNTER_VALUES = {
  ring_records: 'ringRecords',
  ring_reserve_failures: 'ringReserveFailures',
  export_drops: 'exportDrops',
  decode_errors: 'decodeErrors',
  flows_exported: 'flowsExported',
  ring_reserve_failure_bytes: 'ringReserveFailureBytes',
  flow_table_evictions: 'flowTableEvictions',
  reports_deferred: 'reportsDeferred',
  reports_carried: 'reportsCarried',
  reports_lost: 'reportsLost',
  packets_lost: 'packetsLost',
  bytes_lost: 'bytesLost',
  export_drop_packets: 'exportDropPackets',
  export_drop_bytes: 'exportDropBytes',
  packets_exported: 'packetsExported',
} as const;

/** Columns added after the first release, each after the column before it: an older store gets them by ALTER TABLE. */
const COUNTER_KEYS = Object.keys(NODE_COUNTER_VALUES);
const LATER_COUNTER_COLUMNS = COUNTER_KEYS.slice(5);
const columnBefore = (columns: readonly string[], c: string): string => columns[columns.indexOf(c) - 1];

export const NODE_COUNTER_COLUMNS = ['received_at', 'node_name', 'cluster', 'session_id', 'sequence', ...Object.keys(NODE_COUNTER_VALUES), 'sent_at'] as const;

/** `paths` columns in insert order (Native block: rows.ts pathsBlock). */
export const PATH_COLUMNS = [
  'fingerprint', 'src_ia', 'dst_ia', 'hop_count', 'latency_ns', 'mtu', 'known',
  'hops.isd_as', 'hops.ingress_interface', 'hops.egress_interface', 'hops.latitude',
  'hops.longitude', 'hops.country', 'hops.latency_ns', 'last_seen',
] as const;

export const SCION_PATH_TYPE = enumType(8, ScionPathType);

/**
 * Rows are in time order, so neighbours differ in most columns: ZSTD finds what repeats
 * (a few hundred pods, paths, identities) where the engine's default LZ4 does not.
 */
const DEFAULT_CODEC = 'CODEC(ZSTD(1))';

const columnDDL = (c: { name: string; type: string; codec?: string }): string => `${c.name} ${c.type} ${c.codec ?? DEFAULT_CODEC}`;
const aliasDDL = (a: AliasColumn): string => `${a.name} ${a.type} ALIAS ${a.expression}`;

/** The flows table's skip indexes (flowsColumnsDDL says why these); `column` may be an ALIAS. */
const FLOW_INDEXES: readonly { name: string; column: string; type: string }[] = [
  { name: 'idx_received_at', column: 'received_at', type: 'minmax GRANULARITY 1' },
  { name: 'idx_verdict', column: 'verdict', type: 'set(0) GRANULARITY 4' },
  { name: 'idx_geofence_verdict', column: 'geofence_verdict', type: 'set(0) GRANULARITY 4' },
  { name: 'idx_path_key', column: 'path_key', type: 'bloom_filter(0.01) GRANULARITY 4' },
  { name: 'idx_source_ip', column: 'source_ip', type: 'bloom_filter(0.01) GRANULARITY 4' },
  { name: 'idx_destination_ip', column: 'destination_ip', type: 'bloom_filter(0.01) GRANULARITY 4' },
];

const indexDDL = (i: { name: string; column: string; type: string }): string => `${i.name} ${i.column} TYPE ${i.type}`;

/**
 * The minmax index on received_at lets the rollup (rollupStatement) read one minute of
 * arrivals, not the day's partition. Skip indexes otherwise only for what is rare within a stretch of time and asked for alone (drops,
 * violations, one path, one address): common values (namespace, node, identity)
 * sit in every granule and would not prune, and every index costs each insert.
 */
function flowsColumnsDDL(): string {
  const columns = [
    ...STORED_FLOW_COLUMNS.map((c) => `  ${columnDDL(c)},`),
    ...FLOW_ALIASES.map((a) => `  ${aliasDDL(a)},`),
  ];
  return `
${columns.join('\n')}
${FLOW_INDEXES.map((i) => `  INDEX ${indexDDL(i)},`).join('\n')}
  PROJECTION ${NODE_SESSION_PROJECTION}`;
}

/**
 * flows_1m's columns. ZSTD rather than the engine's default LZ4: a minute of a busy relay
 * has nearly a row per flow at realistic cardinality, and ZSTD halves it (3.5 -> 2.0 B a
 * flow on the relay bench corpus).
 */
const ROLLUP_COLUMNS: readonly { name: string; type: string; codec?: string }[] = [
  { name: 'minute', type: "DateTime('UTC')", codec: 'CODEC(Delta, ZSTD(1))' },
  ...['node_name', 'source_namespace', 'source_app', 'destination_namespace', 'destination_app', 'path_fingerprint', 'src_ia', 'dst_ia',
    'verdict', 'geofence_verdict', 'geofence_name'].map((name) => ({ name, type: LC })),
  ...['flows', 'packets', 'bytes'].map((name) => ({ name, type: 'UInt64', codec: 'CODEC(T64, ZSTD(1))' })),
];

interface Layout {
  /** Suffix of the tables holding data ("" on one server, "_local" under Distributed ones). */
  suffix: string;
  onCluster: string;
  engines: { flows: string; workloads: string; pathHeaders: string; paths: string; rollup: string; marks: string; counters: string; takeovers: string };
}

const SINGLE: Layout = {
  suffix: '',
  onCluster: '',
  engines: {
    flows: 'MergeTree',
    workloads: 'ReplacingMergeTree(last_seen)',
    pathHeaders: 'ReplacingMergeTree(last_seen)',
    paths: 'ReplacingMergeTree(last_seen)',
    rollup: 'SummingMergeTree((flows, packets, bytes))',
    marks: 'MergeTree',
    counters: 'MergeTree',
    takeovers: 'MergeTree',
  },
};

/**
 * Statements that create the schema on one server (or embedded), idempotently and in
 * dependency order. The flows ordering key starts with time: the Observer API's main
 * question is "the last N flows matching F", which then reads backwards in key order and
 * stops early; the rest of the key makes the order total, so paging can continue after a
 * row; other dimensions use skip indexes.
 */
export function schemaStatements(o: SchemaOptions): string[] {
  const db = checkIdentifier(o.database);
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    ...dataTables(o, SINGLE),
  ];
}

/**
 * The same schema for a ClickHouse cluster: replicated *_local tables on every shard and
 * Distributed tables under the names the store and dashboards use. Flows and batch marks are
 * sharded by session, so one batch lands on one shard (one part, all-or-nothing) and a
 * session's position lives in one place; inserts must be synchronous
 * (insert_distributed_sync=1, which the store sets) so a batch is stored when it resolves.
 */
export function clusterSchemaStatements(o: SchemaOptions & { cluster: string }): string[] {
  const db = checkIdentifier(o.database);
  const cluster = checkIdentifier(o.cluster);
  const zk = (table: string) => `'/clickhouse/tables/{shard}/${db}/${table}', '{replica}'`;
  const layout: Layout = {
    suffix: '_local',
    onCluster: ` ON CLUSTER ${cluster}`,
    engines: {
      flows: `ReplicatedMergeTree(${zk('flows_local')})`,
      workloads: `ReplicatedReplacingMergeTree(${zk('workloads_local')}, last_seen)`,
      pathHeaders: `ReplicatedReplacingMergeTree(${zk('path_headers_local')}, last_seen)`,
      paths: `ReplicatedReplacingMergeTree(${zk('paths_local')}, last_seen)`,
      rollup: `ReplicatedSummingMergeTree(${zk('flows_1m_local')}, (flows, packets, bytes))`,
      marks: `ReplicatedMergeTree(${zk('batch_marks_local')})`,
      counters: `ReplicatedMergeTree(${zk('node_counters_local')})`,
      takeovers: `ReplicatedMergeTree(${zk('takeovers_local')})`,
    },
  };
  // flows has LowCardinality numbers, which a table copying its columns must be let have too.
  const dist = (name: string, key: string) =>
    `CREATE TABLE IF NOT EXISTS ${db}.${name} ON CLUSTER ${cluster} AS ${db}.${name}_local
ENGINE = Distributed(${cluster}, ${db}, ${name}_local, ${key})${name === 'flows' ? `\nSETTINGS ${SUSPICIOUS_LOW_CARDINALITY}` : ''}`;
  return [
    `CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER ${cluster}`,
    ...dataTables(o, layout),
    dist('flows', 'cityHash64(session_id)'),
    dist('workloads', 'key'),
    dist('path_headers', 'key'),
    dist('paths', 'cityHash64(fingerprint)'),
    dist('flows_1m', 'rand()'),
    dist('batch_marks', 'cityHash64(session_id)'),
    dist('node_counters', 'cityHash64(session_id)'),
    dist('takeovers', 'cityHash64(session_id)'),
  ];
}

function dataTables(o: SchemaOptions, l: Layout): string[] {
  const db = checkIdentifier(o.database);
  const ttl = positiveDays(o.ttlDays);
  const rollupTtl = positiveDays(o.rollupTtlDays);
  const t = (name: string) => `${db}.${name}${l.suffix}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('flows')}${l.onCluster} (${flowsColumnsDDL()}
) ENGINE = ${l.engines.flows}
PARTITION BY toYYYYMMDD(received_at)
PRIMARY KEY time
ORDER BY (time, session_id, sequence, batch_index)
TTL received_at + INTERVAL ${ttl} DAY
SETTINGS ttl_only_drop_parts = 1${l.suffix === '' ? ', non_replicated_deduplication_window = 10000' : ''}, ${SUSPICIOUS_LOW_CARDINALITY}`,
    `CREATE TABLE IF NOT EXISTS ${t('workloads')}${l.onCluster} (
  key UInt64,
  ID UInt32,
  identity UInt32,
  cluster_name ${LC},
  namespace ${LC},
  pod_name String,
  labels Array(String),
  workloads Nested(
    name String,
    kind String
  ),
  last_seen DateTime('UTC')
) ENGINE = ${l.engines.workloads}
ORDER BY key
TTL last_seen + INTERVAL ${ttl} DAY`,
    `CREATE TABLE IF NOT EXISTS ${t('path_headers')}${l.onCluster} (
  key UInt64,
  fingerprint String,
  type ${SCION_PATH_TYPE},
  src_ia String,
  dst_ia String,
  path_id UInt32,
  mtu UInt32,
  expiry Nullable(DateTime64(9, 'UTC')),
  latency_ns Nullable(UInt64),
  known UInt8,
  raw String CODEC(ZSTD(1)),
  hops Nested(
    isd_as String,
    ingress_interface UInt32,
    egress_interface UInt32,
    latitude Nullable(Float64),
    longitude Nullable(Float64),
    address String,
    country String,
    latency_ns Nullable(UInt64)
  ),
  last_seen DateTime('UTC')
) ENGINE = ${l.engines.pathHeaders}
ORDER BY key
TTL last_seen + INTERVAL ${ttl} DAY`,
    `CREATE TABLE IF NOT EXISTS ${t('paths')}${l.onCluster} (
  fingerprint String,
  src_ia ${LC},
  dst_ia ${LC},
  hop_count UInt16,
  latency_ns Nullable(UInt64),
  mtu UInt32,
  known UInt8,
  hops Nested(
    isd_as ${LC},
    ingress_interface UInt16,
    egress_interface UInt16,
    latitude Nullable(Float64),
    longitude Nullable(Float64),
    country ${LC},
    latency_ns Nullable(UInt64)
  ),
  last_seen DateTime('UTC')
) ENGINE = ${l.engines.paths}
ORDER BY fingerprint
TTL last_seen + INTERVAL ${ttl} DAY`,
    `CREATE TABLE IF NOT EXISTS ${t('flows_1m')}${l.onCluster} (
${ROLLUP_COLUMNS.map((c) => `  ${columnDDL(c)}`).join(',\n')}
) ENGINE = ${l.engines.rollup}
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, node_name, source_namespace, source_app, destination_namespace, destination_app,
  path_fingerprint, src_ia, dst_ia, verdict, geofence_verdict, geofence_name)
TTL minute + INTERVAL ${rollupTtl} DAY${l.suffix === '' ? '\nSETTINGS non_replicated_deduplication_window = 10000' : ''}`,
    `CREATE TABLE IF NOT EXISTS ${t('batch_marks')}${l.onCluster} (
  session_id ${LC},
  sequence UInt64,
  node_name ${LC},
  received_at DateTime('UTC')
) ENGINE = ${l.engines.marks}
ORDER BY (session_id, sequence)
TTL received_at + INTERVAL ${ttl} DAY`,
    `CREATE TABLE IF NOT EXISTS ${t('node_counters')}${l.onCluster} (
  received_at DateTime64(3, 'UTC'),
  node_name ${LC},
  cluster ${LC},
  session_id ${LC},
  sequence UInt64,
${COUNTER_KEYS.map((c) => `  ${c} UInt64,\n`).join('')}  sent_at DateTime64(3, 'UTC')
) ENGINE = ${l.engines.counters}
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (node_name, received_at)
TTL toDateTime(received_at) + INTERVAL ${ttl} DAY`,
    // A collector that failed over from previous_relay to this one, whose position for the
    // session was below after_sequence: this relay took the session over there (its
    // position counts it) and stored what followed. Created on open, so an older store
    // gets it too.
    `CREATE TABLE IF NOT EXISTS ${t('takeovers')}${l.onCluster} (
  node_name ${LC},
  session_id ${LC},
  after_sequence UInt64,
  previous_relay String,
  taken_at DateTime64(3, 'UTC')
) ENGINE = ${l.engines.takeovers}
ORDER BY (node_name, session_id, after_sequence)
TTL toDateTime(taken_at) + INTERVAL ${ttl} DAY`,
  ];
}

/** Flows columns added after the first release, at the end: an older store gets them by ALTER TABLE. */
const LATER_FLOW_COLUMNS = [
  'ingress_denied_by', 'egress_denied_by', 'path_type', 'srv6_path', 'srv6_segments', 'srv6_countries', 'srv6_vrf', 'srv6_tenant',
  'srv6_fingerprint', 'srv6_hmac',
];

/** flows columns a later release dropped: each is the workloads or path_headers row's, by key. */
const DROPPED_FLOW_COLUMNS = ['source_pod', 'source_identity', 'destination_pod', 'destination_identity', 'path_latency_ns'];
/** Skip indexes over dropped columns, dropped before them. */
const DROPPED_FLOW_INDEXES = ['idx_source_pod', 'idx_destination_pod'];

/**
 * Statements that turn fields an older flows table stores as they are into the forms stored
 * today (FLOW_ALIASES: the uuid as two halves, meter fields as differences), each read back
 * under its old name: the new columns are computed in the old one's place (the store waits
 * for that rewrite), then the old column makes way for the ALIAS.
 */
function differenceStatements(db: string, stored: ReadonlySet<string>): string[] {
  const flows = `ALTER TABLE ${db}.flows`;
  // Every open, not only while an old column is stored: an upgrade cut short after its DROP
  // COLUMN left no old column behind, and would otherwise never get its ALIAS columns or
  // their indexes. In FLOW_ALIASES order: bytes reads wire_bytes.
  const aliases = [
    ...FLOW_ALIASES.map((a) => `${flows} ADD COLUMN IF NOT EXISTS ${aliasDDL(a)}`),
    ...FLOW_INDEXES.filter((i) => FLOW_ALIASES.some((a) => a.name === i.column)).map((i) => `${flows} ADD INDEX IF NOT EXISTS ${indexDDL(i)}`),
  ];
  const old = FLOW_ALIASES.filter((a) => stored.has(a.name));
  if (old.length === 0) return aliases;
  const column = (name: string) => STORED_FLOW_COLUMNS.find((c) => c.name === name)!;
  // Each new column once (the geofence fields share one), in the first old one's place.
  const added = new Map<string, { name: string; from: string; after: string }>();
  for (const a of old) a.storedAs.forEach((s, i) => added.has(s.name) || added.set(s.name, { ...s, after: i === 0 ? a.name : a.storedAs[i - 1].name }));
  // An index over an old column goes while it is dropped and comes back over the ALIAS.
  const indexes = FLOW_INDEXES.filter((i) => old.some((a) => a.name === i.column));
  return [
    `${flows} ${[...added.values()].map((s) => `ADD COLUMN IF NOT EXISTS ${s.name} ${column(s.name).type} DEFAULT ${s.from} ${column(s.name).codec ?? DEFAULT_CODEC} AFTER ${s.after}`).join(', ')} SETTINGS ${SUSPICIOUS_LOW_CARDINALITY}`,
    `${flows} ${[...added.values()].map((s) => `MATERIALIZE COLUMN ${s.name}`).join(', ')} SETTINGS mutations_sync = 2`,
    `${flows} ${[...added.values()].map((s) => `MODIFY COLUMN ${s.name} REMOVE DEFAULT`).join(', ')}`,
    ...indexes.map((i) => `${flows} DROP INDEX IF EXISTS ${i.name}`),
    `${flows} ${old.map((a) => `DROP COLUMN ${a.name}`).join(', ')} SETTINGS mutations_sync = 2`,
    ...aliases,
  ];
}

/** What upgradeStatements change that an operator should hear of, one line each (empty on a current store). */
export function upgradeNotes(o: SchemaOptions, flowsStored: ReadonlySet<string>): string[] {
  const db = checkIdentifier(o.database);
  const byStored = new Map<string, string[]>();
  for (const a of FLOW_ALIASES.filter((x) => flowsStored.has(x.name))) {
    const stored = a.storedAs.map((s) => s.name).join(' and ');
    byStored.set(stored, [...(byStored.get(stored) ?? []), a.name]);
  }
  return [...byStored].map(([stored, names]) =>
    `store: upgraded ${db}.flows: ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} now stored as ${stored} and read through ALIAS columns of the old names`);
}

/**
 * Adds what later releases added to an older store's tables and brings its flows columns to
 * today's layout, types and codecs (a no-op on a current store). `flowsStored` names the
 * columns the flows table stores now (not its ALIAS columns). A changed codec applies to
 * parts written from then on; a changed type (a key to LowCardinality) rewrites that column
 * of the existing parts in the background; a meter column becoming a difference is
 * rewritten before the store opens.
 */
export function upgradeStatements(o: SchemaOptions, flowsStored: ReadonlySet<string>): string[] {
  const db = checkIdentifier(o.database);
  return [
    ...LATER_COUNTER_COLUMNS.map((c) => `ALTER TABLE ${db}.node_counters ADD COLUMN IF NOT EXISTS ${c} UInt64 AFTER ${columnBefore(COUNTER_KEYS, c)}`),
    `ALTER TABLE ${db}.flows ${DROPPED_FLOW_INDEXES.map((i) => `DROP INDEX IF EXISTS ${i}`).join(', ')}`,
    `ALTER TABLE ${db}.flows ${DROPPED_FLOW_COLUMNS.map((c) => `DROP COLUMN IF EXISTS ${c}`).join(', ')}`,
    ...differenceStatements(db, flowsStored),
    `ALTER TABLE ${db}.flows ${LATER_FLOW_COLUMNS.map((c) => `ADD COLUMN IF NOT EXISTS ${columnDDL(STORED_FLOW_COLUMNS.find((s) => s.name === c)!)}`).join(', ')} SETTINGS ${SUSPICIOUS_LOW_CARDINALITY}`,
    `ALTER TABLE ${db}.flows ${STORED_FLOW_COLUMNS.map((c) => `MODIFY COLUMN ${columnDDL(c)}`).join(', ')} SETTINGS ${SUSPICIOUS_LOW_CARDINALITY}`,
    `ALTER TABLE ${db}.flows_1m ${ROLLUP_COLUMNS.map((c) => `MODIFY COLUMN ${columnDDL(c)}`).join(', ')}`,
  ];
}

/**
 * Rolls up the flows that arrived in [from, to) (Unix seconds of received_at) into flows_1m:
 * once a minute for the minute before last (rollup.ts). One GROUP BY a minute instead of a
 * materialized view per insert, which tripled each insert's engine time (docs/benchmarks.md).
 */
export function rollupStatement(database: string, from: number, to: number, settings: string): string {
  const db = checkIdentifier(database);
  if (!Number.isInteger(from) || !Number.isInteger(to)) throw new Error('rollup bounds are whole seconds');
  return rollupInsert(db, settings, `received_at >= toDateTime(${from}, 'UTC') AND received_at < toDateTime(${to}, 'UTC')`);
}

function rollupInsert(db: string, settings: string, where: string): string {
  return `INSERT INTO ${db}.flows_1m ${settings}
SELECT toStartOfMinute(time) AS minute, node_name, source_namespace, source_app,
  destination_namespace, destination_app, path_fingerprint, src_ia, dst_ia, toString(verdict) AS verdict,
  if(bitAnd(present, ${PRESENT_GEOFENCE}) = 0, '', toString(geofence_verdict)) AS geofence_verdict, geofence_name,
  count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM ${db}.flows
WHERE ${where}
GROUP BY minute, node_name, source_namespace, source_app, destination_namespace,
  destination_app, path_fingerprint, src_ia, dst_ia, verdict, geofence_verdict, geofence_name`;
}

/**
 * Rolls up one node's minutes [from, to] (Unix seconds of flow time, whole minutes) again,
 * from the flows that arrived before `rolledUpTo` (the rollup's mark), after some of them
 * were deleted (a retraction): the node's rows of those minutes go first, then come back
 * without the deleted flows. The node is the query parameter {node:String}. Not
 * deduplicated: the same rows may legitimately be inserted again.
 */
export function rollupRedoStatements(database: string, from: number, to: number, rolledUpTo: number): string[] {
  const db = checkIdentifier(database);
  if (![from, to, rolledUpTo].every(Number.isInteger)) throw new Error('rollup bounds are whole seconds');
  const minutes = `minute >= toDateTime(${from}, 'UTC') AND minute <= toDateTime(${to}, 'UTC')`;
  return [
    `ALTER TABLE ${db}.flows_1m DELETE WHERE node_name = {node:String} AND ${minutes} SETTINGS mutations_sync = 2`,
    rollupInsert(db, 'SETTINGS insert_deduplicate = 0', `node_name = {node:String} AND time >= toDateTime64(${from}, 9, 'UTC') AND time < toDateTime64(${to + 60}, 9, 'UTC')
  AND received_at < toDateTime(${rolledUpTo}, 'UTC')`),
  ];
}

/** Where a flows table of the layout before typed columns is moved, untouched. */
export const LEGACY_FLOWS = 'flows_v1';

/**
 * Moves a store of the layout before typed columns (flows with a `flow` blob) aside, so
 * that schemaStatements then create the new tables: its rollup view first (it would feed
 * flows_1m from whatever table is named flows next), then the table itself. flows_1m, paths,
 * batch_marks and node_counters keep their layout and their rows.
 */
export function legacyMoveStatements(o: SchemaOptions): string[] {
  const db = checkIdentifier(o.database);
  return [`DROP VIEW IF EXISTS ${db}.flows_1m_mv`, `RENAME TABLE ${db}.flows TO ${db}.${LEGACY_FLOWS}`];
}

/** Re-applies the TTLs of an existing schema (CREATE ... IF NOT EXISTS keeps the old ones). */
export function ttlStatements(o: SchemaOptions): string[] {
  const db = checkIdentifier(o.database);
  const ttl = positiveDays(o.ttlDays);
  return [
    `ALTER TABLE ${db}.flows MODIFY TTL received_at + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.workloads MODIFY TTL last_seen + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.path_headers MODIFY TTL last_seen + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.paths MODIFY TTL last_seen + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.batch_marks MODIFY TTL received_at + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.node_counters MODIFY TTL toDateTime(received_at) + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.takeovers MODIFY TTL toDateTime(taken_at) + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.flows_1m MODIFY TTL minute + INTERVAL ${positiveDays(o.rollupTtlDays)} DAY`,
  ];
}

function positiveDays(days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new Error(`TTL of ${days} days is not a positive whole number`);
  return days;
}
