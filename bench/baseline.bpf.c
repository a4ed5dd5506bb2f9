// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Baselines the datapath benchmarks measure against (bench/datapath.ts, bench/srv6.ts): a
 * tc program that does nothing, plain XDP forwarding that only rewrites Ethernet and
 * redirects, the sink at the far end of the veth both redirect into, and the injector that
 * hands live test-run frames to the kernel's stack as if a pod had sent them. */
#include "../bpf/include/lib/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Device the forwarder redirects to, and the MACs it writes. */
const volatile __u32 fwd_ifindex = 0;
const volatile __u8 fwd_src_mac[6] = {};
const volatile __u8 fwd_dst_mac[6] = {};

SEC("tc")
int tc_noop(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = cil_ptr(data, 0, ETH_HLEN, end);

	if (!eth)
		return XDP_DROP;
	__builtin_memcpy(eth->h_source, (const void *)fwd_src_mac, 6);
	__builtin_memcpy(eth->h_dest, (const void *)fwd_dst_mac, 6);
	return bpf_redirect(fwd_ifindex, 0);
}

/* The frame the benchmark started from. Live test runs recycle their pages without
 * copying the input again, so the sink puts the original bytes back: the next run then
 * forwards the same packet instead of one the router already advanced. */
#define PRISTINE_MAX 512
struct pristine {
	__u32 len;
	__u8 bytes[PRISTINE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pristine);
} pristine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sunk SEC(".maps");

static __always_inline void restore_pristine(struct xdp_md *ctx)
{
	__u32 zero = 0, len;
	struct pristine *p = bpf_map_lookup_elem(&pristine, &zero);

	if (!p)
		return;
	len = p->len;
	cil_barrier_var(len);
	if (len > 0 && len <= PRISTINE_MAX && len <= (__u32)(ctx->data_end - ctx->data))
		bpf_xdp_store_bytes(ctx, 0, p->bytes, len);
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sunk, &zero);

	if (n)
		(*n)++;
	restore_pristine(ctx);
	return XDP_DROP;
}

/* A page the stack has had (forwarded, encapsulated) returns to the test run's pool as the
 * stack left it, so the frame is written afresh before each pass. */
SEC("xdp")
int xdp_inject(struct xdp_md *ctx)
{
	restore_pristine(ctx);
	return XDP_PASS;
}
