/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "fsutil.h"
#include "plan.h"
#include "service.h"

#define PLAN_RUN_TIMEOUT 60

void
plan_init(struct plan *p)
{
	memset(p, 0, sizeof *p);
}

void
plan_free(struct plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		if (p->steps[i].secret && p->steps[i].content != NULL)
			explicit_bzero(p->steps[i].content,
			    strlen(p->steps[i].content));
		free(p->steps[i].content);
		for (j = 0; p->steps[i].argv[j] != NULL; j++)
			free(p->steps[i].argv[j]);
	}
	plan_init(p);
}

static struct plan_step *
plan_add(struct plan *p, enum plan_kind kind, const char *path)
{
	struct plan_step *s;

	if (p->n == PLAN_STEPS_MAX) {
		p->overflow = 1;
		return NULL;
	}
	s = &p->steps[p->n++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	if (path != NULL &&
	    (size_t)snprintf(s->path, sizeof s->path, "%s", path) >=
	        sizeof s->path)
		p->overflow = 1;
	return s;
}

void
plan_write(struct plan *p, const char *path, const char *content, mode_t mode)
{
	struct plan_step *s = plan_add(p, PLAN_WRITE, path);

	if (s == NULL)
		return;
	s->mode = mode;
	s->content = strdup(content);
	if (s->content == NULL)
		p->overflow = 1;
}

void
plan_write_secret(struct plan *p, const char *path, const char *content,
    mode_t mode)
{
	plan_write(p, path, content, mode);
	if (p->n > 0 && strcmp(p->steps[p->n - 1].path, path) == 0)
		p->steps[p->n - 1].secret = 1;
}

void
plan_set_owner(struct plan *p, const char *owner, const char *group)
{
	struct plan_step *s;

	if (p->n == 0 || p->steps[p->n - 1].kind != PLAN_WRITE)
		return;
	s = &p->steps[p->n - 1];
	if ((size_t)snprintf(s->owner, sizeof s->owner, "%s", owner) >=
	        sizeof s->owner ||
	    (size_t)snprintf(s->group, sizeof s->group, "%s", group) >=
	        sizeof s->group)
		p->overflow = 1;
}

void
plan_mkdir(struct plan *p, const char *path, const char *group, mode_t mode)
{
	struct plan_step *s = plan_add(p, PLAN_MKDIR, path);

	if (s == NULL)
		return;
	s->mode = mode;
	if ((size_t)snprintf(s->group, sizeof s->group, "%s", group) >=
	    sizeof s->group)
		p->overflow = 1;
}

void
plan_remove(struct plan *p, const char *path)
{
	plan_add(p, PLAN_REMOVE, path);
}

void
plan_run(struct plan *p, int may_fail, const char *const *argv)
{
	struct plan_step *s = plan_add(p, PLAN_RUN, NULL);
	size_t i;

	if (s == NULL)
		return;
	s->may_fail = may_fail;
	for (i = 0; i < PLAN_ARGS_MAX && argv[i] != NULL; i++) {
		if ((s->argv[i] = strdup(argv[i])) == NULL)
			p->overflow = 1;
	}
	if (argv[i] != NULL)
		p->overflow = 1;
}

static void
plan_print_argv(char *const *argv, struct strbuf *out)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		strbuf_addf(out, "%s%s", i > 0 ? " " : "", argv[i]);
}

void
plan_print(const struct plan *p, struct strbuf *out)
{
	const struct plan_step *s;
	size_t i;

	for (i = 0; i < p->n; i++) {
		s = &p->steps[i];
		switch (s->kind) {
		case PLAN_WRITE:
			if (s->secret) {
				strbuf_addf(out,
				    "would write %s (%s:%s, mode %04o): a "
				    "private key, not shown\n",
				    s->path, s->owner[0] ? s->owner : "root",
				    s->group[0] ? s->group : "root",
				    (unsigned)s->mode);
				break;
			}
			strbuf_addf(out, "would write %s (mode %04o):\n%s",
			    s->path, (unsigned)s->mode, s->content);
			if (s->content[0] != '\0' &&
			    s->content[strlen(s->content) - 1] != '\n')
				strbuf_add(out, "\n");
			break;
		case PLAN_REMOVE:
			strbuf_addf(out, "would remove %s\n", s->path);
			break;
		case PLAN_MKDIR:
			strbuf_addf(out,
			    "would make the directory %s (root:%s, mode "
			    "%04o)\n",
			    s->path, s->group, (unsigned)s->mode);
			break;
		case PLAN_RUN:
			strbuf_add(out, "would run: ");
			plan_print_argv(s->argv, out);
			strbuf_add(out, "\n");
			break;
		}
	}
}

/* An owner's name to ids, now: an earlier step may have made it. */
static int
plan_lookup(const struct plan_step *s, uid_t *uid, gid_t *gid,
    struct error *err)
{
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (s->owner[0] != '\0') {
		if ((pw = getpwnam(s->owner)) == NULL) {
			error_set(err, TETHER_EXIT_FAILURE,
			    "cannot give %s to %s: no such user", s->path,
			    s->owner);
			return -1;
		}
		*uid = pw->pw_uid;
	}
	if (s->group[0] != '\0') {
		if ((gr = getgrnam(s->group)) == NULL) {
			error_set(err, TETHER_EXIT_FAILURE,
			    "cannot give %s to the group %s: no such group",
			    s->path, s->group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/*
 * A directory for secrets: root's, writable by root alone, and so is the
 * one above it (else its entries could be swapped under us). Opened
 * without following a symlink; fixed through the descriptor.
 */
static int
plan_do_mkdir(const struct plan_step *s, struct error *err)
{
	char parent[CONFIG_PATH_MAX], buf[CONFIG_PATH_MAX];
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	snprintf(buf, sizeof buf, "%s", s->path);
	snprintf(parent, sizeof parent, "%s", dirname(buf));
	if (plan_lookup(s, &uid, &gid, err) == -1)
		return -1;
	if (mkdir_parents(parent, 0755) == -1 ||
	    (mkdir(s->path, 0700) == -1 && errno != EEXIST)) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot create %s: %s",
		    s->path, strerror(errno));
		return -1;
	}
	if (lstat(parent, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "%s must be a directory of root's that only root can "
		    "write to; it holds %s",
		    parent, s->path);
		return -1;
	}
	fd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || st.st_uid != 0) {
		if (fd != -1)
			close(fd);
		error_set(err, TETHER_EXIT_FAILURE,
		    "%s is not a directory of root's (a symlink, a file, or "
		    "another user's); move it away and set up again",
		    s->path);
		return -1;
	}
	if (fchown(fd, 0, gid) == -1 || fchmod(fd, s->mode) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot secure %s: %s",
		    s->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
plan_do_write(const struct plan_step *s, struct error *err)
{
	char dir[CONFIG_PATH_MAX];
	uid_t uid;
	gid_t gid;

	if (plan_lookup(s, &uid, &gid, err) == -1)
		return -1;
	snprintf(dir, sizeof dir, "%s", s->path);
	if (mkdir_parents(dirname(dir), 0755) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot create the directory of %s: %s", s->path,
		    strerror(errno));
		return -1;
	}
	return file_write_atomic_owned(s->path, s->content, s->mode, 1, uid,
	    gid, err);
}

/* TETHER_DEBUG: what a step does, before it does it. */
static void
plan_trace_step(const struct plan *p, const struct plan_step *s)
{
	if (p->trace == NULL)
		return;
	switch (s->kind) {
	case PLAN_WRITE:
		strbuf_addf(p->trace,
		    "debug: writing %s (mode %04o, %zu bytes)\n", s->path,
		    (unsigned)s->mode, strlen(s->content));
		break;
	case PLAN_REMOVE:
		strbuf_addf(p->trace, "debug: removing %s\n", s->path);
		break;
	case PLAN_MKDIR:
		strbuf_addf(p->trace,
		    "debug: making the directory %s (root:%s, mode %04o)\n",
		    s->path, s->group, (unsigned)s->mode);
		break;
	case PLAN_RUN:
		strbuf_add(p->trace, "debug: running: ");
		plan_print_argv(s->argv, p->trace);
		strbuf_add(p->trace, "\n");
		break;
	}
}

static int
plan_do_run(const struct plan *p, const struct plan_step *s, struct strbuf *log,
    struct error *err)
{
	char out[SERVICE_OUTPUT_MAX];
	int rc;

	rc = service_exec(s->argv, out, sizeof out, PLAN_RUN_TIMEOUT);
	if (p->trace != NULL)
		strbuf_addf(p->trace, "debug:   exit %d%s%.300s%s", rc,
		    out[0] != '\0' ? ", said: " : "", out,
		    out[0] != '\0' && out[strlen(out) - 1] == '\n' ? "" : "\n");
	if (rc == 0)
		return 0;
	if (s->may_fail)
		return 0;
	strbuf_add(log, out);
	error_set(err, TETHER_EXIT_FAILURE, "%s%s%s%s failed (%s %d)%s%.200s",
	    s->argv[0], s->argv[1] != NULL ? " " : "",
	    s->argv[1] != NULL ? s->argv[1] : "",
	    s->argv[1] != NULL && s->argv[2] != NULL ? " ..." : "",
	    rc == -1 ? "could not run or timed out:" : "exit", rc,
	    out[0] != '\0' ? ": " : "", out);
	return -1;
}

int
plan_execute(const struct plan *p, struct strbuf *log, struct error *err)
{
	const struct plan_step *s;
	size_t i;

	if (p->overflow) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "internal: the plan did not fit; nothing was done");
		return -1;
	}
	for (i = 0; i < p->n; i++) {
		s = &p->steps[i];
		plan_trace_step(p, s);
		if (s->kind == PLAN_WRITE && plan_do_write(s, err) == -1)
			return -1;
		if (s->kind == PLAN_MKDIR && plan_do_mkdir(s, err) == -1)
			return -1;
		/* Gone already is fine; a directory others use stays. */
		if (s->kind == PLAN_REMOVE && remove(s->path) == -1 &&
		    errno != ENOENT && errno != ENOTEMPTY) {
			error_set(err, TETHER_EXIT_FAILURE,
			    "cannot remove %s: %s", s->path, strerror(errno));
			return -1;
		}
		if (s->kind == PLAN_RUN && plan_do_run(p, s, log, err) == -1)
			return -1;
	}
	return 0;
}
