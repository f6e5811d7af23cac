/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "tether/exit.h"
#include "config.h"

struct ini_ctx {
	struct tether_config *cfg;
	const char *origin;
	struct error first; /* the first bad key, without its line number */
	int first_line;     /* the line of first */
	int file_forwards;  /* forward= seen in this file */
	const char *next;   /* the text not yet handed to inih */
	int line;           /* the line inih is parsing */
};

void
config_init_defaults(struct tether_config *cfg, const char *home)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->home, sizeof cfg->home, "%s", home != NULL ? home : "");
	cfg->host_key_policy = HOST_KEY_STRICT;
	cfg->port = -1;
	snprintf(cfg->target_host, sizeof cfg->target_host, "localhost");
	cfg->target_port = 22;
	cfg->keepalive_interval = 30;
	cfg->keepalive_count = 3;
	cfg->backoff_initial = 1;
	cfg->backoff_max = 60;
	cfg->backoff_factor = 2;
	cfg->stable_after = 30;
	cfg->connect_timeout = 15;
	cfg->target_connect_timeout = 10;
	cfg->refused_retry_interval = 60;
	/* 2 x ClientAliveInterval 10 x (ClientAliveCountMax 3 + 1). */
	cfg->stale_port_timeout = 80;
	cfg->probe_interval = 60;
	cfg->failback_interval = 30;
	cfg->probe_timeout = 10;
	cfg->max_channels = 256;
	cfg->channel_window = CONFIG_CHANNEL_WINDOW_DEFAULT;
	/* A HOME too long for the path leaves it unset, not truncated. */
	if (cfg->home[0] != '\0' &&
	    config_expand_path("~/.ssh/known_hosts", cfg->home,
	        cfg->known_hosts, sizeof cfg->known_hosts) == -1)
		cfg->known_hosts[0] = '\0';
}

int
config_expand_path(const char *in, const char *home, char *out, size_t sz)
{
	int n;

	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
		if (home == NULL || home[0] == '\0')
			return -1;
		n = snprintf(out, sz, "%s%s", home, in + 1);
	} else {
		n = snprintf(out, sz, "%s", in);
	}
	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}

static int
parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int
parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * "a, b, c" into specs[*n...]: each "[user@]host[:port]", at most max in
 * all; noun names them in errors ("bastions", "jump hosts").
 */
static int
config_parse_hosts(const char *value, struct bastion_spec *specs, size_t *n,
    size_t max, const char *noun, const char *origin, struct error *err)
{
	char one[SPEC_USER_MAX + SPEC_HOST_MAX + 16];
	struct error e;
	size_t len;

	do {
		value += strspn(value, " \t");
		len = strcspn(value, ",");
		while (len > 0 &&
		    (value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		if (*n == max) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "%s: more than %zu %s", origin, max, noun);
			return -1;
		}
		snprintf(one, sizeof one, "%.*s", (int)len, value);
		error_clear(&e);
		if (len >= sizeof one ||
		    spec_parse_bastion(one, &specs[*n], &e) == -1) {
			error_set(err,
			    e.code != 0 ? e.code : TETHER_EXIT_CONFIG, "%s: %s",
			    origin, e.code != 0 ? e.msg : "a host is too long");
			return -1;
		}
		(*n)++;
		value += strcspn(value, ",");
	} while (*value++ == ',');
	return 0;
}

int
config_add_bastion(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (config_parse_hosts(value, cfg->bastions, &cfg->nbastions,
	        CONFIG_BASTIONS_MAX, "bastions", origin, err) == -1)
		return -1;
	cfg->bastion = cfg->bastions[0];
	cfg->has_bastion = 1;
	return 0;
}

int
config_set_bastion(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	cfg->nbastions = 0;
	return config_add_bastion(cfg, value, origin, err);
}

int
config_set_path(struct tether_config *cfg, char *dst, const char *value,
    const char *origin, struct error *err)
{
	if (value[0] == '\0') {
		error_set(err, TETHER_EXIT_CONFIG, "%s: the path is empty",
		    origin);
		return -1;
	}
	if (config_expand_path(value, cfg->home, dst, CONFIG_PATH_MAX) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: path '%.64s' is longer "
		    "than %d bytes or starts with '~' and HOME is unset",
		    origin, value, CONFIG_PATH_MAX - 1);
		return -1;
	}
	if (dst == cfg->known_hosts)
		cfg->given |= CONFIG_GIVEN_KNOWN_HOSTS;
	if (dst == cfg->certificate_file)
		cfg->given |= CONFIG_GIVEN_CERTIFICATE;
	return 0;
}

int
config_set_agent(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (strcmp(value, "none") == 0) {
		cfg->agent_socket[0] = '\0';
	} else if (config_set_path(cfg, cfg->agent_socket, value, origin,
	               err) == -1) {
		return -1;
	}
	cfg->agent_available = cfg->agent_socket[0] != '\0';
	cfg->given |= CONFIG_GIVEN_AGENT;
	return 0;
}

int
config_set_proxy_command(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (strlen(value) >= sizeof cfg->proxy_command ||
	    strpbrk(value, "\n\r") != NULL) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: the command must be one line shorter than %zu bytes",
		    origin, sizeof cfg->proxy_command);
		return -1;
	}
	snprintf(cfg->proxy_command, sizeof cfg->proxy_command, "%s",
	    strcmp(value, "none") == 0 ? "" : value);
	/* One way to the bastion: the later setting replaces the other. */
	cfg->njumps = 0;
	cfg->given |= CONFIG_GIVEN_PROXY;
	return 0;
}

int
config_set_proxy_jump(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	struct bastion_spec hops[CONFIG_JUMPS_MAX];
	size_t i, n = 0;

	if (strcmp(value, "none") != 0 &&
	    config_parse_hosts(value, hops, &n, CONFIG_JUMPS_MAX, "jump hosts",
	        origin, err) == -1)
		return -1;
	memset(cfg->jumps, 0, sizeof cfg->jumps);
	for (i = 0; i < n; i++) {
		cfg->jumps[i].dest = hops[i];
		memcpy(cfg->jumps[i].alias, hops[i].host,
		    sizeof cfg->jumps[i].alias);
	}
	cfg->njumps = n;
	cfg->proxy_command[0] = '\0';
	cfg->given |= CONFIG_GIVEN_PROXY;
	return 0;
}

int
config_set_address_family(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (strcmp(value, "any") == 0) {
		cfg->address_family = AF_UNSPEC;
	} else if (strcmp(value, "inet") == 0) {
		cfg->address_family = AF_INET;
	} else if (strcmp(value, "inet6") == 0) {
		cfg->address_family = AF_INET6;
	} else {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: address family '%.32s' is not any, inet (IPv4 only) "
		    "or inet6 (IPv6 only)",
		    origin, value);
		return -1;
	}
	cfg->given |= CONFIG_GIVEN_ADDRESS_FAMILY;
	return 0;
}

int
config_check_key_source(const struct tether_config *cfg, struct error *err)
{
	if (cfg->key_path[0] != '\0' || cfg->agent_available)
		return 0;
	error_set(err, TETHER_EXIT_KEY,
	    "no key: give -s PATH (or set TETHER_KEY, or an IdentityFile in "
	    "ssh_config), or run an ssh-agent and set SSH_AUTH_SOCK");
	return -1;
}

int
config_set_ssh_config(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (strcmp(value, "none") == 0 || strcmp(value, "default") == 0) {
		snprintf(cfg->ssh_config, sizeof cfg->ssh_config, "%s",
		    value[0] == 'n' ? "none" : "");
		return 0;
	}
	return config_set_path(cfg, cfg->ssh_config, value, origin, err);
}

int
config_set_policy(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	if (strcmp(value, "strict") == 0) {
		cfg->host_key_policy = HOST_KEY_STRICT;
	} else if (strcmp(value, "accept-new") == 0) {
		cfg->host_key_policy = HOST_KEY_ACCEPT_NEW;
	} else {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: host key policy '%s' is "
		    "neither 'strict' nor 'accept-new'",
		    origin, value);
		return -1;
	}
	cfg->given |= CONFIG_GIVEN_POLICY;
	return 0;
}

int
config_add_forward(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	struct error e;

	if (cfg->nforwards == CONFIG_FORWARDS_MAX) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: more than %d forwards; "
		    "split them over several tunnels",
		    origin, CONFIG_FORWARDS_MAX);
		return -1;
	}
	error_clear(&e);
	if (spec_parse_forward(value, &cfg->forwards[cfg->nforwards], &e) ==
	    -1) {
		error_set(err, e.code, "%s: %s", origin, e.msg);
		return -1;
	}
	cfg->nforwards++;
	return 0;
}

static int
config_set_name(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	const char *p;

	if (value[0] == '\0' || strlen(value) >= sizeof cfg->name)
		goto bad;
	for (p = value; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("._-", *p) != NULL))
			goto bad;
	}
	snprintf(cfg->name, sizeof cfg->name, "%s", value);
	return 0;
bad:
	error_set(err, TETHER_EXIT_CONFIG,
	    "%s: name '%s' must be 1 to %d letters, digits, '.', '_' or '-'",
	    origin, value, (int)sizeof cfg->name - 1);
	return -1;
}

/* Numeric keys: one row each, so ranges and messages stay in one place. */
struct number_key {
	const char *key;
	int is_int;
	unsigned given; /* CONFIG_GIVEN_*, for ssh_config's precedence */
	double min, max;
	size_t offset;
	const char *unit;
};

#define NUMBER_KEY(k, isint, lo, hi, unit) \
	{ \
#k, isint, 0, lo, hi, offsetof(struct tether_config, k), unit \
	}
#define NUMBER_KEY_GIVEN(k, isint, lo, hi, unit, bit) \
	{ \
#k, isint, bit, lo, hi, offsetof(struct tether_config, k), \
		    unit \
	}

static const struct number_key number_keys[] = {
	NUMBER_KEY_GIVEN(keepalive_interval, 1, 0, 86400,
	    "a whole number of seconds (0 = off)",
	    CONFIG_GIVEN_KEEPALIVE_INTERVAL),
	NUMBER_KEY_GIVEN(keepalive_count, 1, 1, 100, "a whole number",
	    CONFIG_GIVEN_KEEPALIVE_COUNT),
	NUMBER_KEY(backoff_initial, 0, 0.1, 3600, "a number of seconds"),
	NUMBER_KEY(backoff_max, 0, 0.1, 86400, "a number of seconds"),
	NUMBER_KEY(backoff_factor, 0, 1, 10, "a number"),
	NUMBER_KEY(stable_after, 1, 0, 86400, "a whole number of seconds"),
	NUMBER_KEY(refused_retry_interval, 1, 1, 86400,
	    "a whole number of seconds"),
	NUMBER_KEY(stale_port_timeout, 1, 1, 86400,
	    "a whole number of seconds"),
	NUMBER_KEY(probe_interval, 1, 0, 86400,
	    "a whole number of seconds (0 = off)"),
	NUMBER_KEY(probe_timeout, 1, 1, 3600, "a whole number of seconds"),
	NUMBER_KEY(failback_interval, 1, 1, 86400, "a whole number of seconds"),
	NUMBER_KEY_GIVEN(connect_timeout, 1, 1, 3600,
	    "a whole number of seconds", CONFIG_GIVEN_CONNECT_TIMEOUT),
	NUMBER_KEY(target_connect_timeout, 1, 1, 3600,
	    "a whole number of seconds"),
	NUMBER_KEY(max_channels, 1, 1, 4096, "a whole number"),
	NUMBER_KEY(channel_window, 1, CONFIG_CHANNEL_WINDOW_MIN,
	    CONFIG_CHANNEL_WINDOW_MAX, "a whole number of bytes"),
};

/* Keys that only some builds can honour: refused, never ignored. */
static int
config_check_build(const char *key, struct error *err)
{
#ifndef TETHER_LIBSSH_CHANNEL_WINDOW
	if (strcmp(key, "channel_window") == 0) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "key 'channel_window': this tether uses the system's "
		    "libssh, whose window is fixed at 1280000 bytes; remove "
		    "the key or build with -DTETHER_BUNDLED_LIBSSH=ON");
		return -1;
	}
#else
	(void)key;
	(void)err;
#endif
	return 0;
}

/* Returns 0 when set, -1 when the value is bad, 1 if key is not numeric. */
static int
config_set_number(struct tether_config *cfg, const char *key, const char *value,
    struct error *err)
{
	const struct number_key *nk;
	char *field;
	size_t i;
	int rc;

	for (i = 0; i < sizeof number_keys / sizeof number_keys[0]; i++) {
		nk = &number_keys[i];
		if (strcmp(key, nk->key) != 0)
			continue;
		if (config_check_build(key, err) == -1)
			return -1;
		field = (char *)cfg + nk->offset;
		if (nk->is_int)
			rc = parse_int(value, (long)nk->min, (long)nk->max,
			    (int *)(void *)field);
		else
			rc = parse_seconds(value, nk->min, nk->max,
			    (double *)(void *)field);
		if (rc == -1)
			error_set(err, TETHER_EXIT_CONFIG,
			    "key '%s': '%s' is not %s from %g to %g", key,
			    value, nk->unit, nk->min, nk->max);
		else
			cfg->given |= nk->given;
		return rc;
	}
	return 1;
}

int
config_set_host_key_pin(struct tether_config *cfg, const char *value,
    const char *origin, struct error *err)
{
	size_t len = strlen(value), i;

	/* OpenSSH's form: SHA256: and 43 characters of unpadded base64. */
	if (strncmp(value, "SHA256:", 7) != 0 || len != 7 + 43)
		goto bad;
	for (i = 7; i < len; i++) {
		char c = value[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '+' || c == '/'))
			goto bad;
	}
	snprintf(cfg->host_key_pin, sizeof cfg->host_key_pin, "%s", value);
	return 0;
bad:
	error_set(err, TETHER_EXIT_CONFIG,
	    "%s: '%.80s' is not a SHA256 "
	    "fingerprint as ssh-keygen -l prints it (SHA256: and 43 "
	    "characters)",
	    origin, value);
	return -1;
}

/* One INI key: the value is valid or the key is refused with a reason. */
static int
config_set_key(struct ini_ctx *ctx, const char *key, const char *value)
{
	struct tether_config *cfg = ctx->cfg;
	struct error *e = &ctx->first;
	char what[96];
	int rc;

	snprintf(what, sizeof what, "key '%s'", key);
	if (strcmp(key, "name") == 0)
		return config_set_name(cfg, value, what, e);
	if (strcmp(key, "bastion") == 0)
		return config_set_bastion(cfg, value, what, e);
	if (strcmp(key, "key") == 0)
		return config_set_path(cfg, cfg->key_path, value, what, e);
	if (strcmp(key, "known_hosts") == 0)
		return config_set_path(cfg, cfg->known_hosts, value, what, e);
	if (strcmp(key, "certificate_file") == 0)
		return config_set_path(cfg, cfg->certificate_file, value, what,
		    e);
	if (strcmp(key, "identity_agent") == 0)
		return config_set_agent(cfg, value, what, e);
	if (strcmp(key, "address_family") == 0)
		return config_set_address_family(cfg, value, what, e);
	if (strcmp(key, "proxy_command") == 0)
		return config_set_proxy_command(cfg, value, what, e);
	if (strcmp(key, "proxy_jump") == 0)
		return config_set_proxy_jump(cfg, value, what, e);
	if (strcmp(key, "ssh_config") == 0)
		return config_set_ssh_config(cfg, value, what, e);
	if (strcmp(key, "host_key_policy") == 0)
		return config_set_policy(cfg, value, what, e);
	if (strcmp(key, "host_key") == 0)
		return config_set_host_key_pin(cfg, value, what, e);
	if (strcmp(key, "forward") == 0) {
		if (ctx->file_forwards++ == 0)
			cfg->nforwards = 0;
		return config_add_forward(cfg, value, what, e);
	}
	if (strcmp(key, "port") == 0) {
		if (spec_parse_port(value, 0, &cfg->port) == -1)
			goto range;
		return 0;
	}
	if (strcmp(key, "target") == 0) {
		struct error te;

		error_clear(&te);
		if (spec_parse_target(value, cfg->target_host,
		        &cfg->target_port, &te) == 0)
			return 0;
		error_set(e, te.code, "%s: %s", what, te.msg);
		return -1;
	}
	if ((rc = config_set_number(cfg, key, value, e)) != 1)
		return rc;
	if (strcmp(key, "exit_on_forward_failure") == 0) {
		if (parse_bool(value, &cfg->exit_on_forward_failure) == -1) {
			error_set(e, TETHER_EXIT_CONFIG,
			    "%s: '%s' is not yes or no", what, value);
			return -1;
		}
		cfg->given |= CONFIG_GIVEN_EXIT_ON_FAILURE;
		return 0;
	}
	error_set(e, TETHER_EXIT_CONFIG,
	    "unknown key '%s' (see "
	    "tether.conf.example for the keys of [tunnel])",
	    key);
	return -1;
range:
	error_set(e, TETHER_EXIT_CONFIG,
	    "%s: '%s' is not a port from 0 to 65535", what, value);
	return -1;
}

static int
config_on_ini_pair(void *user, const char *section, const char *key,
    const char *value)
{
	struct ini_ctx *ctx = user;

	if (strcmp(section, "tunnel") != 0) {
		if (section[0] == '\0')
			error_set(&ctx->first, TETHER_EXIT_CONFIG,
			    "key '%s' is "
			    "outside any section; put it under [tunnel]",
			    key);
		else
			error_set(&ctx->first, TETHER_EXIT_CONFIG,
			    "unknown "
			    "section [%s]; the only section is [tunnel]",
			    section);
	} else if (config_set_key(ctx, key, value) == 0) {
		return 1;
	}
	/* error_set kept the first failure: note its line. */
	if (ctx->first_line == 0)
		ctx->first_line = ctx->line;
	return 0;
}

/*
 * A reader like ini_parse_string's that counts lines: inih reports only the
 * line of its first error, which may be a syntax error before a bad key.
 */
static char *
config_ini_reader(char *str, int num, void *stream)
{
	struct ini_ctx *ctx = stream;
	size_t n;

	if (*ctx->next == '\0' || num < 2)
		return NULL;
	n = strcspn(ctx->next, "\n");
	if (ctx->next[n] == '\n')
		n++;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, ctx->next, n);
	str[n] = '\0';
	ctx->next += n;
	ctx->line++;
	return str;
}

/* inih splits lines longer than its buffer; refuse them instead. */
static long
config_find_long_line(const char *text)
{
	const char *p = text, *nl;
	long line = 1;
	size_t len;

	for (;; line++) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		/* Of "\r\n", the '\r' is line end too: inih allows for it. */
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= INI_MAX_LINE - 2)
			return line;
		if (nl == NULL)
			return 0;
		p = nl + 1;
	}
}

int
config_load_string(struct tether_config *cfg, const char *text,
    const char *origin, struct error *err)
{
	struct ini_ctx ctx;
	long line;
	int rc;

	line = config_find_long_line(text);
	if (line != 0) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s:%ld: line is longer than "
		    "%d characters; shorten the value",
		    origin, line, INI_MAX_LINE - 3);
		return -1;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cfg;
	ctx.origin = origin;
	error_clear(&ctx.first);
	ctx.next = text;
	rc = ini_parse_stream(config_ini_reader, &ctx, config_on_ini_pair,
	    &ctx);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s: out of memory reading it", origin);
	} else if (error_is_set(&ctx.first) && ctx.first_line == rc) {
		error_set(err, ctx.first.code, "%s:%d: %s", origin, rc,
		    ctx.first.msg);
	} else {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s:%d: expected 'key = value' or [tunnel]", origin, rc);
	}
	return -1;
}

int
config_load_file(struct tether_config *cfg, const char *path, struct error *err)
{
	char *text;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		error_set(err, TETHER_EXIT_CONFIG, "config %s: %s", path,
		    strerror(errno));
		return -1;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (text == NULL) {
		close(fd);
		error_set(err, TETHER_EXIT_CONFIG, "config %s: out of memory",
		    path);
		return -1;
	}
	while ((n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX)
			break;
	}
	close(fd);
	if (n == -1 || len > CONFIG_FILE_MAX || memchr(text, '\0', len)) {
		error_set(err, TETHER_EXIT_CONFIG, "config %s: %s", path,
		    n == -1 ? strerror(errno) :
		        len > CONFIG_FILE_MAX ?
		              "larger than 64 KiB; is this the right file?" :
		              "holds a NUL byte; is this a text file?");
		free(text);
		return -1;
	}
	text[len] = '\0';
	rc = config_load_string(cfg, text, path, err);
	free(text);
	return rc;
}

int
config_env_debug(env_lookup_fn lookup, void *lctx, int *on, struct error *err)
{
	/* TETHER_* first: the newer name wins over the seed's. */
	static const char *debug_vars[] = { "TETHER_DEBUG",
		"SCITEX_TUNNEL_DEBUG_MODE" };
	const char *v;
	size_t i;

	for (i = 0; i < 2; i++) {
		if ((v = lookup(debug_vars[i], lctx)) == NULL || *v == '\0')
			continue;
		if (parse_bool(v, on) == -1) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "$%s: '%s' is not 1/0, yes/no or true/false",
			    debug_vars[i], v);
			return -1;
		}
		return 0;
	}
	return 0;
}

int
config_apply_env(struct tether_config *cfg, env_lookup_fn lookup, void *lctx,
    struct error *err)
{
	/* TETHER_* first: the newer name wins over the seed's. */
	static const char *bastion_vars[] = { "TETHER_BASTION",
		"SCITEX_TUNNEL_BASTION_SERVER" };
	static const char *key_vars[] = { "TETHER_KEY",
		"SCITEX_TUNNEL_SECRET_KEY_PATH" };
	char origin[64];
	const char *v;
	size_t i;

	for (i = 0; i < 2; i++) {
		if ((v = lookup(bastion_vars[i], lctx)) != NULL && *v != '\0') {
			snprintf(origin, sizeof origin, "$%s", bastion_vars[i]);
			if (config_set_bastion(cfg, v, origin, err) == -1)
				return -1;
			break;
		}
	}
	for (i = 0; i < 2; i++) {
		if ((v = lookup(key_vars[i], lctx)) != NULL && *v != '\0') {
			snprintf(origin, sizeof origin, "$%s", key_vars[i]);
			if (config_set_path(cfg, cfg->key_path, v, origin,
			        err) == -1)
				return -1;
			break;
		}
	}
	if (config_env_debug(lookup, lctx, &cfg->verbose, err) == -1)
		return -1;
	if ((v = lookup("TETHER_SSH_CONFIG", lctx)) != NULL && *v != '\0' &&
	    config_set_ssh_config(cfg, v, "$TETHER_SSH_CONFIG", err) == -1)
		return -1;
	/* An identity_agent from the file wins over the environment's. */
	v = lookup("SSH_AUTH_SOCK", lctx);
	if (!(cfg->given & CONFIG_GIVEN_AGENT))
		snprintf(cfg->agent_socket, sizeof cfg->agent_socket, "%s",
		    v != NULL && strlen(v) < sizeof cfg->agent_socket ? v : "");
	cfg->agent_available = cfg->agent_socket[0] != '\0';
	return 0;
}

const char *
config_forward_bind_address(const struct forward_spec *f)
{
	if (f->bind[0] == '\0')
		return "localhost";
	if (strcmp(f->bind, "*") == 0)
		return "";
	return f->bind;
}

int
config_check_forwards(const struct tether_config *cfg, struct error *err)
{
	size_t i, j;

	for (i = 0; i < cfg->nforwards; i++) {
		for (j = i + 1; j < cfg->nforwards; j++) {
			if (cfg->forwards[i].port != 0 &&
			    cfg->forwards[i].port == cfg->forwards[j].port) {
				error_set(err, TETHER_EXIT_CONFIG,
				    "remote port "
				    "%d is forwarded twice; each forward needs "
				    "its own remote port",
				    cfg->forwards[i].port);
				return -1;
			}
		}
	}
	return 0;
}

int
config_check_some_forward(const struct tether_config *cfg, struct error *err)
{
	if (cfg->nforwards > 0)
		return 0;
	error_set(err, TETHER_EXIT_CONFIG,
	    "no forward: give -p PORT (with -t HOST:PORT, default "
	    "localhost:22) or -R [bind:]PORT:HOST:HOSTPORT");
	return -1;
}

int
config_finish(struct tether_config *cfg, struct error *err)
{
	struct forward_spec *f;

	if (cfg->port >= 0) {
		if (cfg->nforwards == CONFIG_FORWARDS_MAX) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "more than %d forwards", CONFIG_FORWARDS_MAX);
			return -1;
		}
		f = &cfg->forwards[cfg->nforwards++];
		memset(f, 0, sizeof *f);
		f->port = cfg->port;
		snprintf(f->host, sizeof f->host, "%s", cfg->target_host);
		f->host_port = cfg->target_port;
		cfg->port = -1;
	}
	if (!cfg->has_bastion) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "bastion_server is required. "
		    "Provide it as an argument (-b user@host) or set "
		    "TETHER_BASTION (or SCITEX_TUNNEL_BASTION_SERVER) "
		    "environment variable.");
		return -1;
	}
	/* ssh_config's RemoteForward may still bring some (sshconfig.c). */
	if (strcmp(cfg->ssh_config, "none") == 0 &&
	    config_check_some_forward(cfg, err) == -1)
		return -1;
	if (config_check_forwards(cfg, err) == -1)
		return -1;
	/* ssh_config may still name one (sshconfig_apply checks again). */
	if (strcmp(cfg->ssh_config, "none") == 0 &&
	    config_check_key_source(cfg, err) == -1)
		return -1;
	if (cfg->known_hosts[0] == '\0') {
		error_set(err, TETHER_EXIT_CONFIG,
		    "no known_hosts file: HOME is "
		    "unset; give --known-hosts PATH");
		return -1;
	}
	if (cfg->backoff_max < cfg->backoff_initial) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "backoff_max (%g s) is below "
		    "backoff_initial (%g s); raise backoff_max",
		    cfg->backoff_max, cfg->backoff_initial);
		return -1;
	}
	config_name_from_forward(cfg);
	return 0;
}

double
config_liveness_limit(const struct tether_config *cfg)
{
	return (double)cfg->keepalive_interval * cfg->keepalive_count;
}

void
config_name_from_forward(struct tether_config *cfg)
{
	if (cfg->name[0] == '\0' && cfg->nforwards > 0)
		snprintf(cfg->name, sizeof cfg->name, "%d",
		    cfg->forwards[0].port);
}

int
config_set_option(struct tether_config *cfg, const char *assignment,
    struct error *err)
{
	char key[64];
	const char *eq;
	struct ini_ctx ctx;
	size_t klen;

	eq = strchr(assignment, '=');
	klen = eq != NULL ? (size_t)(eq - assignment) : 0;
	while (klen > 0 && assignment[klen - 1] == ' ')
		klen--;
	if (eq == NULL || klen == 0 || klen >= sizeof key) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "-o '%s': expected KEY=VALUE "
		    "with a key of [tunnel], e.g. -o keepalive_interval=10",
		    assignment);
		return -1;
	}
	memcpy(key, assignment, klen);
	key[klen] = '\0';
	for (eq++; *eq == ' '; eq++)
		;
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cfg;
	ctx.origin = "-o";
	error_clear(&ctx.first);
	if (config_set_key(&ctx, key, eq) == 0)
		return 0;
	error_set(err, ctx.first.code, "-o %s", ctx.first.msg);
	return -1;
}
