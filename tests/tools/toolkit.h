/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * toolkit.h: what the traffic helpers of the tests (netload, benchnet)
 * share: exit codes, one deadline for the whole run, loopback sockets and
 * number parsing. Header only, every function static inline: each tool is
 * one .c file, built on its own (by CMake, or by lab_find_tool).
 *
 * A tool defines TOOL_NAME ("netload") before including this, and starts
 * main with tool_start(), which takes "[-d SECONDS] COMMAND ARGS...".
 */
#ifndef TESTS_TOOLKIT_H
#define TESTS_TOOLKIT_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

enum {
	EXIT_CHECK = 1,
	EXIT_USAGE = 2,
	EXIT_DEADLINE = 3,
	EXIT_SYSTEM = 4,
};

#define TOOL_DEADLINE_MAX 86400

static double deadline_seconds = 120;
static double deadline_at; /* CLOCK_MONOTONIC */
static const char *cmd_name = TOOL_NAME;

static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
die_sys(const char *what)
{
	fprintf(stderr, TOOL_NAME " %s: %s: %s\n", cmd_name, what,
	    strerror(errno));
	exit(EXIT_SYSTEM);
}

/* Milliseconds poll() may sleep: at most max_ms (-1: no cap), never past
 * the deadline. */
static inline int
wait_ms(int max_ms)
{
	double left = (deadline_at - now()) * 1000.0;

	if (left < 0)
		left = 0;
	if (max_ms >= 0 && left > max_ms)
		left = max_ms;
	return (int)left + 1;
}

static inline int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static inline int
parse_port(const char *s)
{
	long v;

	if (parse_long(s, 1, 65535, &v) == -1) {
		fprintf(stderr, TOOL_NAME " %s: '%s' is not a port from 1 to "
		    "65535\n", cmd_name, s);
		exit(EXIT_USAGE);
	}
	return (int)v;
}

static inline void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die_sys("fcntl");
}

static inline struct sockaddr_in
loopback(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* A non-blocking listener on 127.0.0.1:port. */
static inline int
listen_on(int port, int backlog)
{
	struct sockaddr_in sin = loopback(port);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die_sys("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		die_sys("setsockopt SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		die_sys("bind 127.0.0.1");
	if (listen(fd, backlog) == -1)
		die_sys("listen");
	set_nonblock(fd);
	return fd;
}

static inline void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static inline int
tool_parse_deadline(const char *what, const char *s)
{
	long v;

	if (parse_long(s, 1, TOOL_DEADLINE_MAX, &v) == -1) {
		fprintf(stderr, TOOL_NAME ": %s '%s' is not 1 to %d seconds\n",
		    what, s, TOOL_DEADLINE_MAX);
		return -1;
	}
	deadline_seconds = (double)v;
	return 0;
}

/*
 * Takes "[-d SECONDS] COMMAND ARGS..." (the deadline also from the
 * environment variable env_name), starts the deadline and names the
 * command; leaves argv at COMMAND. Returns -1 after a usage error.
 */
static inline int
tool_start(int *argc, char ***argv, const char *env_name)
{
	const char *env = getenv(env_name);

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (env != NULL && env[0] != '\0' &&
	    tool_parse_deadline(env_name, env) == -1)
		return -1;
	(*argc)--;
	(*argv)++;
	if (*argc >= 2 && strcmp((*argv)[0], "-d") == 0) {
		if (tool_parse_deadline("-d", (*argv)[1]) == -1)
			return -1;
		*argc -= 2;
		*argv += 2;
	}
	if (*argc < 1)
		return -1;
	deadline_at = now() + deadline_seconds;
	cmd_name = (*argv)[0];
	return 0;
}

#endif
