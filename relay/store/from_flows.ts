// A batch of judged flow.Flow objects as the JudgedBatch the store writes: for callers that
// still hold whole flows (the relay's ingest until it keeps columns end to end, and tests and
// benches that seed a store from a corpus). Every field the collector sets goes into its
// column; the flow's geofence, as the relay set it, becomes the batch's verdict table.
import type { ColumnBatch } from '../../columns/batch';
import { COLUMNS, L4, PRESENT, TCP_FLAGS, WIDTH, type ColumnKey } from '../../columns/layout';
import type { Endpoint, Flow, Geofence, ScionPath } from '../../proto/gen/flow/flow';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { FlowValueError } from './flow_block';
import type { JudgedBatch, StoredEndpoint, StoredPath } from './judged';
import { endpointKey, pathKey } from './keys';
import { appOf } from './rows';

export interface SessionBatch {
  sessionId: string;
  sequence: bigint;
  nodeName: string;
  flows: Flow[];
}

/** Interns values of a table whose entry 0 is "none": index 0 for none, k for entry k-1. */
class Table<T> {
  readonly entries: (T | undefined)[] = [undefined];
  private readonly index = new Map<string, number>();

  add(value: T | undefined, id: (v: T) => string): number {
    if (value === undefined) return 0;
    const k = id(value);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.entries.length;
      this.entries.push(value);
      this.index.set(k, i);
    }
    return i;
  }
}

function ns(t: Timestamp | undefined): bigint {
  return t ? t.seconds * 1_000_000_000n + BigInt(t.nanos) : 0n;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function l4Of(f: Flow): { proto: number; sport: number; dport: number; flags: number; type: number; code: number } {
  const p = f.l4?.protocol;
  switch (p?.$case) {
    case 'TCP': {
      let flags = 0;
      TCP_FLAGS.forEach((name, bit) => {
        if (p.value.flags?.[name]) flags |= 1 << bit;
      });
      return { proto: L4.TCP, sport: p.value.sourcePort, dport: p.value.destinationPort, flags, type: 0, code: 0 };
    }
    case 'UDP':
    case 'SCTP':
      return { proto: L4[p.$case], sport: p.value.sourcePort, dport: p.value.destinationPort, flags: 0, type: 0, code: 0 };
    case 'ICMPv4':
    case 'ICMPv6':
      return { proto: L4[p.$case], sport: 0, dport: 0, flags: 0, type: p.value.type, code: p.value.code };
    default:
      return { proto: L4.NONE, sport: 0, dport: 0, flags: 0, type: 0, code: 0 };
  }
}

/** The flows as columns with their tables, and what the relay decided about them (flow.geofence). */
export function judgedFromFlows(b: SessionBatch): JudgedBatch {
  const n = b.flows.length;
  const bytes = new Map<ColumnKey, Uint8Array>(COLUMNS.map((c) => [c.key, new Uint8Array(n * WIDTH[c.kind])]));
  const view = <A>(key: ColumnKey, make: (buf: ArrayBuffer) => A): A => make(bytes.get(key)!.buffer as ArrayBuffer);
  const u8 = (k: ColumnKey) => view(k, (x) => new Uint8Array(x));
  const u16 = (k: ColumnKey) => view(k, (x) => new Uint16Array(x));
  const u32 = (k: ColumnKey) => view(k, (x) => new Uint32Array(x));
  const u64 = (k: ColumnKey) => view(k, (x) => new BigUint64Array(x));
  const i64 = (k: ColumnKey) => view(k, (x) => new BigInt64Array(x));

  const strings = new Table<string>();
  const endpoints = new Table<Endpoint>();
  const paths = new Table<ScionPath>();
  const fences = new Table<Geofence>();
  const str = (s: string | undefined) => strings.add(s === '' ? undefined : s, (v) => v);
  const judgementOf = new Uint32Array(n);

  const present = u16('present');
  const time = i64('timeNs');
  const uuid = u8('uuid');
  const [verdict, flowType, direction, tracePoint, scionPoint, isReply, eventType, eventSub, ipVersion, l4p, icmpType, icmpCode] =
    (['verdict', 'flowType', 'trafficDirection', 'traceObservationPoint', 'scionObservationPoint', 'isReply', 'eventType',
      'eventSubType', 'ipVersion', 'l4Protocol', 'icmpType', 'icmpCode'] as const).map(u8);
  const [dropReason, dropDesc, sport, dport, tcpFlags] = (['dropReason', 'dropReasonDesc', 'sourcePort', 'destinationPort', 'tcpFlags'] as const).map(u16);
  const [emitterName, emitterVersion, ifIndex, ifName, srcIp, dstIp, srcEp, dstEp, path, identity, identityCluster, dropName, folded] =
    (['emitterName', 'emitterVersion', 'interfaceIndex', 'interfaceName', 'sourceIp', 'destinationIp', 'sourceEndpoint',
      'destinationEndpoint', 'path', 'identity', 'identityCluster', 'dropReasonName', 'foldedReports'] as const).map(u32);
  const [optionType, authenticated, check] = (['identityOptionType', 'identityAuthenticated', 'identityCheck'] as const).map(u8);
  const meters = (['packets', 'bytes', 'droppedPackets', 'podBytes', 'wireBytes', 'lostPackets', 'lostBytes'] as const).map(u64);
  const [firstSeen, lastSeen] = (['firstSeenNs', 'lastSeenNs'] as const).map(i64);

  for (let i = 0; i < n; i++) {
    const f = b.flows[i];
    if (!UUID_TEXT.test(f.uuid)) throw new FlowValueError(`flow ${i} of batch ${b.sequence} has uuid ${JSON.stringify(f.uuid.slice(0, 64))}, not a UUID`);
    uuid.set(Buffer.from(f.uuid.replace(/-/g, ''), 'hex'), i * 16);
    const m = f.meter;
    present[i] = (f.IP ? PRESENT.IP : 0) | (f.l4 ? PRESENT.L4 : 0) | (m ? PRESENT.METER : 0)
      | (f.identityExtension ? PRESENT.IDENTITY_EXTENSION : 0) | (f.emitter ? PRESENT.EMITTER : 0)
      | (f.interface ? PRESENT.INTERFACE : 0) | (f.eventType ? PRESENT.EVENT_TYPE : 0)
      | (f.isReply !== undefined ? PRESENT.IS_REPLY : 0) | (m?.firstSeen ? PRESENT.FIRST_SEEN : 0) | (m?.lastSeen ? PRESENT.LAST_SEEN : 0);
    time[i] = ns(f.time);
    verdict[i] = f.verdict;
    dropReason[i] = f.dropReason;
    dropDesc[i] = f.dropReasonDesc;
    flowType[i] = f.Type;
    direction[i] = f.trafficDirection;
    tracePoint[i] = f.traceObservationPoint;
    scionPoint[i] = f.scionObservationPoint;
    isReply[i] = f.isReply === undefined ? 0 : f.isReply ? 2 : 1;
    eventType[i] = f.eventType?.type ?? 0;
    eventSub[i] = f.eventType?.subType ?? 0;
    emitterName[i] = str(f.emitter?.name);
    emitterVersion[i] = str(f.emitter?.version);
    ifIndex[i] = f.interface?.index ?? 0;
    ifName[i] = str(f.interface?.name);
    ipVersion[i] = f.IP?.ipVersion ?? 0;
    srcIp[i] = str(f.IP?.source);
    dstIp[i] = str(f.IP?.destination);
    const l4 = l4Of(f);
    l4p[i] = l4.proto;
    sport[i] = l4.sport;
    dport[i] = l4.dport;
    tcpFlags[i] = l4.flags;
    icmpType[i] = l4.type;
    icmpCode[i] = l4.code;
    const epId = (e: Endpoint) => JSON.stringify(e);
    srcEp[i] = endpoints.add(f.source, epId);
    dstEp[i] = endpoints.add(f.destination, epId);
    path[i] = paths.add(f.scionPath, (p) => JSON.stringify(p, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
    const x = f.identityExtension;
    identity[i] = x?.identity ?? 0;
    identityCluster[i] = str(x?.clusterName);
    optionType[i] = x?.optionType ?? 0;
    authenticated[i] = x?.authenticated ? 1 : 0;
    check[i] = x?.check ?? 0;
    if (m) {
      [m.packets, m.bytes, m.droppedPackets, m.podBytes, m.wireBytes, m.lostPackets, m.lostBytes].forEach((v, k) => (meters[k][i] = v));
      firstSeen[i] = ns(m.firstSeen);
      lastSeen[i] = ns(m.lastSeen);
      dropName[i] = str(m.dropReasonName);
      folded[i] = m.foldedReports;
    }
    judgementOf[i] = fences.add(f.geofence, (g) => JSON.stringify(g));
  }

  const columns = columnBatch(n, strings.entries.map((s) => s ?? ''), endpoints.entries, paths.entries, bytes);
  return {
    nodeName: b.nodeName,
    sessionId: b.sessionId,
    sequence: b.sequence,
    columns,
    endpoints: endpoints.entries.map((e): StoredEndpoint | undefined => e && { key: endpointKey(e), endpoint: e, app: appOf(e) }),
    paths: paths.entries.map((p): StoredPath | undefined => p && { key: pathKey(p), path: p }),
    judgementOf,
    geofences: fences.entries,
  };
}

function columnBatch(
  count: number,
  strings: string[],
  endpoints: (Endpoint | undefined)[],
  paths: (ScionPath | undefined)[],
  bytes: Map<ColumnKey, Uint8Array>,
): ColumnBatch {
  const col = (k: ColumnKey) => bytes.get(k)!.buffer as ArrayBuffer;
  return {
    count,
    strings,
    endpoints,
    paths,
    bytes: (k) => bytes.get(k)!,
    u8: (k) => new Uint8Array(col(k)),
    u16: (k) => new Uint16Array(col(k)),
    u32: (k) => new Uint32Array(col(k)),
    u64: (k) => new BigUint64Array(col(k)),
    i64: (k) => new BigInt64Array(col(k)),
  };
}
