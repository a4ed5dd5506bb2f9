// The C reference for the ring consumer benchmark: drains a pinned ring buffer with
// libbpf's ring_buffer__consume and copies each record into a 64 KiB batch buffer, the
// work the addon does before it hands a batch to JS. Prints "<records> <nanoseconds>".
// With IDLE_MS it is the collector beside a running benchmark instead: it polls the ring
// until it has stayed empty that long, so records are drained while they are produced.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char batch[1 << 16];
static size_t used;
static unsigned long long records;

static int on_record(void *ctx, void *data, size_t len)
{
	size_t need = 4 + ((len + 7) & ~(size_t)7);

	(void)ctx;
	if (need > sizeof(batch))
		return 0;
	if (used + need > sizeof(batch))
		used = 0; /* the batch went to its consumer */
	memcpy(batch + used, &len, 4);
	memcpy(batch + used + 4, data, len);
	used += need;
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct ring_buffer *rb;
	int fd, idle_ms = 0, idle = 0, n;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: ringcons PINNED_RING [IDLE_MS]\n");
		return 2;
	}
	if (argc == 3)
		idle_ms = atoi(argv[2]);
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		perror("bpf_obj_get");
		return 1;
	}
	rb = ring_buffer__new(fd, on_record, NULL, NULL);
	if (!rb) {
		perror("ring_buffer__new");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (idle_ms > 0) {
		printf("ready\n");
		fflush(stdout);
		while (idle < idle_ms) {
			n = ring_buffer__poll(rb, 10);
			idle = n > 0 ? 0 : idle + 10;
		}
	} else {
		while (ring_buffer__consume(rb) > 0)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%llu %lld\n", records, (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	ring_buffer__free(rb);
	return 0;
}
