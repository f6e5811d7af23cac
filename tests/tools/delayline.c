/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * delayline: a long link in user space, for the benchmarks. There is no
 * netem here, so this relay sits between a tunnel and its bastion and holds
 * every byte for a fixed delay each way (and, optionally, paces each
 * direction to a rate), on loopback only.
 *
 *   delayline [-d SECONDS] relay LISTEN_PORT TARGET_PORT DELAY_MS [MBIT_S]
 *       accepts on 127.0.0.1:LISTEN_PORT; each connection is joined to a
 *       new connection to 127.0.0.1:TARGET_PORT; what one side sends is
 *       written to the other DELAY_MS later (round trip: 2 x DELAY_MS);
 *       MBIT_S, if given and not 0, paces each direction to that rate
 *       (serialisation, as on a real link). EOF travels delayed too.
 *
 * The relay reads both sides as fast as they send: the link itself has no
 * window, so what bounds a connection's throughput is what bounds it on a
 * real long link, the SSH channel window and the endpoints' buffers. Each
 * direction holds at most QUEUE_MAX bytes; past that it stops reading.
 * The deadline (default 120 s, or $DELAYLINE_DEADLINE) ends the relay.
 * Exit codes: 0 deadline reached after serving, 2 usage, 4 system error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define TOOL_NAME "delayline"

#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include "toolkit.h"

#define CHUNK_MAX (64 * 1024)
#define QUEUE_MAX ((size_t)256 * 1024 * 1024)
#define PAIRS_MAX 64

struct chunk {
	double due;       /* when it may be written */
	size_t len, off;  /* len 0: the sender's EOF */
	struct chunk *next;
	unsigned char data[];
};

/* One direction: read from `from`, write to `to` once due. */
struct lane {
	int from, to;
	struct chunk *head, *tail;
	size_t queued;
	double paced_until; /* the link is busy sending until then */
	int eof_read, eof_sent;
};

struct pair {
	int used;
	struct lane lane[2];
};

struct link {
	double delay;   /* seconds, each way */
	double rate;    /* bytes per second, 0 = unpaced */
};

static void
lane_push(struct lane *l, const struct link *k, const void *buf, size_t len)
{
	struct chunk *c = malloc(sizeof *c + len);
	double start = now();

	if (c == NULL)
		die_sys("malloc");
	memcpy(c->data, buf, len);
	c->len = len;
	c->off = 0;
	c->next = NULL;
	if (k->rate > 0) {
		if (l->paced_until > start)
			start = l->paced_until;
		l->paced_until = start + (double)len / k->rate;
		start = l->paced_until;
	}
	c->due = start + k->delay;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->queued += len;
}

static void
lane_pop(struct lane *l)
{
	struct chunk *c = l->head;

	l->head = c->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->queued -= c->len;
	free(c);
}

/* Reads what `from` has; returns -1 when the connection failed. */
static int
lane_read(struct lane *l, const struct link *k)
{
	unsigned char buf[CHUNK_MAX];
	ssize_t n = recv(l->from, buf, sizeof buf, 0);

	if (n > 0) {
		lane_push(l, k, buf, (size_t)n);
		return 0;
	}
	if (n == 0) {
		l->eof_read = 1;
		lane_push(l, k, buf, 0);
		return 0;
	}
	return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* Writes every due chunk the socket takes; -1 when it failed. */
static int
lane_write(struct lane *l)
{
	struct chunk *c;
	ssize_t n;

	while ((c = l->head) != NULL && c->due <= now()) {
		if (c->len == 0) {
			shutdown(l->to, SHUT_WR);
			l->eof_sent = 1;
			lane_pop(l);
			continue;
		}
		n = send(l->to, c->data + c->off, c->len - c->off,
		    MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)n;
		if (c->off < c->len)
			return 0;
		lane_pop(l);
	}
	return 0;
}

static void
pair_close(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++)
		while (p->lane[i].head != NULL)
			lane_pop(&p->lane[i]);
	close(p->lane[0].from);
	close(p->lane[1].from);
	memset(p, 0, sizeof *p);
}

static int
connect_target(int port)
{
	struct sockaddr_in sa = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		die_sys("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_nonblock(fd);
	return fd;
}

static void
pair_open(struct pair *pairs, int client, int target_port)
{
	struct pair *p = NULL;
	int i, target, one = 1;

	for (i = 0; i < PAIRS_MAX && p == NULL; i++)
		if (!pairs[i].used)
			p = &pairs[i];
	if (p == NULL || (target = connect_target(target_port)) == -1) {
		close(client);
		return;
	}
	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_nonblock(client);
	memset(p, 0, sizeof *p);
	p->used = 1;
	p->lane[0].from = p->lane[1].to = client;
	p->lane[0].to = p->lane[1].from = target;
}

/* The poll timeout: until the earliest chunk not yet due, at most 1 s. */
static int
next_due_ms(const struct pair *pairs)
{
	double first = now() + 1, t = now();
	int i, j;

	for (i = 0; i < PAIRS_MAX; i++)
		for (j = 0; pairs[i].used && j < 2; j++)
			if (pairs[i].lane[j].head != NULL &&
			    pairs[i].lane[j].head->due < first)
				first = pairs[i].lane[j].head->due;
	if (first <= t)
		return 0;
	return wait_ms((int)((first - t) * 1000) + 1);
}

/* Polls for one lane: read while there is room, write once due. */
static void
lane_events(const struct lane *l, struct pollfd *rd, struct pollfd *wr)
{
	if (!l->eof_read && l->queued < QUEUE_MAX)
		rd->events |= POLLIN;
	if (l->head != NULL && l->head->due <= now() && l->head->len > 0)
		wr->events |= POLLOUT;
}

static void
relay_step(struct pair *pairs, struct link *k, int lfd, int target_port)
{
	struct pollfd pfd[1 + 2 * PAIRS_MAX];
	int i, j, bad, client;

	memset(pfd, 0, sizeof pfd);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	for (i = 0; i < PAIRS_MAX; i++) {
		pfd[1 + 2 * i].fd = pairs[i].used ? pairs[i].lane[0].from : -1;
		pfd[2 + 2 * i].fd = pairs[i].used ? pairs[i].lane[1].from : -1;
		for (j = 0; pairs[i].used && j < 2; j++)
			lane_events(&pairs[i].lane[j], &pfd[1 + 2 * i + j],
			    &pfd[2 + 2 * i - j]);
	}
	if (poll(pfd, 1 + 2 * PAIRS_MAX, next_due_ms(pairs)) == -1 &&
	    errno != EINTR)
		die_sys("poll");
	if (pfd[0].revents & POLLIN) {
		client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (client != -1)
			pair_open(pairs, client, target_port);
	}
	for (i = 0; i < PAIRS_MAX; i++) {
		if (!pairs[i].used)
			continue;
		bad = 0;
		for (j = 0; j < 2; j++) {
			if (pfd[1 + 2 * i + j].revents & (POLLIN | POLLHUP | POLLERR))
				bad |= lane_read(&pairs[i].lane[j], k) == -1;
			bad |= lane_write(&pairs[i].lane[j]) == -1;
		}
		if (bad || (pairs[i].lane[0].eof_sent && pairs[i].lane[1].eof_sent))
			pair_close(&pairs[i]);
	}
}

static int
cmd_relay(int argc, char **argv)
{
	struct pair *pairs;
	struct link k = {0};
	long delay_ms, mbit = 0;
	int lport, tport, lfd;

	if (argc < 3 || argc > 4 || (lport = parse_port(argv[0])) == -1 ||
	    (tport = parse_port(argv[1])) == -1 ||
	    parse_long(argv[2], 0, 10000, &delay_ms) == -1 ||
	    (argc == 4 && parse_long(argv[3], 0, 100000, &mbit) == -1)) {
		fprintf(stderr, "usage: delayline relay LISTEN_PORT TARGET_PORT "
		    "DELAY_MS (0 to 10000) [MBIT_S (0 to 100000)]\n");
		return EXIT_USAGE;
	}
	k.delay = (double)delay_ms / 1000;
	k.rate = (double)mbit * 1e6 / 8;
	pairs = calloc(PAIRS_MAX, sizeof *pairs);
	if (pairs == NULL)
		die_sys("calloc");
	lfd = listen_on(lport, 64);
	printf("delayline: 127.0.0.1:%d -> 127.0.0.1:%d, %ld ms each way%s\n",
	    lport, tport, delay_ms, mbit > 0 ? ", paced" : "");
	while (now() < deadline_at)
		relay_step(pairs, &k, lfd, tport);
	return 0;
}

int
main(int argc, char **argv)
{
	if (tool_start(&argc, &argv, "DELAYLINE_DEADLINE") == -1 ||
	    strcmp(argv[0], "relay") != 0) {
		fprintf(stderr, "usage: delayline [-d SECONDS] relay LISTEN_PORT "
		    "TARGET_PORT DELAY_MS [MBIT_S]\n");
		return EXIT_USAGE;
	}
	return cmd_relay(argc - 1, argv + 1);
}
