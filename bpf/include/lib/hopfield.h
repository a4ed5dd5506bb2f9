/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Hop-field checks as SCION's border router makes them: expiry, the MAC over the
 * 16-byte input under the current SegID, and the SegID chaining in both directions
 * (scion-header.rst "Hop Field MAC Computation"; scion/mac/segid.ts is the reference). */
#ifndef CIL_HOPFIELD_H
#define CIL_HOPFIELD_H

#ifdef CIL_HOP_MAC_KFUNC
#include "hop_cipher.h"
#else
#include "aes.h"
#endif
#include "config.h"
#include "scion.h"

/* One ExpTime unit is 24 h / 256 = 337.5 s. */
#define CIL_EXP_UNIT_NS 337500000000ULL

static __always_inline int cil_hop_expired(const struct cil_config *cfg, const struct scion_info *inf,
					   const struct scion_hop *hop, __u64 boot_ns)
{
	__u64 expiry = (__u64)bpf_ntohl(inf->ts_be) * 1000000000ULL + ((__u64)hop->exp_time + 1) * CIL_EXP_UNIT_NS;

	return cil_unix_ns(cfg, boot_ns) >= expiry;
}

/* beta_{i+1} = beta_i xor the hop's first two MAC bytes (network order in and out). */
static __always_inline __u16 cil_segid_chain(__u16 seg_id_be, const struct scion_hop *hop)
{
	return seg_id_be ^ *(const __u16 *)hop->mac;
}

/* AES-CMAC of one complete block, AES(K, M xor K1) (RFC 4493 step 4): 0, or -1 when
 * there is no cipher context for the key. */
static __always_inline int cil_hop_cmac(const struct cil_config *cfg, __u8 *block, __u8 *out)
{
#pragma unroll
	for (int i = 0; i < 16; i++)
		block[i] ^= cfg->cmac_k1[i];
#ifdef CIL_HOP_MAC_KFUNC
	return cil_cipher_block(CIL_CIPHER_LIVE, block, out);
#else
	cil_aes128_encrypt(cfg->rk, block, out);
	return 0;
#endif
}

/* 1 when the hop's MAC verifies under seg_id_be with this AS's key, 0 when not, -1
 * when the kernel cipher has no context. */
static __always_inline int cil_hop_mac_ok(const struct cil_config *cfg, __u16 seg_id_be,
					  const struct scion_info *inf, const struct scion_hop *hop)
{
	__u8 in[16], out[16];

	/* 0(2) SegID(2) Timestamp(4) 0(1) ExpTime(1) ConsIngress(2) ConsEgress(2) 0(2) */
	__builtin_memset(in, 0, sizeof(in));
	__builtin_memcpy(in + 2, &seg_id_be, 2);
	__builtin_memcpy(in + 4, &inf->ts_be, 4);
	in[9] = hop->exp_time;
	__builtin_memcpy(in + 10, &hop->cons_ingress_be, 2);
	__builtin_memcpy(in + 12, &hop->cons_egress_be, 2);
	if (cil_hop_cmac(cfg, in, out))
		return -1;
	/* Every byte compared, so the time taken does not say how many were right. */
	return ((out[0] ^ hop->mac[0]) | (out[1] ^ hop->mac[1]) | (out[2] ^ hop->mac[2]) |
		(out[3] ^ hop->mac[3]) | (out[4] ^ hop->mac[4]) | (out[5] ^ hop->mac[5])) == 0;
}

/* The interface the hop field says the packet enters by, seen in travel direction. */
static __always_inline __u16 cil_hop_ingress(const struct scion_info *inf, const struct scion_hop *hop)
{
	return bpf_ntohs((inf->flags & SCION_INFO_F_CONSDIR) ? hop->cons_ingress_be : hop->cons_egress_be);
}

static __always_inline __u16 cil_hop_egress(const struct scion_info *inf, const struct scion_hop *hop)
{
	return bpf_ntohs((inf->flags & SCION_INFO_F_CONSDIR) ? hop->cons_egress_be : hop->cons_ingress_be);
}

/* A peering path's two peer hop fields sit either side of the segment change. */
static __always_inline int cil_hop_is_peering(const struct cil_scion *s, const struct scion_info *inf)
{
	return (inf->flags & SCION_INFO_F_PEER) &&
	       (s->cur_hf == s->seg_len[0] - 1 || s->cur_hf == s->seg_len[0]);
}

/* Checks the current hop field for a packet that entered this AS by interface
 * `ingress_ifid` (0: from inside) at boot time `boot_ns`; updates inf->seg_id_be as the
 * ingress router must. 0 or a drop reason. */
static __always_inline int cil_hop_verify(const struct cil_config *cfg, const struct cil_scion *s,
					  struct scion_info *inf, const struct scion_hop *hop, __u16 ingress_ifid,
					  __u64 boot_ns)
{
	int peering = cil_hop_is_peering(s, inf);

	if (ingress_ifid != 0 && cil_hop_ingress(inf, hop) != ingress_ifid)
		return CIL_DROP_WRONG_INGRESS;
	if (cil_hop_expired(cfg, inf, hop, boot_ns))
		return CIL_DROP_EXPIRED_HOP;
	if (!cfg->has_key)
		return CIL_DROP_NO_KEY;
	/* Against construction direction the SegID holds beta_{i+1}; turn it into beta_i. */
	if (!(inf->flags & SCION_INFO_F_CONSDIR) && ingress_ifid != 0 && !peering)
		inf->seg_id_be = cil_segid_chain(inf->seg_id_be, hop);
	switch (cil_hop_mac_ok(cfg, inf->seg_id_be, inf, hop)) {
	case 1:
		return 0;
	case 0:
		return CIL_DROP_BAD_MAC;
	default:
		return CIL_DROP_NO_KEY;
	}
	return 0;
}

/* Loads the current info and hop fields. */
static __always_inline int cil_hop_load(struct xdp_md *ctx, const struct cil_scion *s, struct scion_info *inf,
					struct scion_hop *hop)
{
	if (bpf_xdp_load_bytes(ctx, s->info_off, inf, sizeof(*inf)) ||
	    bpf_xdp_load_bytes(ctx, s->hop_off, hop, sizeof(*hop)))
		return CIL_DROP_MALFORMED_PATH;
	return 0;
}

#endif
