/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * known_hosts as OpenSSH reads it, for setup's copy and trust's rewrite:
 * which lines name the bastion (plain, bracketed with a port, hashed, or
 * excluded by a negated pattern), what a copy carries (@revoked kept,
 * other hosts and markers not), and what a rotation leaves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "hostkey.h"
#include "strbuf.h"

/* Two real ed25519 keys (their base64), A the bastion's, B another's. */
#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIALNJEzpLgy/BZaqkEVuQKcek5bp47K0WmDcER718afY"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAIKdmnOGRLqpuCP3oJnbuwdA8O45qq4Cc10TWJgz5R7Mt"
/* "[127.0.0.1]:2222" hashed as ssh-keygen -H does, salt 00 01 .. 13. */
#define HASHED "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|zKYaAqmSav3Qxr2sffNqWFIcbe4="

struct fixture {
	char dir[64];
	char path[128];
	struct bastion_spec b;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_hostkey.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/known_hosts", f->dir);
	snprintf(f->b.host, sizeof f->b.host, "127.0.0.1");
	f->b.port = 2222;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_known_hosts(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* hostkey_copy_known's lines and count for the fixture's bastion. */
static int
copy(const struct fixture *f, struct strbuf *out)
{
	struct error err;

	strbuf_init(out);
	error_clear(&err);
	return hostkey_copy_known(f->path, &f->b, out, &err);
}

static void
test_a_port_other_than_22_is_bracketed(void **state)
{
	struct bastion_spec b = { .port = 2222 };
	char out[64];

	(void)state;
	snprintf(b.host, sizeof b.host, "bastion.example.org");
	hostkey_host_pattern(&b, out, sizeof out);
	assert_string_equal(out, "[bastion.example.org]:2222");
	b.port = 22;
	hostkey_host_pattern(&b, out, sizeof out);
	assert_string_equal(out, "bastion.example.org");
}

static void
test_copy_takes_the_bastions_line_and_no_other_hosts(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	write_known_hosts(f, "[127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n"
	                     "[127.0.0.1]:2200 ssh-ed25519 " KEY_B "\n"
	                     "otherhost ssh-ed25519 " KEY_B "\n");
	assert_int_equal(copy(f, &out), 1);
	assert_string_equal(out.data,
	    "[127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n");
	strbuf_free(&out);
}

static void
test_copy_finds_a_hashed_entry(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	write_known_hosts(f, HASHED " ssh-ed25519 " KEY_A "\n");
	assert_int_equal(copy(f, &out), 1);
	assert_non_null(strstr(out.data, KEY_A));
	strbuf_free(&out);
}

static void
test_a_negated_pattern_excludes_the_line(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	write_known_hosts(f,
	    "[127.0.0.1]:*,![127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n");
	assert_int_equal(copy(f, &out), 0);
	assert_null(out.data);
	strbuf_free(&out);
}

static void
test_revoked_lines_are_carried_but_not_counted(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	write_known_hosts(f, "@revoked [127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n"
	                     "@cert-authority [127.0.0.1]:2222 ssh-ed25519 " KEY_B
	                     "\n");
	assert_int_equal(copy(f, &out), 0);
	assert_string_equal(out.data,
	    "@revoked [127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n");
	strbuf_free(&out);
}

static void
test_a_key_both_trusted_and_revoked_is_found(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	write_known_hosts(f, "[127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n"
	                     "@revoked [127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n");
	assert_int_equal(copy(f, &out), 1);
	assert_non_null(hostkey_text_revoked(out.data));
	strbuf_free(&out);
}

static void
test_a_missing_file_holds_no_keys(void **state)
{
	struct fixture *f = *state;
	struct strbuf out;

	assert_int_equal(copy(f, &out), 0);
	strbuf_free(&out);
}

static void
test_replace_drops_the_old_key_and_keeps_the_rest(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char *text = NULL;

	write_known_hosts(f, "# mine\n"
	                     "[127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n"
	                     "otherhost ssh-ed25519 " KEY_B "\n"
	                     "@revoked [127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n");
	error_clear(&err);
	assert_int_equal(hostkey_replace_known(f->path, &f->b,
	                     "[127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n", &err),
	    0);
	assert_int_equal(file_read(f->path, 65536, &text, &err), 0);
	assert_string_equal(text,
	    "# mine\n"
	    "otherhost ssh-ed25519 " KEY_B "\n"
	    "@revoked [127.0.0.1]:2222 ssh-ed25519 " KEY_B "\n"
	    "[127.0.0.1]:2222 ssh-ed25519 " KEY_A "\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_port_other_than_22_is_bracketed),
		cmocka_unit_test_setup_teardown(
		    test_copy_takes_the_bastions_line_and_no_other_hosts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_copy_finds_a_hashed_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_negated_pattern_excludes_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_revoked_lines_are_carried_but_not_counted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_key_both_trusted_and_revoked_is_found, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_missing_file_holds_no_keys,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_drops_the_old_key_and_keeps_the_rest, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
