// Generated from bpf/include/cillion_abi.h by bpf/layout/main.ts (make bpf/abi_layout.gen.ts): do not edit.
// docs/record-layout.md says how the layout is generated and checked, and how to add a field.

/** Every struct of the header: its size, and each member's byte offset and size. */
export const STRUCTS = {
  cil_record_hdr: {
    size: 4,
    fields: {
      type: { offset: 0, size: 1 },
      version: { offset: 1, size: 1 },
      len: { offset: 2, size: 2 },
    },
  },
  cil_packet_meta: {
    size: 144,
    fields: {
      hdr: { offset: 0, size: 4 },
      ifindex: { offset: 4, size: 4 },
      ts_ns: { offset: 8, size: 8 },
      direction: { offset: 16, size: 1 },
      verdict: { offset: 17, size: 1 },
      drop_reason: { offset: 18, size: 2 },
      identity: { offset: 20, size: 4 },
      src_ia: { offset: 24, size: 8 },
      dst_ia: { offset: 32, size: 8 },
      inner_proto: { offset: 40, size: 1 },
      ip_version: { offset: 41, size: 1 },
      path_type: { offset: 42, size: 1 },
      tcp_flags: { offset: 43, size: 1 },
      src_port: { offset: 44, size: 2 },
      dst_port: { offset: 46, size: 2 },
      src_addr: { offset: 48, size: 16 },
      dst_addr: { offset: 64, size: 16 },
      path_id: { offset: 80, size: 4 },
      wire_len: { offset: 84, size: 4 },
      pod_len: { offset: 88, size: 4 },
      ingress_ifid: { offset: 92, size: 2 },
      egress_ifid: { offset: 94, size: 2 },
      path_len: { offset: 96, size: 2 },
      flags: { offset: 98, size: 1 },
      path_kind: { offset: 99, size: 1 },
      policy_id: { offset: 100, size: 4 },
      tenant_id: { offset: 104, size: 4 },
      outer_src: { offset: 108, size: 16 },
      outer_dst: { offset: 124, size: 16 },
      _pad1: { offset: 140, size: 4 },
    },
  },
  cil_packet_record: {
    size: 464,
    fields: {
      meta: { offset: 0, size: 144 },
      path: { offset: 144, size: 316 },
      _pad2: { offset: 460, size: 4 },
    },
  },
  cil_counter_value: {
    size: 16,
    fields: {
      packets: { offset: 0, size: 8 },
      bytes: { offset: 8, size: 8 },
    },
  },
  cil_endpoint_key: {
    size: 4,
    fields: {
      ip4_be: { offset: 0, size: 4 },
    },
  },
  cil_endpoint: {
    size: 8,
    fields: {
      identity: { offset: 0, size: 4 },
      ifindex: { offset: 4, size: 4 },
    },
  },
  cil_egress_key: {
    size: 12,
    fields: {
      prefixlen: { offset: 0, size: 4 },
      identity_be: { offset: 4, size: 4 },
      dst_ip4_be: { offset: 8, size: 4 },
    },
  },
  cil_egress_value: {
    size: 36,
    fields: {
      n_paths: { offset: 0, size: 4 },
      path_ids: { offset: 4, size: 32 },
    },
  },
  cil_path: {
    size: 388,
    fields: {
      ifindex: { offset: 0, size: 4 },
      mtu: { offset: 4, size: 2 },
      hdr_len: { offset: 6, size: 2 },
      src_mac: { offset: 8, size: 6 },
      dst_mac: { offset: 14, size: 6 },
      src_ip4_be: { offset: 20, size: 4 },
      dst_ip4_be: { offset: 24, size: 4 },
      src_port_be: { offset: 28, size: 2 },
      dst_port_be: { offset: 30, size: 2 },
      egress_ifid: { offset: 32, size: 2 },
      _pad0: { offset: 34, size: 2 },
      hdr: { offset: 36, size: 352 },
    },
  },
  cil_ifindex_key: {
    size: 4,
    fields: {
      ifindex: { offset: 0, size: 4 },
    },
  },
  cil_ifid_key: {
    size: 4,
    fields: {
      ifid: { offset: 0, size: 4 },
    },
  },
  cil_interface: {
    size: 28,
    fields: {
      ifindex: { offset: 0, size: 4 },
      local_ip4_be: { offset: 4, size: 4 },
      remote_ip4_be: { offset: 8, size: 4 },
      local_port_be: { offset: 12, size: 2 },
      remote_port_be: { offset: 14, size: 2 },
      local_mac: { offset: 16, size: 6 },
      remote_mac: { offset: 22, size: 6 },
    },
  },
  cil_config: {
    size: 216,
    fields: {
      local_ia: { offset: 0, size: 8 },
      realtime_offset_ns: { offset: 8, size: 8 },
      has_key: { offset: 16, size: 4 },
      rk: { offset: 20, size: 176 },
      cmac_k1: { offset: 196, size: 16 },
    },
  },
  cil_identity_key: {
    size: 4,
    fields: {
      identity: { offset: 0, size: 4 },
    },
  },
  cil_ingress_allow_key: {
    size: 16,
    fields: {
      dst_identity: { offset: 0, size: 4 },
      src_identity: { offset: 4, size: 4 },
      path_key: { offset: 8, size: 8 },
    },
  },
  cil_xpolicy_key: {
    size: 12,
    fields: {
      dst_identity: { offset: 0, size: 4 },
      src_identity: { offset: 4, size: 4 },
      proto: { offset: 8, size: 1 },
      _pad0: { offset: 9, size: 1 },
      dport: { offset: 10, size: 2 },
    },
  },
  cil_srv6_seglist: {
    size: 248,
    fields: {
      ifindex: { offset: 0, size: 4 },
      mtu: { offset: 4, size: 2 },
      hdr_len: { offset: 6, size: 2 },
      tenant_id: { offset: 8, size: 4 },
      src_mac: { offset: 12, size: 6 },
      dst_mac: { offset: 18, size: 6 },
      hdr: { offset: 24, size: 224 },
    },
  },
  cil_sid_key: {
    size: 16,
    fields: {
      sid: { offset: 0, size: 16 },
    },
  },
  cil_local_sid: {
    size: 24,
    fields: {
      behavior: { offset: 0, size: 4 },
      tenant_id: { offset: 4, size: 4 },
      ifindex: { offset: 8, size: 4 },
      src_mac: { offset: 12, size: 6 },
      dst_mac: { offset: 18, size: 6 },
    },
  },
  cil_locator_key: {
    size: 20,
    fields: {
      prefixlen: { offset: 0, size: 4 },
      addr: { offset: 4, size: 16 },
    },
  },
  cil_tenant_key4: {
    size: 12,
    fields: {
      prefixlen: { offset: 0, size: 4 },
      tenant_id_be: { offset: 4, size: 4 },
      ip4_be: { offset: 8, size: 4 },
    },
  },
  cil_tenant_key6: {
    size: 24,
    fields: {
      prefixlen: { offset: 0, size: 4 },
      tenant_id_be: { offset: 4, size: 4 },
      ip6: { offset: 8, size: 16 },
    },
  },
  cil_tenant_route: {
    size: 8,
    fields: {
      ifindex: { offset: 0, size: 4 },
      identity: { offset: 4, size: 4 },
    },
  },
} as const;

/** Every enum of the header, by its C names. */
export const ENUMS = {
  cil_record_type: {
    CIL_REC_PACKET: 1,
  },
  cil_direction: {
    CIL_DIR_EGRESS_ENCAP: 1,
    CIL_DIR_INGRESS_DECAP: 2,
    CIL_DIR_ROUTER_FORWARD: 3,
  },
  cil_path_kind: {
    CIL_PATH_SCION: 0,
    CIL_PATH_SRV6: 1,
  },
  cil_verdict: {
    CIL_VERDICT_FORWARDED: 1,
    CIL_VERDICT_DROPPED: 2,
  },
  cil_counter: {
    CIL_CNT_NONE: 0,
    CIL_DROP_MALFORMED_UNDERLAY: 1,
    CIL_DROP_MALFORMED_SCION: 2,
    CIL_DROP_UNSUPPORTED_ADDR: 3,
    CIL_DROP_UNSUPPORTED_PATH: 4,
    CIL_DROP_MALFORMED_PATH: 5,
    CIL_DROP_WRONG_INGRESS: 6,
    CIL_DROP_EXPIRED_HOP: 7,
    CIL_DROP_BAD_MAC: 8,
    CIL_DROP_UNKNOWN_EGRESS: 9,
    CIL_DROP_NOT_FOR_US: 10,
    CIL_DROP_NO_KEY: 11,
    CIL_DROP_MALFORMED_INNER: 12,
    CIL_DROP_UNKNOWN_ENDPOINT: 13,
    CIL_DROP_INGRESS_DENIED: 14,
    CIL_DROP_PATH_MTU: 15,
    CIL_DROP_NO_PATH: 16,
    CIL_DROP_ENCAP_FAILED: 17,
    CIL_DROP_GSO: 18,
    CIL_DROP_SPOOFED_SRC: 19,
    CIL_DROP_REWRITE_FAILED: 20,
    CIL_DROP_DECAP_FAILED: 21,
    CIL_DROP_POLICY_DENIED: 22,
    CIL_DROP_AUTH_MISSING: 23,
    CIL_DROP_AUTH_NO_KEY: 24,
    CIL_DROP_AUTH_STALE: 25,
    CIL_DROP_AUTH_REPLAYED: 26,
    CIL_DROP_AUTH_BAD_MAC: 27,
    CIL_DROP_AUTH_FOREIGN_IDENTITY: 28,
    CIL_DROP_POLICY_EGRESS_DENIED: 29,
    CIL_DROP_SRH_MALFORMED: 30,
    CIL_DROP_SRH_BAD_LAST_ENTRY: 31,
    CIL_DROP_SRH_BAD_SEGLEFT: 32,
    CIL_DROP_SRH_BAD_TLV: 33,
    CIL_DROP_SRV6_UNKNOWN_SID: 34,
    CIL_DROP_SRV6_NO_SRH: 35,
    CIL_DROP_SRV6_HOP_LIMIT: 36,
    CIL_DROP_SRV6_NO_ROUTE: 37,
    CIL_DROP_SRV6_BAD_INNER: 38,
    CIL_DROP_SRV6_NO_TENANT_ROUTE: 39,
    CIL_DROP_SRV6_NO_SEGLIST: 40,
    CIL_DROP_REASON_MAX: 48,
    CIL_CNT_ENCAP: 48,
    CIL_CNT_DECAP: 49,
    CIL_CNT_FORWARD: 50,
    CIL_CNT_LOCAL: 51,
    CIL_CNT_NOT_COVERED: 52,
    CIL_CNT_NOT_SCION: 53,
    CIL_CNT_RING_RESERVE_FAIL: 54,
    CIL_CNT_SRV6_ENCAP: 55,
    CIL_CNT_SRV6_END: 56,
    CIL_CNT_SRV6_DECAP: 57,
    CIL_CNT_NOT_SRV6: 58,
    CIL_CNT_SRV6_HMAC_TLV: 59,
    CIL_CNT_MAX: 64,
  },
  cil_srv6_behavior: {
    CIL_SRV6_END: 1,
    CIL_SRV6_END_X: 2,
    CIL_SRV6_END_DT4: 3,
    CIL_SRV6_END_DT6: 4,
  },
} as const;

/** Every integer #define of the header. */
export const DEFINES = {
  CIL_AES_ROUND_KEYS: 44,
  CIL_HDR_MAX: 352,
  CIL_MAX_PATH_SET: 8,
  CIL_PROTO_SHIM: 253,
  CIL_REC_F_AUTHENTICATED: 4,
  CIL_REC_F_HAS_INNER: 2,
  CIL_REC_F_PATH_TRUNCATED: 1,
  CIL_REC_PATH_MAX: 316,
  CIL_RECORD_VERSION: 3,
  CIL_SHIM_INNER_IPV4: 4,
  CIL_SHIM_LEN: 8,
  CIL_SHIM_VERSION: 1,
  CIL_SRV6_HDR_MAX: 224,
  CIL_SRV6_HMAC_TLV_LEN: 40,
  CIL_SRV6_MAX_SEGMENTS: 8,
} as const;
