/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* An error travels up as a value: a user-fit message and the exit code. */
#ifndef TETHER_ERROR_H
#define TETHER_ERROR_H

#include <stddef.h>

#define ERROR_MSG_MAX 512

struct error {
	int code;                /* an enum tether_exit value, 0 = no error */
	char msg[ERROR_MSG_MAX]; /* one line, no trailing newline */
};

void error_clear(struct error *);
/* Records the first error only: the root cause is what the user needs. */
void error_set(struct error *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int error_is_set(const struct error *);
/* What an exit status of tether means, in words (README's table). */
const char *error_exit_meaning(int code);

#endif
