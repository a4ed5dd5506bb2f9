/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* SCION over UDP/IPv4 as XDP sees it: the underlay match, the common and address
 * headers, and the standard SCION path's meta header, each checked against the others
 * (scion-header.rst). Offsets are from the start of the frame. */
#ifndef CIL_SCION_H
#define CIL_SCION_H

#include "common.h"

#define SCION_CMN_LEN 12
#define SCION_IA_LEN 16
#define SCION_ADDR_OFF (UNDERLAY_LEN + SCION_CMN_LEN)
#define SCION_FIXED_END (SCION_ADDR_OFF + SCION_IA_LEN)
#define SCION_PATH_TYPE_EMPTY 0
#define SCION_PATH_TYPE_SCION 1
#define SCION_META_LEN 4
#define SCION_INFO_LEN 8
#define SCION_HOP_LEN 12
#define SCION_MAX_HOPS 64
#define SCION_NEXTHDR_HBH 200
#define SCION_NEXTHDR_E2E 201

#define SCION_INFO_F_CONSDIR 0x01
#define SCION_INFO_F_PEER 0x02

struct scion_info {
	__u8 flags;
	__u8 rsv;
	__u16 seg_id_be;
	__u32 ts_be;
};

struct scion_hop {
	__u8 flags;
	__u8 exp_time;
	__u16 cons_ingress_be;
	__u16 cons_egress_be;
	__u8 mac[6];
};

/* A parsed SCION packet: where things are and what the headers say. */
struct cil_scion {
	__u32 hdr_len;     /* SCION header bytes (common + address + path) */
	__u32 payload_len;
	__u32 path_off;
	__u32 path_len;
	__u8 next_hdr;
	__u8 path_type;
	__u8 dst_host_len;
	__u8 src_host_len;
	__u64 dst_ia;
	__u64 src_ia;
	__u32 dst_host4_be; /* valid when dst_host_len == 4 and the type is IP */
	__u32 src_host4_be;
	__u8 dst_type;
	__u8 src_type;
	/* standard SCION path */
	__u8 cur_inf;
	__u8 cur_hf;
	__u8 seg_len[3];
	__u8 n_inf;
	__u8 n_hf;
	__u32 info_off; /* of the current info field */
	__u32 hop_off;  /* of the current hop field */
};

/* 1 when the frame is UDP/IPv4 to this interface's SCION underlay address and port,
 * 0 when it is someone else's (the caller passes it on), or a negative drop reason. */
static __always_inline int cil_underlay_match(void *data, void *end, __u32 local_ip4_be, __u16 local_port_be)
{
	struct ethhdr *eth = cil_ptr(data, 0, ETH_HLEN, end);
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 tot;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	ip = cil_ptr(data, ETH_HLEN, IPV4_HLEN, end);
	/* Underlay packets with IP options are not SCION's: they go to the stack. */
	if (!ip || ip->protocol != IPPROTO_UDP || ip->daddr != local_ip4_be || ip->ihl != 5)
		return 0;
	udp = cil_ptr(data, ETH_HLEN + IPV4_HLEN, UDP_HLEN, end);
	if (!udp || udp->dest != local_port_be)
		return 0;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || (ip->frag_off & bpf_htons(0x3fff)) || tot < IPV4_HLEN + UDP_HLEN ||
	    ETH_HLEN + tot > (__u32)(end - data) || bpf_ntohs(udp->len) != tot - IPV4_HLEN)
		return -CIL_DROP_MALFORMED_UNDERLAY;
	return 1;
}

static __always_inline __u64 cil_load_ia(const __u8 *p)
{
	return ((__u64)p[0] << 56) | ((__u64)p[1] << 48) | ((__u64)p[2] << 40) | ((__u64)p[3] << 32) |
	       ((__u64)p[4] << 24) | ((__u64)p[5] << 16) | ((__u64)p[6] << 8) | p[7];
}

/* Fills s from a frame cil_underlay_match accepted; 0 or a drop reason. */
static __always_inline int cil_scion_parse(struct xdp_md *ctx, struct cil_scion *s)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct udphdr *udp = cil_ptr(data, ETH_HLEN + IPV4_HLEN, UDP_HLEN, end);
	__u8 *c = cil_ptr(data, UNDERLAY_LEN, SCION_CMN_LEN + SCION_IA_LEN, end);
	__u32 udp_payload, host_off, meta;

	if (!udp || !c)
		return CIL_DROP_MALFORMED_SCION;
	udp_payload = bpf_ntohs(udp->len) - UDP_HLEN;
	if ((c[0] >> 4) != 0)
		return CIL_DROP_MALFORMED_SCION;
	s->next_hdr = c[4];
	s->hdr_len = (__u32)c[5] * 4;
	s->payload_len = ((__u32)c[6] << 8) | c[7];
	s->path_type = c[8];
	s->dst_type = (c[9] >> 6) & 3;
	s->dst_host_len = (((c[9] >> 4) & 3) + 1) * 4;
	s->src_type = (c[9] >> 2) & 3;
	s->src_host_len = ((c[9] & 3) + 1) * 4;
	s->dst_ia = cil_load_ia(c + SCION_CMN_LEN);
	s->src_ia = cil_load_ia(c + SCION_CMN_LEN + 8);
	host_off = SCION_FIXED_END;
	s->path_off = host_off + s->dst_host_len + s->src_host_len;
	if (s->hdr_len < s->path_off - UNDERLAY_LEN || s->hdr_len + s->payload_len != udp_payload)
		return CIL_DROP_MALFORMED_SCION;
	s->path_len = s->hdr_len - (s->path_off - UNDERLAY_LEN);
	s->dst_host4_be = 0;
	s->src_host4_be = 0;
	if (s->dst_host_len == 4 && s->src_host_len == 4 && s->path_type == SCION_PATH_TYPE_SCION &&
	    s->path_len >= SCION_META_LEN) {
		/* The common case in one read: both IPv4 hosts and the path meta header. */
		__u32 hosts_meta[3];

		if (bpf_xdp_load_bytes(ctx, host_off, hosts_meta, sizeof(hosts_meta)))
			return CIL_DROP_MALFORMED_PATH;
		s->dst_host4_be = hosts_meta[0];
		s->src_host4_be = hosts_meta[1];
		meta = hosts_meta[2];
	} else {
		if (s->dst_host_len == 4 && bpf_xdp_load_bytes(ctx, host_off, &s->dst_host4_be, 4))
			return CIL_DROP_MALFORMED_SCION;
		if (s->src_host_len == 4 && bpf_xdp_load_bytes(ctx, host_off + s->dst_host_len, &s->src_host4_be, 4))
			return CIL_DROP_MALFORMED_SCION;
		if (s->path_type != SCION_PATH_TYPE_SCION)
			return 0;
		if (s->path_len < SCION_META_LEN || bpf_xdp_load_bytes(ctx, s->path_off, &meta, 4))
			return CIL_DROP_MALFORMED_PATH;
	}
	meta = bpf_ntohl(meta);
	s->cur_inf = meta >> 30;
	s->cur_hf = (meta >> 24) & 0x3f;
	s->seg_len[0] = (meta >> 12) & 0x3f;
	s->seg_len[1] = (meta >> 6) & 0x3f;
	s->seg_len[2] = meta & 0x3f;
	if (s->seg_len[0] == 0 || (s->seg_len[1] == 0 && s->seg_len[2] != 0))
		return CIL_DROP_MALFORMED_PATH;
	s->n_inf = 1 + (s->seg_len[1] != 0) + (s->seg_len[2] != 0);
	s->n_hf = s->seg_len[0] + s->seg_len[1] + s->seg_len[2];
	if (s->n_hf > SCION_MAX_HOPS || s->cur_hf >= s->n_hf || s->cur_inf >= s->n_inf ||
	    s->path_len != SCION_META_LEN + SCION_INFO_LEN * s->n_inf + SCION_HOP_LEN * s->n_hf)
		return CIL_DROP_MALFORMED_PATH;
	/* CurrINF must be the segment CurrHF lies in. */
	if (s->cur_inf != (s->cur_hf >= s->seg_len[0]) + (s->cur_hf >= s->seg_len[0] + s->seg_len[1]))
		return CIL_DROP_MALFORMED_PATH;
	s->info_off = s->path_off + SCION_META_LEN + SCION_INFO_LEN * s->cur_inf;
	s->hop_off = s->path_off + SCION_META_LEN + SCION_INFO_LEN * s->n_inf + SCION_HOP_LEN * s->cur_hf;
	return 0;
}

/* The meta header word for the given CurrINF/CurrHF and segment lengths. */
static __always_inline __u32 cil_scion_meta(const struct cil_scion *s)
{
	return ((__u32)s->cur_inf << 30) | ((__u32)s->cur_hf << 24) | ((__u32)s->seg_len[0] << 12) |
	       ((__u32)s->seg_len[1] << 6) | s->seg_len[2];
}

#endif
