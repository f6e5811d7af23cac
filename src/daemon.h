/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Self-managed background mode, for machines with no systemd to run us: a
 * double fork, a pidfile holding an exclusive lock for the daemon's life
 * (so two copies of one tunnel never run), output appended to a log file.
 */
#ifndef TETHER_DAEMON_H
#define TETHER_DAEMON_H

#include <sys/types.h>

#include "error.h"

/*
 * In the caller: 1 with *pid = the daemon's pid (the caller should exit),
 * or -1 with err. In the daemon: 0.
 */
int daemon_start(const char *pidfile, const char *logfile, pid_t *pid,
    struct error *);

/*
 * Opens path (flags as for open(2)) only if it is a regular file of the
 * caller with one link, never through a symlink; -1 with err otherwise.
 */
int daemon_open_own(const char *path, int flags, const char *what,
    struct error *);
/*
 * 1 with *pid = the holder of the pidfile's lock, 0 if none (stale or
 * absent), -1 with err if the file is not the caller's own (see above).
 */
int daemon_holder(const char *pidfile, pid_t *pid, struct error *);
/* daemon_holder's pid, or 0 for none and for a file that is not ours. */
pid_t daemon_running_pid(const char *pidfile);
/* 0 if pid runs as the caller and is tether; -1 with err otherwise. */
int daemon_check_process(pid_t pid, struct error *);
/*
 * SIGTERM to the holder, once daemon_holder and daemon_check_process agree
 * it is our tether; then waits up to timeout_s for the lock to go.
 */
int daemon_stop(const char *pidfile, int timeout_s, struct error *);

#endif
