/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "strbuf.h"
#include "units.h"
#include "units_embedded.h"

/* inih's line limit less "known_hosts = ": a longer value would be split. */
#define UNITS_VALUE_MAX 180

int
units_check_path(const char *path, const char *what, struct error *err)
{
	const unsigned char *p;
	size_t len = strlen(path);

	if (path[0] != '/') {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s '%.128s' must be an absolute path", what, path);
		return -1;
	}
	if (len > UNITS_VALUE_MAX) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s is longer than %d "
		    "characters; move it somewhere shorter",
		    what, UNITS_VALUE_MAX);
		return -1;
	}
	/*
	 * No control characters (a newline would start a new line), no
	 * leading/trailing blanks (inih strips them), no ';' or '#' (comments)
	 * and none of systemd's specifiers or quotes.
	 */
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f ||
		    strchr(";#%$\\\"'`", *p) != NULL) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "%s '%.128s' holds a "
			    "character tether will not write into a config file "
			    "(control characters, ; # %% $ \\ quotes); rename "
			    "it",
			    what, path);
			return -1;
		}
	}
	if (path[len - 1] == ' ') {
		error_set(err, TETHER_EXIT_CONFIG,
		    "%s '%.128s' ends with a space", what, path);
		return -1;
	}
	return 0;
}

int
units_check_exe(const char *path, struct error *err)
{
	const unsigned char *p;

	if (path[0] != '/' || strlen(path) > UNITS_VALUE_MAX) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "the tether executable's path '%.128s' must be absolute "
		    "and at most %d characters",
		    path, UNITS_VALUE_MAX);
		return -1;
	}
	/* Spaces, % and $ are quoted where it is written (units, cron). */
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("\\\"'`", *p) != NULL) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "the tether executable's path '%.128s' holds a "
			    "control character, a quote or a backslash; move "
			    "it",
			    path);
			return -1;
		}
	}
	return 0;
}

/* [user@]host:port, an IPv6 address in brackets. */
static void
units_add_host(struct strbuf *sb, const struct bastion_spec *b)
{
	int v6 = strchr(b->host, ':') != NULL;

	strbuf_addf(sb, "%s%s%s%s%s:%d", b->user, b->user[0] != '\0' ? "@" : "",
	    v6 ? "[" : "", b->host, v6 ? "]" : "", b->port);
}

char *
units_render_config(const struct setup_values *v)
{
	const struct bastion_spec *b = &v->bastion;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	strbuf_addf(&sb,
	    "# Written by tether setup. Change it with tether "
	    "setup -p %d, or edit it and\n# reload the tunnel "
	    "(systemctl reload tether@%d).\n[tunnel]\n",
	    v->port, v->port);
	strbuf_addf(&sb, "name = %d\n", v->port);
	/* Resolved once, as its user has it: the service may not read it. */
	if (v->alias[0] != '\0')
		strbuf_addf(&sb,
		    "# bastion: the ssh_config alias %s, resolved by setup\n"
		    "ssh_config = none\n",
		    v->alias);
	strbuf_addf(&sb, "bastion = ");
	units_add_host(&sb, b);
	for (i = 1; i < v->nbastions; i++) {
		strbuf_addf(&sb, ", ");
		units_add_host(&sb, &v->bastions[i]);
	}
	for (i = 0; i < v->njumps; i++) {
		strbuf_addf(&sb, i == 0 ? "\nproxy_jump = " : ",");
		units_add_host(&sb, &v->jumps[i]);
	}
	strbuf_addf(&sb, "\n");
	strbuf_addf(&sb, "key = %s\n", v->key_path);
	strbuf_addf(&sb, "known_hosts = %s\n", v->known_hosts);
	if (v->host_key_pin[0] != '\0')
		strbuf_addf(&sb, "host_key = %s\n", v->host_key_pin);
	strbuf_addf(&sb, "host_key_policy = %s\n",
	    v->policy == HOST_KEY_STRICT ? "strict" : "accept-new");
	strbuf_addf(&sb, "forward = %d:%s%s%s:%d\n", v->port,
	    strchr(v->target_host, ':') != NULL ? "[" : "", v->target_host,
	    strchr(v->target_host, ':') != NULL ? "]" : "", v->target_port);
	if (sb.failed) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_take(&sb);
}

char *
units_render_dropin(const char *user, const char *group)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addf(&sb,
	    "# Written by tether setup: the tunnel runs as the "
	    "key's owner.\n[Service]\nUser=%s\nGroup=%s\n",
	    user, group);
	if (sb.failed) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_take(&sb);
}

/*
 * One word of an Exec*= line (systemd.syntax(7)): "%" and "$" doubled so
 * they are neither specifiers nor variables, and double quotes (with \\
 * and \" escaped) around a word holding blanks.
 */
static void
units_add_exec_word(struct strbuf *sb, const char *word)
{
	int quote = strpbrk(word, " \t") != NULL;
	const char *p;

	if (quote)
		strbuf_add(sb, "\"");
	for (p = word; *p != '\0'; p++) {
		if (*p == '%' || *p == '$')
			strbuf_addf(sb, "%c%c", *p, *p);
		else if (quote && (*p == '\\' || *p == '"'))
			strbuf_addf(sb, "\\%c", *p);
		else
			strbuf_addf(sb, "%c", *p);
	}
	if (quote)
		strbuf_add(sb, "\"");
}

char *
units_render_template(enum tether_mode mode, const char *bin)
{
	const char *tpl = mode == TETHER_MODE_SYSTEM ? UNIT_SYSTEM_TEMPLATE :
	                                               UNIT_USER_TEMPLATE;
	const char *at;
	struct strbuf sb;
	static const char token[] = "@TETHER_BIN@";

	strbuf_init(&sb);
	while ((at = strstr(tpl, token)) != NULL) {
		strbuf_addf(&sb, "%.*s", (int)(at - tpl), tpl);
		units_add_exec_word(&sb, bin);
		tpl = at + sizeof token - 1;
	}
	strbuf_add(&sb, tpl);
	if (sb.failed) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_take(&sb);
}

/* Words sh takes as they are: no quotes needed around them. */
static int
units_word_plain(const char *w)
{
	return w[0] != '\0' &&
	    w[strspn(w,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789_./:=@,+-")] == '\0';
}

/*
 * argv as words for sh: each in single quotes (a ' as '\''), except plain
 * ones when the line is for people to read. A crontab line also goes
 * through cron, which turns each unescaped "%" into a newline: % as \%.
 */
static char *
units_render_words(const char *prefix, const char *const *argv, int cron)
{
	struct strbuf sb;
	const char *p;
	size_t i;

	strbuf_init(&sb);
	strbuf_add(&sb, prefix);
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0 || prefix[0] != '\0')
			strbuf_add(&sb, " ");
		if (!cron && units_word_plain(argv[i])) {
			strbuf_add(&sb, argv[i]);
			continue;
		}
		strbuf_add(&sb, "'");
		for (p = argv[i]; *p != '\0'; p++) {
			if (*p == '\'')
				strbuf_add(&sb, "'\\''");
			else if (*p == '%' && cron)
				strbuf_add(&sb, "\\%");
			else
				strbuf_addf(&sb, "%c", *p);
		}
		strbuf_add(&sb, "'");
	}
	if (sb.failed) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_take(&sb);
}

char *
units_render_cron(const char *const *argv)
{
	return units_render_words("@reboot", argv, 1);
}

char *
units_render_command(const char *const *argv)
{
	return units_render_words("", argv, 0);
}
