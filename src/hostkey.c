#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/exit.h"
#include "hostkey.h"

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

/* Appends the key of one known_hosts line if it names the bastion. */
static int
hostkey_copy_line(char *line, const char *pattern, struct strbuf *out)
{
	struct ssh_knownhosts_entry *e = NULL;
	char *b64 = NULL, *p;
	int added = 0;

	line[strcspn(line, "\r\n")] = '\0';
	/* OpenSSH also splits fields at tabs; libssh only at spaces. */
	for (p = line; *p != '\0'; p++) {
		if (*p == '\t')
			*p = ' ';
	}
	if (line[0] == '@' ||
	    ssh_known_hosts_parse_line(pattern, line, &e) != SSH_OK ||
	    e == NULL)
		return 0;
	/* The same key under two names is one line here. */
	if (ssh_pki_export_pubkey_base64(e->publickey, &b64) == SSH_OK &&
	    (out->data == NULL || strstr(out->data, b64) == NULL)) {
		strbuf_addf(out, "%s %s %s\n", pattern,
		    ssh_key_type_to_char(ssh_key_type(e->publickey)), b64);
		added = 1;
	}
	ssh_string_free_char(b64);
	ssh_knownhosts_entry_free(e);
	return added;
}

int
hostkey_copy_known(const char *known_hosts, const struct bastion_spec *b,
    struct strbuf *out, struct error *err)
{
	char pattern[SPEC_HOST_MAX + 16], *line = NULL, *p;
	size_t cap = 0;
	int n = 0, failed;
	FILE *f;

	/* Host names compare without case, as OpenSSH's do. */
	hostkey_host_pattern(b, pattern, sizeof pattern);
	for (p = pattern; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
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
	if (ssh_connect(ssh) != SSH_OK) {
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
		    "bastion %s presented no "
		    "usable host key: %s",
		    pattern, ssh_get_error(ssh));
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

enum hostkey_status
hostkey_check(ssh_session ssh)
{
	switch (ssh_session_is_known_server(ssh)) {
	case SSH_KNOWN_HOSTS_OK:
		return HOSTKEY_KNOWN;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		return HOSTKEY_CHANGED;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return HOSTKEY_UNKNOWN;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		return HOSTKEY_ERROR;
	}
}

int
hostkey_verify(ssh_session ssh, const struct tether_config *cfg,
    const struct logger *log, struct error *err)
{
	const struct bastion_spec *b = &cfg->bastion;
	const char *kh = cfg->known_hosts;
	char key[160], old[160], pattern[SPEC_HOST_MAX + 16];

	hostkey_host_pattern(b, pattern, sizeof pattern);
	if (cfg->host_key_pin[0] != '\0')
		return hostkey_verify_pin(ssh, cfg, pattern, log, err);
	if (hostkey_describe_public(ssh, key, sizeof key) == -1) {
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s:%d presented no "
		    "usable host key: %s",
		    b->host, b->port, ssh_get_error(ssh));
		return -1;
	}
	switch (hostkey_check(ssh)) {
	case HOSTKEY_KNOWN:
		log_debug(log, "bastion host key %s matches %s", key, kh);
		return 0;
	case HOSTKEY_CHANGED:
		hostkey_describe_known(kh, pattern, old, sizeof old);
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s host key "
		    "changed: it now presents %s, but %s holds %s; someone may "
		    "be intercepting the connection. If the bastion was really "
		    "re-keyed, remove the old key with: ssh-keygen -f %s -R '%s'",
		    pattern, key, kh, old, kh, pattern);
		return -1;
	case HOSTKEY_UNKNOWN:
		if (cfg->host_key_policy == HOST_KEY_ACCEPT_NEW) {
			if (ssh_session_update_known_hosts(ssh) != SSH_OK) {
				error_set(err, TETHER_EXIT_HOSTKEY,
				    "cannot record "
				    "bastion %s key in %s: %s",
				    pattern, kh, ssh_get_error(ssh));
				return -1;
			}
			log_notice(log,
			    "recorded new bastion host key %s for %s "
			    "in %s",
			    key, pattern, kh);
			return 0;
		}
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s is not in %s "
		    "(it presents %s). Check that fingerprint with the "
		    "bastion's admin, then add it with: ssh-keyscan -p %d %s "
		    ">> %s (or run once with --host-key-policy accept-new)",
		    pattern, kh, key, b->port, b->host, kh);
		return -1;
	case HOSTKEY_ERROR:
	default:
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "cannot check bastion %s "
		    "against %s: %s",
		    pattern, kh, ssh_get_error(ssh));
		return -1;
	}
}
