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

#endif
