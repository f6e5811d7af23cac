/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "proxy.h"

void
proxy_init(struct proxy *p, struct ev_loop *loop, const struct logger *log)
{
	memset(p, 0, sizeof *p);
	p->loop = loop;
	p->log = log;
	p->pid = -1;
	ev_init(&p->err, NULL);
	p->err.fd = -1;
}

static void
proxy_flush_line(struct proxy *p)
{
	if (p->len > 0)
		log_info(p->log, "ProxyCommand: %.*s", (int)p->len, p->line);
	p->len = 0;
}

/* The command's stderr, a line a log line; a line too long is cut. */
static void
proxy_on_stderr(struct ev_loop *loop, ev_io *w, int revents)
{
	struct proxy *p = w->data;
	char buf[512];
	ssize_t n, i;

	n = read(w->fd, buf, sizeof buf);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		proxy_flush_line(p);
		ev_io_stop(loop, w);
		close(w->fd);
		ev_io_set(w, -1, EV_READ);
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || p->len == sizeof p->line)
			proxy_flush_line(p);
		if (buf[i] != '\n')
			p->line[p->len++] = buf[i];
	}
}

/* In the child: the socket as stdin and stdout, the pipe as stderr. */
static void
proxy_exec(const char *command, int sock, int err)
{
	/* Not to outlive tether, whatever kills it; a group of its own, so
	 * that stopping it stops what it started too. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	setpgid(0, 0);
	if (dup2(sock, STDIN_FILENO) == -1 || dup2(sock, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	dprintf(STDERR_FILENO, "cannot run /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

int
proxy_start(struct proxy *p, const char *command, struct error *err)
{
	int sv[2], ep[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "ProxyCommand: %s",
		    strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "ProxyCommand: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "ProxyCommand: fork: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0)
		proxy_exec(command, sv[1], ep[1]);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(sv[1]);
	close(ep[1]);
	p->pid = pid;
	p->len = 0;
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ev_io_init(&p->err, proxy_on_stderr, ep[0], EV_READ);
	p->err.data = p;
	ev_io_start(p->loop, &p->err);
	log_debug(p->log, "ProxyCommand pid %ld: %s", (long)pid, command);
	return sv[0];
}

void
proxy_stop(struct proxy *p)
{
	if (p->err.fd != -1) {
		ev_io_stop(p->loop, &p->err);
		close(p->err.fd);
		ev_io_set(&p->err, -1, EV_READ);
	}
	if (p->pid <= 0)
		return;
	/* Its socket is closed already; a command that ignores that goes,
	 * with whatever it started. */
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
		;
	p->pid = -1;
}
