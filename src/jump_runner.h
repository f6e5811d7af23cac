/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The jump chain for blocking code (doctor, trust): the chain runs on a
 * loop in a thread of its own, and the caller gets the bastion's socket to
 * hand to a blocking libssh session. Nothing but that thread touches the
 * chain's sessions.
 */
#ifndef TETHER_JUMP_RUNNER_H
#define TETHER_JUMP_RUNNER_H

#include <libssh/libssh.h>

#include "config.h"
#include "error.h"
#include "log.h"

struct jump_runner;

/*
 * Builds cfg's chain (cfg->njumps > 0), waiting up to timeout seconds:
 * the runner and the bastion's socket (*fd, the caller's to close), or
 * NULL with err naming the hop that failed. cfg and log must outlive it.
 */
struct jump_runner *jump_runner_start(const struct tether_config *,
    const struct logger *, double timeout, int *fd, struct error *);
/* Closes the chain and joins its thread. NULL is fine. */
void jump_runner_stop(struct jump_runner *);
/*
 * ssh_connect for blocking code, through cfg's jump hosts if it has any
 * (*runner then holds the chain until jump_runner_stop), else dialed as
 * dial_ssh_connect does. SSH_OK, or SSH_ERROR with err naming what failed.
 */
int jump_runner_connect(ssh_session, const struct tether_config *,
    const struct logger *, struct jump_runner **, struct error *);

#endif
