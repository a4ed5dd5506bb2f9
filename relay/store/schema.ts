// The flow store's tables. Dashboards query these with SQL, so this comment is their
// reference. Every table lives in one database (default `cillion`); all times are UTC.
//
// flows — one row per stored flow, newest data first in queries via ORDER BY time DESC.
//   time                 DateTime64(9)  when the datapath saw the packet (Flow.time, ns)
//   received_at          DateTime       when the relay stored the batch; partition and TTL key,
//                                       equal for every row of a batch so that one batch is one
//                                       part and therefore all-or-nothing
//   session_id, sequence                the collector's export session and batch number
//   batch_index          UInt32         position of the flow inside its batch
//   node_name            LowCardinality the node that captured the flow
//   uuid                 String
//   verdict, drop_reason, traffic_direction, observation_point, scion_observation_point
//                        LowCardinality Hubble/Cillion enum names ("FORWARDED", "EGRESS", ...)
//   ip_version UInt8, source_ip / destination_ip String, protocol LowCardinality ("TCP",
//   "UDP", "ICMPv4", ...), source_port / destination_port UInt16 (0 without ports)
//   source_* / destination_*: cluster, namespace, pod, app (value of the app,
//                        app.kubernetes.io/name or k8s-app label, "" when none), identity
//                        UInt32, labels Array(String) as "source:key=value"
//   src_ia / dst_ia      LowCardinality ISD-AS text ("1-ff00:0:110") of the SCION path ends
//   path_fingerprint     LowCardinality hex fingerprint (join with paths.fingerprint)
//   path_ias, path_countries  Array(LowCardinality(String)), path_isds Array(UInt16): per hop,
//                        source AS first ("" / 0 where unknown)
//   path_latency_ns      Nullable(UInt64)
//   path_known           UInt8          1 when the hop fields matched control-plane segments
//   geofence_verdict     LowCardinality "GEOFENCE_COMPLIANT" / "_VIOLATION" / "_UNVERIFIED" / ""
//   geofence_name, geofence_namespace, geofence_mode, geofence_offending_isd_as,
//   geofence_offending_country  LowCardinality
//   identity_check       LowCardinality IdentityCheck name of the carried security identity
//   packets, bytes, dropped_packets  UInt64  the flow report's meter (Flow.meter) for the interval
//                        it covers: bytes are pod bytes where the flow has a pod packet (the same
//                        figure at both edges), wire bytes otherwise
//   pod_bytes, wire_bytes  UInt64      the pod's frames (IPv4 packet + 14 bytes of Ethernet) and the
//                        SCION frames on the underlay, both always filled where known
//   lost_packets         UInt64         packets of this flow the collector counted but lost (a shed
//                        report): the flow's stored packets are short by this much; 0 almost always
//   flow                 String         the whole flow.Flow, protobuf binary; the source of truth
//
// paths — ReplacingMergeTree(last_seen) by fingerprint: the path dimension. Query with FINAL
//   (or argMax by last_seen) for one row per fingerprint.
//   fingerprint, src_ia, dst_ia, hop_count, latency_ns Nullable(UInt64), mtu, known UInt8,
//   hops Nested(isd_as, ingress_interface, egress_interface, latitude, longitude, country,
//   latency_ns): one array element per hop, source AS first; last_seen: a flow took the
//   path within the hour before it (the relay rewrites a path row at most hourly).
//
// flows_1m — SummingMergeTree filled by the materialized view flows_1m_mv: flow counts per
//   minute by node_name, source/destination namespace and app, path_fingerprint, src_ia,
//   dst_ia, verdict, geofence_verdict, geofence_name; measures flows, packets and bytes.
//   Always aggregate with sum(): rows for one key are merged lazily. The view runs after the flows part is written: a crash in between can
//   leave one batch out of the rollup, never in it twice.
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
// TTL: flows, paths, batch_marks, node_counters keep ttlDays after arrival; flows_1m keeps
// rollupTtlDays.

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

/** Columns of `flows` that rows.ts fills, in insert order (flow_b64 becomes `flow`). */
export const FLOW_COLUMNS = [
  'time', 'received_at', 'session_id', 'sequence', 'batch_index', 'node_name', 'uuid',
  'verdict', 'drop_reason', 'traffic_direction', 'observation_point', 'scion_observation_point',
  'ip_version', 'source_ip', 'destination_ip', 'protocol', 'source_port', 'destination_port',
  'source_cluster', 'source_namespace', 'source_pod', 'source_app', 'source_identity', 'source_labels',
  'destination_cluster', 'destination_namespace', 'destination_pod', 'destination_app',
  'destination_identity', 'destination_labels',
  'src_ia', 'dst_ia', 'path_fingerprint', 'path_ias', 'path_isds', 'path_countries',
  'path_latency_ns', 'path_known',
  'geofence_verdict', 'geofence_name', 'geofence_namespace', 'geofence_mode',
  'geofence_offending_isd_as', 'geofence_offending_country', 'identity_check',
  'packets', 'bytes', 'dropped_packets', 'pod_bytes', 'wire_bytes', 'lost_packets', 'flow_b64',
] as const;

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
const LATER_FLOW_COLUMNS = ['pod_bytes', 'wire_bytes', 'lost_packets'] as const;
const columnBefore = (columns: readonly string[], c: string): string => columns[columns.indexOf(c) - 1];

export const NODE_COUNTER_COLUMNS = ['received_at', 'node_name', 'cluster', 'session_id', 'sequence', ...Object.keys(NODE_COUNTER_VALUES), 'sent_at'] as const;

export const PATH_COLUMNS = [
  'fingerprint', 'src_ia', 'dst_ia', 'hop_count', 'latency_ns', 'mtu', 'known',
  'hops.isd_as', 'hops.ingress_interface', 'hops.egress_interface', 'hops.latitude',
  'hops.longitude', 'hops.country', 'hops.latency_ns', 'last_seen',
] as const;

/**
 * Skip indexes only for what is rare within a stretch of time (drops, violations, one path,
 * one address, one pod): common values (namespace, node, identity) sit in every granule and
 * would not prune, and every index costs each insert a few milliseconds.
 */
function flowsColumnsDDL(): string {
  return `
  time DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
  received_at DateTime('UTC'),
  session_id ${LC},
  sequence UInt64,
  batch_index UInt32,
  node_name ${LC},
  uuid String,
  verdict ${LC},
  drop_reason ${LC},
  traffic_direction ${LC},
  observation_point ${LC},
  scion_observation_point ${LC},
  ip_version UInt8,
  source_ip String,
  destination_ip String,
  protocol ${LC},
  source_port UInt16,
  destination_port UInt16,
  source_cluster ${LC},
  source_namespace ${LC},
  source_pod String,
  source_app ${LC},
  source_identity UInt32,
  source_labels Array(${LC}),
  destination_cluster ${LC},
  destination_namespace ${LC},
  destination_pod String,
  destination_app ${LC},
  destination_identity UInt32,
  destination_labels Array(${LC}),
  src_ia ${LC},
  dst_ia ${LC},
  path_fingerprint ${LC},
  path_ias Array(${LC}),
  path_isds Array(UInt16),
  path_countries Array(${LC}),
  path_latency_ns Nullable(UInt64),
  path_known UInt8,
  geofence_verdict ${LC},
  geofence_name ${LC},
  geofence_namespace ${LC},
  geofence_mode ${LC},
  geofence_offending_isd_as ${LC},
  geofence_offending_country ${LC},
  identity_check ${LC},
  packets UInt64,
  bytes UInt64,
  dropped_packets UInt64,
  pod_bytes UInt64,
  wire_bytes UInt64,
  lost_packets UInt64,
  flow_b64 String EPHEMERAL,
  flow String DEFAULT base64Decode(flow_b64) CODEC(ZSTD(1)),
  INDEX idx_verdict verdict TYPE set(16) GRANULARITY 4,
  INDEX idx_geofence_verdict geofence_verdict TYPE set(8) GRANULARITY 4,
  INDEX idx_fingerprint path_fingerprint TYPE set(256) GRANULARITY 4,
  INDEX idx_source_ip source_ip TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX idx_destination_ip destination_ip TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX idx_source_pod source_pod TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX idx_destination_pod destination_pod TYPE bloom_filter(0.01) GRANULARITY 4,
  PROJECTION ${NODE_SESSION_PROJECTION}`;
}

interface Layout {
  /** Suffix of the tables holding data ("" on one server, "_local" under Distributed ones). */
  suffix: string;
  onCluster: string;
  engines: { flows: string; paths: string; rollup: string; marks: string; counters: string };
}

const SINGLE: Layout = {
  suffix: '',
  onCluster: '',
  engines: {
    flows: 'MergeTree',
    paths: 'ReplacingMergeTree(last_seen)',
    rollup: 'SummingMergeTree((flows, packets, bytes))',
    marks: 'MergeTree',
    counters: 'MergeTree',
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
      paths: `ReplicatedReplacingMergeTree(${zk('paths_local')}, last_seen)`,
      rollup: `ReplicatedSummingMergeTree(${zk('flows_1m_local')}, (flows, packets, bytes))`,
      marks: `ReplicatedMergeTree(${zk('batch_marks_local')})`,
      counters: `ReplicatedMergeTree(${zk('node_counters_local')})`,
    },
  };
  const dist = (name: string, key: string) =>
    `CREATE TABLE IF NOT EXISTS ${db}.${name} ON CLUSTER ${cluster} AS ${db}.${name}_local
ENGINE = Distributed(${cluster}, ${db}, ${name}_local, ${key})`;
  return [
    `CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER ${cluster}`,
    ...dataTables(o, layout),
    dist('flows', 'cityHash64(session_id)'),
    dist('paths', 'cityHash64(fingerprint)'),
    dist('flows_1m', 'rand()'),
    dist('batch_marks', 'cityHash64(session_id)'),
    dist('node_counters', 'cityHash64(session_id)'),
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
SETTINGS ttl_only_drop_parts = 1${l.suffix === '' ? ', non_replicated_deduplication_window = 10000' : ''}`,
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
  minute DateTime('UTC'),
  node_name ${LC},
  source_namespace ${LC},
  source_app ${LC},
  destination_namespace ${LC},
  destination_app ${LC},
  path_fingerprint ${LC},
  src_ia ${LC},
  dst_ia ${LC},
  verdict ${LC},
  geofence_verdict ${LC},
  geofence_name ${LC},
  flows UInt64,
  packets UInt64,
  bytes UInt64
) ENGINE = ${l.engines.rollup}
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, node_name, source_namespace, source_app, destination_namespace, destination_app,
  path_fingerprint, src_ia, dst_ia, verdict, geofence_verdict, geofence_name)
TTL minute + INTERVAL ${rollupTtl} DAY${l.suffix === '' ? '\nSETTINGS non_replicated_deduplication_window = 10000' : ''}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.flows_1m_mv${l.onCluster} TO ${t('flows_1m')} AS
SELECT toStartOfMinute(time) AS minute, node_name, source_namespace, source_app,
  destination_namespace, destination_app, path_fingerprint, src_ia, dst_ia, verdict,
  geofence_verdict, geofence_name, count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM ${t('flows')}
GROUP BY minute, node_name, source_namespace, source_app, destination_namespace,
  destination_app, path_fingerprint, src_ia, dst_ia, verdict, geofence_verdict, geofence_name`,
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
  ];
}

/** Adds what later releases added to an older store's tables (a no-op on a current one). */
export function upgradeStatements(o: SchemaOptions): string[] {
  const db = checkIdentifier(o.database);
  return [
    ...LATER_FLOW_COLUMNS.map((c) => `ALTER TABLE ${db}.flows ADD COLUMN IF NOT EXISTS ${c} UInt64 AFTER ${columnBefore(FLOW_COLUMNS, c)}`),
    ...LATER_COUNTER_COLUMNS.map((c) => `ALTER TABLE ${db}.node_counters ADD COLUMN IF NOT EXISTS ${c} UInt64 AFTER ${columnBefore(COUNTER_KEYS, c)}`),
    // A store made before sessions were keyed by node: new parts get the projection that
    // answers position() by (node, session); old parts are read without it until their TTL.
    `ALTER TABLE ${db}.flows ADD PROJECTION IF NOT EXISTS ${NODE_SESSION_PROJECTION}`,
    `ALTER TABLE ${db}.flows DROP PROJECTION IF EXISTS session_position`,
  ];
}

/** Re-applies the TTLs of an existing schema (CREATE ... IF NOT EXISTS keeps the old ones). */
export function ttlStatements(o: SchemaOptions): string[] {
  const db = checkIdentifier(o.database);
  const ttl = positiveDays(o.ttlDays);
  return [
    `ALTER TABLE ${db}.flows MODIFY TTL received_at + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.paths MODIFY TTL last_seen + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.batch_marks MODIFY TTL received_at + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.node_counters MODIFY TTL toDateTime(received_at) + INTERVAL ${ttl} DAY`,
    `ALTER TABLE ${db}.flows_1m MODIFY TTL minute + INTERVAL ${positiveDays(o.rollupTtlDays)} DAY`,
  ];
}

function positiveDays(days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new Error(`TTL of ${days} days is not a positive whole number`);
  return days;
}
