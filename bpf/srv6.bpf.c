// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* SRv6 (RFC 8754, RFC 8986) in eBPF, for a kernel without seg6 lightweight tunnels:
 * srv6_encap, at tc egress of an edge node's uplinks ahead of edge_egress, wraps a covered
 * pod's IPv4 packet into an outer IPv6 header and SRH (H.Encaps); srv6_endpoint, XDP on
 * provider nodes and on an edge node's SRv6 uplink, runs the behavior of the local SID a
 * packet is addressed to: End and End.X pass it to the next segment, End.DT4 and End.DT6
 * strip the outer headers into the tenant's table. Every handled packet is counted and
 * recorded in the same ring as the SCION programs' (path_kind CIL_PATH_SRV6). */
#include "include/lib/endpoints.h"
#include "include/lib/flow_hash.h"
#include "include/lib/notify.h"
#include "include/lib/srh.h"
#include "include/lib/srv6_encap.h"
#include "include/lib/srv6_sids.h"
#include "include/lib/srv6_tenant.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_UNSPEC (-1)
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_ICMPV6_ 58
#define SRV6_PATH_TYPE 4 /* the IPv6 Routing Type of an SRH */

static __always_inline void srv6_meta_init(struct cil_packet_meta *m, __u32 ifindex, __u8 direction, __u32 wire_len)
{
	cil_meta_init(m, ifindex, direction, wire_len);
	m->path_kind = CIL_PATH_SRV6;
	m->path_type = SRV6_PATH_TYPE;
}

/* The inner packet's ports (ICMP: type << 8 | code) and TCP flags from its L4 header. */
static __always_inline void srv6_l4(const __u8 *l4, __u8 proto, struct cil_packet_meta *m)
{
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		m->src_port = ((__u16)l4[0] << 8) | l4[1];
		m->dst_port = ((__u16)l4[2] << 8) | l4[3];
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6_) {
		m->src_port = ((__u16)l4[0] << 8) | l4[1];
	}
	if (proto == IPPROTO_TCP)
		m->tcp_flags = l4[13];
}

static __always_inline void srv6_inner4_meta(struct cil_packet_meta *m, const struct iphdr *ip)
{
	m->flags |= CIL_REC_F_HAS_INNER;
	m->ip_version = 4;
	m->inner_proto = ip->protocol;
	__builtin_memcpy(m->src_addr, &ip->saddr, 4);
	__builtin_memcpy(m->dst_addr, &ip->daddr, 4);
}

/* ---- H.Encaps at tc egress ------------------------------------------------------- */

/* Counts and records an encap verdict; the path bytes are the template's SRH, with the
 * next header the packet carries (IPv4). */
static __always_inline void srv6_notify_tc(struct cil_packet_meta *m, const struct cil_srv6_seglist *p)
{
	struct cil_packet_record *rec = cil_notify_begin(m);

	if (rec && p) {
		__builtin_memcpy(rec->path, p->hdr + IPV6_HLEN, CIL_SRV6_HDR_MAX - IPV6_HLEN);
		rec->path[0] = CIL_NH_IPV4;
		rec->meta.path_len = p->hdr_len - IPV6_HLEN;
	}
	cil_notify_commit(rec, m);
}

static __always_inline int srv6_encap_drop(struct cil_packet_meta *m, __u16 reason, const struct cil_srv6_seglist *p)
{
	cil_set_drop(m, reason);
	srv6_notify_tc(m, p);
	return TC_ACT_SHOT;
}

SEC("tc")
int srv6_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = cil_ptr(data, 0, ETH_HLEN, end);
	struct iphdr *ip = cil_ptr(data, ETH_HLEN, IPV4_HLEN, end);
	struct cil_srv6_seglist *p;
	struct cil_egress_value *pol;
	struct cil_endpoint *ep;
	struct cil_packet_meta m;
	__u32 hash, idx, id, n, hdr_len, inner_len;
	__u8 l4[14], v6[8], nh = CIL_NH_IPV4;
	__be16 proto = bpf_htons(ETH_P_IPV6);

	if (!eth || !ip || eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4)
		return TC_ACT_UNSPEC;
	ep = cil_endpoint_of(ip->saddr);
	if (!ep)
		return TC_ACT_UNSPEC;
	/* Not covered: edge_egress, behind this program, decides (SCION or left alone). */
	pol = cil_srv6_egress_lookup(ep->identity, ip->daddr);
	if (!pol)
		return TC_ACT_UNSPEC;

	srv6_meta_init(&m, skb->ifindex, CIL_DIR_EGRESS_ENCAP, skb->len);
	m.pod_len = skb->len;
	m.identity = ep->identity;
	srv6_inner4_meta(&m, ip);
	if (!(ip->frag_off & bpf_htons(0x1fff)) && bpf_skb_load_bytes(skb, ETH_HLEN + ip->ihl * 4, l4, sizeof(l4)) == 0)
		srv6_l4(l4, m.inner_proto, &m);

	n = pol->n_paths;
	if (n == 0 || n > CIL_MAX_PATH_SET)
		return srv6_encap_drop(&m, CIL_DROP_SRV6_NO_SEGLIST, NULL);
	hash = cil_flow_hash(ip->saddr, ip->daddr, m.src_port, m.dst_port, m.inner_proto);
	idx = hash % n;
	cil_barrier_var(idx);
	id = pol->path_ids[idx & (CIL_MAX_PATH_SET - 1)];
	m.path_id = id;
	p = bpf_map_lookup_elem(&srv6_seglists, &id);
	if (!p)
		return srv6_encap_drop(&m, CIL_DROP_SRV6_NO_SEGLIST, NULL);
	m.tenant_id = p->tenant_id;
	hdr_len = p->hdr_len;
	/* A template the control plane got wrong counts as no segment list at all. */
	if (hdr_len < CIL_SRV6_TMPL_MIN || hdr_len > CIL_SRV6_HDR_MAX || (hdr_len & 7) || p->hdr[6] != CIL_NH_ROUTING)
		return srv6_encap_drop(&m, CIL_DROP_SRV6_NO_SEGLIST, NULL);
	__builtin_memcpy(m.outer_src, p->hdr + 8, 16);
	__builtin_memcpy(m.outer_dst, p->hdr + 24, 16);
	/* A GSO packet would be segmented after the SRH went on, each segment with the
	 * whole packet's payload length. */
	if (skb->gso_size)
		return srv6_encap_drop(&m, CIL_DROP_GSO, p);
	inner_len = skb->len - ETH_HLEN;
	if (hdr_len + inner_len > p->mtu)
		return srv6_encap_drop(&m, CIL_DROP_PATH_MTU, p);

	/* The template's first 8 bytes with this packet's flow label and payload length. */
	v6[0] = p->hdr[0];
	v6[1] = (p->hdr[1] & 0xf0) | ((hash >> 16) & 0x0f);
	v6[2] = hash >> 8;
	v6[3] = hash;
	v6[4] = (hdr_len - IPV6_HLEN + inner_len) >> 8;
	v6[5] = hdr_len - IPV6_HLEN + inner_len;
	v6[6] = CIL_NH_ROUTING;
	v6[7] = p->hdr[7];
	if (bpf_skb_adjust_room(skb, hdr_len, BPF_ADJ_ROOM_MAC, 0))
		return srv6_encap_drop(&m, CIL_DROP_ENCAP_FAILED, p);
	cil_barrier_var(hdr_len);
	if (hdr_len > CIL_SRV6_HDR_MAX || hdr_len < CIL_SRV6_TMPL_MIN ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, p->hdr, hdr_len, 0) || bpf_skb_store_bytes(skb, ETH_HLEN, v6, 8, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + IPV6_HLEN, &nh, 1, 0) || bpf_skb_store_bytes(skb, 0, p->dst_mac, 6, 0) ||
	    bpf_skb_store_bytes(skb, 6, p->src_mac, 6, 0) || bpf_skb_store_bytes(skb, 12, &proto, 2, 0))
		return srv6_encap_drop(&m, CIL_DROP_ENCAP_FAILED, p);

	m.wire_len = skb->len;
	srv6_notify_tc(&m, p);
	/* bpf_redirect() without flags cannot fail; a delivery that fails later is the kernel's to count. */
	return p->ifindex != skb->ifindex ? bpf_redirect(p->ifindex, 0) : TC_ACT_OK;
}

/* ---- the SR endpoint in XDP ------------------------------------------------------ */

struct srv6_in {
	struct cil_packet_meta m;
	struct cil_srh s;
	__u32 pkt_end; /* frame offset after the IPv6 payload */
};

/* Counts and records a drop: the SRH as it arrived once its length is known to be sane. */
static __always_inline int srv6_xdp_drop(struct xdp_md *ctx, struct srv6_in *in, __u16 reason)
{
	cil_set_drop(&in->m, reason);
	cil_notify_xdp(ctx, &in->m, in->s.off, in->s.len);
	return XDP_DROP;
}

/* End and End.X (RFC 8986 §4.1, §4.2): the next segment becomes the destination. Where
 * the node has no neighbour entry for the next hop yet, the rewritten packet goes to the
 * stack, which resolves it and forwards (decrementing the hop limit itself). */
static __always_inline int srv6_end(struct xdp_md *ctx, struct srv6_in *in, const struct cil_local_sid *sid)
{
	struct bpf_fib_lookup fib = {};
	struct cil_packet_record *rec;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	void *data, *end;
	__u8 next[16], sl = in->s.seg_left;
	__u32 out_ifindex;
	int rc, pass = 0;

	if (sl == 0)
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRH_BAD_SEGLEFT);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip6 = cil_ptr(data, ETH_HLEN, IPV6_HLEN, end);
	if (!ip6)
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRH_MALFORMED);
	if (ip6->hop_limit <= 1)
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRV6_HOP_LIMIT);
	if (bpf_xdp_load_bytes(ctx, in->s.off + CIL_SRH_FIXED_LEN + CIL_SRH_SEG_LEN * (__u32)(sl - 1), next, 16))
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRH_MALFORMED);

	if (sid->behavior == CIL_SRV6_END_X) {
		out_ifindex = sid->ifindex;
		__builtin_memcpy(fib.smac, sid->src_mac, 6);
		__builtin_memcpy(fib.dmac, sid->dst_mac, 6);
	} else {
		fib.family = AF_INET6;
		fib.ifindex = ctx->ingress_ifindex;
		fib.tot_len = in->pkt_end - ETH_HLEN;
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, next, 16);
		rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
		if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
			pass = 1;
		else if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			return srv6_xdp_drop(ctx, in, CIL_DROP_PATH_MTU);
		else if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return srv6_xdp_drop(ctx, in, CIL_DROP_SRV6_NO_ROUTE);
		out_ifindex = fib.ifindex;
	}

	/* The record keeps the SRH as it arrived and is committed once the frame is rewritten. */
	rec = cil_notify_xdp_begin(ctx, &in->m, in->s.off, in->s.len);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = cil_ptr(data, 0, CIL_SRH_OFF + CIL_SRH_FIXED_LEN, end);
	if (!eth)
		return cil_commit_drop(rec, &in->m, CIL_DROP_REWRITE_FAILED);
	ip6 = (void *)eth + ETH_HLEN;
	((__u8 *)ip6)[IPV6_HLEN + 3] = sl - 1;
	__builtin_memcpy(&ip6->daddr, next, 16);
	if (!pass) {
		ip6->hop_limit--;
		__builtin_memcpy(eth->h_dest, fib.dmac, 6);
		__builtin_memcpy(eth->h_source, fib.smac, 6);
	}
	cil_notify_commit(rec, &in->m);
	if (pass)
		return XDP_PASS;
	/* bpf_redirect() without flags cannot fail; a delivery that fails later is the kernel's to count. */
	return out_ifindex == ctx->ingress_ifindex ? XDP_TX : bpf_redirect(out_ifindex, 0);
}

/* Where a tenant route with a device sends the inner packet: that device, when the
 * node's FIB reaches the inner destination through it with a known neighbour (the MACs
 * come from there); 0 leaves the packet to the stack. */
static __always_inline __u32 srv6_decap_target(struct xdp_md *ctx, const struct cil_tenant_route *r, int v6,
					       const __u8 *dst, struct bpf_fib_lookup *fib)
{
	if (!r->ifindex)
		return 0;
	fib->family = v6 ? AF_INET6 : AF_INET;
	fib->ifindex = ctx->ingress_ifindex;
	if (v6)
		__builtin_memcpy(fib->ipv6_dst, dst, 16);
	else
		__builtin_memcpy(&fib->ipv4_dst, dst, 4);
	if (bpf_fib_lookup(ctx, fib, sizeof(*fib), 0) != BPF_FIB_LKUP_RET_SUCCESS ||
	    fib->ifindex != r->ifindex)
		return 0;
	return r->ifindex;
}

/* End.DT4 and End.DT6 (RFC 8986 §4.6, §4.8): the last segment; the inner packet is looked
 * up in the SID's tenant table and handed on without the outer headers. */
static __always_inline int srv6_decap(struct xdp_md *ctx, struct srv6_in *in, const struct cil_local_sid *sid)
{
	struct bpf_fib_lookup fib = {};
	struct cil_packet_record *rec;
	struct cil_tenant_route *route;
	__u32 inner_off = in->s.off + in->s.len, inner_len = in->pkt_end - inner_off, target;
	int v6 = sid->behavior == CIL_SRV6_END_DT6;
	__u8 l4[14], macs[12], dst[16];
	struct ethhdr *eth;
	void *data, *end;
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;

	if (in->s.seg_left != 0)
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRH_BAD_SEGLEFT);
	in->m.tenant_id = sid->tenant_id;
	if (!v6) {
		if (in->s.next_hdr != CIL_NH_IPV4 || bpf_xdp_load_bytes(ctx, inner_off, &ip.v4, sizeof(ip.v4)) ||
		    ip.v4.version != 4 || ip.v4.ihl < 5 || bpf_ntohs(ip.v4.tot_len) != inner_len)
			return srv6_xdp_drop(ctx, in, CIL_DROP_SRV6_BAD_INNER);
		srv6_inner4_meta(&in->m, &ip.v4);
		if (!(ip.v4.frag_off & bpf_htons(0x1fff)) &&
		    bpf_xdp_load_bytes(ctx, inner_off + ip.v4.ihl * 4, l4, sizeof(l4)) == 0)
			srv6_l4(l4, ip.v4.protocol, &in->m);
		__builtin_memcpy(dst, &ip.v4.daddr, 4);
		route = cil_tenant_route4(sid->tenant_id, ip.v4.daddr);
	} else {
		if (in->s.next_hdr != CIL_NH_IPV6 || bpf_xdp_load_bytes(ctx, inner_off, &ip.v6, sizeof(ip.v6)) ||
		    ip.v6.version != 6 || IPV6_HLEN + bpf_ntohs(ip.v6.payload_len) != inner_len)
			return srv6_xdp_drop(ctx, in, CIL_DROP_SRV6_BAD_INNER);
		in->m.flags |= CIL_REC_F_HAS_INNER;
		in->m.ip_version = 6;
		in->m.inner_proto = ip.v6.nexthdr;
		__builtin_memcpy(in->m.src_addr, &ip.v6.saddr, 16);
		__builtin_memcpy(in->m.dst_addr, &ip.v6.daddr, 16);
		if (bpf_xdp_load_bytes(ctx, inner_off + IPV6_HLEN, l4, sizeof(l4)) == 0)
			srv6_l4(l4, ip.v6.nexthdr, &in->m);
		__builtin_memcpy(dst, &ip.v6.daddr, 16);
		route = cil_tenant_route6(sid->tenant_id, dst);
	}
	in->m.pod_len = ETH_HLEN + inner_len;
	if (!route)
		return srv6_xdp_drop(ctx, in, CIL_DROP_SRV6_NO_TENANT_ROUTE);
	target = srv6_decap_target(ctx, route, v6, dst, &fib);

	/* Reserved with the SRH as it arrived, committed once the inner packet is unwrapped. */
	rec = cil_notify_xdp_begin(ctx, &in->m, in->s.off, in->s.len);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = cil_ptr(data, 0, ETH_HLEN, end);
	if (!eth)
		return cil_commit_drop(rec, &in->m, CIL_DROP_DECAP_FAILED);
	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, (int)(inner_off - ETH_HLEN)))
		return cil_commit_drop(rec, &in->m, CIL_DROP_DECAP_FAILED);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = cil_ptr(data, 0, ETH_HLEN, end);
	if (!eth)
		return cil_commit_drop(rec, &in->m, CIL_DROP_DECAP_FAILED);
	if (target) {
		__builtin_memcpy(eth->h_dest, fib.dmac, 6);
		__builtin_memcpy(eth->h_source, fib.smac, 6);
	} else {
		__builtin_memcpy(eth, macs, 12);
	}
	eth->h_proto = bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	cil_notify_commit(rec, &in->m);
	return target ? bpf_redirect(target, 0) : XDP_PASS;
}

SEC("xdp")
int srv6_endpoint(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = cil_ptr(data, 0, ETH_HLEN + IPV6_HLEN, end);
	struct cil_local_sid *sid;
	struct ipv6hdr *ip6;
	struct srv6_in in;
	__u32 wire_len = (__u32)(end - data);
	__u8 direction;
	int err;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IPV6)) {
		cil_count(CIL_CNT_NOT_SRV6, wire_len);
		return XDP_PASS;
	}
	ip6 = (void *)eth + ETH_HLEN;
	if (ip6->version != 6 || !cil_srv6_in_locator(&ip6->daddr)) {
		cil_count(CIL_CNT_NOT_SRV6, wire_len);
		return XDP_PASS;
	}
	sid = cil_srv6_local_sid(&ip6->daddr);
	direction = sid && (sid->behavior == CIL_SRV6_END_DT4 || sid->behavior == CIL_SRV6_END_DT6) ?
			    CIL_DIR_INGRESS_DECAP : CIL_DIR_ROUTER_FORWARD;
	srv6_meta_init(&in.m, ctx->ingress_ifindex, direction, wire_len);
	__builtin_memcpy(in.m.outer_src, &ip6->saddr, 16);
	__builtin_memcpy(in.m.outer_dst, &ip6->daddr, 16);
	in.s.off = CIL_SRH_OFF;
	in.s.len = 0;
	in.s.hmac_off = 0;
	in.pkt_end = ETH_HLEN + IPV6_HLEN + bpf_ntohs(ip6->payload_len);
	if (!sid)
		return srv6_xdp_drop(ctx, &in, CIL_DROP_SRV6_UNKNOWN_SID);
	if (ip6->nexthdr != CIL_NH_ROUTING)
		return srv6_xdp_drop(ctx, &in, CIL_DROP_SRV6_NO_SRH);
	if (in.pkt_end > wire_len)
		return srv6_xdp_drop(ctx, &in, CIL_DROP_SRH_MALFORMED);
	err = cil_srh_parse(ctx, in.pkt_end, &in.s);
	if (err) {
		/* A length that is itself wrong is not copied into the record. */
		if (err == CIL_DROP_SRH_MALFORMED || err == CIL_DROP_SRV6_NO_SRH)
			in.s.len = 0;
		return srv6_xdp_drop(ctx, &in, err);
	}
	if (in.s.hmac_off)
		cil_count(CIL_CNT_SRV6_HMAC_TLV, wire_len);
	switch (sid->behavior) {
	case CIL_SRV6_END:
	case CIL_SRV6_END_X:
		return srv6_end(ctx, &in, sid);
	case CIL_SRV6_END_DT4:
	case CIL_SRV6_END_DT6:
		return srv6_decap(ctx, &in, sid);
	default:
		return srv6_xdp_drop(ctx, &in, CIL_DROP_SRV6_UNKNOWN_SID);
	}
}
