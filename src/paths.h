/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Where a tunnel's files live, by mode. System: /etc/tether, systemd's
 * system units, /run/tether/PORT per tunnel. User: ~/.config/tether, ~/.config/systemd/user,
 * $XDG_RUNTIME_DIR/tether (or ~/.local/state/tether where there is none).
 * Pure: the environment comes in as values.
 */
#ifndef TETHER_PATHS_H
#define TETHER_PATHS_H

#include "config.h"
#include "ops.h"

struct path_env {
	const char *home;
	const char *xdg_config_home;
	const char *xdg_runtime_dir;
	const char *runtime_directory; /* set by systemd for the service */
};

struct tether_paths {
	enum tether_mode mode;
	char config_dir[CONFIG_PATH_MAX];
	char unit_dir[CONFIG_PATH_MAX];    /* where setup writes units */
	char runtime_dir[CONFIG_PATH_MAX]; /* state files, pid files */
	char log_dir[CONFIG_PATH_MAX];     /* daemon mode's log files */
};

int paths_for_mode(enum tether_mode, const struct path_env *,
    struct tether_paths *);
/* The running process's runtime directory (state file of `tether run`). */
int paths_run_runtime_dir(const struct path_env *, int is_root, char *out,
    size_t sz);
void paths_env_from_process(struct path_env *);

/*
 * A setup-made tunnel's state file. System mode: RUNTIME_DIRECTORY is
 * tether/%i, so each tunnel has /run/tether/PORT of its own, owned by its
 * user alone; user mode: one user's directory holds them all.
 */
int paths_state_file(const struct tether_paths *, int port, char *out,
    size_t sz);
/* dir/PORT.ext, or -1 if it does not fit. */
int paths_join_port(char *out, size_t sz, const char *dir, int port,
    const char *ext);

#endif
