/* Checks the bastion's host key against known_hosts, OpenSSH-style. */
#ifndef TETHER_HOSTKEY_H
#define TETHER_HOSTKEY_H

#include <libssh/libssh.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"

enum hostkey_status {
	HOSTKEY_KNOWN,
	HOSTKEY_UNKNOWN, /* not in known_hosts (or no known_hosts file) */
	HOSTKEY_CHANGED, /* known_hosts holds another key for the bastion */
	HOSTKEY_ERROR,
};

/* What known_hosts says of the key the bastion presented. */
enum hostkey_status hostkey_check(ssh_session);

/* After key exchange: 0 = trusted (recorded under accept-new), -1 = refused. */
int hostkey_verify(ssh_session, const struct tether_config *,
    const struct logger *, struct error *);

/* "ssh-ed25519 SHA256:..." of the key the bastion presented. */
int hostkey_describe_public(ssh_session, char *, size_t);

/*
 * Appends, one "PATTERN TYPE BASE64" line each, the keys known_hosts holds
 * for the bastion (plain or hashed entries; markers such as @revoked are
 * not libssh's and are skipped). Returns how many (a missing file holds
 * none), or -1 with err if it cannot be read.
 */
int hostkey_copy_known(const char *known_hosts, const struct bastion_spec *,
    struct strbuf *, struct error *);

/*
 * Connects (within timeout seconds) and appends the key the bastion
 * presents as a known_hosts line; describes it ("TYPE SHA256:...") in desc.
 * Trust on first use: the caller decides whether that is wanted.
 */
int hostkey_fetch(const struct bastion_spec *, long timeout, struct strbuf *,
    char *desc, size_t desc_sz, struct error *);

/* "host" for port 22, "[host]:port" otherwise: known_hosts' spelling. */
void hostkey_host_pattern(const struct bastion_spec *, char *, size_t);

#endif
