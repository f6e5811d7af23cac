/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof *sb);
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

static int
strbuf_reserve(struct strbuf *sb, size_t more)
{
	size_t want = sb->len + more + 1, cap = sb->cap ? sb->cap : 256;
	char *p;

	if (sb->failed)
		return -1;
	if (want <= sb->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	p = realloc(sb->data, cap);
	if (p == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}

void
strbuf_add(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (strbuf_reserve(sb, n) == -1)
		return;
	memcpy(sb->data + sb->len, s, n + 1);
	sb->len += n;
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strbuf_reserve(sb, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *
strbuf_take(struct strbuf *sb)
{
	char *s = sb->data;

	if (s == NULL)
		s = calloc(1, 1);
	strbuf_init(sb);
	return s;
}
