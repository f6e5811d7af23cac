#include <stdio.h>
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

int
hostkey_describe_public(ssh_session ssh, char *out, size_t sz)
{
	unsigned char *hash = NULL;
	ssh_key key = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_server_publickey(ssh, &key) != SSH_OK)
		return -1;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	        &hlen) != SSH_OK) {
		ssh_key_free(key);
		return -1;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(out, sz, "%s %s", ssh_key_type_to_char(ssh_key_type(key)),
	    fp != NULL ? fp : "(no fingerprint)");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return 0;
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
	char key[160], pattern[SPEC_HOST_MAX + 16];

	if (hostkey_describe_public(ssh, key, sizeof key) == -1) {
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s:%d presented no "
		    "usable host key: %s",
		    b->host, b->port, ssh_get_error(ssh));
		return -1;
	}
	hostkey_host_pattern(b, pattern, sizeof pattern);
	switch (hostkey_check(ssh)) {
	case HOSTKEY_KNOWN:
		log_debug(log, "bastion host key %s matches %s", key, kh);
		return 0;
	case HOSTKEY_CHANGED:
		error_set(err, TETHER_EXIT_HOSTKEY,
		    "bastion %s host key "
		    "changed: it now presents %s, which %s does not hold; "
		    "someone may be intercepting the connection. If the bastion "
		    "was really re-keyed, remove the old key with: ssh-keygen "
		    "-f %s -R '%s'",
		    pattern, key, kh, kh, pattern);
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
