/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Reaching the bastion without blocking the loop: the name is resolved on a
 * thread of its own (getaddrinfo cannot be interrupted), then a
 * non-blocking TCP connect tries each address. A SYN that goes unanswered
 * for a second is sent again on a fresh socket (three times) rather than
 * waiting out the kernel's growing retransmission timer, so a network that
 * comes back is used at once. The connected socket is handed to libssh.
 */
#ifndef TETHER_DIAL_H
#define TETHER_DIAL_H

#include <netdb.h>

#include <ev.h>
#include <libssh/libssh.h>

#include "resolve.h"

struct dial {
	struct ev_loop *loop;
	struct resolver *resolver; /* the name, until it is resolved */
	ev_io connecting;          /* the socket being connected */
	ev_timer syn_retry;
	struct addrinfo *addrs;
	struct addrinfo *cur;
	int fd;
	int family; /* AF_UNSPEC, or the only family to try (AddressFamily) */
	int syn_retries; /* fresh SYNs sent for this address */
	void (*done)(struct dial *, int fd, const char *error, void *arg);
	void *arg;
	char error[256];
};

/* Starts; done() is called once, from the loop, unless cancelled first. */
int dial_start(struct dial *, struct ev_loop *, const char *host, int port,
    int family,
    void (*done)(struct dial *, int fd, const char *error, void *arg),
    void *arg);
/* Stops everything; a resolver still running finishes on its own. */
void dial_cancel(struct dial *);
/*
 * The same dial for commands that wait (trust, doctor, setup's key
 * fetch): every address in turn, on a loop of its own, within timeout
 * seconds. The connected fd, or -1 with why set.
 */
int dial_wait(const char *host, int port, int family, double timeout, char *why,
    size_t whysz);
/*
 * ssh_connect for those commands, over dial_wait's socket: every address
 * of the bastion is tried (localhost may list ::1 first while sshd
 * listens on 127.0.0.1 only), as run does. Without a socket, libssh's own
 * connect says why, in its words. libssh's return value.
 */
int dial_ssh_connect(ssh_session, const char *host, int port, int family,
    double timeout);

#endif
