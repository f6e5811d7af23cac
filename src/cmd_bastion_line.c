/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether bastion-line: the authorized_keys line that lets a key only listen. */
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "bastion_line.h"
#include "cli.h"
#include "cmd.h"
#include "spec.h"

#define BASTION_LINE_PORTS_MAX 16

enum line_opt {
	L_PORT = 1,
	L_REMOTE,
	L_KEY,
	L_HELP,
};

static const struct cli_option line_options[] = {
	{ L_PORT, 'p', "port", "PORT", "the remote port (repeat for several)" },
	{ L_REMOTE, 'R', "remote", "[BIND:]PORT:HOST:HOSTPORT",
	    "a forward as given to run (repeat for several)" },
	{ L_KEY, 's', "secret-key", "PATH",
	    "the tunnel's private key (or its .pub)" },
	{ L_KEY, 0, "key", "PATH", "same as --secret-key" },
	{ L_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_bastion_line_help(void)
{
	printf(
	    "usage: tether bastion-line {-p PORT | -R [BIND:]PORT:HOST:HOSTPORT}"
	    "... -s KEY\n\nPrint the authorized_keys line for the bastion "
	    "that lets this key do\nnothing but listen on those ports, on "
	    "their bind addresses\n(no shell, no other forwarding).\n\n");
	cli_print_options(stdout, line_options);
}

struct line_args {
	int ports[BASTION_LINE_PORTS_MAX];
	struct forward_spec fw[BASTION_LINE_PORTS_MAX];
	const char *binds[BASTION_LINE_PORTS_MAX];
	const char *key;
	size_t n;
};

static int
line_apply(int id, const char *arg, void *ctx)
{
	struct line_args *a = ctx;
	struct error err;

	if (id == L_KEY) {
		a->key = arg;
		return 0;
	}
	if (a->n == BASTION_LINE_PORTS_MAX) {
		fprintf(stderr, "tether: bastion-line: at most %d forwards\n",
		    BASTION_LINE_PORTS_MAX);
		return -1;
	}
	if (id == L_PORT) {
		a->binds[a->n] = NULL;
		return cli_port_arg("-p", arg, &a->ports[a->n++]);
	}
	error_clear(&err);
	if (spec_parse_forward(arg, &a->fw[a->n], &err) == -1) {
		fprintf(stderr, "tether: -R: %s\n", err.msg);
		return -1;
	}
	a->ports[a->n] = a->fw[a->n].port;
	a->binds[a->n] = a->fw[a->n].bind;
	a->n++;
	return 0;
}

static int
cmd_bastion_line(int argc, char **argv)
{
	struct line_args a;
	char pub[16384];
	int rc;

	memset(&a, 0, sizeof a);
	if (cli_parse_verb(argc, argv, line_options, L_HELP, line_apply, &a,
	        cmd_bastion_line_help, &rc))
		return rc;
	if (a.n == 0 || a.key == NULL) {
		fprintf(stderr,
		    "tether: bastion-line needs -p PORT or -R FORWARD, and "
		    "-s KEY\n");
		return TETHER_EXIT_USAGE;
	}
	if (bastion_line_public_key(a.key, pub, sizeof pub) == -1)
		return TETHER_EXIT_KEY;
	bastion_line_print(stdout, "", a.ports, a.binds, a.n, pub);
	return TETHER_EXIT_OK;
}

const struct cmd_entry cmd_bastion_line_entry = {
	.name = "bastion-line",
	.summary = "print the least-privilege authorized_keys line",
	.exec = cmd_bastion_line,
	.help = cmd_bastion_line_help,
};
