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
/* Reads a whole file of at most max bytes; *text is NUL-terminated. */
int file_read(const char *path, size_t max, char **text, struct error *);
int file_exists(const char *path);

#endif
