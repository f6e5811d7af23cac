/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `tether run`'s command line: the input, split on NUL bytes, is the argv
 * after the verb; its first byte picks which variables a fake environment
 * holds (no getenv). cli_parse_run layers defaults, a -c file, the
 * environment and the flags, then finishes the config.
 *
 * No file is ever read: the fuzzer works in an empty directory of its own,
 * and every -c/--config path has its '/' turned into '_' first (found with
 * the same option parser, so "-vc/etc/x" and "--config=/x" are caught), so
 * a -c only ever names a missing file in that directory.
 */
#include <errno.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz_common.h"

#define FUZZ_ARGC_MAX 128

static char fuzz_dir[] = "/tmp/tether-fuzz-cli-XXXXXX";

static void
fuzz_cleanup(void)
{
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(fuzz_dir) == NULL || chdir(fuzz_dir) == -1) {
		perror("fuzz_cli: cannot make an empty working directory");
		abort();
	}
	atexit(fuzz_cleanup);
	return 0;
}

struct fake_env {
	const char *vars[16];   /* name, value, ..., NULL */
};

static const char *
fake_lookup(const char *name, void *ctx)
{
	const struct fake_env *env = ctx;
	size_t i;

	for (i = 0; env->vars[i] != NULL; i += 2) {
		if (strcmp(env->vars[i], name) == 0)
			return env->vars[i + 1];
	}
	return NULL;
}

static void
fake_env_build(struct fake_env *env, uint8_t bits)
{
	size_t n = 0;

	if (bits & 0x01) {
		env->vars[n++] = "HOME";
		env->vars[n++] = FUZZ_HOME;
	}
	if (bits & 0x02) {
		env->vars[n++] = "SSH_AUTH_SOCK";
		env->vars[n++] = "/nonexistent/agent.sock";
	}
	if (bits & 0x04) {
		env->vars[n++] = "TETHER_BASTION";
		env->vars[n++] = "fuzz@bastion.invalid:2222";
	}
	if (bits & 0x08) {
		env->vars[n++] = "SCITEX_TUNNEL_BASTION_SERVER";
		env->vars[n++] = (bits & 0x40) ? "bad host!" : "[2001:db8::1]:22";
	}
	if (bits & 0x10) {
		env->vars[n++] = "TETHER_KEY";
		env->vars[n++] = "~/.ssh/id_fuzz";
	}
	if (bits & 0x20) {
		env->vars[n++] = "TETHER_DEBUG";
		env->vars[n++] = (bits & 0x80) ? "loud" : "yes";
	}
	env->vars[n] = NULL;
}

/* Makes every -c/--config argument a relative name with no '/'. */
static void
neutralise_config_paths(int argc, char **argv)
{
	struct cli_parser p;
	struct error err;
	const char *arg;
	char *q;
	int id;

	error_clear(&err);
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, cli_run_options, &arg, &err)) != CLI_END &&
	    id != CLI_ERROR) {
		if (id != RUN_OPT_CONFIG)
			continue;
		/* arg points into one of our own argv strings. */
		for (q = (char *)(uintptr_t)arg; *q != '\0'; q++) {
			if (*q == '/')
				*q = '_';
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run_request req;
	struct fake_env env;
	char *buf, *argv[FUZZ_ARGC_MAX + 1], *p, *end;
	struct error err;
	int argc = 0;

	if (size < 1)
		return -1;
	fake_env_build(&env, data[0]);
	/* Every piece between NULs is an argument; an empty input has none. */
	if ((buf = malloc(size)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	end = buf + size - 1;
	if (size > 1) {
		for (p = buf; argc < FUZZ_ARGC_MAX; ) {
			argv[argc++] = p;
			p += strlen(p) + 1;
			if (p > end)
				break;
		}
	}
	argv[argc] = NULL;
	neutralise_config_paths(argc, argv);
	error_clear(&err);
	if (cli_parse_run(argc, argv, fake_lookup, &env, &req, &err) == 0) {
		FUZZ_CHECK(!error_is_set(&err));
		FUZZ_CHECK(FUZZ_TERMINATED(req.pidfile));
		FUZZ_CHECK(FUZZ_TERMINATED(req.logfile));
		if (!req.help)
			fuzz_check_finished_config(&req.cfg);
	} else {
		FUZZ_CHECK(error_is_set(&err) && err.code != 0);
		FUZZ_CHECK(FUZZ_TERMINATED(err.msg));
	}
	free(buf);
	return 0;
}
