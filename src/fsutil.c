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

int
file_write_atomic(const char *path, const char *text, mode_t mode, int durable,
    struct error *err)
{
	char tmp[CONFIG_PATH_MAX + 16];
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		error_set(err, TETHER_EXIT_FAILURE, "path too long: %.64s...",
		    path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot write %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	saved = errno;
	if (off != len || fchmod(fd, mode) == -1 ||
	    (durable && fsync(fd) == -1)) {
		if (off == len)
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
