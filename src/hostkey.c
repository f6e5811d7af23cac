/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial.h"
#include "tether/exit.h"
#include "fsutil.h"
#include "hostkey.h"

/* A known_hosts file tether rewrites: a bastion's lines, and others'. */
#define HOSTKEY_FILE_MAX ((size_t)1024 * 1024)

enum {
	HOSTKEY_MARK_NONE,
	HOSTKEY_MARK_REVOKED,
	HOSTKEY_MARK_CA,
	HOSTKEY_MARK_OTHER,
};

void
hostkey_host_pattern(const struct bastion_spec *b, char *out, size_t sz)
{
	if (b->port == 22)
		snprintf(out, sz, "%s", b->host);
	else
		snprintf(out, sz, "[%s]:%d", b->host, b->port);
}

/* "TYPE SHA256:..." of key into out; the fingerprint alone into fp_out. */
static int
hostkey_describe_key(const ssh_key key, char *out, size_t sz, char *fp_out,
    size_t fp_sz)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	        &hlen) != SSH_OK)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(out, sz, "%s %s", ssh_key_type_to_char(ssh_key_type(key)),
	    fp != NULL ? fp : "(no fingerprint)");
	if (fp_out != NULL)
		snprintf(fp_out, fp_sz, "%s", fp != NULL ? fp : "");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	return 0;
}

int
hostkey_describe_public(ssh_session ssh, char *out, size_t sz)
{
	ssh_key key = NULL;
	int rc;

	if (ssh_get_server_publickey(ssh, &key) != SSH_OK)
		return -1;
	rc = hostkey_describe_key(key, out, sz, NULL, 0);
	ssh_key_free(key);
	return rc;
}

/* The bastion's known_hosts name, lower-cased: names compare without case. */
static void
hostkey_match_pattern(const struct bastion_spec *b, char *out, size_t sz)
{
	char *p;

	hostkey_host_pattern(b, out, sz);
	for (p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* OpenSSH's wildcard match (* and ?), on lower-cased names. */
static int
hostkey_glob(const char *s, const char *p, size_t plen)
{
	if (plen == 0)
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (hostkey_glob(s, p + 1, plen - 1))
				return 1;
			if (*s == '\0')
				return 0;
		}
	}
	if (*s == '\0' ||
	    (*p != '?' && tolower((unsigned char)*p) != (unsigned char)*s))
		return 0;
	return hostkey_glob(s + 1, p + 1, plen - 1);
}

/*
 * Whether a negated pattern (!name) of the line's host list matches the
 * bastion: then the line does not apply, whatever else it lists (libssh
 * 0.10 takes a negated match for a match).
 */
static int
hostkey_line_excludes(const char *rest, const char *pattern)
{
	const char *p = rest, *end = rest + strcspn(rest, " "), *comma;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (*p == '!' &&
		    hostkey_glob(pattern, p + 1, (size_t)(comma - p - 1)))
			return 1;
		p = comma + 1;
	}
	return 0;
}

/*
 * Cleans one line (tabs are field separators too) and returns where its
 * host list starts, with its marker in *mark; NULL for blank lines and
 * comments.
 */
static char *
hostkey_line_split(char *line, int *mark)
{
	char *p;

	line[strcspn(line, "\r\n")] = '\0';
	for (p = line; *p != '\0'; p++) {
		if (*p == '\t')
			*p = ' ';
	}
	p = line + strspn(line, " ");
	*mark = HOSTKEY_MARK_NONE;
	if (*p == '@') {
		if (strncmp(p, "@revoked ", 9) == 0)
			*mark = HOSTKEY_MARK_REVOKED;
		else if (strncmp(p, "@cert-authority ", 16) == 0)
			*mark = HOSTKEY_MARK_CA;
		else
			*mark = HOSTKEY_MARK_OTHER;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return *p == '\0' || *p == '#' ? NULL : p;
}

/*
 * Appends the key of one known_hosts line if it names the bastion (and no
 * negated pattern of the line excludes it). @revoked lines are kept as
 * such, so the tunnel's own file refuses what the source refused; they do
 * not count as keys. Other markers (@cert-authority) are not carried.
 */
static int
hostkey_copy_line(char *line, const char *pattern, struct strbuf *out)
{
	struct ssh_knownhosts_entry *e = NULL;
	char *b64 = NULL, *rest;
	int revoked, added = 0;

	if ((rest = hostkey_line_split(line, &revoked)) == NULL ||
	    revoked == HOSTKEY_MARK_OTHER ||
	    hostkey_line_excludes(rest, pattern) ||
	    ssh_known_hosts_parse_line(pattern, rest, &e) != SSH_OK ||
	    e == NULL)
		return 0;
	/* The same key under two names is one line here. */
	if (ssh_pki_export_pubkey_base64(e->publickey, &b64) == SSH_OK &&
	    (out->data == NULL || strstr(out->data, b64) == NULL ||
	        revoked == HOSTKEY_MARK_REVOKED)) {
		strbuf_addf(out, "%s%s %s %s\n",
		    revoked == HOSTKEY_MARK_REVOKED ? "@revoked " : "", pattern,
		    ssh_key_type_to_char(ssh_key_type(e->publickey)), b64);
		added = revoked == HOSTKEY_MARK_NONE;
	}
	ssh_string_free_char(b64);
	ssh_knownhosts_entry_free(e);
	return added;
}

int
hostkey_copy_known(const char *known_hosts, const struct bastion_spec *b,
    struct strbuf *out, struct error *err)
{
	char pattern[SPEC_HOST_MAX + 16], *line = NULL;
	size_t cap = 0;
	int n = 0, failed;
	FILE *f;

	hostkey_match_pattern(b, pattern, sizeof pattern);
	if ((f = fopen(known_hosts, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		error_set(err, TETHER_EXIT_HOSTKEY, "cannot read %s: %s",
		    known_hosts, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1)
		n += hostkey_copy_line(line, pattern, out);
	failed = ferror(f) ? errno : 0; /* a directory: EISDIR */
	free(line);
	fclose(f);
	if (failed != 0) {
		error_set(err, TETHER_EXIT_HOSTKEY, "cannot read %s: %s",
		    known_hosts, strerror(failed));
		return -1;
	}
	return n;
}

const char *
hostkey_text_revoked(const char *text)
{
	const char *line, *key, *r, *rkey;
	size_t len;

	for (line = text; line != NULL && *line != '\0';
	     line = strchr(line, '\n') != NULL ? strchr(line, '\n') + 1 :
	                                         NULL) {
		if (*line == '@' || (key = strchr(line, ' ')) == NULL)
			continue;
		len = strcspn(key, "\n");
		for (r = strstr(text, "@revoked "); r != NULL;
		     r = strstr(r + 1, "@revoked ")) {
			rkey = strchr(r + 9, ' ');
			if (rkey != NULL && strncmp(rkey, key, len) == 0 &&
			    (rkey[len] == '\n' || rkey[len] == '\0'))
				return key + 1;
		}
	}
	return NULL;
}

int
hostkey_fetch(const struct bastion_spec *b, long timeout, struct strbuf *out,
    char *desc, size_t desc_sz, struct error *err)
{
	ssh_session ssh;
	char *line = NULL;
	int zero = 0, rc = -1;

	if ((ssh = ssh_new()) == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &zero);
	ssh_options_set(ssh, SSH_OPTIONS_HOST, b->host);
	ssh_options_set(ssh, SSH_OPTIONS_PORT, &b->port);
	ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout);
	if (dial_ssh_connect(ssh, b->host, b->port, AF_UNSPEC,
	        (double)timeout) != SSH_OK) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot reach the bastion %s port %d to learn its host "
		    "key: %s",
		    b->host, b->port, ssh_get_error(ssh));
	} else if (ssh_session_export_known_hosts_entry(ssh, &line) != SSH_OK ||
	    hostkey_describe_public(ssh, desc, desc_sz) == -1) {
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "the bastion %s port %d presented a host key tether "
		    "cannot record: %s",
		    b->host, b->port, ssh_get_error(ssh));
	} else {
		/* libssh ends the line with a newline of its own. */
		strbuf_addf(out, "%.*s\n", (int)strcspn(line, "\n"), line);
		rc = 0;
	}
	ssh_string_free_char(line);
	ssh_disconnect(ssh);
	ssh_free(ssh);
	return rc;
}

/* Whether one known_hosts line trusts a key for pattern (not @revoked). */
static int
hostkey_line_trusts(const char *line, size_t len, const char *pattern)
{
	struct ssh_knownhosts_entry *e = NULL;
	char *copy, *rest;
	int mark, trusts = 0;

	if ((copy = strndup(line, len)) == NULL)
		return 0;
	if ((rest = hostkey_line_split(copy, &mark)) != NULL &&
	    mark == HOSTKEY_MARK_NONE &&
	    !hostkey_line_excludes(rest, pattern) &&
	    ssh_known_hosts_parse_line(pattern, rest, &e) == SSH_OK &&
	    e != NULL)
		trusts = 1;
	ssh_knownhosts_entry_free(e);
	free(copy);
	return trusts;
}

int
hostkey_replace_known(const char *known_hosts, const struct bastion_spec *b,
    const char *entry, struct error *err)
{
	char pattern[SPEC_HOST_MAX + 16], *text = NULL, *line, *next;
	struct strbuf out;
	int rc = -1;

	hostkey_match_pattern(b, pattern, sizeof pattern);
	if (file_read(known_hosts, HOSTKEY_FILE_MAX, &text, err) == -1)
		return -1;
	strbuf_init(&out);
	for (line = text; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		next += *next == '\n';
		if (!hostkey_line_trusts(line, (size_t)(next - line), pattern))
			strbuf_addf(&out, "%.*s", (int)(next - line), line);
	}
	if (out.len > 0 && out.data[out.len - 1] != '\n')
		strbuf_add(&out, "\n");
	strbuf_add(&out, entry);
	if (out.failed)
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
	else
		rc = file_write_atomic(known_hosts, out.data, 0644, 1, err);
	strbuf_free(&out);
	free(text);
	return rc;
}

/* Whether pattern is one of the comma-separated names of a known_hosts line. */
static int
hostkey_line_names(const char *names, size_t len, const char *pattern)
{
	size_t plen = strlen(pattern);
	const char *p = names, *end = names + len, *comma;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if ((size_t)(comma - p) == plen &&
		    memcmp(p, pattern, plen) == 0)
			return 1;
		p = comma + 1;
	}
	return 0;
}

/*
 * What known_hosts holds for the bastion, for a "changed" message: the
 * first plain (not hashed) entry naming it; libssh keeps it to itself.
 */
static void
hostkey_describe_known(const char *known_hosts, const char *pattern, char *out,
    size_t sz)
{
	char line[8192], type[64], b64[8000];
	ssh_key key = NULL;
	FILE *f;
	size_t n;

	snprintf(out, sz, "another key");
	if ((f = fopen(known_hosts, "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		n = strcspn(line, " \t");
		if (line[0] == '#' || line[0] == '|' || line[n] == '\0' ||
		    !hostkey_line_names(line, n, pattern) ||
		    sscanf(line + n, " %63s %7999s", type, b64) != 2)
			continue;
		if (ssh_pki_import_pubkey_base64(b64,
		        ssh_key_type_from_name(type), &key) == SSH_OK) {
			hostkey_describe_key(key, out, sz, NULL, 0);
			ssh_key_free(key);
			break;
		}
	}
	fclose(f);
}

/* With a pinned fingerprint, known_hosts is not consulted at all. */
static int
hostkey_verify_pin(ssh_session ssh, const struct tether_config *cfg,
    const char *pattern, const struct logger *log, struct error *err)
{
	char key[160], fp[96] = "";
	ssh_key srv = NULL;

	if (ssh_get_server_publickey(ssh, &srv) != SSH_OK ||
	    hostkey_describe_key(srv, key, sizeof key, fp, sizeof fp) == -1) {
		ssh_key_free(srv);
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s presented no usable host key: %s", pattern,
		    ssh_get_error(ssh));
		return -1;
	}
	ssh_key_free(srv);
	if (strcmp(fp, cfg->host_key_pin) == 0) {
		log_debug(log, "bastion host key %s matches the pinned key",
		    key);
		return 0;
	}
	error_set(err, TETHER_EXIT_HOSTKEY,
	    "bastion %s presents %s, but the "
	    "pinned key (--host-key) is %s; someone may be intercepting the "
	    "connection. If the bastion was really re-keyed, pin the new "
	    "fingerprint",
	    pattern, key, cfg->host_key_pin);
	return -1;
}

/* One line's say on the presented key, into m. */
static void
hostkey_scan_line(char *line, int lineno, const char *pattern, ssh_key srv,
    struct hostkey_match *m)
{
	struct ssh_knownhosts_entry *e = NULL;
	char *rest;
	int mark, same;

	if ((rest = hostkey_line_split(line, &mark)) == NULL ||
	    mark == HOSTKEY_MARK_OTHER ||
	    hostkey_line_excludes(rest, pattern) ||
	    ssh_known_hosts_parse_line(pattern, rest, &e) != SSH_OK ||
	    e == NULL)
		return;
	same = ssh_key_cmp(e->publickey, srv, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_knownhosts_entry_free(e);
	if (mark == HOSTKEY_MARK_CA) {
		if (m->ca_line == 0)
			m->ca_line = lineno;
	} else if (mark == HOSTKEY_MARK_REVOKED) {
		if (same && m->revoked_line == 0)
			m->revoked_line = lineno;
	} else if (same) {
		if (m->known_line == 0)
			m->known_line = lineno;
	} else if (m->other_line == 0) {
		m->other_line = lineno;
	}
}

enum hostkey_status
hostkey_check(ssh_session ssh, const char *known_hosts,
    const struct bastion_spec *b, struct hostkey_match *m)
{
	char pattern[SPEC_HOST_MAX + 16], *line = NULL;
	ssh_key srv = NULL;
	size_t cap = 0;
	int lineno = 0;
	FILE *f;

	memset(m, 0, sizeof *m);
	hostkey_match_pattern(b, pattern, sizeof pattern);
	if (ssh_get_server_publickey(ssh, &srv) != SSH_OK)
		return HOSTKEY_ERROR;
	if ((f = fopen(known_hosts, "re")) == NULL) {
		ssh_key_free(srv);
		return errno == ENOENT ? HOSTKEY_UNKNOWN : HOSTKEY_ERROR;
	}
	while (getline(&line, &cap, f) != -1)
		hostkey_scan_line(line, ++lineno, pattern, srv, m);
	free(line);
	fclose(f);
	ssh_key_free(srv);
	if (m->revoked_line != 0)
		return HOSTKEY_REVOKED;
	if (m->known_line != 0)
		return HOSTKEY_KNOWN;
	return m->other_line != 0 ? HOSTKEY_CHANGED : HOSTKEY_UNKNOWN;
}

/*
 * The fix for a re-keyed bastion. A tunnel setup made (named for its port,
 * with its own PORT.known_hosts) has tether trust -p; others, ssh-keygen.
 */
static void
hostkey_rekey_fix(const struct tether_config *cfg, const char *pattern,
    char *out, size_t sz)
{
	const char *kh = cfg->known_hosts, *base = strrchr(kh, '/');
	char own[32];
	int port;

	if (spec_parse_port(cfg->name, 1, &port) == 0 && base != NULL &&
	    (size_t)snprintf(own, sizeof own, "/%d.known_hosts", port) <
	        sizeof own &&
	    strcmp(base, own) == 0) {
		snprintf(out, sz,
		    "confirm and record the new key with: %stether trust -p "
		    "%d%s",
		    strncmp(kh, "/etc/tether/", 12) == 0 ? "sudo " : "", port,
		    strncmp(kh, "/etc/tether/", 12) == 0 ? "" : " --user");
		return;
	}
	snprintf(out, sz, "remove the old key with: ssh-keygen -f %s -R '%s'",
	    kh, pattern);
}

int
hostkey_verify(ssh_session ssh, const struct tether_config *cfg,
    const struct logger *log, struct error *err)
{
	const struct bastion_spec *b = &cfg->bastion;
	const char *kh = cfg->known_hosts;
	char key[160], old[160], pattern[SPEC_HOST_MAX + 16],
	    ca[CONFIG_PATH_MAX + 200] = "", fix[CONFIG_PATH_MAX + 300];
	enum hostkey_status status;
	struct hostkey_match m;

	hostkey_host_pattern(b, pattern, sizeof pattern);
	if (cfg->host_key_pin[0] != '\0')
		return hostkey_verify_pin(ssh, cfg, pattern, log, err);
	if (hostkey_describe_public(ssh, key, sizeof key) == -1) {
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s:%d presented no usable host key: %s", b->host,
		    b->port, ssh_get_error(ssh));
		return -1;
	}
	status = hostkey_check(ssh, kh, b, &m);
	/* As ssh: the global file is asked when the user's does not know. */
	if (status == HOSTKEY_UNKNOWN && cfg->global_known_hosts[0] != '\0' &&
	    access(cfg->global_known_hosts, R_OK) == 0) {
		kh = cfg->global_known_hosts;
		status = hostkey_check(ssh, kh, b, &m);
		if (status == HOSTKEY_UNKNOWN)
			kh = cfg->known_hosts;
	}
	switch (status) {
	case HOSTKEY_KNOWN:
		log_debug(log, "bastion host key %s matches %s line %d", key,
		    kh, m.known_line);
		return 0;
	case HOSTKEY_REVOKED:
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "REVOKED HOST KEY DETECTED: bastion %s presents %s, which "
		    "%s line %d marks @revoked; tether will not connect. Ask "
		    "the bastion's admin for its current key",
		    pattern, key, kh, m.revoked_line);
		return -1;
	case HOSTKEY_CHANGED:
		hostkey_describe_known(kh, pattern, old, sizeof old);
		hostkey_rekey_fix(cfg, pattern, fix, sizeof fix);
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s host key "
		    "changed: it now presents %s, but %s holds %s; someone may "
		    "be intercepting the connection. If the bastion was really "
		    "re-keyed, %s",
		    pattern, key, kh, old, fix);
		return -1;
	case HOSTKEY_UNKNOWN:
		if (cfg->host_key_policy == HOST_KEY_ACCEPT_NEW) {
			if (ssh_session_update_known_hosts(ssh) != SSH_OK) {
				error_set(err, TETHER_EXIT_HOSTKEY,
				    "cannot record bastion %s key in %s: %s",
				    pattern, kh, ssh_get_error(ssh));
				return -1;
			}
			log_notice(log,
			    "recorded new bastion host key %s for %s in %s",
			    key, pattern, kh);
			return 0;
		}
		if (m.ca_line != 0)
			snprintf(ca, sizeof ca,
			    "; %s line %d is a @cert-authority line, but tether "
			    "does not support host certificates: list the "
			    "bastion's own key",
			    kh, m.ca_line);
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s is not in %s "
		    "(it presents %s)%s. Check that fingerprint with the "
		    "bastion's admin, then add it with: ssh-keyscan -p %d %s "
		    ">> %s (or run once with --host-key-policy accept-new)",
		    pattern, kh, key, ca, b->port, b->host, kh);
		return -1;
	case HOSTKEY_ERROR:
	default:
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "cannot check bastion %s against %s: %s", pattern, kh,
		    ssh_get_error(ssh));
		return -1;
	}
}
