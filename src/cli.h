/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Command-line parsing without getopt's global state: a table of options,
 * short (-p 22, -p22, -vv) and long (--port 22, --port=22), "--" ends them.
 */
#ifndef TETHER_CLI_H
#define TETHER_CLI_H

#include <stdio.h>

#include "config.h"
#include "error.h"

enum {
	CLI_END = -1,
	CLI_ERROR = -2,
	CLI_OPERAND = -3,
};

struct cli_option {
	int id;
	char short_name; /* 0 = long only */
	const char *long_name;
	const char *arg; /* NULL = takes no argument */
	const char *help;
};

struct cli_parser {
	int argc;
	char **argv;
	int index;           /* next argv element */
	const char *cluster; /* rest of a "-vvp22" cluster */
	int only_operands;   /* after "--" */
};

void cli_parser_init(struct cli_parser *, int argc, char **argv);
/* Returns an option id, CLI_OPERAND (arg = the operand), CLI_END or CLI_ERROR. */
int cli_next(struct cli_parser *, const struct cli_option *, const char **arg,
    struct error *);
void cli_print_options(FILE *, const struct cli_option *);
/*
 * A verb's whole command line against opts: each option but help_id goes
 * to apply() (-1 there: a usage error it has said). Returns 0 to go on, or
 * 1 to stop with *rc: a usage error (2, said on stderr), or help() shown.
 */
int cli_parse_verb(int argc, char **argv, const struct cli_option *opts,
    int help_id, int (*apply)(int id, const char *arg, void *ctx), void *ctx,
    void (*help)(void), int *rc);
/*
 * A port given to flag (1 to 65535) into *port: 0, or -1 having said on
 * stderr what is wrong with it.
 */
int cli_port_arg(const char *flag, const char *arg, int *port);
/* A whole number of unit from lo to hi, the same way. */
int cli_int_arg(const char *flag, const char *arg, long lo, long hi,
    const char *unit, int *out);

/* The options of `tether run`. */
enum run_opt {
	RUN_OPT_PORT = 1,
	RUN_OPT_BASTION,
	RUN_OPT_KEY,
	RUN_OPT_TARGET,
	RUN_OPT_REMOTE,
	RUN_OPT_CONFIG,
	RUN_OPT_KNOWN_HOSTS,
	RUN_OPT_POLICY,
	RUN_OPT_HOST_KEY,
	RUN_OPT_NAME,
	RUN_OPT_OPTION,
	RUN_OPT_VERBOSE,
	RUN_OPT_CHECK,
	RUN_OPT_DAEMON,
	RUN_OPT_PIDFILE,
	RUN_OPT_LOGFILE,
	RUN_OPT_STATE_DIR,
	RUN_OPT_SSH_CONFIG,
	RUN_OPT_IPV4,
	RUN_OPT_IPV6,
	RUN_OPT_JUMP,
	RUN_OPT_HELP,
	RUN_OPT_LAST /* verbs with more options number theirs from here */
};

/*
 * The flags that describe a tunnel, rows of both run's and doctor's
 * tables (each adds its own -p, -c and the rest around them), so the two
 * never drift: what one accepts, the other does.
 */
/* clang-format off */
#define CLI_TUNNEL_OPTIONS \
	{ RUN_OPT_BASTION, 'b', "bastion", "[USER@]HOST[:PORT]", \
	    "the bastion to connect to" }, \
	{ RUN_OPT_KEY, 's', "key", "PATH", \
	    "private key (default: ssh-agent)" }, \
	{ RUN_OPT_KEY, 0, "secret-key", "PATH", \
	    "same as --key (seed's name)" }, \
	{ RUN_OPT_TARGET, 't', "target", "HOST:PORT", \
	    "local target of -p (default localhost:22)" }, \
	{ RUN_OPT_REMOTE, 'R', "remote", "[BIND:]PORT:HOST:HOSTPORT", \
	    "a remote forward; repeat for several" }, \
	{ RUN_OPT_KNOWN_HOSTS, 0, "known-hosts", "FILE", \
	    "known_hosts file (default ~/.ssh/known_hosts)" }, \
	{ RUN_OPT_SSH_CONFIG, 'F', "ssh-config", "FILE|none", \
	    "read this ssh_config for -b's alias, as ssh -F" }, \
	{ RUN_OPT_IPV4, '4', "ipv4", NULL, \
	    "reach the bastion over IPv4 only" }, \
	{ RUN_OPT_IPV6, '6', "ipv6", NULL, \
	    "reach the bastion over IPv6 only" }, \
	{ RUN_OPT_JUMP, 'J', "jump", "[USER@]HOST[:PORT][,...]|none", \
	    "reach the bastion through these jump hosts, as ssh -J" }, \
	{ RUN_OPT_POLICY, 0, "host-key-policy", "strict|accept-new", \
	    "unknown bastion keys: refuse (default) or record" }, \
	{ RUN_OPT_HOST_KEY, 0, "host-key", "SHA256:...", \
	    "pin the bastion's key (no known_hosts needed)" }, \
	{ RUN_OPT_NAME, 'n', "name", "NAME", "the tunnel's name in logs" }, \
	{ RUN_OPT_OPTION, 'o', "option", "KEY=VALUE", \
	    "set any [tunnel] key, e.g. -o keepalive_interval=10" }, \
	{ RUN_OPT_VERBOSE, 'v', "verbose", NULL, "log debug detail" }, \
	{ RUN_OPT_STATE_DIR, 0, "state-dir", "DIR", \
	    "where the live state file is (default RUNTIME_DIR)" }
/* clang-format on */

/* The flags that add up: the first replaces what the file said. */
struct cli_seen {
	int remotes;  /* -R */
	int bastions; /* -b */
};

/*
 * One tunnel flag (an id of CLI_TUNNEL_OPTIONS, or RUN_OPT_PORT) into
 * cfg. Other ids are left alone (0).
 */
int cli_apply_tunnel_flag(struct tether_config *, int id, const char *arg,
    struct cli_seen *, struct error *);

extern const struct cli_option cli_run_options[];

struct run_request {
	struct tether_config cfg;
	int help;   /* --help was asked: print and exit 0 */
	int check;  /* --check: validate, load the key, exit */
	int daemon; /* --daemon: detach with a pidfile */
	char pidfile[CONFIG_PATH_MAX]; /* "" = default */
	char logfile[CONFIG_PATH_MAX]; /* "" = default */
};

/*
 * argv starts after the verb. Layers defaults, the -c file, the environment
 * and the flags, in that order of precedence (flags win).
 */
int cli_parse_run(int argc, char **argv, env_lookup_fn, void *env_ctx,
    struct run_request *, struct error *);
void cli_print_run_help(FILE *);

#endif
