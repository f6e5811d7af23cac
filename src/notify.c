/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

static uint64_t
notify_parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	/* Digits only: strtoull would take "-1" as 2^64 - 1. */
	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0') ? 0 : (uint64_t)v;
}

void
notify_init(struct notifier *n, const char *path, const char *wd_usec,
    const char *wd_pid, long self_pid)
{
	size_t len;

	memset(n, 0, sizeof *n);
	n->fd = -1;
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof n->addr.sun_path)
		return;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0'; /* an abstract socket */
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* The watchdog is ours only if WATCHDOG_PID is unset or names us. */
	if (wd_pid == NULL || *wd_pid == '\0' ||
	    notify_parse_u64(wd_pid) == (uint64_t)self_pid)
		n->watchdog_usec = notify_parse_u64(wd_usec);
}

void
notify_deinit(struct notifier *n)
{
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
}

int
notify_enabled(const struct notifier *n)
{
	return n->fd != -1;
}

int
notify_send(const struct notifier *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	if (n->fd == -1)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof msg)
		len = sizeof msg - 1;
	if (sendto(n->fd, msg, (size_t)len, MSG_NOSIGNAL,
	        (const struct sockaddr *)&n->addr, n->addr_len) == -1)
		return -1;
	return 0;
}
