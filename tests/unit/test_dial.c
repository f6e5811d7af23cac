/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * dial and resolve (src/dial.c, src/resolve.c) on a real loop and real
 * loopback sockets: the name is looked up on a thread, the socket handed
 * over connected and with TCP_NODELAY, failures said, a cancel silent.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "dial.h"
#include "resolve.h"

struct outcome {
	int calls;
	int fd;
	char error[256];
};

static void
on_dialed(struct dial *d, int fd, const char *error, void *arg)
{
	struct outcome *o = arg;

	(void)d;
	o->calls++;
	o->fd = fd;
	snprintf(o->error, sizeof o->error, "%s", error != NULL ? error : "");
	ev_break(d->loop, EVBREAK_ALL);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until the dial reports or seconds pass. */
static void
run_for(struct ev_loop *loop, double seconds)
{
	ev_timer t;

	ev_timer_init(&t, on_timeout, seconds, 0);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

/* A listener on 127.0.0.1 (port 0: the kernel's pick); its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
test_a_listening_port_is_handed_over_connected_with_nodelay(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct outcome o = { 0, -1, "" };
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	int lfd, port, nodelay = 0;
	socklen_t optlen = sizeof nodelay;
	struct dial d;

	(void)state;
	lfd = listener(&port);
	assert_int_equal(dial_start(&d, loop, "localhost", port, AF_UNSPEC,
	                     on_dialed, &o),
	    0);
	run_for(loop, 5);
	assert_int_equal(o.calls, 1);
	assert_string_equal(o.error, "");
	assert_true(o.fd >= 0);
	assert_int_equal(getpeername(o.fd, (struct sockaddr *)&peer, &len), 0);
	assert_int_equal(ntohs(peer.sin_port), port);
	assert_int_equal(getsockopt(o.fd, IPPROTO_TCP, TCP_NODELAY, &nodelay,
	                     &optlen),
	    0);
	assert_true(nodelay != 0);
	close(o.fd);
	dial_cancel(&d);
	close(lfd);
	ev_loop_destroy(loop);
}

static void
test_a_closed_port_is_reported_refused(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct outcome o = { 0, -1, "" };
	struct dial d;
	int lfd, port;

	(void)state;
	lfd = listener(&port);
	close(lfd); /* nothing listens there now */
	assert_int_equal(dial_start(&d, loop, "127.0.0.1", port, AF_UNSPEC,
	                     on_dialed, &o),
	    0);
	run_for(loop, 5);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.fd, -1);
	assert_string_equal(o.error, strerror(ECONNREFUSED));
	dial_cancel(&d);
	ev_loop_destroy(loop);
}

static void
test_address_family_inet6_skips_ipv4_addresses(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct outcome o = { 0, -1, "" };
	struct dial d;
	int lfd, port;

	(void)state;
	lfd = listener(&port);
	assert_int_equal(dial_start(&d, loop, "127.0.0.1", port, AF_INET6,
	                     on_dialed, &o),
	    0);
	run_for(loop, 5);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.fd, -1);
	assert_non_null(strstr(o.error, "no IPv6 address"));
	dial_cancel(&d);
	close(lfd);
	ev_loop_destroy(loop);
}

static void
test_a_name_that_does_not_resolve_is_reported(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct outcome o = { 0, -1, "" };
	struct dial d;

	(void)state;
	/* An empty label: refused before any DNS packet would leave. */
	assert_int_equal(dial_start(&d, loop, "no..such.host", 22, AF_UNSPEC,
	                     on_dialed, &o),
	    0);
	run_for(loop, 30);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.fd, -1);
	assert_true(o.error[0] != '\0');
	dial_cancel(&d);
	ev_loop_destroy(loop);
}

static void
test_a_cancelled_dial_never_reports(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct outcome o = { 0, -1, "" };
	struct dial d;
	int lfd, port;

	(void)state;
	lfd = listener(&port);
	assert_int_equal(dial_start(&d, loop, "localhost", port, AF_UNSPEC,
	                     on_dialed, &o),
	    0);
	dial_cancel(&d); /* the lookup thread ends on its own */
	run_for(loop, 0.3);
	assert_int_equal(o.calls, 0);
	close(lfd);
	ev_loop_destroy(loop);
}

struct lookup {
	struct ev_loop *loop;
	int calls;
	int found;
};

static void
on_resolved(struct resolver *r, struct addrinfo *res, const char *error,
    void *arg)
{
	struct lookup *l = arg;

	(void)error;
	l->calls++;
	l->found = res != NULL;
	if (res != NULL)
		freeaddrinfo(res);
	resolver_free(r);
	ev_break(l->loop, EVBREAK_ALL);
}

static void
test_a_lookup_answers_once_and_is_then_done(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct lookup l = { loop, 0, 0 };
	struct resolver *r;

	(void)state;
	r = resolver_start(loop, "127.0.0.1", 22, AI_NUMERICSERV, on_resolved,
	    &l);
	assert_non_null(r);
	assert_true(resolver_pending(r));
	run_for(loop, 5);
	assert_int_equal(l.calls, 1);
	assert_true(l.found);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_a_listening_port_is_handed_over_connected_with_nodelay),
		cmocka_unit_test(test_a_closed_port_is_reported_refused),
		cmocka_unit_test(
		    test_address_family_inet6_skips_ipv4_addresses),
		cmocka_unit_test(test_a_name_that_does_not_resolve_is_reported),
		cmocka_unit_test(test_a_cancelled_dial_never_reports),
		cmocka_unit_test(test_a_lookup_answers_once_and_is_then_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
