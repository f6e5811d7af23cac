/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * sd_notify on NOTIFY_SOCKET: datagrams to a real AF_UNIX socket the test
 * binds (by path in a temporary directory, or abstract), when the
 * notifier is off, and whose watchdog WATCHDOG_USEC/WATCHDOG_PID describe.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

#define SELF 1234L
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/* ---- fixture: a listening datagram socket ------------------------------ */

struct listener {
	char dir[64];
	char path[128];       /* dir/notify, or "@name" for an abstract one */
	int fd;
	struct notifier n;    /* deinit in teardown */
};

static struct listener *
listener_new(void)
{
	struct listener *l = calloc(1, sizeof *l);

	if (l == NULL)
		return NULL;
	l->fd = -1;
	l->n.fd = -1;
	return l;
}

static int
listener_bind(struct listener *l, const struct sockaddr_un *sa,
    socklen_t len)
{
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (l->fd == -1)
		return -1;
	return bind(l->fd, (const struct sockaddr *)sa, len);
}

static int
path_setup(void **state)
{
	struct listener *l = listener_new();
	struct sockaddr_un sa;

	if (l == NULL)
		return -1;
	*state = l;
	snprintf(l->dir, sizeof l->dir, "/tmp/tether-notify-XXXXXX");
	if (mkdtemp(l->dir) == NULL) {
		l->dir[0] = '\0';
		return -1;
	}
	snprintf(l->path, sizeof l->path, "%s/notify", l->dir);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(l->path) >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	return listener_bind(l, &sa, sizeof sa);
}

/* "@tether-test-PID-NANOSECONDS": unique, and nothing to remove. */
static int
abstract_setup(void **state)
{
	struct listener *l = listener_new();
	struct sockaddr_un sa;
	struct timespec ts;
	size_t len;

	if (l == NULL)
		return -1;
	*state = l;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(l->path, sizeof l->path, "@tether-test-%ld-%ld",
	    (long)getpid(), (long)ts.tv_nsec);
	len = strlen(l->path);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, l->path, len);
	sa.sun_path[0] = '\0';
	return listener_bind(l, &sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
}

static int
listener_teardown(void **state)
{
	struct listener *l = *state;

	if (l == NULL)
		return 0;
	notify_deinit(&l->n);
	if (l->fd != -1)
		close(l->fd);
	if (l->dir[0] != '\0') {
		unlink(l->path);
		rmdir(l->dir);
	}
	free(l);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* One datagram, waiting up to 2 s; its length, the text NUL-terminated. */
static size_t
recv_one(int fd, char *buf, size_t sz)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 2000) != 1)
		fail_msg("no datagram arrived");
	n = recv(fd, buf, sz - 1, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 || (size_t)n >= sz) {
		fail_msg("recv gave %zd: %s", n, n < 0 ? strerror(errno) :
		    "too long");
		return 0;     /* not reached */
	}
	buf[n] = '\0';
	return (size_t)n;
}

static void
assert_receives(int fd, const char *want)
{
	char buf[4096];
	size_t n = recv_one(fd, buf, sizeof buf);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

static void
assert_nothing_waiting(int fd)
{
	char buf[16];

	assert_int_equal(recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void
assert_off(const char *path)
{
	struct notifier n;

	notify_init(&n, path, "30000000", NULL, SELF);
	assert_false(notify_enabled(&n));
	assert_int_equal(n.fd, -1);
	errno = 0;
	assert_int_equal(notify_send(&n, "READY=1"), 0);
	assert_int_equal(errno, 0);
	notify_deinit(&n);
}

/* The watchdog notify_init finds for these values (socket in place). */
static uint64_t
watchdog_for(const char *usec, const char *pid)
{
	struct notifier n;
	uint64_t v;

	notify_init(&n, "/run/systemd/notify", usec, pid, SELF);
	assert_true(notify_enabled(&n));
	v = n.watchdog_usec;
	notify_deinit(&n);
	return v;
}

/* ---- sending ----------------------------------------------------------- */

static void
test_send_delivers_exactly_ready(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_true(notify_enabled(&l->n));
	assert_int_equal(notify_send(&l->n, "READY=1"), 0);
	assert_receives(l->fd, "READY=1");
	assert_nothing_waiting(l->fd);
}

static void
test_sends_arrive_in_order_one_datagram_each(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_int_equal(notify_send(&l->n, "READY=1"), 0);
	assert_int_equal(notify_send(&l->n, "STATUS=forwarding 5432"), 0);
	assert_int_equal(notify_send(&l->n, "WATCHDOG=1"), 0);
	assert_int_equal(notify_send(&l->n, "STOPPING=1"), 0);
	assert_receives(l->fd, "READY=1");
	assert_receives(l->fd, "STATUS=forwarding 5432");
	assert_receives(l->fd, "WATCHDOG=1");
	assert_receives(l->fd, "STOPPING=1");
	assert_nothing_waiting(l->fd);
}

static void
test_send_formats_its_arguments(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_int_equal(notify_send(&l->n, "STATUS=%s %d%%", "up", 42), 0);
	assert_receives(l->fd, "STATUS=up 42%");
}

static void
test_send_of_several_assignments_is_one_datagram(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_int_equal(notify_send(&l->n, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    123456789ULL), 0);
	assert_receives(l->fd, "RELOADING=1\nMONOTONIC_USEC=123456789");
	assert_nothing_waiting(l->fd);
}

static void
test_send_cuts_an_overlong_message_to_1023_bytes(void **state)
{
	struct listener *l = *state;
	char status[2001], want[1024];

	memset(status, 'x', sizeof status - 1);
	status[sizeof status - 1] = '\0';
	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_int_equal(notify_send(&l->n, "STATUS=%s", status), 0);
	memcpy(want, "STATUS=", 7);
	memset(want + 7, 'x', sizeof want - 8);
	want[sizeof want - 1] = '\0';
	assert_receives(l->fd, want);
}

static void
test_send_to_an_abstract_socket_delivers(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	assert_true(notify_enabled(&l->n));
	assert_int_equal(l->n.addr.sun_path[0], '\0');
	assert_int_equal(notify_send(&l->n, "READY=1"), 0);
	assert_int_equal(notify_send(&l->n, "STATUS=ok"), 0);
	assert_receives(l->fd, "READY=1");
	assert_receives(l->fd, "STATUS=ok");
}

static void
test_send_where_nobody_listens_fails(void **state)
{
	struct listener *l = *state;
	char path[160];

	snprintf(path, sizeof path, "%s/nobody", l->dir);
	notify_init(&l->n, path, NULL, NULL, SELF);
	assert_true(notify_enabled(&l->n));
	assert_int_equal(notify_send(&l->n, "READY=1"), -1);
	assert_nothing_waiting(l->fd);
}

static void
test_deinit_turns_the_notifier_off(void **state)
{
	struct listener *l = *state;

	notify_init(&l->n, l->path, NULL, NULL, SELF);
	notify_deinit(&l->n);
	assert_false(notify_enabled(&l->n));
	assert_int_equal(notify_send(&l->n, "READY=1"), 0);
	assert_nothing_waiting(l->fd);
	notify_deinit(&l->n);
	assert_false(notify_enabled(&l->n));
}

/* ---- off --------------------------------------------------------------- */

static void
test_unset_notify_socket_is_off(void **state)
{
	assert_off(NULL);
}

static void
test_empty_notify_socket_is_off(void **state)
{
	assert_off("");
}

static void
test_relative_notify_socket_is_off(void **state)
{
	assert_off("run/systemd/notify");
	assert_off("notify");
}

static void
test_notify_socket_too_long_for_sun_path_is_off(void **state)
{
	char path[SUN_PATH_SIZE + 1];

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';      /* sizeof sun_path characters */
	assert_off(path);
	path[0] = '@';
	assert_off(path);
}

static void
test_notify_socket_that_just_fits_is_on(void **state)
{
	char path[SUN_PATH_SIZE];
	struct notifier n;

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';      /* one less than sun_path */
	notify_init(&n, path, NULL, NULL, SELF);
	assert_true(notify_enabled(&n));
	assert_int_equal(n.addr.sun_family, AF_UNIX);
	assert_memory_equal(n.addr.sun_path, path, sizeof path - 1);
	assert_int_equal(n.addr_len,
	    offsetof(struct sockaddr_un, sun_path) + sizeof path - 1);
	notify_deinit(&n);
}

static void
test_off_notifier_has_no_watchdog(void **state)
{
	struct notifier n;

	notify_init(&n, NULL, "30000000", NULL, SELF);
	assert_int_equal(n.watchdog_usec, 0);
	notify_init(&n, "relative", "30000000", "1234", SELF);
	assert_int_equal(n.watchdog_usec, 0);
}

/* ---- watchdog ---------------------------------------------------------- */

static void
test_watchdog_is_honoured_without_watchdog_pid(void **state)
{
	assert_int_equal(watchdog_for("30000000", NULL), 30000000);
	assert_int_equal(watchdog_for("30000000", ""), 30000000);
}

static void
test_watchdog_is_honoured_when_watchdog_pid_is_ours(void **state)
{
	assert_int_equal(watchdog_for("20000000", "1234"), 20000000);
}

static void
test_watchdog_is_ignored_when_watchdog_pid_is_another(void **state)
{
	assert_int_equal(watchdog_for("20000000", "1235"), 0);
	assert_int_equal(watchdog_for("20000000", "1"), 0);
}

static void
test_watchdog_with_garbage_watchdog_pid_is_ignored(void **state)
{
	assert_int_equal(watchdog_for("20000000", "abc"), 0);
	assert_int_equal(watchdog_for("20000000", "1234x"), 0);
}

static void
test_watchdog_is_off_without_watchdog_usec(void **state)
{
	assert_int_equal(watchdog_for(NULL, NULL), 0);
	assert_int_equal(watchdog_for("", NULL), 0);
	assert_int_equal(watchdog_for("0", NULL), 0);
}

static void
test_watchdog_takes_the_whole_u64_range(void **state)
{
	assert_int_equal(watchdog_for("1", NULL), 1);
	assert_int_equal(watchdog_for("18446744073709551615", NULL),
	    UINT64_MAX);
}

static void
test_garbage_watchdog_usec_is_zero(void **state)
{
	assert_int_equal(watchdog_for("abc", NULL), 0);
	assert_int_equal(watchdog_for("30s", NULL), 0);
	assert_int_equal(watchdog_for("1.5", NULL), 0);
	assert_int_equal(watchdog_for("18446744073709551616", NULL), 0);
	assert_int_equal(watchdog_for("99999999999999999999999", NULL), 0);
}

/* strtoull would take "-1" as 2^64 - 1: a watchdog never pinged in time. */
static void
test_negative_watchdog_usec_is_zero(void **state)
{
	assert_int_equal(watchdog_for("-1", NULL), 0);
	assert_int_equal(watchdog_for("-30000000", NULL), 0);
}

#define PATH_TEST(f) cmocka_unit_test_setup_teardown(f, path_setup, \
	listener_teardown)
#define ABSTRACT_TEST(f) cmocka_unit_test_setup_teardown(f, abstract_setup, \
	listener_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PATH_TEST(test_send_delivers_exactly_ready),
		PATH_TEST(test_sends_arrive_in_order_one_datagram_each),
		PATH_TEST(test_send_formats_its_arguments),
		PATH_TEST(test_send_of_several_assignments_is_one_datagram),
		PATH_TEST(test_send_cuts_an_overlong_message_to_1023_bytes),
		ABSTRACT_TEST(test_send_to_an_abstract_socket_delivers),
		PATH_TEST(test_send_where_nobody_listens_fails),
		PATH_TEST(test_deinit_turns_the_notifier_off),

		cmocka_unit_test(test_unset_notify_socket_is_off),
		cmocka_unit_test(test_empty_notify_socket_is_off),
		cmocka_unit_test(test_relative_notify_socket_is_off),
		cmocka_unit_test(test_notify_socket_too_long_for_sun_path_is_off),
		cmocka_unit_test(test_notify_socket_that_just_fits_is_on),
		cmocka_unit_test(test_off_notifier_has_no_watchdog),

		cmocka_unit_test(test_watchdog_is_honoured_without_watchdog_pid),
		cmocka_unit_test(test_watchdog_is_honoured_when_watchdog_pid_is_ours),
		cmocka_unit_test(test_watchdog_is_ignored_when_watchdog_pid_is_another),
		cmocka_unit_test(test_watchdog_with_garbage_watchdog_pid_is_ignored),
		cmocka_unit_test(test_watchdog_is_off_without_watchdog_usec),
		cmocka_unit_test(test_watchdog_takes_the_whole_u64_range),
		cmocka_unit_test(test_garbage_watchdog_usec_is_zero),
		cmocka_unit_test(test_negative_watchdog_usec_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
