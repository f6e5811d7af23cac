/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_status: every tunnel on the machine, merging what the service
 * manager says (systemd or the daemon's pidfile) with the tunnel's own live
 * state file. A table for people, JSON for programs.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "daemon.h"
#include "service.h"
#include "migrate.h"
#include "units.h"

#define STATUS_TUNNELS_MAX 256

struct tunnel_entry {
	char name[LOG_NAME_MAX];
	int port; /* 0 = not a setup-made tunnel */
	enum tether_mode mode;
	const char *manager; /* systemd, daemon, foreground, none */
	struct unit_props props;
	int has_props;
	long daemon_pid;
	json_t *state; /* the live state file, if any */
	int alive;     /* the state file's pid runs */
	char *restart; /* a dead user daemon: the command that starts it */
	int legacy;    /* scitex-tunnel's autossh-tunnel-PORT.service */
};

struct status_ctx {
	const struct api_status_opts *opts;
	struct strbuf *debug; /* TETHER_DEBUG: what was read, else NULL */
	struct tunnel_entry entries[STATUS_TUNNELS_MAX];
	size_t n;
};

/* "2222.conf" → 2222; anything else → 0. */
static int
status_port_of(const char *file, const char *ext)
{
	size_t digits = strspn(file, "0123456789");
	long port;

	if (digits == 0 || digits > 5 || strcmp(file + digits, ext) != 0)
		return 0;
	port = strtol(file, NULL, 10);
	return port >= 1 && port <= SPEC_PORT_MAX ? (int)port : 0;
}

/*
 * A zombie answers kill(0) too: under an init that does not reap (a
 * container's), a killed daemon would look alive.
 */
static int
status_pid_zombie(json_int_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' &&
	    (paren[2] == 'Z' || paren[2] == 'X');
}

static int
status_pid_alive(json_int_t pid)
{
	return pid > 0 && pid <= INT32_MAX &&
	    (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	    !status_pid_zombie(pid);
}

static int
status_has_entry(const struct status_ctx *c, enum tether_mode mode,
    const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->entries[i].mode == mode &&
		    strcmp(c->entries[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static struct tunnel_entry *
status_entry(struct status_ctx *c, enum tether_mode mode, const char *name)
{
	struct tunnel_entry *e;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->entries[i].mode == mode &&
		    strcmp(c->entries[i].name, name) == 0)
			return &c->entries[i];
	}
	if (c->n == STATUS_TUNNELS_MAX)
		return NULL;
	e = &c->entries[c->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	e->mode = mode;
	e->manager = "none";
	return e;
}

static void
status_scan_configs(struct status_ctx *c, enum tether_mode mode,
    const struct tether_paths *p)
{
	struct tunnel_entry *e;
	struct dirent *de;
	char name[16];
	DIR *dir;
	int port;

	if ((dir = opendir(p->config_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if ((port = status_port_of(de->d_name, ".conf")) == 0)
			continue;
		if (c->opts->port != 0 && port != c->opts->port)
			continue;
		snprintf(name, sizeof name, "%d", port);
		if ((e = status_entry(c, mode, name)) != NULL)
			e->port = port;
	}
	closedir(dir);
}

/*
 * The state files in one directory; in a tunnel's own directory (only !=
 * NULL, its name) just the file of that name.
 */
static void
status_scan_dir(struct status_ctx *c, enum tether_mode mode, const char *dir,
    const char *only)
{
	char path[CONFIG_PATH_MAX + 600], name[LOG_NAME_MAX];
	struct tunnel_entry *e;
	struct dirent *de;
	size_t len;
	json_t *st;
	DIR *d;
	int alive;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || len - 5 >= sizeof name ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(len - 5), de->d_name);
		if ((only != NULL && strcmp(name, only) != 0) ||
		    (c->opts->port != 0 &&
		        status_port_of(de->d_name, ".json") != c->opts->port))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		st = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
		alive = st != NULL &&
		    status_pid_alive(
		        json_integer_value(json_object_get(st, "pid")));
		/* A dead process's file matters only for a tunnel set up here. */
		if (st == NULL ||
		    (!alive && !status_has_entry(c, mode, name)) ||
		    (e = status_entry(c, mode, name)) == NULL) {
			json_decref(st);
			continue;
		}
		json_decref(e->state);
		e->state = st;
		e->port = status_port_of(de->d_name, ".json");
		e->alive = alive;
	}
	closedir(d);
}

/*
 * A state file of a tunnel started by hand counts too: in the runtime
 * directory itself (foreground and daemon runs, user mode) and in each
 * tunnel's own directory below it (system units: RuntimeDirectory=
 * tether/%i).
 */
static void
status_scan_states(struct status_ctx *c, enum tether_mode mode,
    const struct tether_paths *p)
{
	char sub[CONFIG_PATH_MAX + 300];
	struct dirent *de;
	DIR *dir;

	status_scan_dir(c, mode, p->runtime_dir, NULL);
	if ((dir = opendir(p->runtime_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", p->runtime_dir, de->d_name);
		status_scan_dir(c, mode, sub, de->d_name);
	}
	closedir(dir);
}

/*
 * scitex-tunnel's own units (autossh-tunnel-PORT.service), listed as
 * such so a half-migrated machine shows what still runs the old way.
 */
static void
status_scan_legacy(struct status_ctx *c, const struct tether_paths *p)
{
	char name[64], unit[64];
	struct tunnel_entry *e;
	struct dirent *de;
	DIR *dir;
	int port, systemd;

	if ((dir = opendir(p->unit_dir)) == NULL)
		return;
	systemd = service_systemd_running(TETHER_MODE_SYSTEM);
	while ((de = readdir(dir)) != NULL) {
		if ((port = migrate_unit_port(de->d_name)) <= 0 ||
		    (c->opts->port != 0 && port != c->opts->port))
			continue;
		snprintf(unit, sizeof unit, "autossh-tunnel-%d.service", port);
		snprintf(name, sizeof name, "autossh-%d", port);
		if ((e = status_entry(c, TETHER_MODE_SYSTEM, name)) == NULL)
			continue;
		e->port = port;
		e->legacy = 1;
		e->manager = "legacy";
		e->has_props = systemd &&
		    service_unit_props(TETHER_MODE_SYSTEM, unit, &e->props) ==
		        0 &&
		    e->props.active_state[0] != '\0';
	}
	closedir(dir);
}

/* A user daemon that died: the command setup's crontab line runs. */
static void
status_restart_hint(struct tunnel_entry *e, const struct tether_paths *p)
{
	char exe[CONFIG_PATH_MAX], conf[CONFIG_PATH_MAX], pid[CONFIG_PATH_MAX];
	char log[CONFIG_PATH_MAX];
	const char *argv[] = { exe, "run", "--daemon", "-c", conf, "--pidfile",
		pid, "--log-file", log, "--state-dir", p->runtime_dir, NULL };
	struct error err;

	error_clear(&err);
	if (api_self_exe(exe, sizeof exe, &err) == -1 ||
	    paths_join_port(conf, sizeof conf, p->config_dir, e->port,
	        ".conf") == -1 ||
	    paths_join_port(pid, sizeof pid, p->runtime_dir, e->port, ".pid") ==
	        -1 ||
	    paths_join_port(log, sizeof log, p->log_dir, e->port, ".log") == -1)
		return;
	e->restart = units_render_command(argv);
}

/* TETHER_DEBUG: where an entry's facts came from. */
static void
status_debug_entry(struct strbuf *out, const struct tunnel_entry *e,
    int systemd)
{
	strbuf_addf(out, "debug: tunnel %d: state file %s, manager %s", e->port,
	    e->state == NULL ? "none" :
	        e->alive     ? "written by a running tether" :
	                       "left by a tether that is gone",
	    e->manager);
	if (e->has_props)
		strbuf_addf(out,
		    "; systemd says ActiveState=%s SubState=%s "
		    "UnitFileState=%s",
		    e->props.active_state, e->props.sub_state,
		    e->props.unit_file_state);
	else if (systemd)
		strbuf_add(out, "; systemd knows no unit for it");
	if (e->daemon_pid > 0)
		strbuf_addf(out, "; daemon pid %ld", e->daemon_pid);
	strbuf_add(out, "\n");
}

static void
status_ask_managers(struct status_ctx *c, enum tether_mode mode,
    const struct tether_paths *p)
{
	int systemd = service_systemd_running(mode);
	char unit[64], pid_path[CONFIG_PATH_MAX];
	struct tunnel_entry *e;
	size_t i;

	for (i = 0; i < c->n; i++) {
		e = &c->entries[i];
		if (e->mode != mode || e->port == 0 || e->legacy)
			continue;
		if (systemd) {
			service_unit_name(e->port, unit, sizeof unit);
			e->has_props = service_unit_props(mode, unit,
			                   &e->props) == 0 &&
			    e->props.active_state[0] != '\0';
			if (e->has_props &&
			    (strcmp(e->props.unit_file_state, "enabled") == 0 ||
			        strcmp(e->props.active_state, "inactive") != 0))
				e->manager = "systemd";
		}
		/* System mode has no pidfile (see remove.c). */
		if (mode != TETHER_MODE_SYSTEM &&
		    paths_join_port(pid_path, sizeof pid_path, p->runtime_dir,
		        e->port, ".pid") == 0 &&
		    (e->daemon_pid = daemon_running_pid(pid_path)) > 0)
			e->manager = "daemon";
		if (strcmp(e->manager, "none") == 0 && e->alive)
			e->manager = "foreground";
		if (mode == TETHER_MODE_USER && !systemd && !e->alive &&
		    strcmp(e->manager, "none") == 0)
			status_restart_hint(e, p);
		if (c->debug != NULL)
			status_debug_entry(c->debug, e, systemd);
	}
}

/* The failure a dead tunnel wrote into its state file before it exited. */
static const json_t *
status_final_exit(const struct tunnel_entry *e)
{
	const json_t *ex;

	if (e->state == NULL || e->alive)
		return NULL;
	ex = json_object_get(e->state, "exit");
	return json_is_object(ex) ? ex : NULL;
}

static const char *
status_state_of(const struct tunnel_entry *e)
{
	const char *st;

	if (e->legacy)
		return "legacy";

	if (e->state == NULL || !e->alive) {
		if (e->has_props &&
		    strcmp(e->props.active_state, "failed") == 0)
			return "failed";
		if (status_final_exit(e) != NULL)
			return "failed";
		return e->state != NULL ? "stale" : "stopped";
	}
	st = json_string_value(json_object_get(e->state, "state"));
	return st != NULL ? st : "unknown";
}

static int
status_is_forwarding(const struct tunnel_entry *e)
{
	return strcmp(status_state_of(e), "forwarding") == 0;
}

/*
 * Why a tunnel that is not running stopped: what it wrote before it exited,
 * else what systemd recorded of a unit that failed or is waiting to
 * restart, in words from the exit-status table.
 */
static void
status_format_exit(const struct tunnel_entry *e, char *out, size_t sz)
{
	const json_t *ex = status_final_exit(e);
	const char *msg;
	int failing;

	out[0] = '\0';
	if (e->legacy) {
		snprintf(out, sz,
		    "scitex-tunnel's autossh-tunnel-%d.service (systemd: %s); "
		    "run: tether migrate",
		    e->port, e->has_props ? e->props.active_state : "unknown");
		return;
	}
	if (ex == NULL && e->restart != NULL) {
		snprintf(out, sz, "daemon not running; start it with: %s",
		    e->restart);
		return;
	}
	if (ex != NULL) {
		msg = json_string_value(
		    json_object_get(json_object_get(e->state, "last_error"),
		        "message"));
		snprintf(out, sz, "exit %lld (%s)%s%s",
		    (long long)json_integer_value(json_object_get(ex, "code")),
		    json_string_value(json_object_get(ex, "meaning")),
		    msg != NULL ? ": " : "", msg != NULL ? msg : "");
		return;
	}
	failing = e->has_props && e->props.exec_main_status != 0 &&
	    (strcmp(e->props.active_state, "failed") == 0 ||
	        strcmp(e->props.sub_state, "auto-restart") == 0);
	if (failing)
		snprintf(out, sz,
		    "exit %d (%s), systemd Result=%s; the journal has the "
		    "details",
		    e->props.exec_main_status,
		    error_exit_meaning(e->props.exec_main_status),
		    e->props.result[0] != '\0' ? e->props.result : "?");
}

/* "exit": why a tunnel that is not running stopped, as the table says. */
static void
status_exit_json(const struct tunnel_entry *e, json_t *o)
{
	char why[ERROR_MSG_MAX + 4 * CONFIG_PATH_MAX];

	status_format_exit(e, why, sizeof why);
	if (why[0] != '\0')
		json_object_set_new(o, "exit", json_string(why));
}

static json_t *
status_entry_json(const struct tunnel_entry *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "port",
	    e->port ? json_integer(e->port) : json_null());
	json_object_set_new(o, "mode",
	    json_string(e->mode == TETHER_MODE_SYSTEM ? "system" : "user"));
	json_object_set_new(o, "manager", json_string(e->manager));
	if (e->legacy)
		json_object_set_new(o, "legacy_unit",
		    json_sprintf("autossh-tunnel-%d.service", e->port));
	json_object_set_new(o, "state", json_string(status_state_of(e)));
	json_object_set_new(o, "forwarding",
	    json_boolean(status_is_forwarding(e)));
	if (e->has_props) {
		json_object_set_new(o, "systemd",
		    json_pack("{s:s, s:s, s:s, "
		              "s:I, s:I, s:s}",
		        "active_state", e->props.active_state, "sub_state",
		        e->props.sub_state, "unit_file_state",
		        e->props.unit_file_state, "main_pid",
		        (json_int_t)e->props.main_pid, "restarts",
		        (json_int_t)e->props.restarts, "status_text",
		        e->props.status_text));
	}
	if (e->daemon_pid > 0)
		json_object_set_new(o, "daemon_pid",
		    json_integer(e->daemon_pid));
	if (e->state != NULL && e->alive)
		json_object_set(o, "live", e->state);
	status_exit_json(e, o);
	return o;
}

static void
status_format_bytes(uint64_t n, char *out, size_t sz)
{
	if (n >= 1024ULL * 1024 * 1024)
		snprintf(out, sz, "%.1fG", (double)n / (1024.0 * 1024 * 1024));
	else if (n >= 1024ULL * 1024)
		snprintf(out, sz, "%.1fM", (double)n / (1024.0 * 1024));
	else if (n >= 1024)
		snprintf(out, sz, "%.1fK", (double)n / 1024.0);
	else
		snprintf(out, sz, "%lluB", (unsigned long long)n);
}

static void
status_format_forwards(const json_t *state, char *out, size_t sz)
{
	const json_t *fw = json_object_get(state, "forwards"), *f;
	const char *spec, *st;
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(fw, i, f) {
		if (len >= sz)
			break;
		spec = json_string_value(json_object_get(f, "spec"));
		st = json_string_value(json_object_get(f, "state"));
		/* (!) marks a forward the bastion has not granted. */
		len += (size_t)snprintf(out + len, sz - len, "%s%s%s",
		    i > 0 ? "," : "", spec != NULL ? spec : "?",
		    st != NULL && strcmp(st, "bound") == 0 ? "" : "(!)");
	}
	if (out[0] == '\0')
		snprintf(out, sz, "-");
}

/*
 * The current problem: a forward the bastion keeps refusing, else the last
 * error (cleared by the tunnel once it recovers).
 */
static void
status_format_problem(const json_t *state, char *out, size_t sz)
{
	const json_t *f;
	const char *spec, *since, *err, *why;
	json_int_t n;
	size_t i;

	out[0] = '\0';
	json_array_foreach(json_object_get(state, "forwards"), i, f) {
		n = json_integer_value(json_object_get(f, "refusals"));
		spec = json_string_value(json_object_get(f, "spec"));
		since = json_string_value(json_object_get(f, "refused_since"));
		if (n <= 0 || spec == NULL || since == NULL)
			continue;
		why = json_string_value(json_object_get(f, "diagnosis"));
		snprintf(out, sz, "forward %s refused %lld time%s since %s: %s",
		    spec, (long long)n, n == 1 ? "" : "s", since,
		    why != NULL && strcmp(why, "not-permitted") == 0 ?
		        "probably not permitted (permitlisten, "
		        "AllowTcpForwarding, GatewayPorts)" :
		        "port in use on the bastion, or not permitted");
		return;
	}
	err = json_string_value(
	    json_object_get(json_object_get(state, "last_error"), "message"));
	if (err != NULL)
		snprintf(out, sz, "%s", err);
}

static void
status_table_row(const struct tunnel_entry *e, int colour, struct strbuf *sb)
{
	char fw[256] = "-", in[16] = "-", outb[16] = "-", since[32] = "-";
	char problem[ERROR_MSG_MAX + 4 * CONFIG_PATH_MAX] = "";
	const json_t *st = e->alive ? e->state : NULL;
	const char *state = status_state_of(e), *s;
	const char *on = "", *off = "";

	if (st != NULL) {
		status_format_forwards(st, fw, sizeof fw);
		status_format_bytes((uint64_t)json_integer_value(
		                        json_object_get(st, "bytes_to_target")),
		    in, sizeof in);
		status_format_bytes((uint64_t)json_integer_value(
		                        json_object_get(st,
		                            "bytes_from_target")),
		    outb, sizeof outb);
		if ((s = json_string_value(
		         json_object_get(st, "connected_since"))) != NULL)
			snprintf(since, sizeof since, "%s", s);
		status_format_problem(st, problem, sizeof problem);
	} else {
		status_format_exit(e, problem, sizeof problem);
	}
	if (colour) {
		on = status_is_forwarding(e) ? "\033[32m" : "\033[31m";
		off = "\033[0m";
	}
	strbuf_addf(sb,
	    "%-8s %-6s %-10s %s%-16s%s %-30s %-20s %5lld %5lld %8s %8s %s\n",
	    e->name, e->mode == TETHER_MODE_SYSTEM ? "system" : "user",
	    e->manager, on, state, off, fw, since,
	    st ? (long long)json_integer_value(
	             json_object_get(st, "reconnects")) :
	         0LL,
	    st ?
	        (long long)json_integer_value(json_object_get(st, "channels")) :
	        0LL,
	    in, outb, problem);
}

static void
status_render(struct status_ctx *c, struct api_out *o, json_t *list)
{
	size_t i;

	if (c->n == 0) {
		strbuf_add(&o->out, "No tunnels.\n");
		return;
	}
	strbuf_addf(&o->out,
	    "%-8s %-6s %-10s %-16s %-30s %-20s %5s %5s %8s %8s %s\n", "NAME",
	    "MODE", "MANAGER", "STATE", "FORWARDS", "UP SINCE", "RECON", "CHAN",
	    "TO-TGT", "FROM-TGT", "PROBLEM");
	for (i = 0; i < c->n; i++) {
		status_table_row(&c->entries[i], c->opts->colour, &o->out);
		json_array_append_new(list, status_entry_json(&c->entries[i]));
	}
}

static void
status_collect(struct status_ctx *c, enum tether_mode mode)
{
	struct tether_paths p;
	struct error err;

	error_clear(&err);
	if (api_paths(mode, &p, &err) == -1) {
		if (c->debug != NULL)
			strbuf_addf(c->debug, "debug: %s tunnels: %s\n",
			    mode == TETHER_MODE_SYSTEM ? "system" : "user",
			    err.msg);
		return;
	}
	if (c->debug != NULL)
		strbuf_addf(c->debug,
		    "debug: %s tunnels: configs in %s, state in %s\n",
		    mode == TETHER_MODE_SYSTEM ? "system" : "user",
		    p.config_dir, p.runtime_dir);
	status_scan_configs(c, mode, &p);
	status_scan_states(c, mode, &p);
	if (mode == TETHER_MODE_SYSTEM)
		status_scan_legacy(c, &p);
	status_ask_managers(c, mode, &p);
}

int
api_status(const struct api_status_opts *opts, struct api_result *r)
{
	struct status_ctx *c;
	struct api_out o;
	struct error err;
	json_t *list, *doc;
	size_t i, forwarding = 0, legacy = 0;
	int code;

	memset(r, 0, sizeof *r);
	api_out_init(&o);
	error_clear(&err);
	c = calloc(1, sizeof *c);
	list = json_array();
	if (c == NULL || list == NULL) {
		free(c);
		json_decref(list);
		strbuf_add(&o.err, "out of memory\n");
		return api_finish(&o, r, TETHER_EXIT_FAILURE);
	}
	c->opts = opts;
	switch (api_debug(&err)) {
	case -1:
		json_decref(list);
		free(c);
		strbuf_addf(&o.err, "%s\n", err.msg);
		return api_finish(&o, r, err.code);
	case 1:
		c->debug = &o.err;
		break;
	}
	if (opts->all_modes || opts->mode == TETHER_MODE_SYSTEM)
		status_collect(c, TETHER_MODE_SYSTEM);
	if (opts->all_modes || opts->mode == TETHER_MODE_USER)
		status_collect(c, TETHER_MODE_USER);
	status_render(c, &o, list);
	for (i = 0; i < c->n; i++) {
		forwarding += status_is_forwarding(&c->entries[i]);
		legacy += c->entries[i].legacy;
		json_decref(c->entries[i].state);
		free(c->entries[i].restart);
	}
	/* Whether an autossh unit forwards, tether cannot tell: not counted. */
	code = forwarding == c->n - legacy ? TETHER_EXIT_OK :
	                                     TETHER_EXIT_FAILURE;
	if (opts->port != 0 && c->n == 0) {
		strbuf_addf(&o.err, "No tunnel on port %d.\n", opts->port);
		code = TETHER_EXIT_FAILURE;
	}
	doc = json_pack("{s:o, s:I, s:I}", "tunnels", list, "count",
	    (json_int_t)c->n, "forwarding", (json_int_t)forwarding);
	r->json = doc != NULL ?
	    json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(doc);
	free(c);
	return api_finish(&o, r, code);
}
