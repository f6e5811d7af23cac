/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What an OpenSSH user certificate says of itself (PROTOCOL.certkeys):
 * its ID, the principals it may log in as and when it is valid, for
 * doctor to show and to warn before it expires.
 */
#ifndef TETHER_CERT_H
#define TETHER_CERT_H

#include <stdint.h>

#include "error.h"

struct cert_info {
	char key_id[128];
	char principals[256];  /* "a, b"; "" = any principal */
	uint64_t valid_after;  /* unix time; 0 = always */
	uint64_t valid_before; /* unix time; UINT64_MAX = forever */
};

/* 0 with *info filled, or -1 with a KEY error naming the file. */
int cert_read(const char *path, struct cert_info *info, struct error *);
/* Whether user is one of the principals (a certificate without any: yes). */
int cert_allows(const struct cert_info *, const char *user);

#endif
