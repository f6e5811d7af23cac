/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "resume.h"

void
resume_watch_init(struct resume_watch *w)
{
	w->boot = w->mono = 0;
	w->started = 0;
}

double
resume_watch_check(struct resume_watch *w, double boot, double mono,
    double min_gap)
{
	double slept;

	if (!w->started) {
		w->boot = boot;
		w->mono = mono;
		w->started = 1;
		return 0;
	}
	slept = (boot - w->boot) - (mono - w->mono);
	w->boot = boot;
	w->mono = mono;
	return slept >= min_gap ? slept : 0;
}
