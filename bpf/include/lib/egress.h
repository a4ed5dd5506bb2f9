/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Egress policy: which path set a source identity uses towards a destination prefix,
 * and the prebuilt SCION header of every path. A flow hash picks one path of the set,
 * so a flow stays on its path while a multipath set spreads flows. */
#ifndef CIL_EGRESS_H
#define CIL_EGRESS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__type(key, struct cil_egress_key);
	__type(value, struct cil_egress_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cil_path);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} paths SEC(".maps");

static __always_inline struct cil_egress_value *cil_egress_lookup(__u32 identity, __u32 dst_ip4_be)
{
	struct cil_egress_key k = {
		.prefixlen = 64,
		.identity_be = bpf_htonl(identity),
		.dst_ip4_be = dst_ip4_be,
	};

	return bpf_map_lookup_elem(&egress_policy, &k);
}

/* murmur3's finaliser over the 5-tuple: cheap, well mixed, the same for every packet
 * of a flow. */
static __always_inline __u32 cil_flow_hash(__u32 saddr, __u32 daddr, __u16 sport, __u16 dport, __u8 proto)
{
	__u32 h = saddr ^ (daddr * 0x9e3779b1) ^ (((__u32)sport << 16) | dport) ^ ((__u32)proto << 24);

	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#endif
