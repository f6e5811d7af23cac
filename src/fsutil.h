/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Small file-system helpers: whole files in, whole files out, atomically. */
#ifndef TETHER_FSUTIL_H
#define TETHER_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* mkdir -p; existing directories are fine. */
int mkdir_parents(const char *path, mode_t mode);
/*
 * Writes through a fresh path.XXXXXX (mkstemp) + rename: readers see the
 * old or the new file, whole, and concurrent writers never collide.
 * durable: fsync the file before and its directory after the rename, so a
 * power cut leaves the old or the new file (configuration, units,
 * known_hosts; runtime state need not pay for it).
 */
int file_write_atomic(const char *path, const char *text, mode_t mode,
    int durable, struct error *);
/*
 * The same, the temporary file given uid and gid (-1: unchanged) before
 * the rename: the file never exists under its name with another owner.
 */
int file_write_atomic_owned(const char *path, const char *text, mode_t mode,
    int durable, uid_t uid, gid_t gid, struct error *);
/* Reads a whole file of at most max bytes; *text is NUL-terminated. */
int file_read(const char *path, size_t max, char **text, struct error *);
int file_exists(const char *path);
/*
 * Opens a file to append to it (creating it 0600, and its directories
 * 0700), safely even as root in another user's tree: no symlink another
 * user owns on the way, the file itself no symlink, every directory above
 * it owned by root or the caller and writable by no one else, the file a
 * regular one of the caller's. -1 with err naming the fix otherwise.
 */
int file_open_append_own(const char *path, struct error *);

#endif
