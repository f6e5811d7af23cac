/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_remove: stop and disable the instance (or the daemon), then delete
 * everything setup wrote for the port. Nothing there is a clear message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "daemon.h"
#include "fsutil.h"
#include "plan.h"
#include "service.h"

struct remove_ctx {
	const struct api_remove_opts *opts;
	struct tether_paths paths;
	char unit[64];
	char conf[CONFIG_PATH_MAX];
	char known_hosts[CONFIG_PATH_MAX];
	char dropin[CONFIG_PATH_MAX];
	char dropin_dir[CONFIG_PATH_MAX];
	char pid[CONFIG_PATH_MAX];
	char log[CONFIG_PATH_MAX];
	char state[CONFIG_PATH_MAX];
	char rundir[CONFIG_PATH_MAX]; /* system mode: the tunnel's own */
	char key_copy[CONFIG_PATH_MAX];
	char cert_copy[CONFIG_PATH_MAX + 16];
};

static int
remove_paths(struct remove_ctx *c, struct error *err)
{
	int port = c->opts->port;

	if (api_check_port(port, err) == -1 ||
	    api_paths(c->opts->mode, &c->paths, err) == -1)
		return -1;
	service_unit_name(port, c->unit, sizeof c->unit);
	if (paths_join_port(c->conf, sizeof c->conf, c->paths.config_dir, port,
	        ".conf") == -1 ||
	    paths_join_port(c->known_hosts, sizeof c->known_hosts,
	        c->paths.config_dir, port, ".known_hosts") == -1 ||
	    paths_join_port(c->pid, sizeof c->pid, c->paths.runtime_dir, port,
	        ".pid") == -1 ||
	    paths_join_port(c->log, sizeof c->log, c->paths.log_dir, port,
	        ".log") == -1 ||
	    paths_state_file(&c->paths, port, c->state, sizeof c->state) ==
	        -1 ||
	    paths_join_port(c->rundir, sizeof c->rundir, c->paths.runtime_dir,
	        port, "") == -1 ||
	    (size_t)snprintf(c->dropin_dir, sizeof c->dropin_dir, "%s/%s.d",
	        c->paths.unit_dir, c->unit) >= sizeof c->dropin_dir ||
	    (size_t)snprintf(c->dropin, sizeof c->dropin,
	        "%s/50-tether-user.conf", c->dropin_dir) >= sizeof c->dropin ||
	    api_key_copy(&c->paths, port, c->key_copy, sizeof c->key_copy) ==
	        -1) {
		error_set(err, TETHER_EXIT_CONFIG, "paths too long under %s",
		    c->paths.config_dir);
		return -1;
	}
	snprintf(c->cert_copy, sizeof c->cert_copy, "%s-cert.pub", c->key_copy);
	return 0;
}

static void
remove_plan_systemd(struct remove_ctx *c, struct plan *p)
{
	const char *argv[8];
	int n = service_systemctl_argv(c->opts->mode, argv);

	argv[n] = "disable";
	argv[n + 1] = "--now";
	argv[n + 2] = "--";
	argv[n + 3] = c->unit;
	argv[n + 4] = NULL;
	plan_run(p, 1, argv);
	plan_remove(p, c->conf);
	plan_remove(p, c->known_hosts);
	plan_remove(p, c->dropin);
	plan_remove(p, c->dropin_dir);
	argv[n] = "daemon-reload";
	argv[n + 1] = NULL;
	plan_run(p, 1, argv);
	/* Only this unit: never every failed unit of the host. */
	argv[n] = "reset-failed";
	argv[n + 1] = "--";
	argv[n + 2] = c->unit;
	argv[n + 3] = NULL;
	plan_run(p, 1, argv);
	plan_remove(p, c->state);
}

/*
 * System mode has no pidfile: systemd owns the process, and the runtime
 * directory belongs to the service user, so a pidfile there is theirs to
 * forge. Only user mode's daemon fallback reads or signals one.
 */
static int
remove_has_daemon(const struct remove_ctx *c)
{
	return c->opts->mode != TETHER_MODE_SYSTEM;
}

static void
remove_plan_files(struct remove_ctx *c, struct plan *p)
{
	plan_remove(p, c->conf);
	plan_remove(p, c->known_hosts);
	if (remove_has_daemon(c)) {
		plan_remove(p, c->pid);
		plan_remove(p, c->log);
	}
	plan_remove(p, c->state);
	if (c->opts->mode == TETHER_MODE_SYSTEM)
		plan_remove(p, c->rundir);
	/* The copy of root's key a tunnel of the tether account reads. */
	if (file_exists(c->key_copy))
		plan_remove(p, c->key_copy);
	if (file_exists(c->cert_copy))
		plan_remove(p, c->cert_copy);
}

static int
remove_anything_there(struct remove_ctx *c, int use_systemd)
{
	struct unit_props props;

	if (file_exists(c->conf) || file_exists(c->known_hosts) ||
	    file_exists(c->dropin) ||
	    (remove_has_daemon(c) && file_exists(c->pid)))
		return 1;
	return use_systemd &&
	    service_unit_props(c->opts->mode, c->unit, &props) == 0 &&
	    (strcmp(props.unit_file_state, "enabled") == 0 ||
	        (props.active_state[0] != '\0' &&
	            strcmp(props.active_state, "inactive") != 0));
}

/*
 * A user daemon: the directories setup made go when nothing is left in
 * them, and the crontab line setup printed is the user's to delete.
 */
static void
remove_user_leftovers(struct remove_ctx *c, struct api_out *o)
{
	const char *dirs[] = { c->paths.runtime_dir, c->paths.log_dir,
		c->paths.config_dir };
	size_t i;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (rmdir(dirs[i]) == 0)
			strbuf_addf(&o->out, "Removed the empty directory %s\n",
			    dirs[i]);
	}
	strbuf_addf(&o->out,
	    "If you added setup's @reboot line to your crontab, delete it "
	    "now (crontab -e): it runs %s\n",
	    c->conf);
}

static int
remove_run(struct remove_ctx *c, struct api_out *o, struct error *err)
{
	int use_systemd = service_systemd_running(c->opts->mode);
	pid_t pid;
	struct plan plan;
	int rc, debug;

	if ((debug = api_debug(err)) == -1 || remove_paths(c, err) == -1)
		return -1;
	if (debug)
		strbuf_addf(&o->err, "debug: %s tunnel %d: config %s, %s\n",
		    c->opts->mode == TETHER_MODE_SYSTEM ? "system" : "user",
		    c->opts->port, c->conf,
		    use_systemd ? "systemd runs" : "no systemd: a daemon");
	if (!remove_anything_there(c, use_systemd)) {
		if (api_check_legacy(c->opts->port, "remove", err) == -1)
			return -1;
		error_set(err, TETHER_EXIT_FAILURE,
		    "No tunnel on port %d to remove (nothing at %s%s).",
		    c->opts->port, c->conf,
		    c->opts->mode == TETHER_MODE_SYSTEM ? "; for a user tunnel "
		                                          "add --user" :
		                                          "");
		return -1;
	}
	if (api_check_root(c->opts->mode, c->opts->dry_run, "remove", err) ==
	    -1)
		return -1;
	pid = 0;
	if (remove_has_daemon(c) && daemon_holder(c->pid, &pid, err) == -1)
		return -1;
	if (pid > 0 && daemon_check_process(pid, err) == -1)
		return -1;
	if (debug && pid > 0)
		strbuf_addf(&o->err, "debug: daemon pid %ld holds %s\n",
		    (long)pid, c->pid);
	plan_init(&plan);
	plan.trace = debug ? &o->err : NULL;
	if (use_systemd)
		remove_plan_systemd(c, &plan);
	remove_plan_files(c, &plan);
	if (c->opts->dry_run) {
		if (pid > 0)
			strbuf_addf(&o->out, "would stop daemon pid %ld\n",
			    (long)pid);
		plan_print(&plan, &o->out);
		plan_free(&plan);
		return 0;
	}
	if (pid > 0 && daemon_stop(c->pid, 5, err) == -1) {
		plan_free(&plan);
		return -1;
	}
	rc = plan_execute(&plan, &o->err, err);
	plan_free(&plan);
	if (rc == 0)
		strbuf_addf(&o->out, "Tunnel on port %d removed.\n",
		    c->opts->port);
	if (rc == 0 && c->opts->mode == TETHER_MODE_USER && !use_systemd)
		remove_user_leftovers(c, o);
	return rc;
}

int
remove_finds_tunnel(const struct api_remove_opts *opts)
{
	struct remove_ctx c;
	struct error err;
	char unit[64];

	memset(&c, 0, sizeof c);
	c.opts = opts;
	error_clear(&err);
	if (remove_paths(&c, &err) == -1)
		return 1; /* let remove itself say what is wrong */
	return remove_anything_there(&c, service_systemd_running(opts->mode)) ||
	    api_legacy_unit(opts->port, unit, sizeof unit);
}

int
api_remove(const struct api_remove_opts *opts, struct api_result *r)
{
	struct remove_ctx *c;
	struct api_out o;
	struct error err;
	int rc;

	memset(r, 0, sizeof *r);
	api_out_init(&o);
	error_clear(&err);
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		strbuf_add(&o.err, "out of memory\n");
		return api_finish(&o, r, TETHER_EXIT_FAILURE);
	}
	c->opts = opts;
	rc = remove_run(c, &o, &err);
	free(c);
	return api_finish_run(&o, r, rc, &err, NULL);
}
