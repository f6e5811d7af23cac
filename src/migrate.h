/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether migrate: reading the seed's units,
 * /etc/systemd/system/autossh-tunnel-PORT.service running
 * `autossh -M 0 -N -i KEY -R PORT:localhost:22 BASTION` as User=, into
 * what tether setup needs. The parser is pure and refuses anything it does
 * not understand, naming the unit and the line.
 */
#ifndef TETHER_MIGRATE_H
#define TETHER_MIGRATE_H

#include "config.h"
#include "error.h"
#include "spec.h"

#define MIGRATE_NOTES_MAX 512
#define MIGRATE_UNIT_PREFIX "autossh-tunnel-"
#define MIGRATE_UNIT_SUFFIX ".service"
#define MIGRATE_BY_HAND "; migrate this unit by hand (docs/migrating.md)"
#define MIGRATE_UNIT_FILE_MAX ((size_t)64 * 1024)
#define MIGRATE_BASTION_MAX (SPEC_USER_MAX + SPEC_HOST_MAX + 16)

struct migrate_unit {
	int port;                          /* the -R port (= the unit's name) */
	char bastion[MIGRATE_BASTION_MAX]; /* "[user@]host[:port]" for -b */
	char key_path[CONFIG_PATH_MAX];    /* as written: absolute or "~/..." */
	char user[SPEC_USER_MAX];          /* User=; "" = root (absent/empty) */
	char group[SPEC_USER_MAX];         /* Group=; "" = not given */
	char target[SPEC_HOST_MAX + 16];   /* "HOST:PORT" of the -R forward */
	char
	    known_hosts[CONFIG_PATH_MAX]; /* UserKnownHostsFile; "" = default */
	int accept_new; /* StrictHostKeyChecking=accept-new (or no) */
	/* -J or -o ProxyJump=, "[user@]host[:port][,...]"; "" = none */
	char proxy_jump[CONFIG_JUMPS_MAX * MIGRATE_BASTION_MAX];
	/* What the unit asked for that tether does its own way, "a, b". */
	char notes[MIGRATE_NOTES_MAX];
};

/* The port of "autossh-tunnel-PORT.service", or -1 for any other name. */
int migrate_unit_port(const char *filename);

/*
 * Parses the text of the unit called name (its file name, for messages).
 * 0 and *u filled, or -1 with a TETHER_EXIT_CONFIG error naming the unit,
 * the line and what to do.
 */
int migrate_parse_unit(const char *name, const char *text,
    struct migrate_unit *u, struct error *err);

#endif
