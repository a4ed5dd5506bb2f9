/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Cross-cluster identity policy (CillionNetworkPolicy): at the receiving edge (ingress
 * rules) an endpoint some policy selects takes only the (source identity, protocol, port)
 * tuples the policies allow, and refuses every other packet from another cluster; at the
 * sending edge (egress rules) a selected endpoint reaches only the remote peers, named by
 * the identity their cluster's catalogue gives their address, on the ports allowed. The source
 * identity is the one the packet carries; it is trusted as far as the carrier is (see
 * docs/network-policy.md). */
#ifndef CIL_XPOLICY_H
#define CIL_XPOLICY_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_identity_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xpolicy_selected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct cil_xpolicy_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xpolicy_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_identity_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xpolicy_egress_selected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct cil_xpolicy_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xpolicy_egress_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_endpoint_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xpolicy_peers SEC(".maps");

static __always_inline __u32 *cil_xpolicy_lookup(void *map, struct cil_xpolicy_key *k, __u8 proto, __u16 dport)
{
	k->proto = proto;
	k->dport = dport;
	return bpf_map_lookup_elem(map, k);
}

/* Most specific first: exact port, any port of the protocol, the port under any protocol,
 * anything; without a port (ICMP, later fragments) the port-0 keys are the exact ones. */
static __always_inline __u32 *cil_xpolicy_match(void *map, struct cil_xpolicy_key *k, struct cil_packet_meta *m)
{
	__u32 *allow = cil_xpolicy_lookup(map, k, m->inner_proto, m->dst_port);

	if (!allow && m->dst_port)
		allow = cil_xpolicy_lookup(map, k, m->inner_proto, 0);
	if (!allow)
		allow = cil_xpolicy_lookup(map, k, 0, m->dst_port);
	if (!allow && m->dst_port)
		allow = cil_xpolicy_lookup(map, k, 0, 0);
	return allow;
}

/* 0 when the packet may reach endpoint `dst_identity`, else CIL_DROP_POLICY_DENIED. Sets
 * m->policy_id to the allowing policy, or on a denial to the policy selecting the endpoint. */
static __always_inline int cil_xpolicy_check(struct cil_packet_meta *m, __u32 dst_identity)
{
	struct cil_identity_key ek = { .identity = dst_identity };
	struct cil_xpolicy_key k = { .dst_identity = dst_identity, .src_identity = m->identity };
	__u32 *selected, *allow;

	selected = bpf_map_lookup_elem(&xpolicy_selected, &ek);
	if (!selected)
		return 0;
	allow = cil_xpolicy_match(&xpolicy_allow, &k, m);
	m->policy_id = allow ? *allow : *selected;
	return allow ? 0 : CIL_DROP_POLICY_DENIED;
}

/* 0 when local endpoint `src_identity` may send to the remote address `daddr_be`, else
 * CIL_DROP_POLICY_EGRESS_DENIED. An address no catalogue names matches no peer, so a
 * selected endpoint cannot reach it. Sets m->policy_id as the ingress check does. */
static __always_inline int cil_xpolicy_egress_check(struct cil_packet_meta *m, __u32 src_identity, __u32 daddr_be)
{
	struct cil_identity_key ek = { .identity = src_identity };
	struct cil_endpoint_key pk = { .ip4_be = daddr_be };
	struct cil_xpolicy_key k = { .src_identity = src_identity };
	__u32 *selected, *peer, *allow = NULL;

	selected = bpf_map_lookup_elem(&xpolicy_egress_selected, &ek);
	if (!selected)
		return 0;
	peer = bpf_map_lookup_elem(&xpolicy_peers, &pk);
	if (peer) {
		k.dst_identity = *peer;
		allow = cil_xpolicy_match(&xpolicy_egress_allow, &k, m);
	}
	m->policy_id = allow ? *allow : *selected;
	return allow ? 0 : CIL_DROP_POLICY_EGRESS_DENIED;
}

#endif
