/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether bastion-status, run on the bastion: every port sshd holds for a
 * remote forward (a listening socket of an sshd session process, not the
 * daemon's own listener), the account that holds it, since when, and
 * whether it answers (a TCP connect and a read: an SSH banner, other
 * bytes, a close, or nothing). Read from /proc: other accounts' processes
 * need root to be seen, and that is said, not guessed.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tether/exit.h"
#include "cli.h"
#include "cmd.h"

#define BS_PORTS_MAX 4096
#define BS_TIMEOUT_MS 2000

struct bs_port {
	char addr[INET6_ADDRSTRLEN];
	int port;
	int family;
	unsigned long inode;
	long uid;     /* the socket's owner */
	long pid;     /* the sshd session holding it; 0 = not seen */
	time_t since; /* that process's start; 0 = unknown */
	const char
	    *answer; /* ssh banner, answers, closed, no answer, refused */
};

struct bs_scan {
	struct bs_port ports[BS_PORTS_MAX];
	size_t n;
	int hidden; /* sshd sessions whose sockets could not be read */
	int unread; /* listening sockets past BS_PORTS_MAX */
};

enum bs_opt {
	B_JSON = 1,
	B_METRICS,
	B_HELP,
};

static const struct cli_option bs_options[] = {
	{ B_JSON, 0, "json", NULL, "print JSON" },
	{ B_METRICS, 0, "metrics", NULL, "print Prometheus's text format" },
	{ B_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_bastion_status_help(void)
{
	printf(
	    "usage: tether bastion-status [--json | --metrics]\n\n"
	    "On the bastion: every port sshd holds for a remote forward, "
	    "the account that\nholds it, since when, and whether it answers "
	    "(an SSH banner from the\nworkstation behind it, other bytes, "
	    "a close, or nothing within 2 s).\nNo tether tunnel is needed "
	    "here. Only root can read sshd's sessions (not even\ntheir own "
	    "account can); otherwise it says how many it could not read.\n\n");
	cli_print_options(stdout, bs_options);
}

/* A whole hexadecimal number, all of text: 0, or -1. */
static int
bs_hex(const char *text, size_t len, unsigned long *out)
{
	char buf[17], *end;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoul(buf, &end, 16);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

/* "0100007F:08AE" (or the IPv6 form) into text and port. */
static int
bs_parse_addr(const char *hex, int family, char *out, size_t sz, int *port)
{
	unsigned char bytes[16];
	unsigned long word, p;
	uint32_t w;
	size_t i, nwords = family == AF_INET ? 1 : 4;
	const char *colon = strchr(hex, ':');

	if (colon == NULL || (size_t)(colon - hex) != nwords * 8)
		return -1;
	for (i = 0; i < nwords; i++) {
		if (bs_hex(hex + i * 8, 8, &word) == -1)
			return -1;
		/* /proc prints each 32-bit word in host (little-endian) order. */
		w = (uint32_t)word;
		memcpy(bytes + i * 4, &w, 4);
	}
	if (bs_hex(colon + 1, strlen(colon + 1), &p) == -1 ||
	    p > SPEC_PORT_MAX ||
	    inet_ntop(family, bytes, out, (socklen_t)sz) == NULL)
		return -1;
	*port = (int)p;
	return 0;
}

/* The whitespace-separated fields of line, at most max; how many. */
static size_t
bs_fields(char *line, char **field, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t\n", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, " \t\n", &save))
		field[n++] = tok;
	return n;
}

/* The LISTEN sockets of /proc/net/tcp or tcp6. */
static void
bs_read_table(struct bs_scan *s, const char *path, int family)
{
	char line[512], *f[12], *end;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return;
	/* sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ... */
	while (fgets(line, sizeof line, fp) != NULL) {
		struct bs_port *p = &s->ports[s->n];

		if (bs_fields(line, f, 12) < 10 || strcmp(f[3], "0A") != 0)
			continue;
		if (s->n == BS_PORTS_MAX) {
			s->unread++;
			continue;
		}
		memset(p, 0, sizeof *p);
		if (bs_parse_addr(f[1], family, p->addr, sizeof p->addr,
		        &p->port) == -1)
			continue;
		p->uid = strtol(f[7], &end, 10);
		if (*end != '\0')
			continue;
		p->inode = strtoul(f[9], &end, 10);
		if (*end != '\0')
			continue;
		p->family = family;
		s->n++;
	}
	fclose(fp);
}

/* A process's comm is sshd and it is not the daemon's [listener]. */
static int
bs_is_session(long pid, time_t *since)
{
	char path[64], buf[512], *f[20];
	unsigned long long start;
	ssize_t n;
	int fd;
	char *p;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (strncmp(buf, "sshd", 4) != 0 || strstr(buf, "[listener]") != NULL)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* starttime is field 22; the fields after the name's ")" start at 3. */
	if ((p = strrchr(buf, ')')) != NULL && bs_fields(p + 1, f, 20) == 20) {
		struct timespec up;
		char *end;

		start = strtoull(f[19], &end, 10);
		clock_gettime(CLOCK_BOOTTIME, &up);
		if (*end == '\0')
			*since = time(NULL) - up.tv_sec +
			    (time_t)(start /
			        (unsigned long long)sysconf(_SC_CLK_TCK));
	}
	return 1;
}

/* Which sshd session holds each socket: its fds name the inode. */
static void
bs_find_holders(struct bs_scan *s)
{
	char path[64], link[64];
	struct dirent *pe, *fe;
	DIR *proc, *fds;
	unsigned long inode;
	size_t i;
	long pid;
	time_t since;

	if ((proc = opendir("/proc")) == NULL)
		return;
	while ((pe = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = strtol(pe->d_name, NULL, 10);
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		if ((fds = opendir(path)) == NULL) {
			since = 0;
			if (bs_is_session(pid, &since))
				s->hidden++;
			continue;
		}
		while ((fe = readdir(fds)) != NULL) {
			snprintf(path, sizeof path, "/proc/%ld/fd/%.16s", pid,
			    fe->d_name);
			ssize_t n = readlink(path, link, sizeof link - 1);

			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strncmp(link, "socket:[", 8) != 0)
				continue;
			inode = strtoul(link + 8, NULL, 10);
			for (i = 0; i < s->n; i++) {
				since = 0;
				if (s->ports[i].inode == inode &&
				    bs_is_session(pid, &since)) {
					s->ports[i].pid = pid;
					s->ports[i].since = since;
				}
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* Keeps the ports an sshd session holds. */
static void
bs_keep_forwards(struct bs_scan *s)
{
	size_t i, kept = 0;

	for (i = 0; i < s->n; i++)
		if (s->ports[i].pid > 0)
			s->ports[kept++] = s->ports[i];
	s->n = kept;
}

/* Where to ask: a wildcard listener also listens on loopback. */
static socklen_t
bs_address(const struct bs_port *p, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof *sa);
	if (p->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p->port);
		inet_pton(AF_INET,
		    strcmp(p->addr, "0.0.0.0") == 0 ? "127.0.0.1" : p->addr,
		    &in->sin_addr);
		return sizeof *in;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)p->port);
	inet_pton(AF_INET6, strcmp(p->addr, "::") == 0 ? "::1" : p->addr,
	    &in6->sin6_addr);
	return sizeof *in6;
}

/*
 * One port being asked what a client would see: connecting, then reading
 * the first bytes, each step with its own deadline. Every port is asked at
 * once, so forty silent workstations cost one wait, not forty.
 */
struct bs_asking {
	int fd; /* -1 once the answer is known */
	int connected;
	long long deadline_ms;
	char banner[4];
	size_t got;
};

static long long
bs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
bs_answered(struct bs_asking *q, struct bs_port *p, const char *answer)
{
	close(q->fd);
	q->fd = -1;
	p->answer = answer;
}

static void
bs_ask(struct bs_asking *q, struct bs_port *p)
{
	struct sockaddr_storage sa;
	socklen_t len = bs_address(p, &sa);

	memset(q, 0, sizeof *q);
	q->deadline_ms = bs_now_ms() + BS_TIMEOUT_MS;
	q->fd = socket(p->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (q->fd == -1)
		p->answer = "no answer";
	else if (connect(q->fd, (struct sockaddr *)&sa, len) == -1 &&
	    errno != EINPROGRESS)
		bs_answered(q, p, "refused");
}

/* A connect finished, or bytes (or the close) came. */
static void
bs_ask_step(struct bs_asking *q, struct bs_port *p, short revents)
{
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (!q->connected) {
		getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			bs_answered(q, p, "refused");
			return;
		}
		q->connected = 1;
		q->deadline_ms = bs_now_ms() + BS_TIMEOUT_MS;
		return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return;
	n = read(q->fd, q->banner + q->got, sizeof q->banner - q->got);
	if (n <= 0) {
		bs_answered(q, p, q->got == 0 ? "closed" : "answers");
		return;
	}
	q->got += (size_t)n;
	if (memcmp(q->banner, "SSH-", q->got) != 0)
		bs_answered(q, p, "answers");
	else if (q->got == sizeof q->banner)
		bs_answered(q, p, "ssh banner");
}

/* Asks every port at once; -1 if there is no memory for it. */
static int
bs_probe_all(struct bs_scan *s)
{
	struct bs_asking *qs;
	struct pollfd *pfds;
	size_t i, open, *which;
	long long wait, now;

	if (s->n == 0)
		return 0;
	qs = calloc(s->n, sizeof *qs);
	pfds = calloc(s->n, sizeof *pfds);
	which = calloc(s->n, sizeof *which);
	if (qs == NULL || pfds == NULL || which == NULL) {
		free(qs);
		free(pfds);
		free(which);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		bs_ask(&qs[i], &s->ports[i]);
	for (;;) {
		now = bs_now_ms();
		wait = BS_TIMEOUT_MS;
		for (i = 0, open = 0; i < s->n; i++) {
			if (qs[i].fd != -1 && qs[i].deadline_ms <= now)
				bs_answered(&qs[i], &s->ports[i],
				    qs[i].got > 0 ? "answers" : "no answer");
			if (qs[i].fd == -1)
				continue;
			if (qs[i].deadline_ms - now < wait)
				wait = qs[i].deadline_ms - now;
			pfds[open].fd = qs[i].fd;
			pfds[open].events = qs[i].connected ? POLLIN : POLLOUT;
			which[open++] = i;
		}
		if (open == 0 ||
		    (poll(pfds, open, (int)wait) == -1 && errno != EINTR))
			break;
		for (i = 0; i < open; i++)
			if (pfds[i].revents != 0)
				bs_ask_step(&qs[which[i]], &s->ports[which[i]],
				    pfds[i].revents);
	}
	for (i = 0; i < s->n; i++)
		if (qs[i].fd != -1)
			bs_answered(&qs[i], &s->ports[i], "no answer");
	free(qs);
	free(pfds);
	free(which);
	return 0;
}

static void
bs_account(long uid, char *out, size_t sz)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 &&
	    res != NULL)
		snprintf(out, sz, "%s", pw.pw_name);
	else
		snprintf(out, sz, "%ld", uid);
}

static void
bs_time(time_t t, char *out, size_t sz)
{
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, sz, "-");
	else
		strftime(out, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
bs_print_table(const struct bs_scan *s)
{
	char account[64], since[32];
	size_t i;

	printf("%-6s %-16s %-12s %-21s %s\n", "PORT", "ADDRESS", "ACCOUNT",
	    "SINCE", "ANSWER");
	for (i = 0; i < s->n; i++) {
		bs_account(s->ports[i].uid, account, sizeof account);
		bs_time(s->ports[i].since, since, sizeof since);
		printf("%-6d %-16s %-12s %-21s %s\n", s->ports[i].port,
		    s->ports[i].addr, account, since, s->ports[i].answer);
	}
}

static int
bs_print_json(const struct bs_scan *s)
{
	char account[64], since[32], *text;
	json_t *list = json_array(), *doc;
	size_t i;

	for (i = 0; list != NULL && i < s->n; i++) {
		bs_account(s->ports[i].uid, account, sizeof account);
		bs_time(s->ports[i].since, since, sizeof since);
		json_array_append_new(list,
		    json_pack("{s:i, s:s, s:s, s:I, s:s, s:s}", "port",
		        s->ports[i].port, "address", s->ports[i].addr,
		        "account", account, "pid", (json_int_t)s->ports[i].pid,
		        "since", since, "answer", s->ports[i].answer));
	}
	doc = json_pack("{s:o, s:i, s:b}", "ports", list, "not_seen", s->hidden,
	    "complete", geteuid() == 0);
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (text == NULL)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

static void
bs_print_metrics(const struct bs_scan *s)
{
	char account[64];
	size_t i;

	printf("# HELP tether_bastion_port_answers 1 when a forwarded port "
	       "answers (a banner or bytes), else 0.\n"
	       "# TYPE tether_bastion_port_answers gauge\n");
	for (i = 0; i < s->n; i++) {
		bs_account(s->ports[i].uid, account, sizeof account);
		printf(
		    "tether_bastion_port_answers{port=\"%d\",account=\"%s\"} "
		    "%d\n",
		    s->ports[i].port, account,
		    strcmp(s->ports[i].answer, "ssh banner") == 0 ||
		        strcmp(s->ports[i].answer, "answers") == 0);
	}
	printf("# HELP tether_bastion_port_since_seconds Unix time the sshd "
	       "session holding the port began.\n"
	       "# TYPE tether_bastion_port_since_seconds gauge\n");
	for (i = 0; i < s->n; i++) {
		if (s->ports[i].since <= 0)
			continue;
		bs_account(s->ports[i].uid, account, sizeof account);
		printf("tether_bastion_port_since_seconds{port=\"%d\",account="
		       "\"%s\"} %lld\n",
		    s->ports[i].port, account, (long long)s->ports[i].since);
	}
}

static int
bs_apply(int id, const char *arg, void *ctx)
{
	int *format = ctx;

	(void)arg;
	if (*format != 0 && *format != id) {
		fprintf(stderr,
		    "tether: bastion-status: give --json or --metrics, not "
		    "both\n");
		return -1;
	}
	*format = id;
	return 0;
}

static int
cmd_bastion_status(int argc, char **argv)
{
	struct bs_scan *s;
	int format = 0, rc;

	if (cli_parse_verb(argc, argv, bs_options, B_HELP, bs_apply, &format,
	        cmd_bastion_status_help, &rc))
		return rc;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		fprintf(stderr, "tether: out of memory\n");
		return TETHER_EXIT_FAILURE;
	}
	bs_read_table(s, "/proc/net/tcp", AF_INET);
	bs_read_table(s, "/proc/net/tcp6", AF_INET6);
	bs_find_holders(s);
	bs_keep_forwards(s);
	if (bs_probe_all(s) == -1) {
		fprintf(stderr, "tether: out of memory\n");
		free(s);
		return TETHER_EXIT_FAILURE;
	}
	rc = TETHER_EXIT_OK;
	if (format == B_JSON)
		rc = bs_print_json(s) == -1 ? TETHER_EXIT_FAILURE : rc;
	else if (format == B_METRICS)
		bs_print_metrics(s);
	else
		bs_print_table(s);
	if (s->unread > 0)
		fprintf(stderr,
		    "tether: %d more listening socket(s) past the first %d were "
		    "not looked at\n",
		    s->unread, BS_PORTS_MAX);
	if (s->hidden > 0)
		fprintf(stderr,
		    "tether: %d sshd session(s) could not be read (sshd keeps "
		    "them from all but root, even from their own account): "
		    "their ports are not listed; run as root to see them\n",
		    s->hidden);
	free(s);
	return rc;
}

const struct cmd_entry cmd_bastion_status_entry = {
	.name = "bastion-status",
	.summary = "on the bastion: every forwarded port, who holds it, "
	           "whether it answers",
	.exec = cmd_bastion_status,
	.help = cmd_bastion_status_help,
};
