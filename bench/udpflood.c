// A bounded UDP load for the topology and demo benchmarks. `send HOST PORT COUNT SIZE` sends
// COUNT datagrams with sendmmsg and exits; `recv PORT IDLE_MS` counts datagrams until none has
// come for IDLE_MS (at most 30 s in all) and prints "<packets> <ns from first to last>";
// `spray HOST BASEPORT FLOWS SIZE SRCPORT PPS MS` sends from SRCPORT to FLOWS ports from
// BASEPORT in turn, at most PPS datagrams a second by the clock, for MS milliseconds, and
// prints "<sent> <failed> <ns>".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int do_send(const char *host, int port, long count, int size)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	static char payload[65536];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, host, &dst.sin_addr) != 1 || size > (int)sizeof(payload))
		return 1;
	iov.iov_base = payload;
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (long sent = 0; sent < count;) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		int r = sendmmsg(fd, msgs, n, 0);

		if (r < 0)
			continue; /* ENOBUFS under load: try again */
		sent += r;
	}
	close(fd);
	return 0;
}

static int do_recv(int port, int idle_ms)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = idle_ms / 1000, .tv_usec = (idle_ms % 1000) * 1000 };
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	long long first = 0, last = 0, start = now_ns();
	long packets = 0;
	int rcvbuf = 8 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (now_ns() - start < 30000000000LL) {
		int r = recvmmsg(fd, msgs, BATCH, 0, NULL);

		if (r <= 0) {
			if (packets > 0)
				break;
			continue;
		}
		if (packets == 0)
			first = now_ns();
		last = now_ns();
		packets += r;
	}
	printf("%ld %lld\n", packets, last - first);
	close(fd);
	return 0;
}

static int do_spray(const char *host, int base, int flows, int size, int src, long pps, long ms)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(src) };
	struct sockaddr_in dst[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	static char payload[65536];
	long long start = now_ns(), end = start + ms * 1000000LL, t;
	long sent = 0, failed = 0, next = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || flows < 1 || pps < 1 || size > (int)sizeof(payload) || bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0)
		return 1;
	iov.iov_base = payload;
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		dst[i].sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &dst[i].sin_addr) != 1)
			return 1;
		msgs[i].msg_hdr.msg_name = &dst[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(dst[i]);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while ((t = now_ns()) < end) {
		long due = (long)((t - start) / 1000 * pps / 1000000);
		int n = due - sent - failed < BATCH ? (int)(due - sent - failed) : BATCH;

		if (n <= 0) {
			struct timespec gap = { 0, 200000 };

			nanosleep(&gap, NULL);
			continue;
		}
		for (int i = 0; i < n; i++)
			dst[i].sin_port = htons(base + (next + i) % flows);
		int r = sendmmsg(fd, msgs, n, 0);

		/* an error (ENOBUFS under load): that datagram is counted failed, the clock goes on */
		if (r < 0) {
			failed++;
			next = (next + 1) % flows;
			continue;
		}
		sent += r;
		next = (next + r) % flows;
	}
	printf("%ld %ld %lld\n", sent, failed, now_ns() - start);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5]));
	if (argc == 9 && strcmp(argv[1], "spray") == 0)
		return do_spray(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atol(argv[7]), atol(argv[8]));
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: udpflood send HOST PORT COUNT SIZE | recv PORT IDLE_MS | spray HOST BASEPORT FLOWS SIZE SRCPORT PPS MS\n");
	return 2;
}
