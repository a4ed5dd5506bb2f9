// The narrow store for the read side's tests and the query bench: the flows table from
// STORED_FLOW_COLUMNS, the workloads and path_headers tables the reader resolves by key,
// and the paths table the dashboards join, filled from flow.Flow objects with plain SQL
// INSERTs that follow DESIGN16's mapping of a flow to its columns. It stands apart from
// the relay's own writer on purpose: the reader's round trip is then checked against an
// independent statement of the mapping.
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { Endpoint, Flow, ScionPath } from '../../../../proto/gen/flow/flow';
import { L4, PRESENT, TCP_FLAGS } from '../../../../columns/layout';
import { STORED_FLOW_COLUMNS } from '../../../../relay/store/flow_columns';
import { appOf, canonicalIA, pathRow } from '../../../../relay/store/rows';

const LC = 'LowCardinality(String)';

export function narrowSchema(db: string): string[] {
  const cols = STORED_FLOW_COLUMNS.map((c) => `  ${c.name} ${c.type}${c.codec ? ` ${c.codec}` : ''}`);
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.flows (
${cols.join(',\n')}
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(received_at)
PRIMARY KEY time
ORDER BY (time, session_id, sequence, batch_index)`,
    `CREATE TABLE IF NOT EXISTS ${db}.workloads (
  key UInt64,
  endpoint String,
  cluster ${LC},
  namespace ${LC},
  pod ${LC},
  app ${LC},
  identity UInt32,
  labels Array(${LC}),
  last_seen DateTime('UTC')
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY key`,
    `CREATE TABLE IF NOT EXISTS ${db}.path_headers (
  key UInt64,
  path String,
  fingerprint ${LC},
  src_ia ${LC},
  dst_ia ${LC},
  hop_ias Array(${LC}),
  hop_isds Array(UInt16),
  hop_countries Array(${LC}),
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
  return createHash('sha256').update(bytes).digest().readBigUInt64LE(0);
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
    endpoint: Buffer.from(Endpoint.encode(e).finish()).toString('base64'),
    cluster: e.clusterName,
    namespace: e.namespace,
    pod: e.podName,
    app: appOf(e),
    identity: e.identity,
    labels: e.labels,
    last_seen: seenAt,
  };
}

export function pathHeaderRow(p: ScionPath, seenAt: number): Record<string, unknown> {
  return {
    key: pathKey(p).toString(),
    path: Buffer.from(ScionPath.encode(p).finish()).toString('base64'),
    fingerprint: p.fingerprint.toLowerCase(),
    src_ia: canonicalIA(p.srcIa),
    dst_ia: canonicalIA(p.dstIa),
    hop_ias: p.hops.map((h) => canonicalIA(h.isdAs)),
    hop_isds: p.hops.map((h) => Number(h.isdAs.slice(0, h.isdAs.indexOf('-'))) || 0),
    hop_countries: p.hops.map((h) => h.country.toUpperCase()),
    last_seen: seenAt,
  };
}

const WORKLOAD_STRUCTURE = [
  ['key', 'UInt64'], ['endpoint', 'String'], ['cluster', 'String'], ['namespace', 'String'], ['pod', 'String'],
  ['app', 'String'], ['identity', 'UInt32'], ['labels', 'Array(String)'], ['last_seen', 'UInt32'],
];
const PATH_HEADER_STRUCTURE = [
  ['key', 'UInt64'], ['path', 'String'], ['fingerprint', 'String'], ['src_ia', 'String'], ['dst_ia', 'String'],
  ['hop_ias', 'Array(String)'], ['hop_isds', 'Array(UInt16)'], ['hop_countries', 'Array(String)'], ['last_seen', 'UInt32'],
];

/** Rows with one column of bytes, sent as base64 text and stored as the bytes. */
async function insertWithBlob(client: ClickHouseClient, table: string, structure: string[][], blob: string, rows: Record<string, unknown>[]): Promise<void> {
  await insertSelect(client, table, structure, structure.map(([n]) => (n === blob ? `base64Decode(${n})` : n)), rows);
}

/** JSON rows read as `structure`, stored as the expressions over it. */
async function insertSelect(client: ClickHouseClient, table: string, structure: string[][], exprs: string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  await client.command({
    query: `INSERT INTO ${table} (${structure.map(([n]) => n).join(', ')})
SELECT ${exprs.join(', ')} FROM format(JSONEachRow, {structure:String}, {body:String})`,
    query_params: { structure: structure.map(([n, t]) => `${n} ${t}`).join(', '), body: rows.map((r) => JSON.stringify(r)).join('\n') },
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
  await insertWithBlob(client, `${db}.workloads`, WORKLOAD_STRUCTURE, 'endpoint', [...workloads.values()]);
  await insertWithBlob(client, `${db}.path_headers`, PATH_HEADER_STRUCTURE, 'path', [...headers.values()]);
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
