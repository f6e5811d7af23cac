/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "tether/exit.h"
#include "dial.h"
#include "jump.h"
#include "jump_runner.h"

struct jump_runner {
	const struct tether_config *cfg;
	const struct logger *log;
	struct ev_loop *loop;
	struct jump_chain *chain;
	ev_async stop;
	pthread_t thread;
	int done[2]; /* the thread says "ready" or "failed" here */
	int fd;      /* the bastion's socket, once ready */
	struct error err;
};

static void
jump_runner_tell(struct jump_runner *r)
{
	char c = 1;

	while (write(r->done[1], &c, 1) == -1 && errno == EINTR)
		;
}

static void
jump_runner_on_ready(int fd, void *arg)
{
	struct jump_runner *r = arg;

	r->fd = fd;
	jump_runner_tell(r);
}

static void
jump_runner_on_failed(const struct error *err, void *arg)
{
	struct jump_runner *r = arg;

	error_set(&r->err, err->code, "%s", err->msg);
	jump_chain_free(r->chain);
	r->chain = NULL;
	jump_runner_tell(r);
}

static const struct jump_chain_events jump_runner_events = {
	jump_runner_on_ready,
	jump_runner_on_failed,
};

static void
jump_runner_on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void *
jump_runner_main(void *arg)
{
	struct jump_runner *r = arg;
	struct error err;

	error_clear(&err);
	r->chain = jump_chain_new(r->loop, r->cfg, r->log, &jump_runner_events,
	    r);
	if (r->chain == NULL)
		error_set(&err, TETHER_EXIT_FAILURE, "out of memory");
	else if (jump_chain_start(r->chain, &err) == 0)
		ev_run(r->loop, 0);
	if (err.code != 0) {
		error_set(&r->err, err.code, "%s", err.msg);
		jump_runner_tell(r);
	}
	jump_chain_free(r->chain);
	r->chain = NULL;
	return NULL;
}

/* Waits for the thread's word, up to timeout seconds: 0 when it came. */
static int
jump_runner_wait(struct jump_runner *r, double timeout)
{
	struct pollfd p = { r->done[0], POLLIN, 0 };
	int rc;

	do
		rc = poll(&p, 1, (int)(timeout * 1000));
	while (rc == -1 && errno == EINTR);
	return rc == 1 ? 0 : -1;
}

struct jump_runner *
jump_runner_start(const struct tether_config *cfg, const struct logger *log,
    double timeout, int *fd, struct error *err)
{
	struct jump_runner *r;

	*fd = -1;
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->loop = ev_loop_new(EVFLAG_AUTO)) == NULL ||
	    pipe2(r->done, O_CLOEXEC) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot start the jump hosts' loop: out of memory");
		if (r != NULL && r->loop != NULL)
			ev_loop_destroy(r->loop);
		free(r);
		return NULL;
	}
	r->cfg = cfg;
	r->log = log;
	r->fd = -1;
	ev_async_init(&r->stop, jump_runner_on_stop);
	ev_async_start(r->loop, &r->stop);
	if (pthread_create(&r->thread, NULL, jump_runner_main, r) != 0) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot start the jump hosts' thread");
		close(r->done[0]);
		close(r->done[1]);
		ev_loop_destroy(r->loop);
		free(r);
		return NULL;
	}
	if (jump_runner_wait(r, timeout) == -1)
		error_set(err, TETHER_EXIT_FAILURE,
		    "the jump hosts did not open the way to the bastion within %.0f s",
		    timeout);
	else if (r->fd == -1)
		error_set(err, r->err.code, "%s", r->err.msg);
	if (r->fd == -1) {
		jump_runner_stop(r);
		return NULL;
	}
	*fd = r->fd;
	return r;
}

void
jump_runner_stop(struct jump_runner *r)
{
	if (r == NULL)
		return;
	ev_async_send(r->loop, &r->stop);
	pthread_join(r->thread, NULL);
	ev_loop_destroy(r->loop);
	close(r->done[0]);
	close(r->done[1]);
	free(r);
}

int
jump_runner_connect(ssh_session ssh, const struct tether_config *cfg,
    const struct logger *log, struct jump_runner **runner, struct error *err)
{
	const struct bastion_spec *b = &cfg->bastion;
	double timeout = (double)cfg->connect_timeout;
	int fd;

	*runner = NULL;
	if (cfg->njumps == 0) {
		if (dial_ssh_connect(ssh, b->host, b->port, cfg->address_family,
		        timeout) == SSH_OK)
			return SSH_OK;
		error_set(err, TETHER_EXIT_FAILURE, "%s", ssh_get_error(ssh));
		return SSH_ERROR;
	}
	*runner = jump_runner_start(cfg, log, timeout * (double)cfg->njumps,
	    &fd, err);
	if (*runner == NULL)
		return SSH_ERROR;
	if (ssh_options_set(ssh, SSH_OPTIONS_FD, &fd) < 0) {
		close(fd);
		error_set(err, TETHER_EXIT_FAILURE, "%s", ssh_get_error(ssh));
		return SSH_ERROR;
	}
	if (ssh_connect(ssh) == SSH_OK)
		return SSH_OK;
	error_set(err, TETHER_EXIT_FAILURE, "%s (through %zu jump host(s))",
	    ssh_get_error(ssh), cfg->njumps);
	return SSH_ERROR;
}
