/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "netwatch.h"

const char *
netwatch_parse(const void *buf, size_t len)
{
	const struct nlmsghdr *nh;
	const struct rtmsg *rt;
	const struct ifinfomsg *ifi;
	int left = len > (size_t)0x7fffffff ? 0x7fffffff : (int)len;

	/*
	 * NLMSG_NEXT steps by the aligned length: after an unpadded last
	 * message left is -1..-3, which (unsigned)left would make huge.
	 */
	for (nh = buf; left >= (int)sizeof *nh && NLMSG_OK(nh, (unsigned)left);
	     nh = NLMSG_NEXT(nh, left)) {
		switch (nh->nlmsg_type) {
		case RTM_NEWROUTE:
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *rt))
				break;
			rt = NLMSG_DATA(nh);
			if (rt->rtm_dst_len == 0 &&
			    rt->rtm_table == RT_TABLE_MAIN)
				return "a default route appeared";
			break;
		case RTM_NEWADDR:
			if (nh->nlmsg_len >=
			    NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
				return "an address appeared";
			break;
		case RTM_NEWLINK:
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
				break;
			ifi = NLMSG_DATA(nh);
			if ((ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) ==
			        (IFF_UP | IFF_RUNNING) &&
			    !(ifi->ifi_flags & IFF_LOOPBACK))
				return "a link came up";
			break;
		default:
			break;
		}
	}
	return NULL;
}

static void
netwatch_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct netwatch *nw = w->data;
	/* Netlink messages are aligned to 4: keep the buffer so too. */
	uint32_t buf[2048];
	const char *why = NULL, *found;
	ssize_t n;

	for (;;) {
		n = recv(nw->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			break;
		found = netwatch_parse(buf, (size_t)n);
		if (found != NULL)
			why = found;
	}
	if (n == -1 && errno == ENOBUFS)
		why = "route events overflowed"; /* something surely changed */
	if (why != NULL)
		nw->on_network_up(nw, why, nw->arg);
}

int
netwatch_init(struct netwatch *nw, struct ev_loop *loop,
    const struct logger *log,
    void (*on_network_up)(struct netwatch *, const char *, void *), void *arg)
{
	struct sockaddr_nl sa;

	memset(nw, 0, sizeof *nw);
	nw->loop = loop;
	nw->log = log;
	nw->on_network_up = on_network_up;
	nw->arg = arg;
	nw->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (nw->fd == -1) {
		log_debug(log,
		    "no netlink (%s): network changes will not cut "
		    "reconnect waits short",
		    strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	if (bind(nw->fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		log_debug(log, "cannot join netlink route groups: %s",
		    strerror(errno));
		close(nw->fd);
		nw->fd = -1;
		return -1;
	}
	ev_io_init(&nw->io, netwatch_on_readable, nw->fd, EV_READ);
	nw->io.data = nw;
	ev_io_start(loop, &nw->io);
	return 0;
}

void
netwatch_deinit(struct netwatch *nw)
{
	if (nw->fd == -1)
		return;
	ev_io_stop(nw->loop, &nw->io);
	close(nw->fd);
	nw->fd = -1;
}
