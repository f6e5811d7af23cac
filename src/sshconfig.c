/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The user's ssh_config, read as ssh itself reads it: `ssh -G HOST` prints
 * what ssh would use for HOST after every Host and Match block, Include
 * and token, so an alias that works with `ssh -R` works with tether. On a
 * machine without the OpenSSH client there is no ssh_config in use, and
 * nothing to read (unless a file was named: then that is an error).
 *
 * ssh -G prints every key, set or not; `ssh -G -F /dev/null HOST` prints
 * ssh's own defaults for the same host. A key whose lines differ between
 * the two was set by the user's files: that is what tether honours, and a
 * set key tether does not use is named once, never dropped unsaid.
 *
 * Precedence: tether's flags, environment and file, then ssh_config, then
 * tether's defaults.
 */
#include <sys/socket.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "service.h"
#include "spec.h"
#include "sshconfig.h"

#define SSHCONFIG_OUTPUT_MAX ((size_t)64 * 1024)
#define SSHCONFIG_TIMEOUT 10

/* What ssh -G printed for the bastion, and for a host with no config. */
struct sshconfig_run {
	const char *alias;
	char *text; /* with the user's files */
	char *base; /* with -F /dev/null: ssh's own defaults */
};

/*
 * The next "KEY value" line of text at or after *from: its value (not
 * NUL-terminated) and length, *from moved past it. 0 when there is none.
 */
static int
sshconfig_next(const char **from, const char *key, const char **value,
    size_t *vlen)
{
	size_t klen = strlen(key);
	const char *line = *from, *nl;

	for (; *line != '\0'; line = *nl != '\0' ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		if ((size_t)(nl - line) > klen &&
		    strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*value = line + klen + 1;
			*vlen = (size_t)(nl - *value);
			*from = *nl != '\0' ? nl + 1 : nl;
			return 1;
		}
	}
	*from = line;
	return 0;
}

/* The value of the first "KEY value" line; "" if absent or too long. */
static void
sshconfig_value(const char *text, const char *key, char *out, size_t sz)
{
	const char *value;
	size_t vlen;

	out[0] = '\0';
	if (sshconfig_next(&text, key, &value, &vlen) && vlen < sz)
		snprintf(out, sz, "%.*s", (int)vlen, value);
}

/* Whether the user's files set key: its lines differ from ssh's defaults. */
static int
sshconfig_is_set(const struct sshconfig_run *run, const char *key)
{
	const char *a = run->text, *b = run->base, *va, *vb;
	size_t la, lb;
	int more_a, more_b;

	for (;;) {
		more_a = sshconfig_next(&a, key, &va, &la);
		more_b = sshconfig_next(&b, key, &vb, &lb);
		if (!more_a || !more_b)
			return more_a != more_b;
		if (la != lb || memcmp(va, vb, la) != 0)
			return 1;
	}
}

/* The bastion's keys tether reads below; the others are checked for use. */
static const char *const sshconfig_used[] = { "host", "hostname", "port",
	"user", "identityfile", "certificatefile", "identitiesonly",
	"identityagent", "userknownhostsfile", "globalknownhostsfile",
	"stricthostkeychecking", "serveraliveinterval", "serveralivecountmax",
	"connecttimeout", "exitonforwardfailure", "remoteforward",
	"addressfamily", "proxyjump", "proxycommand", "hostkeyalias" };

/*
 * Keys with no meaning for a tunnel that opens no session, forwards no
 * local port and logs in only with keys: ssh -N would not use them either.
 */
static const char *const sshconfig_moot[] = { "sendenv", "setenv", "requesttty",
	"remotecommand", "sessiontype", "stdinnull", "forkafterauthentication",
	"forwardagent", "forwardx11", "forwardx11trusted", "forwardx11timeout",
	"xauthlocation", "localforward", "dynamicforward",
	"clearallforwardings", "localcommand", "permitlocalcommand",
	"escapechar", "enableescapecommandline", "controlmaster", "controlpath",
	"controlpersist", "batchmode", "loglevel", "logverbose",
	"visualhostkey", "passwordauthentication",
	"kbdinteractiveauthentication", "kbdinteractivedevices",
	"numberofpasswordprompts", "gssapiauthentication",
	"gssapidelegatecredentials", "gssapikeyexchange", "gssapitrustdns",
	"gssapirenewalforcesrekey", "gssapikexalgorithms",
	"hostbasedauthentication", "hostbasedacceptedalgorithms",
	"enablesshkeysign", "addkeystoagent", "tunnel", "tunneldevice",
	"permitremoteopen", "gatewayports", "hashknownhosts",
	"streamlocalbindmask", "streamlocalbindunlink", "securitykeyprovider",
	"pkcs11provider", "checkhostip", "usekeychain" };

static int
sshconfig_listed(const char *const *list, size_t n, const char *key,
    size_t klen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(list[i]) == klen && strncmp(list[i], key, klen) == 0)
			return 1;
	}
	return 0;
}

/* Appends key to list (comma-separated) unless there already. */
static void
sshconfig_note(char *list, size_t sz, const char *key)
{
	size_t len = strlen(list), klen = strlen(key);
	const char *p = list;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[klen] == ',' || p[klen] == '\0'))
			return;
		p += klen;
	}
	if (len + klen + 3 < sz)
		snprintf(list + len, sz - len, "%s%s", len > 0 ? ", " : "",
		    key);
}

/*
 * The keys the user's files set for the bastion that tether does not
 * use, into cfg->sshconfig_unused; the moot ones go nowhere but the docs.
 */
static void
sshconfig_find_unused(struct tether_config *cfg,
    const struct sshconfig_run *run)
{
	const char *line, *nl;
	char key[64];
	size_t klen;

	cfg->sshconfig_unused[0] = '\0';
	for (line = run->text; *line != '\0';
	     line = *nl != '\0' ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		klen = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789");
		if (klen == 0 || klen >= sizeof key || line[klen] != ' ' ||
		    sshconfig_listed(sshconfig_used,
		        sizeof sshconfig_used / sizeof *sshconfig_used, line,
		        klen) ||
		    sshconfig_listed(sshconfig_moot,
		        sizeof sshconfig_moot / sizeof *sshconfig_moot, line,
		        klen))
			continue;
		snprintf(key, sizeof key, "%.*s", (int)klen, line);
		if (sshconfig_is_set(run, key))
			sshconfig_note(cfg->sshconfig_unused,
			    sizeof cfg->sshconfig_unused, key);
	}
}

/*
 * The local user's name and home, for %u, %d and ~: as ssh, from the
 * passwd entry, not $HOME (tether's own paths use $HOME).
 */
static void
sshconfig_local_user(const struct tether_config *cfg, char *name, size_t namesz,
    char *home, size_t homesz)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 &&
	    res != NULL) {
		snprintf(name, namesz, "%s", pw.pw_name);
		snprintf(home, homesz, "%s", pw.pw_dir);
		return;
	}
	snprintf(name, namesz, "%ld", (long)geteuid());
	snprintf(home, homesz, "%s", cfg->home);
}

/*
 * IdentityFile and CertificateFile as ssh expands them after ssh -G
 * prints them raw: a leading ~ and the tokens %% %d %h %i %k %L %l %n %p
 * %r %u. -1 with err naming a token tether does not know.
 */
int
sshconfig_expand(const struct tether_config *cfg, const char *alias,
    const char *in, char *out, size_t sz, struct error *err)
{
	char local[256], home[CONFIG_PATH_MAX], host[256], num[24];
	const char *add;
	size_t len = 0;

	sshconfig_local_user(cfg, local, sizeof local, home, sizeof home);
	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
		len = (size_t)snprintf(out, sz, "%s", home);
		in++;
	}
	for (; *in != '\0' && len < sz; in++) {
		add = num;
		if (*in != '%') {
			snprintf(num, sizeof num, "%c", *in);
		} else {
			switch (*++in) {
			case '%':
				add = "%";
				break;
			case 'd':
				add = cfg->home;
				break;
			case 'h':
				add = cfg->bastion.host;
				break;
			case 'k':
			case 'n':
				add = alias;
				break;
			case 'L':
				snprintf(num, sizeof num, "%.*s",
				    (int)strcspn(host, "."), host);
				break;
			case 'l':
				add = host;
				break;
			case 'p':
				snprintf(num, sizeof num, "%d",
				    cfg->bastion.port);
				break;
			case 'r':
				add = cfg->bastion.user;
				break;
			case 'u':
				add = local;
				break;
			case 'i':
				snprintf(num, sizeof num, "%ld",
				    (long)geteuid());
				break;
			default:
				error_set(err, TETHER_EXIT_CONFIG,
				    "ssh_config gives the bastion %s a path "
				    "with the token %%%c, which tether does "
				    "not expand: write the path out",
				    alias, *in != '\0' ? *in : ' ');
				return -1;
			}
		}
		len += (size_t)snprintf(out + len, sz - len, "%s", add);
	}
	if (len >= sz) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s a path longer than %zu "
		    "bytes",
		    alias, sz - 1);
		return -1;
	}
	return 0;
}

/*
 * The next KEY line (IdentityFile, CertificateFile) naming a file that
 * exists, expanded into path: 1, or 0 when there is none left, -1 on a
 * token tether cannot expand.
 */
static int
sshconfig_next_file(const struct tether_config *cfg,
    const struct sshconfig_run *run, const char **from, const char *key,
    char *path, size_t sz, struct error *err)
{
	char raw[CONFIG_PATH_MAX];
	const char *value;
	size_t vlen;

	while (sshconfig_next(from, key, &value, &vlen)) {
		if (vlen >= sizeof raw)
			continue;
		snprintf(raw, sizeof raw, "%.*s", (int)vlen, value);
		if (sshconfig_expand(cfg, run->alias, raw, path, sz, err) == -1)
			return -1;
		if (access(path, F_OK) == 0)
			return 1;
	}
	return 0;
}

/*
 * The IdentityFiles that exist, in ssh's order: the first becomes the key,
 * the next ones are offered in turn if the bastion refuses it. The first
 * CertificateFile that exists goes with whichever key it certifies.
 */
static int
sshconfig_identities(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	char path[CONFIG_PATH_MAX];
	const char *from = run->text;
	int rc;

	/* A key tether was given is the one: ssh_config's are not added. */
	if (cfg->key_path[0] != '\0')
		from = "";
	while ((rc = sshconfig_next_file(cfg, run, &from, "identityfile", path,
	            sizeof path, err)) == 1) {
		if (cfg->key_path[0] == '\0')
			memcpy(cfg->key_path, path, strlen(path) + 1);
		else if (cfg->nmore_keys < CONFIG_MORE_KEYS_MAX)
			memcpy(cfg->more_keys[cfg->nmore_keys++], path,
			    strlen(path) + 1);
	}
	if (rc == -1 || cfg->given & CONFIG_GIVEN_CERTIFICATE ||
	    cfg->certificate_file[0] != '\0')
		return rc;
	from = run->text;
	rc = sshconfig_next_file(cfg, run, &from, "certificatefile", path,
	    sizeof path, err);
	if (rc == 1)
		memcpy(cfg->certificate_file, path, strlen(path) + 1);
	return rc == -1 ? -1 : 0;
}

/*
 * IdentityAgent (a socket, SSH_AUTH_SOCK or none) and IdentitiesOnly:
 * with it, keys the agent holds are not offered in place of the files.
 */
static int
sshconfig_agent(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	char value[CONFIG_PATH_MAX];

	sshconfig_value(run->text, "identityagent", value, sizeof value);
	if (!(cfg->given & CONFIG_GIVEN_AGENT) && value[0] != '\0' &&
	    strcmp(value, "SSH_AUTH_SOCK") != 0 &&
	    strcmp(value, "$SSH_AUTH_SOCK") != 0 &&
	    config_set_agent(cfg, value, "ssh_config's IdentityAgent", err) ==
	        -1)
		return -1;
	sshconfig_value(run->text, "identitiesonly", value, sizeof value);
	if (strcmp(value, "yes") == 0 && cfg->key_path[0] == '\0' &&
	    !(cfg->given & CONFIG_GIVEN_AGENT)) {
		error_set(err, TETHER_EXIT_KEY,
		    "ssh_config sets IdentitiesOnly yes for the bastion %s, "
		    "and none of its IdentityFiles exists: create the key, "
		    "or give one with -s",
		    run->alias);
		return -1;
	}
	return 0;
}

/*
 * What tether cannot do for the bastion yet: refused, never ignored. A
 * HostKeyAlias would check the key under another name.
 */
static int
sshconfig_check_unsupported(const struct sshconfig_run *run, struct error *err)
{
	static const char *const keys[] = { "hostkeyalias" };
	char value[CONFIG_PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		sshconfig_value(run->text, keys[i], value, sizeof value);
		if (value[0] == '\0' || strcmp(value, "none") == 0)
			continue;
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s a %s (%.200s), which "
		    "tether does not support yet: name the bastion by the host it presents its key as, or set ssh_config = none",
		    run->alias, keys[i], value);
		return -1;
	}
	return 0;
}

/* StrictHostKeyChecking as tether's host_key_policy; never "no". */
static int
sshconfig_policy(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	char value[32];

	sshconfig_value(run->text, "stricthostkeychecking", value,
	    sizeof value);
	if (cfg->given & CONFIG_GIVEN_POLICY || value[0] == '\0')
		return 0;
	/* "ask" has no one to ask here: as strict as yes. */
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "ask") == 0) {
		cfg->host_key_policy = HOST_KEY_STRICT;
		return 0;
	}
	if (strcmp(value, "accept-new") == 0) {
		cfg->host_key_policy = HOST_KEY_ACCEPT_NEW;
		return 0;
	}
	error_set(err, TETHER_EXIT_CONFIG,
	    "ssh_config sets StrictHostKeyChecking %s for the bastion %s; "
	    "tether never connects without checking the host key: use "
	    "accept-new there (or host_key_policy = accept-new), or set "
	    "ssh_config = none",
	    value, run->alias);
	return -1;
}

/*
 * Where host keys are trusted: UserKnownHostsFile's and
 * GlobalKnownHostsFile's first files when the user's files set them (ssh's own
 * default, /etc/ssh/ssh_known_hosts, is not tether's: a tunnel trusts the
 * files it was given).
 */
static int
sshconfig_known_hosts(struct tether_config *cfg,
    const struct sshconfig_run *run, struct error *err)
{
	char value[CONFIG_PATH_MAX];

	sshconfig_value(run->text, "userknownhostsfile", value, sizeof value);
	value[strcspn(value, " ")] = '\0';
	if (!(cfg->given & CONFIG_GIVEN_KNOWN_HOSTS) &&
	    sshconfig_is_set(run, "userknownhostsfile") && value[0] != '\0' &&
	    strcmp(value, "none") != 0 &&
	    config_set_path(cfg, cfg->known_hosts, value,
	        "ssh_config's UserKnownHostsFile", err) == -1)
		return -1;
	if (!sshconfig_is_set(run, "globalknownhostsfile"))
		return 0;
	sshconfig_value(run->text, "globalknownhostsfile", value, sizeof value);
	value[strcspn(value, " ")] = '\0';
	if (value[0] == '\0' || strcmp(value, "none") == 0)
		return 0;
	return config_set_path(cfg, cfg->global_known_hosts, value,
	    "ssh_config's GlobalKnownHostsFile", err);
}

/* One whole number of seconds from ssh -G, into *out unless given. */
static int
sshconfig_seconds(const char *text, const char *key, unsigned given_bit,
    struct tether_config *cfg, int *out)
{
	char value[32], *end;
	long v;

	sshconfig_value(text, key, value, sizeof value);
	if (cfg->given & given_bit || value[0] == '\0')
		return 0;
	v = strtol(value, &end, 10);
	if (*end != '\0' || v < 0 || v > 86400)
		return 0; /* "none", ssh's own default: tether keeps its own */
	*out = (int)v;
	return 1;
}

/*
 * "remoteforward [BIND]:PORT [HOST]:HOSTPORT" lines, when tether was
 * given no forward: as -R. A dynamic one (a SOCKS proxy) is refused.
 */
static int
sshconfig_forwards(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	char spec[2 * SPEC_HOST_MAX + 40];
	const char *from = run->text, *line, *target;
	size_t vlen, llen, tlen;

	if (cfg->nforwards > 0 || cfg->port > 0)
		return 0;
	while (sshconfig_next(&from, "remoteforward", &line, &vlen)) {
		llen = strcspn(line, " \n");
		target = line + llen + (line[llen] == ' ');
		tlen = vlen - (size_t)(target - line);
		if (line[llen] != ' ' || tlen == 0 ||
		    strncmp(target, "[socks]", 7) == 0 ||
		    llen + tlen + 2 > sizeof spec) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "ssh_config gives the bastion %s a RemoteForward "
			    "tether cannot carry (remoteforward %.*s): only "
			    "PORT HOST:PORT forwards",
			    run->alias, (int)vlen, line);
			return -1;
		}
		snprintf(spec, sizeof spec, "%.*s:%.*s", (int)llen, line,
		    (int)tlen, target);
		if (config_add_forward(cfg, spec, "ssh_config's RemoteForward",
		        err) == -1)
			return -1;
	}
	return 0;
}

/* ssh_config's side of the session: keepalive, timeouts, the way there. */
static int
sshconfig_session(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	char value[32], command[CONFIG_PATH_MAX];
	int n;

	/* ServerAliveInterval 0 is ssh's "off" default: tether keeps its own. */
	if (sshconfig_seconds(run->text, "serveraliveinterval",
	        CONFIG_GIVEN_KEEPALIVE_INTERVAL, cfg, &n) == 1 &&
	    n > 0) {
		cfg->keepalive_interval = n;
		if (sshconfig_seconds(run->text, "serveralivecountmax",
		        CONFIG_GIVEN_KEEPALIVE_COUNT, cfg, &n) == 1 &&
		    n >= 1 && n <= 100)
			cfg->keepalive_count = n;
	}
	if (sshconfig_seconds(run->text, "connecttimeout",
	        CONFIG_GIVEN_CONNECT_TIMEOUT, cfg, &n) == 1 &&
	    n >= 1)
		cfg->connect_timeout = n;
	sshconfig_value(run->text, "exitonforwardfailure", value, sizeof value);
	if (!(cfg->given & CONFIG_GIVEN_EXIT_ON_FAILURE) &&
	    strcmp(value, "yes") == 0)
		cfg->exit_on_forward_failure = 1;
	/* ssh -G prints whichever of the two came first, as ssh uses it. */
	sshconfig_value(run->text, "proxycommand", command, sizeof command);
	if (!(cfg->given & CONFIG_GIVEN_PROXY) && command[0] != '\0' &&
	    config_set_proxy_command(cfg, command, "ssh_config's ProxyCommand",
	        err) == -1)
		return -1;
	sshconfig_value(run->text, "proxyjump", command, sizeof command);
	if (!(cfg->given & CONFIG_GIVEN_PROXY) && command[0] != '\0' &&
	    config_set_proxy_jump(cfg, command, "ssh_config's ProxyJump",
	        err) == -1)
		return -1;
	sshconfig_value(run->text, "addressfamily", value, sizeof value);
	if (!(cfg->given & CONFIG_GIVEN_ADDRESS_FAMILY) && value[0] != '\0' &&
	    config_set_address_family(cfg, value, "ssh_config's AddressFamily",
	        err) == -1)
		return -1;
	return sshconfig_forwards(cfg, run, err);
}

/* Where to connect: HostName, Port and User, unless tether was told. */
static int
sshconfig_destination(struct tether_config *cfg,
    const struct sshconfig_run *run, struct error *err)
{
	char value[CONFIG_PATH_MAX];

	sshconfig_value(run->text, "hostname", value, sizeof value);
	if (value[0] != '\0') {
		if (!spec_host_is_valid(value) ||
		    strlen(value) >= sizeof cfg->bastion.host) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "ssh_config gives the bastion %s the HostName "
			    "'%.100s', which is not a host name or address",
			    run->alias, value);
			return -1;
		}
		if (strcmp(value, run->alias) != 0)
			snprintf(cfg->bastion_alias, sizeof cfg->bastion_alias,
			    "%s", run->alias);
		memcpy(cfg->bastion.host, value, strlen(value) + 1);
	}
	sshconfig_value(run->text, "port", value, sizeof value);
	if (cfg->bastion.port == 22 && value[0] != '\0' &&
	    spec_parse_port(value, 1, &cfg->bastion.port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s the Port '%.20s'",
		    run->alias, value);
		return -1;
	}
	sshconfig_value(run->text, "user", value, sizeof value);
	if (cfg->bastion.user[0] == '\0' && value[0] != '\0' &&
	    strlen(value) < sizeof cfg->bastion.user)
		memcpy(cfg->bastion.user, value, strlen(value) + 1);
	return 0;
}

/* Fills what tether's own configuration left unsaid from ssh -G's text. */
static int
sshconfig_apply_run(struct tether_config *cfg, const struct sshconfig_run *run,
    struct error *err)
{
	if (sshconfig_destination(cfg, run, err) == -1 ||
	    sshconfig_check_unsupported(run, err) == -1 ||
	    sshconfig_identities(cfg, run, err) == -1 ||
	    sshconfig_agent(cfg, run, err) == -1 ||
	    sshconfig_known_hosts(cfg, run, err) == -1 ||
	    sshconfig_policy(cfg, run, err) == -1 ||
	    sshconfig_session(cfg, run, err) == -1)
		return -1;
	sshconfig_find_unused(cfg, run);
	return 0;
}

/* ssh -G [-F file] [-p port] [-l user] -- alias, into out; its status. */
static int
sshconfig_ask_ssh(const struct tether_config *cfg, const char *alias,
    const char *file, char *out)
{
	char port[8], *argv[12];
	int n = 0;

	snprintf(port, sizeof port, "%d", cfg->bastion.port);
	argv[n++] = "ssh";
	argv[n++] = "-G";
	/* Else ssh says "Pseudo-terminal will not be allocated" on stderr,
	 * which service_exec appends to the last line of the output. */
	argv[n++] = "-T";
	if (file[0] != '\0') {
		argv[n++] = "-F";
		argv[n++] = (char *)file;
	}
	if (cfg->bastion.port != 22) {
		argv[n++] = "-p";
		argv[n++] = port;
	}
	if (cfg->bastion.user[0] != '\0') {
		argv[n++] = "-l";
		argv[n++] = (char *)cfg->bastion.user;
	}
	argv[n++] = "--";
	argv[n++] = (char *)alias;
	argv[n] = NULL;
	return service_exec(argv, out, SSHCONFIG_OUTPUT_MAX, SSHCONFIG_TIMEOUT);
}

/*
 * ssh -G for alias, with the user's files and with none; the first one's
 * status (127: no ssh here). run's buffers are freed by sshconfig_done.
 */
static int
sshconfig_ask(const struct tether_config *cfg, const char *alias,
    struct sshconfig_run *run, struct error *err)
{
	int rc;

	run->alias = alias;
	run->text = malloc(SSHCONFIG_OUTPUT_MAX);
	run->base = malloc(SSHCONFIG_OUTPUT_MAX);
	if (run->text == NULL || run->base == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = sshconfig_ask_ssh(cfg, alias, cfg->ssh_config, run->text);
	if (rc == 0 &&
	    sshconfig_ask_ssh(cfg, alias, "/dev/null", run->base) != 0)
		run->base[0] = '\0';
	if (rc != 0 && !(rc == 127 && cfg->ssh_config[0] == '\0'))
		error_set(err, TETHER_EXIT_CONFIG,
		    "cannot read the ssh_config for %s (ssh -G%s%s failed: is "
		    "openssh-client installed, and the file valid?); set "
		    "ssh_config = none to skip it",
		    alias, cfg->ssh_config[0] != '\0' ? " -F " : "",
		    cfg->ssh_config);
	return rc;
}

static void
sshconfig_done(struct sshconfig_run *run)
{
	free(run->text);
	free(run->base);
}

static int
sshconfig_read(struct tether_config *cfg, const char *alias, struct error *err)
{
	struct sshconfig_run run = { NULL, NULL, NULL };
	int rc;

	rc = sshconfig_ask(cfg, alias, &run, err);
	if (rc == 0)
		rc = sshconfig_apply_run(cfg, &run, err);
	else if (rc == 127 && cfg->ssh_config[0] == '\0')
		rc = 0; /* no OpenSSH client here: no ssh_config in use */
	sshconfig_done(&run);
	return rc == 0 ? 0 : -1;
}

/*
 * A jump host as ssh reaches it: HostName, Port and User from ssh_config,
 * and the IdentityFile its entry sets; with none set, the tunnel's own key
 * is offered (one key for the whole way is the common case).
 */
static int
sshconfig_resolve_jump(const struct tether_config *cfg, struct jump_spec *hop,
    struct error *err)
{
	struct sshconfig_run run = { NULL, NULL, NULL };
	struct tether_config *scratch;
	int rc = -1;

	scratch = malloc(sizeof *scratch);
	if (scratch == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	*scratch = *cfg;
	scratch->bastion = hop->dest;
	scratch->key_path[0] = '\0';
	scratch->nmore_keys = 0;
	scratch->given |= CONFIG_GIVEN_CERTIFICATE;
	rc = sshconfig_ask(scratch, hop->alias, &run, err);
	if (rc == 127 && cfg->ssh_config[0] == '\0') {
		rc = 0;
	} else if (rc == 0) {
		rc = sshconfig_destination(scratch, &run, err);
		if (rc == 0 && sshconfig_is_set(&run, "identityfile"))
			rc = sshconfig_identities(scratch, &run, err);
		if (rc == 0) {
			hop->dest = scratch->bastion;
			memcpy(hop->key_path, scratch->key_path,
			    sizeof hop->key_path);
		}
	}
	sshconfig_done(&run);
	free(scratch);
	return rc == 0 ? 0 : -1;
}

int
sshconfig_apply(struct tether_config *cfg, struct error *err)
{
	char alias[SPEC_HOST_MAX];

	if (strcmp(cfg->ssh_config, "none") == 0)
		return 0;
	if (!cfg->has_bastion)
		return config_check_key_source(cfg, err);
	snprintf(alias, sizeof alias, "%s", cfg->bastion.host);
	if (sshconfig_read(cfg, alias, err) == -1)
		return -1;
	for (size_t i = 0; i < cfg->njumps; i++) {
		if (sshconfig_resolve_jump(cfg, &cfg->jumps[i], err) == -1)
			return -1;
	}
	/* Only the first bastion is looked up; others are used as given. */
	if (cfg->nbastions > 0)
		cfg->bastions[0] = cfg->bastion;
	if (config_check_some_forward(cfg, err) == -1 ||
	    config_check_forwards(cfg, err) == -1)
		return -1;
	config_name_from_forward(cfg);
	return config_check_key_source(cfg, err);
}
