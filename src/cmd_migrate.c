/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether migrate: replace the seed's autossh units with tether@PORT. Every
 * step is built as a plan first, so --dry-run prints exactly what a real
 * run does; the units are read by migrate.c.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tether/exit.h"
#include "ops.h"
#include "api.h"
#include "cli.h"
#include "cmd.h"
#include "fsutil.h"
#include "migrate.h"
#include "plan.h"
#include "service.h"
#include "strbuf.h"

#define MIGRATE_UNITS_MAX 64
#define MIGRATE_DEFAULT_DIR "/etc/systemd/system"

enum migrate_opt {
	MG_DRY_RUN = 1,
	MG_YES,
	MG_UNIT_DIR,
	MG_WAIT,
	MG_RUN_AS,
	MG_HELP,
};

static const struct cli_option migrate_options[] = {
	{ MG_DRY_RUN, 'n', "dry-run", NULL,
	    "print every step, change nothing" },
	{ MG_YES, 'y', "yes", NULL, "replace the units without asking" },
	{ MG_UNIT_DIR, 0, "unit-dir", "DIR",
	    "where to look for the seed's units (default " MIGRATE_DEFAULT_DIR
	    ")" },
	{ MG_WAIT, 0, "wait", "SECONDS",
	    "how long to wait for each tunnel (default 20)" },
	{ MG_RUN_AS, 0, "run-as", "USER",
	    "who runs the tunnels whose unit ran as root (no User=); "
	    "without it they are left alone" },
	{ MG_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_migrate_help(void)
{
	printf("usage: tether migrate [--dry-run] [--yes] [--unit-dir DIR]\n"
	       "                      [--run-as USER]\n\n"
	       "Find the units scitex-tunnel installed "
	       "(autossh-tunnel-PORT.service) and replace\neach with "
	       "tether@PORT.service, keeping its port, bastion, key and "
	       "user:\nsystemctl disable --now the old unit, delete its file, "
	       "tether setup, and\nat the end systemctl daemon-reload. A unit "
	       "migrate does not fully understand\nis left as it is, with the "
	       "reason. Needs root, except with --dry-run.\n\n");
	cli_print_options(stdout, migrate_options);
}

struct migrate_item {
	char name[64];
	char path[CONFIG_PATH_MAX];
	char *text; /* the unit as it was, to put back if setup fails */
	struct migrate_unit u;
	char run_as[SPEC_USER_MAX];
	char key[CONFIG_PATH_MAX];
	char known_hosts[CONFIG_PATH_MAX];
	char *why;        /* not migrated: the reason; NULL = will be */
	char *setup_plan; /* what tether setup --dry-run printed */
};

struct migrate {
	const char *unit_dir;
	const char *run_as; /* for units that ran as root; NULL = refuse */
	int dry_run, yes, wait;
	struct migrate_item *items;
	size_t n;
};

static void
migrate_free(struct migrate *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->items[i].text);
		free(m->items[i].why);
		free(m->items[i].setup_plan);
	}
	free(m->items);
}

static int
item_cmp(const void *a, const void *b)
{
	return ((const struct migrate_item *)a)->u.port -
	    ((const struct migrate_item *)b)->u.port;
}

/* Lists DIR's autossh-tunnel-PORT.service files, sorted by port. */
static int
migrate_scan(struct migrate *m)
{
	struct migrate_item *it;
	struct dirent *de;
	DIR *dir;
	int port;

	if ((dir = opendir(m->unit_dir)) == NULL) {
		fprintf(stderr,
		    "tether: cannot read the unit directory %s: %s; give "
		    "the right one with --unit-dir\n",
		    m->unit_dir, strerror(errno));
		return -1;
	}
	m->items = calloc(MIGRATE_UNITS_MAX, sizeof *m->items);
	if (m->items == NULL) {
		closedir(dir);
		fprintf(stderr, "tether: out of memory\n");
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if ((port = migrate_unit_port(de->d_name)) == -1)
			continue;
		if (m->n == MIGRATE_UNITS_MAX) {
			fprintf(stderr,
			    "tether: more than %d autossh-tunnel units in "
			    "%s; migrate some by hand first\n",
			    MIGRATE_UNITS_MAX, m->unit_dir);
			closedir(dir);
			return -1;
		}
		it = &m->items[m->n++];
		snprintf(it->name, sizeof it->name, "%.63s", de->d_name);
		snprintf(it->path, sizeof it->path, "%.900s/%.63s", m->unit_dir,
		    de->d_name);
		it->u.port = port; /* for sorting until parsed */
	}
	closedir(dir);
	qsort(m->items, m->n, sizeof *m->items, item_cmp);
	return 0;
}

static void
item_refuse(struct migrate_item *it, const char *why)
{
	if (it->why == NULL)
		it->why = strdup(why);
}

/* "~/x" under the home of user. */
static int
migrate_expand(const char *in, const struct passwd *pw, char *out, size_t sz)
{
	if (strncmp(in, "~/", 2) == 0)
		return (size_t)snprintf(out, sz, "%s%s", pw->pw_dir, in + 1) >=
		        sz ?
		    -1 :
		    0;
	return (size_t)snprintf(out, sz, "%s", in) >= sz ? -1 : 0;
}

static int
item_ran_as_root(const struct migrate_item *it)
{
	return it->u.user[0] == '\0' || strcmp(it->u.user, "root") == 0;
}

/* Who runs it, and its paths as that user sees them. */
static int
item_resolve(const struct migrate *m, struct migrate_item *it)
{
	struct passwd pw, *res = NULL;
	struct group gr, *gres = NULL;
	char buf[4096], gbuf[4096], why[ERROR_MSG_MAX];

	/* A unit that ran as root does not make a root tunnel by default. */
	if (item_ran_as_root(it) && m->run_as == NULL) {
		snprintf(why, sizeof why,
		    "%s: the unit %s, so it ran as root, and a tunnel needs no "
		    "root; pass --run-as USER (the key's owner), or --run-as "
		    "root to keep running it as root",
		    it->name,
		    it->u.user[0] == '\0' ? "has no User=" : "says User=root");
		item_refuse(it, why);
		return -1;
	}
	snprintf(it->run_as, sizeof it->run_as, "%s",
	    item_ran_as_root(it) ? m->run_as : it->u.user);
	if (getpwnam_r(it->run_as, &pw, buf, sizeof buf, &res) != 0 ||
	    res == NULL) {
		snprintf(why, sizeof why,
		    "%s: User=%s does not exist on this machine; create the "
		    "user or fix the unit",
		    it->name, it->run_as);
		item_refuse(it, why);
		return -1;
	}
	if (it->u.group[0] != '\0' &&
	    (getgrgid_r(pw.pw_gid, &gr, gbuf, sizeof gbuf, &gres) != 0 ||
	        gres == NULL || strcmp(gres->gr_name, it->u.group) != 0)) {
		snprintf(why, sizeof why,
		    "%s: Group=%s is not the primary group of %s, which "
		    "tether's service would run with" MIGRATE_BY_HAND,
		    it->name, it->u.group, it->run_as);
		item_refuse(it, why);
		return -1;
	}
	if (migrate_expand(it->u.key_path, &pw, it->key, sizeof it->key) ==
	        -1 ||
	    migrate_expand(it->u.known_hosts, &pw, it->known_hosts,
	        sizeof it->known_hosts) == -1) {
		snprintf(why, sizeof why, "%s: a path is too long", it->name);
		item_refuse(it, why);
		return -1;
	}
	return 0;
}

static void
item_setup_opts(const struct migrate *m, const struct migrate_item *it,
    int dry_run, struct api_setup_opts *o)
{
	memset(o, 0, sizeof *o);
	o->port = it->u.port;
	o->bastion = it->u.bastion;
	o->key_path = it->key;
	o->target = it->u.target;
	o->known_hosts = it->known_hosts[0] != '\0' ? it->known_hosts : NULL;
	o->host_key_policy = it->u.accept_new ? "accept-new" : NULL;
	o->proxy_jump = it->u.proxy_jump[0] != '\0' ? it->u.proxy_jump : NULL;
	o->run_as = it->run_as;
	o->mode = TETHER_MODE_SYSTEM;
	o->dry_run = dry_run;
	o->wait_seconds = m->wait;
}

/* The first line of text, trimmed, for a one-line reason. */
static char *
first_line(const char *text)
{
	size_t n = strcspn(text, "\n");
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, text, n);
		s[n] = '\0';
	}
	return s;
}

/* Reads, parses and checks one unit with tether setup --dry-run. */
static void
item_prepare(const struct migrate *m, struct migrate_item *it)
{
	struct api_setup_opts o;
	struct api_result r;
	struct error err;
	char why[ERROR_MSG_MAX + 128], *line;

	error_clear(&err);
	if (file_read(it->path, MIGRATE_UNIT_FILE_MAX, &it->text, &err) == -1) {
		snprintf(why, sizeof why, "%s: %s", it->name, err.msg);
		item_refuse(it, why);
		return;
	}
	if (migrate_parse_unit(it->name, it->text, &it->u, &err) == -1) {
		item_refuse(it, err.msg);
		return;
	}
	if (item_resolve(m, it) == -1)
		return;
	item_setup_opts(m, it, 1, &o);
	setup_replacing_legacy(&o, &r);
	if (r.exit_code != TETHER_EXIT_OK) {
		line = first_line(r.err);
		snprintf(why, sizeof why,
		    "%s: tether setup would refuse it: %s (fix that, then "
		    "run tether migrate again)",
		    it->name, line != NULL ? line : "(no message)");
		free(line);
		item_refuse(it, why);
	} else {
		it->setup_plan = strdup(r.out);
		if (it->setup_plan == NULL)
			item_refuse(it, "out of memory");
	}
	api_result_free(&r);
}

/* systemctl disable --now -- UNIT, then the unit file goes. */
static void
item_plan(const struct migrate_item *it, struct plan *p)
{
	const char *argv[8];
	int n = service_systemctl_argv(TETHER_MODE_SYSTEM, argv);

	argv[n] = "disable";
	argv[n + 1] = "--now";
	argv[n + 2] = "--";
	argv[n + 3] = it->name;
	argv[n + 4] = NULL;
	plan_init(p);
	plan_run(p, 0, argv);
	plan_remove(p, it->path);
}

static void
final_plan(struct plan *p)
{
	const char *argv[8];
	int n = service_systemctl_argv(TETHER_MODE_SYSTEM, argv);

	argv[n] = "daemon-reload";
	argv[n + 1] = NULL;
	plan_init(p);
	plan_run(p, 0, argv);
}

static void
print_strbuf(struct strbuf *sb, FILE *out)
{
	char *text = strbuf_take(sb);

	fputs(text, out);
	free(text);
}

/* Prints what will happen; returns how many units will be migrated. */
static size_t
migrate_show(const struct migrate *m)
{
	const struct migrate_item *it;
	struct strbuf sb;
	struct plan p;
	size_t i, todo = 0;

	strbuf_init(&sb);
	for (i = 0; i < m->n; i++) {
		it = &m->items[i];
		if (it->why != NULL)
			continue;
		todo++;
		strbuf_addf(&sb,
		    "%s -> tether@%d.service: bastion %s, key %s, "
		    "target %s, user %s%s\n",
		    it->name, it->u.port, it->u.bastion, it->key, it->u.target,
		    it->run_as,
		    item_ran_as_root(it) ? " (--run-as; the unit ran as root)" :
		                           "");
		if (it->u.notes[0] != '\0')
			strbuf_addf(&sb, "  not carried over: %s\n",
			    it->u.notes);
		item_plan(it, &p);
		plan_print(&p, &sb);
		plan_free(&p);
		strbuf_add(&sb, it->setup_plan);
	}
	if (todo > 0) {
		final_plan(&p);
		plan_print(&p, &sb);
		plan_free(&p);
	}
	print_strbuf(&sb, stdout);
	for (i = 0; i < m->n; i++) {
		if (m->items[i].why != NULL)
			fprintf(stderr, "tether: left as it is: %s\n",
			    m->items[i].why);
	}
	return todo;
}

static int
migrate_confirm(size_t todo)
{
	char answer[16];

	fprintf(stderr, "Replace %zu autossh unit%s with tether? (yes/no) ",
	    todo, todo == 1 ? "" : "s");
	if (fgets(answer, sizeof answer, stdin) == NULL)
		return 0;
	return strcmp(answer, "yes\n") == 0 || strcmp(answer, "y\n") == 0;
}

/* Puts the old unit back as it was and starts it again. */
static void
item_restore(const struct migrate_item *it)
{
	const char *argv[8];
	struct strbuf log;
	struct error err;
	struct plan p;
	int n;

	strbuf_init(&log);
	error_clear(&err);
	plan_init(&p);
	plan_write(&p, it->path, it->text, 0644);
	n = service_systemctl_argv(TETHER_MODE_SYSTEM, argv);
	argv[n] = "daemon-reload";
	argv[n + 1] = NULL;
	plan_run(&p, 0, argv);
	argv[n] = "enable";
	argv[n + 1] = "--now";
	argv[n + 2] = "--";
	argv[n + 3] = it->name;
	argv[n + 4] = NULL;
	plan_run(&p, 0, argv);
	if (plan_execute(&p, &log, &err) == 0)
		fprintf(stderr,
		    "tether: put %s back and started it again; port %d "
		    "stays with autossh\n",
		    it->path, it->u.port);
	else
		fprintf(stderr,
		    "tether: could not put %s back (%s); its text was:\n%s",
		    it->path, err.msg, it->text);
	plan_free(&p);
	strbuf_free(&log);
}

/*
 * setup failed after the old unit was stopped and deleted. A tether@PORT
 * that runs (or is starting) keeps retrying by itself; otherwise remove
 * what setup left and bring the old unit back.
 */
static void
item_recover(const struct migrate_item *it)
{
	struct api_remove_opts ro;
	struct api_result rr;
	struct unit_props props;
	char unit[64];

	service_unit_name(it->u.port, unit, sizeof unit);
	if (service_unit_props(TETHER_MODE_SYSTEM, unit, &props) == 0 &&
	    (strcmp(props.active_state, "active") == 0 ||
	        strcmp(props.active_state, "activating") == 0)) {
		fprintf(stderr,
		    "tether: %s is gone and %s runs but does not forward yet; "
		    "it keeps retrying: see tether status -p %d and "
		    "journalctl -u %s\n",
		    it->name, unit, it->u.port, unit);
		return;
	}
	memset(&ro, 0, sizeof ro);
	ro.port = it->u.port;
	ro.mode = TETHER_MODE_SYSTEM;
	api_remove(&ro, &rr);
	if (rr.exit_code != TETHER_EXIT_OK)
		fputs(rr.err, stderr);
	api_result_free(&rr);
	item_restore(it);
}

/* Replaces one unit; the exit code of the first failure, or 0. */
static int
item_migrate(const struct migrate *m, const struct migrate_item *it)
{
	struct api_setup_opts o;
	struct api_result r;
	struct strbuf log;
	struct error err;
	struct plan p;
	int rc;

	printf("Migrating %s ...\n", it->name);
	fflush(stdout);
	strbuf_init(&log);
	error_clear(&err);
	item_plan(it, &p);
	rc = plan_execute(&p, &log, &err);
	plan_free(&p);
	print_strbuf(&log, stderr);
	if (rc == -1) {
		fprintf(stderr, "tether: %s: %s\n", it->name, err.msg);
		item_restore(it);
		return err.code != 0 ? err.code : TETHER_EXIT_FAILURE;
	}
	item_setup_opts(m, it, 0, &o);
	setup_replacing_legacy(&o, &r);
	fputs(r.out, stdout);
	fputs(r.err, stderr);
	fflush(stdout);
	rc = r.exit_code;
	api_result_free(&r);
	if (rc != TETHER_EXIT_OK)
		item_recover(it);
	return rc;
}

static int
migrate_apply(int id, const char *arg, struct migrate *m, int *help)
{
	char *end;

	switch (id) {
	case MG_DRY_RUN:
		m->dry_run = 1;
		return 0;
	case MG_YES:
		m->yes = 1;
		return 0;
	case MG_UNIT_DIR:
		m->unit_dir = arg;
		return 0;
	case MG_RUN_AS:
		if (!spec_user_is_valid(arg)) {
			fprintf(stderr,
			    "tether: --run-as '%.64s': not a user name\n", arg);
			return -1;
		}
		m->run_as = arg;
		return 0;
	case MG_WAIT:
		m->wait = (int)strtol(arg, &end, 10);
		if (*end != '\0' || end == arg || m->wait < 1 ||
		    m->wait > 3600) {
			fprintf(stderr,
			    "tether: --wait '%s': give 1 to 3600 seconds\n",
			    arg);
			return -1;
		}
		return 0;
	case MG_HELP:
		*help = 1;
		return 0;
	default:
		return 0;
	}
}

static int
migrate_parse_args(int argc, char **argv, struct migrate *m, int *help)
{
	struct cli_parser p;
	struct error err;
	const char *arg;
	int id;

	error_clear(&err);
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, migrate_options, &arg, &err)) != CLI_END) {
		if (id == CLI_ERROR || id == CLI_OPERAND) {
			if (id == CLI_ERROR)
				fprintf(stderr, "tether: %s\n", err.msg);
			else
				fprintf(stderr,
				    "tether: unexpected argument '%s'; see "
				    "tether migrate --help\n",
				    arg);
			return -1;
		}
		if (migrate_apply(id, arg, m, help) == -1)
			return -1;
	}
	return 0;
}

static int
migrate_run(struct migrate *m)
{
	size_t i, todo, refused = 0, done = 0;
	struct strbuf log;
	struct error err;
	struct plan p;
	int rc = TETHER_EXIT_OK;

	if (migrate_scan(m) == -1)
		return TETHER_EXIT_FAILURE;
	if (m->n == 0) {
		printf("No scitex-tunnel units (%sPORT%s) in %s: nothing to "
		       "migrate.\n",
		    MIGRATE_UNIT_PREFIX, MIGRATE_UNIT_SUFFIX, m->unit_dir);
		return TETHER_EXIT_OK;
	}
	for (i = 0; i < m->n; i++) {
		item_prepare(m, &m->items[i]);
		refused += m->items[i].why != NULL;
	}
	if (!m->dry_run && geteuid() != 0) {
		fprintf(stderr,
		    "tether: migrate replaces system units: run it as root "
		    "(sudo tether migrate), or look first with --dry-run\n");
		return TETHER_EXIT_FAILURE;
	}
	todo = migrate_show(m);
	if (refused > 0)
		rc = TETHER_EXIT_CONFIG;
	if (m->dry_run || todo == 0)
		return rc;
	if (!m->yes && (!isatty(STDIN_FILENO) || !migrate_confirm(todo))) {
		fprintf(stderr,
		    "tether: nothing changed; rerun with --yes to replace %s\n",
		    todo == 1 ? "it" : "them");
		return TETHER_EXIT_USAGE;
	}
	for (i = 0; i < m->n; i++) {
		int one;

		if (m->items[i].why != NULL)
			continue;
		if ((one = item_migrate(m, &m->items[i])) != 0) {
			rc = one;
			break;
		}
		done++;
	}
	if (done > 0) {
		strbuf_init(&log);
		error_clear(&err);
		final_plan(&p);
		if (plan_execute(&p, &log, &err) == -1) {
			fprintf(stderr, "tether: %s\n", err.msg);
			if (rc == TETHER_EXIT_OK)
				rc = err.code;
		}
		plan_free(&p);
		strbuf_free(&log);
	}
	printf("Migrated %zu of %zu autossh unit%s to tether.\n", done, m->n,
	    m->n == 1 ? "" : "s");
	return rc;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct migrate m;
	int help = 0, rc;

	memset(&m, 0, sizeof m);
	m.unit_dir = MIGRATE_DEFAULT_DIR;
	if (migrate_parse_args(argc, argv, &m, &help) == -1)
		return TETHER_EXIT_USAGE;
	if (help) {
		cmd_migrate_help();
		return TETHER_EXIT_OK;
	}
	rc = migrate_run(&m);
	migrate_free(&m);
	return rc;
}

const struct cmd_entry cmd_migrate_entry = {
	.name = "migrate",
	.summary = "replace scitex-tunnel's autossh units with tether",
	.exec = cmd_migrate,
	.help = cmd_migrate_help,
	.seed_usage = "replace autossh-tunnel-PORT units with tether's",
};
