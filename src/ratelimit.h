/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A budget for repeated log lines: at most burst lines per interval go out;
 * the rest are counted, to be reported in one line. A bastion that floods
 * tether with channels it must refuse cannot flood the journal with them.
 */
#ifndef TETHER_RATELIMIT_H
#define TETHER_RATELIMIT_H

struct ratelimit {
	double interval;     /* seconds */
	unsigned burst;      /* lines per interval */
	double start;        /* of the current interval */
	unsigned passed;     /* lines let through in it */
	unsigned suppressed; /* held back since the last report */
};

void ratelimit_init(struct ratelimit *, double interval, unsigned burst);
/* Whether a line at time now may go out; if not, it is counted. */
int ratelimit_allow(struct ratelimit *, double now);
/* How many were held back since the last call, and starts that count over. */
unsigned ratelimit_take_suppressed(struct ratelimit *);

#endif
