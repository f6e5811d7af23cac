/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libtether: what `tether setup`, `tether status` and `tether remove` do,
 * for programs. Link with `pkg-config --cflags --libs tether`.
 *
 *	tether_options *o = tether_options_new();
 *	tether_options_set(o, "port", "2222");
 *	tether_options_set(o, "bastion", "user@bastion.example.com");
 *	tether_options_set(o, "key", "~/.ssh/id_ed25519");
 *	tether_options_set(o, "user", "yes");
 *	tether_result *r = tether_setup(o);
 *	if (r == NULL || !tether_result_success(r))
 *		fputs(r != NULL ? tether_result_stderr(r) : "no memory\n", stderr);
 *	tether_result_free(r);
 *	tether_options_free(o);
 *
 * Options are set by name, as text, so that a later release can add one
 * without changing a struct a caller compiled against. Every call returns
 * a result: success, the exit code the command line would exit with (see
 * tether/exit.h), the text it would print on stdout and stderr, and for
 * status the tunnels as JSON. A bad value (port 0, a key that does not
 * exist) is a failed result with the command line's message, not a crash.
 *
 * The calls change this machine as `tether setup` would (units, config
 * files, services): in system mode they need root; "user" = "yes" sets up
 * the calling user's own tunnel. They are not thread-safe (they read the
 * environment and run systemctl): call them from one thread at a time.
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#include "tether/exit.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TETHER_API __attribute__((visibility("default")))
#else
#define TETHER_API
#endif

/* Bumped when a function is added; the soname changes only on a break. */
#define TETHER_API_VERSION 1

typedef struct tether_options tether_options;
typedef struct tether_result tether_result;

/* The library's version, "X.Y.Z". */
TETHER_API const char *tether_version(void);

/* An empty set of options; NULL if out of memory. */
TETHER_API tether_options *tether_options_new(void);
/* Frees the options; NULL is fine. */
TETHER_API void tether_options_free(tether_options *);
/*
 * Sets the option name to value (copied); value NULL unsets it. Returns 0,
 * or -1 with errno EINVAL for a name no call knows (ENOMEM if out of
 * memory). Values are checked by the call that uses them.
 *
 *   port             remote port on the bastion, 1..65535 (setup, remove;
 *                    status: only that tunnel)
 *   bastion          [USER@]HOST[:PORT], or an ssh_config alias (setup;
 *                    default $TETHER_BASTION, $SCITEX_TUNNEL_BASTION_SERVER)
 *   key              private key path, ~ allowed (setup; default $TETHER_KEY,
 *                    $SCITEX_TUNNEL_SECRET_KEY_PATH)
 *   target           HOST:PORT the forward reaches (setup; localhost:22)
 *   known_hosts      where the bastion's key is copied from (setup)
 *   host_key_policy  strict | accept-new (setup)
 *   host_key         SHA256:... pins the bastion's key (setup)
 *   run_as           the system tunnel's user (setup)
 *   user             yes: the calling user's tunnels, no root needed;
 *                    no: the system's (setup, remove; status: both unless
 *                    set)
 *   dry_run          yes: say what would be done, do nothing (setup, remove)
 *   no_start         yes: install and enable, do not start (setup)
 *   wait             seconds to wait for the forward, 1..3600 (setup)
 *   proxy_jump       [USER@]HOST[:PORT][,...]: jump hosts on the way to
 *                    the bastion, as ssh -J (setup)
 */
TETHER_API int tether_options_set(tether_options *, const char *name,
    const char *value);

/* Installs and starts a tunnel, waits until it forwards. */
TETHER_API tether_result *tether_setup(const tether_options *);
/* Every tunnel on this machine, or the one on "port". */
TETHER_API tether_result *tether_status(const tether_options *);
/* Stops a tunnel and deletes every file setup wrote for it. */
TETHER_API tether_result *tether_remove(const tether_options *);

/* 1 if the call did what was asked, else 0. */
TETHER_API int tether_result_success(const tether_result *);
/* The command line's exit code (TETHER_EXIT_*), 0 on success. */
TETHER_API int tether_result_exit_code(const tether_result *);
/* What the command line prints on stdout; never NULL. */
TETHER_API const char *tether_result_stdout(const tether_result *);
/* What the command line prints on stderr; never NULL. */
TETHER_API const char *tether_result_stderr(const tether_result *);
/* status: {"tunnels": [...]} as `tether status --json`; else NULL. */
TETHER_API const char *tether_result_json(const tether_result *);
/* Frees the result; NULL is fine. */
TETHER_API void tether_result_free(tether_result *);

#ifdef __cplusplus
}
#endif

#endif
