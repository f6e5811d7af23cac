/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static int
probe_on_data(ssh_session session, ssh_channel channel, void *data,
    uint32_t len, int is_stderr, void *arg)
{
	struct probe *p = arg;

	(void)session;
	(void)channel;
	(void)data;
	(void)is_stderr;
	p->got_data = 1;
	return (int)len; /* the banner proves the path; keep none of it */
}

static void
probe_on_eof(ssh_session session, ssh_channel channel, void *arg)
{
	struct probe *p = arg;

	(void)session;
	(void)channel;
	p->closed = 1;
}

static void
probe_on_close(ssh_session session, ssh_channel channel, void *arg)
{
	struct probe *p = arg;

	(void)session;
	(void)channel;
	p->closed = 1;
}

int
probe_active(const struct probe *p)
{
	return p->channel != NULL;
}

int
probe_start(struct probe *p, ssh_session ssh, const char *host, int port,
    double now)
{
	memset(p, 0, sizeof *p);
	p->channel = ssh_channel_new(ssh);
	if (p->channel == NULL)
		return -1;
	snprintf(p->host, sizeof p->host, "%s", host);
	p->port = port;
	p->started = now;
	ssh_callbacks_init(&p->cb);
	p->cb.userdata = p;
	p->cb.channel_data_function = probe_on_data;
	p->cb.channel_eof_function = probe_on_eof;
	p->cb.channel_close_function = probe_on_close;
	ssh_set_channel_callbacks(p->channel, &p->cb);
	return 0;
}

enum probe_result
probe_step(struct probe *p, double now, double quiet, double timeout)
{
	int rc;

	if (p->channel == NULL)
		return PROBE_FAILED;
	if (!p->opened) {
		rc = ssh_channel_open_forward(p->channel, p->host, p->port,
		    "127.0.0.1", 0);
		if (rc == SSH_ERROR) {
			/*
			 * libssh gives the reason only in its message: (1) is
			 * "administratively prohibited", the bastion forbids
			 * probes; anything else (a refused connect) means the
			 * listener is gone.
			 */
			return strstr(ssh_get_error(
			                  ssh_channel_get_session(p->channel)),
			           "error (1)") != NULL ?
			    PROBE_REFUSED :
			    PROBE_FAILED;
		}
		if (rc == SSH_OK) {
			p->opened = 1;
			p->rtt = now - p->started;
		}
	}
	if (p->got_data) {
		p->rtt = now - p->started;
		return PROBE_OK;
	}
	if (p->closed)
		return PROBE_FAILED;
	if (p->opened && now - p->started >= quiet)
		return PROBE_OK;
	if (now - p->started >= timeout)
		return PROBE_FAILED;
	return PROBE_RUNNING;
}

void
probe_stop(struct probe *p)
{
	if (p->channel == NULL)
		return;
	ssh_remove_channel_callbacks(p->channel, &p->cb);
	ssh_channel_free(p->channel);
	p->channel = NULL;
}
