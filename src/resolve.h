/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A name lookup that does not block the loop: getaddrinfo() runs on a
 * thread of its own (it cannot be interrupted or bounded) and wakes the
 * loop through a pipe when it is done. A lookup given up on (resolver_free
 * before it finished) lets its thread end on its own.
 */
#ifndef TETHER_RESOLVE_H
#define TETHER_RESOLVE_H

#include <netdb.h>

#include <ev.h>

struct resolver;

/*
 * Called once, from the loop: res (the caller's, to freeaddrinfo) or NULL
 * with what went wrong. The resolver is done; free it here or later.
 */
typedef void (*resolver_done_fn)(struct resolver *, struct addrinfo *res,
    const char *error, void *arg);

/*
 * Starts looking up host:port (SOCK_STREAM, ai_flags); NULL with errno set
 * if it cannot.
 */
struct resolver *resolver_start(struct ev_loop *, const char *host, int port,
    int ai_flags, resolver_done_fn, void *arg);
/* Whether the answer is still to come. */
int resolver_pending(const struct resolver *);
/* Cancels a lookup still running (done is not called) and frees. */
void resolver_free(struct resolver *);

#endif
