/* tether: keep a reverse SSH tunnel to a bastion up. Verb dispatch only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/exit.h"
#include "cli.h"
#include "log.h"
#include "supervisor.h"

static const char *
env_from_process(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: tether <verb> [options]\n\n"
	    "verbs:\n"
	    "  run       keep a reverse tunnel up in the foreground\n\n"
	    "tether <verb> --help shows a verb's options; "
	    "tether --version its version.\n");
}

/* SIGHUP reads every source again: the same flags, environment and file. */
struct run_args {
	int argc;
	char **argv;
};

static int
reload_run_config(struct tether_config *out, struct error *err, void *ctx)
{
	const struct run_args *args = ctx;
	struct run_request *req;

	req = malloc(sizeof *req);
	if (req == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (cli_parse_run(args->argc, args->argv, env_from_process, NULL, req,
	    err) == -1) {
		free(req);
		return -1;
	}
	*out = req->cfg;
	free(req);
	return 0;
}

static int
cmd_run(int argc, char **argv)
{
	struct run_args args = { argc, argv };
	struct supervisor_hooks hooks = { reload_run_config, &args };
	struct run_request *req;
	struct logger lg;
	struct error err;
	int rc;

	/* The request holds path buffers: keep it off the stack. */
	req = calloc(1, sizeof *req);
	if (req == NULL) {
		fprintf(stderr, "tether: out of memory\n");
		return TETHER_EXIT_FAILURE;
	}
	error_clear(&err);
	if (cli_parse_run(argc, argv, env_from_process, NULL, req, &err) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		free(req);
		return err.code;
	}
	if (req->help) {
		cli_print_run_help(stdout);
		free(req);
		return TETHER_EXIT_OK;
	}
	log_init(&lg, req->cfg.name, req->cfg.verbose);
	rc = supervisor_run(&req->cfg, &lg, &hooks);
	free(req);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *verb;

	/* A peer closing mid-write is an event to handle, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 ||
	    strcmp(verb, "help") == 0) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	if (strcmp(verb, "-V") == 0 || strcmp(verb, "--version") == 0) {
		printf("tether %s\n", TETHER_VERSION);
		return TETHER_EXIT_OK;
	}
	if (strcmp(verb, "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	fprintf(stderr, "tether: unknown verb '%s'; see tether --help\n", verb);
	return TETHER_EXIT_USAGE;
}
