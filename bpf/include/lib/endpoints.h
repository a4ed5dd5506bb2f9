/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Local endpoints (pods) of this node: IPv4 address -> security identity. */
#ifndef CIL_ENDPOINTS_H
#define CIL_ENDPOINTS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_endpoint_key);
	__type(value, struct cil_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} endpoints SEC(".maps");

static __always_inline struct cil_endpoint *cil_endpoint_of(__u32 ip4_be)
{
	struct cil_endpoint_key k = { .ip4_be = ip4_be };

	return bpf_map_lookup_elem(&endpoints, &k);
}

#endif
