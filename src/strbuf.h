/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A growable string for text assembled piece by piece (output, files). */
#ifndef TETHER_STRBUF_H
#define TETHER_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data; /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: the text is incomplete */
};

void strbuf_init(struct strbuf *);
void strbuf_free(struct strbuf *);
void strbuf_add(struct strbuf *, const char *);
void strbuf_addf(struct strbuf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the text over (never NULL; "" when empty) and resets the buffer. */
char *strbuf_take(struct strbuf *);

#endif
