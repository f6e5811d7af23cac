/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether status --watch: the table, drawn again whenever a tunnel's state
 * file changes (inotify on the runtime directories and each tunnel's own),
 * and every few seconds for what only systemd knows (a unit that failed
 * before writing anything). Signals arrive on a signalfd: Ctrl-C, a closed
 * terminal (SIGHUP) or SIGTERM end it cleanly, exit 0.
 */
#include <sys/inotify.h>
#include <sys/signalfd.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "api.h"
#include "status_watch.h"

/* What only systemd knows is looked at this often (milliseconds). */
#define WATCH_REFRESH_MS 5000
#define WATCH_EVENTS \
	(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE)

/* The runtime directory of mode and each tunnel's own under it. */
static void
watch_add_dirs(int ifd, enum tether_mode mode)
{
	struct tether_paths p;
	char sub[CONFIG_PATH_MAX + 300];
	struct dirent *de;
	struct error err;
	DIR *dir;

	error_clear(&err);
	if (api_paths(mode, &p, &err) == -1)
		return;
	/* A missing directory is watched once it appears, at a refresh. */
	if (inotify_add_watch(ifd, p.runtime_dir, WATCH_EVENTS) == -1 ||
	    (dir = opendir(p.runtime_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", p.runtime_dir, de->d_name);
		inotify_add_watch(ifd, sub, WATCH_EVENTS);
	}
	closedir(dir);
}

/* One screen: the table (cleared first on a terminal), or one JSON. */
static int
watch_draw(const struct api_status_opts *opts, int json, int tty)
{
	struct api_result r;
	int rc = 0;

	api_status(opts, &r);
	if (tty && fputs("\033[H\033[2J", stdout) == EOF)
		rc = -1;
	if (fputs(json && r.json != NULL ? r.json : r.out, stdout) == EOF ||
	    (json && fputs("\n", stdout) == EOF) ||
	    fputs(r.err, stdout) == EOF || fflush(stdout) == EOF)
		rc = -1;
	api_result_free(&r);
	return rc;
}

/* Drains inotify: 1 if anything happened, 0 if not, -1 on error. */
static int
watch_drain(int ifd)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	ssize_t n;

	while ((n = read(ifd, buf, sizeof buf)) > 0)
		changed = 1;
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		return -1;
	return changed;
}

static int
watch_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, set, NULL) == -1)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int
status_watch(const struct api_status_opts *opts, int json)
{
	struct pollfd pfd[2];
	sigset_t set;
	int ifd, sfd, tty = isatty(STDOUT_FILENO), rc = TETHER_EXIT_OK, n;

	if ((sfd = watch_signals(&set)) == -1 ||
	    (ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1) {
		fprintf(stderr, "tether: status --watch: %s\n",
		    strerror(errno));
		if (sfd != -1)
			close(sfd);
		return TETHER_EXIT_FAILURE;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ifd, .events = POLLIN };
	for (;;) {
		if (opts->all_modes || opts->mode == TETHER_MODE_SYSTEM)
			watch_add_dirs(ifd, TETHER_MODE_SYSTEM);
		if (opts->all_modes || opts->mode == TETHER_MODE_USER)
			watch_add_dirs(ifd, TETHER_MODE_USER);
		/* A closed terminal or pipe: nobody is watching any more. */
		if (watch_draw(opts, json, tty) == -1)
			break;
		n = poll(pfd, 2, WATCH_REFRESH_MS);
		if (n == -1 && errno != EINTR) {
			rc = TETHER_EXIT_FAILURE;
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			/* Taken, so it is not delivered once unblocked. */
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				;
			break;
		}
		if (n > 0 && watch_drain(ifd) == -1) {
			rc = TETHER_EXIT_FAILURE;
			break;
		}
	}
	close(ifd);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return rc;
}
