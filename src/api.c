/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "fsutil.h"
#include "migrate.h"
#include "units.h"

void
api_out_init(struct api_out *o)
{
	strbuf_init(&o->out);
	strbuf_init(&o->err);
}

int
api_finish(struct api_out *o, struct api_result *r, int exit_code)
{
	r->success = exit_code == TETHER_EXIT_OK;
	r->exit_code = exit_code;
	r->out = strbuf_take(&o->out);
	r->err = strbuf_take(&o->err);
	return r->success ? 0 : -1;
}

int
api_finish_run(struct api_out *o, struct api_result *r, int rc,
    const struct error *err, const char *trailer)
{
	if (rc == 0)
		return api_finish(o, r, TETHER_EXIT_OK);
	strbuf_addf(&o->err, "%s\n%s", err->msg,
	    trailer != NULL ? trailer : "");
	return api_finish(o, r,
	    err->code != 0 ? err->code : TETHER_EXIT_FAILURE);
}

void
api_result_free(struct api_result *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	free(r->json);
	memset(r, 0, sizeof *r);
}

int
api_key_copy(const struct tether_paths *p, int port, char *out, size_t sz)
{
	size_t n = (size_t)snprintf(out, sz, "%s/keys/%d.key", p->config_dir,
	    port);

	return n < sz ? 0 : -1;
}

int
api_legacy_unit(int port, char *unit, size_t sz)
{
	struct tether_paths p;
	char path[CONFIG_PATH_MAX + 64];
	struct error err;

	error_clear(&err);
	if (api_paths(TETHER_MODE_SYSTEM, &p, &err) == -1 ||
	    (size_t)snprintf(unit, sz, "autossh-tunnel-%d.service", port) >=
	        sz ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", p.unit_dir, unit) >=
	        sizeof path)
		return 0;
	return file_exists(path);
}

int
api_check_legacy(int port, const char *verb, struct error *err)
{
	char unit[64];

	if (!api_legacy_unit(port, unit, sizeof unit))
		return 0;
	error_set(err, TETHER_EXIT_FAILURE,
	    "port %d belongs to %s, a unit of scitex-tunnel (autossh); %s "
	    "leaves it alone: tether migrate replaces it with a tether "
	    "tunnel (tether migrate --dry-run shows how)",
	    port, unit, verb);
	return -1;
}

static const char *
api_getenv(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

int
api_debug(struct error *err)
{
	int on = 0;

	if (config_env_debug(api_getenv, NULL, &on, err) == -1)
		return -1;
	return on;
}

int
api_check_root(enum tether_mode mode, int dry_run, const char *verb,
    struct error *err)
{
	if (mode != TETHER_MODE_SYSTEM || dry_run || geteuid() == 0)
		return 0;
	error_set(err, TETHER_EXIT_FAILURE,
	    "a system tunnel's files (/etc/tether, its systemd unit) are "
	    "root's: run %s with sudo, or add --user for a tunnel of your "
	    "own (no root needed)",
	    verb);
	return -1;
}

int
api_check_port(int port, struct error *err)
{
	if (port < 1 || port > SPEC_PORT_MAX) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "port %d is not a remote port from 1 to 65535", port);
		return -1;
	}
	return 0;
}

int
api_paths(enum tether_mode mode, struct tether_paths *p, struct error *err)
{
	struct path_env env;

	paths_env_from_process(&env);
	if (paths_for_mode(mode, &env, p) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "user mode needs HOME set to "
		    "an absolute path of reasonable length");
		return -1;
	}
	return 0;
}

/*
 * The tether installed with libtether: PREFIX/BINDIR/tether for
 * PREFIX/LIBDIR/libtether.so.N (or beside it, in a build tree), so that a
 * program calling the library writes units that run tether, not itself.
 */
static int
api_exe_beside_library(const char *lib, char *out, size_t sz, struct error *err)
{
	char dir[PATH_MAX], *slash;
	const char *p;
	int up = 1;

	if (realpath(lib, dir) == NULL)
		snprintf(dir, sizeof dir, "%s", lib);
	for (p = TETHER_INSTALL_LIBDIR; *p != '\0'; p++)
		up += *p == '/';
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(out, sz, "%s/tether", dir) < sz &&
	    access(out, X_OK) == 0)
		return units_check_exe(out, err);
	while (up-- > 0 && (slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (TETHER_INSTALL_LIBDIR[0] != '/' &&
	    (size_t)snprintf(out, sz, "%s/%s/tether", dir,
	        TETHER_INSTALL_BINDIR) < sz &&
	    access(out, X_OK) == 0)
		return units_check_exe(out, err);
	error_set(err, TETHER_EXIT_FAILURE,
	    "cannot find the tether executable installed with %s (looked in "
	    "its directory and in %s/%s): install tether with the library",
	    lib, dir, TETHER_INSTALL_BINDIR);
	return -1;
}

int
api_self_exe(char *out, size_t sz, struct error *err)
{
	Dl_info self;
	ssize_t n;

	/* This code runs inside libtether, in another program: find tether. */
	if (dladdr((void *)api_self_exe, &self) != 0 &&
	    self.dli_fname != NULL &&
	    strstr(basename(self.dli_fname), ".so") != NULL)
		return api_exe_beside_library(self.dli_fname, out, sz, err);
	n = readlink("/proc/self/exe", out, sz - 1);
	if (n <= 0 || (size_t)n >= sz - 1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot find the tether executable (/proc/self/exe): %s",
		    strerror(errno));
		return -1;
	}
	out[n] = '\0';
	return units_check_exe(out, err);
}
