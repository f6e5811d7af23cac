/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
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
	return file_write_atomic_owned(path, text, mode, durable, (uid_t)-1,
	    (gid_t)-1, err);
}

int
file_write_atomic_owned(const char *path, const char *text, mode_t mode,
    int durable, uid_t uid, gid_t gid, struct error *err)
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
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	        fchown(fd, uid, gid) == -1) ||
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

/* The owner's name, else "#UID" (as sudo -u takes it). */
static void
file_owner_name(uid_t uid, char *out, size_t sz)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(out, sz, "%s", pw->pw_name);
	else
		snprintf(out, sz, "#%ld", (long)uid);
}

/*
 * Every symlink on the way to path (itself included) must be one that
 * neither another user planted nor anyone can swap: owned by root or by
 * the caller, and path itself no symlink at all.
 */
static int
file_check_links(const char *path, struct error *err)
{
	char buf[CONFIG_PATH_MAX], who[64];
	struct stat st;
	char *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (saved == '\0' ||
		        (st.st_uid != 0 && st.st_uid != geteuid()))) {
			file_owner_name(st.st_uid, who, sizeof who);
			error_set(err, TETHER_EXIT_FAILURE,
			    "%s is a symlink (owned by %s): refusing to write "
			    "through it; give the real path, as its owner",
			    buf, who);
			return -1;
		}
		if (saved == '\0')
			return 0;
		*p = saved;
	}
}

/*
 * The real directory and each one above it must be owned by root or the
 * caller and writable by no one else (sticky ones aside), as OpenSSH asks
 * of ~/.ssh: otherwise its owner could swap what we are about to open.
 */
static int
file_check_dirs(const char *dir, const char *path, struct error *err)
{
	char buf[CONFIG_PATH_MAX], who[64];
	size_t len = strlen(dir);
	struct stat st;
	char *p;

	if (len >= sizeof buf) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "%.64s...: the directory's path is longer than %zu bytes",
		    dir, sizeof buf - 1);
		return -1;
	}
	memcpy(buf, dir, len + 1);
	for (p = buf + len;; p--) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (stat(buf[0] != '\0' ? buf : "/", &st) == -1) {
			error_set(err, TETHER_EXIT_FAILURE, "%s: %s",
			    buf[0] != '\0' ? buf : "/", strerror(errno));
			return -1;
		}
		if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		    ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0)) {
			file_owner_name(st.st_uid, who, sizeof who);
			error_set(err, TETHER_EXIT_FAILURE,
			    "refusing to write %s: %s belongs to %s%s; run the "
			    "command as that user (sudo -u '%s' ...)",
			    path, buf[0] != '\0' ? buf : "/", who,
			    (st.st_mode & 022) != 0 ?
			        " and others may write it" :
			        "",
			    who);
			return -1;
		}
		if (p == buf)
			return 0;
	}
}

int
file_open_append_own(const char *given, struct error *err)
{
	char path[CONFIG_PATH_MAX], dir[CONFIG_PATH_MAX], real[PATH_MAX];
	const char *base;
	struct stat st;
	int dfd, fd;

	if (given[0] == '/')
		snprintf(path, sizeof path, "%s", given);
	else if (getcwd(dir, sizeof dir) == NULL ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, given) >=
	        sizeof path) {
		error_set(err, TETHER_EXIT_FAILURE, "%s: path too long", given);
		return -1;
	}
	if (file_check_links(path, err) == -1)
		return -1;
	base = strrchr(path, '/') + 1;
	snprintf(dir, sizeof dir, "%.*s", (int)(base - path), path);
	if (*base == '\0' || mkdir_parents(dir, 0700) == -1 ||
	    realpath(dir, real) == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "%s: %s", given,
		    *base == '\0' ? "not a file name" : strerror(errno));
		return -1;
	}
	if (file_check_dirs(real, path, err) == -1)
		return -1;
	dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = dfd == -1 ? -1 :
	                 openat(dfd, base,
	                     O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	                         O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	                     0600);
	if (dfd != -1)
		close(dfd);
	if (fd == -1) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "refusing to write %s: not a regular file of yours with "
		    "one link; run the command as its owner",
		    path);
		close(fd);
		return -1;
	}
	return fd;
}
