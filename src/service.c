/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

static double
service_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
service_exec_child(char *const argv[], int out_fd)
{
	int null_fd = open("/dev/null", O_RDONLY);

	if (null_fd != -1)
		dup2(null_fd, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Collects the child's output until EOF or the deadline. */
static int
service_collect(int fd, char *out, size_t outsz, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	char sink[512];
	ssize_t n;
	int wait_ms;

	for (;;) {
		wait_ms = (int)((deadline - service_now()) * 1000);
		if (wait_ms <= 0)
			return -1;
		if (poll(&pfd, 1, wait_ms) <= 0)
			continue;
		if (len + 1 < outsz)
			n = read(fd, out + len, outsz - 1 - len);
		else
			n = read(fd, sink, sizeof sink);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < outsz)
			len += (size_t)n;
	}
	if (outsz > 0)
		out[len] = '\0';
	return 0;
}

int
service_exec(char *const argv[], char *out, size_t outsz, int timeout_s)
{
	int pipefd[2], status, timed_out;
	char dummy[1];
	pid_t pid;

	if (out == NULL || outsz == 0) {
		out = dummy;
		outsz = sizeof dummy;
	}
	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return -1;
	pid = fork();
	if (pid == -1) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		service_exec_child(argv, pipefd[1]);
	}
	close(pipefd[1]);
	timed_out = service_collect(pipefd[0], out, outsz,
	                service_now() + timeout_s) == -1;
	close(pipefd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	if (timed_out)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
service_systemd_running(enum tether_mode mode)
{
	const char *xdg;
	char path[512];
	struct stat st;

	if (mode == TETHER_MODE_SYSTEM)
		return stat("/run/systemd/system", &st) == 0 &&
		    S_ISDIR(st.st_mode);
	/* systemctl --user reaches the manager through this socket. */
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg == NULL || xdg[0] != '/')
		return 0;
	snprintf(path, sizeof path, "%s/systemd/private", xdg);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void
service_copy_value(char *dst, size_t sz, const char *v, size_t len)
{
	if (len >= sz)
		len = sz - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

void
service_parse_props(const char *text, struct unit_props *p)
{
	const char *line = text, *eq, *nl;
	size_t klen, vlen;

	memset(p, 0, sizeof *p);
	while (*line != '\0') {
		nl = strchr(line, '\n');
		vlen = nl != NULL ? (size_t)(nl - line) : strlen(line);
		eq = memchr(line, '=', vlen);
		if (eq != NULL) {
			klen = (size_t)(eq - line);
			vlen -= klen + 1;
			eq++;
#define PROP_IS(name) \
	(klen == sizeof(name) - 1 && strncmp(line, name, klen) == 0)
			if (PROP_IS("ActiveState"))
				service_copy_value(p->active_state,
				    sizeof p->active_state, eq, vlen);
			else if (PROP_IS("SubState"))
				service_copy_value(p->sub_state,
				    sizeof p->sub_state, eq, vlen);
			else if (PROP_IS("UnitFileState"))
				service_copy_value(p->unit_file_state,
				    sizeof p->unit_file_state, eq, vlen);
			else if (PROP_IS("StatusText"))
				service_copy_value(p->status_text,
				    sizeof p->status_text, eq, vlen);
			else if (PROP_IS("MainPID"))
				p->main_pid = strtol(eq, NULL, 10);
			else if (PROP_IS("NRestarts"))
				p->restarts = strtoul(eq, NULL, 10);
			else if (PROP_IS("Result"))
				service_copy_value(p->result, sizeof p->result,
				    eq, vlen);
			else if (PROP_IS("ExecMainStatus"))
				p->exec_main_status = (int)strtol(eq, NULL, 10);
#undef PROP_IS
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

int
service_unit_props(enum tether_mode mode, const char *unit,
    struct unit_props *p)
{
	static const char props[] =
	    "--property=ActiveState,SubState,"
	    "UnitFileState,StatusText,MainPID,NRestarts,Result,ExecMainStatus";
	char out[SERVICE_OUTPUT_MAX];
	char *argv[] = { "systemctl", "--user", "show", (char *)props, "--",
		(char *)unit, NULL };
	char **args = mode == TETHER_MODE_USER ? argv : argv + 1;

	if (mode != TETHER_MODE_USER)
		args[0] = "systemctl";
	if (service_exec(args, out, sizeof out, 10) != 0) {
		memset(p, 0, sizeof *p);
		return -1;
	}
	service_parse_props(out, p);
	return 0;
}

void
service_unit_name(int port, char *out, size_t sz)
{
	snprintf(out, sz, "tether@%d.service", port);
}

const char *
service_find_template(enum tether_mode mode, const struct tether_paths *p,
    char *buf, size_t sz)
{
	static const char *const system_dirs[] = { "/etc/systemd/system",
		"/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
		"/lib/systemd/system", NULL };
	static const char *const user_dirs[] = { "/etc/systemd/user",
		"/usr/local/lib/systemd/user", "/usr/lib/systemd/user", NULL };
	const char *const *dirs = mode == TETHER_MODE_SYSTEM ? system_dirs :
	                                                       user_dirs;
	size_t i;

	snprintf(buf, sz, "%s/tether@.service", p->unit_dir);
	if (access(buf, F_OK) == 0)
		return buf;
	for (i = 0; dirs[i] != NULL; i++) {
		snprintf(buf, sz, "%s/tether@.service", dirs[i]);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	return NULL;
}

int
service_systemctl_argv(enum tether_mode mode, const char **argv)
{
	argv[0] = "systemctl";
	if (mode == TETHER_MODE_USER) {
		argv[1] = "--user";
		return 2;
	}
	return 1;
}
