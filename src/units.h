/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Rendering what `tether setup` installs: the tunnel's config file, the
 * drop-in that names the service user, and the unit templates (embedded
 * from units/ at build time). Pure. Every value is validated so that
 * nothing from the command line can add a line or a directive.
 */
#ifndef TETHER_UNITS_H
#define TETHER_UNITS_H

#include "config.h"
#include "error.h"
#include "ops.h"

struct setup_values {
	int port;
	struct bastion_spec bastion;
	char alias[SPEC_HOST_MAX]; /* ssh_config's name for it; "" = none */
	char key_path[CONFIG_PATH_MAX];
	char known_hosts[CONFIG_PATH_MAX];
	enum host_key_policy policy;
	char host_key_pin[64]; /* "" = none */
	char target_host[SPEC_HOST_MAX];
	int target_port;
	/* Every bastion, most preferred first; bastion is the first. */
	struct bastion_spec bastions[CONFIG_BASTIONS_MAX];
	size_t nbastions;
	struct bastion_spec jumps[CONFIG_JUMPS_MAX]; /* ProxyJump, in order */
	size_t njumps;
};

/* An absolute path that a config line or unit can hold as it is. */
int units_check_path(const char *path, const char *what, struct error *);
/* The binary's path, which only units and the crontab line hold, quoted. */
int units_check_exe(const char *path, struct error *);
/* The [tunnel] file; NULL if out of memory. */
char *units_render_config(const struct setup_values *);
/* [Service] User= and Group= for a system instance. */
char *units_render_dropin(const char *user, const char *group);
/* The template unit with ExecStart= pointing at bin, quoted as needed. */
char *units_render_template(enum tether_mode, const char *bin);
/* "@reboot 'ARG' ..." for a crontab, % escaped; NULL if out of memory. */
char *units_render_cron(const char *const *argv);
/* The same words as one sh command line, quoted only where sh needs it. */
char *units_render_command(const char *const *argv);

#endif
