/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The kernel's BPF crypto kfuncs, shared by the hop-field cipher and the SPAO: contexts are
 * made by syscall programs (sleepable) and used from XDP and tc. */
#ifndef CIL_CRYPTO_KFUNC_H
#define CIL_CRYPTO_KFUNC_H

#include "common.h"

struct bpf_crypto_ctx *bpf_crypto_ctx_create(const struct bpf_crypto_params *params, __u32 params__sz,
					     int *err) __ksym;
void bpf_crypto_ctx_release(struct bpf_crypto_ctx *ctx) __ksym;
int bpf_crypto_encrypt(struct bpf_crypto_ctx *ctx, const struct bpf_dynptr *src, const struct bpf_dynptr *dst,
		       const struct bpf_dynptr *siv__nullable) __ksym;

#endif
