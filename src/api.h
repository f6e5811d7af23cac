/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* What setup, status and remove share: results, names, the running manager. */
#ifndef TETHER_API_H
#define TETHER_API_H

#include <stddef.h>

#include "error.h"
#include "paths.h"
#include "strbuf.h"
#include "ops.h"

/* The text being assembled for a struct api_result. */
struct api_out {
	struct strbuf out;
	struct strbuf err;
};

void api_out_init(struct api_out *);
/* Moves the text into r and sets success and exit_code. */
int api_finish(struct api_out *, struct api_result *, int exit_code);
/*
 * Finishes an operation that returned rc: 0 is success; -1 puts err's
 * message, then trailer (may be NULL), on stderr, with err's exit code.
 */
int api_finish_run(struct api_out *, struct api_result *, int rc,
    const struct error *, const char *trailer);

/* Paths of the mode, from this process's environment; -1 with err if none. */
int api_paths(enum tether_mode, struct tether_paths *, struct error *);
/* The running executable, for units and daemons; -1 with err if unusable. */
int api_self_exe(char *out, size_t sz, struct error *);
/* Checks the port argument; TETHER_EXIT_CONFIG error if out of range. */
int api_check_port(int port, struct error *);
/*
 * A system tunnel that root set up alone runs as API_ACCOUNT with a copy
 * of root's key, here: CONFIG_DIR/keys/PORT.key (its certificate beside
 * it, as PORT.key-cert.pub). -1 if the path does not fit.
 */
#define API_ACCOUNT "tether"
int api_key_copy(const struct tether_paths *, int port, char *out, size_t sz);
/*
 * Whether scitex-tunnel's autossh-tunnel-PORT.service is among the system
 * units; its name into unit.
 */
int api_legacy_unit(int port, char *unit, size_t sz);
/* -1 with err (naming the unit and tether migrate) when there is one. */
int api_check_legacy(int port, const char *verb, struct error *);
/* Whether remove would find anything of the tunnel (a legacy unit too). */
int remove_finds_tunnel(const struct api_remove_opts *);
/* api_setup for migrate, whose autossh unit holds the port till after. */
int setup_replacing_legacy(const struct api_setup_opts *, struct api_result *);
/*
 * TETHER_DEBUG / SCITEX_TUNNEL_DEBUG_MODE: setup, status and remove then
 * say on stderr what they read, decide and run. 1 on, 0 off, -1 bad value.
 */
int api_debug(struct error *);
/* A system tunnel's files need root: one line naming sudo and --user. */
int api_check_root(enum tether_mode, int dry_run, const char *verb,
    struct error *);

#endif
