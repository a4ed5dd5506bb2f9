/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The SCION Packet Authenticator Option (authenticator-option.rst) between cluster ASes:
 * tc egress seals every packet to a peer AS with the DRKey-derived key K_{A->B}, XDP
 * ingress verifies it before anything else believes the packet's identity. AES-CMAC
 * (RFC 4493) in one bpf_crypto_encrypt call: the whole MAC input is built in per-CPU
 * scratch, its last block gets CMAC's subkey, and cbc(aes) with a zero IV leaves the tag
 * in the last ciphertext block. The contexts are kptrs made by the spao_key_install
 * syscall program. Compiled in only with CIL_SPAO_KFUNC (edge_kfunc.bpf.o), so edge.bpf.o
 * still loads on kernels without the crypto kfuncs (there authentication is off). */
#ifndef CIL_SPAO_H
#define CIL_SPAO_H

#include "common.h"
#include "config.h"
#include "payload.h"
#include "scion.h"
#include "crypto_kfunc.h"

/* Authentication on or off, and the acceptance window's full width (AbsTime within half
 * of it either side of the receiver's clock); set by the loader. */
const volatile __u32 spao_enabled = 0;
const volatile __u64 spao_window_ns = 2000000000ULL;

#define CIL_SPAO_SPI 0x00434c01 /* locally agreed in a Cillion mesh: not a DRKey SPI */
#define CIL_SPAO_ALG_CMAC 0
#define CIL_SPAO_BLOCK 16
#define CIL_SPAO_EXT_LEN 32     /* E2E header 2 + option header 2 + SPAO data 28 */
#define CIL_SPAO_SLOTS 3        /* epochs per (peer, direction): previous, current, next */
#define CIL_SPAO_DIR_TX 0
#define CIL_SPAO_DIR_RX 1
#define CIL_SPAO_BUF 4096       /* MAC input: prefix (<= 360) + upper layer (<= 2048) + pad */
#define CIL_SPAO_UPPER_MAX 2048 /* shim + IPv4 packet; larger packets are not sealed or verified */
#define CIL_SPAO_PROBE_IA 0     /* the loader's self-test key lives under peer IA 0, tx */

struct cil_spao_key_id {
	__u64 peer_ia;
	__u32 dir;
	__u32 slot;
};

struct cil_spao_key {
	struct bpf_crypto_ctx __kptr *ctx; /* cbc(aes) under K_{A->B} */
	__s64 epoch_begin_ns;              /* Unix ns */
	__s64 not_after_ns;                /* Unix ns: epoch end + grace */
	__u32 cluster_id;                  /* the peer AS's cluster id */
	__u32 _pad;
	__u8 k1[CIL_SPAO_BLOCK];           /* CMAC subkeys, computed in user space */
	__u8 k2[CIL_SPAO_BLOCK];
};

/* What user space passes to spao_key_install (BPF_PROG_TEST_RUN's ctx). */
struct cil_spao_install {
	__u64 peer_ia;
	__u32 dir;
	__u32 slot;
	__s64 epoch_begin_ns;
	__s64 not_after_ns;
	__u32 cluster_id;
	__u32 _pad;
	__u8 key[CIL_SPAO_BLOCK];
	__u8 k1[CIL_SPAO_BLOCK];
	__u8 k2[CIL_SPAO_BLOCK];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 3 * 2 * 256);
	__type(key, struct cil_spao_key_id);
	__type(value, struct cil_spao_key);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} spao_keys SEC(".maps");

/* Duplicate suppression (the spec's, keyed by sender and authenticator): an entry lives
 * until the LRU evicts it; a packet whose entry was evicted is outside the window by then
 * unless more than max_entries packets arrived within one window. */
struct cil_spao_seen_key {
	__u64 src_ia;
	__u32 src_host_be;
	__u32 _pad;
	__u8 auth[CIL_SPAO_BLOCK];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, struct cil_spao_seen_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} spao_seen SEC(".maps");

struct cil_spao_scratch {
	__u8 in[CIL_SPAO_BUF];
	__u8 out[CIL_SPAO_BUF];
	__u8 hdr[CIL_HDR_MAX];
	__u8 iv[CIL_SPAO_BLOCK];
	__u8 tag[CIL_SPAO_BLOCK];
	__u8 opt[SCION_SPAO_DATA_LEN]; /* the received SPAO's data */
	struct cil_spao_seen_key seen;  /* the duplicate-suppression key, off the stack */
	struct cil_spao_key_id id;      /* the key lookup's, off the stack too */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cil_spao_scratch);
} spao_scratch SEC(".maps");

static __always_inline struct cil_spao_scratch *cil_spao_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&spao_scratch, &zero);
}

/*
 * Items 1-4 of the MAC input into sc->in: option metadata, common header rows 1 and 3,
 * both ISD-ASes and both IPv4 hosts (a non-DRKey SPI binds no address through the key),
 * the standard path with CurrINF/CurrHF, SegIDs, router alerts and reserved bits zeroed
 * (scion/spao/mac_input.ts, immutablePath). `hdr` is the SCION header in a map value,
 * with IPv4 hosts at both ends. Returns the prefix length (hdr_len + 8), 0 when the header
 * is not one this datapath builds.
 */
static __always_inline __u32 cil_spao_prefix(struct cil_spao_scratch *sc, const __u8 *hdr, __u32 hdr_len,
					     __u64 ts, __u32 upper_len)
{
	__u8 *in = sc->in;
	__u32 n_inf = 0, n_hf = 0, hf_off;

	if (hdr_len < SCION_CMN_LEN + SCION_IA_LEN + 8 + 4 || hdr_len > CIL_HDR_MAX || (hdr_len & 3))
		return 0;
	in[0] = hdr_len / 4;
	in[1] = CIL_PROTO_SHIM;
	in[2] = upper_len >> 8;
	in[3] = upper_len;
	in[4] = CIL_SPAO_ALG_CMAC;
	in[5] = 0;
	for (int i = 0; i < 6; i++)
		in[6 + i] = ts >> (40 - 8 * i);
	/* scionproto keeps TrafficClass & 0x3f (see mac_input.ts); version is 0. */
	in[12] = hdr[0] & 0x03;
	in[13] = hdr[1];
	in[14] = hdr[2];
	in[15] = hdr[3];
	in[16] = hdr[8];
	in[17] = hdr[9];
	in[18] = 0;
	in[19] = 0;
	for (int i = 0; i < CIL_HDR_MAX - 12; i++) {
		if (12 + i >= hdr_len)
			break;
		in[20 + i] = hdr[12 + i];
	}
	/* The path starts at input offset 44: meta header, info fields, hop fields. */
	in[44] = 0;
	in[45] &= 0x03;
	for (int i = 0; i < 3; i++) {
		__u8 len = i == 0 ? ((in[45] << 4) | (in[46] >> 4)) & 0x3f :
			   i == 1 ? ((in[46] << 2) | (in[47] >> 6)) & 0x3f : in[47] & 0x3f;

		if (len) {
			n_inf++;
			n_hf += len;
		}
	}
	if (4 + 8 * n_inf + 12 * n_hf != hdr_len - (SCION_CMN_LEN + SCION_IA_LEN + 8))
		return 0;
	for (int i = 0; i < 3; i++) {
		__u32 o = 48 + 8 * i;

		if (i >= n_inf)
			break;
		in[o] &= 0x03;
		in[o + 1] = 0;
		in[o + 2] = 0;
		in[o + 3] = 0;
	}
	hf_off = 48 + 8 * n_inf;
	/* A path that fits CIL_HDR_MAX has at most 25 hop fields (one info field). */
	for (int j = 0; j < 25; j++) {
		if (j >= n_hf)
			break;
		in[(hf_off + 12 * j) & (CIL_SPAO_BUF - 1)] = 0;
	}
	return hdr_len + 8;
}

/* The CMAC of sc->in[0, total) under `k` into sc->tag; 0 or -1. */
static __always_inline int cil_spao_cmac(struct cil_spao_scratch *sc, struct cil_spao_key *k, __u32 total)
{
	struct bpf_dynptr src, dst, iv;
	struct bpf_crypto_ctx *ctx;
	const __u8 *sub;
	__u32 n, last;

	if (total == 0 || total > CIL_SPAO_BUF - CIL_SPAO_BLOCK)
		return -1;
	if (total & (CIL_SPAO_BLOCK - 1)) {
		n = (total + CIL_SPAO_BLOCK) & ~(CIL_SPAO_BLOCK - 1);
		for (int i = 0; i < CIL_SPAO_BLOCK; i++) {
			__u32 o = total + i;

			if (o >= n)
				break;
			sc->in[o & (CIL_SPAO_BUF - 1)] = i == 0 ? 0x80 : 0;
		}
		sub = k->k2;
	} else {
		n = total;
		sub = k->k1;
	}
	last = n - CIL_SPAO_BLOCK;
	for (int i = 0; i < CIL_SPAO_BLOCK; i++)
		sc->in[(last + i) & (CIL_SPAO_BUF - 1)] ^= sub[i];
	__builtin_memset(sc->iv, 0, CIL_SPAO_BLOCK);
	ctx = k->ctx;
	if (!ctx || n > CIL_SPAO_BUF)
		return -1;
	bpf_dynptr_from_mem(sc->in, n, 0, &src);
	bpf_dynptr_from_mem(sc->out, n, 0, &dst);
	bpf_dynptr_from_mem(sc->iv, CIL_SPAO_BLOCK, 0, &iv);
	if (bpf_crypto_encrypt(ctx, &src, &dst, &iv))
		return -1;
	for (int i = 0; i < CIL_SPAO_BLOCK; i++)
		sc->tag[i] = sc->out[(last + i) & (CIL_SPAO_BUF - 1)];
	return 0;
}

static __always_inline __s64 cil_spao_now(const struct cil_config *cfg, __u64 boot_ns)
{
	return (__s64)boot_ns + cfg->realtime_offset_ns;
}

/* The tx key whose validity covers `now` and whose epoch began last; NULL when none. */
static __always_inline struct cil_spao_key *cil_spao_tx_key(__u64 peer_ia, __s64 now)
{
	struct cil_spao_key_id id = { .peer_ia = peer_ia, .dir = CIL_SPAO_DIR_TX };
	struct cil_spao_key *best = NULL, *k;

	for (int i = 0; i < CIL_SPAO_SLOTS; i++) {
		id.slot = i;
		k = bpf_map_lookup_elem(&spao_keys, &id);
		if (!k || !k->ctx || now < k->epoch_begin_ns || now > k->not_after_ns)
			continue;
		if (!best || k->epoch_begin_ns > best->epoch_begin_ns)
			best = k;
	}
	return best;
}

/*
 * Egress: the end-to-end extension with the sealed SPAO into `ext` (CIL_SPAO_EXT_LEN bytes
 * of a map value), over the SCION header `hdr`, the shim `shim` and the skb's IPv4 packet
 * of `inner_len` bytes at ETH_HLEN. 0 or a drop reason.
 */
static __always_inline int cil_spao_seal(struct __sk_buff *skb, const struct cil_config *cfg, __u64 dst_ia,
					 const __u8 *hdr, __u32 hdr_len, const __u8 *shim, __u32 inner_len, __u8 *ext)
{
	struct cil_spao_scratch *sc = cil_spao_scratch();
	__s64 now = cil_spao_now(cfg, bpf_ktime_get_boot_ns());
	struct cil_spao_key *k = cil_spao_tx_key(dst_ia, now);
	__u32 upper = CIL_SHIM_LEN + inner_len, pre;
	__u64 ts;

	if (!k)
		return CIL_DROP_AUTH_NO_KEY;
	if (!sc || inner_len == 0 || upper > CIL_SPAO_UPPER_MAX)
		return CIL_DROP_ENCAP_FAILED;
	ts = now - k->epoch_begin_ns;
	pre = cil_spao_prefix(sc, hdr, hdr_len, ts, upper);
	if (!pre || pre > 511)
		return CIL_DROP_ENCAP_FAILED;
	for (int i = 0; i < CIL_SHIM_LEN; i++)
		sc->in[pre + i] = shim[i];
	if (inner_len > CIL_SPAO_UPPER_MAX - CIL_SHIM_LEN ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, sc->in + pre + CIL_SHIM_LEN, inner_len))
		return CIL_DROP_ENCAP_FAILED;
	if (cil_spao_cmac(sc, k, pre + upper))
		return CIL_DROP_ENCAP_FAILED;
	ext[0] = CIL_PROTO_SHIM;
	ext[1] = CIL_SPAO_EXT_LEN / 4 - 1;
	ext[2] = SCION_OPT_SPAO;
	ext[3] = SCION_SPAO_DATA_LEN;
	ext[4] = CIL_SPAO_SPI >> 24;
	ext[5] = (CIL_SPAO_SPI >> 16) & 0xff;
	ext[6] = (CIL_SPAO_SPI >> 8) & 0xff;
	ext[7] = CIL_SPAO_SPI & 0xff;
	ext[8] = CIL_SPAO_ALG_CMAC;
	ext[9] = 0;
	for (int i = 0; i < 6; i++)
		ext[10 + i] = ts >> (40 - 8 * i);
	__builtin_memcpy(ext + 16, sc->tag, CIL_SPAO_BLOCK);
	return 0;
}

/*
 * Ingress: 0 when the packet carries a SPAO of this mesh whose MAC verifies under the
 * source AS's key for an epoch its timestamp falls in, within the acceptance window, not
 * seen before, and whose shim identity belongs to the source AS's cluster; else the drop
 * reason. Sets CIL_REC_F_AUTHENTICATED in m->flags when it passes.
 */
static __always_inline int cil_spao_verify(struct xdp_md *ctx, const struct cil_config *cfg, const struct cil_scion *s,
					   const struct cil_payload *pl, struct cil_packet_meta *m)
{
	__s64 now = cil_spao_now(cfg, m->ts_ns), half = spao_window_ns / 2, abs;
	struct cil_spao_scratch *sc = cil_spao_scratch();
	struct cil_spao_key *k = NULL, *c;
	__u32 upper, pre, cluster;
	__u64 ts = 0;
	__u8 diff = 0, *opt;
	int have_key = 0;

	if (!pl->spao_off)
		return CIL_DROP_AUTH_MISSING;
	/* The MAC input is built for IPv4 hosts at both ends, as the edges send. */
	if (s->src_type != 0 || s->src_host_len != 4)
		return CIL_DROP_UNSUPPORTED_ADDR;
	if (!sc)
		return CIL_DROP_AUTH_BAD_MAC;
	sc->id.peer_ia = s->src_ia;
	sc->id.dir = CIL_SPAO_DIR_RX;
	opt = sc->opt;
	if (bpf_xdp_load_bytes(ctx, pl->spao_off, opt, SCION_SPAO_DATA_LEN))
		return CIL_DROP_MALFORMED_INNER;
	/* A SPAO of another association or algorithm is none this mesh can check. */
	if (opt[0] != (CIL_SPAO_SPI >> 24) || opt[1] != ((CIL_SPAO_SPI >> 16) & 0xff) ||
	    opt[2] != ((CIL_SPAO_SPI >> 8) & 0xff) || opt[3] != (CIL_SPAO_SPI & 0xff) || opt[4] != CIL_SPAO_ALG_CMAC)
		return CIL_DROP_AUTH_MISSING;
	for (int i = 0; i < 6; i++)
		ts = ts << 8 | opt[6 + i];
	for (int i = 0; i < CIL_SPAO_SLOTS; i++) {
		sc->id.slot = i;
		c = bpf_map_lookup_elem(&spao_keys, &sc->id);
		if (!c || !c->ctx)
			continue;
		have_key = 1;
		abs = c->epoch_begin_ns + (__s64)ts;
		if (abs > c->not_after_ns || abs < now - half || abs > now + half)
			continue;
		k = c;
		break;
	}
	if (!k)
		return have_key ? CIL_DROP_AUTH_STALE : CIL_DROP_AUTH_NO_KEY;

	upper = UNDERLAY_LEN + s->hdr_len + s->payload_len - pl->shim_off;
	if (s->hdr_len > CIL_HDR_MAX || s->hdr_len < 4 || upper > CIL_SPAO_UPPER_MAX || upper < CIL_SHIM_LEN)
		return CIL_DROP_AUTH_BAD_MAC;
	if (bpf_xdp_load_bytes(ctx, UNDERLAY_LEN, sc->hdr, s->hdr_len))
		return CIL_DROP_MALFORMED_SCION;
	pre = cil_spao_prefix(sc, sc->hdr, s->hdr_len, ts, upper);
	if (!pre || pre > 511 || bpf_xdp_load_bytes(ctx, pl->shim_off, sc->in + pre, upper))
		return CIL_DROP_AUTH_BAD_MAC;
	if (cil_spao_cmac(sc, k, pre + upper))
		return CIL_DROP_AUTH_BAD_MAC;
	/* Every byte is compared: how far a forgery matched must not show in the timing. */
	for (int i = 0; i < CIL_SPAO_BLOCK; i++)
		diff |= sc->tag[i] ^ opt[12 + i];
	if (diff)
		return CIL_DROP_AUTH_BAD_MAC;

	sc->seen.src_ia = s->src_ia;
	sc->seen.src_host_be = s->src_host4_be;
	sc->seen._pad = 0;
	__builtin_memcpy(sc->seen.auth, opt + 12, CIL_SPAO_BLOCK);
	abs = k->epoch_begin_ns + (__s64)ts;
	if (bpf_map_update_elem(&spao_seen, &sc->seen, &abs, BPF_NOEXIST))
		return CIL_DROP_AUTH_REPLAYED;
	/* No edge sends a reserved identity (0-255, no cluster), so one from another AS is foreign too. */
	cluster = (m->identity >> 16) & 0xff;
	if ((m->identity >> 24) || cluster != k->cluster_id)
		return CIL_DROP_AUTH_FOREIGN_IDENTITY;
	m->flags |= CIL_REC_F_AUTHENTICATED;
	return 0;
}

/* Makes a cbc(aes) context for a key and installs it with its validity in spao_keys,
 * replacing what the slot held. Run by the loader with BPF_PROG_TEST_RUN; 0 or -errno. */
SEC("syscall")
int spao_key_install(struct cil_spao_install *args)
{
	struct bpf_crypto_params params = {
		.type = "skcipher",
		.algo = "cbc(aes)",
		.key_len = CIL_SPAO_BLOCK,
	};
	struct cil_spao_key_id id = { .peer_ia = args->peer_ia, .dir = args->dir, .slot = args->slot };
	struct cil_spao_key v = {
		.epoch_begin_ns = args->epoch_begin_ns,
		.not_after_ns = args->not_after_ns,
		.cluster_id = args->cluster_id,
	};
	struct bpf_crypto_ctx *ctx, *old;
	struct cil_spao_key *k;
	int err = 0;

	if (args->dir > CIL_SPAO_DIR_RX || args->slot >= CIL_SPAO_SLOTS)
		return -22; /* EINVAL */
	__builtin_memcpy(v.k1, args->k1, CIL_SPAO_BLOCK);
	__builtin_memcpy(v.k2, args->k2, CIL_SPAO_BLOCK);
	__builtin_memcpy(params.key, args->key, CIL_SPAO_BLOCK);
	ctx = bpf_crypto_ctx_create(&params, sizeof(params), &err);
	if (!ctx)
		return err ?: -22;
	err = bpf_map_update_elem(&spao_keys, &id, &v, BPF_ANY);
	k = err ? NULL : bpf_map_lookup_elem(&spao_keys, &id);
	if (!k) {
		bpf_crypto_ctx_release(ctx);
		return err ?: -2; /* ENOENT */
	}
	old = bpf_kptr_xchg(&k->ctx, ctx);
	if (old)
		bpf_crypto_ctx_release(old);
	return 0;
}

/* The loader's self-test from XDP: the CMAC of the whole frame under the probe key,
 * written over the frame's first 16 bytes. */
SEC("xdp")
int spao_probe(struct xdp_md *ctx)
{
	struct cil_spao_key_id id = { .peer_ia = CIL_SPAO_PROBE_IA, .dir = CIL_SPAO_DIR_TX };
	struct cil_spao_scratch *sc = cil_spao_scratch();
	__u32 len = ctx->data_end - ctx->data;
	struct cil_spao_key *k = bpf_map_lookup_elem(&spao_keys, &id);

	if (!sc || !k || len < CIL_SPAO_BLOCK || len > CIL_SPAO_UPPER_MAX ||
	    bpf_xdp_load_bytes(ctx, 0, sc->in, len) || cil_spao_cmac(sc, k, len) ||
	    bpf_xdp_store_bytes(ctx, 0, sc->tag, CIL_SPAO_BLOCK))
		return XDP_ABORTED;
	return XDP_PASS;
}

#endif
