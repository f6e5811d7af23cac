/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What setup and remove will do, as a list of steps: write a file, remove
 * a file, run a command. Built first, then either printed (--dry-run) or
 * carried out, so a dry run shows exactly what a real run does.
 */
#ifndef TETHER_PLAN_H
#define TETHER_PLAN_H

#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

#define PLAN_STEPS_MAX 16
#define PLAN_ARGS_MAX 12

enum plan_kind {
	PLAN_WRITE,
	PLAN_REMOVE,
	PLAN_RUN,
	PLAN_MKDIR,
};

struct plan_step {
	enum plan_kind kind;
	char path[CONFIG_PATH_MAX];
	char *content; /* PLAN_WRITE, owned */
	mode_t mode;
	char *argv[PLAN_ARGS_MAX + 1]; /* PLAN_RUN, owned, NULL-terminated */
	int may_fail;                  /* PLAN_RUN: a failure is only noted */
	int secret; /* PLAN_WRITE: a private key, never printed, wiped */
	/*
	 * PLAN_WRITE, PLAN_MKDIR: who owns it, by name, looked up when the
	 * step runs (an earlier step may make the account); "" for root.
	 */
	char owner[32];
	char group[32];
};

struct plan {
	struct plan_step steps[PLAN_STEPS_MAX];
	size_t n;
	int overflow;         /* more steps than fit: refuse to run */
	struct strbuf *trace; /* not owned: "debug: " lines as steps run */
};

void plan_init(struct plan *);
void plan_free(struct plan *);
void plan_write(struct plan *, const char *path, const char *content,
    mode_t mode);
/* The same for a private key: a dry run names it without its content. */
void plan_write_secret(struct plan *, const char *path, const char *content,
    mode_t mode);
/*
 * The file gets its owner before it is renamed into place: it never
 * exists under its name with another owner, and no path is followed.
 */
void plan_set_owner(struct plan *, const char *owner, const char *group);
/*
 * A directory of root's, with group and mode as given: made if missing;
 * an existing one must be a real directory owned by root (else the step
 * fails) and is given the group and mode; its parent must be root's and
 * writable by root alone.
 */
void plan_mkdir(struct plan *, const char *path, const char *group,
    mode_t mode);
void plan_remove(struct plan *, const char *path);
/* argv is copied; the list ends with NULL. */
void plan_run(struct plan *, int may_fail, const char *const *argv);
void plan_print(const struct plan *, struct strbuf *);
/*
 * Carries the steps out in order; stops at the first that fails. With a
 * trace, each step is said there as it is done, a command with its exit
 * status and output.
 */
int plan_execute(const struct plan *, struct strbuf *log, struct error *);

#endif
