/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The tunnel's state file: the JSON state_render gives (read back with
 * jansson), the atomic write, and where the runtime directory is.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tether/exit.h"
#include "state.h"

#define assert_contains(haystack, needle) \
	do { \
		if (strstr((haystack), (needle)) == NULL) \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
			    (needle)); \
	} while (0)

#define T_CONNECTED 1700000000 /* 2023-11-14T22:13:20Z */
#define T_ERROR 951782400      /* 2000-02-29T00:00:00Z */
#define T_UPDATED 1712345678   /* 2024-04-05T19:34:38Z */

/* ---- helpers ----------------------------------------------------------- */

static void
set_forward(struct state_view *v, size_t i, const char *spec, int remote,
    int bound, const char *st)
{
	snprintf(v->forwards[i].spec, sizeof v->forwards[i].spec, "%s", spec);
	v->forwards[i].remote_port = remote;
	v->forwards[i].bound_port = bound;
	v->forwards[i].state = st;
}

/* Every field set, none to a default. */
static void
full_view(struct state_view *v)
{
	memset(v, 0, sizeof *v);
	v->name = "db";
	v->pid = 4242;
	v->state = "forwarding";
	snprintf(v->bastion, sizeof v->bastion, "ops@bastion.example:2222");
	set_forward(v, 0, "5432:localhost:5432", 5432, 5432, "bound");
	set_forward(v, 1, "[::1]:0:10.0.0.7:22", 0, 40123, "bound");
	set_forward(v, 2, "8080:web:80", 8080, 0, "refused");
	v->nforwards = 3;
	v->connected_since = T_CONNECTED;
	v->reconnects = 7;
	v->last_error = "bastion.example: connection refused";
	v->last_error_at = T_ERROR;
	v->channels = 3;
	v->bytes_to_target = 123456789012ULL;
	v->bytes_from_target = 987654321098ULL;
	v->updated = T_UPDATED;
}

/* Renders v and parses it back; *text_out (if given) gets the text. */
static json_t *
render_parse(const struct state_view *v, char **text_out)
{
	json_error_t jerr;
	json_t *root;
	char *text = state_render(v);

	if (text == NULL)
		fail_msg("state_render gave NULL");
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		fail_msg("not JSON (line %d: %s):\n%s", jerr.line, jerr.text,
		    text);
	if (!json_is_object(root))
		fail_msg("not an object:\n%s", text);
	if (text_out != NULL)
		*text_out = text;
	else
		free(text);
	return root;
}

static const json_t *
member(const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);

	if (j == NULL)
		fail_msg("no member \"%s\"", key);
	return j;
}

static void
assert_json_string(const json_t *obj, const char *key, const char *want)
{
	const json_t *j = member(obj, key);

	if (!json_is_string(j))
		fail_msg("\"%s\" is not a string", key);
	assert_int_equal(json_string_length(j), strlen(want));
	assert_string_equal(json_string_value(j), want);
}

static void
assert_json_int(const json_t *obj, const char *key, json_int_t want)
{
	const json_t *j = member(obj, key);

	if (!json_is_integer(j))
		fail_msg("\"%s\" is not an integer", key);
	if (json_integer_value(j) != want)
		fail_msg("\"%s\" is %lld, not %lld", key,
		    (long long)json_integer_value(j), (long long)want);
}

static void
assert_json_null(const json_t *obj, const char *key)
{
	if (!json_is_null(member(obj, key)))
		fail_msg("\"%s\" is not null", key);
}

static void
assert_forward(const json_t *arr, size_t i, const char *spec, int remote,
    int bound, const char *st)
{
	const json_t *f = json_array_get(arr, i);

	if (!json_is_object(f))
		fail_msg("forwards[%zu] is not an object", i);
	assert_int_equal(json_object_size(f), 8);
	assert_json_string(f, "spec", spec);
	assert_json_int(f, "remote_port", remote);
	assert_json_int(f, "bound_port", bound);
	assert_json_string(f, "state", st);
	/* No probe has run, and nothing was refused, in these views. */
	assert_json_null(f, "probe_rtt_ms");
	assert_json_int(f, "refusals", 0);
	assert_json_null(f, "refused_since");
	assert_json_null(f, "diagnosis");
}

/* A refused forward says how often and since when. */
static void
test_render_gives_a_refused_forward_its_count_and_start(void **state)
{
	struct state_view v;
	json_t *root, *f;

	(void)state;
	memset(&v, 0, sizeof v);
	v.name = "r";
	v.state = "waiting-for-port";
	v.nforwards = 1;
	snprintf(v.forwards[0].spec, sizeof v.forwards[0].spec, "2222:h:22");
	v.forwards[0].remote_port = 2222;
	v.forwards[0].state = "refused";
	v.forwards[0].refusals = 3;
	v.forwards[0].refused_since = 86400;
	root = render_parse(&v, NULL);
	f = json_array_get(json_object_get(root, "forwards"), 0);
	assert_json_int(f, "refusals", 3);
	assert_json_string(f, "refused_since", "1970-01-02T00:00:00Z");
	assert_json_string(f, "diagnosis", "in-use-or-not-permitted");
	assert_true(json_is_false(json_object_get(root, "forwarding")));
	json_decref(root);
}

/* A tunnel that ended on a failure says with what, in words. */
static void
test_render_gives_a_failed_tunnel_its_exit_code_and_meaning(void **state)
{
	struct state_view v;
	const json_t *ex;
	json_t *root;

	(void)state;
	memset(&v, 0, sizeof v);
	v.name = "f";
	v.state = "failed";
	v.exit_code = 5;
	v.last_error = "bastion host key changed";
	root = render_parse(&v, NULL);
	ex = member(root, "exit");
	assert_json_int(ex, "code", 5);
	assert_json_string(ex, "meaning",
	    "bastion host key unknown or changed");
	json_decref(root);
}

/* A recovered problem is no longer current: previous_error, both times. */
static void
test_render_gives_the_previous_error_its_start_and_end(void **state)
{
	struct state_view v;
	const json_t *p;
	json_t *root;

	(void)state;
	memset(&v, 0, sizeof v);
	v.name = "p";
	v.state = "forwarding";
	v.previous_error = "lost the bastion";
	v.previous_error_at = 86400;
	v.previous_error_cleared_at = 86460;
	root = render_parse(&v, NULL);
	assert_json_null(root, "last_error");
	assert_true(json_is_true(json_object_get(root, "forwarding")));
	p = member(root, "previous_error");
	assert_json_string(p, "message", "lost the bastion");
	assert_json_string(p, "at", "1970-01-02T00:00:00Z");
	assert_json_string(p, "cleared_at", "1970-01-02T00:01:00Z");
	json_decref(root);
}

/* Several bastions: which serves, and why the others failed (or null). */
static void
test_render_lists_several_bastions_and_why_one_failed(void **state)
{
	struct state_view v;
	const json_t *list;
	json_t *root;

	(void)state;
	memset(&v, 0, sizeof v);
	v.name = "f";
	v.state = "forwarding";
	v.nbastions = 2;
	snprintf(v.bastions[0].bastion, sizeof v.bastions[0].bastion, "u@a:22");
	v.bastions[0].last_error = "cannot reach the bastion a:22";
	v.bastions[0].last_error_at = 86400;
	snprintf(v.bastions[1].bastion, sizeof v.bastions[1].bastion, "u@b:22");
	v.bastions[1].in_use = 1;
	root = render_parse(&v, NULL);
	list = member(root, "bastions");
	assert_int_equal(json_array_size(list), 2);
	assert_json_string(json_array_get(list, 0), "last_error",
	    "cannot reach the bastion a:22");
	assert_true(
	    json_is_false(json_object_get(json_array_get(list, 0), "in_use")));
	assert_json_null(json_array_get(list, 1), "last_error");
	assert_true(
	    json_is_true(json_object_get(json_array_get(list, 1), "in_use")));
	json_decref(root);
}

/* A forward with a probe's round trip shows it in milliseconds. */
static void
test_render_gives_a_probed_forward_its_round_trip(void **state)
{
	struct state_view v;
	json_t *root, *f;
	char *text;

	(void)state;
	memset(&v, 0, sizeof v);
	v.name = "p";
	v.state = "forwarding";
	v.nforwards = 1;
	snprintf(v.forwards[0].spec, sizeof v.forwards[0].spec, "2222:h:22");
	v.forwards[0].remote_port = 2222;
	v.forwards[0].bound_port = 2222;
	v.forwards[0].state = "bound";
	v.forwards[0].probe_rtt_ms = 1.5;
	text = state_render(&v);
	assert_non_null(text);
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	f = json_array_get(json_object_get(root, "forwards"), 0);
	assert_true(json_is_real(json_object_get(f, "probe_rtt_ms")));
	assert_true(json_real_value(json_object_get(f, "probe_rtt_ms")) == 1.5);
	json_decref(root);
	free(text);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
assert_file_is(const char *path, const char *want)
{
	char *got = read_all(path);

	assert_int_equal(strlen(got), strlen(want));
	assert_string_equal(got, want);
	free(got);
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void
write_ok(const char *path, const char *text)
{
	struct error err;

	error_clear(&err);
	if (state_write_atomic(path, text, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(err.code, 0);
}

/* ---- fixture: a temporary directory ------------------------------------ */

struct tempdir {
	char dir[64];
	char path[128]; /* dir/db.json */
	char tmp[128];  /* dir/db.json.tmp */
};

static int
tempdir_setup(void **state)
{
	struct tempdir *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof t->dir, "/tmp/tether-state-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof t->path, "%s/db.json", t->dir);
	snprintf(t->tmp, sizeof t->tmp, "%s/db.json.tmp", t->dir);
	*state = t;
	return 0;
}

/* Removes whatever a test left in the directory, then the directory. */
static int
tempdir_teardown(void **state)
{
	struct tempdir *t = *state;
	char path[512];
	DIR *d = opendir(t->dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", t->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(t->dir);
	free(t);
	return 0;
}

/* ---- state_render: fields ---------------------------------------------- */

static void
test_render_gives_exactly_the_seventeen_fields(void **state)
{
	static const char *const keys[] = {
		"name",
		"pid",
		"state",
		"forwarding",
		"bastion",
		"forwards",
		"connected_since",
		"reconnects",
		"last_error",
		"previous_error",
		"exit",
		"channels",
		"bytes_to_target",
		"bytes_from_target",
		"updated",
		"channels_total",
		"keepalive_rtt_ms",
	};
	struct state_view v;
	json_t *root;
	size_t i;

	full_view(&v);
	root = render_parse(&v, NULL);
	assert_int_equal(json_object_size(root), 17);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		member(root, keys[i]);
	json_decref(root);
}

static void
test_render_gives_every_scalar_field_its_value(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	root = render_parse(&v, NULL);
	assert_json_string(root, "name", "db");
	assert_json_int(root, "pid", 4242);
	assert_json_string(root, "state", "forwarding");
	assert_json_string(root, "bastion", "ops@bastion.example:2222");
	assert_json_string(root, "connected_since", "2023-11-14T22:13:20Z");
	assert_json_int(root, "reconnects", 7);
	assert_json_int(root, "channels", 3);
	assert_json_int(root, "bytes_to_target", 123456789012LL);
	assert_json_int(root, "bytes_from_target", 987654321098LL);
	assert_json_string(root, "updated", "2024-04-05T19:34:38Z");
	json_decref(root);
}

static void
test_render_gives_each_forward_with_spec_ports_and_state(void **state)
{
	struct state_view v;
	const json_t *arr;
	json_t *root;

	full_view(&v);
	root = render_parse(&v, NULL);
	arr = member(root, "forwards");
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 3);
	assert_forward(arr, 0, "5432:localhost:5432", 5432, 5432, "bound");
	assert_forward(arr, 1, "[::1]:0:10.0.0.7:22", 0, 40123, "bound");
	assert_forward(arr, 2, "8080:web:80", 8080, 0, "refused");
	json_decref(root);
}

static void
test_render_without_forwards_gives_an_empty_array(void **state)
{
	struct state_view v;
	const json_t *arr;
	json_t *root;

	full_view(&v);
	v.nforwards = 0;
	root = render_parse(&v, NULL);
	arr = member(root, "forwards");
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 0);
	json_decref(root);
}

static void
test_render_gives_all_sixteen_forwards_in_order(void **state)
{
	struct state_view v;
	const json_t *arr;
	json_t *root;
	char spec[64];
	size_t i;

	full_view(&v);
	for (i = 0; i < CONFIG_FORWARDS_MAX; i++) {
		snprintf(spec, sizeof spec, "%zu:localhost:22", 10000 + i);
		set_forward(&v, i, spec, (int)(10000 + i), (int)(20000 + i),
		    i % 2 ? "pending" : "requesting");
	}
	v.nforwards = CONFIG_FORWARDS_MAX;
	root = render_parse(&v, NULL);
	arr = member(root, "forwards");
	assert_int_equal(json_array_size(arr), CONFIG_FORWARDS_MAX);
	for (i = 0; i < CONFIG_FORWARDS_MAX; i++) {
		snprintf(spec, sizeof spec, "%zu:localhost:22", 10000 + i);
		assert_forward(arr, i, spec, (int)(10000 + i), (int)(20000 + i),
		    i % 2 ? "pending" : "requesting");
	}
	json_decref(root);
}

static void
test_render_gives_null_connected_since_when_not_connected(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.connected_since = 0;
	v.state = "waiting-to-retry";
	root = render_parse(&v, NULL);
	assert_json_null(root, "connected_since");
	assert_json_string(root, "state", "waiting-to-retry");
	json_decref(root);
}

static void
test_render_gives_timestamps_in_utc(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.connected_since = T_ERROR;
	v.updated = 1;
	root = render_parse(&v, NULL);
	assert_json_string(root, "connected_since", "2000-02-29T00:00:00Z");
	assert_json_string(root, "updated", "1970-01-01T00:00:01Z");
	json_decref(root);
}

static void
test_render_gives_null_last_error_when_there_is_none(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.last_error = NULL;
	v.last_error_at = 0;
	root = render_parse(&v, NULL);
	assert_json_null(root, "last_error");
	json_decref(root);
}

static void
test_render_gives_last_error_message_and_time(void **state)
{
	struct state_view v;
	const json_t *e;
	json_t *root;

	full_view(&v);
	root = render_parse(&v, NULL);
	e = member(root, "last_error");
	assert_true(json_is_object(e));
	assert_int_equal(json_object_size(e), 2);
	assert_json_string(e, "message", "bastion.example: connection refused");
	assert_json_string(e, "at", "2000-02-29T00:00:00Z");
	json_decref(root);
}

static void
test_render_gives_byte_counts_above_four_gib_exactly(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.bytes_to_target = 0x100000001ULL; /* 2^32 + 1 */
	v.bytes_from_target = 5000000000123ULL;
	root = render_parse(&v, NULL);
	assert_json_int(root, "bytes_to_target", 4294967297LL);
	assert_json_int(root, "bytes_from_target", 5000000000123LL);
	json_decref(root);
}

static void
test_render_gives_zero_counters_as_zero(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.reconnects = 0;
	v.channels = 0;
	v.bytes_to_target = 0;
	v.bytes_from_target = 0;
	root = render_parse(&v, NULL);
	assert_json_int(root, "reconnects", 0);
	assert_json_int(root, "channels", 0);
	assert_json_int(root, "bytes_to_target", 0);
	assert_json_int(root, "bytes_from_target", 0);
	json_decref(root);
}

static void
test_render_keeps_the_full_range_of_reconnects_and_pid(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.reconnects = 4294967295U;
	v.pid = 4194304; /* pid_max on 64-bit Linux */
	root = render_parse(&v, NULL);
	assert_json_int(root, "reconnects", 4294967295LL);
	assert_json_int(root, "pid", 4194304);
	json_decref(root);
}

static void
test_render_ends_with_exactly_one_newline(void **state)
{
	struct state_view v;
	json_t *root;
	char *text;
	size_t n;

	full_view(&v);
	root = render_parse(&v, &text);
	n = strlen(text);
	assert_true(n >= 3);
	assert_int_equal(text[0], '{');
	assert_int_equal(text[n - 2], '}');
	assert_int_equal(text[n - 1], '\n');
	free(text);
	json_decref(root);
}

/* ---- state_render: escaping -------------------------------------------- */

static void
test_render_escapes_quotes_backslashes_and_newlines(void **state)
{
	struct state_view v;
	json_t *root;
	char *text;

	full_view(&v);
	v.last_error = "said \"no\"\nat C:\\path";
	root = render_parse(&v, &text);
	assert_contains(text, "\"said \\\"no\\\"\\nat C:\\\\path\"");
	assert_json_string(member(root, "last_error"), "message",
	    "said \"no\"\nat C:\\path");
	free(text);
	json_decref(root);
}

static void
test_render_round_trips_odd_bytes_in_every_string(void **state)
{
	static const char odd[] = "q\"b\\n\nt\tc\x01 \xc3\xa9 \xe2\x98\x83 "
	                          "\xf0\x9f\x98\x80";
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.name = odd;
	v.state = odd;
	snprintf(v.bastion, sizeof v.bastion, "%s", odd);
	set_forward(&v, 0, odd, 1, 2, odd);
	v.nforwards = 1;
	v.last_error = odd;
	root = render_parse(&v, NULL);
	assert_json_string(root, "name", odd);
	assert_json_string(root, "state", odd);
	assert_json_string(root, "bastion", odd);
	assert_forward(member(root, "forwards"), 0, odd, 1, 2, odd);
	assert_json_string(member(root, "last_error"), "message", odd);
	json_decref(root);
}

static void
test_render_escapes_control_characters(void **state)
{
	struct state_view v;
	json_t *root;
	char *text;

	const char *p;

	full_view(&v);
	v.last_error = "a\tb\x01"
	               "c\x1f";
	root = render_parse(&v, &text);
	for (p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\n')
			fail_msg("raw control byte %#x in the text", *p);
	}
	assert_contains(text, "\"a\\tb\\u00");
	assert_json_string(member(root, "last_error"), "message",
	    "a\tb\x01"
	    "c\x1f");
	free(text);
	json_decref(root);
}

/*
 * An error message cut short can end inside a UTF-8 sequence, and one from
 * the network may hold any bytes: the state must still be written.
 */
static void
test_render_with_a_last_error_that_is_not_utf8_still_renders(void **state)
{
	struct state_view v;
	const json_t *e;
	json_t *root;

	full_view(&v);
	v.last_error = "refused: caf\xc3";
	root = render_parse(&v, NULL);
	e = member(root, "last_error");
	assert_true(json_is_object(e));
	assert_json_string(e, "message", "refused: caf?");
	assert_json_string(e, "at", "2000-02-29T00:00:00Z");
	assert_json_string(root, "name", "db");
	json_decref(root);
}

static void
test_render_of_invalid_utf8_keeps_the_ascii_and_replaces_the_rest(void **state)
{
	struct state_view v;
	json_t *root;

	full_view(&v);
	v.last_error = "\xff"
	               "a\xe2\x98"
	               "b\xc3\xa9";
	root = render_parse(&v, NULL);
	assert_json_string(member(root, "last_error"), "message", "?a??b??");
	json_decref(root);
}

/* ---- state_write_atomic ------------------------------------------------ */

static void
test_write_puts_the_exact_text_in_the_file(void **state)
{
	struct tempdir *t = *state;

	write_ok(t->path, "{\n  \"name\": \"db\"\n}\n");
	assert_file_is(t->path, "{\n  \"name\": \"db\"\n}\n");
}

static void
test_write_of_rendered_state_reads_back_as_the_same_json(void **state)
{
	struct tempdir *t = *state;
	struct state_view v;
	char *text, *got;

	full_view(&v);
	text = state_render(&v);
	assert_non_null(text);
	write_ok(t->path, text);
	got = read_all(t->path);
	assert_string_equal(got, text);
	free(got);
	free(text);
}

static void
test_write_leaves_no_temp_file(void **state)
{
	struct tempdir *t = *state;

	write_ok(t->path, "one\n");
	assert_false(exists(t->tmp));
	assert_int_equal(count_entries(t->dir), 1);
}

static void
test_write_replaces_an_existing_file_by_rename(void **state)
{
	struct tempdir *t = *state;
	struct stat before, after;

	write_ok(t->path, "an older and longer text\n");
	assert_int_equal(stat(t->path, &before), 0);
	write_ok(t->path, "new\n");
	assert_int_equal(stat(t->path, &after), 0);
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_file_is(t->path, "new\n");
	assert_false(exists(t->tmp));
	assert_int_equal(count_entries(t->dir), 1);
}

/* A reader that opened the old file keeps a whole old file. */
static void
test_write_leaves_an_open_reader_the_whole_old_text(void **state)
{
	struct tempdir *t = *state;
	char buf[64];
	ssize_t n;
	int fd;

	write_ok(t->path, "old text\n");
	fd = open(t->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	write_ok(t->path, "new\n");
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_int_equal(n, 9);
	buf[n] = '\0';
	assert_string_equal(buf, "old text\n");
}

static void
test_write_leaves_a_fixed_temp_name_alone(void **state)
{
	struct tempdir *t = *state;
	FILE *f = fopen(t->tmp, "w");

	/* Temporary names are fresh (mkstemp): a PATH.tmp is someone else's. */
	assert_non_null(f);
	fputs("left over from a crash, and longer than the new text\n", f);
	fclose(f);
	write_ok(t->path, "fresh\n");
	assert_file_is(t->path, "fresh\n");
	assert_file_is(t->tmp,
	    "left over from a crash, and longer than the new text\n");
}

static void
test_write_of_empty_text_gives_an_empty_file(void **state)
{
	struct tempdir *t = *state;

	write_ok(t->path, "");
	assert_file_is(t->path, "");
}

static void
test_write_of_a_large_text_writes_all_of_it(void **state)
{
	struct tempdir *t = *state;
	size_t n = 300000, i;
	char *text = malloc(n + 1);

	assert_non_null(text);
	for (i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	text[n] = '\0';
	write_ok(t->path, text);
	assert_file_is(t->path, text);
	free(text);
}

static void
test_write_into_a_missing_directory_fails_naming_the_path(void **state)
{
	struct tempdir *t = *state;
	char path[192];
	struct error err;

	snprintf(path, sizeof path, "%s/gone/db.json", t->dir);
	error_clear(&err);
	assert_int_equal(state_write_atomic(path, "x\n", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_FAILURE);
	assert_contains(err.msg, path);
	assert_contains(err.msg, strerror(ENOENT));
	assert_int_equal(count_entries(t->dir), 0);
}

static void
test_write_to_an_overlong_path_fails(void **state)
{
	char path[CONFIG_PATH_MAX + 32];
	struct error err;

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	error_clear(&err);
	assert_int_equal(state_write_atomic(path, "x\n", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_FAILURE);
	assert_contains(err.msg, "too long");
}

/* The path is a directory: rename fails, and the temp file goes. */
static void
test_write_over_a_directory_fails_and_removes_the_temp_file(void **state)
{
	struct tempdir *t = *state;
	struct error err;

	assert_int_equal(mkdir(t->path, 0700), 0);
	error_clear(&err);
	assert_int_equal(state_write_atomic(t->path, "x\n", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_FAILURE);
	assert_contains(err.msg, t->path);
	assert_false(exists(t->tmp));
	assert_int_equal(rmdir(t->path), 0);
}

#define TEMP_TEST(f) \
	cmocka_unit_test_setup_teardown(f, tempdir_setup, tempdir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_render_gives_exactly_the_seventeen_fields),
		cmocka_unit_test(
		    test_render_gives_every_scalar_field_its_value),
		cmocka_unit_test(
		    test_render_gives_each_forward_with_spec_ports_and_state),
		cmocka_unit_test(
		    test_render_gives_a_probed_forward_its_round_trip),
		cmocka_unit_test(
		    test_render_gives_a_refused_forward_its_count_and_start),
		cmocka_unit_test(
		    test_render_gives_the_previous_error_its_start_and_end),
		cmocka_unit_test(
		    test_render_lists_several_bastions_and_why_one_failed),
		cmocka_unit_test(
		    test_render_gives_a_failed_tunnel_its_exit_code_and_meaning),
		cmocka_unit_test(
		    test_render_without_forwards_gives_an_empty_array),
		cmocka_unit_test(
		    test_render_gives_all_sixteen_forwards_in_order),
		cmocka_unit_test(
		    test_render_gives_null_connected_since_when_not_connected),
		cmocka_unit_test(test_render_gives_timestamps_in_utc),
		cmocka_unit_test(
		    test_render_gives_null_last_error_when_there_is_none),
		cmocka_unit_test(test_render_gives_last_error_message_and_time),
		cmocka_unit_test(
		    test_render_gives_byte_counts_above_four_gib_exactly),
		cmocka_unit_test(test_render_gives_zero_counters_as_zero),
		cmocka_unit_test(
		    test_render_keeps_the_full_range_of_reconnects_and_pid),
		cmocka_unit_test(test_render_ends_with_exactly_one_newline),

		cmocka_unit_test(
		    test_render_escapes_quotes_backslashes_and_newlines),
		cmocka_unit_test(
		    test_render_round_trips_odd_bytes_in_every_string),
		cmocka_unit_test(test_render_escapes_control_characters),
		cmocka_unit_test(
		    test_render_with_a_last_error_that_is_not_utf8_still_renders),
		cmocka_unit_test(
		    test_render_of_invalid_utf8_keeps_the_ascii_and_replaces_the_rest),

		TEMP_TEST(test_write_puts_the_exact_text_in_the_file),
		TEMP_TEST(
		    test_write_of_rendered_state_reads_back_as_the_same_json),
		TEMP_TEST(test_write_leaves_no_temp_file),
		TEMP_TEST(test_write_replaces_an_existing_file_by_rename),
		TEMP_TEST(test_write_leaves_an_open_reader_the_whole_old_text),
		TEMP_TEST(test_write_leaves_a_fixed_temp_name_alone),
		TEMP_TEST(test_write_of_empty_text_gives_an_empty_file),
		TEMP_TEST(test_write_of_a_large_text_writes_all_of_it),
		TEMP_TEST(
		    test_write_into_a_missing_directory_fails_naming_the_path),
		cmocka_unit_test(test_write_to_an_overlong_path_fails),
		TEMP_TEST(
		    test_write_over_a_directory_fails_and_removes_the_temp_file),

	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
