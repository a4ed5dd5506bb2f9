/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Egress policy: which path set a source identity uses towards a destination prefix,
 * and the prebuilt SCION header of every path. A flow hash (flow_hash.h) picks one path
 * of the set, so a flow stays on its path while a multipath set spreads flows. */
#ifndef CIL_EGRESS_H
#define CIL_EGRESS_H

#include "flow_hash.h"

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

#endif
