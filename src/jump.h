/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The jump hosts on the way to the bastion (ssh's ProxyJump), as a chain of
 * sessions: the first is dialed, each one after runs over a direct-tcpip
 * channel of the one before, and the last one's channel is the bastion's
 * socket. Each hop checks its own host key, offers its own key, and sends
 * its own keepalives: a frozen hop is found as a frozen bastion is.
 */
#ifndef TETHER_JUMP_H
#define TETHER_JUMP_H

#include <ev.h>

#include "config.h"
#include "error.h"
#include "log.h"

struct jump_chain;

struct jump_chain_events {
	/* The last hop reached the bastion: fd is its socket, now the owner's. */
	void (*on_ready)(int fd, void *arg);
	/* A hop failed (the chain is dead); called from the loop, never from
	 * inside jump_chain_start, and may free the chain. */
	void (*on_failed)(const struct error *, void *arg);
};

/* cfg is the tunnel's (its jumps and bastion); the chain keeps copies. */
struct jump_chain *jump_chain_new(struct ev_loop *,
    const struct tether_config *, const struct logger *,
    const struct jump_chain_events *, void *arg);
/* Dials the first hop; -1 with err for what retrying cannot fix. */
int jump_chain_start(struct jump_chain *, struct error *);
/*
 * Everything past a frozen hop goes silent with it: 1, with err naming the
 * outermost hop silent for min seconds or more, if there is one.
 */
int jump_chain_blame_silence(const struct jump_chain *, double min,
    struct error *);
/* Why a hop failed, once one has (reported or about to be); else NULL. */
const struct error *jump_chain_failure(const struct jump_chain *);
/* Closes every hop's session. NULL is fine. */
void jump_chain_free(struct jump_chain *);
/*
 * The config a hop's session runs with: the tunnel's, with the hop's own
 * host, user, port and key, and no forwards, pin or way of its own.
 */
void jump_config(const struct tether_config *tunnel, size_t hop,
    struct tether_config *out);
/* The same, reaching that hop through the hops before it. */
void jump_config_through(const struct tether_config *tunnel, size_t hop,
    struct tether_config *out);

#endif
