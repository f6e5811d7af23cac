/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Suspend/resume detection: CLOCK_MONOTONIC stops while the machine
 * sleeps, CLOCK_BOOTTIME does not. A gap between how far each moved since
 * the last look is time spent asleep. Pure: the caller reads the clocks.
 */
#ifndef TETHER_RESUME_H
#define TETHER_RESUME_H

struct resume_watch {
	double boot; /* CLOCK_BOOTTIME at the last look, seconds */
	double mono; /* CLOCK_MONOTONIC at the last look */
	int started;
};

void resume_watch_init(struct resume_watch *);
/* Seconds slept since the last look (0 if none worth saying: < min_gap). */
double resume_watch_check(struct resume_watch *, double boot, double mono,
    double min_gap);

#endif
