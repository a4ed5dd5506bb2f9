/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* SCION interfaces of this AS on this node: which device carries which interface, and
 * each link's underlay addresses at both ends. */
#ifndef CIL_INTERFACES_H
#define CIL_INTERFACES_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct cil_ifindex_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ifindex_to_ifid SEC(".maps");

/* An array over every 16-bit interface id: the JIT inlines its lookup. An all-zero
 * entry (ifindex 0) is an interface this AS does not have here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, struct cil_ifid_key);
	__type(value, struct cil_interface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} interfaces SEC(".maps");

static __always_inline struct cil_interface *cil_interface_of_ifid(__u32 ifid)
{
	struct cil_ifid_key k = { .ifid = ifid };
	struct cil_interface *i = bpf_map_lookup_elem(&interfaces, &k);

	return i && i->ifindex ? i : NULL;
}

/* The SCION interface a device carries, 0 when it carries none. */
static __always_inline __u32 cil_ifid_of_device(__u32 ifindex)
{
	struct cil_ifindex_key k = { .ifindex = ifindex };
	__u32 *ifid = bpf_map_lookup_elem(&ifindex_to_ifid, &k);

	return ifid ? *ifid : 0;
}

#endif
