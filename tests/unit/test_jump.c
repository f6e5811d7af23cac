/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Jump hosts as configuration: proxy_jump's grammar, and the config each
 * hop's session runs with (its own host, user, port and key; nothing of
 * the bastion's forwards, pin or way there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tether/exit.h"
#include "config.h"
#include "jump.h"

static struct tether_config *
tunnel_with_jumps(struct tether_config *out, const char *jumps)
{
	struct tether_config *cfg = out;
	struct error err;

	error_clear(&err);
	config_init_defaults(cfg, "/home/u");
	assert_int_equal(config_set_bastion(cfg, "tun@inner:2022", "t", &err),
	    0);
	assert_int_equal(config_add_forward(cfg, "2222:localhost:22", "t",
	                     &err),
	    0);
	assert_int_equal(config_set_path(cfg, cfg->key_path, "/k/tunnel", "t",
	                     &err),
	    0);
	assert_int_equal(config_set_host_key_pin(cfg,
	                     "SHA256:"
	                     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
	                     "t", &err),
	    0);
	assert_int_equal(config_set_proxy_jump(cfg, jumps, "t", &err), 0);
	return cfg;
}

static void
test_proxy_jump_takes_hops_in_order(void **state)
{
	struct tether_config tunnel,
	    *cfg = tunnel_with_jumps(&tunnel, "gw@outer:2201, [::1]:22");

	(void)state;
	assert_int_equal(cfg->njumps, 2);
	assert_string_equal(cfg->jumps[0].dest.user, "gw");
	assert_string_equal(cfg->jumps[0].dest.host, "outer");
	assert_int_equal(cfg->jumps[0].dest.port, 2201);
	assert_string_equal(cfg->jumps[0].alias, "outer");
	assert_string_equal(cfg->jumps[1].dest.host, "::1");
	assert_int_equal(cfg->jumps[1].dest.port, 22);
}

static void
test_proxy_jump_none_clears_the_hops(void **state)
{
	struct tether_config tunnel, *cfg = tunnel_with_jumps(&tunnel, "outer");
	struct error err;

	(void)state;
	error_clear(&err);
	assert_int_equal(config_set_proxy_jump(cfg, "none", "t", &err), 0);
	assert_int_equal(cfg->njumps, 0);
}

static void
test_proxy_jump_refuses_a_bad_hop_by_name(void **state)
{
	struct tether_config tunnel, *cfg = tunnel_with_jumps(&tunnel, "outer");
	struct error err;

	(void)state;
	error_clear(&err);
	assert_int_equal(config_set_proxy_jump(cfg, "ok, -oProxyCommand=x",
	                     "-J", &err),
	    -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "-J: "));
	error_clear(&err);
	assert_int_equal(config_set_proxy_jump(cfg, "a,b,c,d,e", "-J", &err),
	    -1);
	assert_non_null(strstr(err.msg, "more than 4 jump hosts"));
}

static void
test_proxy_jump_and_proxy_command_replace_each_other(void **state)
{
	struct tether_config tunnel, *cfg = tunnel_with_jumps(&tunnel, "outer");
	struct error err;

	(void)state;
	error_clear(&err);
	assert_int_equal(config_set_proxy_command(cfg, "nc %h %p", "t", &err),
	    0);
	assert_int_equal(cfg->njumps, 0);
	assert_int_equal(config_set_proxy_jump(cfg, "outer", "t", &err), 0);
	assert_string_equal(cfg->proxy_command, "");
	assert_int_equal(cfg->njumps, 1);
}

static void
test_a_hop_runs_with_its_own_host_and_nothing_of_the_bastions(void **state)
{
	struct tether_config tunnel,
	    *cfg = tunnel_with_jumps(&tunnel, "gw@outer:2201, middle");
	struct tether_config hop;

	(void)state;
	jump_config(cfg, 1, &hop);
	assert_string_equal(hop.bastion.host, "middle");
	assert_int_equal(hop.nbastions, 1);
	assert_int_equal(hop.nforwards, 0);
	assert_string_equal(hop.host_key_pin, "");
	assert_int_equal(hop.njumps, 0);
	assert_int_equal(hop.probe_interval, 0);
	/* No IdentityFile of its own: the tunnel's key. */
	assert_string_equal(hop.key_path, "/k/tunnel");
	/* Same known_hosts and policy as the tunnel. */
	assert_string_equal(hop.known_hosts, cfg->known_hosts);
}

static void
test_a_hop_with_its_own_identity_offers_only_that(void **state)
{
	struct tether_config tunnel, *cfg = tunnel_with_jumps(&tunnel, "gate");
	struct tether_config hop;

	(void)state;
	strcpy(cfg->jumps[0].dest.host, "10.0.0.1");
	strcpy(cfg->jumps[0].key_path, "/k/gate");
	cfg->nmore_keys = 1;
	strcpy(cfg->more_keys[0], "/k/other");
	jump_config(cfg, 0, &hop);
	assert_string_equal(hop.key_path, "/k/gate");
	assert_int_equal(hop.nmore_keys, 0);
	/* Named by its ssh_config alias, connected to by its HostName. */
	assert_string_equal(hop.bastion.host, "10.0.0.1");
	assert_string_equal(hop.bastion_alias, "gate");
}

static void
test_a_hop_is_reached_through_the_hops_before_it(void **state)
{
	struct tether_config tunnel,
	    *cfg = tunnel_with_jumps(&tunnel, "a, b, c");
	struct tether_config hop;

	(void)state;
	jump_config_through(cfg, 2, &hop);
	assert_string_equal(hop.bastion.host, "c");
	assert_int_equal(hop.njumps, 2);
	assert_string_equal(hop.jumps[0].dest.host, "a");
	assert_string_equal(hop.jumps[1].dest.host, "b");
	jump_config_through(cfg, 0, &hop);
	assert_int_equal(hop.njumps, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_jump_takes_hops_in_order),
		cmocka_unit_test(test_proxy_jump_none_clears_the_hops),
		cmocka_unit_test(test_proxy_jump_refuses_a_bad_hop_by_name),
		cmocka_unit_test(
		    test_proxy_jump_and_proxy_command_replace_each_other),
		cmocka_unit_test(
		    test_a_hop_runs_with_its_own_host_and_nothing_of_the_bastions),
		cmocka_unit_test(
		    test_a_hop_with_its_own_identity_offers_only_that),
		cmocka_unit_test(
		    test_a_hop_is_reached_through_the_hops_before_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
