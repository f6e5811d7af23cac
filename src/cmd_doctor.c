/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether doctor: checks a tunnel's setup end to end and explains each
 * finding with its fix: the key (or ssh-agent), the bastion's entry in
 * known_hosts, reaching the bastion, its host key, authentication, and
 * whether each forward can bind there. Then the bastion-side advice.
 *
 * It opens one real, blocking libssh session and sends nothing but the
 * key exchange, the authentication and, per forward, a tcpip-forward
 * request that it cancels at once. known_hosts is only read.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "dial.h"
#include "jump_runner.h"
#include "tether/exit.h"
#include "agent.h"
#include "cert.h"
#include "cli.h"
#include "bastion_line.h"
#include "cmd.h"
#include "config.h"
#include "fsutil.h"
#include "hostkey.h"
#include "key.h"
#include "paths.h"
#include "sshconfig.h"

#define DOCTOR_TARGET_TIMEOUT_MS 2000
#define DOCTOR_PUB_MAX 16384
#define DOCTOR_DROPIN_MAX ((size_t)16 * 1024)

/* doctor's own, besides the tunnel flags it shares with run. */
enum doctor_opt {
	D_USER = RUN_OPT_LAST,
};

static const struct cli_option doctor_options[] = {
	{ RUN_OPT_PORT, 'p', "port", "PORT",
	    "an installed tunnel (with -b: the port to check)" },
	{ D_USER, 0, "user", NULL, "with -p: a user tunnel, not a system one" },
	{ RUN_OPT_CONFIG, 'c', "config", "FILE",
	    "a tunnel's configuration file" },
	CLI_TUNNEL_OPTIONS,
	{ RUN_OPT_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

enum verdict {
	V_OK,
	V_WARN,
	V_FAIL,
	V_SKIP,
};

struct doctor {
	struct tether_config cfg;
	enum tether_mode mode;
	int installed;                    /* -p PORT of an installed tunnel */
	char conf_path[CONFIG_PATH_MAX];  /* the file read, "" = none */
	char service_user[SPEC_USER_MAX]; /* the unit's User=, "" = unknown */
	char login[SPEC_USER_MAX];        /* the user on the bastion */
	char pattern[SPEC_HOST_MAX + 16]; /* known_hosts' name of it */
	ssh_key key;                      /* NULL = ssh-agent */
	char pub[DOCTOR_PUB_MAX];         /* "TYPE BASE64"; "" = unknown */
	ssh_session ssh;
	struct jump_runner *jumps; /* the way through jump hosts, if any */
	struct logger jump_log;    /* theirs: errors only, the report says */
	int first_fail; /* exit code of the first failed check; 0 = none */
	int warnings;
};

static void
cmd_doctor_help(void)
{
	printf(
	    "usage: tether doctor -p PORT [--user]\n"
	    "       tether doctor -c FILE\n"
	    "       tether doctor -b USER@HOST [-s KEY] -p PORT | -R SPEC "
	    "[options]\n\n"
	    "Check a tunnel end to end, one line per check (ok, warn or "
	    "FAIL, with the fix):\nthe key or ssh-agent, the bastion in "
	    "known_hosts, reaching the bastion, its\nhost key, "
	    "authentication, and whether each forward can bind there (asked "
	    "and\nreleased at once; a port the running tunnel holds is fine). "
	    "Then what to set\non the bastion. With -p PORT alone it checks "
	    "the installed tunnel\n(/etc/tether/PORT.conf, or "
	    "~/.config/tether/PORT.conf with --user).\nExit 0 when every "
	    "check passes (warnings allowed), else the exit code of\nthe "
	    "first failed check (see tether(1): 1 unreachable, 3 config, 4 "
	    "key,\n5 host key, 6 authentication, 7 forward).\n\n");
	cli_print_options(stdout, doctor_options);
}

static void report(struct doctor *, enum verdict, int kind, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
report(struct doctor *d, enum verdict v, int kind, const char *what,
    const char *fmt, ...)
{
	static const char *const words[] = { "ok", "warn", "FAIL", "skip" };
	char msg[2 * ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	printf("%-4s  %s: %s\n", words[v], what, msg);
	fflush(stdout);
	if (v == V_FAIL && d->first_fail == 0)
		d->first_fail = kind != 0 ? kind : TETHER_EXIT_FAILURE;
	if (v == V_WARN)
		d->warnings++;
}

/* ---- which tunnel ------------------------------------------------------ */

struct doctor_args {
	const char *port;
	const char *config;
	int has_bastion;
	int user;
	int help;
};

static int
doctor_scan(int argc, char **argv, struct doctor_args *a, struct error *err)
{
	struct cli_parser p;
	const char *arg;
	int id;

	memset(a, 0, sizeof *a);
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, doctor_options, &arg, err)) != CLI_END) {
		if (id == CLI_ERROR)
			return -1;
		if (id == CLI_OPERAND) {
			error_set(err, TETHER_EXIT_USAGE,
			    "unexpected argument '%.64s'; see tether doctor "
			    "--help",
			    arg);
			return -1;
		}
		if (id == RUN_OPT_PORT)
			a->port = arg;
		else if (id == RUN_OPT_CONFIG)
			a->config = arg;
		else if (id == RUN_OPT_BASTION)
			a->has_bastion = 1;
		else if (id == D_USER)
			a->user = 1;
		else if (id == RUN_OPT_HELP)
			a->help = 1;
	}
	return 0;
}

/* User= of the drop-in setup wrote for a system tunnel, if any. */
static void
doctor_service_user(struct doctor *d, int port)
{
	struct tether_paths paths;
	struct path_env env;
	struct error ignored;
	char path[CONFIG_PATH_MAX], *text = NULL, *line, *save = NULL;

	paths_env_from_process(&env);
	if (paths_for_mode(TETHER_MODE_SYSTEM, &env, &paths) != 0 ||
	    (size_t)snprintf(path, sizeof path,
	        "%s/tether@%d.service.d/50-tether-user.conf", paths.unit_dir,
	        port) >= sizeof path)
		return;
	error_clear(&ignored);
	if (file_read(path, DOCTOR_DROPIN_MAX, &text, &ignored) == -1)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "User=", 5) == 0 &&
		    spec_user_is_valid(line + 5))
			snprintf(d->service_user, sizeof d->service_user, "%s",
			    line + 5);
	}
	free(text);
}

/* The installed tunnel's config file for -p PORT, if there is one. */
static int
doctor_installed(struct doctor *d, const struct doctor_args *a,
    struct error *err)
{
	struct tether_paths paths;
	struct path_env env;
	int port;

	if (spec_parse_port(a->port, 1, &port) == -1) {
		error_set(err, TETHER_EXIT_USAGE,
		    "-p '%.32s': the port must be a number from 1 to 65535",
		    a->port);
		return -1;
	}
	paths_env_from_process(&env);
	if (paths_for_mode(d->mode, &env, &paths) != 0 ||
	    paths_join_port(d->conf_path, sizeof d->conf_path, paths.config_dir,
	        port, ".conf") == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "cannot tell where user tunnels live: HOME is not set");
		return -1;
	}
	if (access(d->conf_path, F_OK) == 0) {
		d->installed = 1;
		if (d->mode == TETHER_MODE_SYSTEM)
			doctor_service_user(d, port);
		return 0;
	}
	if (getenv("TETHER_BASTION") != NULL ||
	    getenv("SCITEX_TUNNEL_BASTION_SERVER") != NULL) {
		d->conf_path[0] = '\0'; /* -p with the bastion from the env */
		return 0;
	}
	error_set(err, TETHER_EXIT_CONFIG,
	    "no installed tunnel on port %d: %s does not exist; %s, or give "
	    "-b USER@HOST and -s KEY to check one that is not installed",
	    port, d->conf_path,
	    d->mode == TETHER_MODE_SYSTEM ? "add --user for a user tunnel" :
	                                    "drop --user for a system tunnel");
	return -1;
}

static const char *
doctor_home(const struct doctor *d, char *buf, size_t sz)
{
	struct passwd pw, *res = NULL;

	if (d->service_user[0] != '\0' &&
	    getpwnam_r(d->service_user, &pw, buf, sz, &res) == 0 && res != NULL)
		return pw.pw_dir;
	return getenv("HOME");
}

/* Layers defaults, the file, the environment (not for an installed
 * tunnel: its service does not see ours) and the flags. */
static int
doctor_config(struct doctor *d, int argc, char **argv, struct error *err)
{
	struct tether_config *cfg = &d->cfg;
	struct doctor_args a;
	struct cli_parser p;
	const char *arg;
	char pwbuf[4096];
	struct cli_seen seen = { 0, 0 };
	int id, agent;

	if (doctor_scan(argc, argv, &a, err) == -1)
		return -1;
	if (a.help)
		return 1;
	if (a.port == NULL && a.config == NULL && !a.has_bastion &&
	    getenv("TETHER_BASTION") == NULL &&
	    getenv("SCITEX_TUNNEL_BASTION_SERVER") == NULL) {
		error_set(err, TETHER_EXIT_USAGE,
		    "doctor needs -p PORT (an installed tunnel), -c FILE or "
		    "-b USER@HOST; see tether doctor --help");
		return -1;
	}
	d->mode = a.user ? TETHER_MODE_USER : TETHER_MODE_SYSTEM;
	if (a.port != NULL && a.config == NULL && !a.has_bastion &&
	    doctor_installed(d, &a, err) == -1)
		return -1;
	if (a.config != NULL)
		snprintf(d->conf_path, sizeof d->conf_path, "%s", a.config);
	config_init_defaults(cfg, doctor_home(d, pwbuf, sizeof pwbuf));
	if (d->conf_path[0] != '\0' &&
	    config_load_file(cfg, d->conf_path, err) == -1)
		return -1;
	if (!d->installed &&
	    config_apply_env(cfg, cmd_env_lookup, NULL, err) == -1)
		return -1;
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, doctor_options, &arg, err)) != CLI_END) {
		if (id == CLI_ERROR || id == CLI_OPERAND)
			return -1;
		/* An installed tunnel's -p chose the file: it is no forward. */
		if (id == RUN_OPT_PORT && d->installed)
			continue;
		if (cli_apply_tunnel_flag(cfg, id, arg, &seen, err) == -1)
			return -1;
	}
	/* The key check below explains a missing key and agent better. */
	agent = cfg->agent_available;
	cfg->agent_available = 1;
	/* The bastion run would reach: the user's ssh_config applies here too. */
	if (config_finish(cfg, err) == -1 || sshconfig_apply(cfg, err) == -1)
		return -1;
	cfg->agent_available = agent;
	return 0;
}

/* ---- the key ------------------------------------------------------------ */

static void
doctor_agent(struct doctor *d)
{
	const char *sock = d->cfg.agent_socket;
	char why[256];
	long n;

	if (sock[0] == '\0') {
		report(d, V_FAIL, TETHER_EXIT_KEY, "key",
		    "no key given and no ssh-agent (SSH_AUTH_SOCK is not "
		    "set, or IdentityAgent is none); give the private key with -s KEY, or start "
		    "ssh-agent and ssh-add the key");
		return;
	}
	n = agent_key_count(sock, why, sizeof why);
	if (n < 0)
		report(d, V_FAIL, TETHER_EXIT_KEY, "key",
		    "no key given, and the ssh-agent at %s does not answer "
		    "(%s); start it again (eval \"$(ssh-agent)\") and ssh-add "
		    "the key, or give -s KEY",
		    sock, why);
	else if (n == 0)
		report(d, V_FAIL, TETHER_EXIT_KEY, "key",
		    "no key given, and the ssh-agent at %s holds no keys; add "
		    "the tunnel's key with ssh-add KEY, or give -s KEY",
		    sock);
	else
		report(d, V_OK, 0, "key",
		    "no key given: the ssh-agent at %s holds %ld key%s", sock,
		    n, n == 1 ? "" : "s");
}

/* "TYPE BASE64" and the SHA256 fingerprint of the key's public half. */
static void
doctor_describe_key(struct doctor *d, char *fp, size_t fpsz)
{
	ssh_key pub = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *b64 = NULL, *f;

	snprintf(fp, fpsz, "(no fingerprint)");
	if (ssh_pki_export_privkey_to_pubkey(d->key, &pub) != SSH_OK)
		return;
	if (ssh_pki_export_pubkey_base64(pub, &b64) == SSH_OK)
		snprintf(d->pub, sizeof d->pub, "%s %s",
		    ssh_key_type_to_char(ssh_key_type(pub)), b64);
	if (ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
	        &hlen) == SSH_OK) {
		f = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		if (f != NULL)
			snprintf(fp, fpsz, "%s %s",
			    ssh_key_type_to_char(ssh_key_type(pub)), f);
		ssh_string_free_char(f);
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_string_free_char(b64);
	ssh_key_free(pub);
}

static void
doctor_key(struct doctor *d)
{
	const char *path = d->cfg.key_path;
	struct key_cert cert = { d->cfg.certificate_file,
		(d->cfg.given & CONFIG_GIVEN_CERTIFICATE) != 0 };
	struct passwd pw, *res = NULL;
	char fp[192], owner[64], pwbuf[4096];
	struct error err;
	struct stat st;

	if (path[0] == '\0') {
		doctor_agent(d);
		return;
	}
	error_clear(&err);
	if (access(path, F_OK) == 0 && access(path, R_OK) == -1) {
		report(d, V_FAIL, TETHER_EXIT_KEY, "key",
		    "cannot read %s as uid %ld (%s); run tether doctor as "
		    "root or as the tunnel's user",
		    path, (long)geteuid(), strerror(errno));
		return;
	}
	if (key_load(path, &cert, &d->key, &err) == -1) {
		report(d, V_FAIL, err.code, "key", "%s", err.msg);
		return;
	}
	if (stat(path, &st) == -1) {
		report(d, V_FAIL, TETHER_EXIT_KEY, "key", "%s: %s", path,
		    strerror(errno));
		return;
	}
	if (getpwuid_r(st.st_uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 &&
	    res != NULL)
		snprintf(owner, sizeof owner, "%s", pw.pw_name);
	else
		snprintf(owner, sizeof owner, "uid %ld", (long)st.st_uid);
	doctor_describe_key(d, fp, sizeof fp);
	if (d->service_user[0] != '\0' && strcmp(d->service_user, owner) != 0) {
		report(d, V_FAIL, TETHER_EXIT_KEY, "key",
		    "%s belongs to %s, but tether@%s.service runs as %s, who "
		    "cannot read it; run: chown %s %s",
		    path, owner, d->cfg.name, d->service_user, d->service_user,
		    path);
		return;
	}
	report(d, V_OK, 0, "key", "%s: %s, not encrypted, mode %04o, owner %s",
	    path, fp, (unsigned)(st.st_mode & 07777), owner);
}

/* The certificate sent with the key: the configured one, else KEY-cert.pub. */
static void
doctor_certificate_path(const struct doctor *d, char *out, size_t sz)
{
	if (d->cfg.certificate_file[0] != '\0') {
		snprintf(out, sz, "%s", d->cfg.certificate_file);
		return;
	}
	if ((size_t)snprintf(out, sz, "%s-cert.pub", d->cfg.key_path) >= sz ||
	    access(out, F_OK) == -1)
		out[0] = '\0';
}

static void
doctor_format_time(uint64_t t, char *out, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t > (uint64_t)INT64_MAX / 2 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, sz, "forever");
	else
		strftime(out, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Who the certificate lets in, until when: warned a week before it ends. */
static void
doctor_certificate(struct doctor *d)
{
	char path[CONFIG_PATH_MAX + 16], until[32], from[32];
	struct cert_info ci;
	struct error err;
	uint64_t now = (uint64_t)time(NULL);

	doctor_certificate_path(d, path, sizeof path);
	if (path[0] == '\0' || d->key == NULL)
		return;
	error_clear(&err);
	if (cert_read(path, &ci, &err) == -1) {
		report(d, V_FAIL, err.code, "certificate", "%s", err.msg);
		return;
	}
	doctor_format_time(ci.valid_before, until, sizeof until);
	doctor_format_time(ci.valid_after, from, sizeof from);
	if (now < ci.valid_after)
		report(d, V_FAIL, TETHER_EXIT_KEY, "certificate",
		    "%s is not valid before %s; check this machine's clock, or "
		    "sign the key again",
		    path, from);
	else if (now >= ci.valid_before)
		report(d, V_FAIL, TETHER_EXIT_KEY, "certificate",
		    "%s expired at %s; ask the CA to sign %s.pub again", path,
		    until, d->cfg.key_path);
	else if (!cert_allows(&ci, d->login))
		report(d, V_FAIL, TETHER_EXIT_KEY, "certificate",
		    "%s is for %s, not for %s, the user tether logs in as; "
		    "have it signed with -n %s",
		    path, ci.principals, d->login, d->login);
	else if (ci.valid_before - now < (uint64_t)7 * 86400)
		report(d, V_WARN, 0, "certificate",
		    "%s (ID \"%s\") expires at %s, in %llu hours; renew it "
		    "before then",
		    path, ci.key_id, until,
		    (unsigned long long)((ci.valid_before - now) / 3600));
	else
		report(d, V_OK, 0, "certificate",
		    "%s: ID \"%s\", principals %s, valid until %s", path,
		    ci.key_id, ci.principals[0] != '\0' ? ci.principals : "any",
		    until);
}

/* ---- the bastion ---------------------------------------------------------- */

static ssh_session
doctor_session(const struct doctor *d)
{
	const struct bastion_spec *b = &d->cfg.bastion;
	long timeout = d->cfg.connect_timeout;
	ssh_session ssh = ssh_new();
	int zero = 0;

	if (ssh == NULL)
		return NULL;
	if (ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_options_set(ssh, SSH_OPTIONS_HOST, b->host) < 0 ||
	    ssh_options_set(ssh, SSH_OPTIONS_PORT, &b->port) < 0 ||
	    ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, d->cfg.known_hosts) <
	        0 ||
	    ssh_options_set(ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	        d->cfg.known_hosts) < 0 ||
	    ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    (d->login[0] != '\0' &&
	        ssh_options_set(ssh, SSH_OPTIONS_USER, d->login) < 0)) {
		ssh_free(ssh);
		return NULL;
	}
	return ssh;
}

static void
doctor_known_hosts(struct doctor *d)
{
	const char *kh = d->cfg.known_hosts;
	const char *missing = access(kh, F_OK) == 0 ? "" :
	                                              " (the file does not "
	                                              "exist)";
	ssh_session ssh;
	enum ssh_known_hosts_e known;

	if (d->cfg.host_key_pin[0] != '\0') {
		report(d, V_OK, 0, "known_hosts",
		    "not needed: the bastion's key is pinned (host_key %s)",
		    d->cfg.host_key_pin);
		return;
	}
	if ((ssh = doctor_session(d)) == NULL) {
		report(d, V_FAIL, TETHER_EXIT_FAILURE, "known_hosts",
		    "cannot prepare a session (out of memory?)");
		return;
	}
	known = ssh_session_has_known_hosts_entry(ssh);
	ssh_free(ssh);
	if (known == SSH_KNOWN_HOSTS_OK)
		report(d, V_OK, 0, "known_hosts", "%s holds a key for %s", kh,
		    d->pattern);
	else if (d->cfg.host_key_policy == HOST_KEY_ACCEPT_NEW)
		report(d, V_WARN, 0, "known_hosts",
		    "%s holds no key for %s yet%s; with host_key_policy = "
		    "accept-new the first key the bastion shows is recorded: "
		    "compare the fingerprint below with the bastion's admin",
		    kh, d->pattern, missing);
	else
		report(d, V_FAIL, TETHER_EXIT_HOSTKEY, "known_hosts",
		    "%s holds no key for %s%s; check the bastion's fingerprint "
		    "with its admin, then record it: tether trust -b %s%s%s:%d "
		    "--known-hosts %s",
		    kh, d->pattern, missing, d->cfg.bastion.user,
		    d->cfg.bastion.user[0] != '\0' ? "@" : "",
		    d->cfg.bastion.host, d->cfg.bastion.port, kh);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* 0 = connected, host key trusted; -1 = not reached; -2 = key refused. */
static int
doctor_connect(struct doctor *d)
{
	const struct bastion_spec *b = &d->cfg.bastion;
	struct tether_config strict;
	struct hostkey_match match;
	const char *banner;
	char fp[160] = "(unknown key)";
	struct error err;
	double t0;

	if ((d->ssh = doctor_session(d)) == NULL) {
		report(d, V_FAIL, TETHER_EXIT_FAILURE, "reach",
		    "cannot prepare a session for %s port %d", b->host,
		    b->port);
		return -1;
	}
	t0 = now_ms();
	error_clear(&err);
	log_init(&d->jump_log, d->cfg.name, 0);
	d->jump_log.max_level = LOG_ERR;
	if (jump_runner_connect(d->ssh, &d->cfg, &d->jump_log, &d->jumps,
	        &err) != SSH_OK) {
		if (d->cfg.njumps > 0 && d->jumps == NULL)
			report(d, V_FAIL, err.code, "jump hosts",
			    "%s; fix that hop (tether doctor -b HOP checks it alone)",
			    err.msg);
		else
			report(d, V_FAIL, err.code, "reach",
			    "cannot reach the bastion %s port %d: %s; check "
			    "the host and port of the bastion, that sshd runs "
			    "there, and any firewall in between",
			    b->host, b->port, err.msg);
		return -1;
	}
	if (d->cfg.njumps > 0)
		report(d, V_OK, 0, "jump hosts",
		    "%zu jump host(s) reached, their keys trusted, signed in; the way to the bastion open",
		    d->cfg.njumps);
	banner = ssh_get_serverbanner(d->ssh);
	report(d, V_OK, 0, "reach", "%s port %d answered in %.0f ms (%s)",
	    b->host, b->port, now_ms() - t0,
	    banner != NULL ? banner : "no banner");
	hostkey_describe_public(d->ssh, fp, sizeof fp);
	error_clear(&err);
	if (d->cfg.host_key_pin[0] != '\0') {
		if (hostkey_verify(d->ssh, &d->cfg, NULL, &err) == 0) {
			report(d, V_OK, 0, "host key",
			    "%s matches the pinned key", fp);
			return 0;
		}
		report(d, V_FAIL, TETHER_EXIT_HOSTKEY, "host key", "%s",
		    err.msg);
		return -2;
	}
	switch (hostkey_check(d->ssh, d->cfg.known_hosts, b, &match)) {
	case HOSTKEY_KNOWN:
		report(d, V_OK, 0, "host key", "%s matches %s line %d", fp,
		    d->cfg.known_hosts, match.known_line);
		return 0;
	case HOSTKEY_UNKNOWN:
		if (d->cfg.host_key_policy == HOST_KEY_ACCEPT_NEW) {
			report(d, V_WARN, 0, "host key",
			    "the bastion presents %s, not yet in %s; the "
			    "tunnel will record it on its first connection "
			    "(accept-new): make sure it is the bastion's",
			    fp, d->cfg.known_hosts);
			return 0;
		}
		break;
	case HOSTKEY_CHANGED:
	case HOSTKEY_ERROR:
	default:
		break;
	}
	/* The strict check words the refusal and its fix. */
	strict = d->cfg;
	strict.host_key_policy = HOST_KEY_STRICT;
	hostkey_verify(d->ssh, &strict, NULL, &err);
	report(d, V_FAIL, TETHER_EXIT_HOSTKEY, "host key", "%s", err.msg);
	return -2;
}

static int
doctor_auth(struct doctor *d)
{
	const char *what = d->key != NULL ? d->cfg.key_path :
	                                    "the agent's keys";
	int rc;

	if (d->key == NULL && d->cfg.key_path[0] != '\0') {
		report(d, V_SKIP, 0, "auth", "not tried: the key is unusable");
		return -1;
	}
	rc = d->key != NULL ? ssh_userauth_publickey(d->ssh, NULL, d->key) :
	                      ssh_userauth_agent(d->ssh, NULL);
	switch (rc) {
	case SSH_AUTH_SUCCESS:
		report(d, V_OK, 0, "auth",
		    "the bastion accepted %s for user %s", what, d->login);
		return 0;
	case SSH_AUTH_DENIED:
		report(d, V_FAIL, TETHER_EXIT_AUTH, "auth",
		    "the bastion refused %s for user %s; add the public key "
		    "to %s's ~/.ssh/authorized_keys there (the line is below)",
		    what, d->login, d->login);
		return -1;
	case SSH_AUTH_PARTIAL:
		report(d, V_FAIL, TETHER_EXIT_AUTH, "auth",
		    "the bastion accepted %s for user %s but asks for another "
		    "method too (AuthenticationMethods); tether signs in with "
		    "a key only, so let that account in with the key alone",
		    what, d->login);
		return -1;
	default:
		report(d, V_FAIL, TETHER_EXIT_FAILURE, "auth",
		    "authentication as %s failed: %s", d->login,
		    ssh_get_error(d->ssh));
		return -1;
	}
}

/* The bastion's host and port as in a state file ("[user@]host:port"). */
static int
state_same_bastion(const struct doctor *d, const char *s)
{
	const char *at = strrchr(s, '@');
	char want[SPEC_HOST_MAX + 16];

	snprintf(want, sizeof want, "%s:%d", d->cfg.bastion.host,
	    d->cfg.bastion.port);
	return strcmp(at != NULL ? at + 1 : s, want) == 0;
}

/* The pid of a running tether whose state file says it holds port. */
static long
state_holder_in(const struct doctor *d, const char *dirpath, int port)
{
	char path[CONFIG_PATH_MAX + 256];
	struct dirent *de;
	json_t *st, *fw;
	long found = 0;
	size_t i, len;
	DIR *dir;

	if (dirpath[0] == '\0' || (dir = opendir(dirpath)) == NULL)
		return 0;
	while (found == 0 && (de = readdir(dir)) != NULL) {
		const char *bastion;
		json_int_t pid;

		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
		if ((st = json_load_file(path, 0, NULL)) == NULL)
			continue;
		pid = json_integer_value(json_object_get(st, "pid"));
		bastion = json_string_value(json_object_get(st, "bastion"));

		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
		    bastion != NULL && state_same_bastion(d, bastion)) {
			json_array_foreach(json_object_get(st, "forwards"), i,
			    fw) {
				const char *fs = json_string_value(
				    json_object_get(fw, "state"));

				if (json_integer_value(json_object_get(fw,
				        "bound_port")) == port &&
				    fs != NULL && strcmp(fs, "bound") == 0)
					found = (long)pid;
			}
		}
		json_decref(st);
	}
	closedir(dir);
	return found;
}

static long
state_holder(const struct doctor *d, int port)
{
	struct tether_paths paths;
	struct path_env env;
	char dir[CONFIG_PATH_MAX];
	long pid;

	if ((pid = state_holder_in(d, d->cfg.state_dir, port)) != 0)
		return pid;
	paths_env_from_process(&env);
	if (paths_for_mode(d->mode, &env, &paths) == 0 &&
	    (pid = state_holder_in(d, paths.runtime_dir, port)) != 0)
		return pid;
	if (paths_run_runtime_dir(&env, geteuid() == 0, dir, sizeof dir) == 0 &&
	    (pid = state_holder_in(d, dir, port)) != 0)
		return pid;
	if ((pid = state_holder_in(d, "/run/tether", port)) != 0)
		return pid;
	env.runtime_directory = NULL;
	if (paths_for_mode(TETHER_MODE_USER, &env, &paths) == 0)
		return state_holder_in(d, paths.runtime_dir, port);
	return 0;
}

static void
doctor_forward(struct doctor *d, const struct forward_spec *f)
{
	const char *bind = config_forward_bind_address(f);
	char spec[2 * SPEC_HOST_MAX + 32], what[2 * SPEC_HOST_MAX + 48];
	int bound = 0;
	long pid;

	spec_format_forward(f, spec, sizeof spec);
	snprintf(what, sizeof what, "forward %s", spec);
	if (ssh_channel_listen_forward(d->ssh, bind, f->port, &bound) ==
	    SSH_OK) {
		/* Port 0: the bastion chose; cancel what it gave. */
		ssh_channel_cancel_forward(d->ssh, bind,
		    f->port != 0 ? f->port : bound);
		report(d, V_OK, 0, what,
		    "the bastion lets this key listen on %s:%d (asked and "
		    "released again)",
		    bind[0] != '\0' ? bind : "*",
		    f->port != 0 ? f->port : bound);
		return;
	}
	if (!ssh_is_connected(d->ssh)) {
		report(d, V_FAIL, TETHER_EXIT_FAILURE, what,
		    "the bastion closed the session when asked to listen on "
		    "port %d: %s",
		    f->port, ssh_get_error(d->ssh));
		return;
	}
	if (f->port != 0 && (pid = state_holder(d, f->port)) != 0) {
		report(d, V_OK, 0, what,
		    "port %d is held by the running tunnel (pid %ld)", f->port,
		    pid);
		return;
	}
	report(d, V_FAIL, TETHER_EXIT_FORWARD, what,
	    "the bastion refused to listen on %s:%d: another session or "
	    "program holds the port there (a vanished tunnel's session is "
	    "freed after ClientAliveInterval x ClientAliveCountMax, see "
	    "below; on the bastion, ss -tlnp 'sport = :%d' shows who), or "
	    "this account may not listen on it (permitlisten=, "
	    "AllowTcpForwarding; the bastion's sshd log says which)",
	    bind[0] != '\0' ? bind : "*", f->port, f->port);
}

/* Whether the local target accepts a TCP connection, within 2 s. */
static void
doctor_target(struct doctor *d, const struct forward_spec *f)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8], why[160] = "no address";
	struct pollfd pfd;
	socklen_t len;
	int fd, ok = 0, soerr, gai;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", f->host_port);
	if ((gai = getaddrinfo(f->host, port, &hints, &res)) != 0) {
		report(d, V_WARN, 0, "target",
		    "%s does not resolve (%s): connections through port %d "
		    "will fail; fix the target",
		    f->host, gai_strerror(gai), f->port);
		return;
	}
	for (ai = res; ai != NULL && !ok; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			ok = 1;
		} else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			len = sizeof soerr;
			if (poll(&pfd, 1, DOCTOR_TARGET_TIMEOUT_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			        &len) == 0) {
				ok = soerr == 0;
				if (!ok)
					snprintf(why, sizeof why, "%s",
					    strerror(soerr));
			} else {
				snprintf(why, sizeof why, "no answer in %d ms",
				    DOCTOR_TARGET_TIMEOUT_MS);
			}
		} else {
			snprintf(why, sizeof why, "%s", strerror(errno));
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (ok)
		report(d, V_OK, 0, "target", "%s port %d accepts connections",
		    f->host, f->host_port);
	else
		report(d, V_WARN, 0, "target",
		    "%s port %d does not accept connections (%s): the tunnel "
		    "comes up, but each connection through it will fail; "
		    "start that service or fix the target",
		    f->host, f->host_port, why);
}

/* ---- advice ------------------------------------------------------------ */

static void
doctor_advice(const struct doctor *d)
{
	const struct tether_config *cfg = &d->cfg;
	int ports[CONFIG_FORWARDS_MAX];
	const char *wide = NULL;
	size_t i, n = 0, nports = 0;

	for (i = 0; i < cfg->nforwards; i++) {
		const char *b = cfg->forwards[i].bind;

		if (b[0] != '\0' && strcmp(b, "localhost") != 0 &&
		    strcmp(b, "127.0.0.1") != 0 && strcmp(b, "::1") != 0)
			wide = b;
		nports += cfg->forwards[i].port != 0;
	}
	printf(
	    "\nOn the bastion (sshd_config, e.g. "
	    "/etc/ssh/sshd_config.d/tether.conf):\n  ClientAliveInterval 10\n"
	    "  ClientAliveCountMax 3\n"
	    "      so a vanished tunnel's session, and the port it holds, is "
	    "freed within\n      about 2 x 10 x (3 + 1) = 80 s; without them "
	    "it can take hours\n");
	if (wide != NULL)
		printf("  GatewayPorts clientspecified\n"
		       "      needed: a forward binds '%s', which sshd honours "
		       "only with it\n",
		    wide);
	else
		printf("  #GatewayPorts clientspecified\n"
		       "      only if the port must be reachable from other "
		       "hosts than the bastion\n      (then forward with a "
		       "bind address: -R '*:PORT:localhost:22')\n");
	printf("  warning: UnusedConnectionTimeout (OpenSSH 9.2+) closes a "
	       "session without\n      channels, which is what a tunnel "
	       "carrying only -R forwards is while\n      nobody uses it: "
	       "leave it unset for the tunnel's account\n");
	printf("\nIn %s's ~/.ssh/authorized_keys on the bastion, let this key "
	       "only listen on its port%s:\n",
	    d->login, nports == 1 ? "" : "s");
	if (d->pub[0] == '\0' || nports == 0) {
		printf("  (run tether bastion-line -p PORT -s KEY for the "
		       "line)\n");
		return;
	}
	for (i = 0; i < cfg->nforwards; i++) {
		if (cfg->forwards[i].port != 0)
			ports[n++] = cfg->forwards[i].port;
	}
	bastion_line_print(stdout, "  ", ports, NULL, n, d->pub);
}

/* ---- the command -------------------------------------------------------- */

static void
doctor_login(struct doctor *d)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (d->cfg.bastion.user[0] != '\0')
		snprintf(d->login, sizeof d->login, "%s", d->cfg.bastion.user);
	else if (d->service_user[0] != '\0')
		snprintf(d->login, sizeof d->login, "%s", d->service_user);
	else if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 &&
	    res != NULL)
		snprintf(d->login, sizeof d->login, "%.32s", pw.pw_name);
}

/* Reach, host key, login and each forward, on the bastion in d->cfg. */
static void
doctor_bastion(struct doctor *d)
{
	size_t i;
	int rc;

	doctor_known_hosts(d);
	if ((rc = doctor_connect(d)) != 0) {
		report(d, V_SKIP, 0, "auth", "not tried: %s",
		    rc == -1 ? "the bastion could not be reached" :
		               "the bastion's host key is not trusted");
		return;
	}
	if (doctor_auth(d) == -1) {
		report(d, V_SKIP, 0, "forwards",
		    "not tried: not signed in to the bastion");
		return;
	}
	for (i = 0; i < d->cfg.nforwards; i++)
		doctor_forward(d, &d->cfg.forwards[i]);
}

/* The session to one bastion, closed before the next is checked. */
static void
doctor_close(struct doctor *d)
{
	if (d->ssh != NULL) {
		ssh_disconnect(d->ssh);
		ssh_free(d->ssh);
		d->ssh = NULL;
	}
	jump_runner_stop(d->jumps);
	d->jumps = NULL;
}

/*
 * Every bastion, each as the tunnel would use it after a failover: one
 * that fails is named, and the others are still checked.
 */
static void
doctor_bastions(struct doctor *d)
{
	size_t i, n = d->cfg.nbastions > 1 ? d->cfg.nbastions : 1;

	for (i = 0; i < n; i++) {
		if (n > 1) {
			d->cfg.bastion = d->cfg.bastions[i];
			hostkey_host_pattern(&d->cfg.bastion, d->pattern,
			    sizeof d->pattern);
			doctor_login(d);
			printf("\nbastion %zu of %zu: %s port %d\n", i + 1, n,
			    d->cfg.bastion.host, d->cfg.bastion.port);
		}
		doctor_bastion(d);
		doctor_close(d);
	}
	if (n > 1) {
		d->cfg.bastion = d->cfg.bastions[0];
		hostkey_host_pattern(&d->cfg.bastion, d->pattern,
		    sizeof d->pattern);
		printf("\n");
	}
}

static void
doctor_checks(struct doctor *d)
{
	size_t i;

	printf(
	    "tether doctor: tunnel %s, bastion %s@%s port %d%s%s%s%s%s%s\n\n",
	    d->cfg.name, d->login, d->cfg.bastion.host, d->cfg.bastion.port,
	    d->cfg.bastion_alias[0] != '\0' ? " (ssh_config's " : "",
	    d->cfg.bastion_alias, d->cfg.bastion_alias[0] != '\0' ? ")" : "",
	    d->conf_path[0] != '\0' ? " (" : "", d->conf_path,
	    d->conf_path[0] != '\0' ? ")" : "");
	doctor_key(d);
	doctor_certificate(d);
	doctor_bastions(d);
	for (i = 0; i < d->cfg.nforwards; i++)
		doctor_target(d, &d->cfg.forwards[i]);
}

static int
cmd_doctor(int argc, char **argv)
{
	struct doctor *d;
	struct error err;
	int rc;

	if ((d = calloc(1, sizeof *d)) == NULL) {
		fprintf(stderr, "tether: out of memory\n");
		return TETHER_EXIT_FAILURE;
	}
	error_clear(&err);
	rc = doctor_config(d, argc, argv, &err);
	if (rc == 1) {
		cmd_doctor_help();
		free(d);
		return TETHER_EXIT_OK;
	}
	if (rc == -1) {
		if (err.code == TETHER_EXIT_USAGE)
			fprintf(stderr, "tether: %s\n", err.msg);
		else
			printf("FAIL  config: %s\n", err.msg);
		free(d);
		return err.code != 0 ? err.code : TETHER_EXIT_USAGE;
	}
	doctor_login(d);
	hostkey_host_pattern(&d->cfg.bastion, d->pattern, sizeof d->pattern);
	doctor_checks(d);
	doctor_advice(d);
	doctor_close(d);
	ssh_key_free(d->key);
	rc = d->first_fail;
	if (rc == 0)
		printf("\nAll checks passed%s.\n",
		    d->warnings > 0 ? " (see the warnings)" : "");
	else
		printf("\nSome checks failed: fix the first FAIL above and "
		       "run tether doctor again.\n");
	free(d);
	return rc;
}

const struct cmd_entry cmd_doctor_entry = {
	.name = "doctor",
	.summary = "check a tunnel end to end and say what to fix",
	.exec = cmd_doctor,
	.help = cmd_doctor_help,
	.seed_usage = "check a tunnel end to end",
};
