/* SPDX-License-Identifier: AGPL-3.0-or-later */
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
	HOSTKEY_REVOKED, /* a @revoked line holds the key presented */
	HOSTKEY_ERROR,
};

/* Which lines of known_hosts (1-based; 0 = none) decided. */
struct hostkey_match {
	int known_line;   /* the key presented, for the bastion */
	int other_line;   /* another key for the bastion */
	int revoked_line; /* the key presented, @revoked */
	int ca_line;      /* a @cert-authority line for the bastion */
};

/*
 * What known_hosts (that file only) says of the key the bastion presented,
 * as OpenSSH reads it: @revoked wins, negated patterns exclude a line,
 * @cert-authority lines are noted (host certificates are not supported).
 */
enum hostkey_status hostkey_check(ssh_session, const char *known_hosts,
    const struct bastion_spec *, struct hostkey_match *);

/* After key exchange: 0 = trusted (recorded under accept-new), -1 = refused. */
int hostkey_verify(ssh_session, const struct tether_config *,
    const struct logger *, struct error *);

/* "ssh-ed25519 SHA256:..." of the key the bastion presented. */
int hostkey_describe_public(ssh_session, char *, size_t);

/*
 * Appends, one "PATTERN TYPE BASE64" line each, the keys known_hosts holds
 * for the bastion (plain or hashed entries; negated patterns honoured), and
 * its @revoked keys as "@revoked PATTERN TYPE BASE64". Returns how many
 * plain keys (a missing file holds none), or -1 with err if it cannot be
 * read.
 */
int hostkey_copy_known(const char *known_hosts, const struct bastion_spec *,
    struct strbuf *, struct error *);

/*
 * A rotated key: rewrites known_hosts (atomically) without the lines that
 * trust a key for the bastion, @revoked ones kept, and with entry (a
 * known_hosts line) at the end.
 */
int hostkey_replace_known(const char *known_hosts, const struct bastion_spec *,
    const char *entry, struct error *);

/*
 * In text (hostkey_copy_known's lines), the "TYPE BASE64 ..." of a key
 * that is both trusted and @revoked, or NULL: OpenSSH would refuse it.
 */
const char *hostkey_text_revoked(const char *text);

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
