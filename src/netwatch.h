/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Watches the kernel's routing netlink for a network that came back: a new
 * default route, a new address, or a link going up. The supervisor uses it
 * to cut a reconnect wait short.
 */
#ifndef TETHER_NETWATCH_H
#define TETHER_NETWATCH_H

#include <stddef.h>

#include <ev.h>

#include "log.h"

struct netwatch {
	struct ev_loop *loop;
	const struct logger *log;
	ev_io io;
	int fd;
	void (*on_network_up)(struct netwatch *, const char *why, void *arg);
	void *arg;
};

/* -1 if netlink is unavailable (the tunnel then works without it). */
int netwatch_init(struct netwatch *, struct ev_loop *, const struct logger *,
    void (*on_network_up)(struct netwatch *, const char *, void *), void *arg);
void netwatch_deinit(struct netwatch *);

/*
 * Pure: reads one buffer of netlink messages; returns the reason for the
 * first "network is up" event in it (a static string), or NULL.
 */
const char *netwatch_parse(const void *buf, size_t len);

#endif
