/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The grammars of spec.h: a bastion "[user@]host[:port]", a remote forward
 * "[bind:]PORT:HOST:HOSTPORT" and a target "HOST:PORT" or "PORT".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tether/exit.h"
#include "spec.h"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

/* Parses a bastion that must be valid. */
static struct bastion_spec
bastion_ok(const char *s)
{
	struct bastion_spec b;
	struct error err;

	error_clear(&err);
	if (spec_parse_bastion(s, &b, &err) != 0)
		fail_msg("bastion '%s' refused: %s", s, err.msg);
	assert_int_equal(err.code, 0);
	return b;
}

/* Parses a bastion that must be refused; returns the error. */
static struct error
bastion_bad(const char *s)
{
	struct bastion_spec b;
	struct error err;

	error_clear(&err);
	if (spec_parse_bastion(s, &b, &err) != -1)
		fail_msg("bastion '%s' accepted as user '%s' host '%s' port %d",
		    s, b.user, b.host, b.port);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	return err;
}

static struct forward_spec
forward_ok(const char *s)
{
	struct forward_spec f;
	struct error err;

	error_clear(&err);
	if (spec_parse_forward(s, &f, &err) != 0)
		fail_msg("forward '%s' refused: %s", s, err.msg);
	assert_int_equal(err.code, 0);
	return f;
}

static struct error
forward_bad(const char *s)
{
	struct forward_spec f;
	struct error err;

	error_clear(&err);
	if (spec_parse_forward(s, &f, &err) != -1)
		fail_msg("forward '%.80s' accepted as bind '%s' port %d host '%s' "
		    "host port %d", s, f.bind, f.port, f.host, f.host_port);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	return err;
}

static struct error
target_bad(const char *s)
{
	char host[SPEC_HOST_MAX] = "unchanged";
	int port = -7;
	struct error err;

	error_clear(&err);
	if (spec_parse_target(s, host, &port, &err) != -1)
		fail_msg("target '%.80s' accepted as '%s' port %d", s, host, port);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_string_equal(host, "unchanged");
	assert_int_equal(port, -7);
	return err;
}

/* ---- spec_parse_bastion ------------------------------------------------ */

static void
test_bastion_without_user_defaults_port_22(void **state)
{
	struct bastion_spec b = bastion_ok("bastion.example.com");

	assert_string_equal(b.user, "");
	assert_string_equal(b.host, "bastion.example.com");
	assert_int_equal(b.port, 22);
}

static void
test_bastion_with_user_and_port(void **state)
{
	struct bastion_spec b = bastion_ok("deploy@bastion.example.com:2222");

	assert_string_equal(b.user, "deploy");
	assert_string_equal(b.host, "bastion.example.com");
	assert_int_equal(b.port, 2222);
}

static void
test_bastion_with_user_without_port_defaults_port_22(void **state)
{
	struct bastion_spec b = bastion_ok("ywatanabe@10.0.0.5");

	assert_string_equal(b.user, "ywatanabe");
	assert_string_equal(b.host, "10.0.0.5");
	assert_int_equal(b.port, 22);
}

static void
test_bastion_user_may_hold_dot_underscore_and_dash(void **state)
{
	struct bastion_spec b = bastion_ok("first.last_2-x@h");

	assert_string_equal(b.user, "first.last_2-x");
	assert_string_equal(b.host, "h");
}

static void
test_bastion_port_65535_is_the_highest(void **state)
{
	assert_int_equal(bastion_ok("h:65535").port, 65535);
	assert_int_equal(bastion_ok("h:1").port, 1);
}

static void
test_bastion_ipv6_in_brackets_with_port(void **state)
{
	struct bastion_spec b = bastion_ok("u@[2001:db8::1]:2200");

	assert_string_equal(b.user, "u");
	assert_string_equal(b.host, "2001:db8::1");
	assert_int_equal(b.port, 2200);
}

static void
test_bastion_ipv6_in_brackets_without_port_defaults_port_22(void **state)
{
	struct bastion_spec b = bastion_ok("[::1]");

	assert_string_equal(b.host, "::1");
	assert_int_equal(b.port, 22);
}

static void
test_bastion_bare_ipv6_is_the_whole_host_on_port_22(void **state)
{
	struct bastion_spec b = bastion_ok("admin@2001:db8::22");

	assert_string_equal(b.user, "admin");
	/* The last group is part of the address, not a port. */
	assert_string_equal(b.host, "2001:db8::22");
	assert_int_equal(b.port, 22);
}

static void
test_bastion_bare_ipv6_may_carry_a_zone(void **state)
{
	assert_string_equal(bastion_ok("fe80::1%eth0").host, "fe80::1%eth0");
}

static void
test_bastion_with_two_colons_that_is_not_ipv6_is_refused(void **state)
{
	/* Not an address: a typo must fail now, not at every reconnect. */
	struct error err = bastion_bad("bastion.example.com:22:33");

	assert_contains(err.msg, "'bastion.example.com:22:33' is not an IPv6 "
	    "address");
	bastion_bad("u@host::2222");
	bastion_bad("1:2:3:4:5:6:7:8:9");
}

static void
test_bastion_user_starting_with_dash_is_refused(void **state)
{
	struct error err = bastion_bad("-oProxyCommand@host");

	assert_contains(err.msg, "user '-oProxyCommand'");
	assert_contains(err.msg, "may not start with '-'");
}

static void
test_bastion_option_injection_through_user_is_refused(void **state)
{
	bastion_bad("-oProxyCommand=sh -c id@host");
}

static void
test_bastion_user_with_odd_bytes_is_refused(void **state)
{
	bastion_bad("us er@host");
	bastion_bad("us$er@host");
	bastion_bad("a@b@host");
}

static void
test_bastion_empty_user_is_refused(void **state)
{
	struct error err = bastion_bad("@host");

	assert_contains(err.msg, "1 to 32 characters");
}

static void
test_bastion_user_of_33_characters_is_refused(void **state)
{
	char s[64];
	struct error err;

	memset(s, 'u', 33);
	snprintf(s + 33, sizeof s - 33, "@host");
	err = bastion_bad(s);
	assert_contains(err.msg, "1 to 32 characters");
	/* 32 characters is the limit. */
	snprintf(s + 32, sizeof s - 32, "@host");
	assert_int_equal(strlen(bastion_ok(s).user), 32);
}

static void
test_bastion_host_with_space_is_refused(void **state)
{
	bastion_bad("user@bad host");
}

static void
test_bastion_host_with_newline_is_refused(void **state)
{
	struct error err = bastion_bad("user@host\nInjected: line");

	assert_null(strchr(err.msg, '\n'));
}

static void
test_bastion_host_starting_with_dash_is_refused(void **state)
{
	bastion_bad("-oProxyCommand");
	bastion_bad("user@-host");
	bastion_bad("[-oFoo]:22");
}

static void
test_bastion_empty_host_is_refused(void **state)
{
	bastion_bad("");
	bastion_bad("user@");
	bastion_bad(":22");
	bastion_bad("[]:22");
}

static void
test_bastion_port_0_is_refused(void **state)
{
	struct error err = bastion_bad("host:0");

	assert_contains(err.msg, "ssh port '0'");
	assert_contains(err.msg, "from 1 to 65535");
}

static void
test_bastion_port_65536_is_refused(void **state)
{
	struct error err = bastion_bad("host:65536");

	assert_contains(err.msg, "ssh port '65536'");
}

static void
test_bastion_port_with_trailing_letters_is_refused(void **state)
{
	struct error err = bastion_bad("host:22x");

	assert_contains(err.msg, "ssh port '22x'");
}

static void
test_bastion_empty_port_is_refused(void **state)
{
	bastion_bad("host:");
	bastion_bad("[::1]:");
}

static void
test_bastion_negative_or_signed_port_is_refused(void **state)
{
	bastion_bad("host:-1");
	bastion_bad("host:+22");
	bastion_bad("host: 22");
}

static void
test_bastion_unbalanced_brackets_are_refused(void **state)
{
	bastion_bad("[::1");
	bastion_bad("::1]");
	bastion_bad("[::1]x");
	bastion_bad("h[x]:22");
}

static void
test_bastion_host_of_254_characters_is_refused(void **state)
{
	char s[300];

	memset(s, 'a', 254);
	s[254] = '\0';
	bastion_bad(s);
	s[253] = '\0';   /* the longest DNS name */
	assert_int_equal(strlen(bastion_ok(s).host), 253);
}

static void
test_bastion_of_10000_characters_is_refused(void **state)
{
	static const char parts[] = { 'a', ':', '@' };
	char s[10001];
	struct error err;
	size_t i;

	for (i = 0; i < sizeof parts; i++) {
		memset(s, 'a', sizeof s - 1);
		s[sizeof s - 1] = '\0';
		s[5000] = parts[i];
		s[5001] = parts[i];
		err = bastion_bad(s);
		/* The reason survives however long the input. */
		assert_contains(err.msg, i == 2 ? "1 to 32 characters" :
		    i == 1 ? "is not an IPv6 address" : "expected [user@]host");
	}
}

static void
test_bastion_error_names_the_input(void **state)
{
	struct error err = bastion_bad("user@bad host");

	assert_contains(err.msg, "bastion 'user@bad host'");
}

/* ---- spec_parse_forward ------------------------------------------------ */

static void
test_forward_of_three_fields_has_no_bind_address(void **state)
{
	struct forward_spec f = forward_ok("2222:localhost:22");

	assert_string_equal(f.bind, "");
	assert_int_equal(f.port, 2222);
	assert_string_equal(f.host, "localhost");
	assert_int_equal(f.host_port, 22);
}

static void
test_forward_of_four_fields_has_a_bind_address(void **state)
{
	struct forward_spec f = forward_ok("127.0.0.1:8080:web.internal:80");

	assert_string_equal(f.bind, "127.0.0.1");
	assert_int_equal(f.port, 8080);
	assert_string_equal(f.host, "web.internal");
	assert_int_equal(f.host_port, 80);
}

static void
test_forward_star_bind_means_all_interfaces(void **state)
{
	assert_string_equal(forward_ok("*:8080:localhost:80").bind, "*");
}

static void
test_forward_empty_bind_means_all_interfaces(void **state)
{
	struct forward_spec f = forward_ok(":8080:localhost:80");

	assert_string_equal(f.bind, "*");
	assert_int_equal(f.port, 8080);
}

static void
test_forward_remote_port_0_lets_the_bastion_choose(void **state)
{
	struct forward_spec f = forward_ok("0:localhost:22");

	assert_int_equal(f.port, 0);
	assert_int_equal(f.host_port, 22);
}

static void
test_forward_remote_port_65535_is_the_highest(void **state)
{
	assert_int_equal(forward_ok("65535:h:1").port, 65535);
	assert_int_equal(forward_ok("1:h:65535").host_port, 65535);
}

static void
test_forward_target_port_0_is_refused(void **state)
{
	struct error err = forward_bad("2222:localhost:0");

	assert_contains(err.msg, "target port '0'");
	assert_contains(err.msg, "from 1 to 65535");
}

static void
test_forward_remote_port_65536_is_refused(void **state)
{
	struct error err = forward_bad("65536:localhost:22");

	assert_contains(err.msg, "remote port '65536'");
	assert_contains(err.msg, "from 0 to 65535");
}

static void
test_forward_target_port_65536_is_refused(void **state)
{
	forward_bad("2222:localhost:65536");
}

static void
test_forward_ports_with_letters_or_empty_are_refused(void **state)
{
	forward_bad("22x:localhost:22");
	forward_bad("2222:localhost:22x");
	forward_bad(":localhost:22");
	forward_bad("2222:localhost:");
	forward_bad("-1:localhost:22");
}

static void
test_forward_ipv6_bind_in_brackets(void **state)
{
	struct forward_spec f = forward_ok("[::1]:8080:localhost:80");

	assert_string_equal(f.bind, "::1");
	assert_int_equal(f.port, 8080);
	assert_string_equal(f.host, "localhost");
}

static void
test_forward_ipv6_target_in_brackets(void **state)
{
	struct forward_spec f = forward_ok("8080:[2001:db8::5]:80");

	assert_string_equal(f.bind, "");
	assert_int_equal(f.port, 8080);
	assert_string_equal(f.host, "2001:db8::5");
	assert_int_equal(f.host_port, 80);
}

static void
test_forward_ipv6_bind_and_target_in_brackets(void **state)
{
	struct forward_spec f = forward_ok("[fe80::1%eth0]:9000:[::1]:9001");

	assert_string_equal(f.bind, "fe80::1%eth0");
	assert_string_equal(f.host, "::1");
	assert_int_equal(f.host_port, 9001);
}

static void
test_forward_bare_ipv6_target_is_refused(void **state)
{
	forward_bad("8080:::1:80");
}

static void
test_forward_of_two_fields_is_refused(void **state)
{
	struct error err = forward_bad("2222:localhost");

	assert_contains(err.msg, "forward '2222:localhost'");
	assert_contains(err.msg, "expected [bind:]PORT:HOST:HOSTPORT");
}

static void
test_forward_of_one_field_is_refused(void **state)
{
	forward_bad("2222");
	forward_bad("");
}

static void
test_forward_of_five_fields_is_refused(void **state)
{
	struct error err = forward_bad("a:1:b:2:c");

	assert_contains(err.msg, "expected [bind:]PORT:HOST:HOSTPORT");
}

static void
test_forward_of_six_fields_is_refused(void **state)
{
	forward_bad("a:1:b:2:c:3");
	forward_bad("1:2:3:4:5:6:7:8:9");
}

static void
test_forward_of_10000_characters_is_refused(void **state)
{
	char s[10001];
	struct error err;

	memset(s, '1', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	s[3] = ':';
	s[5000] = ':';
	err = forward_bad(s);
	assert_contains(err.msg, "expected [bind:]PORT:HOST:HOSTPORT");
}

static void
test_forward_with_10000_character_host_is_refused(void **state)
{
	char s[10020];

	memset(s, 'h', sizeof s);
	memcpy(s, "2222:", 5);
	snprintf(s + 10005, sizeof s - 10005, ":22");
	forward_bad(s);
}

static void
test_forward_target_host_starting_with_dash_is_refused(void **state)
{
	struct error err = forward_bad("2222:-oProxyCommand:22");

	assert_contains(err.msg, "target host '-oProxyCommand'");
}

static void
test_forward_bind_address_with_odd_bytes_is_refused(void **state)
{
	struct error err = forward_bad("bad bind:2222:localhost:22");

	assert_contains(err.msg, "bind address 'bad bind'");
}

static void
test_forward_empty_target_host_is_refused(void **state)
{
	forward_bad("2222::22");
}

static void
test_forward_unbalanced_brackets_are_refused(void **state)
{
	forward_bad("[::1:8080:localhost:80");
	forward_bad("8080:[::1:80");
	forward_bad("8080:::1]:80");
}

/* ---- spec_parse_target ------------------------------------------------- */

static void
test_target_host_and_port(void **state)
{
	char host[SPEC_HOST_MAX];
	int port = 0;
	struct error err;

	error_clear(&err);
	assert_int_equal(spec_parse_target("db.internal:5432", host, &port,
	    &err), 0);
	assert_string_equal(host, "db.internal");
	assert_int_equal(port, 5432);
	assert_int_equal(err.code, 0);
}

static void
test_target_bare_port_means_localhost(void **state)
{
	char host[SPEC_HOST_MAX];
	int port = 0;
	struct error err;

	error_clear(&err);
	assert_int_equal(spec_parse_target("8080", host, &port, &err), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 8080);
}

static void
test_target_ipv6_in_brackets(void **state)
{
	char host[SPEC_HOST_MAX];
	int port = 0;
	struct error err;

	error_clear(&err);
	assert_int_equal(spec_parse_target("[::1]:22", host, &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 22);
}

static void
test_target_port_0_is_refused(void **state)
{
	struct error err = target_bad("localhost:0");

	assert_contains(err.msg, "target 'localhost:0'");
	target_bad("0");
}

static void
test_target_without_port_is_refused(void **state)
{
	target_bad("localhost");
	target_bad("localhost:");
	target_bad("");
}

static void
test_target_bad_port_is_refused(void **state)
{
	target_bad("localhost:65536");
	target_bad("localhost:22x");
	target_bad("65536");
}

static void
test_target_bad_host_is_refused(void **state)
{
	target_bad("-oFoo:22");
	target_bad("bad host:22");
	target_bad(":22");
}

static void
test_target_of_three_fields_is_refused(void **state)
{
	target_bad("a:1:2");
	target_bad("::1:22");
}

static void
test_target_of_10000_characters_is_refused(void **state)
{
	char s[10001];

	memset(s, 't', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	s[9990] = ':';
	target_bad(s);
}

/* ---- spec_parse_port --------------------------------------------------- */

static void
test_port_minimum_is_honoured(void **state)
{
	int port = -1;

	assert_int_equal(spec_parse_port("0", 0, &port), 0);
	assert_int_equal(port, 0);
	port = -1;
	assert_int_equal(spec_parse_port("0", 1, &port), -1);
	assert_int_equal(port, -1);
}

static void
test_port_with_more_than_five_digits_is_refused(void **state)
{
	int port = -1;

	assert_int_equal(spec_parse_port("000022", 0, &port), -1);
	assert_int_equal(spec_parse_port("99999999999999999999", 0, &port), -1);
	assert_int_equal(port, -1);
}

/* ---- spec_format_forward ----------------------------------------------- */

static void
assert_round_trip(const char *s, const char *expected)
{
	struct forward_spec f = forward_ok(s), g;
	char out[3 * SPEC_HOST_MAX];

	spec_format_forward(&f, out, sizeof out);
	assert_string_equal(out, expected);
	g = forward_ok(out);
	assert_string_equal(g.bind, f.bind);
	assert_int_equal(g.port, f.port);
	assert_string_equal(g.host, f.host);
	assert_int_equal(g.host_port, f.host_port);
}

static void
test_format_three_fields_round_trips(void **state)
{
	assert_round_trip("2222:localhost:22", "2222:localhost:22");
}

static void
test_format_bind_address_round_trips(void **state)
{
	assert_round_trip("10.0.0.1:80:web:8080", "10.0.0.1:80:web:8080");
}

static void
test_format_empty_bind_becomes_star(void **state)
{
	assert_round_trip(":80:web:8080", "*:80:web:8080");
	assert_round_trip("*:80:web:8080", "*:80:web:8080");
}

static void
test_format_puts_ipv6_in_brackets(void **state)
{
	assert_round_trip("[::1]:0:[2001:db8::1]:22", "[::1]:0:[2001:db8::1]:22");
	assert_round_trip("7000:[fe80::1%eth0]:7001", "7000:[fe80::1%eth0]:7001");
}

static void
test_format_truncates_to_the_buffer(void **state)
{
	struct forward_spec f = forward_ok("2222:localhost:22");
	char out[8];

	memset(out, 'x', sizeof out);
	spec_format_forward(&f, out, sizeof out);
	assert_string_equal(out, "2222:lo");
}

/* ---- spec_host_is_valid / spec_user_is_valid --------------------------- */

static void
test_host_validity(void **state)
{
	assert_true(spec_host_is_valid("example.com"));
	assert_true(spec_host_is_valid("my_host-1"));
	assert_true(spec_host_is_valid("fe80::1%eth0"));
	assert_false(spec_host_is_valid(""));
	assert_false(spec_host_is_valid("-x"));
	assert_false(spec_host_is_valid("a b"));
	assert_false(spec_host_is_valid("a\tb"));
	assert_false(spec_host_is_valid("a/b"));
	assert_false(spec_host_is_valid("a;b"));
	assert_false(spec_host_is_valid("[::1]"));
}

static void
test_user_validity(void **state)
{
	assert_true(spec_user_is_valid("root"));
	assert_true(spec_user_is_valid("a.b_c-d"));
	assert_false(spec_user_is_valid(""));
	assert_false(spec_user_is_valid("-o"));
	assert_false(spec_user_is_valid("a:b"));
	assert_false(spec_user_is_valid("a b"));
	assert_false(spec_user_is_valid("a%b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bastion_without_user_defaults_port_22),
		cmocka_unit_test(test_bastion_with_user_and_port),
		cmocka_unit_test(test_bastion_with_user_without_port_defaults_port_22),
		cmocka_unit_test(test_bastion_user_may_hold_dot_underscore_and_dash),
		cmocka_unit_test(test_bastion_port_65535_is_the_highest),
		cmocka_unit_test(test_bastion_ipv6_in_brackets_with_port),
		cmocka_unit_test(test_bastion_ipv6_in_brackets_without_port_defaults_port_22),
		cmocka_unit_test(test_bastion_bare_ipv6_is_the_whole_host_on_port_22),
		cmocka_unit_test(test_bastion_bare_ipv6_may_carry_a_zone),
		cmocka_unit_test(test_bastion_with_two_colons_that_is_not_ipv6_is_refused),
		cmocka_unit_test(test_bastion_user_starting_with_dash_is_refused),
		cmocka_unit_test(test_bastion_option_injection_through_user_is_refused),
		cmocka_unit_test(test_bastion_user_with_odd_bytes_is_refused),
		cmocka_unit_test(test_bastion_empty_user_is_refused),
		cmocka_unit_test(test_bastion_user_of_33_characters_is_refused),
		cmocka_unit_test(test_bastion_host_with_space_is_refused),
		cmocka_unit_test(test_bastion_host_with_newline_is_refused),
		cmocka_unit_test(test_bastion_host_starting_with_dash_is_refused),
		cmocka_unit_test(test_bastion_empty_host_is_refused),
		cmocka_unit_test(test_bastion_port_0_is_refused),
		cmocka_unit_test(test_bastion_port_65536_is_refused),
		cmocka_unit_test(test_bastion_port_with_trailing_letters_is_refused),
		cmocka_unit_test(test_bastion_empty_port_is_refused),
		cmocka_unit_test(test_bastion_negative_or_signed_port_is_refused),
		cmocka_unit_test(test_bastion_unbalanced_brackets_are_refused),
		cmocka_unit_test(test_bastion_host_of_254_characters_is_refused),
		cmocka_unit_test(test_bastion_of_10000_characters_is_refused),
		cmocka_unit_test(test_bastion_error_names_the_input),

		cmocka_unit_test(test_forward_of_three_fields_has_no_bind_address),
		cmocka_unit_test(test_forward_of_four_fields_has_a_bind_address),
		cmocka_unit_test(test_forward_star_bind_means_all_interfaces),
		cmocka_unit_test(test_forward_empty_bind_means_all_interfaces),
		cmocka_unit_test(test_forward_remote_port_0_lets_the_bastion_choose),
		cmocka_unit_test(test_forward_remote_port_65535_is_the_highest),
		cmocka_unit_test(test_forward_target_port_0_is_refused),
		cmocka_unit_test(test_forward_remote_port_65536_is_refused),
		cmocka_unit_test(test_forward_target_port_65536_is_refused),
		cmocka_unit_test(test_forward_ports_with_letters_or_empty_are_refused),
		cmocka_unit_test(test_forward_ipv6_bind_in_brackets),
		cmocka_unit_test(test_forward_ipv6_target_in_brackets),
		cmocka_unit_test(test_forward_ipv6_bind_and_target_in_brackets),
		cmocka_unit_test(test_forward_bare_ipv6_target_is_refused),
		cmocka_unit_test(test_forward_of_two_fields_is_refused),
		cmocka_unit_test(test_forward_of_one_field_is_refused),
		cmocka_unit_test(test_forward_of_five_fields_is_refused),
		cmocka_unit_test(test_forward_of_six_fields_is_refused),
		cmocka_unit_test(test_forward_of_10000_characters_is_refused),
		cmocka_unit_test(test_forward_with_10000_character_host_is_refused),
		cmocka_unit_test(test_forward_target_host_starting_with_dash_is_refused),
		cmocka_unit_test(test_forward_bind_address_with_odd_bytes_is_refused),
		cmocka_unit_test(test_forward_empty_target_host_is_refused),
		cmocka_unit_test(test_forward_unbalanced_brackets_are_refused),

		cmocka_unit_test(test_target_host_and_port),
		cmocka_unit_test(test_target_bare_port_means_localhost),
		cmocka_unit_test(test_target_ipv6_in_brackets),
		cmocka_unit_test(test_target_port_0_is_refused),
		cmocka_unit_test(test_target_without_port_is_refused),
		cmocka_unit_test(test_target_bad_port_is_refused),
		cmocka_unit_test(test_target_bad_host_is_refused),
		cmocka_unit_test(test_target_of_three_fields_is_refused),
		cmocka_unit_test(test_target_of_10000_characters_is_refused),

		cmocka_unit_test(test_port_minimum_is_honoured),
		cmocka_unit_test(test_port_with_more_than_five_digits_is_refused),

		cmocka_unit_test(test_format_three_fields_round_trips),
		cmocka_unit_test(test_format_bind_address_round_trips),
		cmocka_unit_test(test_format_empty_bind_becomes_star),
		cmocka_unit_test(test_format_puts_ipv6_in_brackets),
		cmocka_unit_test(test_format_truncates_to_the_buffer),

		cmocka_unit_test(test_host_validity),
		cmocka_unit_test(test_user_validity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
