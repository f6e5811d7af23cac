/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"

void
bytebuf_init(struct bytebuf *b, size_t cap)
{
	b->data = NULL;
	b->off = b->len = 0;
	b->cap = cap;
}

void
bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	bytebuf_init(b, b->cap);
}

size_t
bytebuf_space(const struct bytebuf *b)
{
	return b->cap - b->len;
}

unsigned char *
bytebuf_tail(struct bytebuf *b)
{
	if (b->data == NULL && (b->data = malloc(b->cap)) == NULL)
		return NULL;
	/* Move the unsent bytes down so all free space is contiguous. */
	if (b->off != 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	return b->data + b->len;
}

void
bytebuf_commit(struct bytebuf *b, size_t n)
{
	b->len += n;
}

size_t
bytebuf_append(struct bytebuf *b, const void *src, size_t n)
{
	unsigned char *tail;

	if (n > bytebuf_space(b))
		n = bytebuf_space(b);
	if (n == 0 || (tail = bytebuf_tail(b)) == NULL)
		return 0;
	memcpy(tail, src, n);
	bytebuf_commit(b, n);
	return n;
}

void
bytebuf_consume(struct bytebuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}
