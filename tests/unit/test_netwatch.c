/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * netwatch_parse: which routing netlink messages mean "the network came
 * back". Messages are built by hand; each buffer is parsed from a heap copy
 * of exactly its length, so the sanitizer build catches any read past it.
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netwatch.h"

#define DEFAULT_ROUTE "a default route appeared"
#define ADDRESS "an address appeared"
#define LINK_UP "a link came up"

#define UP_RUNNING (IFF_UP | IFF_RUNNING)
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000      /* <linux/if.h>, which <net/if.h> clashes with */
#endif

/* ---- helpers ----------------------------------------------------------- */

/* Messages laid end to end as the kernel sends them, aligned to 4. */
struct nlbuf {
	uint32_t words[1024];
	size_t len;
};

static unsigned char *
bytes(struct nlbuf *b)
{
	return (unsigned char *)b->words;
}

static struct nlmsghdr *
nl_add(struct nlbuf *b, uint16_t type, const void *payload, size_t plen)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(bytes(b) + b->len);

	assert_true(b->len + NLMSG_SPACE(plen) <= sizeof b->words);
	memset(nh, 0, NLMSG_SPACE(plen));
	nh->nlmsg_len = NLMSG_LENGTH(plen);
	nh->nlmsg_type = type;
	nh->nlmsg_seq = 0;
	nh->nlmsg_pid = 0;
	if (plen > 0)
		memcpy(NLMSG_DATA(nh), payload, plen);
	b->len += NLMSG_ALIGN(nh->nlmsg_len);
	return nh;
}

/* Appends one attribute to the last message, nh. */
static void
nl_attr(struct nlbuf *b, struct nlmsghdr *nh, unsigned short type,
    const void *data, size_t dlen)
{
	struct rtattr *rta = (struct rtattr *)(bytes(b) + b->len);

	assert_true(b->len + RTA_SPACE(dlen) <= sizeof b->words);
	memset(rta, 0, RTA_SPACE(dlen));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(dlen);
	memcpy(RTA_DATA(rta), data, dlen);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(dlen);
	b->len += RTA_SPACE(dlen);
}

static struct nlmsghdr *
add_route(struct nlbuf *b, uint16_t type, int family, unsigned char dst_len,
    unsigned char table)
{
	struct rtmsg rt;

	memset(&rt, 0, sizeof rt);
	rt.rtm_family = (unsigned char)family;
	rt.rtm_dst_len = dst_len;
	rt.rtm_table = table;
	rt.rtm_protocol = RTPROT_BOOT;
	rt.rtm_scope = RT_SCOPE_UNIVERSE;
	rt.rtm_type = RTN_UNICAST;
	return nl_add(b, type, &rt, sizeof rt);
}

static struct nlmsghdr *
add_addr(struct nlbuf *b, uint16_t type, int family)
{
	struct ifaddrmsg ifa;

	memset(&ifa, 0, sizeof ifa);
	ifa.ifa_family = (unsigned char)family;
	ifa.ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	ifa.ifa_index = 2;
	return nl_add(b, type, &ifa, sizeof ifa);
}

static struct nlmsghdr *
add_link(struct nlbuf *b, uint16_t type, unsigned flags)
{
	struct ifinfomsg ifi;

	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = 2;
	ifi.ifi_flags = flags;
	ifi.ifi_change = 0xffffffff;
	return nl_add(b, type, &ifi, sizeof ifi);
}

/* Parses a heap copy of exactly len bytes of data. */
static const char *
parse_exact(const void *data, size_t len)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	const char *why;

	assert_non_null(copy);
	memcpy(copy, data, len);
	why = netwatch_parse(copy, len);
	free(copy);
	return why;
}

static const char *
parse(struct nlbuf *b)
{
	return parse_exact(b->words, b->len);
}

static void
assert_reason(const char *got, const char *want)
{
	if (want == NULL && got != NULL)
		fail_msg("\"%s\", not NULL", got);
	if (want != NULL && got == NULL)
		fail_msg("NULL, not \"%s\"", want);
	if (want != NULL)
		assert_string_equal(got, want);
}

/* ---- routes ------------------------------------------------------------ */

static void
test_new_default_route_in_main_table_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN);
	assert_reason(parse(&b), DEFAULT_ROUTE);
}

static void
test_new_ipv6_default_route_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN);
	assert_reason(parse(&b), DEFAULT_ROUTE);
}

static void
test_new_default_route_with_attributes_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsghdr *nh;
	uint32_t gw = htonl(0xc0a80101), oif = 2;

	nh = add_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN);
	nl_attr(&b, nh, RTA_GATEWAY, &gw, sizeof gw);
	nl_attr(&b, nh, RTA_OIF, &oif, sizeof oif);
	assert_reason(parse(&b), DEFAULT_ROUTE);
}

static void
test_new_route_that_is_not_default_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET, 24, RT_TABLE_MAIN);
	assert_reason(parse(&b), NULL);
}

static void
test_new_host_route_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET6, 128, RT_TABLE_MAIN);
	assert_reason(parse(&b), NULL);
}

static void
test_new_default_route_in_another_table_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_LOCAL);
	add_route(&b, RTM_NEWROUTE, AF_INET, 0, 100);
	assert_reason(parse(&b), NULL);
}

static void
test_deleted_default_route_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN);
	assert_reason(parse(&b), NULL);
}

/* ---- addresses --------------------------------------------------------- */

static void
test_new_address_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse(&b), ADDRESS);
}

static void
test_new_ipv6_address_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_addr(&b, RTM_NEWADDR, AF_INET6);
	assert_reason(parse(&b), ADDRESS);
}

static void
test_deleted_address_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_addr(&b, RTM_DELADDR, AF_INET);
	assert_reason(parse(&b), NULL);
}

/* ---- links ------------------------------------------------------------- */

static void
test_link_up_and_running_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, UP_RUNNING);
	assert_reason(parse(&b), LINK_UP);
}

static void
test_link_up_and_running_with_more_flags_is_reported(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, UP_RUNNING | IFF_BROADCAST |
	    IFF_MULTICAST | IFF_LOWER_UP);
	assert_reason(parse(&b), LINK_UP);
}

static void
test_link_up_without_carrier_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, IFF_UP | IFF_BROADCAST);
	assert_reason(parse(&b), NULL);
}

static void
test_link_running_but_not_up_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, IFF_RUNNING);
	assert_reason(parse(&b), NULL);
}

static void
test_link_down_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, 0);
	assert_reason(parse(&b), NULL);
}

static void
test_loopback_coming_up_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, UP_RUNNING | IFF_LOOPBACK);
	assert_reason(parse(&b), NULL);
}

static void
test_deleted_link_is_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_DELLINK, UP_RUNNING);
	assert_reason(parse(&b), NULL);
}

/* ---- other messages ---------------------------------------------------- */

static void
test_other_message_types_are_ignored(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsgerr e;
	uint32_t word = 0;

	memset(&e, 0, sizeof e);
	nl_add(&b, NLMSG_NOOP, NULL, 0);
	nl_add(&b, NLMSG_ERROR, &e, sizeof e);
	nl_add(&b, NLMSG_DONE, &word, sizeof word);
	nl_add(&b, RTM_NEWNEIGH, &word, sizeof word);
	nl_add(&b, RTM_NEWRULE, &word, sizeof word);
	assert_reason(parse(&b), NULL);
}

/* ---- several messages -------------------------------------------------- */

static void
test_second_message_counts_when_the_first_does_not(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET, 24, RT_TABLE_MAIN);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse(&b), ADDRESS);
}

static void
test_last_of_many_messages_counts(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, 0);
	add_addr(&b, RTM_DELADDR, AF_INET6);
	add_route(&b, RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN);
	add_link(&b, RTM_NEWLINK, UP_RUNNING | IFF_LOOPBACK);
	add_route(&b, RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN);
	assert_reason(parse(&b), DEFAULT_ROUTE);
}

static void
test_first_event_is_the_reason_given(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_link(&b, RTM_NEWLINK, UP_RUNNING);
	add_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse(&b), LINK_UP);
}

static void
test_message_after_one_with_attributes_is_found(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsghdr *nh;
	uint32_t dst = htonl(0x0a000000);
	char name[] = "eth0";     /* 5 bytes: padded to 8 */

	nh = add_route(&b, RTM_NEWROUTE, AF_INET, 8, RT_TABLE_MAIN);
	nl_attr(&b, nh, RTA_DST, &dst, sizeof dst);
	nh = add_link(&b, RTM_NEWLINK, 0);
	nl_attr(&b, nh, IFLA_IFNAME, name, sizeof name);
	add_link(&b, RTM_NEWLINK, UP_RUNNING);
	assert_reason(parse(&b), LINK_UP);
}

/* ---- truncated and malformed buffers ----------------------------------- */

static void
test_empty_buffer_is_nothing(void **state)
{
	assert_reason(netwatch_parse(NULL, 0), NULL);
	assert_reason(parse_exact("", 0), NULL);
}

static void
test_buffer_shorter_than_a_header_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };
	size_t len;

	add_addr(&b, RTM_NEWADDR, AF_INET);
	for (len = 1; len < sizeof(struct nlmsghdr); len++)
		assert_reason(parse_exact(b.words, len), NULL);
}

static void
test_message_longer_than_the_buffer_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };
	size_t len;

	add_addr(&b, RTM_NEWADDR, AF_INET);
	for (len = sizeof(struct nlmsghdr); len < b.len; len++)
		assert_reason(parse_exact(b.words, len), NULL);
}

static void
test_nlmsg_len_beyond_the_buffer_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsghdr *nh;

	nh = add_link(&b, RTM_NEWLINK, UP_RUNNING);
	nh->nlmsg_len += 4;
	assert_reason(parse(&b), NULL);
	nh->nlmsg_len = 0xffffffff;
	assert_reason(parse(&b), NULL);
}

static void
test_nlmsg_len_shorter_than_a_header_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsghdr *nh;
	uint32_t len;

	nh = add_addr(&b, RTM_NEWADDR, AF_INET);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	for (len = 0; len < sizeof(struct nlmsghdr); len++) {
		nh->nlmsg_len = len;
		assert_reason(parse(&b), NULL);
	}
}

static void
test_truncated_second_message_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };

	add_route(&b, RTM_NEWROUTE, AF_INET, 24, RT_TABLE_MAIN);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse_exact(b.words, b.len - 1), NULL);
	assert_reason(parse_exact(b.words, b.len - sizeof(struct ifaddrmsg)),
	    NULL);
}

/* The header fits, the route/address/link body does not. */
static void
test_event_type_without_its_body_is_nothing(void **state)
{
	static const uint16_t types[] = { RTM_NEWROUTE, RTM_NEWADDR,
	    RTM_NEWLINK };
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		struct nlbuf b = { .len = 0 };

		nl_add(&b, types[i], NULL, 0);     /* all zero: would match */
		assert_reason(parse(&b), NULL);
	}
}

static void
test_event_type_with_a_short_body_is_nothing(void **state)
{
	struct nlbuf b = { .len = 0 };
	unsigned char zero[16];
	struct nlmsghdr *nh;

	memset(zero, 0, sizeof zero);
	nh = add_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg) - 1);
	assert_reason(parse_exact(b.words, nh->nlmsg_len), NULL);

	b.len = 0;
	nh = add_link(&b, RTM_NEWLINK, UP_RUNNING);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg) - 1);
	assert_reason(parse_exact(b.words, nh->nlmsg_len), NULL);

	b.len = 0;
	nh = add_addr(&b, RTM_NEWADDR, AF_INET);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg) - 1);
	assert_reason(parse_exact(b.words, nh->nlmsg_len), NULL);
}

static void
test_message_after_a_short_bodied_one_is_found(void **state)
{
	struct nlbuf b = { .len = 0 };
	uint32_t word = 0;

	nl_add(&b, RTM_NEWROUTE, &word, sizeof word);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse(&b), ADDRESS);
}

/* A 29-byte message in a 29-byte buffer: the walk steps to 32, past the end. */
static void
test_unpadded_last_message_is_not_read_past(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsghdr *nh;
	unsigned char body[13];

	memset(body, 0, sizeof body);
	nh = nl_add(&b, RTM_DELROUTE, body, sizeof body);
	assert_int_equal(nh->nlmsg_len, 29);
	assert_reason(parse_exact(b.words, 29), NULL);
}

/* What lies past the end of the buffer must not count, however it looks. */
static void
test_bytes_past_an_unpadded_last_message_are_not_parsed(void **state)
{
	struct nlbuf b = { .len = 0 };
	unsigned char body[13];

	memset(body, 0, sizeof body);
	nl_add(&b, RTM_DELROUTE, body, sizeof body);
	assert_int_equal(b.len, 32);
	add_addr(&b, RTM_NEWADDR, AF_INET);          /* at 32, not passed */
	assert_reason(netwatch_parse(b.words, 29), NULL);
	assert_reason(netwatch_parse(b.words, 31), NULL);
}

static void
test_message_after_an_unpadded_one_is_found(void **state)
{
	struct nlbuf b = { .len = 0 };
	unsigned char body[13];

	memset(body, 0, sizeof body);
	nl_add(&b, RTM_DELROUTE, body, sizeof body);
	add_addr(&b, RTM_NEWADDR, AF_INET);
	assert_reason(parse(&b), ADDRESS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_default_route_in_main_table_is_reported),
		cmocka_unit_test(test_new_ipv6_default_route_is_reported),
		cmocka_unit_test(test_new_default_route_with_attributes_is_reported),
		cmocka_unit_test(test_new_route_that_is_not_default_is_ignored),
		cmocka_unit_test(test_new_host_route_is_ignored),
		cmocka_unit_test(test_new_default_route_in_another_table_is_ignored),
		cmocka_unit_test(test_deleted_default_route_is_ignored),

		cmocka_unit_test(test_new_address_is_reported),
		cmocka_unit_test(test_new_ipv6_address_is_reported),
		cmocka_unit_test(test_deleted_address_is_ignored),

		cmocka_unit_test(test_link_up_and_running_is_reported),
		cmocka_unit_test(test_link_up_and_running_with_more_flags_is_reported),
		cmocka_unit_test(test_link_up_without_carrier_is_ignored),
		cmocka_unit_test(test_link_running_but_not_up_is_ignored),
		cmocka_unit_test(test_link_down_is_ignored),
		cmocka_unit_test(test_loopback_coming_up_is_ignored),
		cmocka_unit_test(test_deleted_link_is_ignored),

		cmocka_unit_test(test_other_message_types_are_ignored),

		cmocka_unit_test(test_second_message_counts_when_the_first_does_not),
		cmocka_unit_test(test_last_of_many_messages_counts),
		cmocka_unit_test(test_first_event_is_the_reason_given),
		cmocka_unit_test(test_message_after_one_with_attributes_is_found),

		cmocka_unit_test(test_empty_buffer_is_nothing),
		cmocka_unit_test(test_buffer_shorter_than_a_header_is_nothing),
		cmocka_unit_test(test_message_longer_than_the_buffer_is_nothing),
		cmocka_unit_test(test_nlmsg_len_beyond_the_buffer_is_nothing),
		cmocka_unit_test(test_nlmsg_len_shorter_than_a_header_is_nothing),
		cmocka_unit_test(test_truncated_second_message_is_nothing),
		cmocka_unit_test(test_event_type_without_its_body_is_nothing),
		cmocka_unit_test(test_event_type_with_a_short_body_is_nothing),
		cmocka_unit_test(test_message_after_a_short_bodied_one_is_found),
		cmocka_unit_test(test_unpadded_last_message_is_not_read_past),
		cmocka_unit_test(test_bytes_past_an_unpadded_last_message_are_not_parsed),
		cmocka_unit_test(test_message_after_an_unpadded_one_is_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
