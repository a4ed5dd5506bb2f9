/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The SIDs this node instantiates (exact 128-bit match to a behavior) and its locator
 * prefixes: a destination inside a locator is ours to handle, or to drop as unknown. */
#ifndef CIL_SRV6_SIDS_H
#define CIL_SRV6_SIDS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct cil_sid_key);
	__type(value, struct cil_local_sid);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_local_sids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct cil_locator_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} srv6_locators SEC(".maps");

static __always_inline int cil_srv6_in_locator(const struct in6_addr *addr)
{
	struct cil_locator_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&srv6_locators, &k) != NULL;
}

static __always_inline struct cil_local_sid *cil_srv6_local_sid(const struct in6_addr *addr)
{
	struct cil_sid_key k;

	__builtin_memcpy(k.sid, addr, 16);
	return bpf_map_lookup_elem(&srv6_local_sids, &k);
}

#endif
