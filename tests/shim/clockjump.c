/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * clockjump: an LD_PRELOAD shim for the end-to-end tests that simulates a
 * suspend and resume without suspending the machine. It interposes
 * clock_gettime: CLOCK_BOOTTIME (and CLOCK_BOOTTIME_ALARM) run ahead by an
 * offset, while CLOCK_MONOTONIC and every other clock pass through, which
 * is what a process sees after the machine slept: tether's resume detector
 * (supervisor_on_clock_check, src/resume.c) compares the two.
 *
 *   LD_PRELOAD=libclockjump.so CLOCKJUMP_BOOTTIME_OFFSET_FILE=FILE tether ...
 *
 * The offset, in seconds (a decimal number: "600", "8.5", "-1"), is read
 * from FILE on every call, so the test jumps the clock by rewriting FILE
 * (atomically: write a temporary file, then rename it). A missing, empty
 * or unparsable file is an offset of 0. The real clock is read with the
 * raw system call: no dlsym, nothing to resolve before the first call.
 * tests/integration/resume_clock_jump.sh drives it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC 1000000000L
#define OFFSET_MAX_INT_DIGITS 12 /* 10^12 s: more than any test needs */

/*
 * Parses "[+-]DIGITS[.DIGITS]" and optional trailing white space into
 * seconds and nanoseconds (digits past the ninth decimal are dropped).
 * Returns 0, or -1 if the text is anything else.
 */
static int
clockjump_parse(const char *s, int64_t *sec, long *nsec)
{
	int64_t whole = 0;
	long frac = 0, scale = NSEC_PER_SEC / 10;
	int neg = 0, digits = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > OFFSET_MAX_INT_DIGITS)
			return -1;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			frac += scale * (*s - '0');
			scale /= 10;
			digits++;
		}
	}
	if (digits == 0)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s != '\0')
		return -1;
	*sec = neg ? -whole : whole;
	*nsec = neg ? -frac : frac;
	return 0;
}

/* The offset from CLOCKJUMP_BOOTTIME_OFFSET_FILE; 0 when there is none. */
static void
clockjump_offset(int64_t *sec, long *nsec)
{
	const char *path = getenv("CLOCKJUMP_BOOTTIME_OFFSET_FILE");
	char buf[64];
	ssize_t n;
	int fd;

	*sec = 0;
	*nsec = 0;
	if (path == NULL || *path == '\0')
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (clockjump_parse(buf, sec, nsec) == -1) {
		*sec = 0;
		*nsec = 0;
	}
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t sec;
	long nsec;
	int saved;

	if (syscall(SYS_clock_gettime, id, ts) == -1)
		return -1;
	if (id != CLOCK_BOOTTIME && id != CLOCK_BOOTTIME_ALARM)
		return 0;
	/* A successful call leaves errno alone, whatever reading FILE did. */
	saved = errno;
	clockjump_offset(&sec, &nsec);
	errno = saved;
	ts->tv_sec += (time_t)sec;
	ts->tv_nsec += nsec;
	if (ts->tv_nsec >= NSEC_PER_SEC) {
		ts->tv_nsec -= NSEC_PER_SEC;
		ts->tv_sec++;
	} else if (ts->tv_nsec < 0) {
		ts->tv_nsec += NSEC_PER_SEC;
		ts->tv_sec--;
	}
	return 0;
}
