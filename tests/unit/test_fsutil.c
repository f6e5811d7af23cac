/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * file_write_atomic: a name planted where a fixed temporary file used to
 * go is neither followed nor truncated, and two writers of one file at
 * once never collide (each write lands whole, none fails).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"

#define VICTIM_TEXT "root only\n"
#define ROUNDS 400

struct fixture {
	char dir[64];
	char path[128];
	char tmp[160];
	char victim[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_fsutil.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/1.json", f->dir);
	snprintf(f->tmp, sizeof f->tmp, "%s.tmp", f->path);
	snprintf(f->victim, sizeof f->victim, "%s/victim", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
assert_file_is(const char *path, const char *want)
{
	char *text = NULL;
	struct error err;

	error_clear(&err);
	assert_int_equal(file_read(path, 1 << 20, &text, &err), 0);
	assert_string_equal(text, want);
	free(text);
}

static void
write_victim(const struct fixture *f)
{
	struct error err;

	error_clear(&err);
	assert_int_equal(file_write_atomic(f->victim, VICTIM_TEXT, 0600, 0,
	                     &err),
	    0);
}

/* Nothing but path, the victim and what the test planted. */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_planted_symlink(void **state)
{
	struct fixture *f = *state;
	struct error err;

	write_victim(f);
	assert_int_equal(symlink(f->victim, f->tmp), 0);
	error_clear(&err);
	assert_int_equal(file_write_atomic(f->path, "{}\n", 0644, 1, &err), 0);
	assert_file_is(f->path, "{}\n");
	assert_file_is(f->victim, VICTIM_TEXT);
	assert_int_equal(count_entries(f->dir), 3);
}

static void
test_planted_hard_link(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct stat st;

	write_victim(f);
	assert_int_equal(link(f->victim, f->tmp), 0);
	error_clear(&err);
	assert_int_equal(file_write_atomic(f->path, "{}\n", 0644, 0, &err), 0);
	assert_file_is(f->victim, VICTIM_TEXT);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static char *
big_text(char c)
{
	char *t = malloc(256 * 1024 + 2);

	assert_non_null(t);
	memset(t, c, 256 * 1024);
	t[256 * 1024] = '\n';
	t[256 * 1024 + 1] = '\0';
	return t;
}

static void
test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	char *a = big_text('a'), *b = big_text('b'), *text = NULL;
	struct error err;
	int i, status, failed = 0;
	pid_t child;

	child = fork();
	assert_true(child != -1);
	for (i = 0; i < ROUNDS; i++) {
		error_clear(&err);
		failed += file_write_atomic(f->path, child == 0 ? a : b, 0644,
		              0, &err) == -1;
	}
	if (child == 0)
		_exit(failed != 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(failed, 0);
	error_clear(&err);
	assert_int_equal(file_read(f->path, 1 << 20, &text, &err), 0);
	assert_true(strcmp(text, a) == 0 || strcmp(text, b) == 0);
	assert_int_equal(count_entries(f->dir), 1);
	free(text);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_planted_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_planted_hard_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
