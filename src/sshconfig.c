/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The user's ssh_config, read as ssh itself reads it: `ssh -G HOST` prints
 * what ssh would use for HOST after every Host and Match block, Include
 * and token, so an alias that works with `ssh -R` works with tether. On a
 * machine without the OpenSSH client there is no ssh_config in use, and
 * nothing to read (unless a file was named: then that is an error).
 *
 * Precedence: tether's flags, environment and file, then ssh_config, then
 * tether's defaults. What ssh_config says only by ssh's own default
 * (ServerAliveInterval 0, ConnectTimeout none) leaves tether's default.
 */
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

/* The value of "KEY value" lines in ssh -G's output; "" if absent. */
static void
sshconfig_value(const char *text, const char *key, char *out, size_t sz)
{
	size_t klen = strlen(key);
	const char *line = text, *nl;
	size_t vlen;

	out[0] = '\0';
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if ((size_t)(nl - line) > klen &&
		    strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			vlen = (size_t)(nl - line) - klen - 1;
			if (vlen < sz)
				snprintf(out, sz, "%.*s", (int)vlen,
				    line + klen + 1);
			return;
		}
		if (*nl == '\0')
			return;
	}
}

/* The first identityfile ssh would try that exists; "" if none does. */
static void
sshconfig_identity(const char *text, char *out, size_t sz)
{
	const char *line = text, *nl;
	char path[CONFIG_PATH_MAX];
	size_t vlen;

	out[0] = '\0';
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (strncmp(line, "identityfile ", 13) == 0) {
			vlen = (size_t)(nl - line) - 13;
			if (vlen < sizeof path) {
				snprintf(path, sizeof path, "%.*s", (int)vlen,
				    line + 13);
				if (access(path, F_OK) == 0 && vlen < sz) {
					snprintf(out, sz, "%s", path);
					return;
				}
			}
		}
		if (*nl == '\0')
			return;
	}
}

/*
 * What tether cannot do for the bastion yet: refused, never ignored. A
 * HostKeyAlias would check the key under another name; a CertificateFile
 * other than KEY-cert.pub would not be presented.
 */
static int
sshconfig_check_unsupported(const char *text, const char *alias,
    const struct tether_config *cfg, struct error *err)
{
	static const char *const keys[] = { "proxyjump", "proxycommand",
		"hostkeyalias" };
	char value[CONFIG_PATH_MAX], own[CONFIG_PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		sshconfig_value(text, keys[i], value, sizeof value);
		if (value[0] == '\0' || strcmp(value, "none") == 0)
			continue;
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s a %s (%.200s), which "
		    "tether does not support yet: give a bastion it can "
		    "reach directly, or set ssh_config = none",
		    alias, keys[i], value);
		return -1;
	}
	sshconfig_value(text, "certificatefile", value, sizeof value);
	snprintf(own, sizeof own, "%s-cert.pub", cfg->key_path);
	if (value[0] != '\0' && strcmp(value, "none") != 0 &&
	    strcmp(value, own) != 0) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s the CertificateFile "
		    "%.200s; tether presents only KEY-cert.pub beside the key "
		    "(%s): put the certificate there, or set ssh_config = none",
		    alias, value, cfg->key_path[0] != '\0' ? own : "no key");
		return -1;
	}
	return 0;
}

/* StrictHostKeyChecking as tether's host_key_policy; never "no". */
static int
sshconfig_policy(struct tether_config *cfg, const char *alias, const char *text,
    struct error *err)
{
	char value[32];

	sshconfig_value(text, "stricthostkeychecking", value, sizeof value);
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
	    value, alias);
	return -1;
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
sshconfig_forwards(struct tether_config *cfg, const char *alias,
    const char *text, struct error *err)
{
	char spec[2 * SPEC_HOST_MAX + 40];
	const char *line = text, *nl, *listen, *target;
	size_t llen, tlen;

	if (cfg->nforwards > 0 || cfg->port > 0)
		return 0;
	for (; *line != '\0'; line = *nl != '\0' ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		if (strncmp(line, "remoteforward ", 14) != 0)
			continue;
		listen = line + 14;
		llen = strcspn(listen, " \n");
		target = listen + llen + (listen[llen] == ' ');
		tlen = (size_t)(nl - target);
		if (listen[llen] != ' ' || tlen == 0 ||
		    strncmp(target, "[socks]", 7) == 0 ||
		    llen + tlen + 2 > sizeof spec) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "ssh_config gives the bastion %s a RemoteForward "
			    "tether cannot carry (%.*s): only PORT HOST:PORT "
			    "forwards",
			    alias, (int)(nl - line), line);
			return -1;
		}
		snprintf(spec, sizeof spec, "%.*s:%.*s", (int)llen, listen,
		    (int)tlen, target);
		if (config_add_forward(cfg, spec, "ssh_config's RemoteForward",
		        err) == -1)
			return -1;
	}
	return 0;
}

/* ssh_config's side of the session: host keys, keepalive, forwards. */
static int
sshconfig_session(struct tether_config *cfg, const char *alias,
    const char *text, struct error *err)
{
	char value[CONFIG_PATH_MAX];
	int n;

	sshconfig_value(text, "userknownhostsfile", value, sizeof value);
	value[strcspn(value, " ")] = '\0';
	if (!(cfg->given & CONFIG_GIVEN_KNOWN_HOSTS) && value[0] != '\0' &&
	    strcmp(value, "none") != 0 &&
	    config_set_path(cfg, cfg->known_hosts, value,
	        "ssh_config's UserKnownHostsFile", err) == -1)
		return -1;
	if (sshconfig_policy(cfg, alias, text, err) == -1)
		return -1;
	/* ServerAliveInterval 0 is ssh's "off" default: tether keeps its own. */
	if (sshconfig_seconds(text, "serveraliveinterval",
	        CONFIG_GIVEN_KEEPALIVE_INTERVAL, cfg, &n) == 1 &&
	    n > 0) {
		cfg->keepalive_interval = n;
		if (sshconfig_seconds(text, "serveralivecountmax",
		        CONFIG_GIVEN_KEEPALIVE_COUNT, cfg, &n) == 1 &&
		    n >= 1 && n <= 100)
			cfg->keepalive_count = n;
	}
	if (sshconfig_seconds(text, "connecttimeout",
	        CONFIG_GIVEN_CONNECT_TIMEOUT, cfg, &n) == 1 &&
	    n >= 1)
		cfg->connect_timeout = n;
	sshconfig_value(text, "exitonforwardfailure", value, sizeof value);
	if (!(cfg->given & CONFIG_GIVEN_EXIT_ON_FAILURE) &&
	    strcmp(value, "yes") == 0)
		cfg->exit_on_forward_failure = 1;
	return sshconfig_forwards(cfg, alias, text, err);
}

/* Fills what tether's own configuration left unsaid from ssh -G's text. */
static int
sshconfig_apply_text(struct tether_config *cfg, const char *alias,
    const char *text, struct error *err)
{
	char value[CONFIG_PATH_MAX];

	sshconfig_value(text, "hostname", value, sizeof value);
	if (value[0] != '\0') {
		if (!spec_host_is_valid(value) ||
		    strlen(value) >= sizeof cfg->bastion.host) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "ssh_config gives the bastion %s the HostName "
			    "'%.100s', which is not a host name or address",
			    alias, value);
			return -1;
		}
		memcpy(cfg->bastion.host, value, strlen(value) + 1);
	}
	sshconfig_value(text, "port", value, sizeof value);
	if (cfg->bastion.port == 22 && value[0] != '\0' &&
	    spec_parse_port(value, 1, &cfg->bastion.port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "ssh_config gives the bastion %s the Port '%.20s'", alias,
		    value);
		return -1;
	}
	sshconfig_value(text, "user", value, sizeof value);
	if (cfg->bastion.user[0] == '\0' && value[0] != '\0' &&
	    strlen(value) < sizeof cfg->bastion.user)
		memcpy(cfg->bastion.user, value, strlen(value) + 1);
	if (cfg->key_path[0] == '\0')
		sshconfig_identity(text, cfg->key_path, sizeof cfg->key_path);
	if (sshconfig_check_unsupported(text, alias, cfg, err) == -1)
		return -1;
	return sshconfig_session(cfg, alias, text, err);
}

int
sshconfig_apply(struct tether_config *cfg, struct error *err)
{
	char alias[SPEC_HOST_MAX], port[8], *text;
	char *argv[12];
	int n = 0, rc;

	if (strcmp(cfg->ssh_config, "none") == 0)
		return 0;
	if (!cfg->has_bastion)
		return config_check_key_source(cfg, err);
	snprintf(alias, sizeof alias, "%s", cfg->bastion.host);
	snprintf(port, sizeof port, "%d", cfg->bastion.port);
	argv[n++] = "ssh";
	argv[n++] = "-G";
	if (cfg->ssh_config[0] != '\0') {
		argv[n++] = "-F";
		argv[n++] = cfg->ssh_config;
	}
	if (cfg->bastion.port != 22) {
		argv[n++] = "-p";
		argv[n++] = port;
	}
	if (cfg->bastion.user[0] != '\0') {
		argv[n++] = "-l";
		argv[n++] = cfg->bastion.user;
	}
	argv[n++] = "--";
	argv[n++] = alias;
	argv[n] = NULL;
	text = malloc(SSHCONFIG_OUTPUT_MAX);
	if (text == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = service_exec(argv, text, SSHCONFIG_OUTPUT_MAX, SSHCONFIG_TIMEOUT);
	if (rc == 0)
		rc = sshconfig_apply_text(cfg, alias, text, err);
	else if (rc == 127 && cfg->ssh_config[0] == '\0')
		rc = 0; /* no OpenSSH client here: no ssh_config in use */
	else
		error_set(err, TETHER_EXIT_CONFIG,
		    "cannot read the ssh_config for the bastion %s (ssh -G%s%s "
		    "failed: is openssh-client installed, and the file "
		    "valid?); set ssh_config = none to skip it",
		    alias, cfg->ssh_config[0] != '\0' ? " -F " : "",
		    cfg->ssh_config);
	free(text);
	if (rc != 0 || config_check_some_forward(cfg, err) == -1 ||
	    config_check_forwards(cfg, err) == -1)
		return -1;
	config_name_from_forward(cfg);
	return config_check_key_source(cfg, err);
}
