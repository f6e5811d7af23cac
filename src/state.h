/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The live state of a running tunnel, as one JSON file per tunnel in the
 * runtime directory, for `tether status`. Rendering is pure; writing
 * replaces the file atomically (temp file + rename).
 */
#ifndef TETHER_STATE_H
#define TETHER_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "error.h"

struct state_forward {
	char spec[2 * SPEC_HOST_MAX + 32];
	int remote_port;      /* as asked; 0 = bastion's choice */
	int bound_port;       /* 0 = not bound */
	const char *state;    /* pending, requesting, bound, refused */
	double probe_rtt_ms;  /* the last good end-to-end probe; 0 = none */
	unsigned refusals;    /* in a row; 0 = not refused */
	int not_permitted;    /* refused past stale_port_timeout */
	time_t refused_since; /* the first refusal of the streak; 0 = none */
};

/* One of several bastions (failover): in use, or why it failed last. */
struct state_bastion {
	char bastion[SPEC_USER_MAX + SPEC_HOST_MAX + 8];
	int in_use;
	const char *last_error; /* NULL = never failed */
	time_t last_error_at;
};

struct state_view {
	const char *name;
	long pid;
	const char *state; /* connecting, authenticating, requesting,
	                      forwarding (every forward bound), partial,
	                      waiting-for-port (none bound), refused,
	                      waiting-to-retry, stopping */
	char bastion[SPEC_USER_MAX + SPEC_HOST_MAX + 8];
	struct state_forward forwards[CONFIG_FORWARDS_MAX];
	size_t nforwards;
	struct state_bastion bastions[CONFIG_BASTIONS_MAX];
	size_t nbastions; /* 0 or 1: no "bastions" list */
	/* The jump hosts on the way, outermost first ("jumps"; 0 = none). */
	char jumps[CONFIG_JUMPS_MAX][SPEC_USER_MAX + SPEC_HOST_MAX + 8];
	size_t njumps;
	time_t connected_since; /* 0 = not connected */
	unsigned reconnects;
	const char *last_error; /* NULL = none: the current problem */
	time_t last_error_at;
	const char *previous_error; /* the last problem recovered from */
	time_t previous_error_at;
	time_t previous_error_cleared_at;
	int exit_code; /* the failure that ended the process; 0 = none */
	size_t channels;
	uint64_t channels_total; /* connections carried since the start */
	double keepalive_rtt_ms; /* the last keepalive's; 0 = none yet */
	uint64_t bytes_to_target;
	uint64_t bytes_from_target;
	time_t updated;
};

/* The JSON text (one object, trailing newline); NULL if out of memory. */
char *state_render(const struct state_view *);
/* Writes text to path through a temp file in the same directory. */
int state_write_atomic(const char *path, const char *text, struct error *);

#endif
