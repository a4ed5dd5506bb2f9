/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The hop-field block cipher through the kernel's BPF crypto kfuncs: an ecb(aes)
 * context made once per key by a BPF_PROG_TYPE_SYSCALL program, kept as a kptr in the
 * hop_cipher map and used from XDP. The kernel's AES runs without key- or data-dependent
 * table lookups into large tables (AES-NI, or aes-fixed-time's preloaded 256-byte S-box
 * with interrupts off), unlike the T-table AES of aes.h that this replaces. Compiled in
 * only with CIL_HOP_MAC_KFUNC, so that the other object loads on kernels without kfuncs. */
#ifndef CIL_HOP_CIPHER_H
#define CIL_HOP_CIPHER_H

#include "common.h"
#include "crypto_kfunc.h"

#define CIL_AES_BLOCK 16
#define CIL_CIPHER_LIVE 0
#define CIL_CIPHER_PROBE 1
#define CIL_CIPHER_SLOTS 2

/* What user space passes to hop_cipher_install (BPF_PROG_TEST_RUN's ctx). */
struct cil_cipher_install {
	__u8 key[CIL_AES_BLOCK];
	__u32 slot;
};

struct cil_hop_cipher {
	struct bpf_crypto_ctx __kptr *ctx;
};

/* Slot CIL_CIPHER_LIVE serves the datapath; the loader's self-test uses CIL_CIPHER_PROBE. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CIL_CIPHER_SLOTS);
	__type(key, __u32);
	__type(value, struct cil_hop_cipher);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hop_cipher SEC(".maps");

/* bpf_dynptr_from_mem takes map values only, so the block goes through per-CPU scratch. */
struct cil_cipher_scratch {
	__u8 in[CIL_AES_BLOCK];
	__u8 out[CIL_AES_BLOCK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cil_cipher_scratch);
} hop_cipher_scratch SEC(".maps");

/* out = AES-128(key of `slot`, in); 0, or -1 when the slot has no context. */
static __always_inline int cil_cipher_block(__u32 slot, const __u8 *in, __u8 *out)
{
	struct cil_hop_cipher *c = bpf_map_lookup_elem(&hop_cipher, &slot);
	struct cil_cipher_scratch *sc;
	struct bpf_crypto_ctx *ctx;
	struct bpf_dynptr src, dst;
	__u32 zero = 0;

	if (!c)
		return -1;
	ctx = c->ctx;
	if (!ctx)
		return -1;
	sc = bpf_map_lookup_elem(&hop_cipher_scratch, &zero);
	if (!sc)
		return -1;
	__builtin_memcpy(sc->in, in, CIL_AES_BLOCK);
	bpf_dynptr_from_mem(sc->in, CIL_AES_BLOCK, 0, &src);
	bpf_dynptr_from_mem(sc->out, CIL_AES_BLOCK, 0, &dst);
	if (bpf_crypto_encrypt(ctx, &src, &dst, NULL))
		return -1;
	__builtin_memcpy(out, sc->out, CIL_AES_BLOCK);
	return 0;
}

#endif
