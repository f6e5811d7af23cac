/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The verbs of the tether command, as tmux's cmd_entry: each verb file
 * exports one record that says all main.c and seed.c need to offer it,
 * under tether's name and under the seed's (scitex-tunnel).
 */
#ifndef TETHER_CMD_H
#define TETHER_CMD_H

#include <stdio.h>

#include "ops.h"

struct cmd_entry {
	const char *name;
	const char *alias;   /* the seed's later name, or NULL */
	const char *summary; /* a line of tether --help */
	/* argv starts after the verb; returns the process's exit code. */
	int (*exec)(int argc, char **argv);
	void (*help)(void);
	/* Under the name scitex-tunnel: */
	const char *seed_usage; /* its line of the seed's help; NULL = none */
	int (*seed_exec)(int argc, char **argv); /* NULL = exec */
	int seed_codes; /* exit 0, 1 or 2 only, as the seed's setup/remove */
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_setup_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_remove_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_migrate_entry;
extern const struct cmd_entry cmd_list_apis_entry;
extern const struct cmd_entry cmd_trust_entry;
extern const struct cmd_entry cmd_bastion_line_entry;
extern const struct cmd_entry cmd_bastion_status_entry;
extern const struct cmd_entry cmd_mcp_entry;

/* Every verb, in tether --help's order; NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

/* The verb called name (or by its alias), or NULL. */
const struct cmd_entry *cmd_find(const char *name);

/* A call's text on stdout and stderr (the JSON with json), freed; its code. */
int cmd_print_result(struct api_result *, int json);

/* getenv, in the shape the config layer takes. */
const char *cmd_env_lookup(const char *name, void *ctx);

/* The seed's command lines, when called as scitex-tunnel. */
int seed_main(int argc, char **argv);

#endif
