/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_setup: validate everything first, then install the tunnel as a
 * systemd instance (system or user) or, where no systemd runs, as a
 * self-managed daemon; wait for it to report ready.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "api.h"
#include "daemon.h"
#include "fsutil.h"
#include "hostkey.h"
#include "key.h"
#include "plan.h"
#include "service.h"
#include "sshconfig.h"
#include "units.h"

#define SETUP_WAIT_DEFAULT 20
#define SETUP_FETCH_TIMEOUT 15 /* seconds to learn a key under accept-new */
#define SETUP_CONFIG_MAX ((size_t)16 * 1024)
#define SETUP_KEY_MAX ((size_t)64 * 1024) /* a private key, or its cert */
#define SETUP_KEYS_DIR_MODE 0750          /* root:tether */

/* Everything setup decided before touching the system. */
struct setup_ctx {
	const struct api_setup_opts *opts;
	struct setup_values values;
	struct tether_paths paths;
	struct passwd pw; /* the service user */
	char pw_buf[4096];
	char group[64];
	int use_systemd;
	char conf_path[CONFIG_PATH_MAX];
	char dropin_path[CONFIG_PATH_MAX];
	char pid_path[CONFIG_PATH_MAX];
	char log_path[CONFIG_PATH_MAX];
	char state_path[CONFIG_PATH_MAX];
	char unit[64];
	char exe[CONFIG_PATH_MAX];
	char kh_source[CONFIG_PATH_MAX]; /* where the keys are copied from */
	char kh_from_ssh_config[CONFIG_PATH_MAX]; /* its UserKnownHostsFile */
	char kh_path[CONFIG_PATH_MAX]; /* the tunnel's own known_hosts */
	char learned[160]; /* a key learned under accept-new, described */
	struct strbuf kh_keys;
	char *kh_text;
	char *kh_kept; /* the tunnel's known_hosts as it was, when kept */
	char *config_text;
	char *dropin_text;
	int replaces_legacy; /* migrate: the autossh unit goes after */
	/*
	 * Root alone (no SUDO_USER, no --run-as): the tunnel runs as the
	 * tether account, with a copy of root's key (api_key_copy).
	 */
	int own_account;
	char key_source[CONFIG_PATH_MAX];
	char keys_dir[CONFIG_PATH_MAX]; /* where the copies live */
	char *key_text;  /* the copy's content; wiped when freed */
	char *cert_text; /* KEY-cert.pub's, if any */
};

static const char *
setup_fallback(const char *given, const char *env1, const char *env2)
{
	const char *v;

	if (given != NULL && given[0] != '\0')
		return given;
	if ((v = getenv(env1)) != NULL && v[0] != '\0')
		return v;
	if ((v = getenv(env2)) != NULL && v[0] != '\0')
		return v;
	return NULL;
}

/* The service user: --run-as, else the sudo caller, else ourselves. */
static int
setup_resolve_user(struct setup_ctx *c, struct error *err)
{
	const char *name = c->opts->run_as;
	struct passwd *res = NULL;
	struct group gr, *gres = NULL;
	char gbuf[4096];
	int rc;

	if (c->opts->mode == TETHER_MODE_USER) {
		rc = getpwuid_r(geteuid(), &c->pw, c->pw_buf, sizeof c->pw_buf,
		    &res);
	} else {
		if (name == NULL && (name = getenv("SUDO_USER")) != NULL &&
		    strcmp(name, "root") == 0)
			name = NULL;
		/* Never root unless asked: root alone gets the account. */
		c->own_account = name == NULL && geteuid() == 0;
		if (name != NULL && !spec_user_is_valid(name)) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "--run-as '%.64s' is not a valid user name", name);
			return -1;
		}
		rc = name != NULL ? getpwnam_r(name, &c->pw, c->pw_buf,
		                        sizeof c->pw_buf, &res) :
		                    getpwuid_r(geteuid(), &c->pw, c->pw_buf,
		                        sizeof c->pw_buf, &res);
	}
	if (rc != 0 || res == NULL) {
		error_set(err, TETHER_EXIT_CONFIG, "user %s does not exist",
		    name != NULL ? name : "(current)");
		return -1;
	}
	/* A --user tunnel runs as the caller: never ignore another name. */
	if (c->opts->mode == TETHER_MODE_USER && name != NULL &&
	    strcmp(name, c->pw.pw_name) != 0) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "--run-as '%.64s' is for system "
		    "mode; a --user tunnel runs as you (%s)",
		    name, c->pw.pw_name);
		return -1;
	}
	if (!spec_user_is_valid(c->pw.pw_name) ||
	    getgrgid_r(c->pw.pw_gid, &gr, gbuf, sizeof gbuf, &gres) != 0 ||
	    gres == NULL || !spec_user_is_valid(gr.gr_name)) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "user %s or its group has a "
		    "name tether will not write into a unit",
		    c->pw.pw_name);
		return -1;
	}
	snprintf(c->group, sizeof c->group, "%s",
	    c->own_account ? API_ACCOUNT : gr.gr_name);
	return 0;
}

/* Who the unit runs as. */
static const char *
setup_service_user(const struct setup_ctx *c)
{
	return c->own_account ? API_ACCOUNT : c->pw.pw_name;
}

/*
 * An account named tether that exists already is used only if it is
 * unprivileged: one with uid or gid 0 would run the tunnel as root.
 */
static int
setup_check_account(struct error *err)
{
	struct passwd *pw = getpwnam(API_ACCOUNT);

	if (pw != NULL && (pw->pw_uid == 0 || pw->pw_gid == 0)) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "the account %s has uid %ld and gid %ld: a tunnel would "
		    "run as root. Give it its own ids, or name a user with "
		    "--run-as",
		    API_ACCOUNT, (long)pw->pw_uid, (long)pw->pw_gid);
		return -1;
	}
	return 0;
}

/*
 * Root alone: the config names the copy of the key the account can read;
 * the key and its certificate are read now, written by the plan.
 */
static int
setup_prepare_account(struct setup_ctx *c, struct error *err)
{
	char cert[CONFIG_PATH_MAX + 16];

	if (!c->own_account)
		return 0;
	if (setup_check_account(err) == -1)
		return -1;
	snprintf(c->key_source, sizeof c->key_source, "%s", c->values.key_path);
	if (api_key_copy(&c->paths, c->opts->port, c->values.key_path,
	        sizeof c->values.key_path) == -1 ||
	    (size_t)snprintf(c->keys_dir, sizeof c->keys_dir, "%s/keys",
	        c->paths.config_dir) >= sizeof c->keys_dir) {
		error_set(err, TETHER_EXIT_CONFIG, "paths too long under %s",
		    c->paths.config_dir);
		return -1;
	}
	if (file_read(c->key_source, SETUP_KEY_MAX, &c->key_text, err) == -1)
		return -1;
	snprintf(cert, sizeof cert, "%s-cert.pub", c->key_source);
	if (file_exists(cert) &&
	    file_read(cert, SETUP_KEY_MAX, &c->cert_text, err) == -1)
		return -1;
	return 0;
}

/*
 * The account (made if missing), its directory of keys, then the key's
 * copy, the account's from the moment it has its name. The directory is
 * root:tether 0750: only root writes there (nobody can swap a copy), the
 * account can open its copies, others cannot even see which ports have
 * one. A certificate copied before for another key would be sent with
 * the new one (a tunnel that exits 4): without one now, it goes.
 */
static void
setup_plan_account(const struct setup_ctx *c, struct plan *p)
{
	const char *useradd[] = { "useradd", "--system", "--user-group",
		"--home-dir", "/nonexistent", "--no-create-home", "--shell",
		"/usr/sbin/nologin", API_ACCOUNT, NULL };
	char cert[CONFIG_PATH_MAX + 16];

	if (!c->own_account)
		return;
	if (getpwnam(API_ACCOUNT) == NULL)
		plan_run(p, 0, useradd);
	plan_mkdir(p, c->keys_dir, API_ACCOUNT, SETUP_KEYS_DIR_MODE);
	plan_write_secret(p, c->values.key_path, c->key_text, 0600);
	plan_set_owner(p, API_ACCOUNT, API_ACCOUNT);
	snprintf(cert, sizeof cert, "%s-cert.pub", c->values.key_path);
	if (c->cert_text != NULL)
		plan_write(p, cert, c->cert_text, 0644);
	else if (file_exists(cert))
		plan_remove(p, cert);
}

/*
 * What ~ means: user mode follows $HOME as the config does; a system
 * tunnel, its user's home from passwd (the key and known_hosts are
 * theirs, whoever runs setup).
 */
static const char *
setup_home(const struct setup_ctx *c)
{
	const char *home = getenv("HOME");

	if (c->opts->mode == TETHER_MODE_USER && home != NULL)
		return home;
	return c->pw.pw_dir;
}

/* given with a leading ~ expanded, as the seed's expanduser did. */
static int
setup_expand(const struct setup_ctx *c, const char *what, const char *given,
    char *out, size_t sz, struct error *err)
{
	const char *home = setup_home(c);

	if (config_expand_path(given, home, out, sz) == -1) {
		if (home == NULL || home[0] == '\0')
			error_set(err, TETHER_EXIT_CONFIG,
			    "%s %.200s: HOME is empty, so ~ means nothing; "
			    "give the full path",
			    what, given);
		else
			error_set(err, TETHER_EXIT_CONFIG,
			    "%s %.200s: longer than %zu bytes once ~ is %s",
			    what, given, sz - 1, home);
		return -1;
	}
	return 0;
}

/* -J's hops into a config, as given (ssh_config then resolves them). */
static void
setup_jumps_to_config(const struct setup_ctx *c, struct tether_config *cfg)
{
	size_t i;

	for (i = 0; i < c->values.njumps; i++) {
		cfg->jumps[i].dest = c->values.jumps[i];
		memcpy(cfg->jumps[i].alias, c->values.jumps[i].host,
		    sizeof cfg->jumps[i].alias);
	}
	cfg->njumps = c->values.njumps;
	if (cfg->njumps > 0)
		cfg->given |= CONFIG_GIVEN_PROXY;
}

/*
 * -b may be an alias of the user's ssh_config: resolved now, as ssh -G
 * reads it for that user, and recorded as host, port and user (the
 * service may run where that file cannot be read: another account,
 * ProtectHome). Its UserKnownHostsFile is where the keys are copied from.
 */
static int
setup_resolve_alias(struct setup_ctx *c, const char *key, struct error *err)
{
	struct tether_config *scratch;
	char user_config[CONFIG_PATH_MAX], default_kh[CONFIG_PATH_MAX];
	struct forward_spec *f;
	int rc;

	if ((scratch = malloc(sizeof *scratch)) == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	config_init_defaults(scratch, setup_home(c));
	snprintf(default_kh, sizeof default_kh, "%s", scratch->known_hosts);
	scratch->bastion = c->values.bastion;
	scratch->has_bastion = 1;
	snprintf(scratch->key_path, sizeof scratch->key_path, "%s", key);
	f = &scratch->forwards[scratch->nforwards++];
	f->port = c->values.port;
	setup_jumps_to_config(c, scratch);
	/* Root setting up another user's tunnel reads that user's file. */
	if (geteuid() != c->pw.pw_uid &&
	    (size_t)snprintf(user_config, sizeof user_config, "%s/.ssh/config",
	        c->pw.pw_dir) < sizeof user_config &&
	    access(user_config, R_OK) == 0)
		snprintf(scratch->ssh_config, sizeof scratch->ssh_config, "%s",
		    user_config);
	rc = sshconfig_apply(scratch, err);
	if (rc == 0 &&
	    (strcmp(scratch->bastion.host, c->values.bastion.host) != 0 ||
	        scratch->bastion.port != c->values.bastion.port ||
	        strcmp(scratch->bastion.user, c->values.bastion.user) != 0)) {
		snprintf(c->values.alias, sizeof c->values.alias, "%s",
		    c->values.bastion.host);
		c->values.bastion = scratch->bastion;
		c->values.bastions[0] = scratch->bastion;
	}
	/* -J's hops, or ssh_config's ProxyJump, as ssh -G resolves them. */
	for (size_t i = 0; rc == 0 && i < scratch->njumps; i++)
		c->values.jumps[i] = scratch->jumps[i].dest;
	if (rc == 0)
		c->values.njumps = scratch->njumps;
	if (rc == 0 && c->opts->known_hosts == NULL &&
	    strcmp(scratch->known_hosts, default_kh) != 0)
		snprintf(c->kh_from_ssh_config, sizeof c->kh_from_ssh_config,
		    "%s", scratch->known_hosts);
	free(scratch);
	return rc;
}

/* The key must be usable by the service user and by nobody else. */
static int
setup_check_key(struct setup_ctx *c, const char *given, struct error *err)
{
	char expanded[CONFIG_PATH_MAX], *abs;
	ssh_key key = NULL;
	struct stat st;

	if (setup_expand(c, "key", given, expanded, sizeof expanded, err) == -1)
		return -1;
	abs = realpath(expanded, NULL);
	if (abs == NULL) {
		error_set(err, TETHER_EXIT_KEY, "key %.200s: %s", expanded,
		    strerror(errno));
		return -1;
	}
	snprintf(c->values.key_path, sizeof c->values.key_path, "%s", abs);
	free(abs);
	if (units_check_path(c->values.key_path, "key path", err) == -1 ||
	    key_load(c->values.key_path, NULL, &key, err) == -1)
		return -1;
	ssh_key_free(key);
	if (c->own_account && stat(c->values.key_path, &st) == 0 &&
	    st.st_uid != 0) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s belongs to uid %ld, not root: run by root alone, "
		    "setup copies only root's own key for the %s account; for "
		    "that user's key give --run-as or use sudo as them",
		    c->values.key_path, (long)st.st_uid, API_ACCOUNT);
		return -1;
	}
	if (stat(c->values.key_path, &st) == 0 && st.st_uid != c->pw.pw_uid) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s belongs to uid %ld, but "
		    "the tunnel runs as %s, who could not read it; chown it or "
		    "use --run-as",
		    c->values.key_path, (long)st.st_uid, c->pw.pw_name);
		return -1;
	}
	return 0;
}

/*
 * The trust command to advise. The file is its owner's: root must not
 * write there (a symlink they planted would aim it anywhere), so when the
 * owner is someone else the command runs as them.
 */
static void
setup_trust_advice(const struct setup_ctx *c, const struct bastion_spec *b,
    char *out, size_t sz)
{
	int v6 = strchr(b->host, ':') != NULL;
	uid_t owner = c->pw.pw_uid;
	struct passwd *pw;
	struct stat st;
	char who[64];
	size_t i, len;

	if (stat(c->kh_source, &st) == 0)
		owner = st.st_uid;
	who[0] = '\0';
	if (owner != geteuid() && (pw = getpwuid(owner)) != NULL)
		snprintf(who, sizeof who, "sudo -u %s ", pw->pw_name);
	else if (owner != geteuid())
		snprintf(who, sizeof who, "sudo -u '#%ld' ", (long)owner);
	len = (size_t)snprintf(out, sz, "%stether trust", who);
	for (i = 0; i < c->values.njumps && len < sz; i++)
		len += (size_t)snprintf(out + len, sz - len, "%s%s:%d",
		    i == 0 ? " -J " : ",", c->values.jumps[i].host,
		    c->values.jumps[i].port);
	if (c->values.njumps > 0 && len < sz)
		len += (size_t)snprintf(out + len, sz - len, " -s %s",
		    c->values.key_path);
	if (len < sz)
		snprintf(out + len, sz - len, " -b %s%s%s:%d --known-hosts %s",
		    v6 ? "[" : "", b->host, v6 ? "]" : "", b->port,
		    c->kh_source);
}

/* A key both trusted and @revoked is refused, as OpenSSH refuses it. */
static int
setup_check_revoked(const struct setup_ctx *c, const char *source,
    struct error *err)
{
	const char *key = hostkey_text_revoked(c->kh_keys.data);

	if (key == NULL)
		return 0;
	error_set(err, TETHER_EXIT_HOSTKEY,
	    "REVOKED HOST KEY DETECTED: %s marks the bastion's key %.*s "
	    "@revoked; setup will not trust it. Ask the bastion's admin for "
	    "its current key",
	    source, (int)strcspn(key, "\n"), key);
	return -1;
}

/*
 * One host's lines, under its own name: copied apart, since the copy keeps
 * a key once and a jump host or a second bastion may share its key (or its
 * host) with the first bastion.
 */
static int
setup_copy_host_lines(struct setup_ctx *c, const struct bastion_spec *j,
    struct error *err)
{
	struct strbuf lines;
	int n;

	strbuf_init(&lines);
	n = hostkey_copy_known(c->kh_source, j, &lines, err);
	if (n == 0)
		n = hostkey_copy_known(c->kh_path, j, &lines, err);
	if (n > 0 &&
	    (c->kh_keys.data == NULL ||
	        strstr(c->kh_keys.data, lines.data) == NULL))
		strbuf_add(&c->kh_keys, lines.data);
	strbuf_free(&lines);
	return n;
}

/*
 * Another host the tunnel checks (a later bastion, a jump host): its keys
 * from the source file or the tunnel's own; with accept-new one not found
 * there is learned by the tunnel on first use.
 */
static int
setup_collect_other(struct setup_ctx *c, const struct bastion_spec *h,
    const char *role, struct error *err)
{
	char advice[CONFIG_PATH_MAX + 8 * SPEC_HOST_MAX];
	int n = setup_copy_host_lines(c, h, err);

	if (n == -1)
		return -1;
	if (n > 0)
		return setup_check_revoked(c, c->kh_source, err);
	if (c->values.policy != HOST_KEY_STRICT)
		return 0;
	setup_trust_advice(c, h, advice, sizeof advice);
	error_set(err, TETHER_EXIT_HOSTKEY,
	    "%s has no key for the %s %s port %d, and host keys are checked strictly: check its fingerprint, then add it (%s), or pass --host-key-policy accept-new",
	    c->kh_source, role, h->host, h->port, advice);
	return -1;
}

/*
 * The bastion's keys for the tunnel's own known_hosts: those of the source
 * file, else those the tunnel already had, else (accept-new only) the key
 * the bastion presents now. A key once recorded is never replaced silently.
 */
static int
setup_collect_bastion_keys(struct setup_ctx *c, struct error *err)
{
	const struct bastion_spec *b = &c->values.bastion;
	char advice[CONFIG_PATH_MAX + SPEC_HOST_MAX + 128];
	int n;

	if (c->values.host_key_pin[0] != '\0')
		return 0; /* pinned: known_hosts is not consulted */
	n = hostkey_copy_known(c->kh_source, b, &c->kh_keys, err);
	if (n != 0)
		return n > 0 ? setup_check_revoked(c, c->kh_source, err) : -1;
	/* What this tunnel already trusts stays, as it is. */
	n = hostkey_copy_known(c->kh_path, b, &c->kh_keys, err);
	if (n > 0)
		return file_read(c->kh_path, SETUP_CONFIG_MAX, &c->kh_kept,
		    err);
	if (n == -1)
		return -1;
	if (c->values.policy == HOST_KEY_STRICT) {
		setup_trust_advice(c, b, advice, sizeof advice);
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "%s has no key for the "
		    "bastion %s port %d, and host keys are checked strictly: "
		    "check its fingerprint, then add it (%s), pin it with "
		    "--host-key SHA256:..., or pass --host-key-policy "
		    "accept-new",
		    c->kh_source, b->host, b->port, advice);
		return -1;
	}
	/* Beyond jump hosts: the tunnel learns it on first use. */
	if (c->values.njumps > 0)
		return 0;
	if (hostkey_fetch(b, SETUP_FETCH_TIMEOUT, &c->kh_keys, c->learned,
	        sizeof c->learned, err) == -1)
		return -1;
	return setup_check_revoked(c, c->kh_source, err);
}

/* The bastion's first: the copy keeps a key once, under its first name. */
static int
setup_collect_host_keys(struct setup_ctx *c, struct error *err)
{
	size_t i;

	if (setup_collect_bastion_keys(c, err) == -1)
		return -1;
	for (i = 1; i < c->values.nbastions; i++) {
		if (setup_collect_other(c, &c->values.bastions[i], "bastion",
		        err) == -1)
			return -1;
	}
	for (i = 0; i < c->values.njumps; i++) {
		if (setup_collect_other(c, &c->values.jumps[i], "jump host",
		        err) == -1)
			return -1;
	}
	return 0;
}

/* An absolute path for a file that may not exist (yet). */
static void
setup_absolute(const char *given, char *out, size_t sz)
{
	char *abs = realpath(given, NULL), cwd[CONFIG_PATH_MAX];

	if (abs != NULL)
		snprintf(out, sz, "%s", abs);
	else if (given[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
		snprintf(out, sz, "%.500s/%.500s", cwd, given);
	else
		snprintf(out, sz, "%s", given);
	free(abs);
}

static int
setup_validate(struct setup_ctx *c, struct error *err)
{
	const struct api_setup_opts *o = c->opts;
	const char *bastion, *key;
	char kh[CONFIG_PATH_MAX];
	struct tether_config scratch;

	if (api_check_port(o->port, err) == -1 ||
	    (!c->replaces_legacy &&
	        api_check_legacy(o->port, "setup", err) == -1))
		return -1;
	bastion = setup_fallback(o->bastion, "TETHER_BASTION",
	    "SCITEX_TUNNEL_BASTION_SERVER");
	if (bastion == NULL) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "bastion_server is required. "
		    "Provide it as an argument or set "
		    "SCITEX_TUNNEL_BASTION_SERVER environment variable.");
		return -1;
	}
	key = setup_fallback(o->key_path, "TETHER_KEY",
	    "SCITEX_TUNNEL_SECRET_KEY_PATH");
	if (key == NULL) {
		error_set(err, TETHER_EXIT_KEY,
		    "secret_key_path is required. "
		    "Provide it as an argument or set "
		    "SCITEX_TUNNEL_SECRET_KEY_PATH environment variable.");
		return -1;
	}
	c->values.port = o->port;
	config_init_defaults(&scratch, NULL);
	if (config_set_bastion(&scratch, bastion, "bastion", err) == -1 ||
	    spec_parse_target(o->target != NULL ? o->target : "localhost:22",
	        c->values.target_host, &c->values.target_port, err) == -1)
		return -1;
	memcpy(c->values.bastions, scratch.bastions, sizeof scratch.bastions);
	c->values.nbastions = scratch.nbastions;
	c->values.bastion = scratch.bastion;
	if (o->host_key_policy != NULL &&
	    config_set_policy(&scratch, o->host_key_policy, "--host-key-policy",
	        err) == -1)
		return -1;
	c->values.policy = scratch.host_key_policy;
	if (o->proxy_jump != NULL &&
	    config_set_proxy_jump(&scratch, o->proxy_jump, "-J", err) == -1)
		return -1;
	for (size_t i = 0; i < scratch.njumps; i++)
		c->values.jumps[i] = scratch.jumps[i].dest;
	c->values.njumps = scratch.njumps;
	if (o->host_key != NULL) {
		if (config_set_host_key_pin(&scratch, o->host_key, "--host-key",
		        err) == -1)
			return -1;
		snprintf(c->values.host_key_pin, sizeof c->values.host_key_pin,
		    "%s", scratch.host_key_pin);
	}
	if (api_check_root(c->opts->mode, c->opts->dry_run, "setup", err) ==
	        -1 ||
	    setup_resolve_user(c, err) == -1 ||
	    setup_check_key(c, key, err) == -1 ||
	    setup_resolve_alias(c, c->values.key_path, err) == -1)
		return -1;
	if (setup_expand(c, "known_hosts",
	        o->known_hosts != NULL               ? o->known_hosts :
	            c->kh_from_ssh_config[0] != '\0' ? c->kh_from_ssh_config :
	                                               "~/.ssh/known_hosts",
	        kh, sizeof kh, err) == -1)
		return -1;
	setup_absolute(kh, c->kh_source, sizeof c->kh_source);
	if (api_paths(o->mode, &c->paths, err) == -1)
		return -1;
	if (paths_join_port(c->kh_path, sizeof c->kh_path, c->paths.config_dir,
	        o->port, ".known_hosts") == -1) {
		error_set(err, TETHER_EXIT_CONFIG, "paths too long under %s",
		    c->paths.config_dir);
		return -1;
	}
	snprintf(c->values.known_hosts, sizeof c->values.known_hosts, "%s",
	    c->kh_path);
	/* The source is named in the copy's header: no line breaks in it. */
	if (units_check_path(c->kh_source, "known_hosts path", err) == -1 ||
	    units_check_path(c->kh_path, "known_hosts path", err) == -1)
		return -1;
	return setup_collect_host_keys(c, err);
}

/* The tunnel's own known_hosts: what it trusts, and where that came from. */
static char *
setup_render_known_hosts(struct setup_ctx *c)
{
	struct strbuf sb;

	if (c->kh_kept != NULL)
		return strdup(c->kh_kept);
	strbuf_init(&sb);
	strbuf_addf(&sb,
	    "# Written by tether setup: the host keys tunnel %d trusts for "
	    "its bastion.\n",
	    c->opts->port);
	if (c->values.host_key_pin[0] != '\0')
		strbuf_addf(&sb,
		    "# None: the key is pinned (host_key in %s), and this "
		    "file is not read.\n",
		    c->conf_path);
	else if (c->learned[0] != '\0')
		strbuf_addf(&sb,
		    "# Learned from the bastion on first use "
		    "(host_key_policy accept-new): %s\n",
		    c->learned);
	else
		strbuf_addf(&sb,
		    "# Copied from %s; after a key change there, run setup "
		    "again.\n",
		    c->kh_source);
	strbuf_add(&sb, c->kh_keys.data != NULL ? c->kh_keys.data : "");
	if (sb.failed) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_take(&sb);
}

static int
setup_prepare(struct setup_ctx *c, struct error *err)
{
	const struct api_setup_opts *o = c->opts;
	int port = o->port;

	if (api_self_exe(c->exe, sizeof c->exe, err) == -1)
		return -1;
	c->use_systemd = service_systemd_running(o->mode);
	if (o->mode == TETHER_MODE_SYSTEM && !c->use_systemd) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "no systemd manager runs "
		    "here (/run/systemd/system is missing): use setup --user, "
		    "which falls back to a background daemon");
		return -1;
	}
	service_unit_name(port, c->unit, sizeof c->unit);
	if (paths_join_port(c->conf_path, sizeof c->conf_path,
	        c->paths.config_dir, port, ".conf") == -1 ||
	    paths_join_port(c->pid_path, sizeof c->pid_path,
	        c->paths.runtime_dir, port, ".pid") == -1 ||
	    paths_join_port(c->log_path, sizeof c->log_path, c->paths.log_dir,
	        port, ".log") == -1 ||
	    paths_state_file(&c->paths, port, c->state_path,
	        sizeof c->state_path) == -1 ||
	    (size_t)snprintf(c->dropin_path, sizeof c->dropin_path,
	        "%s/%s.d/50-tether-user.conf", c->paths.unit_dir,
	        c->unit) >= sizeof c->dropin_path) {
		error_set(err, TETHER_EXIT_CONFIG, "paths too long under %s",
		    c->paths.config_dir);
		return -1;
	}
	if (setup_prepare_account(c, err) == -1)
		return -1;
	c->config_text = units_render_config(&c->values);
	c->dropin_text = units_render_dropin(setup_service_user(c), c->group);
	c->kh_text = setup_render_known_hosts(c);
	if (c->config_text == NULL || c->dropin_text == NULL ||
	    c->kh_text == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* Whether the file already holds exactly text. */
static int
setup_file_is(const char *path, const char *text)
{
	struct error ignored;
	char *have = NULL;
	int same;

	error_clear(&ignored);
	if (file_read(path, SETUP_CONFIG_MAX, &have, &ignored) == -1)
		return 0;
	same = strcmp(have, text) == 0;
	free(have);
	return same;
}

static void
setup_plan_systemd(struct setup_ctx *c, struct plan *p)
{
	enum tether_mode mode = c->opts->mode;
	const char *argv[8];
	char tpl_buf[CONFIG_PATH_MAX + 32], *tpl;
	const char *found;
	int n;

	found = service_find_template(mode, &c->paths, tpl_buf, sizeof tpl_buf);
	if (found == NULL) {
		tpl = units_render_template(mode, c->exe);
		if (tpl != NULL) {
			snprintf(tpl_buf, sizeof tpl_buf, "%s/tether@.service",
			    c->paths.unit_dir);
			plan_write(p, tpl_buf, tpl, 0644);
			free(tpl);
		}
	}
	setup_plan_account(c, p);
	plan_write(p, c->kh_path, c->kh_text, 0644);
	plan_write(p, c->conf_path, c->config_text, 0644);
	if (mode == TETHER_MODE_SYSTEM)
		plan_write(p, c->dropin_path, c->dropin_text, 0644);
	n = service_systemctl_argv(mode, argv);
	argv[n] = "daemon-reload";
	argv[n + 1] = NULL;
	plan_run(p, 0, argv);
	argv[n] = "enable";
	argv[n + 1] = "--";
	argv[n + 2] = c->unit;
	argv[n + 3] = NULL;
	plan_run(p, 0, argv);
	if (c->opts->no_start)
		return;
	/* --no-block: READY may wait for the bastion; we wait, bounded. */
	argv[n] = "restart";
	argv[n + 1] = "--no-block";
	argv[n + 2] = "--";
	argv[n + 3] = c->unit;
	argv[n + 4] = NULL;
	plan_run(p, 0, argv);
}

static void
setup_plan_daemon(struct setup_ctx *c, struct plan *p)
{
	const char *argv[] = { c->exe, "run", "--daemon", "-c", c->conf_path,
		"--pidfile", c->pid_path, "--log-file", c->log_path,
		"--state-dir", c->paths.runtime_dir, NULL };

	plan_write(p, c->kh_path, c->kh_text, 0644);
	plan_write(p, c->conf_path, c->config_text, 0644);
	if (!c->opts->no_start)
		plan_run(p, 0, argv);
}

/* Polls until the tunnel says it forwards, fails, or time is up. */
static int
setup_wait_ready(struct setup_ctx *c, struct api_out *o)
{
	int seconds = c->opts->wait_seconds > 0 ? c->opts->wait_seconds :
	                                          SETUP_WAIT_DEFAULT;
	struct timespec pause = { 0, 200L * 1000 * 1000 };
	struct unit_props props;
	json_t *state;
	int i;

	for (i = 0; i < seconds * 5; i++) {
		if (c->use_systemd) {
			if (service_unit_props(c->opts->mode, c->unit,
			        &props) == 0) {
				if (strcmp(props.active_state, "active") == 0) {
					strbuf_addf(&o->out,
					    "%s is active: %s\n", c->unit,
					    props.status_text);
					return 0;
				}
				if (strcmp(props.active_state, "failed") == 0)
					break;
			}
		} else if ((state = json_load_file(c->state_path, 0, NULL)) !=
		    NULL) {
			const char *st = json_string_value(
			    json_object_get(state, "state"));
			int up = st != NULL && strcmp(st, "forwarding") == 0;

			json_decref(state);
			if (up) {
				strbuf_addf(&o->out,
				    "daemon pid %ld is forwarding (log %s)\n",
				    (long)daemon_running_pid(c->pid_path),
				    c->log_path);
				return 0;
			}
		}
		nanosleep(&pause, NULL);
	}
	if (c->use_systemd)
		strbuf_addf(&o->err,
		    "%s did not become ready within %d s; see: "
		    "journalctl %s-u %s\n",
		    c->unit, seconds,
		    c->opts->mode == TETHER_MODE_USER ? "--user " : "",
		    c->unit);
	else
		strbuf_addf(&o->err,
		    "the daemon did not report forwarding "
		    "within %d s; see %s\n",
		    seconds, c->log_path);
	return -1;
}

/* Whether loginctl enable-linger was done for the user. */
static int
setup_lingers(const char *user)
{
	char path[128];

	snprintf(path, sizeof path, "/var/lib/systemd/linger/%s", user);
	return file_exists(path);
}

static void
setup_print_hints(struct setup_ctx *c, struct api_out *o)
{
	const char *argv[] = { c->exe, "run", "--daemon", "-c", c->conf_path,
		"--pidfile", c->pid_path, "--log-file", c->log_path,
		"--state-dir", c->paths.runtime_dir, NULL };
	char *cron;

	if (c->own_account)
		strbuf_addf(&o->out,
		    "It runs as the system account %s, with a copy of %s at "
		    "%s (removing the tunnel deletes it; setup again takes a "
		    "new key).\n",
		    API_ACCOUNT, c->key_source, c->values.key_path);
	if (c->opts->mode != TETHER_MODE_USER)
		return;
	if (c->use_systemd) {
		/* With linger on it already survives logout and reboots. */
		if (!setup_lingers(c->pw.pw_name))
			strbuf_addf(&o->out,
			    "To keep it running after you log out and start "
			    "it at boot: loginctl enable-linger %s\n",
			    c->pw.pw_name);
		return;
	}
	cron = units_render_cron(argv);
	/* The system manager may run while this user has none of its own. */
	if (service_systemd_running(TETHER_MODE_SYSTEM))
		strbuf_addf(&o->out,
		    "No user systemd here (systemd runs, but no systemd "
		    "--user instance for %s; loginctl enable-linger %s starts "
		    "one): ",
		    c->pw.pw_name, c->pw.pw_name);
	else
		strbuf_add(&o->out, "No systemd here: ");
	strbuf_addf(&o->out,
	    "it runs as a background "
	    "daemon. To start it at boot, add this line with crontab -e:\n%s\n",
	    cron != NULL ? cron : "(out of memory)");
	free(cron);
}

/*
 * Root alone: the copies are as setup would write them now (a renewed
 * certificate, a key handed back to root, an opened directory all mean
 * work to do).
 */
static int
setup_copy_is(const struct setup_ctx *c)
{
	char cert[CONFIG_PATH_MAX + 16];
	struct passwd *pw = getpwnam(API_ACCOUNT);
	struct stat st;

	snprintf(cert, sizeof cert, "%s-cert.pub", c->values.key_path);
	return pw != NULL && setup_file_is(c->values.key_path, c->key_text) &&
	    lstat(c->values.key_path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == pw->pw_uid && (st.st_mode & 07777) == 0600 &&
	    lstat(c->keys_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & 07777) == SETUP_KEYS_DIR_MODE &&
	    (c->cert_text != NULL ? setup_file_is(cert, c->cert_text) :
	                            !file_exists(cert));
}

/* Same config and already running: nothing to do. */
static int
setup_is_noop(struct setup_ctx *c)
{
	struct unit_props props;

	if (!setup_file_is(c->conf_path, c->config_text) ||
	    !setup_file_is(c->kh_path, c->kh_text) ||
	    (c->own_account && !setup_copy_is(c)))
		return 0;
	if (!c->use_systemd)
		return daemon_running_pid(c->pid_path) > 0;
	if (c->opts->mode == TETHER_MODE_SYSTEM &&
	    !setup_file_is(c->dropin_path, c->dropin_text))
		return 0;
	return service_unit_props(c->opts->mode, c->unit, &props) == 0 &&
	    strcmp(props.active_state, "active") == 0 &&
	    strcmp(props.unit_file_state, "enabled") == 0;
}

/* TETHER_DEBUG: what setup made of its inputs. */
static void
setup_debug_resolved(const struct setup_ctx *c, struct strbuf *out)
{
	strbuf_addf(out,
	    "debug: %s tunnel %d, runs as %s, %s\n"
	    "debug: bastion %s@%s:%d%s%s%s, key %s\n"
	    "debug: the bastion's keys read from %s, kept in %s\n"
	    "debug: config %s\n",
	    c->opts->mode == TETHER_MODE_SYSTEM ? "system" : "user",
	    c->opts->port, setup_service_user(c),
	    c->use_systemd ? "managed by systemd" : "as a background daemon",
	    c->values.bastion.user[0] != '\0' ? c->values.bastion.user : "-",
	    c->values.bastion.host, c->values.bastion.port,
	    c->values.alias[0] != '\0' ? " (ssh_config's " : "",
	    c->values.alias, c->values.alias[0] != '\0' ? ")" : "",
	    c->values.key_path, c->kh_source, c->kh_path, c->conf_path);
}

static int
setup_run(struct setup_ctx *c, struct api_out *o, struct error *err)
{
	struct plan plan;
	int rc, debug;

	if ((debug = api_debug(err)) == -1 || setup_validate(c, err) == -1 ||
	    setup_prepare(c, err) == -1)
		return -1;
	if (debug)
		setup_debug_resolved(c, &o->err);
	if (!c->opts->dry_run && setup_is_noop(c)) {
		strbuf_addf(&o->out,
		    "Tunnel on port %d is already set up (no change).\n",
		    c->opts->port);
		return 0;
	}
	if (c->learned[0] != '\0')
		strbuf_addf(&o->out,
		    "The bastion presented %s: recorded on first use in "
		    "%s (accept-new).\n",
		    c->learned, c->kh_path);
	plan_init(&plan);
	plan.trace = debug ? &o->err : NULL;
	if (c->use_systemd)
		setup_plan_systemd(c, &plan);
	else
		setup_plan_daemon(c, &plan);
	if (c->opts->dry_run) {
		plan_print(&plan, &o->out);
		plan_free(&plan);
		return 0;
	}
	/* A changed config for a running daemon: replace the daemon. */
	if (!c->use_systemd && daemon_stop(c->pid_path, 5, err) == -1) {
		plan_free(&plan);
		return -1;
	}
	rc = plan_execute(&plan, &o->err, err);
	plan_free(&plan);
	if (rc == -1)
		return -1;
	if (!c->opts->no_start && setup_wait_ready(c, o) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "installed, but not forwarding yet");
		return -1;
	}
	strbuf_addf(&o->out, "Tunnel on port %d set up successfully.\n",
	    c->opts->port);
	setup_print_hints(c, o);
	return 0;
}

static int
setup_main(const struct api_setup_opts *opts, int replaces_legacy,
    struct api_result *r)
{
	struct setup_ctx *c;
	struct api_out o;
	struct error err;
	char trailer[64];
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
	c->replaces_legacy = replaces_legacy;
	strbuf_init(&c->kh_keys);
	rc = setup_run(c, &o, &err);
	free(c->config_text);
	free(c->dropin_text);
	free(c->kh_text);
	free(c->kh_kept);
	if (c->key_text != NULL)
		explicit_bzero(c->key_text, strlen(c->key_text));
	free(c->key_text);
	free(c->cert_text);
	strbuf_free(&c->kh_keys);
	free(c);
	snprintf(trailer, sizeof trailer,
	    "Failed to set up tunnel on port %d.\n", opts->port);
	return api_finish_run(&o, r, rc, &err, trailer);
}

int
api_setup(const struct api_setup_opts *opts, struct api_result *r)
{
	return setup_main(opts, 0, r);
}

int
setup_replacing_legacy(const struct api_setup_opts *opts, struct api_result *r)
{
	return setup_main(opts, 1, r);
}
