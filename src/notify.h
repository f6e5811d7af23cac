/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * sd_notify(3) spoken directly on NOTIFY_SOCKET (no libsystemd), as OpenSSH
 * does since 9.8: READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1.
 * Silent when the service manager did not ask.
 */
#ifndef TETHER_NOTIFY_H
#define TETHER_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>
#include <stdint.h>

struct notifier {
	int fd; /* -1 = not under a service manager */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec; /* 0 = no watchdog for us */
};

/* From NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (values may be NULL). */
void notify_init(struct notifier *, const char *socket_path,
    const char *watchdog_usec, const char *watchdog_pid, long self_pid);
void notify_deinit(struct notifier *);
int notify_enabled(const struct notifier *);
/* Sends one datagram of newline-separated assignments. */
int notify_send(const struct notifier *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
