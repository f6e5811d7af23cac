/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "spec.h"

#define SPEC_FIELDS_MAX 5

int
spec_parse_port(const char *s, int min, int *port)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > SPEC_PORT_MAX)
		return -1;
	*port = (int)v;
	return 0;
}

int
spec_host_is_valid(const char *h)
{
	size_t n = strlen(h);

	/* A leading '-' would read as an option to anything we hand it to. */
	if (n == 0 || n >= SPEC_HOST_MAX - 2 || h[0] == '-')
		return 0;
	for (; *h != '\0'; h++) {
		if (!isalnum((unsigned char)*h) && strchr(".-_:%", *h) == NULL)
			return 0;
	}
	return 1;
}

int
spec_user_is_valid(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n >= SPEC_USER_MAX || u[0] == '-')
		return 0;
	for (; *u != '\0'; u++) {
		if (!isalnum((unsigned char)*u) && strchr("._-", *u) == NULL)
			return 0;
	}
	return 1;
}

/*
 * Splits s at ':' outside brackets into at most max fields, copied into buf
 * (brackets removed). Returns the number of fields, -1 if malformed.
 */
static int
spec_split(const char *s, char *buf, size_t bufsz, char *fields[], int max)
{
	int n = 0, in_brackets = 0;
	char *out = buf, *end = buf + bufsz - 1;

	if (strlen(s) >= bufsz)
		return -1;
	fields[n++] = out;
	for (; *s != '\0'; s++) {
		if (*s == '[' && !in_brackets && out == fields[n - 1]) {
			in_brackets = 1;
		} else if (*s == ']' && in_brackets) {
			in_brackets = 0;
			if (s[1] != '\0' && s[1] != ':')
				return -1;
		} else if (*s == ':' && !in_brackets) {
			if (n == max || out >= end)
				return -1;
			*out++ = '\0';
			fields[n++] = out;
		} else if (*s == '[' || *s == ']') {
			return -1;
		} else {
			if (out >= end)
				return -1;
			*out++ = *s;
		}
	}
	if (in_brackets)
		return -1;
	*out = '\0';
	return n;
}

/* An address inet_pton takes, with an optional "%zone" after it. */
static int
spec_is_ipv6(const char *h)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t n = strcspn(h, "%");

	if (n >= sizeof addr)
		return 0;
	memcpy(addr, h, n);
	addr[n] = '\0';
	return inet_pton(AF_INET6, addr, &a) == 1;
}

int
spec_parse_bastion(const char *s, struct bastion_spec *b, struct error *err)
{
	char buf[SPEC_USER_MAX + SPEC_HOST_MAX + 16], *fields[2];
	const char *at, *hostpart = s;
	int n;

	memset(b, 0, sizeof *b);
	b->port = 22;
	at = strrchr(s, '@');
	if (at != NULL) {
		size_t ulen = (size_t)(at - s);

		if (ulen == 0 || ulen >= sizeof b->user) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "bastion '%.128s': the "
			    "user before '@' must be 1 to %d characters",
			    s, SPEC_USER_MAX - 1);
			return -1;
		}
		memcpy(b->user, s, ulen);
		b->user[ulen] = '\0';
		if (!spec_user_is_valid(b->user)) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "bastion '%.128s': user "
			    "'%s' may hold only letters, digits, '.', '_' and "
			    "'-' and may not start with '-'",
			    s, b->user);
			return -1;
		}
		hostpart = at + 1;
	}
	/* An unbracketed IPv6 address has several colons and no port. */
	if (hostpart[0] != '[' &&
	    strchr(hostpart, ':') != strrchr(hostpart, ':')) {
		if (!spec_host_is_valid(hostpart) || !spec_is_ipv6(hostpart)) {
			error_set(err, TETHER_EXIT_CONFIG,
			    "bastion '%.128s': "
			    "'%.128s' is not an IPv6 address; write "
			    "host:port or [IPv6]:port",
			    s, hostpart);
			return -1;
		}
		snprintf(b->host, sizeof b->host, "%s", hostpart);
		return 0;
	}
	n = spec_split(hostpart, buf, sizeof buf, fields, 2);
	if (n < 1 || !spec_host_is_valid(fields[0])) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "bastion '%.128s': expected "
		    "[user@]host[:port] with a host of letters, digits, '.', '-' "
		    "(IPv6 in brackets)",
		    s);
		return -1;
	}
	snprintf(b->host, sizeof b->host, "%s", fields[0]);
	if (n == 2 && spec_parse_port(fields[1], 1, &b->port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "bastion '%.128s': ssh port "
		    "'%.128s' is not a number from 1 to 65535",
		    s, fields[1]);
		return -1;
	}
	return 0;
}

static int
spec_set_host(char *dst, const char *src, const char *what, const char *spec,
    struct error *err)
{
	if (!spec_host_is_valid(src)) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "forward '%.128s': %s '%.128s' "
		    "is not a host name or address",
		    spec, what, src);
		return -1;
	}
	snprintf(dst, SPEC_HOST_MAX, "%s", src);
	return 0;
}

int
spec_parse_forward(const char *s, struct forward_spec *f, struct error *err)
{
	char buf[3 * SPEC_HOST_MAX], *fields[SPEC_FIELDS_MAX];
	int n, i = 0;

	memset(f, 0, sizeof *f);
	n = spec_split(s, buf, sizeof buf, fields, SPEC_FIELDS_MAX);
	if (n != 3 && n != 4) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "forward '%.128s': expected "
		    "[bind:]PORT:HOST:HOSTPORT, e.g. 2222:localhost:22",
		    s);
		return -1;
	}
	if (n == 4) {
		if (fields[0][0] == '\0' || strcmp(fields[0], "*") == 0)
			snprintf(f->bind, sizeof f->bind, "*");
		else if (spec_set_host(f->bind, fields[0], "bind address", s,
		             err) == -1)
			return -1;
		i = 1;
	}
	if (spec_parse_port(fields[i], 0, &f->port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "forward '%.128s': remote "
		    "port '%.128s' is not a number from 0 to 65535",
		    s, fields[i]);
		return -1;
	}
	if (spec_set_host(f->host, fields[i + 1], "target host", s, err) == -1)
		return -1;
	if (spec_parse_port(fields[i + 2], 1, &f->host_port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "forward '%.128s': target "
		    "port '%.128s' is not a number from 1 to 65535",
		    s, fields[i + 2]);
		return -1;
	}
	return 0;
}

int
spec_parse_target(const char *s, char *host, int *port, struct error *err)
{
	char buf[SPEC_HOST_MAX + 8], *fields[2];
	int n;

	n = spec_split(s, buf, sizeof buf, fields, 2);
	if (n == 1 && spec_parse_port(fields[0], 1, port) == 0) {
		snprintf(host, SPEC_HOST_MAX, "localhost");
		return 0;
	}
	if (n != 2 || !spec_host_is_valid(fields[0]) ||
	    spec_parse_port(fields[1], 1, port) == -1) {
		error_set(err, TETHER_EXIT_CONFIG,
		    "target '%.128s': expected "
		    "HOST:PORT with a port from 1 to 65535, e.g. localhost:22",
		    s);
		return -1;
	}
	snprintf(host, SPEC_HOST_MAX, "%s", fields[0]);
	return 0;
}

static void
spec_format_host(char *out, size_t sz, const char *host)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, sz, "[%s]", host);
	else
		snprintf(out, sz, "%s", host);
}

void
spec_format_forward(const struct forward_spec *f, char *out, size_t sz)
{
	char bind[SPEC_HOST_MAX + 3], host[SPEC_HOST_MAX + 3];

	spec_format_host(host, sizeof host, f->host);
	if (f->bind[0] == '\0') {
		snprintf(out, sz, "%d:%s:%d", f->port, host, f->host_port);
		return;
	}
	spec_format_host(bind, sizeof bind, f->bind);
	snprintf(out, sz, "%s:%d:%s:%d", bind, f->port, host, f->host_port);
}
