/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libtether's public face (include/tether/tether.h): options by name,
 * checked here the way the command line checks its flags, then the same
 * api_setup/api_status/api_remove the command line and MCP server call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/tether.h"
#include "ops.h"
#include "spec.h"

enum option_id {
	OPT_PORT,
	OPT_BASTION,
	OPT_KEY,
	OPT_TARGET,
	OPT_KNOWN_HOSTS,
	OPT_HOST_KEY_POLICY,
	OPT_HOST_KEY,
	OPT_RUN_AS,
	OPT_USER,
	OPT_DRY_RUN,
	OPT_NO_START,
	OPT_WAIT,
	OPT_PROXY_JUMP,
	OPT_COUNT
};

static const char *const option_names[OPT_COUNT] = { "port", "bastion", "key",
	"target", "known_hosts", "host_key_policy", "host_key", "run_as",
	"user", "dry_run", "no_start", "wait", "proxy_jump" };

struct tether_options {
	char *values[OPT_COUNT]; /* NULL = not set */
};

struct tether_result {
	struct api_result r;
};

const char *
tether_version(void)
{
	return TETHER_VERSION;
}

tether_options *
tether_options_new(void)
{
	return calloc(1, sizeof(struct tether_options));
}

void
tether_options_free(tether_options *o)
{
	int i;

	if (o == NULL)
		return;
	for (i = 0; i < OPT_COUNT; i++)
		free(o->values[i]);
	free(o);
}

int
tether_options_set(tether_options *o, const char *name, const char *value)
{
	char *copy = NULL;
	int i;

	for (i = 0; i < OPT_COUNT &&
	     (name == NULL || strcmp(name, option_names[i]) != 0);
	     i++)
		;
	if (o == NULL || i == OPT_COUNT) {
		errno = EINVAL;
		return -1;
	}
	if (value != NULL && (copy = strdup(value)) == NULL)
		return -1;
	free(o->values[i]);
	o->values[i] = copy;
	return 0;
}

/* A result that says, as the command line would, what was wrong. */
static tether_result *
result_refused(const char *message, int code)
{
	tether_result *t = calloc(1, sizeof *t);
	size_t sz = strlen(message) + 2;

	if (t == NULL)
		return NULL;
	t->r.out = strdup("");
	t->r.err = malloc(sz);
	if (t->r.out == NULL || t->r.err == NULL) {
		tether_result_free(t);
		return NULL;
	}
	snprintf(t->r.err, sz, "%s\n", message);
	t->r.exit_code = code;
	return t;
}

/* yes/no (also 1/0, true/false) into *on; -1 if it is neither. */
static int
option_bool(const tether_options *o, enum option_id id, int *on)
{
	const char *v = o->values[id];

	*on = 0;
	if (v == NULL || strcmp(v, "no") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "true") == 0) {
		*on = 1;
		return 0;
	}
	return -1;
}

/* A whole number from lo to hi into *n (unset: 0); -1 if it is not. */
static int
option_int(const tether_options *o, enum option_id id, long lo, long hi, int *n)
{
	const char *v = o->values[id];
	char *end;
	long x;

	*n = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	x = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || x < lo || x > hi)
		return -1;
	*n = (int)x;
	return 0;
}

/* "option 'NAME': 'VALUE' is not WHAT", as a refused result. */
static tether_result *
result_bad_option(const tether_options *o, enum option_id id, const char *what)
{
	char msg[200];

	snprintf(msg, sizeof msg, "option '%s': '%.40s' is not %s",
	    option_names[id], o->values[id], what);
	return result_refused(msg, TETHER_EXIT_USAGE);
}

/*
 * The options every call shares, or a refusal naming the bad one; setup
 * and remove need a port (need_port).
 */
static tether_result *
options_common(const tether_options *o, int need_port, int *port,
    enum tether_mode *mode, int *dry_run)
{
	int user;

	if (o == NULL)
		return result_refused("no options given", TETHER_EXIT_USAGE);
	if (need_port && o->values[OPT_PORT] == NULL)
		return result_refused("option 'port' is required",
		    TETHER_EXIT_USAGE);
	if (option_int(o, OPT_PORT, 1, SPEC_PORT_MAX, port) == -1)
		return result_bad_option(o, OPT_PORT, "a port from 1 to 65535");
	if (option_bool(o, OPT_USER, &user) == -1)
		return result_bad_option(o, OPT_USER, "yes or no");
	if (option_bool(o, OPT_DRY_RUN, dry_run) == -1)
		return result_bad_option(o, OPT_DRY_RUN, "yes or no");
	*mode = user ? TETHER_MODE_USER : TETHER_MODE_SYSTEM;
	return NULL;
}

/* An empty result for an operation to fill; NULL if out of memory. */
static tether_result *
result_new(void)
{
	return calloc(1, sizeof(tether_result));
}

/* t once filled; NULL (and t freed) if the operation ran out of memory. */
static tether_result *
result_done(tether_result *t)
{
	if (t != NULL && (t->r.out == NULL || t->r.err == NULL)) {
		tether_result_free(t);
		return NULL;
	}
	return t;
}

tether_result *
tether_setup(const tether_options *o)
{
	struct api_setup_opts s;
	tether_result *refused, *t;

	memset(&s, 0, sizeof s);
	if ((refused = options_common(o, 1, &s.port, &s.mode, &s.dry_run)) !=
	    NULL)
		return refused;
	if (option_bool(o, OPT_NO_START, &s.no_start) == -1)
		return result_bad_option(o, OPT_NO_START, "yes or no");
	if (option_int(o, OPT_WAIT, 1, 3600, &s.wait_seconds) == -1)
		return result_bad_option(o, OPT_WAIT,
		    "a number of seconds from 1 to 3600");
	s.bastion = o->values[OPT_BASTION];
	s.key_path = o->values[OPT_KEY];
	s.target = o->values[OPT_TARGET];
	s.known_hosts = o->values[OPT_KNOWN_HOSTS];
	s.host_key_policy = o->values[OPT_HOST_KEY_POLICY];
	s.host_key = o->values[OPT_HOST_KEY];
	s.run_as = o->values[OPT_RUN_AS];
	s.proxy_jump = o->values[OPT_PROXY_JUMP];
	if ((t = result_new()) != NULL)
		api_setup(&s, &t->r);
	return result_done(t);
}

tether_result *
tether_status(const tether_options *o)
{
	struct api_status_opts s;
	tether_result *refused, *t;
	int dry_run;

	memset(&s, 0, sizeof s);
	if ((refused = options_common(o, 0, &s.port, &s.mode, &dry_run)) !=
	    NULL)
		return refused;
	/* Both modes unless the caller named one, as `tether status`. */
	s.all_modes = o->values[OPT_USER] == NULL;
	if ((t = result_new()) != NULL)
		api_status(&s, &t->r);
	return result_done(t);
}

tether_result *
tether_remove(const tether_options *o)
{
	struct api_remove_opts s;
	tether_result *refused, *t;

	memset(&s, 0, sizeof s);
	if ((refused = options_common(o, 1, &s.port, &s.mode, &s.dry_run)) !=
	    NULL)
		return refused;
	if ((t = result_new()) != NULL)
		api_remove(&s, &t->r);
	return result_done(t);
}

int
tether_result_success(const tether_result *t)
{
	return t != NULL && t->r.success;
}

int
tether_result_exit_code(const tether_result *t)
{
	return t != NULL ? t->r.exit_code : TETHER_EXIT_FAILURE;
}

const char *
tether_result_stdout(const tether_result *t)
{
	return t != NULL && t->r.out != NULL ? t->r.out : "";
}

const char *
tether_result_stderr(const tether_result *t)
{
	return t != NULL && t->r.err != NULL ? t->r.err : "";
}

const char *
tether_result_json(const tether_result *t)
{
	return t != NULL ? t->r.json : NULL;
}

void
tether_result_free(tether_result *t)
{
	if (t == NULL)
		return;
	api_result_free(&t->r);
	free(t);
}
