/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The flow hash that picks one path of a multipath set (SCION paths, SRv6 segment lists)
 * and fills the SRv6 flow label. */
#ifndef CIL_FLOW_HASH_H
#define CIL_FLOW_HASH_H

#include "common.h"

/* murmur3's finaliser over the 5-tuple: cheap, well mixed, the same for every packet
 * of a flow. */
static __always_inline __u32 cil_flow_hash(__u32 saddr, __u32 daddr, __u16 sport, __u16 dport, __u8 proto)
{
	__u32 h = saddr ^ (daddr * 0x9e3779b1) ^ (((__u32)sport << 16) | dport) ^ ((__u32)proto << 24);

	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#endif
