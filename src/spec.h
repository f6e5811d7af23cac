/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The small grammars of the command line: a bastion "[user@]host[:port]",
 * a remote forward "[bind:]PORT:HOST:HOSTPORT" and a target "HOST:PORT".
 * IPv6 addresses go in brackets, as with OpenSSH. Pure functions.
 */
#ifndef TETHER_SPEC_H
#define TETHER_SPEC_H

#include "error.h"

#define SPEC_HOST_MAX 256 /* a DNS name is at most 253 characters */
#define SPEC_USER_MAX 33  /* useradd's limit is 32 */
#define SPEC_PORT_MAX 65535

struct bastion_spec {
	char user[SPEC_USER_MAX]; /* "" = the current user */
	char host[SPEC_HOST_MAX];
	int port; /* 22 unless given */
};

struct forward_spec {
	char
	    bind[SPEC_HOST_MAX]; /* remote bind address; "" = bastion default */
	int port;                /* remote port; 0 = the bastion chooses */
	char host[SPEC_HOST_MAX]; /* local target */
	int host_port;
};

int spec_parse_bastion(const char *, struct bastion_spec *, struct error *);
int spec_parse_forward(const char *, struct forward_spec *, struct error *);
/* "HOST:PORT" or a bare "PORT" (meaning localhost). */
int spec_parse_target(const char *, char *host, int *port, struct error *);
/* "0".."65535"; min is 0 or 1. */
int spec_parse_port(const char *, int min, int *port);

/* A host name or address safe to pass on: no option-like or odd bytes. */
int spec_host_is_valid(const char *);
int spec_user_is_valid(const char *);

/* Writes "[bind:]PORT:HOST:HOSTPORT" with brackets where needed. */
void spec_format_forward(const struct forward_spec *, char *, size_t);

#endif
