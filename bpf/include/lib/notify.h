/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one notify path: every verdict (forward or named drop) is counted and, unless
 * records are off, emitted as a cil_packet_record into the `events` ring. A program that
 * can still fail after it reached its verdict (rewriting, decapsulating, redirecting)
 * reserves the record first and commits it last, so the record and the counter carry
 * the packet's real fate. */
#ifndef CIL_NOTIFY_H
#define CIL_NOTIFY_H

#include "counters.h"

/* Records on (1) or off (0, the benchmark's baseline). */
const volatile __u32 emit_records = 1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

static __always_inline void cil_meta_init(struct cil_packet_meta *m, __u32 ifindex, __u8 direction, __u32 wire_len)
{
	__u64 now = bpf_ktime_get_boot_ns();

	__builtin_memset(m, 0, sizeof(*m));
	m->hdr.type = CIL_REC_PACKET;
	m->hdr.version = CIL_RECORD_VERSION;
	m->hdr.len = sizeof(struct cil_packet_record);
	m->ifindex = ifindex;
	m->direction = direction;
	m->verdict = CIL_VERDICT_FORWARDED;
	m->wire_len = wire_len;
	m->ts_ns = now;
}

static __always_inline __u32 cil_counter_of(const struct cil_packet_meta *m)
{
	if (m->verdict == CIL_VERDICT_DROPPED)
		return m->drop_reason;
	if (m->path_kind == CIL_PATH_SRV6) {
		if (m->direction == CIL_DIR_EGRESS_ENCAP)
			return CIL_CNT_SRV6_ENCAP;
		if (m->direction == CIL_DIR_INGRESS_DECAP)
			return CIL_CNT_SRV6_DECAP;
		return CIL_CNT_SRV6_END;
	}
	if (m->direction == CIL_DIR_EGRESS_ENCAP)
		return CIL_CNT_ENCAP;
	if (m->direction == CIL_DIR_INGRESS_DECAP)
		return CIL_CNT_DECAP;
	return CIL_CNT_FORWARD;
}

static __always_inline void cil_set_drop(struct cil_packet_meta *m, __u16 reason)
{
	m->verdict = CIL_VERDICT_DROPPED;
	m->drop_reason = reason;
}

/* Reserves the packet's record with what `m` says so far; the caller fills path[] and
 * commits. NULL when records are off or the ring is full (then counted, with the
 * packet's wire bytes, as a reserve failure). */
static __always_inline struct cil_packet_record *cil_notify_begin(struct cil_packet_meta *m)
{
	struct cil_packet_record *rec;

	if (!emit_records)
		return NULL;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		cil_count(CIL_CNT_RING_RESERVE_FAIL, m->wire_len);
		return NULL;
	}
	__builtin_memcpy(&rec->meta, m, sizeof(*m));
	return rec;
}

/* Counts the packet's final verdict and submits its record with that verdict and the
 * final wire length. The kernel's own wakeup policy: the consumer is woken only when it
 * had caught up, and it also drains on a timer. */
static __always_inline void cil_notify_commit(struct cil_packet_record *rec, const struct cil_packet_meta *m)
{
	cil_count(cil_counter_of(m), m->wire_len);
	if (!rec)
		return;
	rec->meta.verdict = m->verdict;
	rec->meta.drop_reason = m->drop_reason;
	rec->meta.wire_len = m->wire_len;
	bpf_ringbuf_submit(rec, 0);
}

/* XDP: a packet dropped after its record was reserved (a rewrite or decap that failed);
 * the record is submitted with the drop. */
static __always_inline int cil_commit_drop(struct cil_packet_record *rec, struct cil_packet_meta *m, __u16 reason)
{
	cil_set_drop(m, reason);
	cil_notify_commit(rec, m);
	return XDP_DROP;
}

/* XDP: reserves the record with the path bytes straight from the packet, before the
 * program rewrites or strips them. */
static __always_inline struct cil_packet_record *cil_notify_xdp_begin(struct xdp_md *ctx, struct cil_packet_meta *m,
								       __u32 path_off, __u32 path_len)
{
	struct cil_packet_record *rec = cil_notify_begin(m);

	if (!rec)
		return NULL;
	if (path_len > CIL_REC_PATH_MAX) {
		path_len = CIL_REC_PATH_MAX;
		rec->meta.flags |= CIL_REC_F_PATH_TRUNCATED;
	}
	rec->meta.path_len = 0;
	/* Keep clang from checking one copy of the length and passing another. */
	cil_barrier_var(path_len);
	if (path_len >= 4 && path_len <= CIL_REC_PATH_MAX &&
	    bpf_xdp_load_bytes(ctx, path_off, rec->path, path_len) == 0)
		rec->meta.path_len = path_len;
	return rec;
}

/* XDP, verdict already final. */
static __always_inline void cil_notify_xdp(struct xdp_md *ctx, struct cil_packet_meta *m, __u32 path_off, __u32 path_len)
{
	cil_notify_commit(cil_notify_xdp_begin(ctx, m, path_off, path_len), m);
}

#endif
