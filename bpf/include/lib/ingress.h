/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The ingress allow list: for endpoints under an enforcing geofence, only listed
 * (source identity, path) pairs may reach them. This is how an enforcing fence holds at
 * the receiving edge even against a sender that ignores it. */
#ifndef CIL_INGRESS_H
#define CIL_INGRESS_H

#include "scion.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_identity_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ingress_enforced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cil_ingress_allow_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ingress_allow SEC(".maps");

#define CIL_FNV64_OFFSET 0xcbf29ce484222325ULL
#define CIL_FNV64_PRIME 0x100000001b3ULL

static __always_inline __u64 cil_fnv_byte(__u64 h, __u8 b)
{
	return (h ^ b) * CIL_FNV64_PRIME;
}

/* The path key: FNV-1a 64 over Seg0Len, Seg1Len, Seg2Len (one byte each), then every hop
 * field's ConsIngress and ConsEgress (two bytes each, network order), in path order.
 * Interface ids only, so the key survives the control plane's segment refreshes. */
static __always_inline __u64 cil_path_key(struct xdp_md *ctx, const struct cil_scion *s)
{
	__u32 first = s->path_off + SCION_META_LEN + SCION_INFO_LEN * s->n_inf;
	__u64 h = CIL_FNV64_OFFSET;
	__u8 ifs[4];

	h = cil_fnv_byte(h, s->seg_len[0]);
	h = cil_fnv_byte(h, s->seg_len[1]);
	h = cil_fnv_byte(h, s->seg_len[2]);
	for (int i = 0; i < SCION_MAX_HOPS; i++) {
		if (i >= s->n_hf)
			break;
		if (bpf_xdp_load_bytes(ctx, first + SCION_HOP_LEN * i + 2, ifs, 4))
			return 0;
		h = cil_fnv_byte(h, ifs[0]);
		h = cil_fnv_byte(h, ifs[1]);
		h = cil_fnv_byte(h, ifs[2]);
		h = cil_fnv_byte(h, ifs[3]);
	}
	return h;
}

/* 0 when the packet may reach endpoint `dst_identity`, else CIL_DROP_INGRESS_DENIED. */
static __always_inline int cil_ingress_check(struct xdp_md *ctx, const struct cil_scion *s, __u32 dst_identity,
					     __u32 src_identity)
{
	struct cil_identity_key ek = { .identity = dst_identity };
	struct cil_ingress_allow_key k = { .dst_identity = dst_identity, .src_identity = src_identity };

	if (!bpf_map_lookup_elem(&ingress_enforced, &ek))
		return 0;
	k.path_key = cil_path_key(ctx, s);
	if (bpf_map_lookup_elem(&ingress_allow, &k))
		return 0;
	k.src_identity = 0;
	if (bpf_map_lookup_elem(&ingress_allow, &k))
		return 0;
	return CIL_DROP_INGRESS_DENIED;
}

#endif
