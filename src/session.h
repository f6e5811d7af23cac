/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One SSH session to the bastion as a non-blocking state machine on the
 * loop: connect → host key → auth → request forwards → forwarding. It
 * accepts only the forwarded-tcpip channels of the forwards it holds and
 * hands each to a splice. It reports to its owner through callbacks.
 */
#ifndef TETHER_SESSION_H
#define TETHER_SESSION_H

#include <stdint.h>
#include <time.h>

#include <ev.h>

#include "config.h"
#include "error.h"
#include "log.h"

enum session_state {
	SESSION_CONNECTING, /* TCP, banner, key exchange */
	SESSION_AUTHENTICATING,
	SESSION_REQUESTING, /* asking for the forwards */
	SESSION_FORWARDING, /* every forward asked for; serving channels */
	SESSION_CLOSED,
};

struct session;

struct session_events {
	/* The session's or a forward's state changed. */
	void (*on_change)(struct session *, void *arg);
	/* A forward was bound (the first one makes the tunnel ready). */
	void (*on_forward_bound)(struct session *, void *arg);
	/* The session ended; err says why (code 0 = asked to stop). */
	void (*on_closed)(struct session *, const struct error *, void *arg);
};

struct session *session_new(struct ev_loop *, const struct tether_config *,
    const struct logger *, const struct session_events *, void *arg);
/*
 * A jump host's session: no forwards; once authenticated it opens one
 * direct-tcpip channel to next_host:next_port (which must outlive it) and
 * reports on_forward_bound; session_take_next_fd then gives the socket the
 * next hop's session runs over.
 */
struct session *session_new_jump(struct ev_loop *, const struct tether_config *,
    const struct logger *, const struct session_events *, void *arg,
    const char *next_host, int next_port);
int session_take_next_fd(struct session *);
void session_free(struct session *);
/* Who hears of the session from now on (a session handed to a new owner). */
void session_set_events(struct session *, const struct session_events *,
    void *arg);
/* Begins connecting; -1 with err for what retrying cannot fix. */
int session_start(struct session *, struct error *);
/* The same over fd, a socket already joined to the peer (taken, always). */
int session_start_on(struct session *, int fd, struct error *);
/*
 * Adopts a config with the same bastion and credentials but other forwards:
 * bound forwards stay (with their connections), new ones are asked for,
 * dropped ones are released on the bastion. cfg must outlive the session.
 */
void session_reconfigure(struct session *, const struct tether_config *);
/* Closes channels and disconnects; on_closed is not called. */
void session_stop(struct session *);
enum session_state session_get_state(const struct session *);
const char *session_state_name(enum session_state);
size_t session_channel_count(const struct session *);

struct session_forward_info {
	const struct forward_spec *spec;
	const char *label; /* "[bind:]PORT:HOST:HOSTPORT" */
	const char *state; /* pending, requesting, bound, refused */
	int bound_port;
	double probe_rtt;     /* the last good end-to-end probe, s; 0 = none */
	unsigned refusals;    /* in a row; 0 = not refused */
	int not_permitted;    /* refused past stale_port_timeout */
	time_t refused_since; /* the first refusal of the streak; 0 = none */
};

/* Fills up to max entries; returns the number of forwards. */
size_t session_forwards(const struct session *, struct session_forward_info *,
    size_t max);
size_t session_bound_count(const struct session *);
void session_bytes(const struct session *, uint64_t *to_target,
    uint64_t *from_target);
/* Forwarded connections accepted since the session object was made. */
uint64_t session_channels_total(const struct session *);
/* Seconds since the peer last sent anything (0 before it was up). */
double session_silence(const struct session *);
/* The last keepalive's round trip, seconds; 0 = none answered yet. */
double session_keepalive_rtt(const struct session *);

#endif
