/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * notify_listen: a stand-in for systemd's notification socket, for the
 * integration tests. Binds a unix datagram socket and prints each datagram
 * it receives as one line, then exits after a deadline.
 *
 *   notify_listen [-t] PATH SECONDS
 *
 * PATH is a file path, or "@name" for an abstract socket (as in
 * $NOTIFY_SOCKET). An existing socket file at PATH is replaced. Once bound it
 * prints "listening PATH"; then one line per datagram, with '\n' written as
 * "\n", '\' as "\\" and other control bytes as "\xHH", so a datagram is
 * always exactly one line. -t prefixes each datagram line with the seconds
 * since the socket was bound ("1.234 WATCHDOG=1"). stdout is flushed after
 * every line. Exits 0 after SECONDS (or on SIGTERM/SIGINT), removing the
 * socket file; 2 on usage errors, 4 on system errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
print_escaped(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	socklen_t len;
	unsigned char buf[65536];
	const char *path;
	double seconds, start, end, left;
	char *endp;
	int stamp = 0, fd, abstract;
	size_t plen;
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		stamp = 1;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: notify_listen [-t] PATH|@NAME SECONDS\n");
		return 2;
	}
	path = argv[1];
	seconds = strtod(argv[2], &endp);
	if (*endp != '\0' || !(seconds > 0)) {
		fprintf(stderr, "notify_listen: bad SECONDS '%s'\n", argv[2]);
		return 2;
	}
	plen = strlen(path);
	if (plen == 0 || plen >= sizeof sun.sun_path) {
		fprintf(stderr, "notify_listen: path too long or empty\n");
		return 2;
	}
	abstract = path[0] == '@';

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (abstract)
		sun.sun_path[0] = '\0';
	else
		unlink(path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, len) == -1) {
		fprintf(stderr, "notify_listen: bind %s: %s\n", path,
		    strerror(errno));
		return 4;
	}
	start = now();
	end = start + seconds;
	printf("listening %s\n", path);
	fflush(stdout);

	while (!stop && (left = end - now()) > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int rc = poll(&pfd, 1, (int)(left * 1000) + 1);

		if (rc == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notify_listen: poll: %s\n", strerror(errno));
			break;
		}
		if (rc == 0)
			continue;
		n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "notify_listen: recv: %s\n", strerror(errno));
			break;
		}
		if (stamp)
			printf("%.3f ", now() - start);
		print_escaped(buf, (size_t)n);
		putchar('\n');
		fflush(stdout);
	}
	close(fd);
	if (!abstract)
		unlink(path);
	return 0;
}
