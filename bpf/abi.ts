// The TypeScript side of bpf/include/cillion_abi.h: struct layouts, record and counter
// numbering. test/datapath/abi.test.ts compares every layout here with the BTF that clang
// emitted for the C header, so the two cannot drift apart silently.

/** Byte offset and size of each member, by its C name. */
export type StructLayout = { size: number; fields: Record<string, { offset: number; size: number }> };

function layout(size: number, fields: Array<[string, number, number]>): StructLayout {
  return { size, fields: Object.fromEntries(fields.map(([n, offset, sz]) => [n, { offset, size: sz }])) };
}

export const RECORD_VERSION = 2;
export const REC_PACKET = 1;
export const REC_PATH_MAX = 316;
export const REC_F_PATH_TRUNCATED = 0x01;
export const REC_F_HAS_INNER = 0x02;
export const REC_F_AUTHENTICATED = 0x04;
export const HDR_MAX = 352;
export const MAX_PATH_SET = 8;
export const AES_ROUND_KEYS = 44;
export { PROTO_CILLION_SHIM, SHIM_LEN } from '../scion/shim';

export const LAYOUTS: Record<string, StructLayout> = {
  cil_record_hdr: layout(4, [
    ['type', 0, 1],
    ['version', 1, 1],
    ['len', 2, 2],
  ]),
  cil_packet_meta: layout(104, [
    ['hdr', 0, 4],
    ['ifindex', 4, 4],
    ['ts_ns', 8, 8],
    ['direction', 16, 1],
    ['verdict', 17, 1],
    ['drop_reason', 18, 2],
    ['identity', 20, 4],
    ['src_ia', 24, 8],
    ['dst_ia', 32, 8],
    ['inner_proto', 40, 1],
    ['ip_version', 41, 1],
    ['path_type', 42, 1],
    ['tcp_flags', 43, 1],
    ['src_port', 44, 2],
    ['dst_port', 46, 2],
    ['src_addr', 48, 16],
    ['dst_addr', 64, 16],
    ['path_id', 80, 4],
    ['wire_len', 84, 4],
    ['pod_len', 88, 4],
    ['ingress_ifid', 92, 2],
    ['egress_ifid', 94, 2],
    ['path_len', 96, 2],
    ['flags', 98, 1],
    ['_pad0', 99, 1],
    ['policy_id', 100, 4],
  ]),
  cil_packet_record: layout(424, [
    ['meta', 0, 104],
    ['path', 104, REC_PATH_MAX],
    ['_pad2', 420, 4],
  ]),
  cil_counter_value: layout(16, [
    ['packets', 0, 8],
    ['bytes', 8, 8],
  ]),
  cil_endpoint_key: layout(4, [['ip4_be', 0, 4]]),
  cil_endpoint: layout(8, [
    ['identity', 0, 4],
    ['ifindex', 4, 4],
  ]),
  cil_egress_key: layout(12, [
    ['prefixlen', 0, 4],
    ['identity_be', 4, 4],
    ['dst_ip4_be', 8, 4],
  ]),
  cil_egress_value: layout(36, [
    ['n_paths', 0, 4],
    ['path_ids', 4, 4 * MAX_PATH_SET],
  ]),
  cil_path: layout(388, [
    ['ifindex', 0, 4],
    ['mtu', 4, 2],
    ['hdr_len', 6, 2],
    ['src_mac', 8, 6],
    ['dst_mac', 14, 6],
    ['src_ip4_be', 20, 4],
    ['dst_ip4_be', 24, 4],
    ['src_port_be', 28, 2],
    ['dst_port_be', 30, 2],
    ['egress_ifid', 32, 2],
    ['_pad0', 34, 2],
    ['hdr', 36, HDR_MAX],
  ]),
  cil_ifindex_key: layout(4, [['ifindex', 0, 4]]),
  cil_ifid_key: layout(4, [['ifid', 0, 4]]),
  cil_interface: layout(28, [
    ['ifindex', 0, 4],
    ['local_ip4_be', 4, 4],
    ['remote_ip4_be', 8, 4],
    ['local_port_be', 12, 2],
    ['remote_port_be', 14, 2],
    ['local_mac', 16, 6],
    ['remote_mac', 22, 6],
  ]),
  cil_config: layout(216, [
    ['local_ia', 0, 8],
    ['realtime_offset_ns', 8, 8],
    ['has_key', 16, 4],
    ['rk', 20, 4 * AES_ROUND_KEYS],
    ['cmac_k1', 196, 16],
  ]),
  cil_identity_key: layout(4, [['identity', 0, 4]]),
  cil_ingress_allow_key: layout(16, [
    ['dst_identity', 0, 4],
    ['src_identity', 4, 4],
    ['path_key', 8, 8],
  ]),
  cil_xpolicy_key: layout(12, [
    ['dst_identity', 0, 4],
    ['src_identity', 4, 4],
    ['proto', 8, 1],
    ['_pad0', 9, 1],
    ['dport', 10, 2],
  ]),
};

export type Direction = 'EGRESS_ENCAP' | 'INGRESS_DECAP' | 'ROUTER_FORWARD';
export const DIRECTIONS: Record<number, Direction> = {
  1: 'EGRESS_ENCAP',
  2: 'INGRESS_DECAP',
  3: 'ROUTER_FORWARD',
};

export type Verdict = 'FORWARDED' | 'DROPPED';
export const VERDICTS: Record<number, Verdict> = { 1: 'FORWARDED', 2: 'DROPPED' };

/** enum cil_counter: drop reasons (which are also record drop_reason values), then events. */
export const COUNTERS = {
  MALFORMED_UNDERLAY: 1,
  MALFORMED_SCION: 2,
  UNSUPPORTED_ADDR: 3,
  UNSUPPORTED_PATH: 4,
  MALFORMED_PATH: 5,
  WRONG_INGRESS: 6,
  EXPIRED_HOP: 7,
  BAD_MAC: 8,
  UNKNOWN_EGRESS: 9,
  NOT_FOR_US: 10,
  NO_KEY: 11,
  MALFORMED_INNER: 12,
  UNKNOWN_ENDPOINT: 13,
  INGRESS_DENIED: 14,
  PATH_MTU: 15,
  NO_PATH: 16,
  ENCAP_FAILED: 17,
  GSO: 18,
  SPOOFED_SRC: 19,
  REWRITE_FAILED: 20,
  DECAP_FAILED: 21,
  POLICY_DENIED: 22,
  AUTH_MISSING: 23,
  AUTH_NO_KEY: 24,
  AUTH_STALE: 25,
  AUTH_REPLAYED: 26,
  AUTH_BAD_MAC: 27,
  AUTH_FOREIGN_IDENTITY: 28,
  POLICY_EGRESS_DENIED: 29,
  ENCAP: 32,
  DECAP: 33,
  FORWARD: 34,
  LOCAL: 35,
  NOT_COVERED: 36,
  NOT_SCION: 37,
  RING_RESERVE_FAIL: 38,
} as const;
export type CounterName = keyof typeof COUNTERS;
export const DROP_REASON_MAX = 32;
export const COUNTER_SLOTS = 40;

const COUNTER_NAMES = new Map<number, CounterName>(
  Object.entries(COUNTERS).map(([name, idx]) => [idx, name as CounterName]),
);

/** The name of a counter slot or drop reason, or `UNKNOWN_<n>` for a number this build does not know. */
export function counterName(idx: number): string {
  return COUNTER_NAMES.get(idx) ?? `UNKNOWN_${idx}`;
}
