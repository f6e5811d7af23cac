/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The verbs of the tether command; main.c only dispatches to them. */
#ifndef TETHER_COMMANDS_H
#define TETHER_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* argv starts after the verb. Each returns the process's exit code. */
int cmd_run(int argc, char **argv);
int cmd_setup(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_bastion_line(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
/* remove under the seed's name: nothing on the port is exit 0, as there. */
int cmd_remove_seed(int argc, char **argv);
/* The seed's list-python-apis: the functions of tether/tether.h. */
int cmd_list_apis(int argc, char **argv);

void cmd_run_help(void);
void cmd_setup_help(void);
void cmd_status_help(void);
void cmd_remove_help(void);
void cmd_trust_help(void);
void cmd_bastion_line_help(void);
void cmd_doctor_help(void);
void cmd_migrate_help(void);
void cmd_metrics_help(void);
void cmd_list_apis_help(void);

/*
 * `mcp installation` and `mcp doctor` (argv starts after the subcommand,
 * as mcp_main passes it to its other subcommands).
 */
int mcp_installation(int argc, char **argv);
int mcp_doctor(int argc, char **argv);

/* The seed's command lines, when called as scitex-tunnel. */
int seed_main(int argc, char **argv);

/*
 * The least-privilege authorized_keys line for a tunnel's key: listen on
 * these ports (and, for the end-to-end probe, connect to them), nothing else.
 */
void bastion_line_print(FILE *, const char *indent, const int *ports,
    const char *const *binds, size_t n, const char *pub);

/* getenv, in the shape the config layer takes. */
const char *cmd_env_lookup(const char *name, void *ctx);

#endif
