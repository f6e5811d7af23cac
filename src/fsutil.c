#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "config.h"
#include "fsutil.h"

int
mkdir_parents(const char *path, mode_t mode)
{
	char buf[CONFIG_PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* fsync of the directory that holds path: the rename survives a crash. */
static int
file_sync_dir(const char *path)
{
	char dir[CONFIG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
file_write_all(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * A fresh temporary name per write (mkstemp: O_CREAT|O_EXCL), so two
 * writers of one file never share it and nothing planted under a fixed
 * name is followed or truncated.
 */
int
file_write_atomic(const char *path, const char *text, mode_t mode, int durable,
    struct error *err)
{
	char tmp[CONFIG_PATH_MAX + 16];
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >=
	    sizeof tmp) {
		error_set(err, TETHER_EXIT_FAILURE, "path too long: %.64s...",
		    path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot write %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	if (file_write_all(fd, text) == -1 || fchmod(fd, mode) == -1 ||
	    (durable && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		error_set(err, TETHER_EXIT_FAILURE, "cannot write %s: %s", tmp,
		    strerror(saved));
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		error_set(err, TETHER_EXIT_FAILURE, "cannot replace %s: %s",
		    path, strerror(saved));
		return -1;
	}
	if (durable && file_sync_dir(path) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "%s is written, but its directory could not be synced: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

int
file_read(const char *path, size_t max, char **text, struct error *err)
{
	size_t len = 0;
	ssize_t n = 0;
	char *buf;
	int fd;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		close(fd);
		error_set(err, TETHER_EXIT_FAILURE, "%s: out of memory", path);
		return -1;
	}
	while (len <= max && (n = read(fd, buf + len, max + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n == -1 || len > max) {
		error_set(err, TETHER_EXIT_FAILURE, "%s: %s", path,
		    n == -1 ? strerror(errno) : "file too large");
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

int
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}
