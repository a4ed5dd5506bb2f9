/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What every Cillion program includes: kernel types (CO-RE), helpers, wire constants. */
#ifndef CIL_COMMON_H
#define CIL_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../cillion_abi.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define IPV4_HLEN 20 /* underlay IPv4 without options; anything else is not ours */
#define UDP_HLEN 8
#define UNDERLAY_LEN (ETH_HLEN + IPV4_HLEN + UDP_HLEN)

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

#ifndef IPPROTO_TCP
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#endif

/* A pointer known to the verifier to lie inside the packet for `len` bytes, or NULL. */
#define cil_ptr(start, off, len, end) \
	(((void *)(start) + (off) + (len) > (void *)(end)) ? NULL : (void *)(start) + (off))

/* Makes clang forget what it knows about var, so a bounds check applies to the register used. */
#define cil_barrier_var(var) asm volatile("" : "+r"(var))

static __always_inline __u16 cil_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Internet checksum of a 20-byte IPv4 header whose checksum field is zero. */
static __always_inline __u16 cil_ipv4_csum(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < IPV4_HLEN / 2; i++)
		sum += w[i];
	return cil_csum_fold(sum);
}

#endif
