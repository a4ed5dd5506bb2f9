// One judged batch as the Native block of its `flows` rows (STORED_FLOW_COLUMNS, in order).
// Fixed-width columns are copied from the received bytes; columns that reference a table
// (strings, endpoints, paths, verdicts) become LowCardinality dictionaries of the values
// the kept rows use, or typed arrays looked up per row. Typed arrays are read as the
// little-endian bytes ClickHouse expects, so this runs on little-endian hosts only.
import { endianness } from 'node:os';
import type { ColumnKey } from '../../columns/layout';
import { PRESENT, WIDTH, COLUMNS } from '../../columns/layout';
import {
  GeofenceMode, GeofenceVerdict, Srv6HmacStatus, Srv6Path, type Endpoint, type Geofence, type ScionPath,
} from '../../proto/gen/flow/flow';
import { GEOFENCE_SEPARATOR, STORED_FLOW_COLUMNS, nativeType } from './flow_columns';
import { storedCount, type JudgedBatch } from './judged';
import { constIntColumn, fixedColumn, lowCardinalityColumn, nativeBlock, uuidHalfColumn, type NativeColumn } from './native';
import { canonicalIA } from './rows';

if (endianness() !== 'LE') throw new Error('the flow store writes typed arrays as little-endian Native columns');

/** A value the flows table cannot hold (an enum number without a name); the batch is refused whole. */
export class FlowValueError extends Error {
  readonly code = 'FLOW_VALUE';
  constructor(message: string) {
    super(message);
    this.name = 'FlowValueError';
  }
}

const KIND = new Map(COLUMNS.map((c) => [c.key, c.kind]));

interface Rows {
  b: JudgedBatch;
  keep?: Uint32Array;
  count: number;
  receivedAt: number;
  endpoints: readonly (Endpoint | undefined)[];
  paths: readonly (ScionPath | undefined)[];
  srv6Paths: readonly (Srv6Path | undefined)[];
}

/** The received column as it is (or the kept rows of it). */
const copied = (key: ColumnKey) => (r: Rows, type: string): NativeColumn => {
  const kind = KIND.get(key);
  if (kind === undefined) throw new Error(`no column ${key}`);
  return fixedColumn(type, WIDTH[kind], r.b.columns.bytes(key), r.keep);
};

/**
 * LowCardinality(String) whose row value is values[index[row]]: the dictionary holds only
 * the values the kept rows use, each once, "" first.
 */
function dictionaryColumn(values: readonly string[], index: Uint32Array, keep: Uint32Array | undefined, count: number): NativeColumn {
  const keyOf = new Int32Array(values.length).fill(-1);
  const keys = [''];
  const seen = new Map<string, number>([['', 0]]);
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const t = index[keep ? keep[j] : j];
    let k = keyOf[t];
    if (k < 0) {
      const v = values[t] ?? '';
      k = seen.get(v) ?? -1;
      if (k < 0) {
        k = keys.length;
        keys.push(v);
        seen.set(v, k);
      }
      keyOf[t] = k;
    }
    out[j] = k;
  }
  return lowCardinalityColumn(keys, out);
}

function constString(value: string, count: number): NativeColumn {
  return lowCardinalityColumn(value === '' ? [''] : ['', value], new Uint8Array(count).fill(value === '' ? 0 : 1));
}

type Table = 'endpoint' | 'path' | 'srv6' | 'judgement';

function tableSize(r: Rows, table: Table): number {
  switch (table) {
    case 'endpoint':
      return r.endpoints.length;
    case 'path':
      return r.paths.length;
    case 'srv6':
      return r.srv6Paths.length;
    case 'judgement':
      return r.b.geofences.length;
  }
}

/** The per-row index into one of the batch's tables. */
function indexOf(r: Rows, table: Table, key?: ColumnKey): Uint32Array {
  if (table === 'judgement') return r.b.judgementOf;
  if (table === 'srv6') return r.b.columns.u32('srv6Path');
  return r.b.columns.u32(key!);
}

/** Typed values looked up per row from a table's per-entry values. */
function lookup<A extends Uint8Array | Uint16Array | Uint32Array | BigUint64Array>(
  out: A,
  perEntry: A,
  index: Uint32Array,
  keep: Uint32Array | undefined,
): A {
  for (let j = 0; j < out.length; j++) out[j] = perEntry[index[keep ? keep[j] : j]];
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function tableStrings(r: Rows, table: Table, key: ColumnKey | undefined, value: (i: number) => string): NativeColumn {
  const size = tableSize(r, table);
  return dictionaryColumn(Array.from({ length: size }, (_, i) => value(i)), indexOf(r, table, key), r.keep, r.count);
}

function tableInts(
  r: Rows,
  type: string,
  table: Table,
  key: ColumnKey | undefined,
  make: (n: number) => Uint8Array | Uint16Array | Uint32Array | BigUint64Array,
  value: (i: number) => number | bigint,
): NativeColumn {
  const size = tableSize(r, table);
  const perEntry = make(size);
  for (let i = 0; i < size; i++) perEntry[i] = value(i) as never;
  const out = lookup(make(r.count), perEntry, indexOf(r, table, key), r.keep);
  return fixedColumn(type, out.BYTES_PER_ELEMENT, bytesOf(out));
}

const u8 = (n: number) => new Uint8Array(n);
const u32 = (n: number) => new Uint32Array(n);
const u64 = (n: number) => new BigUint64Array(n);

function endpointColumns(side: 'source' | 'destination'): Record<string, (r: Rows, type: string) => NativeColumn> {
  const key: ColumnKey = side === 'source' ? 'sourceEndpoint' : 'destinationEndpoint';
  const ep = (r: Rows, i: number) => r.endpoints[i];
  return {
    [`${side}_workload`]: (r, t) => tableInts(r, t, 'endpoint', key, u64, (i) => r.b.endpoints[i]?.key ?? 0n),
    [`${side}_cluster`]: (r) => tableStrings(r, 'endpoint', key, (i) => ep(r, i)?.clusterName ?? ''),
    [`${side}_namespace`]: (r) => tableStrings(r, 'endpoint', key, (i) => ep(r, i)?.namespace ?? ''),
    [`${side}_app`]: (r) => tableStrings(r, 'endpoint', key, (i) => r.b.endpoints[i]?.app ?? ''),
  };
}

const strings = (key: ColumnKey) => (r: Rows) => dictionaryColumn(r.b.columns.strings, r.b.columns.u32(key), r.keep, r.count);
const fence = (r: Rows, i: number): Geofence | undefined => r.b.geofences[i];

function present(r: Rows, type: string): NativeColumn {
  const bits = r.b.columns.u16('present');
  const out = new Uint16Array(r.count);
  for (let j = 0; j < r.count; j++) {
    const i = r.keep ? r.keep[j] : j;
    const judged = r.b.geofences[r.b.judgementOf[i]] !== undefined ? PRESENT.GEOFENCE : 0;
    out[j] = (bits[i] & ~PRESENT.GEOFENCE) | judged;
  }
  return fixedColumn(type, 2, bytesOf(out));
}

/** A received 64-bit column as little-endian 32-bit halves: [2i] low, [2i + 1] high. */
function halves(r: Rows, key: ColumnKey): DataView {
  const b = r.b.columns.bytes(key);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A 64-bit column computed per kept row from received 64-bit columns, in 32-bit halves so
 * that no row makes a BigInt; `f` writes the row's low and high half into out[o], out[o + 1].
 */
function derived64(keys: ColumnKey[], f: (v: DataView[], at: number, out: Uint32Array, o: number) => void) {
  return (r: Rows, type: string): NativeColumn => {
    const views = keys.map((k) => halves(r, k));
    const out = new Uint32Array(r.count * 2);
    for (let j = 0; j < r.count; j++) f(views, (r.keep ? r.keep[j] : j) * 8, out, j * 2);
    return fixedColumn(type, 8, bytesOf(out));
  };
}

/** a - b, wrapping around 64 bits. */
function difference(a: DataView, b: DataView, at: number, out: Uint32Array, o: number): void {
  const aLo = a.getUint32(at, true);
  const bLo = b.getUint32(at, true);
  out[o] = aLo - bLo;
  out[o + 1] = a.getUint32(at + 4, true) - b.getUint32(at + 4, true) - (aLo < bLo ? 1 : 0);
}

/** bytes XOR the pod bytes, or the wire bytes where there are none (flow_columns.ts FLOW_ALIASES). */
function bytesXor([bytes, pod, wire]: DataView[], at: number, out: Uint32Array, o: number): void {
  const ref = pod.getUint32(at, true) !== 0 || pod.getUint32(at + 4, true) !== 0 ? pod : wire;
  out[o] = bytes.getUint32(at, true) ^ ref.getUint32(at, true);
  out[o + 1] = bytes.getUint32(at + 4, true) ^ ref.getUint32(at + 4, true);
}

/** A name of `e` for the number v; a number without one cannot be stored. */
function enumName(e: Record<number, string>, what: string, v: number): string {
  const name = e[v];
  if (name === undefined || name === 'UNRECOGNIZED') throw new FlowValueError(`${what} ${v} names nothing`);
  return name;
}

/**
 * A judgement as the geofence column holds it (flow_columns.ts GEOFENCE_FIELDS): its fields
 * joined by GEOFENCE_SEPARATOR, those of no judgement where there is none.
 */
function geofenceRecord(f: Geofence | undefined): string {
  const hop = f?.offendingHop;
  const texts = [f?.name ?? '', f?.namespace ?? '', f?.reason ?? '', f?.offendingIsdAs ?? '', f?.offendingCountry ?? '', f?.offendingSid ?? ''];
  if (texts.some((t) => t.includes(GEOFENCE_SEPARATOR))) throw new FlowValueError(`geofence ${JSON.stringify(f?.name)} has a NUL in its name, namespace, reason or offending hop`);
  return [
    enumName(GeofenceVerdict, 'geofence verdict', f?.verdict ?? 0), texts[0], texts[1], enumName(GeofenceMode, 'geofence mode', f?.mode ?? 0), texts[2],
    // -1 when the verdict names no hop.
    hop === undefined || hop > 0x7fff ? '-1' : String(hop), texts[3], texts[4], texts[5],
  ].join(GEOFENCE_SEPARATOR);
}

/** An SRv6 path as the srv6_path column holds it (flow_columns.ts). */
export function srv6PathText(p: Srv6Path | undefined): string {
  return p ? Buffer.from(Srv6Path.encode(p).finish()).toString('base64') : '';
}

/** Columns of one SRv6 path table entry's field, "" without a path. */
const srv6Strings = (value: (p: Srv6Path) => string) => (r: Rows) =>
  tableStrings(r, 'srv6', undefined, (i) => {
    const p = r.srv6Paths[i];
    return p ? value(p) : '';
  });

/** How each stored column is filled (DESIGN: the flow-to-column mapping). */
const BUILDERS: Record<string, (r: Rows, type: string) => NativeColumn> = {
  time: copied('timeNs'),
  received_at: (r, t) => constIntColumn(t, r.receivedAt, r.count),
  session_id: (r) => constString(r.b.sessionId, r.count),
  sequence: (r, t) => constIntColumn(t, r.b.sequence, r.count),
  batch_index: (r, t) => fixedColumn(t, 4, bytesOf(r.keep ?? Uint32Array.from({ length: r.count }, (_, i) => i))),
  node_name: (r) => constString(r.b.nodeName, r.count),
  uuid_hi: (r) => uuidHalfColumn(r.b.columns.bytes('uuid'), 0, r.keep),
  uuid_lo: (r) => uuidHalfColumn(r.b.columns.bytes('uuid'), 1, r.keep),
  present,
  verdict: copied('verdict'),
  drop_reason: copied('dropReasonDesc'),
  drop_reason_code: copied('dropReason'),
  flow_type: copied('flowType'),
  traffic_direction: copied('trafficDirection'),
  observation_point: copied('traceObservationPoint'),
  scion_observation_point: copied('scionObservationPoint'),
  is_reply: copied('isReply'),
  event_type: copied('eventType'),
  event_sub_type: copied('eventSubType'),
  emitter_name: strings('emitterName'),
  emitter_version: strings('emitterVersion'),
  interface_index: copied('interfaceIndex'),
  interface_name: strings('interfaceName'),
  ip_version: copied('ipVersion'),
  source_ip: strings('sourceIp'),
  destination_ip: strings('destinationIp'),
  protocol: copied('l4Protocol'),
  source_port: copied('sourcePort'),
  destination_port: copied('destinationPort'),
  tcp_flags: copied('tcpFlags'),
  icmp_type: copied('icmpType'),
  icmp_code: copied('icmpCode'),
  ...endpointColumns('source'),
  ...endpointColumns('destination'),
  path_key: (r, t) => tableInts(r, t, 'path', 'path', u64, (i) => r.b.paths[i]?.key ?? 0n),
  src_ia: (r) => tableStrings(r, 'path', 'path', (i) => canonicalIA(r.paths[i]?.srcIa ?? '')),
  dst_ia: (r) => tableStrings(r, 'path', 'path', (i) => canonicalIA(r.paths[i]?.dstIa ?? '')),
  path_fingerprint: (r) => tableStrings(r, 'path', 'path', (i) => (r.paths[i]?.fingerprint ?? '').toLowerCase()),
  path_known: (r, t) => tableInts(r, t, 'path', 'path', u8, (i) => (r.paths[i]?.knownToControlPlane ? 1 : 0)),
  identity_ext: copied('identity'),
  identity_cluster: strings('identityCluster'),
  identity_option_type: copied('identityOptionType'),
  identity_authenticated: copied('identityAuthenticated'),
  identity_check: copied('identityCheck'),
  geofence: (r) => tableStrings(r, 'judgement', undefined, (i) => geofenceRecord(fence(r, i))),
  packets: copied('packets'),
  bytes_xor: derived64(['bytes', 'podBytes', 'wireBytes'], bytesXor),
  dropped_packets: copied('droppedPackets'),
  pod_bytes: copied('podBytes'),
  wire_over_pod: derived64(['wireBytes', 'podBytes'], ([wire, pod], at, out, o) => difference(wire, pod, at, out, o)),
  lost_packets: copied('lostPackets'),
  lost_bytes: copied('lostBytes'),
  first_seen_gap_ns: derived64(['timeNs', 'firstSeenNs'], ([time, first], at, out, o) => difference(time, first, at, out, o)),
  last_seen_gap_ns: derived64(['timeNs', 'lastSeenNs'], ([time, last], at, out, o) => difference(time, last, at, out, o)),
  drop_reason_name: strings('dropReasonName'),
  folded_reports: copied('foldedReports'),
  ingress_denied_by: strings('ingressDeniedBy'),
  egress_denied_by: strings('egressDeniedBy'),
  path_type: copied('pathType'),
  srv6_path: (r) => tableStrings(r, 'srv6', undefined, (i) => srv6PathText(r.srv6Paths[i])),
  srv6_segments: srv6Strings((p) => p.segments.join(',')),
  srv6_countries: srv6Strings((p) => p.hops.map((h) => h.country.toUpperCase()).join(',')),
  srv6_vrf: (r, t) => tableInts(r, t, 'srv6', undefined, u32, (i) => r.srv6Paths[i]?.tenantId ?? 0),
  srv6_tenant: srv6Strings((p) => p.tenant),
  srv6_fingerprint: srv6Strings((p) => p.fingerprint.toLowerCase()),
  srv6_hmac: (r, t) => tableInts(r, t, 'srv6', undefined, u8, (i) => {
    const status = r.srv6Paths[i]?.hmac?.status ?? 0;
    enumName(Srv6HmacStatus, 'SRv6 HMAC status', status);
    return status;
  }),
};

for (const c of STORED_FLOW_COLUMNS) if (!BUILDERS[c.name]) throw new Error(`flows column ${c.name} has no builder`);

/** Enum columns copied from the batch as received (the geofence ones hold what the relay decided). */
const ENUM_SOURCES: Record<string, ColumnKey> = {
  verdict: 'verdict',
  drop_reason: 'dropReasonDesc',
  flow_type: 'flowType',
  traffic_direction: 'trafficDirection',
  observation_point: 'traceObservationPoint',
  scion_observation_point: 'scionObservationPoint',
  protocol: 'l4Protocol',
  identity_check: 'identityCheck',
  path_type: 'pathType',
};

/** Per such column, the numbers its Enum names. */
const ENUM_CHECKS = Object.entries(ENUM_SOURCES).map(([column, source]) => {
  const type = STORED_FLOW_COLUMNS.find((c) => c.name === column)?.type ?? '';
  const named = new Uint8Array(type.startsWith('Enum8') ? 0x100 : 0x10000);
  for (const m of type.matchAll(/' = (\d+)/g)) named[Number(m[1])] = 1;
  return { column, source, named, wide: type.startsWith('Enum16') };
});

/** An enum number no name stands for would be stored as is and break every read of its row. */
function checkEnums(r: Rows): void {
  for (const e of ENUM_CHECKS) {
    const values = e.wide ? r.b.columns.u16(e.source) : r.b.columns.u8(e.source);
    for (let j = 0; j < r.count; j++) {
      const v = values[r.keep ? r.keep[j] : j];
      if (e.named[v] === 0) throw new FlowValueError(`flow ${r.keep ? r.keep[j] : j} of batch ${r.b.sequence} has ${e.column} ${v}, which names nothing`);
    }
  }
}

/** The kept flows of `b` as one Native block in `flows` column order; receivedAt in Unix seconds. */
export function flowBlock(b: JudgedBatch, receivedAt: number): Buffer {
  const count = storedCount(b);
  const r: Rows = {
    b,
    keep: b.keep,
    count,
    receivedAt,
    endpoints: b.endpoints.map((e) => e?.endpoint),
    paths: b.paths.map((p) => p?.path),
    srv6Paths: b.srv6Paths ?? b.columns.srv6Paths,
  };
  checkEnums(r);
  return nativeBlock(STORED_FLOW_COLUMNS.map((c) => [c.name, BUILDERS[c.name](r, nativeType(c.type))] as const), 64 + count * 160);
}
