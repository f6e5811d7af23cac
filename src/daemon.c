#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tether/exit.h"
#include "daemon.h"

static pid_t
daemon_read_pid(int fd)
{
	char buf[32];
	ssize_t n;

	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

pid_t
daemon_running_pid(const char *pidfile)
{
	pid_t pid = 0;
	int fd;

	fd = open(pidfile, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	/* A lock we can take means nobody holds it: the file is stale. */
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK)
		pid = daemon_read_pid(fd);
	close(fd);
	return pid;
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

	pid_fd = open(pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pid_fd == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "pidfile %s: %s", pidfile,
		    strerror(errno));
		return -1;
	}
	if (flock(pid_fd, LOCK_EX | LOCK_NB) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "this tunnel already runs "
		    "(pid %ld holds %s); stop it first",
		    (long)daemon_read_pid(pid_fd), pidfile);
		close(pid_fd);
		return -1;
	}
	log_fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd == -1 || pipe2(report, O_CLOEXEC) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "log file %s: %s", logfile,
		    strerror(errno));
		if (log_fd != -1)
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
		    "the background process did "
		    "not start; see %s",
		    logfile);
		return -1;
	}
	return 1;
}

int
daemon_stop(const char *pidfile, int timeout_s, struct error *err)
{
	struct timespec pause = { 0, 50L * 1000 * 1000 };
	pid_t pid = daemon_running_pid(pidfile);
	int i;

	if (pid <= 0)
		return 0;
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
