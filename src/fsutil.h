/* Small file-system helpers: whole files in, whole files out, atomically. */
#ifndef TETHER_FSUTIL_H
#define TETHER_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* mkdir -p; existing directories are fine. */
int mkdir_parents(const char *path, mode_t mode);
/*
 * Writes through path.tmp + rename: readers see the old or the new file,
 * whole. durable: fsync first, so a crash cannot leave an empty file (for
 * configuration; runtime state need not pay for it).
 */
int file_write_atomic(const char *path, const char *text, mode_t mode,
    int durable, struct error *);
/* Reads a whole file of at most max bytes; *text is NUL-terminated. */
int file_read(const char *path, size_t max, char **text, struct error *);
int file_exists(const char *path);

#endif
