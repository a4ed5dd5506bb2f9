/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The contract between the kernel programs and user space: ring records, map keys and
 * values, counters and drop reasons. This header is the only place the layout is written:
 * make generates bpf/abi_layout.gen.ts from it (every struct cil_*, enum cil_* and integer
 * #define CIL_*), which bpf/records.ts and bpf/maps.ts decode with; docs/record-layout.md
 * says how to add a field. All integers are little-endian (host order) unless the name
 * ends in _be (network order). */
#ifndef CILLION_ABI_H
#define CILLION_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- ring records ---------------------------------------------------------------- */

#define CIL_RECORD_VERSION 3

enum cil_record_type {
	CIL_REC_PACKET = 1,
};

enum cil_direction {
	CIL_DIR_EGRESS_ENCAP = 1,  /* edge tc egress: a pod's packet wrapped into SCION */
	CIL_DIR_INGRESS_DECAP = 2, /* edge XDP ingress: a SCION packet unwrapped for a pod */
	CIL_DIR_ROUTER_FORWARD = 3, /* transit router: a SCION packet passed on (or dropped) */
};

/* Which kind of WAN path a record describes: what path[] holds and how to read it. */
enum cil_path_kind {
	CIL_PATH_SCION = 0, /* path[] is the SCION path header; path_type its SCION PathType */
	CIL_PATH_SRV6 = 1,  /* path[] is the IPv6 Segment Routing Header (RFC 8754) as carried; path_type 4 */
};

enum cil_verdict {
	CIL_VERDICT_FORWARDED = 1,
	CIL_VERDICT_DROPPED = 2,
};

/* Enough of a SCION path for user space to rebuild every hop field: meta header, three
 * info fields and 24 hop fields. A longer path sets CIL_REC_F_PATH_TRUNCATED. */
#define CIL_REC_PATH_MAX 316

#define CIL_REC_F_PATH_TRUNCATED 0x01
#define CIL_REC_F_HAS_INNER 0x02 /* the inner 5-tuple fields are valid */
#define CIL_REC_F_AUTHENTICATED 0x04 /* a SPAO sealed (egress) or verified (ingress) the packet */

struct cil_record_hdr {
	__u8 type;
	__u8 version;
	__u16 len; /* whole record, header included */
};

/* What a program learns about one packet; the fixed part of its record. */
struct cil_packet_meta {
	struct cil_record_hdr hdr;
	__u32 ifindex;     /* node-local device the program ran on */
	__u64 ts_ns;       /* CLOCK_BOOTTIME nanoseconds */
	__u8 direction;    /* enum cil_direction */
	__u8 verdict;      /* enum cil_verdict */
	__u16 drop_reason; /* enum cil_counter, 0 when forwarded */
	__u32 identity;    /* source security identity (0 when unknown) */
	__u64 src_ia;      /* ISD (16 bits) << 48 | AS (48 bits) */
	__u64 dst_ia;
	__u8 inner_proto;  /* IPPROTO_* of the inner packet */
	__u8 ip_version;   /* of the inner packet: 4, or 0 when there is none */
	__u8 path_type;    /* SCION PathType of the packet */
	__u8 tcp_flags;
	__u16 src_port;    /* inner L4 ports; ICMP: type << 8 | code in src_port */
	__u16 dst_port;
	__u8 src_addr[16]; /* inner addresses, network order; IPv4 in the first 4 bytes */
	__u8 dst_addr[16];
	__u32 path_id;     /* egress: the paths-map entry used; 0 elsewhere */
	/* Wire bytes: the SCION frame on the underlay, Ethernet included, as it left (egress,
	 * after encapsulation) or arrived (ingress, router). A packet dropped before it was
	 * encapsulated never had one: then the pod's frame. */
	__u32 wire_len;
	/* Pod bytes: the pod's IPv4 packet plus a 14-byte Ethernet header, the same figure at
	 * the sending and the receiving edge; 0 when there is no inner IPv4 packet. */
	__u32 pod_len;
	__u16 ingress_ifid; /* SCION interface the packet entered this AS by, 0 from inside */
	__u16 egress_ifid;  /* SCION interface it leaves by, 0 when delivered locally */
	__u16 path_len;    /* valid bytes in path[] */
	__u8 flags;        /* CIL_REC_F_* */
	__u8 path_kind;    /* enum cil_path_kind */
	/* Edge ingress (egress): the CillionNetworkPolicy that allowed the packet or, with
	 * CIL_DROP_POLICY_DENIED (CIL_DROP_POLICY_EGRESS_DENIED), that selects the endpoint
	 * which refused it; 0 when no policy selects it. */
	__u32 policy_id;
	/* SRv6: the tenant (VRF id) of the segment list or decapsulating SID; 0 otherwise. */
	__u32 tenant_id;
	/* SRv6: outer IPv6 source (the encapsulating node) and destination (the active SID)
	 * as the packet left (encap) or arrived (transit, decap); zero otherwise. */
	__u8 outer_src[16];
	__u8 outer_dst[16];
	__u32 _pad1; /* the meta is a multiple of 8 bytes with no hidden padding */
};

/* One per encapsulated, decapsulated or router-handled packet. An SRv6 record
 * (path_kind CIL_PATH_SRV6) uses the same directions: EGRESS_ENCAP is H.Encaps at the edge,
 * ROUTER_FORWARD an End or End.X on a transit node, INGRESS_DECAP an End.DT4/End.DT6. Its
 * src_ia, dst_ia and interface ids are 0; path_id is the segment-list id at encap. */
struct cil_packet_record {
	struct cil_packet_meta meta;
	__u8 path[CIL_REC_PATH_MAX]; /* the raw SCION path, or the SRH, as the packet carried it on arrival (egress: as sent) */
	__u8 _pad2[4];
};

/* ---- counters and drop reasons --------------------------------------------------- */

/* Index into the per-CPU `counters` array. Drop reasons come first so a record's
 * drop_reason is also its counter index. */
enum cil_counter {
	CIL_CNT_NONE = 0,
	CIL_DROP_MALFORMED_UNDERLAY = 1, /* SCION port, but IP/UDP lengths do not add up */
	CIL_DROP_MALFORMED_SCION = 2,    /* common or address header inconsistent */
	CIL_DROP_UNSUPPORTED_ADDR = 3,   /* host address type/length this datapath does not handle */
	CIL_DROP_UNSUPPORTED_PATH = 4,   /* path type other than SCION */
	CIL_DROP_MALFORMED_PATH = 5,     /* meta header, segment lengths or CurrINF/CurrHF inconsistent */
	CIL_DROP_WRONG_INGRESS = 6,      /* hop field names another ingress interface */
	CIL_DROP_EXPIRED_HOP = 7,
	CIL_DROP_BAD_MAC = 8,
	CIL_DROP_UNKNOWN_EGRESS = 9,     /* hop field's egress interface is not one of ours */
	CIL_DROP_NOT_FOR_US = 10,        /* path ends here but the destination is another AS or host */
	CIL_DROP_NO_KEY = 11,            /* no hop-field key configured */
	CIL_DROP_MALFORMED_INNER = 12,   /* extension chain or inner packet inconsistent */
	CIL_DROP_UNKNOWN_ENDPOINT = 13,  /* inner destination is no local endpoint */
	CIL_DROP_INGRESS_DENIED = 14,    /* ingress allow list refuses this path or identity */
	CIL_DROP_PATH_MTU = 15,          /* encapsulated packet would exceed the path MTU */
	CIL_DROP_NO_PATH = 16,           /* egress policy names a path the paths map lacks */
	CIL_DROP_ENCAP_FAILED = 17,      /* the kernel refused to grow or write the packet */
	CIL_DROP_GSO = 18,               /* a GSO packet: segmenting would break SCION lengths */
	CIL_DROP_SPOOFED_SRC = 19,       /* from another AS but claims our ISD-AS as source */
	/* Failures after the verdict was reached: the record is emitted last, so it names them. */
	CIL_DROP_REWRITE_FAILED = 20,    /* router: writing the advanced path or the next underlay failed */
	CIL_DROP_DECAP_FAILED = 21,      /* edge ingress: stripping the outer headers failed */
	CIL_DROP_POLICY_DENIED = 22,     /* edge ingress: no CillionNetworkPolicy allows this source identity and port */
	CIL_DROP_AUTH_MISSING = 23,      /* edge ingress: authentication on, no SPAO of this mesh (SPI, algorithm) */
	CIL_DROP_AUTH_NO_KEY = 24,       /* no key for the peer AS (egress: to seal; ingress: to verify) */
	CIL_DROP_AUTH_STALE = 25,        /* SPAO time outside the acceptance window or every key's validity */
	CIL_DROP_AUTH_REPLAYED = 26,     /* the same sender and authenticator seen before */
	CIL_DROP_AUTH_BAD_MAC = 27,      /* the SPAO's authenticator does not verify */
	CIL_DROP_AUTH_FOREIGN_IDENTITY = 28, /* the shim's identity belongs to another cluster than the sending AS */
	CIL_DROP_POLICY_EGRESS_DENIED = 29, /* edge egress: no CillionNetworkPolicy allows this remote peer and port */
	/* SRv6 (bpf/srv6.bpf.c). A malformed SRH is named by the first check it fails, in this order. */
	CIL_DROP_SRH_MALFORMED = 30,      /* routing type 4, but the header length runs past the packet or is too short for one segment */
	CIL_DROP_SRH_BAD_LAST_ENTRY = 31, /* Last Entry does not fit the header length: (last_entry + 1) * 16 > hdr_ext_len * 8 */
	CIL_DROP_SRH_BAD_SEGLEFT = 32,    /* Segments Left above Last Entry + 1 (RFC 8754 §4.3.1.1), 0 at End/End.X, or not 0 at End.DT4/End.DT6 */
	CIL_DROP_SRH_BAD_TLV = 33,        /* a TLV after the segment list overruns the header, a PadN longer than 5, or an HMAC TLV of a wrong length or a second one */
	CIL_DROP_SRV6_UNKNOWN_SID = 34,   /* the destination is inside a local locator but no local SID is programmed for it */
	CIL_DROP_SRV6_NO_SRH = 35,        /* a local End/End.X/End.DT SID reached without a Segment Routing Header (or extension headers this datapath does not walk) */
	CIL_DROP_SRV6_HOP_LIMIT = 36,     /* End/End.X: hop limit would reach 0 */
	CIL_DROP_SRV6_NO_ROUTE = 37,      /* End: no route to the next segment */
	CIL_DROP_SRV6_BAD_INNER = 38,     /* End.DT4 (DT6): the inner packet is no IPv4 (IPv6) packet or is truncated */
	CIL_DROP_SRV6_NO_TENANT_ROUTE = 39, /* End.DT4/DT6: the tenant's table has no entry for the inner destination */
	CIL_DROP_SRV6_NO_SEGLIST = 40,    /* encap: the policy names a segment list the srv6_seglists map lacks */
	CIL_DROP_REASON_MAX = 48,
	CIL_CNT_ENCAP = 48,        /* packets encapsulated (SCION) */
	CIL_CNT_DECAP = 49,        /* packets decapsulated and delivered (SCION) */
	CIL_CNT_FORWARD = 50,      /* packets forwarded by a router (SCION) */
	CIL_CNT_LOCAL = 51,        /* router: SCION packets for its own AS, handed to the stack */
	CIL_CNT_NOT_COVERED = 52,  /* edge egress: no policy covers it, left untouched */
	CIL_CNT_NOT_SCION = 53,    /* XDP: not addressed to a SCION interface, passed */
	CIL_CNT_RING_RESERVE_FAIL = 54, /* packets (and their wire bytes) whose record found the ring full */
	CIL_CNT_SRV6_ENCAP = 55,   /* packets encapsulated with an SRH (H.Encaps) */
	CIL_CNT_SRV6_END = 56,     /* packets forwarded by End or End.X */
	CIL_CNT_SRV6_DECAP = 57,   /* packets decapsulated by End.DT4/End.DT6 into a tenant's table */
	CIL_CNT_NOT_SRV6 = 58,     /* srv6 XDP: not addressed to a local locator, passed */
	CIL_CNT_SRV6_HMAC_TLV = 59, /* SRv6 packets handled that carried an HMAC TLV (checked by the relay, not here) */
	CIL_CNT_MAX = 64,
};

/* Bytes are wire bytes (cil_packet_meta.wire_len). */
struct cil_counter_value {
	__u64 packets;
	__u64 bytes;
};

/* ---- maps ------------------------------------------------------------------------ */

/* endpoints: local pod IPv4 -> identity. */
struct cil_endpoint_key {
	__u32 ip4_be;
};
struct cil_endpoint {
	__u32 identity;
	__u32 ifindex; /* host-side device of the pod */
};

/* egress_policy: LPM trie on (identity, destination prefix). prefixlen counts the 32
 * identity bits plus the destination prefix length. */
struct cil_egress_key {
	__u32 prefixlen;
	__u32 identity_be;
	__u32 dst_ip4_be;
};
#define CIL_MAX_PATH_SET 8
struct cil_egress_value {
	__u32 n_paths; /* 1..CIL_MAX_PATH_SET; a flow hash picks one */
	__u32 path_ids[CIL_MAX_PATH_SET];
};

/* paths: path id -> a SCION header template (common + address + path, host addresses
 * zero) ready to copy, plus the underlay to the first-hop router. */
#define CIL_HDR_MAX 352
struct cil_path {
	__u32 ifindex;     /* device towards the first-hop router */
	__u16 mtu;         /* SCION MTU of the path: header + payload */
	__u16 hdr_len;     /* bytes of hdr[] used, a multiple of 4 */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u32 src_ip4_be;
	__u32 dst_ip4_be;
	__u16 src_port_be;
	__u16 dst_port_be;
	__u16 egress_ifid; /* the local AS's interface, for records */
	__u16 _pad0;
	__u8 hdr[CIL_HDR_MAX];
};

/* ifindex_to_ifid: node-local device -> SCION interface it carries. */
struct cil_ifindex_key {
	__u32 ifindex;
};
/* interfaces: SCION interface id -> the link's underlay at both ends. */
struct cil_ifid_key {
	__u32 ifid;
};
struct cil_interface {
	__u32 ifindex;
	__u32 local_ip4_be;
	__u32 remote_ip4_be;
	__u16 local_port_be;
	__u16 remote_port_be;
	__u8 local_mac[6];
	__u8 remote_mac[6];
};

/* as_config: one entry, the AS this program serves. */
#define CIL_AES_ROUND_KEYS 44
struct cil_config {
	__u64 local_ia;
	__s64 realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME, kept fresh by the loader */
	__u32 has_key;
	__u32 rk[CIL_AES_ROUND_KEYS]; /* AES-128 round keys of the hop-field key, big-endian words */
	__u8 cmac_k1[16];             /* CMAC subkey K1 of the same key */
};

/* ingress_enforced: local endpoint identity -> 1 when only listed paths may reach it. */
struct cil_identity_key {
	__u32 identity;
};
/* ingress_allow: (destination identity, source identity or 0 for any, path key) -> 1.
 * The path key is FNV-1a 64 over the path's segment lengths and each hop field's
 * ConsIngress and ConsEgress (cil_path_key in bpf/include/lib/ingress.h). */
struct cil_ingress_allow_key {
	__u32 dst_identity;
	__u32 src_identity;
	__u64 path_key;
};

/* xpolicy_selected: local endpoint identity -> id of a CillionNetworkPolicy whose ingress
 * rules select it (the first by name); such an endpoint refuses every cross-cluster packet
 * no xpolicy_allow entry admits. */
/* xpolicy_allow: (local destination identity, source identity, L4 protocol or 0 for any,
 * destination port or 0 for any) -> id of the policy that allows it.
 * Egress has the same three maps' shapes, seen from the sender: xpolicy_egress_selected
 * (local source identity -> policy id), xpolicy_egress_allow (dst_identity = the remote
 * peer's identity, src_identity = the local sender) and xpolicy_peers (a remote pod's IPv4
 * address, as its cluster's catalogue publishes it -> its identity; struct cil_endpoint_key
 * -> __u32). */
struct cil_xpolicy_key {
	__u32 dst_identity;
	__u32 src_identity;
	__u8 proto;
	__u8 _pad0;
	__u16 dport; /* host order */
};

/* ---- SRv6 maps (bpf/srv6.bpf.c; pinned beside the edge's maps, sharing its endpoints,
 * counters and events) ---- */

/* srv6_egress: LPM trie on (identity, destination prefix), struct cil_egress_key, to a
 * struct cil_egress_value whose path_ids are srv6_seglists ids. */

/* srv6_seglists: segment-list id -> the outer headers to prepend (H.Encaps): an IPv6
 * header (payload length 0, next header 43, hop limit 64, source, destination = the first
 * segment) and an SRH (next header 4 or 41, routing type 4, Segments Left = Last Entry,
 * segments in SRH order, i.e. the last segment first, then TLVs, e.g. an HMAC TLV computed
 * by the control plane), plus the underlay towards the first segment. */
#define CIL_SRV6_MAX_SEGMENTS 8
#define CIL_SRV6_HMAC_TLV_LEN 40 /* type, length, D/reserved, key id, 32-byte HMAC-SHA256 */
#define CIL_SRV6_HDR_MAX 224     /* 40 + 8 + 16 * CIL_SRV6_MAX_SEGMENTS + CIL_SRV6_HMAC_TLV_LEN, rounded up */
struct cil_srv6_seglist {
	__u32 ifindex;   /* device towards the first segment */
	__u16 mtu;       /* IPv6 MTU of the path: outer headers + inner packet */
	__u16 hdr_len;   /* bytes of hdr[] used: 40 + SRH length */
	__u32 tenant_id; /* VRF id the last segment decapsulates into */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u8 hdr[CIL_SRV6_HDR_MAX];
};

enum cil_srv6_behavior {
	CIL_SRV6_END = 1,
	CIL_SRV6_END_X = 2,
	CIL_SRV6_END_DT4 = 3,
	CIL_SRV6_END_DT6 = 4,
};

/* srv6_local_sids: a SID this node instantiates (exact 128-bit match) -> its behavior. */
struct cil_sid_key {
	__u8 sid[16];
};
struct cil_local_sid {
	__u32 behavior;  /* enum cil_srv6_behavior */
	__u32 tenant_id; /* End.DT4/End.DT6: the tenant table to look the inner destination up in */
	__u32 ifindex;   /* End.X: the adjacency's device */
	__u8 src_mac[6]; /* End.X: the adjacency's MACs */
	__u8 dst_mac[6];
};

/* srv6_locators: LPM trie of the node's locator prefixes -> 1. A destination inside one
 * that is no local SID is CIL_DROP_SRV6_UNKNOWN_SID; outside all, the packet is passed. */
struct cil_locator_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* srv6_tenant_routes4: LPM trie on (tenant, inner IPv4 destination prefix) -> where the
 * decapsulated packet goes. prefixlen counts the 32 tenant bits plus the prefix length.
 * srv6_tenant_routes6 is the same for IPv6 (struct cil_tenant_key6). */
struct cil_tenant_key4 {
	__u32 prefixlen;
	__u32 tenant_id_be;
	__u32 ip4_be;
};
struct cil_tenant_key6 {
	__u32 prefixlen;
	__u32 tenant_id_be;
	__u8 ip6[16];
};
struct cil_tenant_route {
	__u32 ifindex;  /* 0: hand the inner packet to this node's stack, which routes it */
	__u32 identity; /* security identity of the destination endpoint, for the record; 0 when not known */
};

/* Payload framing: the SCION payload is the Cillion shim under SCION protocol number 253
 * (assigned-protocol-numbers.rst: "use for experimentation and testing"), then the pod's
 * whole IPv4 packet, unchanged. Shim, 8 bytes: version in the high nibble of byte 0,
 * inner protocol (4 = IPv4) in byte 1, bytes 2-3 reserved 0, bytes 4-7 the sender's
 * security identity, big-endian. With authentication on, an end-to-end extension with
 * only the SPAO precedes the shim, and the SPAO's MAC covers shim and IPv4 packet. */
#define CIL_PROTO_SHIM 253
#define CIL_SHIM_LEN 8
#define CIL_SHIM_VERSION 1
#define CIL_SHIM_INNER_IPV4 4

#endif
