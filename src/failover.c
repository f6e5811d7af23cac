/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include "failover.h"

void
failover_init(struct failover *f, size_t n)
{
	memset(f, 0, sizeof *f);
	f->n = n == 0 ? 1 : n > CONFIG_BASTIONS_MAX ? CONFIG_BASTIONS_MAX : n;
}

int
failover_failed(struct failover *f, const char *why, time_t now)
{
	struct failover_note *note = &f->notes[f->current];

	snprintf(note->error, sizeof note->error, "%s", why);
	note->at = now;
	if (++f->failed < f->n) {
		f->current = (f->current + 1) % f->n;
		return 1;
	}
	f->failed = 0;
	f->current = 0;
	return 0;
}

void
failover_up(struct failover *f)
{
	f->failed = 0;
}

void
failover_use(struct failover *f, size_t i)
{
	if (i < f->n)
		f->current = i;
	f->failed = 0;
}
