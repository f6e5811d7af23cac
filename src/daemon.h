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

/* The pid holding the pidfile's lock, 0 if none (stale or absent). */
pid_t daemon_running_pid(const char *pidfile);
/* SIGTERM to the holder, then waits up to timeout_s for the lock to go. */
int daemon_stop(const char *pidfile, int timeout_s, struct error *);

#endif
