/* Checks the bastion's host key against known_hosts, OpenSSH-style. */
#ifndef TETHER_HOSTKEY_H
#define TETHER_HOSTKEY_H

#include <libssh/libssh.h>

#include "config.h"
#include "error.h"
#include "log.h"

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

/* "host" for port 22, "[host]:port" otherwise: known_hosts' spelling. */
void hostkey_host_pattern(const struct bastion_spec *, char *, size_t);

#endif
