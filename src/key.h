/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Loads the client's private key, refusing what OpenSSH would refuse. */
#ifndef TETHER_KEY_H
#define TETHER_KEY_H

#include <libssh/libssh.h>

#include "error.h"

/*
 * 0 and *key set (with PATH-cert.pub attached, if there is one), or -1
 * with a TETHER_EXIT_KEY error naming the fix.
 */
int key_load(const char *path, ssh_key *key, struct error *);
/*
 * key_load for logging in: a passphrase-protected key, where an ssh-agent
 * is available, returns 1 with *key NULL (the agent holds it, as ssh -i
 * KEY uses the agent for such a key).
 */
int key_load_for_auth(const char *path, int agent_available, ssh_key *key,
    struct error *);

#endif
