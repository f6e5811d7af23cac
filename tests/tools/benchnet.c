/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * benchnet: the load tool of tests/bench/bench.sh. Loopback only, one
 * process, epoll/poll-driven, every command bounded by a deadline.
 *
 *   benchnet [-d SECONDS] serve PORT BANNER_PORT
 *       The target behind the tunnel. On PORT the client speaks first; its
 *       first byte picks what the connection does:
 *         'E'          echo everything that follows until EOF;
 *         'S'          answer 'K' at once, then read and count until EOF,
 *                      then write the count (8 bytes, little-endian), close;
 *         'G' + 8-byte little-endian N: write N bytes, then close.
 *       On BANNER_PORT the server speaks first, as sshd does: 'H' at once;
 *       then, once 2 bytes have come in, 'K'; then it waits for EOF.
 *   benchnet [-d SECONDS] throughput PORT up|down BYTES [MAX_SECONDS]
 *       up: 'S', wait for 'K', send BYTES, wait for the count; down: 'G' N,
 *       read N bytes. The clock starts once the channel is open end to end
 *       ('K' seen, or the first byte in) and stops with the last byte (up:
 *       with the sink's count). MAX_SECONDS caps the transfer: up stops
 *       sending, down stops reading (and closes) once it has passed; what
 *       moved until then is reported with complete=0, so a tunnel that
 *       stalls shows as a low rate instead of hanging the bench.
 *       Prints "throughput dir=up bytes=N seconds=S mbps=M complete=0|1"
 *       (bytes = what arrived; M = 10^6 bytes/s).
 *   benchnet [-d SECONDS] pingpong PORT COUNT
 *       one connection, 'E', then COUNT times: write 1 byte, read it back
 *       (after COUNT/10, at most 200, untimed warm-up rounds). Prints
 *       "pingpong count=N p50_us= p99_us= mean_us= max_us=".
 *   benchnet [-d SECONDS] concurrent PORT CONNS
 *       CONNS connections started at once; each sends 'E' and 8 bytes of its
 *       own and must get those 8 bytes back; all stay open until every one
 *       has finished (or failed, or the deadline), so CONNS channels are
 *       open at the same time. Prints "concurrent conns=N ok=K failed=F
 *       seconds=S p50_ms= max_ms=" (S: first connect to last echo).
 *   benchnet [-d SECONDS] connect PORT COUNT first|echo|wwr [GAP_MS]
 *       COUNT new connections one after the other (GAP_MS apart, default
 *       0: back to back), each timed from just before connect():
 *         first  (PORT = a BANNER_PORT forward) until the server's first byte;
 *         echo   (PORT = a PORT forward) 'E'+'x' in one write, until 'x'
 *                comes back;
 *         wwr    (BANNER_PORT) wait for 'H', write 1 byte, 1 ms later
 *                another, until the 'K' answer: the write-write-read
 *                pattern of an SSH handshake (client banner, then KEXINIT
 *                without an answer in between), the one Nagle + delayed
 *                ACK stalls. Timed from the first of the two writes.
 *       Prints "connect mode=M count=N gap_ms=G p50_ms= p99_ms= mean_ms=
 *       slow_pct= fails=F", slow_pct = the share of connections >= 20 ms.
 *   benchnet [-d SECONDS] ready PORT T0_US [banner]
 *       until a new connection through PORT works (an 'E' echo round trip;
 *       with "banner", the 'H'), tried every 2 ms; prints "ready seconds=S", S
 *       counted from T0_US (CLOCK_REALTIME in microseconds, as bash's
 *       $EPOCHREALTIME without the dot).
 *
 * The deadline (default 120 s, or $BENCHNET_DEADLINE) bounds every command,
 * the server included: reaching it prints a message and exits 3 (concurrent
 * instead reports what finished).
 * Exit codes: 0 ok, 1 check failed, 2 usage, 3 deadline, 4 system error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define TOOL_NAME "benchnet"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "toolkit.h"

#define IO_SIZE (256 * 1024)
#define ECHO_SIZE (16 * 1024)
#define MAX_CONNS 8192

static unsigned char pattern[IO_SIZE];
static unsigned char iobuf[IO_SIZE];
static uint64_t progress;       /* bytes moved so far, for the deadline message */

static _Noreturn void
die_deadline(void)
{
	fprintf(stderr, "benchnet %s: deadline of %g s reached, giving up",
	    cmd_name, deadline_seconds);
	if (progress > 0)
		fprintf(stderr, " (%" PRIu64 " bytes moved)", progress);
	fputc('\n', stderr);
	exit(EXIT_DEADLINE);
}

static _Noreturn void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "benchnet %s: %s: %s\n", cmd_name, what, detail);
	exit(EXIT_CHECK);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
put_le64(unsigned char *out, uint64_t w)
{
	int k;

	for (k = 0; k < 8; k++)
		out[k] = (unsigned char)(w >> (8 * k));
}

static uint64_t
get_le64(const unsigned char *in)
{
	uint64_t w = 0;
	int k;

	for (k = 0; k < 8; k++)
		w |= (uint64_t)in[k] << (8 * k);
	return w;
}

/* Bytes that do not compress (not that SSH compresses here). */
static void
fill_pattern(void)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i + 8 <= sizeof pattern; i += 8) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		put_le64(pattern + i, s * 0x2545f4914f6cdd1dULL);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static double
quantile(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* ---- blocking-style client helpers (non-blocking fd + poll) ------------ */

/* Connects to 127.0.0.1:port before the deadline; -1 (errno set) if the
 * connection is refused or fails. */
static int
dial(int port)
{
	struct sockaddr_in sin = loopback(port);
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die_sys("socket");
	set_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, wait_ms(-1));
		if (rc == -1 && errno != EINTR)
			die_sys("poll");
		if (rc > 0)
			break;
		if (now() >= deadline_at)
			die_deadline();
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void
await(int fd, short events)
{
	struct pollfd pfd;
	int rc;

	for (;;) {
		if (now() >= deadline_at)
			die_deadline();
		pfd.fd = fd;
		pfd.events = events;
		rc = poll(&pfd, 1, wait_ms(-1));
		if (rc > 0)
			return;
		if (rc == -1 && errno != EINTR)
			die_sys("poll");
	}
}

/* 0 when all n bytes are written, -1 on an error (errno set). */
static int
write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			await(fd, POLLOUT);
		} else {
			return -1;
		}
	}
	return 0;
}

/* Reads up to n bytes (at least 1): the count, 0 on EOF, -1 on an error. */
static ssize_t
read_some(int fd, void *buf, size_t n)
{
	ssize_t r;

	for (;;) {
		r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		await(fd, POLLIN);
	}
}

/* 0 when exactly n bytes were read, -1 on EOF or an error. */
static int
read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read_some(fd, p, n);
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- serve ------------------------------------------------------------- */

enum smode { S_CMD, S_ECHO, S_SINK, S_GEN, S_BANNER };

struct sconn {
	int is_listener;        /* 0: a connection */
	int fd;
	enum smode mode;
	unsigned char hdr[9];
	size_t hdrlen;
	uint64_t count;         /* sink: bytes in; gen: bytes left to write */
	unsigned char *buf;     /* echo */
	size_t start, len;
	int eof;
	uint32_t events;        /* what epoll watches now */
};

struct listener {
	int is_listener;        /* 1 */
	int fd;
	int banner;
};

static int epfd;

static void
sconn_close(struct sconn *c)
{
	close(c->fd);
	free(c->buf);
	free(c);
}

static void
sconn_watch(struct sconn *c, uint32_t events)
{
	struct epoll_event ev;

	if (events == c->events)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die_sys("epoll_ctl MOD");
	c->events = events;
}

static int
would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Returns -1 when the connection is finished (close it). */
static int
sconn_step(struct sconn *c, uint32_t revents)
{
	unsigned char out[8];
	ssize_t n;
	size_t want;

	(void)revents;
	for (;;) {
		switch (c->mode) {
		case S_CMD:
			want = c->hdrlen > 0 && c->hdr[0] == 'G' ? 9 : 1;
			n = read(c->fd, c->hdr + c->hdrlen, want - c->hdrlen);
			if (n == 0)
				return -1;
			if (n == -1)
				return would_block() ? 0 : -1;
			c->hdrlen += (size_t)n;
			if (c->hdr[0] == 'G' && c->hdrlen < 9)
				continue;
			switch (c->hdr[0]) {
			case 'E':
				c->mode = S_ECHO;
				c->buf = malloc(ECHO_SIZE);
				if (c->buf == NULL)
					die_sys("malloc");
				break;
			case 'S':
				c->mode = S_SINK;
				if (send(c->fd, "K", 1, MSG_NOSIGNAL) != 1)
					return -1;
				break;
			case 'G':
				c->mode = S_GEN;
				c->count = get_le64(c->hdr + 1);
				break;
			default:
				return -1;
			}
			continue;
		case S_ECHO:
			if (!c->eof && c->len < ECHO_SIZE) {
				if (c->start > 0 && c->len > 0)
					memmove(c->buf, c->buf + c->start, c->len);
				c->start = 0;
				n = read(c->fd, c->buf + c->len, ECHO_SIZE - c->len);
				if (n > 0)
					c->len += (size_t)n;
				else if (n == 0)
					c->eof = 1;
				else if (!would_block())
					return -1;
			}
			if (c->len > 0) {
				n = send(c->fd, c->buf + c->start, c->len,
				    MSG_NOSIGNAL);
				if (n > 0) {
					c->start += (size_t)n;
					c->len -= (size_t)n;
				} else if (n == -1 && !would_block()) {
					return -1;
				}
			}
			if (c->eof && c->len == 0)
				return -1;
			sconn_watch(c, (c->eof || c->len >= ECHO_SIZE ? 0 : EPOLLIN) |
			    (c->len > 0 ? EPOLLOUT : 0));
			return 0;
		case S_SINK:
			for (;;) {
				n = read(c->fd, iobuf, sizeof iobuf);
				if (n > 0) {
					c->count += (uint64_t)n;
					continue;
				}
				if (n == 0)
					break;
				return would_block() ? 0 : -1;
			}
			put_le64(out, c->count);
			(void)send(c->fd, out, sizeof out, MSG_NOSIGNAL);
			return -1;
		case S_GEN:
			while (c->count > 0) {
				want = c->count < IO_SIZE ? (size_t)c->count : IO_SIZE;
				n = send(c->fd, pattern, want, MSG_NOSIGNAL);
				if (n > 0) {
					c->count -= (uint64_t)n;
					continue;
				}
				if (n == -1 && would_block()) {
					sconn_watch(c, EPOLLOUT);
					return 0;
				}
				return -1;
			}
			return -1;
		case S_BANNER:
			n = read(c->fd, c->hdr, sizeof c->hdr);
			if (n == 0)
				return -1;
			if (n == -1)
				return would_block() ? 0 : -1;
			if (c->hdrlen < 2) {
				c->hdrlen += (size_t)n;
				if (c->hdrlen >= 2 &&
				    send(c->fd, "K", 1, MSG_NOSIGNAL) != 1)
					return -1;
			}
			continue;
		}
	}
}

static void
serve_accept(struct listener *l)
{
	struct epoll_event ev;
	struct sconn *c;
	int fd;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE)
				return;
			die_sys("accept");
		}
		set_nodelay(fd);
		c = calloc(1, sizeof *c);
		if (c == NULL)
			die_sys("calloc");
		c->fd = fd;
		c->mode = S_CMD;
		if (l->banner) {
			c->mode = S_BANNER;
			if (send(fd, "H", 1, MSG_NOSIGNAL) != 1) {
				sconn_close(c);
				continue;
			}
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		c->events = EPOLLIN;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			die_sys("epoll_ctl ADD");
	}
}

static int
cmd_serve(int argc, char **argv)
{
	static struct listener ls[2];
	struct epoll_event evs[256], ev;
	int i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: benchnet serve PORT BANNER_PORT\n");
		return EXIT_USAGE;
	}
	raise_nofile();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die_sys("epoll_create1");
	for (i = 0; i < 2; i++) {
		ls[i].is_listener = 1;
		ls[i].banner = i == 1;
		ls[i].fd = listen_on(parse_port(argv[i]), 4096);
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = &ls[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, ls[i].fd, &ev) == -1)
			die_sys("epoll_ctl ADD");
	}
	printf("serving %s %s\n", argv[0], argv[1]);
	for (;;) {
		if (now() >= deadline_at)
			die_deadline();
		n = epoll_wait(epfd, evs, 256, wait_ms(1000));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die_sys("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			int *kind = evs[i].data.ptr;

			if (*kind)
				serve_accept(evs[i].data.ptr);
			else if (sconn_step(evs[i].data.ptr, evs[i].events) == -1)
				sconn_close(evs[i].data.ptr);
		}
	}
}

/* ---- throughput -------------------------------------------------------- */

/* Whether the socket has something to read within ms milliseconds. */
static int
readable_within(int fd, int ms)
{
	struct pollfd pfd;
	int rc;

	pfd.fd = fd;
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, wait_ms(ms));
	if (rc == -1 && errno != EINTR)
		die_sys("poll");
	return rc > 0;
}

static int
cmd_throughput(int argc, char **argv)
{
	unsigned char hdr[9], k;
	uint64_t bytes, got = 0, left, sent = 0;
	double t0 = 0, t1, cap = 0, stop_at;
	ssize_t n;
	long v, cap_s = 0;
	int fd, up, complete;

	if ((argc != 3 && argc != 4) || (strcmp(argv[1], "up") != 0 &&
	    strcmp(argv[1], "down") != 0) ||
	    parse_long(argv[2], 1, LONG_MAX, &v) == -1 ||
	    (argc == 4 && parse_long(argv[3], 1, 86400, &cap_s) == -1)) {
		fprintf(stderr, "usage: benchnet throughput PORT up|down BYTES "
		    "[MAX_SECONDS]\n");
		return EXIT_USAGE;
	}
	up = strcmp(argv[1], "up") == 0;
	bytes = (uint64_t)v;
	cap = cap_s > 0 ? (double)cap_s : 1e9;
	fd = dial(parse_port(argv[0]));
	if (fd == -1)
		fail("connect", strerror(errno));
	if (up) {
		if (write_all(fd, "S", 1) == -1 || read_full(fd, &k, 1) == -1 ||
		    k != 'K')
			fail("no answer to 'S'", strerror(errno));
		t0 = now();
		stop_at = t0 + cap;
		for (left = bytes; left > 0 && now() < stop_at;
		    left -= (uint64_t)n) {
			n = left < IO_SIZE ? (ssize_t)left : IO_SIZE;
			if (write_all(fd, pattern, (size_t)n) == -1)
				fail("write", strerror(errno));
			sent += (uint64_t)n;
			progress = sent;
		}
		if (shutdown(fd, SHUT_WR) == -1)
			die_sys("shutdown");
		if (read_full(fd, hdr, 8) == -1)
			fail("no count from the sink", strerror(errno));
		got = get_le64(hdr);
		t1 = now();
		complete = got == bytes;
		if (got != sent) {
			fprintf(stderr, "benchnet throughput: sent %" PRIu64
			    " bytes, the sink got %" PRIu64 "\n", sent, got);
			return EXIT_CHECK;
		}
	} else {
		hdr[0] = 'G';
		put_le64(hdr + 1, bytes);
		if (write_all(fd, hdr, 9) == -1)
			fail("write", strerror(errno));
		stop_at = 0;
		t1 = 0;
		for (;;) {
			if (got > 0 && !readable_within(fd,
			    stop_at > now() ? (int)((stop_at - now()) * 1000.0)
			    : 0))
				break;  /* the cap: report what came */
			n = read_some(fd, iobuf, sizeof iobuf);
			if (n == -1)
				fail("read", strerror(errno));
			if (n == 0)
				break;
			if (got == 0) {
				t0 = now();
				stop_at = t0 + cap;
			}
			got += (uint64_t)n;
			progress = got;
			t1 = now();
			if (t1 >= stop_at)
				break;
		}
		if (got < bytes)
			t1 = now();     /* a stall counts to the end */
		complete = got == bytes;
	}
	close(fd);
	if (got == 0 || t1 <= t0) {
		fprintf(stderr, "benchnet throughput: no data moved\n");
		return EXIT_CHECK;
	}
	printf("throughput dir=%s bytes=%" PRIu64 " seconds=%.4f mbps=%.1f "
	    "complete=%d\n", argv[1], got, t1 - t0,
	    (double)got / 1e6 / (t1 - t0), complete);
	return 0;
}

/* ---- pingpong ---------------------------------------------------------- */

static int
cmd_pingpong(int argc, char **argv)
{
	double *rtt, t0, sum = 0;
	long count, warm, i;
	unsigned char b = 'p', r;
	int fd;

	if (argc != 2 || parse_long(argv[1], 1, 10000000, &count) == -1) {
		fprintf(stderr, "usage: benchnet pingpong PORT COUNT\n");
		return EXIT_USAGE;
	}
	rtt = calloc((size_t)count, sizeof *rtt);
	if (rtt == NULL)
		die_sys("calloc");
	fd = dial(parse_port(argv[0]));
	if (fd == -1)
		fail("connect", strerror(errno));
	if (write_all(fd, "E", 1) == -1)
		fail("write", strerror(errno));
	warm = count / 10 < 200 ? count / 10 : 200;
	for (i = -warm; i < count; i++) {
		t0 = now();
		if (write_all(fd, &b, 1) == -1)
			fail("write", strerror(errno));
		if (read_full(fd, &r, 1) == -1 || r != b)
			fail("no echo", strerror(errno));
		if (i >= 0) {
			rtt[i] = (now() - t0) * 1e6;
			sum += rtt[i];
		}
	}
	close(fd);
	qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
	printf("pingpong count=%ld p50_us=%.1f p99_us=%.1f mean_us=%.1f "
	    "max_us=%.1f\n", count, quantile(rtt, (size_t)count, 0.5),
	    quantile(rtt, (size_t)count, 0.99), sum / (double)count,
	    rtt[count - 1]);
	free(rtt);
	return 0;
}

/* ---- concurrent -------------------------------------------------------- */

enum cstate { C_CONNECTING, C_WAITING, C_DONE, C_FAILED };

struct cconn {
	int fd;
	enum cstate state;
	unsigned char want[8];
	unsigned char got[8];
	size_t ngot;
	double t_done;
	char why[80];
};

static void
cconn_fail(struct cconn *c, const char *why, int err)
{
	c->state = C_FAILED;
	snprintf(c->why, sizeof c->why, "%s%s%s", why, err ? ": " : "",
	    err ? strerror(err) : "");
}

static void
cconn_step(struct cconn *c, short revents)
{
	unsigned char msg[9];
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			cconn_fail(c, "connect", err);
			return;
		}
		msg[0] = 'E';
		memcpy(msg + 1, c->want, 8);
		/* 9 bytes into an empty socket buffer: all or an error. */
		if (send(c->fd, msg, sizeof msg, MSG_NOSIGNAL) != sizeof msg) {
			cconn_fail(c, "send", errno);
			return;
		}
		c->state = C_WAITING;
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = read(c->fd, c->got + c->ngot, sizeof c->got - c->ngot);
	if (n == 0) {
		cconn_fail(c, "closed before the echo came back", 0);
		return;
	}
	if (n == -1) {
		if (!would_block())
			cconn_fail(c, "read", errno);
		return;
	}
	c->ngot += (size_t)n;
	if (c->ngot == sizeof c->got) {
		if (memcmp(c->got, c->want, sizeof c->want) != 0) {
			cconn_fail(c, "wrong bytes came back", 0);
			return;
		}
		c->state = C_DONE;
		c->t_done = now();
	}
}

static int
cmd_concurrent(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct cconn *cs;
	struct pollfd *pfd;
	double t0, tlast = 0, *lat;
	size_t *map, nfds, i;
	long nconns;
	int active, ok = 0, failed = 0, rc, shown = 0;

	if (argc != 2 || parse_long(argv[1], 1, MAX_CONNS, &nconns) == -1) {
		fprintf(stderr, "usage: benchnet concurrent PORT CONNS (1 to %d)\n",
		    MAX_CONNS);
		return EXIT_USAGE;
	}
	sin = loopback(parse_port(argv[0]));
	raise_nofile();
	cs = calloc((size_t)nconns, sizeof *cs);
	pfd = calloc((size_t)nconns, sizeof *pfd);
	map = calloc((size_t)nconns, sizeof *map);
	lat = calloc((size_t)nconns, sizeof *lat);
	if (cs == NULL || pfd == NULL || map == NULL || lat == NULL)
		die_sys("calloc");
	t0 = now();
	for (i = 0; i < (size_t)nconns; i++) {
		struct cconn *c = &cs[i];

		put_le64(c->want, 0x5a5a000000000000ULL ^ (uint64_t)i);
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			cconn_fail(c, "socket", errno);
			continue;
		}
		set_nodelay(c->fd);
		c->state = C_CONNECTING;
		if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1 &&
		    errno != EINPROGRESS)
			cconn_fail(c, "connect", errno);
	}
	for (;;) {
		nfds = 0;
		active = 0;
		for (i = 0; i < (size_t)nconns; i++) {
			if (cs[i].state != C_CONNECTING && cs[i].state != C_WAITING)
				continue;
			active++;
			pfd[nfds].fd = cs[i].fd;
			pfd[nfds].events = cs[i].state == C_CONNECTING ? POLLOUT
			    : POLLIN;
			pfd[nfds].revents = 0;
			map[nfds++] = i;
		}
		if (active == 0)
			break;
		if (now() >= deadline_at) {
			for (i = 0; i < nfds; i++)
				cconn_fail(&cs[map[i]], "deadline", 0);
			break;
		}
		rc = poll(pfd, nfds, wait_ms(1000));
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			die_sys("poll");
		}
		for (i = 0; i < nfds; i++) {
			if (pfd[i].revents != 0)
				cconn_step(&cs[map[i]], pfd[i].revents);
		}
	}
	for (i = 0; i < (size_t)nconns; i++) {
		struct cconn *c = &cs[i];

		if (c->state == C_DONE) {
			lat[ok++] = (c->t_done - t0) * 1000.0;
			if (c->t_done > tlast)
				tlast = c->t_done;
		} else {
			failed++;
			if (shown++ < 5)
				fprintf(stderr, "benchnet concurrent: conn %zu: %s\n",
				    i, c->why);
		}
	}
	if (failed > 5)
		fprintf(stderr, "benchnet concurrent: ... %d failed in all\n",
		    failed);
	/* Every connection was open at once up to here. */
	for (i = 0; i < (size_t)nconns; i++) {
		if (cs[i].fd != -1)
			close(cs[i].fd);
	}
	qsort(lat, (size_t)ok, sizeof *lat, cmp_double);
	printf("concurrent conns=%ld ok=%d failed=%d seconds=%.3f p50_ms=%.1f "
	    "max_ms=%.1f\n", nconns, ok, failed, ok > 0 ? tlast - t0 : 0.0,
	    quantile(lat, (size_t)ok, 0.5), ok > 0 ? lat[ok - 1] : 0.0);
	free(cs);
	free(pfd);
	free(map);
	free(lat);
	return ok == nconns ? 0 : EXIT_CHECK;
}

/* ---- connect ----------------------------------------------------------- */

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
cmd_connect(int argc, char **argv)
{
	double *ms, t0, sum = 0;
	long count, i, n = 0, gap = 0, slow = 0;
	int port, fd, fails = 0;
	unsigned char r;
	const char *mode;

	if ((argc != 3 && argc != 4) ||
	    parse_long(argv[1], 1, 1000000, &count) == -1 ||
	    (strcmp(argv[2], "first") != 0 && strcmp(argv[2], "echo") != 0 &&
	    strcmp(argv[2], "wwr") != 0) ||
	    (argc == 4 && parse_long(argv[3], 0, 10000, &gap) == -1)) {
		fprintf(stderr, "usage: benchnet connect PORT COUNT "
		    "first|echo|wwr [GAP_MS]\n");
		return EXIT_USAGE;
	}
	port = parse_port(argv[0]);
	mode = argv[2];
	ms = calloc((size_t)count, sizeof *ms);
	if (ms == NULL)
		die_sys("calloc");
	for (i = 0; i < count; i++) {
		if (i > 0 && gap > 0)
			sleep_us(gap * 1000);
		t0 = now();
		fd = dial(port);
		if (fd == -1) {
			fails++;
			continue;
		}
		if (mode[0] == 'f') {
			if (read_full(fd, &r, 1) == -1 || r != 'H')
				goto bad;
		} else if (mode[0] == 'e') {
			if (write_all(fd, "Ex", 2) == -1 ||
			    read_full(fd, &r, 1) == -1 || r != 'x')
				goto bad;
		} else {
			if (read_full(fd, &r, 1) == -1 || r != 'H')
				goto bad;
			t0 = now();
			if (write_all(fd, "a", 1) == -1)
				goto bad;
			sleep_us(1000);
			if (write_all(fd, "b", 1) == -1 ||
			    read_full(fd, &r, 1) == -1 || r != 'K')
				goto bad;
		}
		ms[n] = (now() - t0) * 1000.0;
		if (ms[n] >= 20.0)
			slow++;
		sum += ms[n++];
		close(fd);
		continue;
bad:
		fails++;
		close(fd);
	}
	qsort(ms, (size_t)n, sizeof *ms, cmp_double);
	printf("connect mode=%s count=%ld gap_ms=%ld p50_ms=%.3f p99_ms=%.3f "
	    "mean_ms=%.3f slow_pct=%.1f fails=%d\n", mode, n, gap,
	    quantile(ms, (size_t)n, 0.5), quantile(ms, (size_t)n, 0.99),
	    n > 0 ? sum / (double)n : 0.0,
	    n > 0 ? 100.0 * (double)slow / (double)n : 0.0, fails);
	free(ms);
	return fails == 0 ? 0 : EXIT_CHECK;
}

/* ---- ready ------------------------------------------------------------- */

static int
try_once(int port, int banner)
{
	unsigned char r;
	double saved = deadline_at;
	int fd, ok = 0;

	/* One attempt gets at most 2 s of the deadline. */
	if (deadline_at > now() + 2)
		deadline_at = now() + 2;
	fd = dial(port);
	if (fd != -1) {
		if (banner)
			ok = read_full(fd, &r, 1) == 0 && r == 'H';
		else
			ok = write_all(fd, "Ex", 2) == 0 &&
			    read_full(fd, &r, 1) == 0 && r == 'x';
		close(fd);
	}
	deadline_at = saved;
	return ok;
}

static int
cmd_ready(int argc, char **argv)
{
	struct timespec ts;
	long long t0_us;
	double t;
	char *end;
	int port, banner;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "banner") != 0)) {
		fprintf(stderr, "usage: benchnet ready PORT T0_US [banner]\n");
		return EXIT_USAGE;
	}
	port = parse_port(argv[0]);
	errno = 0;
	t0_us = strtoll(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || t0_us <= 0) {
		fprintf(stderr, "benchnet ready: T0_US '%s' is not a time in "
		    "microseconds\n", argv[1]);
		return EXIT_USAGE;
	}
	banner = argc == 3;
	for (;;) {
		/* A failed try_once may die on the deadline: check first. */
		if (now() + 0.01 >= deadline_at)
			die_deadline();
		if (try_once(port, banner))
			break;
		sleep_us(2000);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	t = ((double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3 -
	    (double)t0_us) / 1e6;
	printf("ready seconds=%.3f\n", t);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: benchnet [-d SECONDS] serve PORT BANNER_PORT\n"
	    "       benchnet [-d SECONDS] throughput PORT up|down BYTES [MAX_SECONDS]\n"
	    "       benchnet [-d SECONDS] pingpong PORT COUNT\n"
	    "       benchnet [-d SECONDS] concurrent PORT CONNS\n"
	    "       benchnet [-d SECONDS] connect PORT COUNT first|echo|wwr [GAP_MS]\n"
	    "       benchnet [-d SECONDS] ready PORT T0_US [banner]\n"
	    "-d (or $BENCHNET_DEADLINE): give up after SECONDS (default 120)\n");
}

int
main(int argc, char **argv)
{
	if (tool_start(&argc, &argv, "BENCHNET_DEADLINE") == -1) {
		usage();
		return EXIT_USAGE;
	}
	fill_pattern();
	if (strcmp(argv[0], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[0], "throughput") == 0)
		return cmd_throughput(argc - 1, argv + 1);
	if (strcmp(argv[0], "pingpong") == 0)
		return cmd_pingpong(argc - 1, argv + 1);
	if (strcmp(argv[0], "concurrent") == 0)
		return cmd_concurrent(argc - 1, argv + 1);
	if (strcmp(argv[0], "connect") == 0)
		return cmd_connect(argc - 1, argv + 1);
	if (strcmp(argv[0], "ready") == 0)
		return cmd_ready(argc - 1, argv + 1);
	usage();
	return EXIT_USAGE;
}
