// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The edge of a cluster AS, on every worker node: tc egress wraps a pod's IPv4 packet
 * into SCION on the path its policy chose; XDP ingress checks a SCION packet that ends
 * here, applies the ingress allow list, unwraps it and hands the pod's packet to the
 * stack, which routes it to the pod. The node is its AS's border router for its
 * uplinks, so egress writes the path with the local hop field already processed. */
#include "include/lib/egress.h"
#include "include/lib/endpoints.h"
#include "include/lib/hopfield.h"
#include "include/lib/ingress.h"
#include "include/lib/intake.h"
#include "include/lib/payload.h"
#include "include/lib/xpolicy.h"
#ifdef CIL_SPAO_KFUNC
#include "include/lib/spao.h"
#define CIL_EXT_MAX CIL_SPAO_EXT_LEN
#else
#define CIL_EXT_MAX 0
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Common header + two ISD-ASes + two IPv4 hosts: where a template's path starts. */
#define TMPL_PATH_OFF (SCION_CMN_LEN + SCION_IA_LEN + 8)
#define OUTER_LEN (IPV4_HLEN + UDP_HLEN)

/* The outer headers of one packet are built here before one store into the frame. */
struct encap_scratch {
	__u8 buf[OUTER_LEN + CIL_HDR_MAX + CIL_EXT_MAX + CIL_SHIM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct encap_scratch);
} encap_scratch SEC(".maps");

static __always_inline void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* Counts and records an egress verdict, the last thing the program does; path bytes come
 * from the template. */
static __always_inline void cil_notify_tc(struct cil_packet_meta *m, const struct cil_path *p)
{
	struct cil_packet_record *rec = cil_notify_begin(m);

	if (rec && p) {
		__builtin_memcpy(rec->path, p->hdr + TMPL_PATH_OFF, CIL_REC_PATH_MAX);
		rec->meta.path_len = p->hdr_len - TMPL_PATH_OFF;
	}
	cil_notify_commit(rec, m);
}

static __always_inline int egress_drop(struct cil_packet_meta *m, __u16 reason, const struct cil_path *p)
{
	cil_set_drop(m, reason);
	cil_notify_tc(m, p);
	return TC_ACT_SHOT;
}

SEC("tc")
int edge_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = cil_ptr(data, 0, ETH_HLEN, end);
	struct iphdr *ip = cil_ptr(data, ETH_HLEN, IPV4_HLEN, end);
	struct cil_egress_value *pol;
	struct cil_endpoint *ep;
	struct cil_packet_meta m;
	struct encap_scratch *sc;
	struct cil_path *p;
	__u32 zero = 0, hash, idx, path_id, hdr_len, inner_len, scion_len, outer, n, ext_len = 0;
	__u8 l4[14], *b;
#ifdef CIL_SPAO_KFUNC
	struct cil_config *cfg;
	int err;
#endif

	if (!eth || !ip || eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4)
		return TC_ACT_OK;
	ep = cil_endpoint_of(ip->saddr);
	if (!ep)
		return TC_ACT_OK;
	pol = cil_egress_lookup(ep->identity, ip->daddr);
	if (!pol) {
		cil_count(CIL_CNT_NOT_COVERED, skb->len);
		return TC_ACT_OK;
	}

	cil_meta_init(&m, skb->ifindex, CIL_DIR_EGRESS_ENCAP, skb->len);
	m.pod_len = skb->len;
	m.identity = ep->identity;
	m.flags = CIL_REC_F_HAS_INNER;
	m.ip_version = 4;
	m.inner_proto = ip->protocol;
	__builtin_memcpy(m.src_addr, &ip->saddr, 4);
	__builtin_memcpy(m.dst_addr, &ip->daddr, 4);
	if (!(ip->frag_off & bpf_htons(0x1fff)) &&
	    bpf_skb_load_bytes(skb, ETH_HLEN + ip->ihl * 4, l4, sizeof(l4)) == 0) {
		if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
			m.src_port = ((__u16)l4[0] << 8) | l4[1];
			m.dst_port = ((__u16)l4[2] << 8) | l4[3];
		} else if (ip->protocol == IPPROTO_ICMP) {
			m.src_port = ((__u16)l4[0] << 8) | l4[1];
		}
		if (ip->protocol == IPPROTO_TCP)
			m.tcp_flags = l4[13];
	}

	if (cil_xpolicy_egress_check(&m, ep->identity, ip->daddr))
		return egress_drop(&m, CIL_DROP_POLICY_EGRESS_DENIED, NULL);
	n = pol->n_paths;
	if (n == 0 || n > CIL_MAX_PATH_SET)
		return egress_drop(&m, CIL_DROP_NO_PATH, NULL);
	hash = cil_flow_hash(ip->saddr, ip->daddr, m.src_port, m.dst_port, m.inner_proto);
	idx = hash % n;
	cil_barrier_var(idx);
	path_id = pol->path_ids[idx & (CIL_MAX_PATH_SET - 1)];
	m.path_id = path_id;
	p = bpf_map_lookup_elem(&paths, &path_id);
	if (!p)
		return egress_drop(&m, CIL_DROP_NO_PATH, NULL);
	m.egress_ifid = p->egress_ifid;
	m.src_ia = cil_load_ia(p->hdr + SCION_CMN_LEN + 8);
	m.dst_ia = cil_load_ia(p->hdr + SCION_CMN_LEN);
	m.path_type = p->hdr[8];
	hdr_len = p->hdr_len;
	if (hdr_len < TMPL_PATH_OFF + SCION_META_LEN || hdr_len > CIL_HDR_MAX || (hdr_len & 3) || p->hdr[9] != 0)
		return egress_drop(&m, CIL_DROP_NO_PATH, NULL);
	/* Segmenting a GSO packet after encapsulation would leave SCION's lengths wrong;
	 * gso_size marks one whatever gso_segs says (the stack may not have counted them yet). */
	if (skb->gso_size)
		return egress_drop(&m, CIL_DROP_GSO, p);
	inner_len = skb->len - ETH_HLEN;
#ifdef CIL_SPAO_KFUNC
	if (spao_enabled)
		ext_len = CIL_SPAO_EXT_LEN;
#endif
	scion_len = hdr_len + ext_len + CIL_SHIM_LEN + inner_len;
	if (scion_len > p->mtu)
		return egress_drop(&m, CIL_DROP_PATH_MTU, p);

	sc = bpf_map_lookup_elem(&encap_scratch, &zero);
	if (!sc)
		return egress_drop(&m, CIL_DROP_ENCAP_FAILED, p);
	b = sc->buf;
	/* Underlay IPv4 + UDP to the first-hop router. */
	__builtin_memset(b, 0, OUTER_LEN);
	b[0] = 0x45;
	put16(b + 2, OUTER_LEN + scion_len);
	b[6] = 0x40; /* DF: the path MTU was checked above */
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	__builtin_memcpy(b + 12, &p->src_ip4_be, 4);
	__builtin_memcpy(b + 16, &p->dst_ip4_be, 4);
	*(__u16 *)(b + 10) = cil_ipv4_csum(b);
	__builtin_memcpy(b + 20, &p->src_port_be, 2);
	__builtin_memcpy(b + 22, &p->dst_port_be, 2);
	put16(b + 24, UDP_HLEN + scion_len);
	/* The SCION header from the template, with this packet's lengths, flow and hosts. */
	__builtin_memcpy(b + OUTER_LEN, p->hdr, CIL_HDR_MAX);
	b[OUTER_LEN + 1] = (b[OUTER_LEN + 1] & 0xf0) | ((hash >> 16) & 0x0f);
	put16(b + OUTER_LEN + 2, hash);
	b[OUTER_LEN + 4] = ext_len ? SCION_NEXTHDR_E2E : CIL_PROTO_SHIM;
	b[OUTER_LEN + 5] = hdr_len / 4;
	put16(b + OUTER_LEN + 6, ext_len + CIL_SHIM_LEN + inner_len);
	__builtin_memcpy(b + OUTER_LEN + SCION_CMN_LEN + SCION_IA_LEN, &ip->daddr, 4);
	__builtin_memcpy(b + OUTER_LEN + SCION_CMN_LEN + SCION_IA_LEN + 4, &ip->saddr, 4);
	/* With authentication, the end-to-end extension with the SPAO; then the shim with
	 * the sender's identity, then the IPv4 packet. */
	outer = OUTER_LEN + hdr_len + ext_len;
	if (outer + CIL_SHIM_LEN > sizeof(sc->buf))
		return egress_drop(&m, CIL_DROP_ENCAP_FAILED, p);
	b[outer] = CIL_SHIM_VERSION << 4;
	b[outer + 1] = CIL_SHIM_INNER_IPV4;
	b[outer + 2] = 0;
	b[outer + 3] = 0;
	b[outer + 4] = ep->identity >> 24;
	b[outer + 5] = ep->identity >> 16;
	b[outer + 6] = ep->identity >> 8;
	b[outer + 7] = ep->identity;
#ifdef CIL_SPAO_KFUNC
	if (ext_len) {
		cfg = cil_config();
		err = cfg ? cil_spao_seal(skb, cfg, m.dst_ia, b + OUTER_LEN, hdr_len, b + outer, inner_len,
					  b + OUTER_LEN + hdr_len) : CIL_DROP_NO_KEY;
		if (err)
			return egress_drop(&m, err, p);
		m.flags |= CIL_REC_F_AUTHENTICATED;
	}
#endif
	outer += CIL_SHIM_LEN;

	if (bpf_skb_adjust_room(skb, outer, BPF_ADJ_ROOM_MAC, 0))
		return egress_drop(&m, CIL_DROP_ENCAP_FAILED, p);
	if (outer > sizeof(sc->buf) || bpf_skb_store_bytes(skb, ETH_HLEN, b, outer, 0) ||
	    bpf_skb_store_bytes(skb, 0, p->dst_mac, 6, 0) || bpf_skb_store_bytes(skb, 6, p->src_mac, 6, 0))
		return egress_drop(&m, CIL_DROP_ENCAP_FAILED, p);

	m.wire_len = skb->len;
	cil_notify_tc(&m, p);
	/* bpf_redirect() without flags cannot fail; a delivery that fails later is the kernel's to count. */
	return p->ifindex != skb->ifindex ? bpf_redirect(p->ifindex, 0) : TC_ACT_OK;
}

SEC("xdp")
int edge_ingress(struct xdp_md *ctx)
{
	struct cil_intake in;
	struct cil_payload pl;
	struct scion_info inf;
	struct scion_hop hop;
	struct cil_endpoint *ep;
	struct cil_config *cfg;
	struct cil_packet_record *rec;
	__u8 macs[12];
	void *data, *end;
	struct ethhdr *eth;
	int err;

	if (!cil_intake(ctx, CIL_DIR_INGRESS_DECAP, &in))
		return XDP_PASS;
	if (in.m.verdict == CIL_VERDICT_DROPPED)
		return cil_xdp_drop(ctx, &in);
	cfg = cil_config();
	err = cfg ? 0 : CIL_DROP_NO_KEY;
	err = err ?: cil_payload_parse(ctx, &in.s, &pl, &in.m);
	if (!err && cfg->local_ia != in.s.dst_ia)
		err = CIL_DROP_NOT_FOR_US;
	if (!err && (in.s.dst_type != 0 || in.s.dst_host_len != 4))
		err = CIL_DROP_UNSUPPORTED_ADDR;
	err = err ?: cil_hop_load(ctx, &in.s, &inf, &hop);
	err = err ?: cil_hop_verify(cfg, &in.s, &inf, &hop, in.ifid, in.m.ts_ns);
	/* The path must end here: last hop field, no egress interface. */
	if (!err && (in.s.cur_hf != in.s.n_hf - 1 || cil_hop_egress(&inf, &hop) != 0))
		err = CIL_DROP_NOT_FOR_US;
	if (!err && (pl.inner_off == 0 || pl.inner_daddr_be != in.s.dst_host4_be))
		err = CIL_DROP_MALFORMED_INNER;
	ep = err ? NULL : cil_endpoint_of(pl.inner_daddr_be);
	if (!err && !ep)
		err = CIL_DROP_UNKNOWN_ENDPOINT;
#ifdef CIL_SPAO_KFUNC
	/* It came in over an inter-AS link: our own ISD-AS as its source is forged (the router
	 * drops the same), and must not pass as a local packet that needs no SPAO. */
	if (!err && spao_enabled && in.s.src_ia == cfg->local_ia)
		err = CIL_DROP_SPOOFED_SRC;
	/* The identity is believed only once its authenticator verified. */
	if (!err && spao_enabled && in.s.src_ia != cfg->local_ia)
		err = cil_spao_verify(ctx, cfg, &in.s, &pl, &in.m);
#endif
	if (!err && ep)
		err = cil_ingress_check(ctx, &in.s, ep->identity, in.m.identity);
	if (!err && ep)
		err = cil_xpolicy_check(&in.m, ep->identity);
	if (err) {
		cil_set_drop(&in.m, err);
		return cil_xdp_drop(ctx, &in);
	}

	/* The record is reserved with the path as it arrived and committed once the pod's
	 * packet is unwrapped, so a failed unwrap is a named drop, not a delivery. */
	rec = cil_notify_xdp_begin(ctx, &in.m, in.s.path_off, in.s.path_len);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = cil_ptr(data, 0, ETH_HLEN, end);
	if (!eth)
		return cil_commit_drop(rec, &in.m, CIL_DROP_DECAP_FAILED);
	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, (int)(pl.inner_off - ETH_HLEN)))
		return cil_commit_drop(rec, &in.m, CIL_DROP_DECAP_FAILED);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = cil_ptr(data, 0, ETH_HLEN, end);
	if (!eth)
		return cil_commit_drop(rec, &in.m, CIL_DROP_DECAP_FAILED);
	__builtin_memcpy(eth, macs, 12);
	eth->h_proto = bpf_htons(ETH_P_IP);
	cil_notify_commit(rec, &in.m);
	return XDP_PASS;
}
