/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"

#define DIAL_SYN_RETRY_SECONDS 1.0
/*
 * Then the last attempt is left to the kernel (until connect_timeout), so
 * a path whose round trip is longer than a second still connects.
 */
#define DIAL_SYN_RETRIES 3

static void
dial_finish(struct dial *d, int fd, const char *error)
{
	void (*done)(struct dial *, int, const char *, void *) = d->done;

	d->done = NULL;
	if (done != NULL)
		done(d, fd, error, d->arg);
}

static void dial_next_address(struct dial *);

static void
dial_close_socket(struct dial *d)
{
	ev_io_stop(d->loop, &d->connecting);
	ev_timer_stop(d->loop, &d->syn_retry);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
}

/* Starts (again) a non-blocking connect to the current address. */
static void
dial_connect_current(struct dial *d)
{
	const struct addrinfo *ai = d->cur;
	int one = 1;

	d->fd = socket(ai->ai_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd == -1) {
		snprintf(d->error, sizeof d->error, "socket: %s",
		    strerror(errno));
		d->cur = d->cur->ai_next;
		dial_next_address(d);
		return;
	}
	/*
	 * libssh sets TCP_NODELAY only on sockets it connects itself, and
	 * this one is handed over. Without it the small packets of a new
	 * channel (a window adjust, then the first reply) wait for the
	 * bastion's delayed ACK: 40 ms on every connection.
	 */
	(void)setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(d->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(d->error, sizeof d->error, "%s", strerror(errno));
		dial_close_socket(d);
		d->cur = d->cur->ai_next;
		dial_next_address(d);
		return;
	}
	ev_io_set(&d->connecting, d->fd, EV_WRITE);
	ev_io_start(d->loop, &d->connecting);
	if (d->syn_retries < DIAL_SYN_RETRIES) {
		ev_timer_set(&d->syn_retry, DIAL_SYN_RETRY_SECONDS, 0);
		ev_timer_start(d->loop, &d->syn_retry);
	}
}

static void
dial_next_address(struct dial *d)
{
	/* AddressFamily inet or inet6: the other family's addresses are not ours. */
	while (d->cur != NULL && d->family != AF_UNSPEC &&
	    d->cur->ai_family != d->family)
		d->cur = d->cur->ai_next;
	if (d->cur == NULL) {
		dial_finish(d, -1,
		    d->error[0] != '\0' ?
		        d->error :
		        d->family == AF_INET ?
		        "no IPv4 address (AddressFamily inet)" :
		        d->family == AF_INET6 ?
		        "no IPv6 address (AddressFamily inet6)" :
		        "no address to connect to");
		return;
	}
	d->syn_retries = 0;
	dial_connect_current(d);
}

static void
dial_on_connected(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dial *d = w->data;
	socklen_t len = sizeof(int);
	int soerr = 0, fd;

	if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0) {
		snprintf(d->error, sizeof d->error, "%s", strerror(soerr));
		dial_close_socket(d);
		d->cur = d->cur->ai_next;
		dial_next_address(d);
		return;
	}
	ev_io_stop(d->loop, &d->connecting);
	ev_timer_stop(d->loop, &d->syn_retry);
	fd = d->fd;
	d->fd = -1; /* libssh owns it from here */
	dial_finish(d, fd, NULL);
}

/* An unanswered SYN: a fresh socket sends a new one now. */
static void
dial_on_syn_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dial *d = w->data;

	d->syn_retries++;
	dial_close_socket(d);
	dial_connect_current(d);
}

static void
dial_on_resolved(struct resolver *r, struct addrinfo *res, const char *error,
    void *arg)
{
	struct dial *d = arg;

	resolver_free(r);
	d->resolver = NULL;
	if (res == NULL) {
		snprintf(d->error, sizeof d->error, "%s", error);
		dial_finish(d, -1, d->error);
		return;
	}
	d->addrs = d->cur = res;
	dial_next_address(d);
}

int
dial_start(struct dial *d, struct ev_loop *loop, const char *host, int port,
    int family, void (*done)(struct dial *, int, const char *, void *),
    void *arg)
{
	memset(d, 0, sizeof *d);
	d->loop = loop;
	d->fd = -1;
	d->family = family;
	d->done = done;
	d->arg = arg;
	ev_init(&d->connecting, dial_on_connected);
	ev_init(&d->syn_retry, dial_on_syn_retry);
	d->connecting.data = d->syn_retry.data = d;
	d->resolver = resolver_start(loop, host, port,
	    AI_NUMERICSERV | AI_ADDRCONFIG, dial_on_resolved, d);
	return d->resolver != NULL ? 0 : -1;
}

void
dial_cancel(struct dial *d)
{
	if (d->loop == NULL)
		return; /* never started */
	d->done = NULL;
	resolver_free(d->resolver);
	d->resolver = NULL;
	dial_close_socket(d);
	if (d->addrs != NULL)
		freeaddrinfo(d->addrs);
	d->addrs = d->cur = NULL;
}

struct dial_waiter {
	struct ev_loop *loop;
	int fd;
	int finished;
	char error[256];
};

static void
dial_wait_on_done(struct dial *d, int fd, const char *error, void *arg)
{
	struct dial_waiter *w = arg;

	(void)d;
	w->fd = fd;
	w->finished = 1;
	snprintf(w->error, sizeof w->error, "%s", error != NULL ? error : "");
	ev_break(w->loop, EVBREAK_ALL);
}

static void
dial_wait_on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	ev_break(loop, EVBREAK_ALL);
}

int
dial_wait(const char *host, int port, int family, double timeout, char *why,
    size_t whysz)
{
	struct dial_waiter w = { NULL, -1, 0, "" };
	struct dial d;
	ev_timer deadline;

	if ((w.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	ev_timer_init(&deadline, dial_wait_on_timeout, timeout, 0);
	ev_timer_start(w.loop, &deadline);
	if (dial_start(&d, w.loop, host, port, family, dial_wait_on_done, &w) ==
	        0 &&
	    !w.finished)
		ev_run(w.loop, 0);
	if (!w.finished)
		snprintf(w.error, sizeof w.error,
		    "no answer within %.0f s (connect_timeout)", timeout);
	/* Frees the addresses; a connected fd was handed over already. */
	dial_cancel(&d);
	ev_timer_stop(w.loop, &deadline);
	ev_loop_destroy(w.loop);
	if (w.fd == -1)
		snprintf(why, whysz, "%s",
		    w.error[0] != '\0' ? w.error : "cannot connect");
	return w.fd;
}

int
dial_ssh_connect(ssh_session ssh, const char *host, int port, int family,
    double timeout)
{
	char why[256];
	int fd = dial_wait(host, port, family, timeout, why, sizeof why);

	if (fd != -1 && ssh_options_set(ssh, SSH_OPTIONS_FD, &fd) < 0) {
		close(fd);
		fd = -1;
	}
	return ssh_connect(ssh);
}
