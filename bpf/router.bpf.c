// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A SCION border router in XDP, for the transit ASes of a test topology: every device
 * it is attached to carries one SCION interface of the AS. It processes the current hop
 * field as scion's router does (ingress check, expiry, MAC with SegID chaining, segment
 * change, egress), advances the path, rewrites the underlay for the next link and
 * redirects the frame there. */
#include "include/lib/hopfield.h"
#include "include/lib/intake.h"
#include "include/lib/payload.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The segment hop field `hf` lies in. */
static __always_inline __u8 cil_segment_of(const struct cil_scion *s, __u32 hf)
{
	return (hf >= s->seg_len[0]) + (hf >= s->seg_len[0] + s->seg_len[1]);
}

static __always_inline void cil_set_current(struct cil_scion *s, __u32 hf)
{
	s->cur_hf = hf;
	s->cur_inf = cil_segment_of(s, hf);
	s->info_off = s->path_off + SCION_META_LEN + SCION_INFO_LEN * s->cur_inf;
	s->hop_off = s->path_off + SCION_META_LEN + SCION_INFO_LEN * s->n_inf + SCION_HOP_LEN * (hf & 0x3f);
}

/* Rewrites Ethernet, IPv4 and UDP for the link behind `eif`. */
static __always_inline int cil_rewrite_underlay(struct xdp_md *ctx, const struct cil_interface *eif)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = cil_ptr(data, 0, UNDERLAY_LEN, end);
	struct iphdr *ip;
	struct udphdr *udp;

	if (!eth)
		return -1;
	ip = (void *)eth + ETH_HLEN;
	udp = (void *)ip + IPV4_HLEN;
	__builtin_memcpy(eth->h_source, eif->local_mac, 6);
	__builtin_memcpy(eth->h_dest, eif->remote_mac, 6);
	ip->saddr = eif->local_ip4_be;
	ip->daddr = eif->remote_ip4_be;
	ip->ttl = 64;
	ip->check = 0;
	ip->check = cil_ipv4_csum(ip);
	udp->source = eif->local_port_be;
	udp->dest = eif->remote_port_be;
	/* The path bytes changed; zero means "no checksum" for UDP over IPv4. */
	udp->check = 0;
	return 0;
}

SEC("xdp")
int router(struct xdp_md *ctx)
{
	struct cil_intake in;
	struct cil_payload pl;
	struct scion_info inf, first_inf;
	struct scion_hop hop;
	struct cil_interface *eif;
	struct cil_config *cfg;
	struct cil_packet_record *rec;
	__u32 first_info_off, meta, path_off, path_len;
	int err, peering, xover = 0;
	__u16 egress;

	if (!cil_intake(ctx, CIL_DIR_ROUTER_FORWARD, &in))
		return XDP_PASS;
	if (in.m.verdict == CIL_VERDICT_DROPPED)
		return cil_xdp_drop(ctx, &in);
	cfg = cil_config();
	if (!cfg) {
		cil_set_drop(&in.m, CIL_DROP_NO_KEY);
		return cil_xdp_drop(ctx, &in);
	}
	/* Only the record needs the inner 5-tuple; the router forwards whatever the payload is. */
	if (emit_records)
		cil_payload_parse(ctx, &in.s, &pl, &in.m);
	if (in.s.src_ia == cfg->local_ia) {
		cil_set_drop(&in.m, CIL_DROP_SPOOFED_SRC);
		return cil_xdp_drop(ctx, &in);
	}
	err = cil_hop_load(ctx, &in.s, &inf, &hop);
	err = err ?: cil_hop_verify(cfg, &in.s, &inf, &hop, in.ifid, in.m.ts_ns);
	if (err) {
		cil_set_drop(&in.m, err);
		return cil_xdp_drop(ctx, &in);
	}
	/* Packets for this AS itself go to the stack (SCMP, BFD, local services). */
	if (in.s.dst_ia == cfg->local_ia && in.s.cur_hf == in.s.n_hf - 1 && cil_hop_egress(&inf, &hop) == 0) {
		cil_count(CIL_CNT_LOCAL, in.m.wire_len);
		return XDP_PASS;
	}
	peering = cil_hop_is_peering(&in.s, &inf);
	first_inf = inf;
	first_info_off = in.s.info_off;
	/* Segment change inside this AS: the next segment's first hop field is ours too. */
	if (!peering && in.s.cur_hf + 1 < in.s.n_hf && cil_segment_of(&in.s, in.s.cur_hf + 1) != in.s.cur_inf) {
		xover = 1;
		cil_set_current(&in.s, in.s.cur_hf + 1);
		err = cil_hop_load(ctx, &in.s, &inf, &hop);
		err = err ?: cil_hop_verify(cfg, &in.s, &inf, &hop, 0, in.m.ts_ns);
		if (err) {
			cil_set_drop(&in.m, err);
			return cil_xdp_drop(ctx, &in);
		}
		peering = cil_hop_is_peering(&in.s, &inf);
	}
	egress = cil_hop_egress(&inf, &hop);
	eif = egress ? cil_interface_of_ifid(egress) : NULL;
	if (!eif) {
		cil_set_drop(&in.m, CIL_DROP_UNKNOWN_EGRESS);
		return cil_xdp_drop(ctx, &in);
	}
	if (in.s.cur_hf + 1 >= in.s.n_hf) {
		cil_set_drop(&in.m, CIL_DROP_MALFORMED_PATH);
		return cil_xdp_drop(ctx, &in);
	}
	in.m.egress_ifid = egress;
	/* In construction direction the egress router chains the SegID on to the next hop. */
	if ((inf.flags & SCION_INFO_F_CONSDIR) && !peering)
		inf.seg_id_be = cil_segid_chain(inf.seg_id_be, &hop);

	path_off = in.s.path_off;
	path_len = in.s.path_len;
	/* The record keeps the path as it arrived and is committed once the frame is on its
	 * way, so a failed rewrite is a named drop, not a forward. */
	rec = cil_notify_xdp_begin(ctx, &in.m, path_off, path_len);

	if (xover && bpf_xdp_store_bytes(ctx, first_info_off, &first_inf, sizeof(first_inf)))
		return cil_commit_drop(rec, &in.m, CIL_DROP_REWRITE_FAILED);
	if (bpf_xdp_store_bytes(ctx, in.s.info_off, &inf, sizeof(inf)))
		return cil_commit_drop(rec, &in.m, CIL_DROP_REWRITE_FAILED);
	cil_set_current(&in.s, in.s.cur_hf + 1);
	meta = bpf_htonl(cil_scion_meta(&in.s));
	if (bpf_xdp_store_bytes(ctx, path_off, &meta, sizeof(meta)) || cil_rewrite_underlay(ctx, eif))
		return cil_commit_drop(rec, &in.m, CIL_DROP_REWRITE_FAILED);
	cil_notify_commit(rec, &in.m);
	/* bpf_redirect() without flags cannot fail; a delivery that fails later is the kernel's to count. */
	return eif->ifindex == ctx->ingress_ifindex ? XDP_TX : bpf_redirect(eif->ifindex, 0);
}

#ifdef CIL_HOP_MAC_KFUNC
/* Makes an ecb(aes) context for the key in `args` and puts it into hop_cipher's slot,
 * releasing the one it replaces. Run by the loader with BPF_PROG_TEST_RUN whenever the
 * hop-field key is set; returns 0 or a negative errno. */
SEC("syscall")
int hop_cipher_install(struct cil_cipher_install *args)
{
	struct bpf_crypto_params params = {
		.type = "skcipher",
		.algo = "ecb(aes)",
		.key_len = CIL_AES_BLOCK,
	};
	struct bpf_crypto_ctx *ctx, *old;
	struct cil_hop_cipher *c;
	__u32 slot = args->slot;
	int err = 0;

	c = bpf_map_lookup_elem(&hop_cipher, &slot);
	if (!c)
		return -22; /* EINVAL */
	__builtin_memcpy(params.key, args->key, CIL_AES_BLOCK);
	ctx = bpf_crypto_ctx_create(&params, sizeof(params), &err);
	if (!ctx)
		return err ?: -22;
	old = bpf_kptr_xchg(&c->ctx, ctx);
	if (old)
		bpf_crypto_ctx_release(old);
	return 0;
}

/* The loader's self-test from the same program type as the router: the frame's first
 * 16 bytes are encrypted in place under the probe slot's key. */
SEC("xdp")
int hop_cipher_probe(struct xdp_md *ctx)
{
	__u8 in[CIL_AES_BLOCK], out[CIL_AES_BLOCK];

	if (bpf_xdp_load_bytes(ctx, 0, in, sizeof(in)) || cil_cipher_block(CIL_CIPHER_PROBE, in, out) ||
	    bpf_xdp_store_bytes(ctx, 0, out, sizeof(out)))
		return XDP_ABORTED;
	return XDP_PASS;
}
#endif
