/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <errno.h>
#include <libgen.h>
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
				    "would write %s (mode %04o): a private "
				    "key, not shown\n",
				    s->path, (unsigned)s->mode);
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
		case PLAN_RUN:
			strbuf_add(out, "would run: ");
			plan_print_argv(s->argv, out);
			strbuf_add(out, "\n");
			break;
		}
	}
}

static int
plan_do_write(const struct plan_step *s, struct error *err)
{
	char dir[CONFIG_PATH_MAX];

	snprintf(dir, sizeof dir, "%s", s->path);
	if (mkdir_parents(dirname(dir), 0755) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot create the directory "
		    "of %s: %s",
		    s->path, strerror(errno));
		return -1;
	}
	return file_write_atomic(s->path, s->content, s->mode, 1, err);
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
		    "internal: the plan did not "
		    "fit; nothing was done");
		return -1;
	}
	for (i = 0; i < p->n; i++) {
		s = &p->steps[i];
		plan_trace_step(p, s);
		if (s->kind == PLAN_WRITE && plan_do_write(s, err) == -1)
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
