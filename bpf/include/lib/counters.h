/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU packet and byte counters, one slot per enum cil_counter. */
#ifndef CIL_COUNTERS_H
#define CIL_COUNTERS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CIL_CNT_MAX);
	__type(key, __u32);
	__type(value, struct cil_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counters SEC(".maps");

static __always_inline void cil_count(__u32 idx, __u32 bytes)
{
	struct cil_counter_value *c = bpf_map_lookup_elem(&counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif
