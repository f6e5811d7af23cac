/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * daemon.c against what a service user can plant in a runtime directory it
 * owns: symlinks, hard links, files of others, a pidfile naming a process
 * that is not our tether. Nothing may be followed, truncated or signalled.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

#define VICTIM_TEXT "root only\n"

struct fixture {
	char dir[64];
	char pidfile[128];
	char logfile[128];
	char victim[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_daemon.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->pidfile, sizeof f->pidfile, "%s/1.pid", f->dir);
	snprintf(f->logfile, sizeof f->logfile, "%s/1.log", f->dir);
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
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
assert_victim_intact(const struct fixture *f)
{
	char buf[64] = "";
	FILE *fp = fopen(f->victim, "r");

	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof buf, fp));
	assert_null(fgets(buf + strlen(buf), sizeof buf - strlen(buf), fp));
	fclose(fp);
	assert_string_equal(buf, VICTIM_TEXT);
}

static void
start_refused(const struct fixture *f, const char *want)
{
	struct error err;
	pid_t pid = 0;

	error_clear(&err);
	assert_int_equal(daemon_start(f->pidfile, f->logfile, &pid, &err), -1);
	if (strstr(err.msg, want) == NULL)
		fail_msg("'%s' lacks '%s'", err.msg, want);
	assert_int_equal(pid, 0);
}

static void
test_start_pidfile_symlink(void **state)
{
	struct fixture *f = *state;

	write_file(f->victim, VICTIM_TEXT);
	assert_int_equal(symlink(f->victim, f->pidfile), 0);
	start_refused(f, "is a symlink: refusing to follow it");
	assert_victim_intact(f);
}

static void
test_start_log_symlink(void **state)
{
	struct fixture *f = *state;

	write_file(f->victim, VICTIM_TEXT);
	assert_int_equal(symlink(f->victim, f->logfile), 0);
	start_refused(f, "log file");
	start_refused(f, "is a symlink");
	assert_victim_intact(f);
}

static void
test_start_hard_link(void **state)
{
	struct fixture *f = *state;

	write_file(f->victim, VICTIM_TEXT);
	assert_int_equal(link(f->victim, f->pidfile), 0);
	start_refused(f, "2 links");
	assert_victim_intact(f);
}

static void
test_start_not_a_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkfifo(f->pidfile, 0600), 0);
	start_refused(f, "not a regular file");
}

static void
test_start_foreign_owner(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip();
	write_file(f->pidfile, "");
	assert_int_equal(chown(f->pidfile, 4242, 4242), 0);
	start_refused(f, "owner uid 4242");
}

/* A child that runs cmd as uid (or as us for uid -1); its pid. */
static pid_t
spawn_sleeper(uid_t uid)
{
	pid_t pid = fork();

	assert_true(pid != -1);
	if (pid == 0) {
		if (uid != (uid_t)-1 && (setgid(uid) == -1 || setuid(uid) == -1))
			_exit(3);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(4);
	}
	return pid;
}

static int
still_runs(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == 0;
}

/* Writes pid into the pidfile and holds its lock, as a daemon would. */
static int
hold_pidfile(const struct fixture *f, pid_t pid)
{
	char buf[32];
	int fd = open(f->pidfile, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	snprintf(buf, sizeof buf, "%ld\n", (long)pid);
	assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
	assert_int_equal(flock(fd, LOCK_EX), 0);
	return fd;
}

static void
stop_refused(const struct fixture *f, pid_t victim, const char *want)
{
	struct timespec pause = { 0, 100L * 1000 * 1000 };
	struct error err;

	/* Let the child get to exec: /proc/PID/exe must be sleep's. */
	nanosleep(&pause, NULL);
	error_clear(&err);
	assert_int_equal(daemon_stop(f->pidfile, 1, &err), -1);
	if (strstr(err.msg, want) == NULL)
		fail_msg("'%s' lacks '%s'", err.msg, want);
	nanosleep(&pause, NULL);
	assert_true(still_runs(victim));
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
}

static void
test_stop_not_tether(void **state)
{
	struct fixture *f = *state;
	pid_t victim = spawn_sleeper((uid_t)-1);
	int fd = hold_pidfile(f, victim);

	assert_int_equal(daemon_running_pid(f->pidfile), victim);
	stop_refused(f, victim, "not tether");
	close(fd);
}

static void
test_stop_other_uid(void **state)
{
	struct fixture *f = *state;
	pid_t victim;
	int fd;

	if (geteuid() != 0)
		skip();
	victim = spawn_sleeper(4242);
	fd = hold_pidfile(f, victim);
	stop_refused(f, victim, "runs as uid 4242");
	close(fd);
}

static void
test_stop_pidfile_symlink(void **state)
{
	struct fixture *f = *state;
	pid_t victim = spawn_sleeper((uid_t)-1);
	char real[sizeof f->pidfile];
	int fd;

	/* The lock is held on the real file; the pidfile only points to it. */
	snprintf(real, sizeof real, "%s", f->pidfile);
	snprintf(f->pidfile, sizeof f->pidfile, "%s/2.pid", f->dir);
	assert_int_equal(symlink(real, f->pidfile), 0);
	snprintf(f->pidfile, sizeof f->pidfile, "%s", real);
	fd = hold_pidfile(f, victim);
	snprintf(f->pidfile, sizeof f->pidfile, "%s/2.pid", f->dir);
	assert_int_equal(daemon_running_pid(f->pidfile), 0);
	stop_refused(f, victim, "is a symlink");
	close(fd);
}

static void
test_stale_and_absent(void **state)
{
	struct fixture *f = *state;
	struct error err;
	pid_t pid = 1;

	error_clear(&err);
	assert_int_equal(daemon_holder(f->pidfile, &pid, &err), 0);
	assert_int_equal(pid, 0);
	write_file(f->pidfile, "1\n");
	assert_int_equal(daemon_holder(f->pidfile, &pid, &err), 0);
	assert_int_equal(daemon_stop(f->pidfile, 1, &err), 0);
	assert_false(error_is_set(&err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_pidfile_symlink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_log_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_hard_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_not_a_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_foreign_owner,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_not_tether, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_other_uid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_pidfile_symlink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_absent, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
