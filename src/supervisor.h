/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The supervisor owns the loop of `tether run`: it starts the session,
 * reconnects it with backoff when it drops (at once when the network comes
 * back), reloads on SIGHUP, reconnects on SIGUSR1, stops on SIGTERM/SIGINT,
 * and tells the world: sd_notify, the state file, the log.
 */
#ifndef TETHER_SUPERVISOR_H
#define TETHER_SUPERVISOR_H

#include "config.h"
#include "error.h"
#include "log.h"

struct supervisor_hooks {
	/* Builds the config anew (SIGHUP): same sources as at start. */
	int (*reload)(struct tether_config *out, struct error *, void *ctx);
	void *ctx;
};

/* Runs until a signal or an error retrying cannot fix; returns the exit code. */
int supervisor_run(const struct tether_config *, struct logger *,
    const struct supervisor_hooks *);

#endif
