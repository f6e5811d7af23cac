/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The operations behind `tether setup|status|remove`, the MCP tools and
 * libtether (include/tether/tether.h, whose options are set by name so
 * these structs can change): one implementation for all of them.
 *
 * Every call fills a struct api_result: success, the exit code (see
 * tether/exit.h), what a terminal user would read on stdout and stderr, and
 * for status a JSON document. Free it with api_result_free().
 */
#ifndef TETHER_OPS_H
#define TETHER_OPS_H

#include <stddef.h>

#include "tether/exit.h"

enum tether_mode {
	TETHER_MODE_SYSTEM, /* /etc/tether, tether@PORT.service */
	TETHER_MODE_USER, /* ~/.config/tether, systemctl --user, or a daemon */
};

struct api_setup_opts {
	int port;             /* remote port on the bastion, 1..65535 */
	const char *bastion;  /* [user@]host[:port]; NULL = environment */
	const char *key_path; /* NULL = environment */
	const char *target;   /* HOST:PORT; NULL = localhost:22 */
	const char
	    *known_hosts; /* NULL = the service user's ~/.ssh/known_hosts */
	const char *host_key_policy; /* NULL = strict */
	const char
	    *run_as; /* system mode: the service user; NULL = SUDO_USER */
	enum tether_mode mode;
	int dry_run;            /* print what would be written and run */
	int no_start;           /* write and enable, do not start or wait */
	int wait_seconds;       /* for READY; 0 = default (20) */
	const char *host_key;   /* "SHA256:..." pins the bastion; NULL = none */
	const char *proxy_jump; /* [user@]host[:port][,...]; NULL = none */
};

struct api_result {
	int success;
	int exit_code;
	char *out;  /* text for stdout, never NULL after a call */
	char *err;  /* text for stderr, never NULL after a call */
	char *json; /* status: the tunnels as JSON; else NULL */
};

/* port 0 = every tunnel of the mode(s); all_modes = system and user. */
struct api_status_opts {
	int port;
	int all_modes;
	enum tether_mode mode;
	int colour; /* ANSI colours in the table (a terminal) */
};

struct api_remove_opts {
	int port;
	enum tether_mode mode;
	int dry_run;
};

int api_setup(const struct api_setup_opts *, struct api_result *);
int api_status(const struct api_status_opts *, struct api_result *);
int api_remove(const struct api_remove_opts *, struct api_result *);
void api_result_free(struct api_result *);

#endif
