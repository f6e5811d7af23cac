/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ProxyCommand: the bastion reached through a command, as ssh does it. The
 * command runs under /bin/sh -c with its stdin and stdout on one end of a
 * socketpair; the other end is the session's socket. Its stderr comes to
 * the log a line at a time. It dies with tether (PR_SET_PDEATHSIG) and is
 * killed and reaped when the session ends.
 */
#ifndef TETHER_PROXY_H
#define TETHER_PROXY_H

#include <sys/types.h>

#include <ev.h>

#include "error.h"
#include "log.h"

struct proxy {
	struct ev_loop *loop;
	const struct logger *log;
	pid_t pid; /* the command; -1 = none */
	ev_io err; /* its stderr */
	char line[256];
	size_t len;
};

void proxy_init(struct proxy *, struct ev_loop *, const struct logger *);
/* Runs command; the session's end of the socketpair, or -1 with err. */
int proxy_start(struct proxy *, const char *command, struct error *);
/* Kills and reaps the command; its stderr is read no more. */
void proxy_stop(struct proxy *);

#endif
