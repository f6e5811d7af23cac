/*
 * The supervisor owns the loop of `tether run`: it starts the session,
 * reconnects it with backoff when it drops, and stops on a signal.
 */
#ifndef TETHER_SUPERVISOR_H
#define TETHER_SUPERVISOR_H

#include "config.h"
#include "log.h"

/* Runs until a signal or an error retrying cannot fix; returns the exit code. */
int supervisor_run(const struct tether_config *, const struct logger *);

#endif
