/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* SRv6 egress policy: which segment lists a source identity uses towards a destination
 * prefix (a flow hash picks one, as for SCION paths), and each list's prebuilt outer
 * IPv6 header and SRH for H.Encaps (RFC 8986 §5.1). */
#ifndef CIL_SRV6_ENCAP_H
#define CIL_SRV6_ENCAP_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__type(key, struct cil_egress_key);
	__type(value, struct cil_egress_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_egress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cil_srv6_seglist);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_seglists SEC(".maps");

/* Outer IPv6 header + the smallest SRH (one segment). */
#define CIL_SRV6_TMPL_MIN (40 + 8 + 16)

static __always_inline struct cil_egress_value *cil_srv6_egress_lookup(__u32 identity, __u32 dst_ip4_be)
{
	struct cil_egress_key k = {
		.prefixlen = 64,
		.identity_be = bpf_htonl(identity),
		.dst_ip4_be = dst_ip4_be,
	};

	return bpf_map_lookup_elem(&srv6_egress, &k);
}

#endif
