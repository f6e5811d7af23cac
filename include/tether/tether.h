/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether's C API: the operations behind `tether setup|status|remove` and
 * the MCP tools, so the command line, the MCP server and library users share
 * one implementation.
 *
 * Every call fills a struct tether_result: success, the exit code (see
 * tether/exit.h), what a terminal user would read on stdout and stderr, and
 * for status a JSON document. Free it with tether_result_free().
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#include <stddef.h>

#include "tether/exit.h"

enum tether_mode {
	TETHER_MODE_SYSTEM, /* /etc/tether, tether@PORT.service */
	TETHER_MODE_USER, /* ~/.config/tether, systemctl --user, or a daemon */
};

struct tether_setup_opts {
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
	int dry_run;          /* print what would be written and run */
	int no_start;         /* write and enable, do not start or wait */
	int wait_seconds;     /* for READY; 0 = default (20) */
	const char *host_key; /* "SHA256:..." pins the bastion; NULL = none */
};

struct tether_result {
	int success;
	int exit_code;
	char *out;  /* text for stdout, never NULL after a call */
	char *err;  /* text for stderr, never NULL after a call */
	char *json; /* status: the tunnels as JSON; else NULL */
};

/* port 0 = every tunnel of the mode(s); all_modes = system and user. */
struct tether_status_opts {
	int port;
	int all_modes;
	enum tether_mode mode;
	int colour; /* ANSI colours in the table (a terminal) */
};

struct tether_remove_opts {
	int port;
	enum tether_mode mode;
	int dry_run;
};

int tether_setup(const struct tether_setup_opts *, struct tether_result *);
int tether_status(const struct tether_status_opts *, struct tether_result *);
int tether_remove(const struct tether_remove_opts *, struct tether_result *);
void tether_result_free(struct tether_result *);

#endif
