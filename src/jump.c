/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "jump.h"
#include "session.h"

struct jump_hop {
	struct jump_chain *chain;
	size_t index;
	struct tether_config cfg;
	struct bastion_spec next; /* where its channel goes */
	struct session *session;
};

struct jump_chain {
	struct ev_loop *loop;
	const struct logger *log;
	const struct jump_chain_events *events;
	void *arg;
	struct jump_hop hops[CONFIG_JUMPS_MAX];
	size_t nhops;
	struct error err; /* why it failed, said from report */
	ev_timer report;
};

static void jump_on_forward_bound(struct session *, void *);
static void jump_on_closed(struct session *, const struct error *, void *);
static void jump_on_report(struct ev_loop *, ev_timer *, int);

static const struct session_events jump_session_events = {
	NULL,
	jump_on_forward_bound,
	jump_on_closed,
};

void
jump_config(const struct tether_config *tunnel, size_t hop,
    struct tether_config *out)
{
	const struct jump_spec *j = &tunnel->jumps[hop];

	*out = *tunnel;
	out->bastion = j->dest;
	out->bastions[0] = j->dest;
	out->nbastions = 1;
	snprintf(out->bastion_alias, sizeof out->bastion_alias, "%s",
	    strcmp(j->alias, j->dest.host) != 0 ? j->alias : "");
	if (j->key_path[0] != '\0') {
		memcpy(out->key_path, j->key_path, sizeof out->key_path);
		out->nmore_keys = 0;
		out->certificate_file[0] = '\0';
	}
	out->nforwards = 0;
	out->port = -1;
	out->host_key_pin[0] = '\0'; /* it pins the bastion's key */
	out->proxy_command[0] = '\0';
	out->njumps = 0;
	out->probe_interval = 0;
	out->exit_on_forward_failure = 0;
}

void
jump_config_through(const struct tether_config *tunnel, size_t hop,
    struct tether_config *out)
{
	jump_config(tunnel, hop, out);
	memcpy(out->jumps, tunnel->jumps, hop * sizeof out->jumps[0]);
	out->njumps = hop;
}

struct jump_chain *
jump_chain_new(struct ev_loop *loop, const struct tether_config *cfg,
    const struct logger *log, const struct jump_chain_events *events, void *arg)
{
	struct jump_chain *c;
	size_t i;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->log = log;
	c->events = events;
	c->arg = arg;
	c->nhops = cfg->njumps;
	ev_init(&c->report, jump_on_report);
	c->report.data = c;
	for (i = 0; i < c->nhops; i++) {
		struct jump_hop *h = &c->hops[i];

		h->chain = c;
		h->index = i;
		jump_config(cfg, i, &h->cfg);
		/* Copied: a reload frees the tunnel's config, not the chain. */
		h->next = i + 1 < c->nhops ? cfg->jumps[i + 1].dest :
		                             cfg->bastion;
		h->session = session_new_jump(loop, &h->cfg, log,
		    &jump_session_events, h, h->next.host, h->next.port);
		if (h->session == NULL) {
			jump_chain_free(c);
			return NULL;
		}
	}
	return c;
}

void
jump_chain_free(struct jump_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	ev_timer_stop(c->loop, &c->report);
	for (i = 0; i < c->nhops; i++)
		session_free(c->hops[i].session);
	free(c);
}

/* Says why the chain broke, from the loop: the owner may free it then. */
static void
jump_fail(struct jump_chain *c, size_t i, const struct error *err)
{
	if (ev_is_active(&c->report))
		return; /* the first failure is the cause */
	error_set(&c->err, err->code != 0 ? err->code : TETHER_EXIT_FAILURE,
	    "hop %zu of %zu to the bastion: %s", i + 1, c->nhops,
	    err->code != 0 ? err->msg : "closed");
	ev_timer_set(&c->report, 0, 0);
	ev_timer_start(c->loop, &c->report);
}

static void
jump_on_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct jump_chain *c = w->data;

	c->events->on_failed(&c->err, c->arg);
}

int
jump_chain_start(struct jump_chain *c, struct error *err)
{
	return session_start(c->hops[0].session, err);
}

const struct error *
jump_chain_failure(const struct jump_chain *c)
{
	return c->err.code != 0 ? &c->err : NULL;
}

int
jump_chain_blame_silence(const struct jump_chain *c, double min,
    struct error *err)
{
	const struct jump_hop *h;
	double quiet;
	size_t i;

	for (i = 0; i < c->nhops; i++) {
		h = &c->hops[i];
		quiet = session_silence(h->session);
		if (quiet < min)
			continue;
		error_set(err, TETHER_EXIT_FAILURE,
		    "hop %zu of %zu to the bastion: jump host %s:%d did not answer for %.0f s (keepalive_interval %d s x keepalive_count %d)",
		    i + 1, c->nhops, h->cfg.bastion.host, h->cfg.bastion.port,
		    quiet, h->cfg.keepalive_interval, h->cfg.keepalive_count);
		return 1;
	}
	return 0;
}

static void
jump_on_forward_bound(struct session *s, void *arg)
{
	struct jump_hop *h = arg;
	struct jump_chain *c = h->chain;
	int fd = session_take_next_fd(s);
	struct error err;

	if (h->index + 1 == c->nhops) {
		c->events->on_ready(fd, c->arg);
		return;
	}
	error_clear(&err);
	if (session_start_on(c->hops[h->index + 1].session, fd, &err) == -1)
		jump_fail(c, h->index + 1, &err);
}

static void
jump_on_closed(struct session *s, const struct error *err, void *arg)
{
	struct jump_hop *h = arg;

	(void)s;
	jump_fail(h->chain, h->index, err);
}
