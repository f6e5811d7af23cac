/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

static int
paths_set(char *dst, const char *a, const char *b)
{
	int n = snprintf(dst, CONFIG_PATH_MAX, "%s%s", a, b);

	return (n < 0 || n >= CONFIG_PATH_MAX) ? -1 : 0;
}

static int
paths_absolute(const char *p)
{
	return p != NULL && p[0] == '/';
}

int
paths_run_runtime_dir(const struct path_env *env, int is_root, char *out,
    size_t sz)
{
	int n;

	if (paths_absolute(env->runtime_directory)) {
		size_t len = strcspn(env->runtime_directory, ":");

		n = snprintf(out, sz, "%.*s", (int)len, env->runtime_directory);
	} else if (is_root) {
		n = snprintf(out, sz, "/run/tether");
	} else if (paths_absolute(env->xdg_runtime_dir)) {
		n = snprintf(out, sz, "%s/tether", env->xdg_runtime_dir);
	} else if (paths_absolute(env->home)) {
		/* A shared HPC node may have no XDG_RUNTIME_DIR at all. */
		n = snprintf(out, sz, "%s/.local/state/tether", env->home);
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}

int
paths_for_mode(enum tether_mode mode, const struct path_env *env,
    struct tether_paths *p)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	if (mode == TETHER_MODE_SYSTEM) {
		return paths_set(p->config_dir, "/etc/tether", "") |
		    paths_set(p->unit_dir, "/etc/systemd/system", "") |
		    paths_set(p->runtime_dir, "/run/tether", "") |
		    paths_set(p->log_dir, "/var/log/tether", "");
	}
	if (!paths_absolute(env->home))
		return -1;
	/*
	 * Always ~/.config, even when the shell sets XDG_CONFIG_HOME: the user
	 * manager (which rarely has it) looks there for units, and the unit
	 * names %h/.config/tether/%i.conf.
	 */
	if (paths_set(p->config_dir, env->home, "/.config/tether") ||
	    paths_set(p->unit_dir, env->home, "/.config/systemd/user"))
		return -1;
	if (paths_absolute(env->xdg_runtime_dir)) {
		if (paths_set(p->runtime_dir, env->xdg_runtime_dir, "/tether"))
			return -1;
	} else if (paths_set(p->runtime_dir, env->home,
	               "/.local/state/tether")) {
		return -1;
	}
	return paths_set(p->log_dir, env->home, "/.local/state/tether");
}

void
paths_env_from_process(struct path_env *env)
{
	env->home = getenv("HOME");
	env->xdg_config_home = getenv("XDG_CONFIG_HOME");
	env->xdg_runtime_dir = getenv("XDG_RUNTIME_DIR");
	env->runtime_directory = getenv("RUNTIME_DIRECTORY");
}

int
paths_join_port(char *out, size_t sz, const char *dir, int port,
    const char *ext)
{
	int n = snprintf(out, sz, "%s/%d%s", dir, port, ext);

	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}

int
paths_state_file(const struct tether_paths *p, int port, char *out, size_t sz)
{
	int n;

	if (p->mode == TETHER_MODE_SYSTEM)
		n = snprintf(out, sz, "%s/%d/%d.json", p->runtime_dir, port,
		    port);
	else
		n = snprintf(out, sz, "%s/%d.json", p->runtime_dir, port);
	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}
