/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Tenant (VRF) tables of End.DT4 and End.DT6: (tenant, inner destination) -> where the
 * decapsulated packet goes. A tenant sees only its own entries, which is what makes the
 * decapsulation an L3VPN and not a leak into the node's main table. */
#ifndef CIL_SRV6_TENANT_H
#define CIL_SRV6_TENANT_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__type(key, struct cil_tenant_key4);
	__type(value, struct cil_tenant_route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_tenant_routes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__type(key, struct cil_tenant_key6);
	__type(value, struct cil_tenant_route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_tenant_routes6 SEC(".maps");

static __always_inline struct cil_tenant_route *cil_tenant_route4(__u32 tenant, __u32 ip4_be)
{
	struct cil_tenant_key4 k = { .prefixlen = 64, .tenant_id_be = bpf_htonl(tenant), .ip4_be = ip4_be };

	return bpf_map_lookup_elem(&srv6_tenant_routes4, &k);
}

static __always_inline struct cil_tenant_route *cil_tenant_route6(__u32 tenant, const __u8 *ip6)
{
	struct cil_tenant_key6 k = { .prefixlen = 32 + 128, .tenant_id_be = bpf_htonl(tenant) };

	__builtin_memcpy(k.ip6, ip6, 16);
	return bpf_map_lookup_elem(&srv6_tenant_routes6, &k);
}

#endif
