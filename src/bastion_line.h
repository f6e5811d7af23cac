/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The least-privilege authorized_keys line for a tunnel's key on the
 * bastion: listen on these ports (and, for the end-to-end probe, connect
 * to them), nothing else. bastion-line prints it; doctor suggests it.
 */
#ifndef TETHER_BASTION_LINE_H
#define TETHER_BASTION_LINE_H

#include <stddef.h>
#include <stdio.h>

/* binds[i] is port i's bind address (NULL or "" = localhost); binds may be NULL. */
void bastion_line_print(FILE *, const char *indent, const int *ports,
    const char *const *binds, size_t n, const char *pub);

/* "TYPE BASE64" of the key's public half (KEY.pub or the key); -1 said. */
int bastion_line_public_key(const char *path, char *out, size_t sz);

#endif
