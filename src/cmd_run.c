/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether run: the tunnel in the foreground, in the background, or a check. */
#include <sys/socket.h>
#include <unistd.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/exit.h"
#include "cli.h"
#include "cmd.h"
#include "daemon.h"
#include "fsutil.h"
#include "key.h"
#include "log.h"
#include "paths.h"
#include "sshconfig.h"
#include "supervisor.h"

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
	if (cli_parse_run(args->argc, args->argv, cmd_env_lookup, NULL, req,
	        err) == -1 ||
	    sshconfig_apply(&req->cfg, err) == -1) {
		free(req);
		return -1;
	}
	*out = req->cfg;
	free(req);
	return 0;
}

/*
 * What the flags, environment, file and ssh_config came to, one line
 * each, so an alias's resolution can be read before it is used.
 */
static void
run_check_resolved(const struct tether_config *cfg)
{
	char spec[2 * SPEC_HOST_MAX + 40];
	size_t i;

	if (cfg->bastion_alias[0] != '\0')
		printf("  ssh_config alias %s\n", cfg->bastion_alias);
	printf("  bastion %s%s%s:%d%s, key %s\n", cfg->bastion.user,
	    cfg->bastion.user[0] != '\0' ? "@" : "", cfg->bastion.host,
	    cfg->bastion.port,
	    cfg->address_family == AF_INET      ? " (IPv4 only)" :
	        cfg->address_family == AF_INET6 ? " (IPv6 only)" :
	                                          "",
	    cfg->key_path[0] != '\0' ? cfg->key_path : "(ssh-agent)");
	if (cfg->proxy_command[0] != '\0')
		printf("  through ProxyCommand %s\n", cfg->proxy_command);
	for (i = 0; i < cfg->njumps; i++) {
		const struct jump_spec *j = &cfg->jumps[i];

		printf("  through jump host %s%s%s:%d", j->dest.user,
		    j->dest.user[0] != '\0' ? "@" : "", j->dest.host,
		    j->dest.port);
		if (strcmp(j->alias, j->dest.host) != 0)
			printf(" (%s)", j->alias);
		printf(", key %s\n",
		    j->key_path[0] != '\0' ? j->key_path : "the tunnel's");
	}
	for (i = 0; i < cfg->nmore_keys; i++)
		printf("  then key %s\n", cfg->more_keys[i]);
	if (cfg->certificate_file[0] != '\0')
		printf("  certificate %s\n", cfg->certificate_file);
	printf("  ssh-agent %s\n",
	    cfg->agent_socket[0] != '\0' ? cfg->agent_socket : "none");
	if (cfg->host_key_pin[0] != '\0')
		printf("  host key pinned: %s\n", cfg->host_key_pin);
	else
		printf("  known_hosts %s%s%s (%s)\n", cfg->known_hosts,
		    cfg->global_known_hosts[0] != '\0' ? ", then " : "",
		    cfg->global_known_hosts,
		    cfg->host_key_policy == HOST_KEY_STRICT ? "strict" :
		                                              "accept-new");
	printf("  keepalive every %d s, dead after %d unanswered; connect "
	       "timeout %d s%s\n",
	    cfg->keepalive_interval, cfg->keepalive_count, cfg->connect_timeout,
	    cfg->exit_on_forward_failure ? "; exit on forward failure" : "");
	for (i = 0; i < cfg->nforwards; i++) {
		spec_format_forward(&cfg->forwards[i], spec, sizeof spec);
		printf("  forward %s\n", spec);
	}
	if (cfg->sshconfig_unused[0] != '\0')
		printf("  not used from ssh_config: %s\n",
		    cfg->sshconfig_unused);
}

/* What ExecStartPre= runs: everything short of connecting. */
static int
run_check(const struct tether_config *cfg)
{
	struct key_cert cert = { cfg->certificate_file,
		(cfg->given & CONFIG_GIVEN_CERTIFICATE) != 0 };
	struct error err;
	ssh_key key = NULL;

	error_clear(&err);
	if (cfg->key_path[0] != '\0' &&
	    key_load_for_auth(cfg->key_path, &cert, cfg->agent_available, &key,
	        &err) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		return err.code;
	}
	ssh_key_free(key);
	if (cfg->host_key_policy == HOST_KEY_STRICT &&
	    cfg->host_key_pin[0] == '\0' &&
	    access(cfg->known_hosts, R_OK) == -1 &&
	    access(cfg->global_known_hosts, R_OK) == -1) {
		fprintf(stderr,
		    "tether: known_hosts %s cannot be read, and the "
		    "host key policy is strict: add the bastion's key to it "
		    "(tether trust, or ssh-keyscan after checking the "
		    "fingerprint)\n",
		    cfg->known_hosts);
		return TETHER_EXIT_HOSTKEY;
	}
	printf("tether: %s: configuration OK (bastion %s:%d, %zu forward(s), "
	       "%s)\n",
	    cfg->name, cfg->bastion.host, cfg->bastion.port, cfg->nforwards,
	    cfg->key_path[0] != '\0' ? cfg->key_path : "ssh-agent");
	run_check_resolved(cfg);
	return TETHER_EXIT_OK;
}

static int
run_make_parent(const char *path, struct error *err)
{
	char dir[CONFIG_PATH_MAX];

	snprintf(dir, sizeof dir, "%s", path);
	if (mkdir_parents(dirname(dir), 0755) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "cannot create the directory of %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Default pidfile and log file for --daemon, next to the state file. */
static int
run_daemon_paths(struct run_request *req, struct error *err)
{
	char dir[CONFIG_PATH_MAX - 80];
	struct path_env env;

	paths_env_from_process(&env);
	if (req->cfg.state_dir[0] != '\0')
		snprintf(dir, sizeof dir, "%.900s", req->cfg.state_dir);
	else if (paths_run_runtime_dir(&env, geteuid() == 0, dir, sizeof dir) ==
	    -1)
		dir[0] = '\0';
	if (dir[0] == '\0' || mkdir_parents(dir, 0755) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "no directory for the pidfile; "
		    "give --pidfile and --log-file");
		return -1;
	}
	if (req->pidfile[0] == '\0')
		snprintf(req->pidfile, sizeof req->pidfile, "%s/%s.pid", dir,
		    req->cfg.name);
	if (req->logfile[0] == '\0')
		snprintf(req->logfile, sizeof req->logfile, "%s/%s.log", dir,
		    req->cfg.name);
	if (run_make_parent(req->pidfile, err) == -1 ||
	    run_make_parent(req->logfile, err) == -1)
		return -1;
	return 0;
}

#define RUN_LOG_MAX_DEFAULT (10LL * 1024 * 1024)

/*
 * The daemon's log is bounded: past TETHER_LOG_MAX_BYTES (default 10 MiB)
 * it is rotated once, to LOG.1, so it never takes more than twice that.
 */
static int
run_log_max(long long *max, struct error *err)
{
	const char *v = getenv("TETHER_LOG_MAX_BYTES");
	char *end;

	*max = RUN_LOG_MAX_DEFAULT;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	*max = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || *max < 1024) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "TETHER_LOG_MAX_BYTES='%.32s': give a number of bytes, "
		    "1024 or more",
		    v);
		return -1;
	}
	return 0;
}

static int
run_in_background(struct run_request *req)
{
	struct error err;
	pid_t pid = 0;
	int rc;

	error_clear(&err);
	if (run_daemon_paths(req, &err) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		return err.code;
	}
	rc = daemon_start(req->pidfile, req->logfile, &pid, &err);
	if (rc == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		return err.code;
	}
	if (rc == 1) {
		printf(
		    "tether: %s runs in the background as pid %ld (log %s)\n",
		    req->cfg.name, (long)pid, req->logfile);
		return -1; /* the caller exits 0 */
	}
	return 0;
}

static void
cmd_run_help(void)
{
	cli_print_run_help(stdout);
}

static int
cmd_run(int argc, char **argv)
{
	struct run_args args = { argc, argv };
	struct supervisor_hooks hooks = { reload_run_config, &args };
	struct run_request *req;
	struct logger lg;
	struct error err;
	long long log_max = 0;
	int rc;

	/* The request holds path buffers: keep it off the stack. */
	req = calloc(1, sizeof *req);
	if (req == NULL) {
		fprintf(stderr, "tether: out of memory\n");
		return TETHER_EXIT_FAILURE;
	}
	error_clear(&err);
	if (cli_parse_run(argc, argv, cmd_env_lookup, NULL, req, &err) == -1 ||
	    (!req->help && sshconfig_apply(&req->cfg, &err) == -1)) {
		fprintf(stderr, "tether: %s\n", err.msg);
		free(req);
		return err.code;
	}
	if (req->help || req->check) {
		rc = TETHER_EXIT_OK;
		if (req->help)
			cmd_run_help();
		else
			rc = run_check(&req->cfg);
		free(req);
		return rc;
	}
	if (req->daemon && run_log_max(&log_max, &err) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		free(req);
		return err.code;
	}
	if (req->daemon && (rc = run_in_background(req)) != 0) {
		free(req);
		return rc == -1 ? TETHER_EXIT_OK : rc;
	}
	log_init(&lg, req->cfg.name, req->cfg.verbose);
	if (req->daemon)
		log_set_rotation(&lg, req->logfile, log_max);
	rc = supervisor_run(&req->cfg, &lg, &hooks);
	log_deinit(&lg);
	free(req);
	return rc;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.summary = "keep a reverse tunnel up (foreground, --daemon, --check)",
	.exec = cmd_run,
	.help = cmd_run_help,
};
