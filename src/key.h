/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Loads the client's private key, refusing what OpenSSH would refuse. */
#ifndef TETHER_KEY_H
#define TETHER_KEY_H

#include <libssh/libssh.h>

#include "error.h"

/* Where a key's certificate is, besides PATH-cert.pub. */
struct key_cert {
	const char *path; /* NULL or "": only PATH-cert.pub, if there */
	int required;     /* path must certify the key (tether was told so) */
};

/*
 * 0 and *key set (with its certificate attached, if there is one), or -1
 * with a TETHER_EXIT_KEY error naming the fix. cert may be NULL.
 */
int key_load(const char *path, const struct key_cert *cert, ssh_key *key,
    struct error *);
/*
 * key_load for logging in: a passphrase-protected key, where an ssh-agent
 * is available, returns 1 with *key NULL (the agent holds it, as ssh -i
 * KEY uses the agent for such a key).
 */
int key_load_for_auth(const char *path, const struct key_cert *cert,
    int agent_available, ssh_key *key, struct error *);

#endif
