/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A bounded byte queue: data waiting for a socket that would block. Storage
 * is allocated on first use, so idle connections cost nothing.
 */
#ifndef TETHER_BYTEBUF_H
#define TETHER_BYTEBUF_H

#include <stddef.h>

struct bytebuf {
	unsigned char *data;
	size_t off; /* first unsent byte */
	size_t len; /* unsent bytes from off */
	size_t cap; /* the bound */
};

void bytebuf_init(struct bytebuf *, size_t cap);
void bytebuf_free(struct bytebuf *);
size_t bytebuf_space(const struct bytebuf *);
/* Appends up to n bytes; returns how many fit, 0 if out of memory. */
size_t bytebuf_append(struct bytebuf *, const void *, size_t n);
/* Where up to bytebuf_space() bytes may be written; NULL if out of memory. */
unsigned char *bytebuf_tail(struct bytebuf *);
void bytebuf_commit(struct bytebuf *, size_t n);
void bytebuf_consume(struct bytebuf *, size_t n);
static inline const unsigned char *
bytebuf_head(const struct bytebuf *b)
{
	return b->data + b->off;
}

#endif
