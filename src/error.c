/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
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

const char *
error_exit_meaning(int code)
{
	static const char *const meanings[] = {
		[TETHER_EXIT_OK] = "stopped",
		[TETHER_EXIT_FAILURE] = "runtime failure (bastion unreachable "
		                        "or lost, out of memory)",
		[TETHER_EXIT_USAGE] = "bad command line",
		[TETHER_EXIT_CONFIG] = "bad configuration (file, flag or "
		                       "environment value)",
		[TETHER_EXIT_KEY] = "private key missing, readable by others, "
		                    "or passphrase-protected",
		[TETHER_EXIT_HOSTKEY] = "bastion host key unknown or changed",
		[TETHER_EXIT_AUTH] = "the bastion refused authentication",
		[TETHER_EXIT_FORWARD] = "a forward was refused "
		                        "(exit_on_forward_failure)",
	};

	if (code < 0 || (size_t)code >= sizeof meanings / sizeof meanings[0])
		return "not one of tether's exit statuses";
	return meanings[code];
}

int
error_is_set(const struct error *err)
{
	return err->code != 0;
}
