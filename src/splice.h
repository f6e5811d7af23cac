/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A splice joins one forwarded SSH channel to one local TCP connection and
 * copies both ways with backpressure:
 *   local → bastion: read the socket only while the channel's window is open
 *                    and the bastion socket has no unsent data;
 *   bastion → local: take from libssh only what the socket accepts (plus a
 *                    bounded buffer); the rest stays in libssh, whose window
 *                    then stops the sender.
 * EOF travels each way on its own (half-close).
 *
 * libssh calls back into a splice while it processes packets, possibly from
 * inside another splice's call into libssh, so a splice is never freed on
 * the spot: it is marked dead and reaped by splice_set_reconcile().
 */
#ifndef TETHER_SPLICE_H
#define TETHER_SPLICE_H

#include <sys/queue.h>
#include <netdb.h>
#include <stdint.h>

#include <ev.h>
#include <libssh/libssh.h>

#include "log.h"
#include "ratelimit.h"

#define SPLICE_BUFFER_SIZE ((size_t)64 * 1024)

struct splice;
TAILQ_HEAD(splice_list, splice);

/* All splices of one SSH session; owned by the session. */
struct splice_set {
	struct ev_loop *loop;
	const struct logger *log;
	unsigned char *scratch; /* local → bastion copy space */
	struct splice_list all;
	struct splice_list dirty;   /* watchers to reconcile, or to reap */
	struct splice_list starved; /* waiting for the bastion's window */
	size_t count;               /* live splices */
	uint64_t opened;            /* connections carried, ever */
	size_t held;                /* bytes libssh holds for them all */
	struct ratelimit budget;    /* per-connection log lines */
	ev_timer log_report;        /* says how many were not logged */
	int write_blocked;          /* the bastion socket has unsent data */
	double connect_timeout;     /* seconds to reach the target */
	uint32_t window;            /* each channel's receive window */
	uint64_t bytes_to_local;
	uint64_t bytes_to_remote;
};

int splice_set_init(struct splice_set *, struct ev_loop *,
    const struct logger *);
/* Closes and frees every splice. */
void splice_set_deinit(struct splice_set *);
/*
 * Brings every changed splice's watchers in line with its state and frees
 * dead ones. write_blocked: the bastion socket cannot take more now.
 */
void splice_set_reconcile(struct splice_set *, int write_blocked);
void splice_set_close_all(struct splice_set *);
/* Splices the bastion has not closed: what max_channels bounds. */
size_t splice_set_open_count(const struct splice_set *);

/*
 * Takes ownership of an accepted channel and connects to the target
 * (non-blocking, trying each address). label names it in logs.
 */
struct splice *splice_new(struct splice_set *, ssh_channel,
    const struct addrinfo *target, const char *label);
/* The same for a socket already connected (a jump host's socketpair). */
struct splice *splice_new_connected(struct splice_set *, ssh_channel, int fd,
    const char *label);

#endif
