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
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
} from '../../proto/gen/flow/flow';

const LC = 'LowCardinality(String)';

/** A ts-proto enum as a ClickHouse Enum of its names, so SQL compares names ('DROPPED') and stores a number. */
export function enumType(bits: 8 | 16, e: Record<string, string | number>): string {
  const entries = Object.entries(e).filter(([k, v]) => typeof v === 'number' && v >= 0 && k !== 'UNRECOGNIZED');
  return `Enum${bits}(${entries.map(([k, v]) => `'${k}' = ${v}`).join(', ')})`;
}

/** Layer4 protocol names as before ('' when the flow has none), numbered as the l4_protocol column (columns/layout.ts L4). */
export const PROTOCOL_TYPE = "Enum8('' = 0, 'TCP' = 1, 'UDP' = 2, 'ICMPv4' = 3, 'ICMPv6' = 4, 'SCTP' = 5)";

export interface StoredColumn {
  name: string;
  type: string;
  codec?: string;
}

const TIME_CODEC = 'CODEC(Delta, ZSTD(1))';
const COUNT_CODEC = 'CODEC(T64, ZSTD(1))';

/** The endpoint columns of one side: a reference into `workloads`, and what filters and dashboards select on. */
function endpointColumns(side: 'source' | 'destination'): StoredColumn[] {
  return [
    { name: `${side}_workload`, type: 'UInt64' },
    { name: `${side}_cluster`, type: LC },
    { name: `${side}_namespace`, type: LC },
    { name: `${side}_pod`, type: LC },
    { name: `${side}_app`, type: LC },
    { name: `${side}_identity`, type: 'UInt32' },
  ];
}

export const STORED_FLOW_COLUMNS: readonly StoredColumn[] = [
  { name: 'time', type: "DateTime64(9, 'UTC')", codec: TIME_CODEC },
  { name: 'received_at', type: "DateTime('UTC')", codec: TIME_CODEC },
  { name: 'session_id', type: LC },
  { name: 'sequence', type: 'UInt64', codec: TIME_CODEC },
  { name: 'batch_index', type: 'UInt32', codec: TIME_CODEC },
  { name: 'node_name', type: LC },
  { name: 'uuid', type: 'UUID' },
  { name: 'present', type: 'UInt16' },
  { name: 'verdict', type: enumType(8, Verdict) },
  { name: 'drop_reason', type: enumType(16, DropReason) },
  { name: 'drop_reason_code', type: 'UInt16' },
  { name: 'flow_type', type: enumType(8, FlowType) },
  { name: 'traffic_direction', type: enumType(8, TrafficDirection) },
  { name: 'observation_point', type: enumType(8, TraceObservationPoint) },
  { name: 'scion_observation_point', type: enumType(8, ScionObservationPoint) },
  { name: 'is_reply', type: 'UInt8' },
  { name: 'event_type', type: 'UInt8' },
  { name: 'event_sub_type', type: 'UInt8' },
  { name: 'emitter_name', type: LC },
  { name: 'emitter_version', type: LC },
  { name: 'interface_index', type: 'UInt32' },
  { name: 'interface_name', type: LC },
  { name: 'ip_version', type: 'UInt8' },
  { name: 'source_ip', type: LC },
  { name: 'destination_ip', type: LC },
  { name: 'protocol', type: PROTOCOL_TYPE },
  { name: 'source_port', type: 'UInt16' },
  { name: 'destination_port', type: 'UInt16' },
  { name: 'tcp_flags', type: 'UInt16' },
  { name: 'icmp_type', type: 'UInt8' },
  { name: 'icmp_code', type: 'UInt8' },
  ...endpointColumns('source'),
  ...endpointColumns('destination'),
  { name: 'path_key', type: 'UInt64' },
  { name: 'src_ia', type: LC },
  { name: 'dst_ia', type: LC },
  { name: 'path_fingerprint', type: LC },
  { name: 'path_known', type: 'UInt8' },
  { name: 'path_latency_ns', type: 'Nullable(UInt64)' },
  { name: 'identity_ext', type: 'UInt32' },
  { name: 'identity_cluster', type: LC },
  { name: 'identity_option_type', type: 'UInt8' },
  { name: 'identity_authenticated', type: 'UInt8' },
  { name: 'identity_check', type: enumType(8, IdentityCheck) },
  { name: 'geofence_verdict', type: enumType(8, GeofenceVerdict) },
  { name: 'geofence_name', type: LC },
  { name: 'geofence_namespace', type: LC },
  { name: 'geofence_mode', type: enumType(8, GeofenceMode) },
  { name: 'geofence_reason', type: LC },
  { name: 'geofence_offending_hop', type: 'Int16' },
  { name: 'geofence_offending_isd_as', type: LC },
  { name: 'geofence_offending_country', type: LC },
  { name: 'packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'dropped_packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'pod_bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'wire_bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'lost_packets', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'lost_bytes', type: 'UInt64', codec: COUNT_CODEC },
  { name: 'first_seen', type: "DateTime64(9, 'UTC')", codec: TIME_CODEC },
  { name: 'last_seen', type: "DateTime64(9, 'UTC')", codec: TIME_CODEC },
  { name: 'drop_reason_name', type: LC },
  { name: 'folded_reports', type: 'UInt32' },
];
