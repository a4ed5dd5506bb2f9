/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The IPv6 Segment Routing Header (RFC 8754 §2) right after an XDP frame's IPv6 header:
 * where it is, and the first of its checks it fails. The order of the checks is the order
 * of the drop reasons in cillion_abi.h, so a record names the first thing wrong. */
#ifndef CIL_SRH_H
#define CIL_SRH_H

#include "common.h"

#define ETH_P_IPV6 0x86DD
#define IPV6_HLEN 40
#define CIL_NH_IPV4 4       /* IPv4 in IPv6 (inner packet of End.DT4) */
#define CIL_NH_ROUTING 43   /* IPv6 Routing Header */
#define CIL_NH_IPV6 41      /* IPv6 in IPv6 (inner packet of End.DT6) */
#define CIL_SRH_ROUTING_TYPE 4
#define CIL_SRH_FIXED_LEN 8
#define CIL_SRH_SEG_LEN 16
#define CIL_SRH_OFF (ETH_HLEN + IPV6_HLEN)
/* The longest SRH accepted: whole in a record's path[] (19 segments and no TLVs). A longer
 * one is CIL_DROP_SRH_MALFORMED, never a silently shortened record. */
#define CIL_SRH_MAX ((CIL_REC_PATH_MAX / 8) * 8)
/* TLVs walked after the segment list; a header with more (Pad1 counts as one) is
 * CIL_DROP_SRH_BAD_TLV. */
#define CIL_SRH_MAX_TLVS 16
#define CIL_SRH_TLV_PAD1 0
#define CIL_SRH_TLV_HMAC 5
#define CIL_SRH_HMAC_TLV_DATA 38 /* D/reserved (2), key id (4), HMAC-SHA256 (32) */

struct cil_srh {
	__u32 off;      /* frame offset of the SRH */
	__u32 len;      /* bytes: (Hdr Ext Len + 1) * 8 */
	__u32 hmac_off; /* frame offset of the HMAC TLV, 0 when there is none */
	__u8 next_hdr;
	__u8 seg_left;
	__u8 last_entry;
	__u8 flags;
};

/* Walks the TLVs in [off, end): 0, or CIL_DROP_SRH_BAD_TLV for one that overruns the
 * header, a second HMAC TLV or one of the wrong length, or too many to walk. */
static __always_inline int cil_srh_tlvs(struct xdp_md *ctx, __u32 off, __u32 end, struct cil_srh *s)
{
	__u8 tlv[2];

	for (int i = 0; i < CIL_SRH_MAX_TLVS; i++) {
		if (off >= end)
			return 0;
		if (bpf_xdp_load_bytes(ctx, off, tlv, 1))
			return CIL_DROP_SRH_BAD_TLV;
		if (tlv[0] == CIL_SRH_TLV_PAD1) {
			off += 1;
			continue;
		}
		if (off + 2 > end || bpf_xdp_load_bytes(ctx, off, tlv, 2) || off + 2 + tlv[1] > end)
			return CIL_DROP_SRH_BAD_TLV;
		if (tlv[0] == CIL_SRH_TLV_HMAC) {
			if (tlv[1] != CIL_SRH_HMAC_TLV_DATA || s->hmac_off)
				return CIL_DROP_SRH_BAD_TLV;
			s->hmac_off = off;
		}
		off += 2 + tlv[1];
	}
	return off >= end ? 0 : CIL_DROP_SRH_BAD_TLV;
}

/* Parses the SRH at CIL_SRH_OFF of a packet whose IPv6 payload ends at frame offset
 * `pkt_end` (already known to lie inside the frame): 0 or a drop reason. */
static __always_inline int cil_srh_parse(struct xdp_md *ctx, __u32 pkt_end, struct cil_srh *s)
{
	__u8 h[CIL_SRH_FIXED_LEN];

	s->off = CIL_SRH_OFF;
	s->len = 0;
	s->hmac_off = 0;
	if (pkt_end < CIL_SRH_OFF + CIL_SRH_FIXED_LEN || bpf_xdp_load_bytes(ctx, CIL_SRH_OFF, h, sizeof(h)))
		return CIL_DROP_SRH_MALFORMED;
	if (h[2] != CIL_SRH_ROUTING_TYPE)
		return CIL_DROP_SRV6_NO_SRH;
	s->next_hdr = h[0];
	s->seg_left = h[3];
	s->last_entry = h[4];
	s->flags = h[5];
	/* At least one segment; whole in the packet and in a record. */
	if (h[1] < 2 || CIL_SRH_OFF + ((__u32)h[1] + 1) * 8 > pkt_end || ((__u32)h[1] + 1) * 8 > CIL_SRH_MAX)
		return CIL_DROP_SRH_MALFORMED;
	s->len = ((__u32)h[1] + 1) * 8;
	if (((__u32)h[4] + 1) * CIL_SRH_SEG_LEN > (__u32)h[1] * 8)
		return CIL_DROP_SRH_BAD_LAST_ENTRY;
	if (h[3] > h[4])
		return CIL_DROP_SRH_BAD_SEGLEFT;
	return cil_srh_tlvs(ctx, CIL_SRH_OFF + CIL_SRH_FIXED_LEN + ((__u32)h[4] + 1) * CIL_SRH_SEG_LEN,
			    CIL_SRH_OFF + s->len, s);
}

#endif
