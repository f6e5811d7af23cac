/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Several bastions, most preferred first: which one is in use, and which
 * failed, when and why. A failure moves to the next bastion at once; when
 * every one has failed in a row (a round), the first is tried again after
 * the usual backoff. The supervisor does the connecting and, while a later
 * bastion serves, checks the first one now and then to go back to it.
 */
#ifndef TETHER_FAILOVER_H
#define TETHER_FAILOVER_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"

struct failover_note {
	char error[ERROR_MSG_MAX]; /* why it failed last; "" = never */
	time_t at;
};

struct failover {
	size_t n;       /* bastions; 1: nothing to fail over to */
	size_t current; /* the one in use */
	size_t failed;  /* in a row this round */
	struct failover_note notes[CONFIG_BASTIONS_MAX];
};

void failover_init(struct failover *, size_t n);
/*
 * The bastion in use failed (why, at now). 1: current is the next one, to
 * try at once; 0: every one failed this round, current is the first again.
 */
int failover_failed(struct failover *, const char *why, time_t now);
/* The one in use serves every forward: a new round begins. */
void failover_up(struct failover *);
/* Now serving bastion i (the first, after checking it). */
void failover_use(struct failover *, size_t i);

#endif
