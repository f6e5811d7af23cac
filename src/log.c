/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* The journal's native socket, or -1 (no journal here: lines instead). */
static int
log_open_journal(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", LOG_JOURNAL_SOCKET);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
log_init(struct logger *lg, const char *name, int verbose)
{
	memset(lg, 0, sizeof *lg);
	lg->fd = STDERR_FILENO;
	lg->max_level = verbose ? LOG_DEBUG : LOG_INFO;
	lg->journal = log_fd_is_journal(lg->fd, getenv("JOURNAL_STREAM"));
	lg->journal_fd = lg->journal ? log_open_journal() : -1;
	log_set_name(lg, name);
}

void
log_set_rotation(struct logger *lg, const char *path, long long max)
{
	if ((size_t)snprintf(lg->rotate_path, sizeof lg->rotate_path, "%s",
	        path) < sizeof lg->rotate_path)
		lg->rotate_max = max;
}

/*
 * The descriptor stays the same number (stderr, and stdout with it), so
 * whatever else writes there follows. A new file that cannot be made
 * exclusively (someone put one there) leaves the old one in use.
 */
static void
log_rotate(const struct logger *lg)
{
	char old[sizeof lg->rotate_path + 4];
	struct stat st;
	int fd;

	if (lg->rotate_max <= 0 || fstat(lg->fd, &st) == -1 ||
	    (long long)st.st_size < lg->rotate_max)
		return;
	snprintf(old, sizeof old, "%s.1", lg->rotate_path);
	if (rename(lg->rotate_path, old) == -1)
		return;
	fd = open(lg->rotate_path,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return;
	dup2(fd, lg->fd);
	if (lg->fd == STDERR_FILENO)
		dup2(fd, STDOUT_FILENO);
	close(fd);
}

void
log_set_name(struct logger *lg, const char *name)
{
	snprintf(lg->name, sizeof lg->name, "%s", name != NULL ? name : "");
}

void
log_set_bastion(struct logger *lg, const char *bastion)
{
	snprintf(lg->bastion, sizeof lg->bastion, "%s", bastion);
}

void
log_deinit(struct logger *lg)
{
	if (lg->journal_fd != -1)
		close(lg->journal_fd);
	lg->journal_fd = -1;
}

/* The entry as the journal's fields (one per line, no newline in any). */
static int
log_send_journal(const struct logger *lg, int level, const char *event,
    const char *msg)
{
	char entry[LOG_LINE_MAX + 512];
	int n;

	n = snprintf(entry, sizeof entry,
	    "MESSAGE=%s: %s\nPRIORITY=%d\nSYSLOG_IDENTIFIER=tether\n"
	    "TETHER_TUNNEL=%s\n%s%s%s%s%s%s",
	    lg->name, msg, level, lg->name,
	    lg->bastion[0] != '\0' ? "TETHER_BASTION=" : "", lg->bastion,
	    lg->bastion[0] != '\0' ? "\n" : "",
	    event != NULL ? "TETHER_EVENT=" : "", event != NULL ? event : "",
	    event != NULL ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof entry)
		return -1;
	return send(lg->journal_fd, entry, (size_t)n, MSG_NOSIGNAL) == n ? 0 :
	                                                                   -1;
}

int
log_fd_is_journal(int fd, const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (journal_stream == NULL)
		return 0;
	errno = 0;
	dev = strtoull(journal_stream, &end, 10);
	if (errno != 0 || end == journal_stream || *end != ':')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	if (fstat(fd, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Text from outside (a bastion's banner, a path) must not forge lines. */
static void
log_scrub(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

void
log_msg(const struct logger *lg, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, level, fmt, ap);
	va_end(ap);
}

static void log_vevent(const struct logger *, int, const char *, const char *,
    va_list) __attribute__((format(printf, 4, 0)));

void
log_vmsg(const struct logger *lg, int level, const char *fmt, va_list ap)
{
	log_vevent(lg, level, NULL, fmt, ap);
}

void
log_event(const struct logger *lg, int level, const char *event,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vevent(lg, level, event, fmt, ap);
	va_end(ap);
}

static void
log_vevent(const struct logger *lg, int level, const char *event,
    const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX - 128], stamp[32];
	struct tm tm;
	time_t now;
	int n;

	if (lg == NULL || level > lg->max_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	log_scrub(msg);
	if (lg->journal_fd != -1 &&
	    log_send_journal(lg, level, event, msg) == 0)
		return;

	if (lg->journal) {
		n = snprintf(line, sizeof line, "<%d>%s: %s\n", level, lg->name,
		    msg);
	} else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		n = snprintf(line, sizeof line, "%s tether[%s]: %s\n", stamp,
		    lg->name, msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* One write per line keeps lines whole when several writers share it. */
	if (write(lg->fd, line, (size_t)n) == -1)
		return;
	log_rotate(lg);
}
