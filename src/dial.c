#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* Owned by whoever drops the last reference: the loop or the thread. */
struct dial_job {
	atomic_int refs;
	char host[256];
	char port[8];
	struct addrinfo *res;
	int rc;
	int pipe_w; /* the thread's end: one byte when done */
};

static void
dial_job_unref(struct dial_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	if (job->res != NULL)
		freeaddrinfo(job->res);
	free(job);
}

static void *
dial_resolve(void *arg)
{
	struct dial_job *job = arg;
	struct addrinfo hints;
	char byte = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	job->rc = getaddrinfo(job->host, job->port, &hints, &job->res);
	if (write(job->pipe_w, &byte, 1) != 1) {
		/* The loop gave up on us (its end is closed): nothing to say. */
	}
	close(job->pipe_w);
	dial_job_unref(job);
	return NULL;
}

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

	d->fd = socket(ai->ai_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd == -1) {
		snprintf(d->error, sizeof d->error, "socket: %s",
		    strerror(errno));
		d->cur = d->cur->ai_next;
		dial_next_address(d);
		return;
	}
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
	if (d->cur == NULL) {
		dial_finish(d, -1,
		    d->error[0] != '\0' ? d->error :
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

	(void)loop;
	(void)revents;
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

	(void)loop;
	(void)revents;
	d->syn_retries++;
	dial_close_socket(d);
	dial_connect_current(d);
}

static void
dial_on_resolved(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dial *d = w->data;
	struct dial_job *job = d->job;

	(void)revents;
	ev_io_stop(loop, w);
	close(w->fd);
	d->job = NULL;
	if (job->rc != 0) {
		snprintf(d->error, sizeof d->error, "%s",
		    gai_strerror(job->rc));
		dial_job_unref(job);
		dial_finish(d, -1, d->error);
		return;
	}
	d->addrs = d->cur = job->res;
	job->res = NULL;
	dial_job_unref(job);
	dial_next_address(d);
}

int
dial_start(struct dial *d, struct ev_loop *loop, const char *host, int port,
    void (*done)(struct dial *, int, const char *, void *), void *arg)
{
	struct dial_job *job;
	pthread_attr_t attr;
	pthread_t thread;
	int fds[2];

	memset(d, 0, sizeof *d);
	d->loop = loop;
	d->fd = -1;
	d->done = done;
	d->arg = arg;
	ev_init(&d->resolved, dial_on_resolved);
	ev_init(&d->connecting, dial_on_connected);
	ev_init(&d->syn_retry, dial_on_syn_retry);
	d->resolved.data = d->connecting.data = d->syn_retry.data = d;
	job = calloc(1, sizeof *job);
	if (job == NULL || pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		free(job);
		return -1;
	}
	atomic_init(&job->refs, 2);
	snprintf(job->host, sizeof job->host, "%s", host);
	snprintf(job->port, sizeof job->port, "%d", port);
	job->pipe_w = fds[1];
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&thread, &attr, dial_resolve, job) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(job);
		return -1;
	}
	pthread_attr_destroy(&attr);
	d->job = job;
	ev_io_set(&d->resolved, fds[0], EV_READ);
	ev_io_start(loop, &d->resolved);
	return 0;
}

void
dial_cancel(struct dial *d)
{
	if (d->loop == NULL)
		return; /* never started */
	d->done = NULL;
	if (d->job != NULL) {
		ev_io_stop(d->loop, &d->resolved);
		close(d->resolved.fd);
		dial_job_unref(d->job);
		d->job = NULL;
	}
	dial_close_socket(d);
	if (d->addrs != NULL)
		freeaddrinfo(d->addrs);
	d->addrs = d->cur = NULL;
}
