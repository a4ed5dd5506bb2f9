// The per-flow columns of a FlowColumns batch (proto/export/v1/export.proto), one table for
// every part that reads or writes them: the collector's encoder, the relay's view, the
// store's writer and the rebuild of a flow.Flow.
import type { FlowColumns } from '../proto/gen/export/v1/export';

/** How a column's values are laid out: fixed width, little-endian. */
export type ColumnKind = 'u8' | 'u16' | 'u32' | 'u64' | 'i64' | 'uuid' | 'string' | 'endpoint' | 'path' | 'srv6path';

export const WIDTH: Record<ColumnKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, i64: 8, uuid: 16, string: 4, endpoint: 4, path: 4, srv6path: 4 };

/** The FlowColumns fields that hold one value per flow. */
export type ColumnKey = Exclude<keyof FlowColumns, 'count' | 'strings' | 'endpoints' | 'paths' | 'srv6Paths'>;

/** Bits of the `present` column: which optional messages of flow.Flow a flow has. */
export const PRESENT = {
  IP: 1,
  L4: 2,
  METER: 4,
  IDENTITY_EXTENSION: 8,
  EMITTER: 16,
  INTERFACE: 32,
  EVENT_TYPE: 64,
  IS_REPLY: 128,
  FIRST_SEEN: 256,
  LAST_SEEN: 512,
  /** Set by the relay only (a collector's is cleared): the flow has a Geofence verdict. */
  GEOFENCE: 1024,
} as const;

/** Values of the `l4_protocol` column: which case of Layer4.protocol a flow has. */
export const L4 = { NONE: 0, TCP: 1, UDP: 2, ICMPv4: 3, ICMPv6: 4, SCTP: 5 } as const;

/** TCP flag bits of the `tcp_flags` column, in TCPFlags field order. */
export const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** Every per-flow column with its layout, in proto field order. */
export const COLUMNS: ReadonlyArray<{ key: ColumnKey; kind: ColumnKind }> = [
  { key: 'present', kind: 'u16' },
  { key: 'timeNs', kind: 'i64' },
  { key: 'uuid', kind: 'uuid' },
  { key: 'verdict', kind: 'u8' },
  { key: 'dropReason', kind: 'u16' },
  { key: 'dropReasonDesc', kind: 'u16' },
  { key: 'flowType', kind: 'u8' },
  { key: 'trafficDirection', kind: 'u8' },
  { key: 'traceObservationPoint', kind: 'u8' },
  { key: 'scionObservationPoint', kind: 'u8' },
  { key: 'isReply', kind: 'u8' },
  { key: 'eventType', kind: 'u8' },
  { key: 'eventSubType', kind: 'u8' },
  { key: 'emitterName', kind: 'string' },
  { key: 'emitterVersion', kind: 'string' },
  { key: 'interfaceIndex', kind: 'u32' },
  { key: 'interfaceName', kind: 'string' },
  { key: 'ipVersion', kind: 'u8' },
  { key: 'sourceIp', kind: 'string' },
  { key: 'destinationIp', kind: 'string' },
  { key: 'l4Protocol', kind: 'u8' },
  { key: 'sourcePort', kind: 'u16' },
  { key: 'destinationPort', kind: 'u16' },
  { key: 'tcpFlags', kind: 'u16' },
  { key: 'icmpType', kind: 'u8' },
  { key: 'icmpCode', kind: 'u8' },
  { key: 'sourceEndpoint', kind: 'endpoint' },
  { key: 'destinationEndpoint', kind: 'endpoint' },
  { key: 'path', kind: 'path' },
  { key: 'identity', kind: 'u32' },
  { key: 'identityCluster', kind: 'string' },
  { key: 'identityOptionType', kind: 'u8' },
  { key: 'identityAuthenticated', kind: 'u8' },
  { key: 'identityCheck', kind: 'u8' },
  { key: 'packets', kind: 'u64' },
  { key: 'bytes', kind: 'u64' },
  { key: 'droppedPackets', kind: 'u64' },
  { key: 'podBytes', kind: 'u64' },
  { key: 'wireBytes', kind: 'u64' },
  { key: 'lostPackets', kind: 'u64' },
  { key: 'lostBytes', kind: 'u64' },
  { key: 'firstSeenNs', kind: 'i64' },
  { key: 'lastSeenNs', kind: 'i64' },
  { key: 'dropReasonName', kind: 'string' },
  { key: 'foldedReports', kind: 'u32' },
  { key: 'ingressDeniedBy', kind: 'string' },
  { key: 'egressDeniedBy', kind: 'string' },
  { key: 'pathType', kind: 'u8' },
  { key: 'srv6Path', kind: 'srv6path' },
];
