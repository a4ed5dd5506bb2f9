/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The first steps of every XDP program: is this frame SCION for one of our interfaces,
 * and what do its headers say. */
#ifndef CIL_INTAKE_H
#define CIL_INTAKE_H

#include "interfaces.h"
#include "notify.h"
#include "scion.h"

struct cil_intake {
	struct cil_packet_meta m;
	struct cil_scion s;
	__u32 ifid; /* SCION interface the frame arrived on */
};

/* 0 when the frame is not ours (pass it on); otherwise 1, with in->m describing it and
 * a drop already set in in->m if the headers are wrong. */
static __always_inline int cil_intake(struct xdp_md *ctx, __u8 direction, struct cil_intake *in)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct cil_interface *iface;
	int r;

	in->ifid = cil_ifid_of_device(ctx->ingress_ifindex);
	iface = in->ifid ? cil_interface_of_ifid(in->ifid) : NULL;
	if (!iface)
		return 0;
	r = cil_underlay_match(data, end, iface->local_ip4_be, iface->local_port_be);
	if (r == 0) {
		cil_count(CIL_CNT_NOT_SCION, (__u32)(end - data));
		return 0;
	}
	cil_meta_init(&in->m, ctx->ingress_ifindex, direction, (__u32)(end - data));
	in->m.ingress_ifid = in->ifid;
	if (r < 0) {
		cil_set_drop(&in->m, -r);
		return 1;
	}
	r = cil_scion_parse(ctx, &in->s);
	in->m.src_ia = in->s.src_ia;
	in->m.dst_ia = in->s.dst_ia;
	in->m.path_type = in->s.path_type;
	if (r)
		cil_set_drop(&in->m, r);
	else if (in->s.path_type != SCION_PATH_TYPE_SCION)
		cil_set_drop(&in->m, CIL_DROP_UNSUPPORTED_PATH);
	return 1;
}

/* Counts and records a drop; the frame is discarded. */
static __always_inline int cil_xdp_drop(struct xdp_md *ctx, struct cil_intake *in)
{
	__u32 plen = in->m.drop_reason == CIL_DROP_MALFORMED_UNDERLAY ||
				     in->m.drop_reason == CIL_DROP_MALFORMED_SCION ||
				     in->m.drop_reason == CIL_DROP_MALFORMED_PATH ?
			     0 : in->s.path_len;

	cil_notify_xdp(ctx, &in->m, in->s.path_off, plen);
	return XDP_DROP;
}

#endif
