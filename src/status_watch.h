/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether status --watch: the table again on every state change. */
#ifndef TETHER_STATUS_WATCH_H
#define TETHER_STATUS_WATCH_H

#include "ops.h"

/*
 * Draws status (json: its JSON) now and again on every change of a state
 * file, and every few seconds, until SIGINT, SIGTERM or SIGHUP, or until
 * stdout is gone. Returns the exit code: 0 when stopped so.
 */
int status_watch(const struct api_status_opts *, int json);

#endif
