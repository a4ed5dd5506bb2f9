// The narrow store for the read side's tests and the query bench: the flows table from
// STORED_FLOW_COLUMNS with the store's skip indexes, the workloads and path_headers tables
// the reader resolves by key and the paths table the dashboards join (as schema.ts lays
// them out), filled from flow.Flow objects with plain SQL INSERTs that follow DESIGN16's
// mapping of a flow to its columns. It stands apart from the relay's own writer on
// purpose: the reader's round trip is then checked against an independent statement of
// the mapping.
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { Endpoint, Flow, ScionPath, ScionPathType, scionPathTypeToJSON } from '../../../../proto/gen/flow/flow';
import { L4, PRESENT, TCP_FLAGS } from '../../../../columns/layout';
import { STORED_FLOW_COLUMNS, enumType } from '../../../../relay/store/flow_columns';
import { appOf, canonicalIA, pathRow } from '../../../../relay/store/rows';

const LC = 'LowCardinality(String)';

const INDEXES = [
  'INDEX idx_verdict verdict TYPE set(0) GRANULARITY 4',
  'INDEX idx_geofence_verdict geofence_verdict TYPE set(0) GRANULARITY 4',
  'INDEX idx_path_key path_key TYPE bloom_filter(0.01) GRANULARITY 4',
  'INDEX idx_source_ip source_ip TYPE bloom_filter(0.01) GRANULARITY 4',
  'INDEX idx_destination_ip destination_ip TYPE bloom_filter(0.01) GRANULARITY 4',
  'INDEX idx_source_pod source_pod TYPE bloom_filter(0.01) GRANULARITY 4',
  'INDEX idx_destination_pod destination_pod TYPE bloom_filter(0.01) GRANULARITY 4',
];

export function narrowSchema(db: string): string[] {
  const cols = STORED_FLOW_COLUMNS.map((c) => `  ${c.name} ${c.type}${c.codec ? ` ${c.codec}` : ''}`);
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.flows (
${[...cols, ...INDEXES.map((i) => `  ${i}`)].join(',\n')}
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(received_at)
PRIMARY KEY time
ORDER BY (time, session_id, sequence, batch_index)`,
    `CREATE TABLE IF NOT EXISTS ${db}.workloads (
  key UInt64,
  ID UInt32,
  identity UInt32,
  cluster_name ${LC},
  namespace ${LC},
  pod_name String,
  labels Array(String),
  workloads Nested(name String, kind String),
  last_seen DateTime('UTC')
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY key`,
    `CREATE TABLE IF NOT EXISTS ${db}.path_headers (
  key UInt64,
  fingerprint String,
  type ${enumType(8, ScionPathType)},
  src_ia String,
  dst_ia String,
  path_id UInt32,
  mtu UInt32,
  expiry Nullable(DateTime64(9, 'UTC')),
  latency_ns Nullable(UInt64),
  known UInt8,
  raw String,
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
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY key`,
    `CREATE TABLE IF NOT EXISTS ${db}.paths (
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
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY fingerprint`,
  ];
}

export async function createNarrowStore(client: ClickHouseClient, db: string): Promise<void> {
  for (const stmt of narrowSchema(db)) await client.command({ query: stmt });
}

/** First 8 bytes of the SHA-256 of a message's encoding, as the relay keys workloads and paths. */
export function keyOf(bytes: Uint8Array): bigint {
  return createHash('sha256').update(bytes).digest().readBigUInt64BE(0);
}

export const endpointKey = (e: Endpoint): bigint => keyOf(Endpoint.encode(e).finish());
export const pathKey = (p: ScionPath): bigint => keyOf(ScionPath.encode(p).finish());

export interface NarrowBatch {
  sessionId: string;
  sequence: bigint;
  nodeName: string;
  /** Unix seconds. */
  receivedAt: number;
}

function timeNs(t: { seconds: bigint; nanos: number } | undefined): string {
  return t ? (t.seconds * 1_000_000_000n + BigInt(t.nanos)).toString() : '0';
}

function present(f: Flow): number {
  let p = 0;
  if (f.IP) p |= PRESENT.IP;
  if (f.l4) p |= PRESENT.L4;
  if (f.meter) p |= PRESENT.METER;
  if (f.identityExtension) p |= PRESENT.IDENTITY_EXTENSION;
  if (f.emitter) p |= PRESENT.EMITTER;
  if (f.interface) p |= PRESENT.INTERFACE;
  if (f.eventType) p |= PRESENT.EVENT_TYPE;
  if (f.isReply !== undefined) p |= PRESENT.IS_REPLY;
  if (f.meter?.firstSeen) p |= PRESENT.FIRST_SEEN;
  if (f.meter?.lastSeen) p |= PRESENT.LAST_SEEN;
  if (f.geofence) p |= PRESENT.GEOFENCE;
  return p;
}

function l4Values(f: Flow): Record<string, number> {
  const p = f.l4?.protocol;
  const out = { protocol: 0, source_port: 0, destination_port: 0, tcp_flags: 0, icmp_type: 0, icmp_code: 0 };
  if (p?.$case === 'TCP') out.tcp_flags = TCP_FLAGS.reduce((bits, name, i) => (p.value.flags?.[name] ? bits | (1 << i) : bits), 0);
  switch (p?.$case) {
    case 'TCP':
    case 'UDP':
    case 'SCTP':
      out.protocol = L4[p.$case];
      out.source_port = p.value.sourcePort;
      out.destination_port = p.value.destinationPort;
      break;
    case 'ICMPv4':
    case 'ICMPv6':
      out.protocol = L4[p.$case];
      out.icmp_type = p.value.type;
      out.icmp_code = p.value.code;
      break;
    default:
  }
  return out;
}

function endpointValues(side: 'source' | 'destination', e: Endpoint | undefined): Record<string, unknown> {
  return {
    [`${side}_workload`]: e ? endpointKey(e).toString() : '0',
    [`${side}_cluster`]: e?.clusterName ?? '',
    [`${side}_namespace`]: e?.namespace ?? '',
    [`${side}_pod`]: e?.podName ?? '',
    [`${side}_app`]: appOf(e),
    [`${side}_identity`]: e?.identity ?? 0,
  };
}

/** The flows row of flow `i` of a batch. */
export function narrowRow(f: Flow, i: number, b: NarrowBatch): Record<string, unknown> {
  const path = f.scionPath;
  const fence = f.geofence;
  const idx = f.identityExtension;
  const m = f.meter;
  return {
    time: timeNs(f.time),
    received_at: b.receivedAt,
    session_id: b.sessionId,
    sequence: b.sequence.toString(),
    batch_index: i,
    node_name: b.nodeName,
    uuid: f.uuid,
    present: present(f),
    verdict: f.verdict,
    drop_reason: f.dropReasonDesc,
    drop_reason_code: f.dropReason,
    flow_type: f.Type,
    traffic_direction: f.trafficDirection,
    observation_point: f.traceObservationPoint,
    scion_observation_point: f.scionObservationPoint,
    is_reply: f.isReply === undefined ? 0 : f.isReply ? 2 : 1,
    event_type: f.eventType?.type ?? 0,
    event_sub_type: f.eventType?.subType ?? 0,
    emitter_name: f.emitter?.name ?? '',
    emitter_version: f.emitter?.version ?? '',
    interface_index: f.interface?.index ?? 0,
    interface_name: f.interface?.name ?? '',
    ip_version: f.IP?.ipVersion ?? 0,
    source_ip: f.IP?.source ?? '',
    destination_ip: f.IP?.destination ?? '',
    ...l4Values(f),
    ...endpointValues('source', f.source),
    ...endpointValues('destination', f.destination),
    path_key: path ? pathKey(path).toString() : '0',
    src_ia: canonicalIA(path?.srcIa ?? ''),
    dst_ia: canonicalIA(path?.dstIa ?? ''),
    path_fingerprint: (path?.fingerprint ?? '').toLowerCase(),
    path_known: path?.knownToControlPlane ? 1 : 0,
    path_latency_ns: path?.latencyNs === undefined ? null : path.latencyNs.toString(),
    identity_ext: idx?.identity ?? 0,
    identity_cluster: idx?.clusterName ?? '',
    identity_option_type: idx?.optionType ?? 0,
    identity_authenticated: idx?.authenticated ? 1 : 0,
    identity_check: idx?.check ?? 0,
    geofence_verdict: fence?.verdict ?? 0,
    geofence_name: fence?.name ?? '',
    geofence_namespace: fence?.namespace ?? '',
    geofence_mode: fence?.mode ?? 0,
    geofence_reason: fence?.reason ?? '',
    geofence_offending_hop: fence?.offendingHop ?? -1,
    geofence_offending_isd_as: fence?.offendingIsdAs ?? '',
    geofence_offending_country: fence?.offendingCountry ?? '',
    packets: (m?.packets ?? 0n).toString(),
    bytes: (m?.bytes ?? 0n).toString(),
    dropped_packets: (m?.droppedPackets ?? 0n).toString(),
    pod_bytes: (m?.podBytes ?? 0n).toString(),
    wire_bytes: (m?.wireBytes ?? 0n).toString(),
    lost_packets: (m?.lostPackets ?? 0n).toString(),
    lost_bytes: (m?.lostBytes ?? 0n).toString(),
    first_seen: timeNs(m?.firstSeen),
    last_seen: timeNs(m?.lastSeen),
    drop_reason_name: m?.dropReasonName ?? '',
    folded_reports: m?.foldedReports ?? 0,
  };
}

export function workloadRow(e: Endpoint, seenAt: number): Record<string, unknown> {
  return {
    key: endpointKey(e).toString(),
    ID: e.ID,
    identity: e.identity,
    cluster_name: e.clusterName,
    namespace: e.namespace,
    pod_name: e.podName,
    labels: e.labels,
    'workloads.name': e.workloads.map((w) => w.name),
    'workloads.kind': e.workloads.map((w) => w.kind),
    last_seen: seenAt,
  };
}

export function pathHeaderRow(p: ScionPath, seenAt: number): Record<string, unknown> {
  return {
    key: pathKey(p).toString(),
    fingerprint: p.fingerprint,
    type: scionPathTypeToJSON(p.type),
    src_ia: p.srcIa,
    dst_ia: p.dstIa,
    path_id: p.pathId,
    mtu: p.mtu,
    expiry: p.expiry ? (p.expiry.seconds * 1_000_000_000n + BigInt(p.expiry.nanos)).toString() : null,
    latency_ns: p.latencyNs === undefined ? null : p.latencyNs.toString(),
    known: p.knownToControlPlane ? 1 : 0,
    raw: Buffer.from(p.raw).toString('base64'),
    'hops.isd_as': p.hops.map((h) => h.isdAs),
    'hops.ingress_interface': p.hops.map((h) => h.ingressInterface),
    'hops.egress_interface': p.hops.map((h) => h.egressInterface),
    'hops.latitude': p.hops.map((h) => (h.geo ? h.geo.latitude : null)),
    'hops.longitude': p.hops.map((h) => (h.geo ? h.geo.longitude : null)),
    'hops.address': p.hops.map((h) => h.geo?.address ?? ''),
    'hops.country': p.hops.map((h) => h.country),
    'hops.latency_ns': p.hops.map((h) => (h.latencyNs === undefined ? null : h.latencyNs.toString())),
    last_seen: seenAt,
  };
}

const WORKLOAD_STRUCTURE = [
  ['key', 'UInt64'], ['ID', 'UInt32'], ['identity', 'UInt32'], ['cluster_name', 'String'], ['namespace', 'String'],
  ['pod_name', 'String'], ['labels', 'Array(String)'], ['workloads.name', 'Array(String)'], ['workloads.kind', 'Array(String)'],
  ['last_seen', 'UInt32'],
];
const PATH_HEADER_STRUCTURE = [
  ['key', 'UInt64'], ['fingerprint', 'String'], ['type', 'String'], ['src_ia', 'String'], ['dst_ia', 'String'],
  ['path_id', 'UInt32'], ['mtu', 'UInt32'], ['expiry', 'Nullable(Int64)'], ['latency_ns', 'Nullable(UInt64)'], ['known', 'UInt8'],
  ['raw', 'String'], ['hops.isd_as', 'Array(String)'], ['hops.ingress_interface', 'Array(UInt32)'],
  ['hops.egress_interface', 'Array(UInt32)'], ['hops.latitude', 'Array(Nullable(Float64))'], ['hops.longitude', 'Array(Nullable(Float64))'],
  ['hops.address', 'Array(String)'], ['hops.country', 'Array(String)'], ['hops.latency_ns', 'Array(Nullable(UInt64))'],
  ['last_seen', 'UInt32'],
];

/** A nested column's name as plain input (hops.isd_as: hops__isd_as), which no table name can shadow. */
const plain = (n: string): string => n.replace('.', '__');

/** JSON rows read as `structure`, stored as the expressions over it (written with plain names). */
async function insertSelect(client: ClickHouseClient, table: string, structure: string[][], exprs: string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const body = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [plain(k), v])))).join('\n');
  await client.command({
    query: `INSERT INTO ${table} (${structure.map(([n]) => `\`${n}\``).join(', ')})
SELECT ${exprs.join(', ')} FROM format(JSONEachRow, {structure:String}, {body:String})`,
    query_params: { structure: structure.map(([n, t]) => `${plain(n)} ${t}`).join(', '), body },
  });
}

/** One batch of flows with its workloads, path headers and paths, each table in one INSERT. */
export async function insertNarrow(client: ClickHouseClient, db: string, flows: Flow[], b: NarrowBatch): Promise<void> {
  const workloads = new Map<string, Record<string, unknown>>();
  const headers = new Map<string, Record<string, unknown>>();
  const paths = new Map<string, Record<string, unknown>>();
  for (const f of flows) {
    for (const e of [f.source, f.destination]) {
      if (!e) continue;
      const row = workloadRow(e, b.receivedAt);
      workloads.set(row.key as string, row);
    }
    if (f.scionPath) {
      const row = pathHeaderRow(f.scionPath, b.receivedAt);
      headers.set(row.key as string, row);
      if (f.scionPath.fingerprint !== '') paths.set(f.scionPath.fingerprint, pathRow(f.scionPath, b.receivedAt));
    }
  }
  await insertSelect(client, `${db}.workloads`, WORKLOAD_STRUCTURE, WORKLOAD_STRUCTURE.map(([n]) => plain(n)), [...workloads.values()]);
  await insertSelect(client, `${db}.path_headers`, PATH_HEADER_STRUCTURE, PATH_HEADER_STRUCTURE.map(([n]) =>
    (n === 'raw' ? 'base64Decode(raw)' : n === 'expiry' ? "if(isNull(expiry), NULL, fromUnixTimestamp64Nano(assumeNotNull(expiry), 'UTC'))" : plain(n))), [...headers.values()]);
  if (paths.size > 0) await client.insert({ table: `${db}.paths`, values: [...paths.values()], format: 'JSONEachRow' });
  if (flows.length > 0) {
    // Times go in as Int64 nanoseconds: DateTime64 text input reads a short number as a date.
    const structure = STORED_FLOW_COLUMNS.map((c) => [c.name, c.type.startsWith('DateTime64') ? 'Int64' : c.type]);
    const exprs = STORED_FLOW_COLUMNS.map((c) => (c.type.startsWith('DateTime64') ? `fromUnixTimestamp64Nano(${c.name}, 'UTC')` : c.name));
    await insertSelect(client, `${db}.flows`, structure, exprs, flows.map((f, i) => narrowRow(f, i, b)));
  }
}

/**
 * Flows as collectors would send them: one batch per node and `batchSize` flows, each
 * node's session numbering its batches from 1. Every flow's node_name is its batch's.
 */
export async function insertCorpus(client: ClickHouseClient, db: string, flows: Flow[], batchSize = 1000, receivedAt = 1_800_000_000): Promise<void> {
  const byNode = new Map<string, Flow[]>();
  for (const f of flows) byNode.set(f.nodeName, [...(byNode.get(f.nodeName) ?? []), f]);
  for (const [nodeName, own] of byNode) {
    for (let at = 0; at < own.length; at += batchSize) {
      const batch = { sessionId: `session-${nodeName}`, sequence: BigInt(at / batchSize + 1), nodeName, receivedAt };
      await insertNarrow(client, db, own.slice(at, at + batchSize), batch);
    }
  }
}
