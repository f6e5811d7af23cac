/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tether/exit.h"
#include "daemon.h"

/*
 * Opens a pidfile or log file that must be ours: never through a symlink,
 * only a regular file with one link, owned by the caller. The directory may
 * belong to someone else (systemd hands RuntimeDirectory= to the service
 * user), so whatever sits there is not trusted.
 */
int
daemon_open_own(const char *path, int flags, const char *what,
    struct error *err)
{
	struct stat st;
	int fd;

	fd = open(path, flags | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		if (errno == ELOOP)
			error_set(err, TETHER_EXIT_FAILURE,
			    "%s %s is a symlink: refusing to follow it; "
			    "remove it",
			    what, path);
		else
			error_set(err, TETHER_EXIT_FAILURE, "%s %s: %s", what,
			    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "%s %s is not a regular file of uid %ld with one link "
		    "(owner uid %ld, %ld links): refusing it; remove it",
		    what, path, (long)geteuid(), (long)st.st_uid,
		    (long)st.st_nlink);
		close(fd);
		return -1;
	}
	return fd;
}

static pid_t
daemon_read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long v;

	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

int
daemon_holder(const char *pidfile, pid_t *pid, struct error *err)
{
	int fd, rc = 0;

	*pid = 0;
	if (access(pidfile, F_OK) == -1 && errno == ENOENT)
		return 0;
	fd = daemon_open_own(pidfile, O_RDONLY, "pidfile", err);
	if (fd == -1)
		return -1;
	/* A lock we can take means nobody holds it: the file is stale. */
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK &&
	    (*pid = daemon_read_pid(fd)) > 0)
		rc = 1;
	close(fd);
	return rc;
}

pid_t
daemon_running_pid(const char *pidfile)
{
	struct error ignored;
	pid_t pid;

	error_clear(&ignored);
	return daemon_holder(pidfile, &pid, &ignored) == 1 ? pid : 0;
}

/* The basename of a /proc/PID/exe link, without " (deleted)". */
static int
daemon_exe_is_tether(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base != NULL ? base + 1 : exe;
	return strcmp(base, "tether") == 0 ||
	    strcmp(base, "tether (deleted)") == 0;
}

int
daemon_check_process(pid_t pid, struct error *err)
{
	char path[64], exe[PATH_MAX], self[PATH_MAX];
	struct stat st;
	ssize_t n, m;

	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	if (stat(path, &st) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "pid %ld: %s", (long)pid,
		    strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "refusing to signal pid %ld: it runs as uid %ld, not as "
		    "you (uid %ld); the pidfile is not this tunnel's",
		    (long)pid, (long)st.st_uid, (long)geteuid());
		return -1;
	}
	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	n = readlink(path, exe, sizeof exe - 1);
	m = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0)
		exe[n] = '\0';
	if (m > 0)
		self[m] = '\0';
	if (n <= 0 ||
	    ((m <= 0 || strcmp(exe, self) != 0) &&
	        !daemon_exe_is_tether(exe))) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "refusing to signal pid %ld: it is %s, not tether; the "
		    "pidfile is not this tunnel's",
		    (long)pid, n > 0 ? exe : "not a process of yours");
		return -1;
	}
	return 0;
}

/* In the grandchild: becomes the daemon. */
static void
daemon_become(int pid_fd, int log_fd, int report_fd)
{
	char buf[32];
	pid_t self = getpid();
	int null_fd, n;

	/*
	 * The working directory stays: relative paths in the flags and config
	 * must mean the same on SIGHUP as at start.
	 */
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd == -1 || dup2(null_fd, STDIN_FILENO) == -1 ||
	    dup2(log_fd, STDOUT_FILENO) == -1 ||
	    dup2(log_fd, STDERR_FILENO) == -1)
		_exit(1);
	close(null_fd);
	close(log_fd);
	n = snprintf(buf, sizeof buf, "%ld\n", (long)self);
	if (ftruncate(pid_fd, 0) == -1 ||
	    pwrite(pid_fd, buf, (size_t)n, 0) != n)
		_exit(1);
	/* The lock lives as long as this descriptor: keep it, unseen. */
	if (write(report_fd, &self, sizeof self) != sizeof self)
		_exit(1);
	close(report_fd);
}

int
daemon_start(const char *pidfile, const char *logfile, pid_t *pid,
    struct error *err)
{
	int pid_fd, log_fd, report[2], status;
	pid_t child;
	ssize_t n;

	pid_fd = daemon_open_own(pidfile, O_RDWR | O_CREAT, "pidfile", err);
	if (pid_fd == -1)
		return -1;
	if (flock(pid_fd, LOCK_EX | LOCK_NB) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "this tunnel already runs "
		    "(pid %ld holds %s); stop it first",
		    (long)daemon_read_pid(pid_fd), pidfile);
		close(pid_fd);
		return -1;
	}
	log_fd = daemon_open_own(logfile, O_WRONLY | O_CREAT | O_APPEND,
	    "log file", err);
	if (log_fd == -1) {
		close(pid_fd);
		return -1;
	}
	/* The log is the daemon's stderr: writes to it may block. */
	if (fcntl(log_fd, F_SETFL, O_APPEND) == -1 ||
	    pipe2(report, O_CLOEXEC) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "log file %s: %s", logfile,
		    strerror(errno));
		close(log_fd);
		close(pid_fd);
		return -1;
	}
	child = fork();
	if (child == 0) {
		close(report[0]);
		if (setsid() == -1)
			_exit(1);
		child = fork();
		if (child != 0)
			_exit(child == -1 ? 1 : 0);
		daemon_become(pid_fd, log_fd, report[1]);
		return 0;
	}
	close(report[1]);
	close(log_fd);
	if (child == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "fork: %s",
		    strerror(errno));
		close(report[0]);
		close(pid_fd);
		return -1;
	}
	waitpid(child, &status, 0);
	n = read(report[0], pid, sizeof *pid);
	close(report[0]);
	close(pid_fd);
	if (n != sizeof *pid) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "the background process did not start; see %s", logfile);
		return -1;
	}
	return 1;
}

int
daemon_stop(const char *pidfile, int timeout_s, struct error *err)
{
	struct timespec pause = { 0, 50L * 1000 * 1000 };
	pid_t pid;
	int i, held;

	held = daemon_holder(pidfile, &pid, err);
	if (held <= 0)
		return held;
	if (daemon_check_process(pid, err) == -1)
		return -1;
	if (kill(pid, SIGTERM) == -1 && errno != ESRCH) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot stop pid %ld: %s",
		    (long)pid, strerror(errno));
		return -1;
	}
	for (i = 0; i < timeout_s * 20; i++) {
		if (daemon_running_pid(pidfile) == 0)
			return 0;
		nanosleep(&pause, NULL);
	}
	error_set(err, TETHER_EXIT_FAILURE, "pid %ld did not stop within %d s",
	    (long)pid, timeout_s);
	return -1;
}
