/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * netload: the traffic helper of the integration tests. Loopback only,
 * one process, poll()-driven, every loop bounded by a deadline.
 *
 *   netload [-d SECONDS] freeport             print a free TCP port on 127.0.0.1
 *   netload [-d SECONDS] echo PORT            echo server (many clients)
 *   netload [-d SECONDS] source PORT          server writing endless data to each client
 *   netload [-d SECONDS] load PORT CONNS BYTES
 *       CONNS concurrent connections; each sends BYTES of pseudo-random data
 *       to an echo server and reads BYTES back; the checksum (and every byte)
 *       of what came back must equal what was sent. Prints
 *       "ok CONNS/CONNS, N MiB in T s" and exits 0 only if all match.
 *   netload [-d SECONDS] slowread PORT SECONDS [BYTES_PER_TICK]
 *       connects and reads BYTES_PER_TICK (default 1024) every 100 ms for
 *       SECONDS; exits 0 if the connection stayed open and delivered data.
 *
 * The deadline (default 120 s, or $NETLOAD_DEADLINE) bounds every command,
 * servers included: reaching it prints a message and exits 3.
 * Exit codes: 0 ok, 1 check failed, 2 usage, 3 deadline, 4 system error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define TOOL_NAME "netload"

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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "toolkit.h"

#define BUF_SIZE (64 * 1024)
#define MAX_CLIENTS 4096


static void
check_deadline(void)
{
	if (now() >= deadline_at) {
		fprintf(stderr, "netload %s: deadline of %g s reached, giving up\n",
		    cmd_name, deadline_seconds);
		exit(EXIT_DEADLINE);
	}
}

/* ---- freeport ---------------------------------------------------------- */

static int
cmd_freeport(int argc, char **argv)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof sin;
	int fd;

	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: netload freeport\n");
		return EXIT_USAGE;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die_sys("socket");
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		die_sys("bind 127.0.0.1:0");
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die_sys("getsockname");
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

/* ---- echo and source servers ------------------------------------------- */

struct client {
	int fd;
	unsigned char *buf;     /* echo: bytes read, not yet written back */
	size_t start, len;
	int eof;                /* echo: the client shut its side down */
};

enum server_kind { SERVER_ECHO, SERVER_SOURCE };

static void
client_close(struct client *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* Echo: returns -1 when the client is done. */
static int
echo_step(struct client *c, short revents)
{
	ssize_t n;

	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof &&
	    c->len < BUF_SIZE) {
		if (c->start > 0 && c->len > 0)
			memmove(c->buf, c->buf + c->start, c->len);
		c->start = 0;
		n = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
		if (n > 0)
			c->len += (size_t)n;
		else if (n == 0)
			c->eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (c->len > 0 && (revents & (POLLOUT | POLLERR))) {
		n = write(c->fd, c->buf + c->start, c->len);
		if (n > 0) {
			c->start += (size_t)n;
			c->len -= (size_t)n;
			if (c->len == 0)
				c->start = 0;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (c->eof && c->len == 0)
		return -1;      /* everything echoed: close (our EOF follows theirs) */
	return 0;
}

static int
source_step(struct client *c, short revents, const unsigned char *pattern)
{
	unsigned char sink[4096];
	ssize_t n;

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		n = read(c->fd, sink, sizeof sink);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
	}
	if (revents & POLLOUT) {
		n = write(c->fd, pattern + c->start, BUF_SIZE - c->start);
		if (n > 0)
			c->start = (c->start + (size_t)n) % BUF_SIZE;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Runs until killed or until the deadline (exit 3). */
static _Noreturn void
run_server(enum server_kind kind, int port)
{
	static struct client clients[MAX_CLIENTS];
	static struct pollfd pfd[MAX_CLIENTS + 1];
	static int map[MAX_CLIENTS + 1];
	unsigned char *pattern = NULL;
	size_t i, nfds;
	int lfd, fd, nclients = 0, rc;

	raise_nofile();
	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (kind == SERVER_SOURCE) {
		pattern = malloc(BUF_SIZE);
		if (pattern == NULL)
			die_sys("malloc");
		for (i = 0; i < BUF_SIZE; i++)
			pattern[i] = (unsigned char)('a' + i % 26);
	}
	lfd = listen_on(port, 1024);
	for (;;) {
		check_deadline();
		nfds = 0;
		pfd[nfds].fd = nclients < MAX_CLIENTS ? lfd : -1;
		pfd[nfds].events = POLLIN;
		map[nfds++] = -1;
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];

			if (c->fd == -1)
				continue;
			pfd[nfds].fd = c->fd;
			if (kind == SERVER_ECHO)
				pfd[nfds].events = (short)(
				    (!c->eof && c->len < BUF_SIZE ? POLLIN : 0) |
				    (c->len > 0 ? POLLOUT : 0));
			else
				pfd[nfds].events = POLLIN | POLLOUT;
			map[nfds++] = (int)i;
		}
		rc = poll(pfd, nfds, wait_ms(1000));
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			die_sys("poll");
		}
		for (i = 1; i < nfds; i++) {
			struct client *c = &clients[map[i]];

			if (pfd[i].revents == 0)
				continue;
			if (kind == SERVER_ECHO)
				rc = echo_step(c, pfd[i].revents);
			else
				rc = source_step(c, pfd[i].revents, pattern);
			if (rc == -1) {
				client_close(c);
				nclients--;
			}
		}
		if (pfd[0].revents & POLLIN) {
			for (;;) {
				if (nclients == MAX_CLIENTS)
					break;
				fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd == -1) {
					if (errno == EAGAIN || errno == EINTR ||
					    errno == ECONNABORTED)
						break;
					if (errno == EMFILE || errno == ENFILE)
						break;
					die_sys("accept");
				}
				for (i = 0; clients[i].fd != -1; i++)
					;
				clients[i].fd = fd;
				if (kind == SERVER_ECHO) {
					clients[i].buf = malloc(BUF_SIZE);
					if (clients[i].buf == NULL)
						die_sys("malloc");
				}
				nclients++;
			}
		}
	}
}

static int
cmd_server(enum server_kind kind, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: netload %s PORT\n", cmd_name);
		return EXIT_USAGE;
	}
	run_server(kind, parse_port(argv[0]));
}

/* ---- load ------------------------------------------------------------- */

/* xorshift64*: a fast, reproducible byte stream per connection. */
struct prng {
	uint64_t s;
	uint64_t word;
	int left;               /* bytes of word not yet used */
};

static void
prng_init(struct prng *p, uint64_t seed)
{
	/* splitmix64 of the seed, so neighbouring seeds give unrelated streams */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	p->s = (z ^ (z >> 31)) | 1;
	p->left = 0;
}

static uint64_t
prng_next(struct prng *p)
{
	p->s ^= p->s >> 12;
	p->s ^= p->s << 25;
	p->s ^= p->s >> 27;
	return p->s * 0x2545f4914f6cdd1dULL;
}

static void
put_le64(unsigned char *out, uint64_t w)
{
	int k;

	for (k = 0; k < 8; k++)
		out[k] = (unsigned char)(w >> (8 * k));
}

static void
prng_fill(struct prng *p, unsigned char *out, size_t n)
{
	size_t i = 0;

	while (i < n && p->left > 0) {
		out[i++] = (unsigned char)p->word;
		p->word >>= 8;
		p->left--;
	}
	for (; n - i >= 8; i += 8)
		put_le64(out + i, prng_next(p));
	if (i < n) {
		p->word = prng_next(p);
		p->left = 8;
		while (i < n) {
			out[i++] = (unsigned char)p->word;
			p->word >>= 8;
			p->left--;
		}
	}
}

/*
 * A streaming 64-bit checksum over 8-byte little-endian words (a tail of
 * fewer than 8 bytes is carried to the next call), so any split of the
 * stream into reads gives the same value.
 */
struct csum {
	uint64_t h;
	uint64_t pend;
	int npend;
	uint64_t total;
};

static uint64_t
csum_mix(uint64_t h, uint64_t w)
{
	w *= 0x87c37b91114253d5ULL;
	w = (w << 31) | (w >> 33);
	w *= 0x4cf5ad432745937fULL;
	h ^= w;
	h = (h << 27) | (h >> 37);
	return h * 5 + 0x52dce729;
}

static void
csum_init(struct csum *c)
{
	memset(c, 0, sizeof *c);
	c->h = 0xcbf29ce484222325ULL;
}

static void
csum_update(struct csum *c, const unsigned char *p, size_t n)
{
	size_t i = 0;
	uint64_t w;
	int k;

	c->total += n;
	while (i < n && c->npend > 0) {
		c->pend |= (uint64_t)p[i++] << (8 * c->npend);
		if (++c->npend == 8) {
			c->h = csum_mix(c->h, c->pend);
			c->pend = 0;
			c->npend = 0;
		}
	}
	for (; n - i >= 8; i += 8) {
		w = 0;
		for (k = 0; k < 8; k++)
			w |= (uint64_t)p[i + k] << (8 * k);
		c->h = csum_mix(c->h, w);
	}
	for (; i < n; i++)
		c->pend |= (uint64_t)p[i] << (8 * c->npend++);
}

static uint64_t
csum_final(const struct csum *c)
{
	uint64_t h = csum_mix(c->h, c->pend ^ ((uint64_t)c->npend << 56));

	h = csum_mix(h, c->total);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

enum conn_state { CONN_CONNECTING, CONN_RUNNING, CONN_DONE, CONN_FAILED };

struct conn {
	int fd;
	enum conn_state state;
	struct prng tx, expect;
	unsigned char *txbuf;   /* generated, not yet written */
	size_t txoff, txlen;
	uint64_t sent, received;
	struct csum sum_sent, sum_received;
	int64_t first_diff;     /* -1 = none */
	char why[128];
};

static void
conn_fail(struct conn *c, const char *why)
{
	if (c->state == CONN_FAILED)
		return;
	snprintf(c->why, sizeof c->why, "%s", why);
	c->state = CONN_FAILED;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

static void
conn_start(struct conn *c, int port)
{
	struct sockaddr_in sin = loopback(port);

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		die_sys("socket");
	c->state = CONN_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == 0)
		c->state = CONN_RUNNING;
	else if (errno != EINPROGRESS)
		conn_fail(c, strerror(errno));
}

static void
conn_step(struct conn *c, short revents, uint64_t bytes)
{
	unsigned char rx[BUF_SIZE], want[BUF_SIZE];
	char why[128];
	ssize_t n;
	size_t i;
	int err = 0;
	socklen_t elen = sizeof err;

	if (c->state == CONN_CONNECTING) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof why, "connect: %s", strerror(err));
			conn_fail(c, why);
			return;
		}
		c->state = CONN_RUNNING;
	}
	if (c->state != CONN_RUNNING)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		n = read(c->fd, rx, sizeof rx);
		if (n == 0) {
			snprintf(why, sizeof why, "closed by the peer after "
			    "%" PRIu64 " of %" PRIu64 " bytes came back",
			    c->received, bytes);
			conn_fail(c, why);
			return;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof why, "read after %" PRIu64
			    " bytes: %s", c->received, strerror(errno));
			conn_fail(c, why);
			return;
		}
		if (n > 0) {
			if ((uint64_t)n > bytes - c->received) {
				snprintf(why, sizeof why, "got more than the "
				    "%" PRIu64 " bytes sent", bytes);
				conn_fail(c, why);
				return;
			}
			prng_fill(&c->expect, want, (size_t)n);
			if (c->first_diff < 0 &&
			    memcmp(want, rx, (size_t)n) != 0) {
				for (i = 0; want[i] == rx[i]; i++)
					;
				c->first_diff = (int64_t)(c->received + i);
			}
			csum_update(&c->sum_received, rx, (size_t)n);
			c->received += (uint64_t)n;
		}
	}
	if ((revents & POLLOUT) && c->sent < bytes) {
		if (c->txlen == 0) {
			uint64_t left = bytes - c->sent;

			c->txlen = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
			c->txoff = 0;
			prng_fill(&c->tx, c->txbuf, c->txlen);
			csum_update(&c->sum_sent, c->txbuf, c->txlen);
		}
		n = write(c->fd, c->txbuf + c->txoff, c->txlen);
		if (n > 0) {
			c->txoff += (size_t)n;
			c->txlen -= (size_t)n;
			c->sent += (uint64_t)n;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof why, "write after %" PRIu64
			    " bytes: %s", c->sent, strerror(errno));
			conn_fail(c, why);
			return;
		}
	}
	if (c->received == bytes && c->sent == bytes) {
		close(c->fd);
		c->fd = -1;
		c->state = CONN_DONE;
	}
}

static int
cmd_load(int argc, char **argv)
{
	struct conn *conns;
	struct pollfd *pfd;
	int *map;
	long nconns, port;
	uint64_t bytes, seed;
	double t0, t;
	size_t i, nfds;
	int active, ok = 0, rc;
	long v;

	if (argc != 3) {
		fprintf(stderr, "usage: netload load PORT CONNS BYTES\n");
		return EXIT_USAGE;
	}
	port = parse_port(argv[0]);
	if (parse_long(argv[1], 1, MAX_CLIENTS, &nconns) == -1 ||
	    parse_long(argv[2], 0, LONG_MAX, &v) == -1) {
		fprintf(stderr, "netload load: CONNS must be 1 to %d and BYTES "
		    "a whole number\n", MAX_CLIENTS);
		return EXIT_USAGE;
	}
	bytes = (uint64_t)v;
	raise_nofile();
	conns = calloc((size_t)nconns, sizeof *conns);
	pfd = calloc((size_t)nconns, sizeof *pfd);
	map = calloc((size_t)nconns, sizeof *map);
	if (conns == NULL || pfd == NULL || map == NULL)
		die_sys("calloc");
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	t0 = now();
	for (i = 0; i < (size_t)nconns; i++) {
		struct conn *c = &conns[i];

		c->txbuf = malloc(BUF_SIZE);
		if (c->txbuf == NULL)
			die_sys("malloc");
		prng_init(&c->tx, seed + i);
		prng_init(&c->expect, seed + i);
		csum_init(&c->sum_sent);
		csum_init(&c->sum_received);
		c->first_diff = -1;
		conn_start(c, (int)port);
	}
	for (;;) {
		nfds = 0;
		active = 0;
		for (i = 0; i < (size_t)nconns; i++) {
			struct conn *c = &conns[i];

			if (c->state == CONN_RUNNING && c->sent == bytes &&
			    c->received == bytes) {
				close(c->fd);
				c->fd = -1;
				c->state = CONN_DONE;
			}
			if (c->state != CONN_CONNECTING && c->state != CONN_RUNNING)
				continue;
			active++;
			pfd[nfds].fd = c->fd;
			pfd[nfds].events = c->state == CONN_CONNECTING
			    ? POLLOUT
			    : (short)(POLLIN | (c->sent < bytes ? POLLOUT : 0));
			map[nfds++] = (int)i;
		}
		if (active == 0)
			break;
		if (now() >= deadline_at) {
			for (i = 0; i < nfds; i++) {
				struct conn *c = &conns[map[i]];
				char why[128];

				snprintf(why, sizeof why, "deadline: sent %"
				    PRIu64 ", got back %" PRIu64 " of %" PRIu64,
				    c->sent, c->received, bytes);
				conn_fail(c, why);
			}
			fprintf(stderr, "netload load: deadline of %g s reached "
			    "with %d connections unfinished\n",
			    deadline_seconds, active);
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
				conn_step(&conns[map[i]], pfd[i].revents, bytes);
		}
	}
	t = now() - t0;
	for (i = 0; i < (size_t)nconns; i++) {
		struct conn *c = &conns[i];

		uint64_t sent_sum = csum_final(&c->sum_sent);
		uint64_t got_sum = csum_final(&c->sum_received);

		if (c->state == CONN_DONE && sent_sum == got_sum &&
		    c->first_diff < 0) {
			ok++;
			continue;
		}
		if (c->state == CONN_DONE)
			fprintf(stderr, "netload load: conn %zu: checksum "
			    "mismatch: sent %016" PRIx64 ", got back %016" PRIx64
			    ", first different byte at offset %" PRId64 "\n",
			    i, sent_sum, got_sum, c->first_diff);
		else
			fprintf(stderr, "netload load: conn %zu: %s\n", i,
			    c->why[0] != '\0' ? c->why : "unfinished");
	}
	printf("%s %d/%ld, %.0f MiB in %.2f s (each way; %.1f MiB/s)\n",
	    ok == nconns ? "ok" : "FAIL", ok, nconns,
	    (double)bytes * (double)nconns / 1048576.0, t,
	    t > 0 ? (double)bytes * (double)nconns / 1048576.0 / t : 0.0);
	fflush(stdout);
	for (i = 0; i < (size_t)nconns; i++) {
		if (conns[i].fd != -1)
			close(conns[i].fd);
		free(conns[i].txbuf);
	}
	free(conns);
	free(pfd);
	free(map);
	return ok == nconns ? 0 : EXIT_CHECK;
}

/* ---- slowread ---------------------------------------------------------- */

static int
cmd_slowread(int argc, char **argv)
{
	struct sockaddr_in sin;
	unsigned char buf[BUF_SIZE];
	struct pollfd pfd;
	double t0, end, next;
	long seconds, tick = 1024;
	uint64_t total = 0;
	ssize_t n;
	int fd, small = 4096, rc;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: netload slowread PORT SECONDS "
		    "[BYTES_PER_TICK]\n");
		return EXIT_USAGE;
	}
	sin = loopback(parse_port(argv[0]));
	if (parse_long(argv[1], 1, 86400, &seconds) == -1 ||
	    (argc == 3 && parse_long(argv[2], 1, BUF_SIZE, &tick) == -1)) {
		fprintf(stderr, "netload slowread: SECONDS must be 1 to 86400 "
		    "and BYTES_PER_TICK 1 to %d\n", BUF_SIZE);
		return EXIT_USAGE;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die_sys("socket");
	/* A small receive buffer, so back-pressure reaches the sender soon. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		die_sys("connect");
	set_nonblock(fd);
	t0 = now();
	end = t0 + (double)seconds;
	next = t0;
	while (now() < end) {
		check_deadline();
		if (now() < next) {
			pfd.fd = -1;    /* just sleep until the next tick */
			pfd.events = 0;
			(void)poll(&pfd, 0, wait_ms((int)((next - now())
			    * 1000.0) + 1));
			continue;
		}
		next += 0.1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, wait_ms((int)((end - now()) * 1000.0)));
		if (rc == -1 && errno != EINTR)
			die_sys("poll");
		if (rc <= 0)
			continue;
		n = read(fd, buf, (size_t)tick);
		if (n == 0) {
			fprintf(stderr, "netload slowread: closed by the peer "
			    "after %.1f s and %" PRIu64 " bytes\n", now() - t0,
			    total);
			close(fd);
			return EXIT_CHECK;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "netload slowread: read: %s\n",
			    strerror(errno));
			close(fd);
			return EXIT_CHECK;
		}
		total += (uint64_t)n;
	}
	close(fd);
	printf("slowread: read %" PRIu64 " bytes in %.1f s\n", total,
	    now() - t0);
	if (total == 0) {
		fprintf(stderr, "netload slowread: no data arrived\n");
		return EXIT_CHECK;
	}
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: netload [-d SECONDS] freeport\n"
	    "       netload [-d SECONDS] echo PORT\n"
	    "       netload [-d SECONDS] source PORT\n"
	    "       netload [-d SECONDS] load PORT CONNS BYTES\n"
	    "       netload [-d SECONDS] slowread PORT SECONDS [BYTES_PER_TICK]\n"
	    "-d (or $NETLOAD_DEADLINE): give up after SECONDS (default 120)\n");
}

int
main(int argc, char **argv)
{
	if (tool_start(&argc, &argv, "NETLOAD_DEADLINE") == -1) {
		usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "freeport") == 0)
		return cmd_freeport(argc - 1, argv + 1);
	if (strcmp(argv[0], "echo") == 0)
		return cmd_server(SERVER_ECHO, argc - 1, argv + 1);
	if (strcmp(argv[0], "source") == 0)
		return cmd_server(SERVER_SOURCE, argc - 1, argv + 1);
	if (strcmp(argv[0], "load") == 0)
		return cmd_load(argc - 1, argv + 1);
	if (strcmp(argv[0], "slowread") == 0)
		return cmd_slowread(argc - 1, argv + 1);
	usage();
	return EXIT_USAGE;
}
