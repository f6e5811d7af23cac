/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One line per event, naming the tunnel. On the journal (JOURNAL_STREAM
 * matches stderr) each goes through the journal's native protocol, with
 * fields to select by (TETHER_TUNNEL=, TETHER_BASTION=, TETHER_EVENT= for
 * the events that matter: journalctl TETHER_EVENT=reconnecting); where the
 * journal's socket cannot be used, as a line with the sd-daemon priority
 * prefix "<N>" instead of a timestamp.
 */
#ifndef TETHER_LOG_H
#define TETHER_LOG_H

#include <stdarg.h>
#include <syslog.h>

#define LOG_NAME_MAX 64

struct logger {
	char name[LOG_NAME_MAX]; /* the tunnel's name */
	int max_level;           /* LOG_INFO, or LOG_DEBUG with -v */
	int journal;             /* stderr is connected to the journal */
	int journal_fd;          /* its native socket; -1 = lines on stderr */
	char bastion[160];       /* TETHER_BASTION=; "" = none yet */
	int fd;                  /* where lines go, normally 2 */
	/* Daemon mode: past rotate_max bytes, path becomes path.1. */
	long long rotate_max; /* 0 = never */
	char rotate_path[1024];
};

void log_init(struct logger *, const char *name, int verbose);
void log_set_name(struct logger *, const char *name);
/* The bastion in use, for the journal's TETHER_BASTION= field. */
void log_set_bastion(struct logger *, const char *bastion);
/* Closes the journal's socket. */
void log_deinit(struct logger *);
/*
 * fd writes to the file path: once it holds max bytes or more, it is
 * renamed path.1 (replacing the last one) and a new path is started, so
 * the log never takes more than about twice max.
 */
void log_set_rotation(struct logger *, const char *path, long long max);
void log_msg(const struct logger *, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *, int level, const char *fmt, va_list)
    __attribute__((format(printf, 3, 0)));
/*
 * log_msg with an event name for the journal (TETHER_EVENT=): connected,
 * forward_bound, forward_refused, disconnected,
 * reconnecting, failover, failback.
 */
void log_event(const struct logger *, int level, const char *event,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_err(lg, ...) log_msg((lg), LOG_ERR, __VA_ARGS__)
#define log_warn(lg, ...) log_msg((lg), LOG_WARNING, __VA_ARGS__)
#define log_notice(lg, ...) log_msg((lg), LOG_NOTICE, __VA_ARGS__)
#define log_info(lg, ...) log_msg((lg), LOG_INFO, __VA_ARGS__)
#define log_debug(lg, ...) log_msg((lg), LOG_DEBUG, __VA_ARGS__)

/* Whether the stream behind fd is the one named by JOURNAL_STREAM. */
int log_fd_is_journal(int fd, const char *journal_stream);

#endif
