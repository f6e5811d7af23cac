/* Checks the bastion's host key against known_hosts, OpenSSH-style. */
#ifndef TETHER_HOSTKEY_H
#define TETHER_HOSTKEY_H

#include <libssh/libssh.h>

#include "config.h"
#include "error.h"
#include "log.h"

/* After key exchange: 0 = trusted (recorded under accept-new), -1 = refused. */
int hostkey_verify(ssh_session, const struct tether_config *,
    const struct logger *, struct error *);

/* "host" for port 22, "[host]:port" otherwise: known_hosts' spelling. */
void hostkey_host_pattern(const struct bastion_spec *, char *, size_t);

#endif
