/* A SCION packet's payload as Cillion frames it: optional hop-by-hop and end-to-end
 * extensions (the latter may carry the SPAO), then the Cillion shim with the sender's
 * identity (SCION protocol 253) and the pod's IPv4 packet. Fills the record's inner
 * 5-tuple and identity. */
#ifndef CIL_PAYLOAD_H
#define CIL_PAYLOAD_H

#include "scion.h"

#define CIL_MAX_OPTIONS 16
#define SCION_OPT_SPAO 2
#define SCION_SPAO_DATA_LEN 28 /* SPI, algorithm, timestamp, 16-byte authenticator */

struct cil_payload {
	__u32 inner_off; /* frame offset of the inner IPv4 header, 0 when there is none */
	__u32 inner_daddr_be;
	__u32 inner_saddr_be;
	__u32 shim_off;  /* frame offset of the shim, the upper-layer payload a SPAO covers */
	__u32 spao_off;  /* frame offset of the SPAO's data (after type and length), 0 when absent */
};

/* Finds the first SPAO in an end-to-end extension's options at [off, end). */
static __always_inline int cil_e2e_spao(struct xdp_md *ctx, __u32 off, __u32 end, __u32 *spao_off)
{
	__u8 opt[2];

	for (int i = 0; i < CIL_MAX_OPTIONS; i++) {
		if (off >= end)
			return 0;
		if (bpf_xdp_load_bytes(ctx, off, opt, 1))
			return CIL_DROP_MALFORMED_INNER;
		if (opt[0] == 0) { /* Pad1 */
			off += 1;
			continue;
		}
		if (off + 2 > end || bpf_xdp_load_bytes(ctx, off, opt, 2) || off + 2 + opt[1] > end)
			return CIL_DROP_MALFORMED_INNER;
		if (opt[0] == SCION_OPT_SPAO && !*spao_off) {
			if (opt[1] != SCION_SPAO_DATA_LEN)
				return CIL_DROP_MALFORMED_INNER;
			*spao_off = off + 2;
		}
		off += 2 + opt[1];
	}
	return 0;
}

/* 0 or a drop reason; p->inner_off is 0 when the payload is not a shim with an IPv4 packet. */
static __always_inline int cil_payload_parse(struct xdp_md *ctx, const struct cil_scion *s,
					     struct cil_payload *p, struct cil_packet_meta *m)
{
	__u32 off = UNDERLAY_LEN + s->hdr_len, end = off + s->payload_len;
	__u8 nh = s->next_hdr, eh[2], shim[CIL_SHIM_LEN];
	struct iphdr ip;
	__u8 l4[14];
	int err;

	p->inner_off = 0;
	p->shim_off = 0;
	p->spao_off = 0;
	for (int i = 0; i < 2; i++) {
		__u32 elen;

		if (nh != SCION_NEXTHDR_HBH && nh != SCION_NEXTHDR_E2E)
			break;
		if (bpf_xdp_load_bytes(ctx, off, eh, 2))
			return CIL_DROP_MALFORMED_INNER;
		elen = ((__u32)eh[1] + 1) * 4;
		if (off + elen > end)
			return CIL_DROP_MALFORMED_INNER;
		if (nh == SCION_NEXTHDR_E2E) {
			err = cil_e2e_spao(ctx, off + 2, off + elen, &p->spao_off);
			if (err)
				return err;
		}
		nh = eh[0];
		off += elen;
	}
	if (nh != CIL_PROTO_SHIM)
		return 0;
	if (off + CIL_SHIM_LEN > end || bpf_xdp_load_bytes(ctx, off, shim, CIL_SHIM_LEN) ||
	    shim[0] != CIL_SHIM_VERSION << 4 || shim[1] != CIL_SHIM_INNER_IPV4)
		return CIL_DROP_MALFORMED_INNER;
	p->shim_off = off;
	m->identity = (__u32)shim[4] << 24 | (__u32)shim[5] << 16 | (__u32)shim[6] << 8 | shim[7];
	off += CIL_SHIM_LEN;
	if (bpf_xdp_load_bytes(ctx, off, &ip, sizeof(ip)) || ip.version != 4 || ip.ihl < 5 ||
	    bpf_ntohs(ip.tot_len) != end - off)
		return CIL_DROP_MALFORMED_INNER;
	p->inner_off = off;
	m->pod_len = ETH_HLEN + (end - off);
	p->inner_daddr_be = ip.daddr;
	p->inner_saddr_be = ip.saddr;
	m->flags |= CIL_REC_F_HAS_INNER;
	m->ip_version = 4;
	m->inner_proto = ip.protocol;
	__builtin_memcpy(m->src_addr, &ip.saddr, 4);
	__builtin_memcpy(m->dst_addr, &ip.daddr, 4);
	if (ip.frag_off & bpf_htons(0x1fff))
		return 0;
	off += ip.ihl * 4;
	if (ip.protocol == IPPROTO_TCP && bpf_xdp_load_bytes(ctx, off, l4, 14) == 0) {
		m->src_port = ((__u16)l4[0] << 8) | l4[1];
		m->dst_port = ((__u16)l4[2] << 8) | l4[3];
		m->tcp_flags = l4[13];
	} else if (ip.protocol == IPPROTO_UDP && bpf_xdp_load_bytes(ctx, off, l4, 4) == 0) {
		m->src_port = ((__u16)l4[0] << 8) | l4[1];
		m->dst_port = ((__u16)l4[2] << 8) | l4[3];
	} else if (ip.protocol == IPPROTO_ICMP && bpf_xdp_load_bytes(ctx, off, l4, 2) == 0) {
		m->src_port = ((__u16)l4[0] << 8) | l4[1];
	}
	return 0;
}

#endif
