/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolve.h"

/* Shared with the thread: freed by whoever drops the last reference. */
struct resolver {
	atomic_int refs;
	struct ev_loop *loop;
	ev_io wake; /* the read end of the thread's pipe */
	int pending;
	resolver_done_fn done;
	void *arg;
	/* Written by the thread before it wakes the loop. */
	char host[256];
	char port[8];
	int ai_flags;
	struct addrinfo *res;
	int rc;
	atomic_int answered; /* res and rc are set */
	int pipe_w;
};

static void
resolver_unref(struct resolver *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	if (r->res != NULL)
		freeaddrinfo(r->res);
	free(r);
}

static void *
resolver_thread(void *arg)
{
	struct resolver *r = arg;
	struct addrinfo hints;
	char byte = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = r->ai_flags;
	r->rc = getaddrinfo(r->host, r->port, &hints, &r->res);
	/* res and rc are published before the byte that wakes the loop. */
	atomic_store_explicit(&r->answered, 1, memory_order_release);
	if (write(r->pipe_w, &byte, 1) != 1) {
		/* The loop gave up on us (its end is closed): nothing to say. */
	}
	close(r->pipe_w);
	resolver_unref(r);
	return NULL;
}

static void
resolver_stop_watching(struct resolver *r)
{
	if (!r->pending)
		return;
	ev_io_stop(r->loop, &r->wake);
	close(r->wake.fd);
	r->pending = 0;
}

static void
resolver_on_wake(struct ev_loop *loop, ev_io *w, int revents)
{
	struct resolver *r = w->data;
	struct addrinfo *res;

	if (!atomic_load_explicit(&r->answered, memory_order_acquire))
		return; /* a spurious wake-up: the byte comes with the answer */
	res = r->res;
	resolver_stop_watching(r);
	r->res = NULL;
	/* Last: done may free the resolver. */
	r->done(r, res, res == NULL ? gai_strerror(r->rc) : NULL, r->arg);
}

struct resolver *
resolver_start(struct ev_loop *loop, const char *host, int port, int ai_flags,
    resolver_done_fn done, void *arg)
{
	struct resolver *r;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int fds[2], rc;

	r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		free(r);
		return NULL;
	}
	atomic_init(&r->refs, 2);
	atomic_init(&r->answered, 0);
	r->loop = loop;
	r->done = done;
	r->arg = arg;
	r->ai_flags = ai_flags;
	r->pipe_w = fds[1];
	snprintf(r->host, sizeof r->host, "%s", host);
	snprintf(r->port, sizeof r->port, "%d", port);
	if ((rc = pthread_attr_init(&attr)) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(r);
		errno = rc;
		return NULL;
	}
	/*
	 * The thread takes no signal: SIGTERM and friends stay the loop's,
	 * and the write to a pipe the loop has closed fails with EPIPE
	 * rather than raising SIGPIPE, whatever the process does with it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (rc == 0)
		rc = pthread_create(&thread, &attr, resolver_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_attr_destroy(&attr);
		close(fds[0]);
		close(fds[1]);
		free(r);
		errno = rc; /* pthread calls return their error */
		return NULL;
	}
	pthread_attr_destroy(&attr);
	ev_io_init(&r->wake, resolver_on_wake, fds[0], EV_READ);
	r->wake.data = r;
	ev_io_start(loop, &r->wake);
	r->pending = 1;
	return r;
}

int
resolver_pending(const struct resolver *r)
{
	return r->pending;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	resolver_stop_watching(r);
	resolver_unref(r);
}
