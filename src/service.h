/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Talking to service managers: running systemctl (found on PATH, never
 * through a shell), knowing whether a systemd manager runs for a mode, and
 * reading a unit's properties.
 */
#ifndef TETHER_SERVICE_H
#define TETHER_SERVICE_H

#include <stddef.h>

#include "ops.h"
#include "paths.h"

#define SERVICE_OUTPUT_MAX 8192

/*
 * Runs argv (argv[0] looked up on PATH) with stdin from /dev/null and
 * stdout+stderr captured into out (truncated to outsz). Returns the exit
 * status, 128+signal, or -1 if it could not run or took over timeout_s.
 */
int service_exec(char *const argv[], char *out, size_t outsz, int timeout_s);

/* Whether a systemd manager for the mode answers here. */
int service_systemd_running(enum tether_mode);

struct unit_props {
	char active_state[32]; /* active, activating, failed, inactive, ... */
	char sub_state[32];
	char unit_file_state[32]; /* enabled, disabled, ... */
	long main_pid;
	unsigned long restarts;
	char status_text[512]; /* tether's STATUS= line */
	char result[32];       /* success, exit-code, watchdog, ... */
	int exec_main_status;  /* the last exit status of the main process */
};

/* `systemctl [--user] show` of one unit; -1 if systemctl failed. */
int service_unit_props(enum tether_mode, const char *unit, struct unit_props *);
/* Pure: parses systemctl show's KEY=VALUE lines. */
void service_parse_props(const char *text, struct unit_props *);

/* "tether@PORT.service" */
void service_unit_name(int port, char *out, size_t sz);
/* Where a template unit is already installed for the mode, or NULL. */
const char *service_find_template(enum tether_mode, const struct tether_paths *,
    char *buf, size_t sz);
/* "systemctl" or "systemctl --user" as argv words; returns how many. */
int service_systemctl_argv(enum tether_mode, const char **argv);

#endif
