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

#define CIL_RECORD_VERSION 2

enum cil_record_type {
	CIL_REC_PACKET = 1,
};

enum cil_direction {
	CIL_DIR_EGRESS_ENCAP = 1,  /* edge tc egress: a pod's packet wrapped into SCION */
	CIL_DIR_INGRESS_DECAP = 2, /* edge XDP ingress: a SCION packet unwrapped for a pod */
	CIL_DIR_ROUTER_FORWARD = 3, /* transit router: a SCION packet passed on (or dropped) */
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
	__u8 _pad0;
	/* Edge ingress (egress): the CillionNetworkPolicy that allowed the packet or, with
	 * CIL_DROP_POLICY_DENIED (CIL_DROP_POLICY_EGRESS_DENIED), that selects the endpoint
	 * which refused it; 0 when no policy selects it. */
	__u32 policy_id;
};

/* One per encapsulated, decapsulated or router-handled packet. */
struct cil_packet_record {
	struct cil_packet_meta meta;
	__u8 path[CIL_REC_PATH_MAX]; /* the raw SCION path as the packet carried it on arrival (egress: as sent) */
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
	CIL_DROP_REASON_MAX = 32,
	CIL_CNT_ENCAP = 32,        /* packets encapsulated */
	CIL_CNT_DECAP = 33,        /* packets decapsulated and delivered */
	CIL_CNT_FORWARD = 34,      /* packets forwarded by a router */
	CIL_CNT_LOCAL = 35,        /* router: SCION packets for its own AS, handed to the stack */
	CIL_CNT_NOT_COVERED = 36,  /* edge egress: no policy covers it, left untouched */
	CIL_CNT_NOT_SCION = 37,    /* XDP: not addressed to a SCION interface, passed */
	CIL_CNT_RING_RESERVE_FAIL = 38, /* packets (and their wire bytes) whose record found the ring full */
	CIL_CNT_MAX = 40,
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
