/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The AS this program serves: its ISD-AS, hop-field key and wall clock. */
#ifndef CIL_CONFIG_H
#define CIL_CONFIG_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cil_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} as_config SEC(".maps");

static __always_inline struct cil_config *cil_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&as_config, &zero);
}

/* Unix time in nanoseconds from a CLOCK_BOOTTIME reading: hop-field timestamps are Unix seconds. */
static __always_inline __u64 cil_unix_ns(const struct cil_config *cfg, __u64 boot_ns)
{
	return boot_ns + cfg->realtime_offset_ns;
}

#endif
