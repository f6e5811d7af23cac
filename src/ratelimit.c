/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, double interval, unsigned burst)
{
	rl->interval = interval;
	rl->burst = burst;
	rl->start = 0;
	rl->passed = 0;
	rl->suppressed = 0;
}

int
ratelimit_allow(struct ratelimit *rl, double now)
{
	if (rl->passed == 0 || now - rl->start >= rl->interval ||
	    now < rl->start) {
		rl->start = now;
		rl->passed = 0;
	}
	if (rl->passed < rl->burst) {
		rl->passed++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

unsigned
ratelimit_take_suppressed(struct ratelimit *rl)
{
	unsigned n = rl->suppressed;

	rl->suppressed = 0;
	return n;
}
