/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether trust: show the bastion's host key and record it in known_hosts
 * after confirmation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "tether/exit.h"
#include "api.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "fsutil.h"
#include "hostkey.h"
#include "jump.h"
#include "jump_runner.h"
#include "key.h"

#define TRUST_TIMEOUT_SECONDS 15

/* -b, -J, -s and --known-hosts are the tunnel flags run has (cli.h). */
enum trust_opt {
	T_YES = RUN_OPT_LAST,
	T_PORT,
	T_HELP,
	T_USER,
};

static const struct cli_option trust_options[] = {
	{ RUN_OPT_BASTION, 'b', "bastion", "[USER@]HOST[:PORT]",
	    "the bastion (required)" },
	{ RUN_OPT_JUMP, 'J', "jump", "[USER@]HOST[:PORT][,...]",
	    "reached through these jump hosts: each one's key is checked and "
	    "recorded first" },
	{ RUN_OPT_KEY, 's', "key", "PATH",
	    "with -J: the key to sign in to the jump hosts with (default "
	    "ssh-agent)" },
	{ RUN_OPT_KNOWN_HOSTS, 0, "known-hosts", "FILE",
	    "where to record it (default ~/.ssh/known_hosts)" },
	{ T_YES, 'y', "yes", NULL, "record without asking" },
	{ T_PORT, 'p', "port", "PORT",
	    "the tunnel setup made for PORT: its bastion and its own "
	    "known_hosts, where a changed key is replaced" },
	{ T_USER, 0, "user", NULL, "with -p: a tunnel set up with --user" },
	{ T_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_trust_help(void)
{
	printf(
	    "usage: tether trust -b [USER@]HOST[:PORT] [-J JUMP[,...] [-s KEY]] "
	    "[--known-hosts FILE] [--yes]\n       tether trust -p PORT [--user] [--yes]\n\n"
	    "Connect to the bastion, show its host key fingerprint and, once "
	    "you confirm it\n(or with --yes), record it in known_hosts. "
	    "Nothing else is sent. With -J, each\njump host is trusted so "
	    "first, then signed in to (with -s or ssh-agent) to\nreach the "
	    "next. With -p, the\nbastion and known_hosts are "
	    "those of the tunnel setup made for PORT, and a\nkey that "
	    "changed (a rotated bastion) replaces the old one there; the "
	    "running\ntunnel notices and connects again.\n\n");
	cli_print_options(stdout, trust_options);
}

/* Reads a yes/no answer from the terminal. */
static int
trust_confirm(const char *what, const char *key)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr,
	    "The %s presents %s.\nDoes this fingerprint "
	    "match what its admin gave you? (yes/no) ",
	    what, key);
	if (fgets(answer, sizeof answer, stdin) == NULL)
		return 0;
	return strcmp(answer, "yes\n") == 0;
}

/* The key the bastion presents, into fp; approved by --yes or by you. */
static int
trust_approved(ssh_session ssh, const char *what, int yes, char *fp, size_t sz)
{
	hostkey_describe_public(ssh, fp, sz);
	return yes || trust_confirm(what, fp);
}

/*
 * The bastion's line, appended through fd: a file file_open_append_own
 * vetted, never libssh's own open of the path (it follows symlinks).
 */
static int
trust_append(ssh_session ssh, int fd, const char *path)
{
	char *entry = NULL;
	size_t len;
	int rc = -1;

	if (ssh_session_export_known_hosts_entry(ssh, &entry) != SSH_OK) {
		fprintf(stderr, "tether: cannot write %s: %s\n", path,
		    ssh_get_error(ssh));
		return -1;
	}
	len = strlen(entry);
	if (write(fd, entry, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	else
		fprintf(stderr, "tether: cannot write %s: %s\n", path,
		    strerror(errno));
	ssh_string_free_char(entry);
	return rc;
}

/* The rotated-key path: confirm the new key, then it replaces the old. */
static int
trust_replace(ssh_session ssh, const struct tether_config *cfg,
    const char *what, int yes)
{
	char fp[160] = "", *entry = NULL;
	struct error err;
	int rc = TETHER_EXIT_FAILURE;

	error_clear(&err);
	if (!trust_approved(ssh, what, yes, fp, sizeof fp)) {
		fprintf(stderr,
		    "tether: not replaced: the %s now presents %s, not "
		    "the key in %s; rerun with --yes once its admin has "
		    "confirmed the new key\n",
		    what, fp, cfg->known_hosts);
		return TETHER_EXIT_HOSTKEY;
	}
	if (ssh_session_export_known_hosts_entry(ssh, &entry) != SSH_OK)
		fprintf(stderr, "tether: cannot write %s: %s\n",
		    cfg->known_hosts, ssh_get_error(ssh));
	else if (hostkey_replace_known(cfg->known_hosts, &cfg->bastion, entry,
	             &err) == -1)
		fprintf(stderr, "tether: %s\n", err.msg);
	else {
		printf("Replaced the key of the %s in %s: now %s. A "
		       "tunnel waiting on it notices and connects again.\n",
		    what, cfg->known_hosts, fp);
		rc = TETHER_EXIT_OK;
	}
	ssh_string_free_char(entry);
	return rc;
}

static int
trust_run(const struct tether_config *cfg, const char *role, int yes,
    int replace)
{
	const struct bastion_spec *b = &cfg->bastion;
	char pattern[SPEC_HOST_MAX + 16], what[SPEC_HOST_MAX + 32],
	    fp[160] = "";
	long timeout = TRUST_TIMEOUT_SECONDS;
	struct tether_config strict = *cfg;
	enum hostkey_status status;
	struct hostkey_match match;
	ssh_session ssh;
	struct jump_runner *jumps;
	struct logger jump_log;
	struct error err;
	int zero = 0, rc, fd;

	error_clear(&err);
	hostkey_host_pattern(b, pattern, sizeof pattern);
	ssh = ssh_new();
	if (ssh == NULL)
		return TETHER_EXIT_FAILURE;
	ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &zero);
	ssh_options_set(ssh, SSH_OPTIONS_HOST, b->host);
	ssh_options_set(ssh, SSH_OPTIONS_PORT, &b->port);
	ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, cfg->known_hosts);
	ssh_options_set(ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, cfg->known_hosts);
	ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout);
	strict.host_key_policy = HOST_KEY_STRICT;
	strict.connect_timeout = (int)timeout;
	log_init(&jump_log, cfg->name, 0);
	jump_log.max_level = LOG_ERR;
	if (jump_runner_connect(ssh, &strict, &jump_log, &jumps, &err) !=
	    SSH_OK) {
		fprintf(stderr, "tether: cannot reach the %s %s: %s\n", role,
		    pattern, err.msg);
		ssh_free(ssh);
		jump_runner_stop(jumps);
		return err.code != 0 ? err.code : TETHER_EXIT_FAILURE;
	}
	snprintf(what, sizeof what, "%s %s", role, pattern);
	status = hostkey_check(ssh, cfg->known_hosts, b, &match);
	if (status == HOSTKEY_KNOWN) {
		printf("The %s %s is already trusted in %s.\n", role, pattern,
		    cfg->known_hosts);
		rc = TETHER_EXIT_OK;
	} else if (status == HOSTKEY_CHANGED && replace) {
		rc = trust_replace(ssh, cfg, what, yes);
	} else if (status != HOSTKEY_UNKNOWN) {
		/* The strict check words the refusal and its fix. */
		error_clear(&err);
		hostkey_verify(ssh, &strict, NULL, &err);
		fprintf(stderr, "tether: %s\n", err.msg);
		rc = TETHER_EXIT_HOSTKEY;
	} else if ((fd = file_open_append_own(cfg->known_hosts, &err)) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		rc = TETHER_EXIT_FAILURE;
	} else {
		if (!trust_approved(ssh, what, yes, fp, sizeof fp)) {
			fprintf(stderr,
			    "tether: not recorded: the %s "
			    "presents %s; rerun with --yes once you have checked "
			    "it\n",
			    what, fp);
			rc = TETHER_EXIT_HOSTKEY;
		} else if (trust_append(ssh, fd, cfg->known_hosts) == -1) {
			rc = TETHER_EXIT_FAILURE;
		} else {
			printf("Recorded the %s %s (%s) in %s.\n", role,
			    pattern, fp, cfg->known_hosts);
			rc = TETHER_EXIT_OK;
		}
		close(fd);
	}
	ssh_disconnect(ssh);
	ssh_free(ssh);
	jump_runner_stop(jumps);
	return rc;
}

/*
 * Each jump host in turn, through the ones before it (whose keys are then
 * known), then every bastion, most preferred first: a chain is trusted one
 * hop at a time, and a tunnel that fails over finds each bastion known.
 */
static int
trust_way(const struct tether_config *cfg, int yes, int replace)
{
	struct tether_config *one;
	size_t i, n = cfg->nbastions > 1 ? cfg->nbastions : 1;
	int rc = TETHER_EXIT_OK;

	if ((one = malloc(sizeof *one)) == NULL)
		return TETHER_EXIT_FAILURE;
	for (i = 0; i < cfg->njumps && rc == TETHER_EXIT_OK; i++) {
		jump_config_through(cfg, i, one);
		rc = trust_run(one, "jump host", yes, replace);
	}
	for (i = 0; i < n && rc == TETHER_EXIT_OK; i++) {
		*one = *cfg;
		if (cfg->nbastions > 1)
			one->bastion = cfg->bastions[i];
		rc = trust_run(one, "bastion", yes, replace);
	}
	free(one);
	return rc;
}

/* Jump hosts are signed in to as run does: the key, else ssh-agent. */
static void
trust_agent_from_env(struct tether_config *cfg)
{
	const char *sock = getenv("SSH_AUTH_SOCK");

	if (cfg->given & CONFIG_GIVEN_AGENT || sock == NULL ||
	    strlen(sock) >= sizeof cfg->agent_socket)
		return;
	memcpy(cfg->agent_socket, sock, strlen(sock) + 1);
	cfg->agent_available = sock[0] != '\0';
}

static int
trust_flag_failed(const struct error *err)
{
	fprintf(stderr, "tether: %s\n", err->msg);
	return err->code;
}

/* -p PORT: the config setup wrote for that port, in place of -b. */
static int
trust_load_tunnel(struct tether_config *cfg, const char *arg,
    enum tether_mode mode)
{
	struct tether_paths paths;
	char conf[CONFIG_PATH_MAX];
	struct error err;
	int port;

	error_clear(&err);
	if (cli_port_arg("-p", arg, &port) == -1)
		return TETHER_EXIT_USAGE;
	if (api_paths(mode, &paths, &err) == -1 ||
	    paths_join_port(conf, sizeof conf, paths.config_dir, port,
	        ".conf") == -1) {
		fprintf(stderr, "tether: %s\n",
		    err.msg[0] != '\0' ? err.msg :
		                         "the config path is too long");
		return TETHER_EXIT_CONFIG;
	}
	if (!file_exists(conf)) {
		fprintf(stderr,
		    "tether: no tunnel on port %d (nothing at %s)%s\n", port,
		    conf,
		    mode == TETHER_MODE_SYSTEM ?
		        "; for a user tunnel add --user" :
		        "");
		return TETHER_EXIT_CONFIG;
	}
	if (config_load_file(cfg, conf, &err) == -1) {
		fprintf(stderr, "tether: %s\n", err.msg);
		return err.code;
	}
	if (cfg->host_key_pin[0] != '\0') {
		fprintf(stderr,
		    "tether: tunnel %d pins the bastion's key (host_key = %s in "
		    "%s), so known_hosts is not used: run setup again with the "
		    "new --host-key\n",
		    port, cfg->host_key_pin, conf);
		return TETHER_EXIT_CONFIG;
	}
	return TETHER_EXIT_OK;
}

static int
cmd_trust(int argc, char **argv)
{
	struct tether_config *cfg;
	struct cli_parser p;
	struct error err;
	const char *arg, *port = NULL;
	enum tether_mode mode = geteuid() == 0 ? TETHER_MODE_SYSTEM :
	                                         TETHER_MODE_USER;
	int id, yes = 0, kh_given = 0, rc = TETHER_EXIT_OK;
	struct cli_seen seen = { 0, 0 };

	cfg = malloc(sizeof *cfg);
	if (cfg == NULL)
		return TETHER_EXIT_FAILURE;
	config_init_defaults(cfg, getenv("HOME"));
	error_clear(&err);
	cli_parser_init(&p, argc, argv);
	while (rc == TETHER_EXIT_OK &&
	    (id = cli_next(&p, trust_options, &arg, &err)) != CLI_END) {
		if (id == CLI_ERROR || id == CLI_OPERAND) {
			fprintf(stderr, "tether: %s\n",
			    id == CLI_ERROR ?
			        err.msg :
			        "unexpected argument; see tether trust --help");
			rc = TETHER_EXIT_USAGE;
		} else if (id == T_HELP) {
			cmd_trust_help();
			free(cfg);
			return TETHER_EXIT_OK;
		} else if (id == T_YES) {
			yes = 1;
		} else if (id == T_USER) {
			mode = TETHER_MODE_USER;
		} else if (id == T_PORT) {
			port = arg;
		} else {
			kh_given |= id == RUN_OPT_KNOWN_HOSTS;
			if (cli_apply_tunnel_flag(cfg, id, arg, &seen, &err) ==
			    -1)
				rc = trust_flag_failed(&err);
		}
	}
	/* -p brings the tunnel's own bastion and known_hosts. */
	if (rc == TETHER_EXIT_OK && port != NULL &&
	    (cfg->has_bastion || kh_given)) {
		fprintf(stderr,
		    "tether: trust -p PORT uses that tunnel's bastion and "
		    "known_hosts: drop -b and --known-hosts\n");
		rc = TETHER_EXIT_USAGE;
	}
	if (rc == TETHER_EXIT_OK && port != NULL)
		rc = trust_load_tunnel(cfg, port, mode);
	if (rc == TETHER_EXIT_OK && !cfg->has_bastion) {
		fprintf(stderr,
		    "tether: trust needs -b [USER@]HOST[:PORT], or -p PORT for "
		    "a tunnel setup made\n");
		rc = TETHER_EXIT_USAGE;
	}
	if (rc == TETHER_EXIT_OK) {
		trust_agent_from_env(cfg);
		rc = trust_way(cfg, yes, port != NULL);
	}
	free(cfg);
	return rc;
}

const struct cmd_entry cmd_trust_entry = {
	.name = "trust",
	.summary = "check and record the bastion's host key",
	.exec = cmd_trust,
	.help = cmd_trust_help,
};
