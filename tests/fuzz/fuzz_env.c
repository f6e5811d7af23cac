/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The environment layer: the input is an environment block, NAME=VALUE
 * entries separated by NUL bytes (as /proc/PID/environ); the first entry of
 * a name wins, as with getenv. Defaults take HOME from it, as cli_parse_run
 * does, a forward is given (as a -R would), then config_apply_env and
 * config_finish.
 */
#include "fuzz_common.h"

#define FUZZ_ENV_MAX 64

struct fake_env {
	size_t n;
	const char *name[FUZZ_ENV_MAX];
	size_t name_len[FUZZ_ENV_MAX];
	const char *value[FUZZ_ENV_MAX];
	unsigned lookups;
};

static const char *
fake_lookup(const char *name, void *ctx)
{
	struct fake_env *env = ctx;
	size_t i, len = strlen(name);

	env->lookups++;
	for (i = 0; i < env->n; i++) {
		if (env->name_len[i] == len &&
		    memcmp(env->name[i], name, len) == 0)
			return env->value[i];
	}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tether_config cfg;
	struct fake_env env;
	struct error err;
	char *buf, *p, *end, *eq;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	memset(&env, 0, sizeof env);
	for (p = buf; p < end && env.n < FUZZ_ENV_MAX; p += strlen(p) + 1) {
		if ((eq = strchr(p, '=')) == NULL)
			continue;
		env.name[env.n] = p;
		env.name_len[env.n] = (size_t)(eq - p);
		env.value[env.n] = eq + 1;
		env.n++;
	}
	config_init_defaults(&cfg, fake_lookup("HOME", &env));
	error_clear(&err);
	FUZZ_CHECK(config_add_forward(&cfg, "2222:localhost:22", "-R",
	    &err) == 0);
	if (config_apply_env(&cfg, fake_lookup, &env, &err) == 0) {
		FUZZ_CHECK(!error_is_set(&err));
		if (config_finish(&cfg, &err) == 0)
			fuzz_check_finished_config(&cfg);
		else
			FUZZ_CHECK(error_is_set(&err) && err.code != 0);
	} else {
		FUZZ_CHECK(error_is_set(&err) && err.code != 0);
		FUZZ_CHECK(FUZZ_TERMINATED(err.msg));
	}
	free(buf);
	return 0;
}
