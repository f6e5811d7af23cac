#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void
error_clear(struct error *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}

void
error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;
	char *nl;

	if (err == NULL || err->code != 0)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	/* One event, one line: a newline from outside input must not split it. */
	while ((nl = strpbrk(err->msg, "\r\n")) != NULL)
		*nl = ' ';
}

int
error_is_set(const struct error *err)
{
	return err->code != 0;
}
