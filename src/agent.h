/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* What ssh-agent holds, for messages that say why the agent did not help. */
#ifndef TETHER_AGENT_H
#define TETHER_AGENT_H

#include <stddef.h>

/*
 * The number of keys the agent at path holds, or -1 with why set (not
 * set, nothing listening, no answer). Bounded: at most 2 s.
 */
int agent_key_count(const char *path, char *why, size_t whysz);

#endif
