/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The seed's autossh units, read for tether migrate (cmd_migrate.c): a
 * unit as systemd reads it (sections, continuation lines, comments,
 * quoting and escapes in ExecStart=) and autossh's command line as ssh
 * does (clustered flags, attached arguments, options after the
 * destination); whatever it does not understand is refused, naming the
 * unit and the line.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/exit.h"
#include "migrate.h"

#define LINE_MAX_LEN 4096
#define WORDS_MAX 96

/* ---- the parser ------------------------------------------------------- */

struct parse {
	const char *name; /* the unit's file name */
	int line;         /* where the logical line being read starts */
	struct migrate_unit *u;
	struct error *err;
	/* ExecStart= seen, and what it said. */
	int have_exec;
	char user_l[SPEC_USER_MAX];      /* -l, -o User, user@ */
	char host[SPEC_HOST_MAX];        /* the destination's host */
	char host_option[SPEC_HOST_MAX]; /* -o HostName */
	int bastion_port;                /* -p, -o Port, ssh://...:port; 0 */
	int have_forward;
};

struct words {
	char buf[LINE_MAX_LEN];
	char *w[WORDS_MAX];
	size_t n;
};

static void refuse(struct parse *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
refuse(struct parse *p, const char *fmt, ...)
{
	char what[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (p->line > 0)
		error_set(p->err, TETHER_EXIT_CONFIG, "%s line %d: %s", p->name,
		    p->line, what);
	else
		error_set(p->err, TETHER_EXIT_CONFIG, "%s: %s", p->name, what);
}

static void
note(struct parse *p, const char *what)
{
	struct migrate_unit *u = p->u;
	size_t len = strlen(u->notes);

	if (len + strlen(what) + 8 >= sizeof u->notes) {
		if (len + 6 < sizeof u->notes &&
		    (len < 3 || strcmp(u->notes + len - 3, "...") != 0))
			snprintf(u->notes + len, sizeof u->notes - len,
			    ", ...");
		return;
	}
	snprintf(u->notes + len, sizeof u->notes - len, "%s%s",
	    len > 0 ? ", " : "", what);
}

int
migrate_unit_port(const char *filename)
{
	size_t plen = strlen(MIGRATE_UNIT_PREFIX),
	       slen = strlen(MIGRATE_UNIT_SUFFIX);
	size_t n = strlen(filename);
	char digits[8];
	int port;

	if (n <= plen + slen || n - plen - slen >= sizeof digits ||
	    strncmp(filename, MIGRATE_UNIT_PREFIX, plen) != 0 ||
	    strcmp(filename + n - slen, MIGRATE_UNIT_SUFFIX) != 0)
		return -1;
	memcpy(digits, filename + plen, n - plen - slen);
	digits[n - plen - slen] = '\0';
	if (digits[0] == '0' || spec_parse_port(digits, 1, &port) == -1)
		return -1;
	return port;
}

/*
 * Splits a value into words as systemd does for ExecStart=: whitespace
 * separates, quotes group, a backslash escapes a quote, a backslash or a
 * space. %% is a '%' and (with dollar) $$ a '$'; any other specifier or
 * variable would need systemd's context, so it is refused.
 */
static int
words_split(struct parse *p, const char *key, const char *s, int dollar,
    struct words *out)
{
	char *o = out->buf, *end = out->buf + sizeof out->buf - 1;
	int in_word = 0;
	char quote = 0, c;

	out->n = 0;
	for (; *s != '\0'; s++) {
		c = *s;
		if ((unsigned char)c < 0x20 && c != '\t') {
			refuse(p, "%s= holds a control character", key);
			return -1;
		}
		if (quote == 0 && (c == ' ' || c == '\t')) {
			if (in_word) {
				*o++ = '\0';
				in_word = 0;
			}
			continue;
		}
		if (!in_word) {
			if (out->n == WORDS_MAX) {
				refuse(p, "%s= has more than %d words", key,
				    WORDS_MAX);
				return -1;
			}
			out->w[out->n++] = o;
			in_word = 1;
		}
		if (o >= end - 1) {
			refuse(p, "%s= is too long", key);
			return -1;
		}
		if (c == quote) {
			quote = 0;
			continue;
		}
		if (quote == 0 && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		}
		if (c == '\\') {
			c = *++s;
			if (c == '\0' || strchr("\\\"' ", c) == NULL) {
				refuse(p,
				    "%s= has the escape '\\%c', which migrate "
				    "does not read" MIGRATE_BY_HAND,
				    key, c != '\0' ? c : ' ');
				return -1;
			}
		} else if (c == '%') {
			if (s[1] != '%') {
				refuse(p,
				    "%s= uses the systemd specifier '%%%c', "
				    "which migrate does not expand; write the "
				    "value itself",
				    key, s[1] != '\0' ? s[1] : ' ');
				return -1;
			}
			s++;
		} else if (c == '$' && dollar) {
			if (s[1] != '$') {
				refuse(p,
				    "%s= uses an environment variable ($%.32s), "
				    "which migrate cannot know; write the value "
				    "itself",
				    key, s + 1);
				return -1;
			}
			s++;
		}
		*o++ = c;
	}
	if (quote != 0) {
		refuse(p, "%s= has an unterminated %c quote", key, quote);
		return -1;
	}
	if (in_word)
		*o = '\0';
	return 0;
}

static int
set_once(struct parse *p, char *dst, size_t sz, const char *value,
    const char *what)
{
	if (dst[0] != '\0' && strcmp(dst, value) != 0) {
		refuse(p,
		    "ExecStart= gives two different %s ('%.100s' and '%.100s')",
		    what, dst, value);
		return -1;
	}
	if ((size_t)snprintf(dst, sz, "%s", value) >= sz) {
		refuse(p, "ExecStart=: the %s '%.64s...' is too long", what,
		    value);
		return -1;
	}
	return 0;
}

/* -J or -o ProxyJump=: checked as tether's proxy_jump will read it. */
static int
set_jump(struct parse *p, const char *value)
{
	struct tether_config *scratch = malloc(sizeof *scratch);
	struct error e;
	int rc;

	if (scratch == NULL) {
		refuse(p, "out of memory");
		return -1;
	}
	error_clear(&e);
	config_init_defaults(scratch, NULL);
	rc = config_set_proxy_jump(scratch, value, "ProxyJump", &e);
	free(scratch);
	if (rc == -1) {
		refuse(p, "ExecStart=: %s", e.msg);
		return -1;
	}
	return set_once(p, p->u->proxy_jump, sizeof p->u->proxy_jump, value,
	    "jump hosts");
}

static int
set_port(struct parse *p, const char *value, const char *what)
{
	int port;

	if (spec_parse_port(value, 1, &port) == -1) {
		refuse(p,
		    "ExecStart=: %s '%.32s' is not a port from 1 to 65535",
		    what, value);
		return -1;
	}
	if (p->bastion_port != 0 && p->bastion_port != port) {
		refuse(p, "ExecStart= gives the bastion two ports (%d and %d)",
		    p->bastion_port, port);
		return -1;
	}
	p->bastion_port = port;
	return 0;
}

static int
set_path(struct parse *p, char *dst, const char *value, const char *what)
{
	if (value[0] != '/' && strncmp(value, "~/", 2) != 0) {
		refuse(p,
		    "ExecStart=: the %s '%.200s' is not an absolute path; "
		    "write it in full",
		    what, value);
		return -1;
	}
	if (strchr(value, '%') != NULL) {
		refuse(p,
		    "ExecStart=: the %s '%.200s' uses an ssh %%-token; write "
		    "the path itself",
		    what, value);
		return -1;
	}
	return set_once(p, dst, CONFIG_PATH_MAX, value, what);
}

static int
set_forward(struct parse *p, const char *spec)
{
	struct migrate_unit *u = p->u;
	struct forward_spec f;
	struct error ferr;
	int v6;

	if (p->have_forward) {
		refuse(p,
		    "ExecStart= has several -R forwards; tether setup installs "
		    "one port per unit, so write the forward = lines of a "
		    "tether.conf by hand");
		return -1;
	}
	p->have_forward = 1;
	error_clear(&ferr);
	if (spec_parse_forward(spec, &f, &ferr) == -1) {
		refuse(p, "ExecStart=: -R %s", ferr.msg);
		return -1;
	}
	if (f.bind[0] != '\0' && strcmp(f.bind, "localhost") != 0 &&
	    strcmp(f.bind, "127.0.0.1") != 0) {
		refuse(p,
		    "ExecStart=: -R %.100s binds '%.64s' on the bastion; tether "
		    "setup forwards on its loopback only, so write forward = "
		    "%.100s in a tether.conf by hand",
		    spec, f.bind, spec);
		return -1;
	}
	if (strcmp(f.bind, "127.0.0.1") == 0)
		note(p, "-R bind 127.0.0.1 (tether asks for localhost)");
	u->port = f.port;
	v6 = strchr(f.host, ':') != NULL;
	snprintf(u->target, sizeof u->target, "%s%s%s:%d", v6 ? "[" : "",
	    f.host, v6 ? "]" : "", f.host_port);
	return 0;
}

/* "Key=Value", "Key Value" or "Key = Value", as ssh reads -o. */
static int
split_option(struct parse *p, const char *arg, char *key, size_t ksz,
    const char **value)
{
	size_t n = strcspn(arg, "= \t");
	const char *v = arg + n;

	v += strspn(v, " \t");
	if (*v == '=')
		v++;
	v += strspn(v, " \t");
	if (n == 0 || n >= ksz || *v == '\0') {
		refuse(p, "ExecStart=: -o '%.100s' is not KEY=VALUE", arg);
		return -1;
	}
	memcpy(key, arg, n);
	key[n] = '\0';
	*value = v;
	return 0;
}

static int
is_one_of(const char *key, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcasecmp(key, *list) == 0)
			return 1;
	}
	return 0;
}

/* -o options whose job tether does itself, or that only turn things off. */
static const char *const ssh_options_ignored[] = { "ServerAliveInterval",
	"ServerAliveCountMax", "ExitOnForwardFailure", "BatchMode",
	"TCPKeepAlive", "ConnectTimeout", "ConnectionAttempts", "LogLevel",
	"IdentitiesOnly", "PasswordAuthentication",
	"KbdInteractiveAuthentication", "ChallengeResponseAuthentication",
	"PubkeyAuthentication", "PreferredAuthentications",
	"GSSAPIAuthentication", "ForwardAgent", "ForwardX11", "ControlMaster",
	"ControlPath", "ControlPersist", "RequestTTY", "SessionType",
	"StdinNull", "Compression", "AddressFamily", "CheckHostIP",
	"HashKnownHosts", "UpdateHostKeys", "VisualHostKey", "IPQoS",
	"EscapeChar", "GlobalKnownHostsFile", "AddKeysToAgent", "Ciphers",
	"MACs", "KexAlgorithms", "HostKeyAlgorithms", "IdentityAgent",
	"NumberOfPasswordPrompts", NULL };

static int
ssh_option(struct parse *p, const char *arg)
{
	struct migrate_unit *u = p->u;
	char key[64], shown[160];
	const char *v;

	if (split_option(p, arg, key, sizeof key, &v) == -1)
		return -1;
	if (strcasecmp(key, "StrictHostKeyChecking") == 0) {
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "ask") == 0)
			return 0;
		if (strcasecmp(v, "accept-new") == 0 ||
		    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0) {
			u->accept_new = 1;
			if (strcasecmp(v, "accept-new") != 0)
				note(p,
				    "StrictHostKeyChecking=no (tether: "
				    "accept-new, a changed key is refused)");
			return 0;
		}
		refuse(p,
		    "ExecStart=: -o StrictHostKeyChecking=%.32s is not "
		    "yes, ask, accept-new or no",
		    v);
		return -1;
	}
	if (strcasecmp(key, "UserKnownHostsFile") == 0) {
		if (strcmp(v, "/dev/null") == 0 || strcasecmp(v, "none") == 0) {
			refuse(p,
			    "ExecStart=: -o UserKnownHostsFile=%s turns host "
			    "key checking off; record the bastion's key with "
			    "tether trust and drop that option",
			    v);
			return -1;
		}
		if (strpbrk(v, " \t") != NULL) {
			refuse(p,
			    "ExecStart=: -o UserKnownHostsFile lists several "
			    "files; tether reads one");
			return -1;
		}
		return set_path(p, u->known_hosts, v, "known_hosts file");
	}
	if (strcasecmp(key, "IdentityFile") == 0)
		return set_path(p, u->key_path, v, "key");
	if (strcasecmp(key, "ProxyJump") == 0)
		return set_jump(p, v);
	if (strcasecmp(key, "Port") == 0)
		return set_port(p, v, "-o Port");
	if (strcasecmp(key, "User") == 0)
		return set_once(p, p->user_l, sizeof p->user_l, v, "users");
	if (strcasecmp(key, "HostName") == 0)
		return set_once(p, p->host_option, sizeof p->host_option, v,
		    "host names");
	if (is_one_of(key, ssh_options_ignored)) {
		snprintf(shown, sizeof shown, "-o %.64s=%.64s", key, v);
		note(p, shown);
		return 0;
	}
	refuse(p,
	    "ExecStart=: -o %.64s is an ssh option migrate does not "
	    "carry over" MIGRATE_BY_HAND,
	    key);
	return -1;
}

/* "[user@]host" or "ssh://[user@]host[:port]" */
static int
destination(struct parse *p, const char *d)
{
	char buf[SPEC_USER_MAX + SPEC_HOST_MAX + 16], *host = buf, *at;
	char *hp, *colon, *close;
	size_t n;

	if ((size_t)snprintf(buf, sizeof buf, "%s", d) >= sizeof buf) {
		refuse(p, "ExecStart=: the bastion '%.64s...' is too long", d);
		return -1;
	}
	if (strncmp(buf, "ssh://", 6) == 0) {
		host = buf + 6;
		n = strlen(host);
		if (n > 0 && host[n - 1] == '/')
			host[n - 1] = '\0';
		if (strpbrk(host, "/?#") != NULL) {
			refuse(p, "ExecStart=: the bastion '%.100s' has a path",
			    d);
			return -1;
		}
		hp = strrchr(host, '@') != NULL ? strrchr(host, '@') + 1 : host;
		colon = strrchr(hp, ':');
		close = strrchr(hp, ']');
		if (colon != NULL &&
		    (hp[0] == '[' ? close != NULL && close < colon :
		                    strchr(hp, ':') == colon)) {
			*colon = '\0';
			if (set_port(p, colon + 1, "the ssh:// port") == -1)
				return -1;
		}
	}
	if ((at = strrchr(host, '@')) != NULL) {
		*at = '\0';
		if (set_once(p, p->user_l, sizeof p->user_l, host, "users") ==
		    -1)
			return -1;
		host = at + 1;
	}
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		host++;
	} else if (strchr(host, ':') != NULL &&
	    strchr(host, ':') == strrchr(host, ':')) {
		refuse(p,
		    "ExecStart=: ssh reads the bastion '%.100s' as a host "
		    "name, and it is none; give the port with -p",
		    d);
		return -1;
	}
	if (!spec_host_is_valid(host)) {
		refuse(p,
		    "ExecStart=: the bastion '%.100s' is not a host name "
		    "or address tether can use",
		    d);
		return -1;
	}
	snprintf(p->host, sizeof p->host, "%.*s", (int)sizeof p->host - 1,
	    host);
	return 0;
}

/* Flags (autossh's and ssh's) that need nothing from tether. */
#define FLAGS_SILENT "NTqnvfxakgy"
/* Flags whose effect tether does not keep, noted for the report. */
#define FLAGS_NOTED "C46AXYt"
/* Flags with an argument that migrate reads. */
#define FLAGS_ARG "MilpoREFcmeJ"

static int
flag_arg(struct parse *p, char c, const char *arg)
{
	struct migrate_unit *u = p->u;
	char shown[96];

	switch (c) {
	case 'M':
		if (strcmp(arg, "0") != 0) {
			snprintf(shown, sizeof shown,
			    "autossh -M %.32s (tether's keepalive replaces "
			    "the monitor port)",
			    arg);
			note(p, shown);
		}
		return 0;
	case 'i':
		if (u->key_path[0] != '\0') {
			refuse(p,
			    "ExecStart= gives several keys (-i); tether "
			    "uses one");
			return -1;
		}
		return set_path(p, u->key_path, arg, "key");
	case 'l':
		return set_once(p, p->user_l, sizeof p->user_l, arg, "users");
	case 'p':
		return set_port(p, arg, "-p");
	case 'o':
		return ssh_option(p, arg);
	case 'R':
		return set_forward(p, arg);
	case 'J':
		return set_jump(p, arg);
	case 'F':
		if (strcmp(arg, "/dev/null") == 0 || strcmp(arg, "none") == 0)
			return 0;
		refuse(p,
		    "ExecStart=: -F %.200s makes ssh read that config file, "
		    "which tether does not" MIGRATE_BY_HAND,
		    arg);
		return -1;
	default: /* E c m e: a log file, ciphers, MACs, an escape char */
		snprintf(shown, sizeof shown, "-%c %.64s", c, arg);
		note(p, shown);
		return 0;
	}
}

static int
exec_argv(struct parse *p, struct words *w)
{
	const char *prog = w->w[0], *base, *word, *arg;
	char shown[8];
	int options_done = 0, have_dest = 0;
	size_t i, j;

	base = strrchr(prog, '/') != NULL ? strrchr(prog, '/') + 1 : prog;
	if (strcmp(base, "autossh") != 0) {
		refuse(p,
		    "ExecStart= runs '%.100s', not autossh" MIGRATE_BY_HAND,
		    prog);
		return -1;
	}
	for (i = 1; i < w->n; i++) {
		word = w->w[i];
		if (!options_done && word[0] == '-' && word[1] != '\0') {
			if (strcmp(word, "--") == 0) {
				options_done = 1;
				continue;
			}
			for (j = 1; word[j] != '\0'; j++) {
				char c = word[j];

				if (strchr(FLAGS_SILENT, c) != NULL)
					continue;
				if (strchr(FLAGS_NOTED, c) != NULL) {
					snprintf(shown, sizeof shown, "-%c", c);
					note(p, shown);
					continue;
				}
				if (strchr(FLAGS_ARG, c) == NULL) {
					refuse(p,
					    "ExecStart=: -%c is an ssh option "
					    "migrate does not carry over (tether "
					    "only forwards -R)" MIGRATE_BY_HAND,
					    c);
					return -1;
				}
				if (word[j + 1] != '\0') {
					arg = word + j + 1;
				} else if (i + 1 < w->n) {
					arg = w->w[++i];
				} else {
					refuse(p,
					    "ExecStart=: -%c needs an argument",
					    c);
					return -1;
				}
				if (flag_arg(p, c, arg) == -1)
					return -1;
				break;
			}
			continue;
		}
		if (have_dest) {
			refuse(p,
			    "ExecStart= runs the remote command '%.100s' on "
			    "the bastion; tether runs none" MIGRATE_BY_HAND,
			    word);
			return -1;
		}
		if (strcmp(word, ";") == 0) {
			refuse(p,
			    "ExecStart= runs several commands" MIGRATE_BY_HAND);
			return -1;
		}
		if (destination(p, word) == -1)
			return -1;
		have_dest = 1;
	}
	if (!have_dest) {
		refuse(p, "ExecStart= names no bastion");
		return -1;
	}
	return 0;
}

static int
exec_start(struct parse *p, const char *value)
{
	struct words *w;
	int rc;

	if (value[0] == '\0') { /* an empty ExecStart= resets the list */
		p->have_exec = 0;
		return 0;
	}
	if (p->have_exec) {
		refuse(p,
		    "a second ExecStart=; the seed's units run one "
		    "command" MIGRATE_BY_HAND);
		return -1;
	}
	p->have_exec = 1;
	while (*value == '-')
		value++; /* "-": a failure is not an error; tether restarts */
	if (*value != '\0' && strchr("@:+!", *value) != NULL) {
		refuse(p,
		    "ExecStart= has the prefix '%c', which migrate does "
		    "not carry over" MIGRATE_BY_HAND,
		    *value);
		return -1;
	}
	if ((w = malloc(sizeof *w)) == NULL) {
		error_set(p->err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = words_split(p, "ExecStart", value, 1, w);
	if (rc == 0 && w->n == 0) {
		refuse(p, "ExecStart= is empty");
		rc = -1;
	}
	if (rc == 0)
		rc = exec_argv(p, w);
	free(w);
	return rc;
}

static int
environment(struct parse *p, const char *value)
{
	struct words *w;
	size_t i;
	int rc;

	if ((w = malloc(sizeof *w)) == NULL) {
		error_set(p->err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = words_split(p, "Environment", value, 0, w);
	for (i = 0; rc == 0 && i < w->n; i++) {
		if (strncmp(w->w[i], "AUTOSSH_", 8) != 0 ||
		    strchr(w->w[i], '=') == NULL) {
			refuse(p,
			    "Environment= sets '%.64s', which migrate does "
			    "not carry over (only AUTOSSH_* variables, which "
			    "tether does not need)" MIGRATE_BY_HAND,
			    w->w[i]);
			rc = -1;
		} else {
			char shown[80];

			snprintf(shown, sizeof shown, "Environment=%.*s",
			    (int)strcspn(w->w[i], "="), w->w[i]);
			note(p, shown);
		}
	}
	free(w);
	return rc;
}

static int
user_value(struct parse *p, char *dst, const char *key, const char *value)
{
	if (value[0] != '\0' && !spec_user_is_valid(value)) {
		refuse(p,
		    "%s='%.64s' is not a user or group name migrate can carry "
		    "over" MIGRATE_BY_HAND,
		    key, value);
		return -1;
	}
	snprintf(dst, SPEC_USER_MAX, "%s", value);
	return 0;
}

/* [Service] settings that only steer how autossh was run. */
static const char *const service_ignored[] = { "Type", "Restart", "RestartSec",
	"RestartSteps", "RestartMaxDelaySec", "StartLimitIntervalSec",
	"StartLimitInterval", "StartLimitBurst", "TimeoutSec",
	"TimeoutStartSec", "TimeoutStopSec", "KillMode", "KillSignal",
	"SyslogIdentifier", "StandardOutput", "StandardError",
	"WorkingDirectory", "Nice", NULL };

static int
service_key(struct parse *p, const char *key, const char *value)
{
	if (strcmp(key, "ExecStart") == 0)
		return exec_start(p, value);
	if (strcmp(key, "User") == 0)
		return user_value(p, p->u->user, key, value);
	if (strcmp(key, "Group") == 0)
		return user_value(p, p->u->group, key, value);
	if (strcmp(key, "Environment") == 0)
		return environment(p, value);
	if (strcmp(key, "Type") == 0 && strcmp(value, "simple") != 0 &&
	    strcmp(value, "exec") != 0 && strcmp(value, "forking") != 0) {
		refuse(p, "Type=%.32s is not how autossh runs" MIGRATE_BY_HAND,
		    value);
		return -1;
	}
	if (is_one_of(key, service_ignored))
		return 0;
	refuse(p,
	    "%.64s= is a setting migrate does not carry over" MIGRATE_BY_HAND,
	    key);
	return -1;
}

/*
 * The next logical line: continuation lines ("...\" newline) joined with a
 * space, comment lines skipped. 1 = a line, 0 = the end, -1 = error.
 */
static int
next_line(struct parse *p, const char **pos, int *lineno, char *line, size_t sz)
{
	const char *s = *pos, *eol, *next;
	size_t len = 0, n;
	int more;

	line[0] = '\0';
	while (*s != '\0') {
		eol = s + strcspn(s, "\n");
		next = *eol == '\n' ? eol + 1 : eol;
		(*lineno)++;
		if (len == 0)
			p->line = *lineno;
		s += strspn(s, " \t");
		if (s > eol)
			s = eol;
		n = (size_t)(eol - s);
		while (n > 0 &&
		    (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0 && (s[0] == '#' || s[0] == ';')) {
			s = next; /* a comment, even inside a continued line */
			continue;
		}
		more = n > 0 && s[n - 1] == '\\';
		if (more)
			n--;
		if (len + n + 2 >= sz) {
			p->line = *lineno;
			refuse(p, "the line is longer than %zu bytes", sz - 2);
			return -1;
		}
		memcpy(line + len, s, n);
		len += n;
		if (more)
			line[len++] = ' ';
		line[len] = '\0';
		s = next;
		if (!more && len > 0) {
			*pos = s;
			return 1;
		}
	}
	*pos = s;
	if (len > 0) {
		refuse(p, "the file ends inside a continued line");
		return -1;
	}
	return 0;
}

static void
trim_right(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static int
unit_finish(struct parse *p)
{
	struct migrate_unit *u = p->u;
	const char *host = p->host_option[0] != '\0' ? p->host_option : p->host;
	struct bastion_spec b;
	struct error berr;
	int v6 = strchr(host, ':') != NULL;
	char want[16];

	p->line = 0;
	if (!p->have_exec) {
		refuse(p,
		    "no ExecStart= in [Service] (is the unit masked or "
		    "empty?)" MIGRATE_BY_HAND);
		return -1;
	}
	if (u->key_path[0] == '\0') {
		refuse(p,
		    "ExecStart= gives no key (-i KEY); tether needs the "
		    "key's path" MIGRATE_BY_HAND);
		return -1;
	}
	if (!p->have_forward) {
		refuse(p, "ExecStart= has no -R forward" MIGRATE_BY_HAND);
		return -1;
	}
	if (migrate_unit_port(p->name) != u->port) {
		snprintf(want, sizeof want, "%d", migrate_unit_port(p->name));
		refuse(p,
		    "the unit's name says port %s but -R forwards port %d; "
		    "rename it or migrate it by hand",
		    migrate_unit_port(p->name) > 0 ? want : "(none)", u->port);
		return -1;
	}
	if (p->host_option[0] != '\0' && !spec_host_is_valid(host)) {
		refuse(p, "ExecStart=: -o HostName=%.100s is not a host name",
		    host);
		return -1;
	}
	if (p->user_l[0] != '\0' && !spec_user_is_valid(p->user_l)) {
		refuse(p,
		    "ExecStart=: the bastion user '%.64s' may hold only "
		    "letters, digits, '.', '_' and '-'",
		    p->user_l);
		return -1;
	}
	if (p->bastion_port != 0)
		snprintf(u->bastion, sizeof u->bastion, "%s%s%s%s%s:%d",
		    p->user_l, p->user_l[0] != '\0' ? "@" : "", v6 ? "[" : "",
		    host, v6 ? "]" : "", p->bastion_port);
	else
		snprintf(u->bastion, sizeof u->bastion, "%s%s%s", p->user_l,
		    p->user_l[0] != '\0' ? "@" : "", host);
	error_clear(&berr);
	if (spec_parse_bastion(u->bastion, &b, &berr) == -1) {
		refuse(p, "ExecStart=: %s", berr.msg);
		return -1;
	}
	return 0;
}

int
migrate_parse_unit(const char *name, const char *text, struct migrate_unit *u,
    struct error *err)
{
	struct parse p;
	char *line, section[32] = "";
	const char *pos = text;
	int lineno = 0, rc;

	memset(u, 0, sizeof *u);
	memset(&p, 0, sizeof p);
	p.name = name;
	p.u = u;
	p.err = err;
	if ((line = malloc(LINE_MAX_LEN)) == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = next_line(&p, &pos, &lineno, line, LINE_MAX_LEN)) == 1) {
		char *eq, *key, *value;

		if (line[0] == '[') {
			size_t n = strlen(line);

			if (line[n - 1] != ']' || n - 2 >= sizeof section) {
				refuse(&p, "'%.64s' is not a [Section] header",
				    line);
				rc = -1;
				break;
			}
			snprintf(section, sizeof section, "%.*s", (int)(n - 2),
			    line + 1);
			if (strcmp(section, "Unit") != 0 &&
			    strcmp(section, "Service") != 0 &&
			    strcmp(section, "Install") != 0) {
				refuse(&p,
				    "the section [%s] is not one migrate "
				    "knows" MIGRATE_BY_HAND,
				    section);
				rc = -1;
				break;
			}
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			refuse(&p, "'%.64s' is not KEY=VALUE", line);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = line;
		trim_right(key);
		value = eq + 1;
		value += strspn(value, " \t");
		if (section[0] == '\0') {
			refuse(&p, "%.64s= comes before any [Section]", key);
			rc = -1;
			break;
		}
		if (strcmp(section, "Service") == 0 &&
		    service_key(&p, key, value) == -1) {
			rc = -1;
			break;
		}
		/* [Unit] and [Install]: ordering, description, targets. */
	}
	free(line);
	if (rc == 0)
		rc = unit_finish(&p);
	if (rc == -1)
		memset(u, 0, sizeof *u);
	return rc;
}
