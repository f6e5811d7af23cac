/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The end-to-end probe: a connected session is not a working tunnel (the
 * bastion can lose the listener). A probe opens a direct-tcpip channel
 * through the session to the bastion's own end of a forward; the bastion's
 * listener hands it back to us as a forwarded connection, which goes to the
 * local target. Data back (a banner, as sshd sends) or a connection that
 * stays open proves the whole path.
 */
#ifndef TETHER_PROBE_H
#define TETHER_PROBE_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

enum probe_result {
	PROBE_RUNNING,
	PROBE_OK,      /* data came back, or the path stayed open */
	PROBE_REFUSED, /* the bastion would not open the channel */
	PROBE_FAILED,  /* closed before proving anything, or timed out */
};

struct probe {
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	char host[256];
	int port;
	int opened;
	int got_data;
	int closed;
	double started; /* seconds, the loop's clock */
	double rtt;     /* open → first data (or → open), seconds */
};

/* Starts a probe of host:port as the bastion sees it; -1 if it cannot. */
int probe_start(struct probe *, ssh_session, const char *host, int port,
    double now);
/*
 * Moves it on; quiet: how long an open, silent path must stay open to
 * count as working; timeout: the whole probe's deadline.
 */
enum probe_result probe_step(struct probe *, double now, double quiet,
    double timeout);
/* Closes and frees its channel; safe when idle. */
void probe_stop(struct probe *);
int probe_active(const struct probe *);

#endif
