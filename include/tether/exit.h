/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether's exit codes: one table shared by the code, the systemd unit's
 * RestartPreventExitStatus=, the manual and the tests.
 *
 * Codes 3 and above mean "retrying cannot fix this": a unit must not
 * restart on them.
 */
#ifndef TETHER_EXIT_H
#define TETHER_EXIT_H

enum tether_exit {
	TETHER_EXIT_OK = 0, /* clean stop (signal) */
	TETHER_EXIT_FAILURE =
	    1, /* runtime failure: bastion unreachable or lost */
	TETHER_EXIT_USAGE = 2,  /* bad command line */
	TETHER_EXIT_CONFIG = 3, /* bad config file, environment or flag value */
	TETHER_EXIT_KEY =
	    4, /* private key missing, unreadable, unsafe or encrypted */
	TETHER_EXIT_HOSTKEY =
	    5,                /* bastion host key unknown (strict) or changed */
	TETHER_EXIT_AUTH = 6, /* bastion refused every authentication method */
	TETHER_EXIT_FORWARD =
	    7, /* a forward was refused with exit_on_forward_failure */
};

#endif
