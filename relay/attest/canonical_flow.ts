// The evidence form of a flow: the fields an attestation relies on and nothing else, one
// canonical JSON object per line (canonical_json.ts). Fields:
//   time     capture time, RFC 3339 UTC with exactly nine fraction digits (sorts as text)
//   uuid     the flow's id in the store
//   node     node that observed it
//   point    SCION observation point: SCION_EDGE_ENCAP, SCION_EDGE_DECAP, SCION_ROUTER_FORWARD, SCION_POINT_UNKNOWN
//   proto    TCP, UDP, SCTP, ICMPv4, ICMPv6, VRRP, IGMP or ""; srcPort/dstPort 0 without ports
//   srcIp, srcPort, dstIp, dstPort
//   src, dst {cluster, namespace, pod, workload ("Kind/name" or ""), identity, labels (sorted)}
//   verdict  the datapath verdict (FORWARDED, DROPPED, ...)
//   packets, bytes   the flow meter's counts as decimal strings (64-bit), null without a meter;
//            bytes are the meter's `bytes`: pod bytes (the pod's IPv4 packets plus 14 bytes of
//            Ethernet each, the same figure at the sending and the receiving edge) where the
//            flow has a pod packet, wire bytes where it has none (a router's flow)
//   path     the flow's WAN path: a SCION path's fingerprint, an SRv6 path's key ("srv6:" and
//            the SHA-256 of its predicate entry, evidence_row.ts srv6Key), "" when it carried none
//   fence    {verdict: COMPLIANT | VIOLATION | UNVERIFIED, name, reason}, null when no geofence applied
// Evidence lines are ordered by time, then by the line's own bytes, so the order depends only
// on the flows, not on how the store happened to return them.
import {
  geofenceVerdictToJSON, scionObservationPointToJSON, verdictToJSON, WanPathType, type Endpoint, type Flow,
} from '../../proto/gen/flow/flow';
import { srv6Entry, srv6Key } from './evidence_row';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';

export type FenceVerdictName = 'COMPLIANT' | 'VIOLATION' | 'UNVERIFIED';

export interface CanonicalEndpoint {
  cluster: string;
  namespace: string;
  pod: string;
  workload: string;
  identity: number;
  labels: string[];
}

export interface CanonicalFlow {
  time: string;
  uuid: string;
  node: string;
  point: string;
  proto: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  src: CanonicalEndpoint;
  dst: CanonicalEndpoint;
  verdict: string;
  packets: string | null;
  bytes: string | null;
  path: string;
  fence: { verdict: FenceVerdictName; name: string; reason: string } | null;
}

// Flows come in time order, so the whole-second part repeats from one flow to the next.
let lastSeconds: bigint | undefined;
let lastPrefix = '';

/** RFC 3339 UTC with nine fraction digits, e.g. 2026-11-22T12:00:00.000000001Z. */
export function formatTime(seconds: bigint, nanos: number): string {
  if (seconds !== lastSeconds) {
    lastPrefix = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
    lastSeconds = seconds;
  }
  return `${lastPrefix}.${String(nanos).padStart(9, '0')}Z`;
}

export function formatTimestamp(t: Timestamp | undefined): string {
  return t === undefined ? formatTime(0n, 0) : formatTime(t.seconds, t.nanos);
}

export function formatDate(d: Date): string {
  const ms = d.getTime();
  return formatTime(BigInt(Math.floor(ms / 1000)), (((ms % 1000) + 1000) % 1000) * 1_000_000);
}

export function canonicalEndpoint(ep: Endpoint | undefined): CanonicalEndpoint {
  const w = ep?.workloads[0];
  return {
    cluster: ep?.clusterName ?? '',
    namespace: ep?.namespace ?? '',
    pod: ep?.podName ?? '',
    workload: w ? `${w.kind}/${w.name}` : '',
    identity: ep?.identity ?? 0,
    labels: [...(ep?.labels ?? [])].sort(),
  };
}

const FENCE_VERDICTS: Record<string, FenceVerdictName> = {
  GEOFENCE_COMPLIANT: 'COMPLIANT',
  GEOFENCE_VIOLATION: 'VIOLATION',
  GEOFENCE_UNVERIFIED: 'UNVERIFIED',
};

/** The evidence name of a geofence verdict; undefined for one that is no verdict (unknown). */
export function fenceVerdictName(v: number): FenceVerdictName | undefined {
  return FENCE_VERDICTS[geofenceVerdictToJSON(v)];
}

/** The evidence key of the WAN path a flow carried. */
export function pathKey(f: Flow): string {
  if (f.pathType === WanPathType.WAN_PATH_SRV6) return f.srv6Path ? srv6Key(srv6Entry(f.srv6Path)) : '';
  return f.scionPath?.fingerprint.toLowerCase() ?? '';
}

export function canonicalFlow(f: Flow): CanonicalFlow {
  const l4 = f.l4?.protocol;
  const ports = l4 && 'sourcePort' in l4.value ? { srcPort: l4.value.sourcePort, dstPort: l4.value.destinationPort } : { srcPort: 0, dstPort: 0 };
  const fenceVerdict = f.geofence ? fenceVerdictName(f.geofence.verdict) : undefined;
  return {
    time: formatTimestamp(f.time),
    uuid: f.uuid,
    node: f.nodeName,
    point: scionObservationPointToJSON(f.scionObservationPoint),
    proto: l4?.$case ?? '',
    srcIp: f.IP?.source ?? '',
    srcPort: ports.srcPort,
    dstIp: f.IP?.destination ?? '',
    dstPort: ports.dstPort,
    src: canonicalEndpoint(f.source),
    dst: canonicalEndpoint(f.destination),
    verdict: verdictToJSON(f.verdict),
    packets: f.meter ? f.meter.packets.toString() : null,
    bytes: f.meter ? f.meter.bytes.toString() : null,
    path: pathKey(f),
    fence: f.geofence && fenceVerdict ? { verdict: fenceVerdict, name: f.geofence.name, reason: f.geofence.reason } : null,
  };
}

const str = JSON.stringify;

export function endpointJson(e: CanonicalEndpoint): string {
  return `{"cluster":${str(e.cluster)},"identity":${e.identity},"labels":${str(e.labels)},"namespace":${str(e.namespace)},"pod":${str(e.pod)},"workload":${str(e.workload)}}`;
}

export function fenceJson(fence: CanonicalFlow['fence']): string {
  return fence === null ? 'null' : `{"name":${str(fence.name)},"reason":${str(fence.reason)},"verdict":${str(fence.verdict)}}`;
}

/**
 * An evidence line from its fields, each already written as JSON (numbers as numbers), in
 * the line's key order. canonicalLine and the export from stored columns both write
 * through it, so they cannot differ in layout.
 */
export function lineJson(
  bytes: string, dst: string, dstIp: string, dstPort: number, fence: string, node: string, packets: string, path: string,
  point: string, proto: string, src: string, srcIp: string, srcPort: number, time: string, uuid: string, verdict: string,
): string {
  return `{"bytes":${bytes},"dst":${dst},"dstIp":${dstIp},"dstPort":${dstPort},"fence":${fence},"node":${node},"packets":${packets},` +
    `"path":${path},"point":${point},"proto":${proto},"src":${src},"srcIp":${srcIp},"srcPort":${srcPort},"time":${time},"uuid":${uuid},"verdict":${verdict}}`;
}

/**
 * canonicalJson(c), written out field by field in sorted key order because export and
 * verify run it for every flow; the tests hold the two equal.
 */
export function canonicalLine(c: CanonicalFlow): string {
  return lineJson(
    str(c.bytes), endpointJson(c.dst), str(c.dstIp), c.dstPort, fenceJson(c.fence), str(c.node), str(c.packets), str(c.path),
    str(c.point), str(c.proto), endpointJson(c.src), str(c.srcIp), c.srcPort, str(c.time), str(c.uuid), str(c.verdict),
  );
}
