/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The bounded byte queue: the cap, compaction after consume, the
 * tail/commit/head contract and lazy storage. The sanitizer build checks
 * that writes through tail stay inside the storage and that bytebuf_free
 * leaks nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytebuf.h"

#define ALPHABET "abcdefghijklmnopqrstuvwxyz"

/* ---- helpers ----------------------------------------------------------- */

/* The queued bytes are exactly want. */
static void
assert_holds(const struct bytebuf *b, const char *want)
{
	size_t n = strlen(want);

	assert_int_equal(b->len, n);
	assert_int_equal(bytebuf_space(b), b->cap - n);
	if (n > 0) {
		assert_non_null(b->data);
		assert_memory_equal(bytebuf_head(b), want, n);
	}
}

static void
append_all(struct bytebuf *b, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(bytebuf_append(b, s, n), n);
}

/* ---- fixture: a buffer of 8 freed after the test ----------------------- */

static int
buf8_setup(void **state)
{
	struct bytebuf *b = malloc(sizeof *b);

	if (b == NULL)
		return -1;
	bytebuf_init(b, 8);
	*state = b;
	return 0;
}

static int
buf_teardown(void **state)
{
	struct bytebuf *b = *state;

	bytebuf_free(b);
	free(b);
	return 0;
}

/* ---- init and lazy storage --------------------------------------------- */

static void
test_init_gives_an_empty_buffer_without_storage(void **state)
{
	struct bytebuf *b = *state;

	assert_null(b->data);
	assert_int_equal(b->off, 0);
	assert_int_equal(b->len, 0);
	assert_int_equal(b->cap, 8);
	assert_int_equal(bytebuf_space(b), 8);
}

static void
test_appending_nothing_allocates_nothing(void **state)
{
	struct bytebuf *b = *state;

	assert_int_equal(bytebuf_append(b, "x", 0), 0);
	assert_null(b->data);
	assert_int_equal(b->len, 0);
}

static void
test_first_append_allocates_the_storage(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abc");
	assert_non_null(b->data);
	assert_holds(b, "abc");
}

static void
test_tail_allocates_the_storage(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *tail = bytebuf_tail(b);

	assert_non_null(tail);
	assert_ptr_equal(tail, b->data);
	assert_int_equal(b->len, 0);
}

static void
test_free_releases_the_storage_and_empties(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdef");
	bytebuf_consume(b, 2);
	bytebuf_free(b);
	assert_null(b->data);
	assert_int_equal(b->off, 0);
	assert_int_equal(b->len, 0);
	assert_int_equal(b->cap, 8);
	assert_int_equal(bytebuf_space(b), 8);
}

static void
test_free_of_a_buffer_never_used_is_harmless(void **state)
{
	struct bytebuf *b = *state;

	bytebuf_free(b);
	bytebuf_free(b);
	assert_null(b->data);
}

static void
test_buffer_is_usable_again_after_free(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdefgh");
	bytebuf_free(b);
	append_all(b, "xyz");
	assert_holds(b, "xyz");
}

/* ---- append and the cap ------------------------------------------------ */

static void
test_append_within_the_cap_takes_everything(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abc");
	append_all(b, "de");
	assert_holds(b, "abcde");
	assert_int_equal(bytebuf_space(b), 3);
}

static void
test_append_past_the_cap_takes_what_fits(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcde");
	assert_int_equal(bytebuf_append(b, "fghijk", 6), 3);
	assert_holds(b, "abcdefgh");
	assert_int_equal(bytebuf_space(b), 0);
}

static void
test_append_larger_than_the_cap_takes_the_cap(void **state)
{
	struct bytebuf *b = *state;

	assert_int_equal(bytebuf_append(b, ALPHABET, 26), 8);
	assert_holds(b, "abcdefgh");
}

static void
test_append_to_a_full_buffer_takes_nothing(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdefgh");
	assert_int_equal(bytebuf_append(b, "x", 1), 0);
	assert_holds(b, "abcdefgh");
}

static void
test_append_filling_exactly_to_the_cap_takes_everything(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcd");
	append_all(b, "efgh");
	assert_holds(b, "abcdefgh");
}

/* ---- consume ----------------------------------------------------------- */

static void
test_consume_drops_bytes_from_the_front(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdef");
	bytebuf_consume(b, 2);
	assert_holds(b, "cdef");
	bytebuf_consume(b, 3);
	assert_holds(b, "f");
}

static void
test_consume_of_everything_starts_the_buffer_over(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdef");
	bytebuf_consume(b, 4);
	bytebuf_consume(b, 2);
	assert_int_equal(b->len, 0);
	assert_int_equal(b->off, 0);
	assert_int_equal(bytebuf_space(b), 8);
	assert_ptr_equal(bytebuf_head(b), b->data);
}

static void
test_consume_frees_space_for_append(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdefgh");
	bytebuf_consume(b, 5);
	assert_int_equal(bytebuf_space(b), 5);
	assert_int_equal(bytebuf_append(b, "vwxyz!", 6), 5);
	assert_holds(b, "fghvwxyz");
}

static void
test_append_after_consume_compacts_to_the_front(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdefgh");
	bytebuf_consume(b, 5);
	append_all(b, "xy");
	assert_int_equal(b->off, 0);
	assert_ptr_equal(bytebuf_head(b), b->data);
	assert_memory_equal(b->data, "fghxy", 5);
	assert_holds(b, "fghxy");
}

static void
test_consume_of_nothing_changes_nothing(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abc");
	bytebuf_consume(b, 0);
	assert_holds(b, "abc");
}

/* ---- tail, commit, head ------------------------------------------------ */

/* All of bytebuf_space() is writable at the tail (ASan checks the extent). */
static void
test_tail_offers_all_the_space_contiguously(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *tail;

	append_all(b, "abc");
	tail = bytebuf_tail(b);
	assert_non_null(tail);
	assert_ptr_equal(tail, b->data + 3);
	memset(tail, 'z', bytebuf_space(b));
	assert_holds(b, "abc");
}

static void
test_commit_makes_bytes_written_at_the_tail_queued(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *tail;

	append_all(b, "ab");
	tail = bytebuf_tail(b);
	memcpy(tail, "cde", 3);
	bytebuf_commit(b, 3);
	assert_holds(b, "abcde");
}

static void
test_commit_of_fewer_bytes_queues_only_those(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *tail = bytebuf_tail(b);

	memcpy(tail, "abcdef", 6);
	bytebuf_commit(b, 2);
	assert_holds(b, "ab");
	append_all(b, "XY");
	assert_holds(b, "abXY");
}

static void
test_tail_without_commit_queues_nothing(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "ab");
	memcpy(bytebuf_tail(b), "cd", 2);
	assert_holds(b, "ab");
}

static void
test_tail_after_consume_moves_the_queued_bytes_to_the_front(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *tail;

	append_all(b, "abcdefgh");
	bytebuf_consume(b, 6);
	tail = bytebuf_tail(b);
	assert_ptr_equal(bytebuf_head(b), b->data);
	assert_ptr_equal(tail, b->data + 2);
	assert_holds(b, "gh");
	memset(tail, 'z', bytebuf_space(b));
	bytebuf_commit(b, 6);
	assert_holds(b, "ghzzzzzz");
}

static void
test_tail_of_a_full_buffer_offers_no_space(void **state)
{
	struct bytebuf *b = *state;

	append_all(b, "abcdefgh");
	assert_ptr_equal(bytebuf_tail(b), b->data + 8);
	assert_int_equal(bytebuf_space(b), 0);
	bytebuf_commit(b, 0);
	assert_holds(b, "abcdefgh");
}

static void
test_head_follows_consume_without_moving_bytes(void **state)
{
	struct bytebuf *b = *state;
	unsigned char *data;

	append_all(b, "abcdef");
	data = b->data;
	bytebuf_consume(b, 4);
	assert_ptr_equal(bytebuf_head(b), data + 4);
	assert_memory_equal(bytebuf_head(b), "ef", 2);
}

/* ---- a stream ---------------------------------------------------------- */

/* Odd-sized appends and consumes keep every byte, in order. */
static void
test_stream_through_a_small_buffer_keeps_order(void **state)
{
	struct bytebuf b;
	unsigned char in[5000], out[5000];
	size_t sent = 0, got = 0, step = 0, n;

	for (n = 0; n < sizeof in; n++)
		in[n] = (unsigned char)(n * 7 + n / 251);
	bytebuf_init(&b, 13);
	while (got < sizeof in) {
		size_t want = (step * 5) % 11 + 1;

		if (want > sizeof in - sent)
			want = sizeof in - sent;
		sent += bytebuf_append(&b, in + sent, want);
		n = (step * 3) % 7 + (step % 4 == 0 ? 13 : 0);
		if (n > b.len)
			n = b.len;
		memcpy(out + got, bytebuf_head(&b), n);
		bytebuf_consume(&b, n);
		got += n;
		assert_true(b.len <= b.cap);
		step++;
		assert_true(step < 100000);
	}
	assert_memory_equal(out, in, sizeof in);
	bytebuf_free(&b);
	assert_null(b.data);
}

#define BUF8(f) cmocka_unit_test_setup_teardown(f, buf8_setup, buf_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BUF8(test_init_gives_an_empty_buffer_without_storage),
		BUF8(test_appending_nothing_allocates_nothing),
		BUF8(test_first_append_allocates_the_storage),
		BUF8(test_tail_allocates_the_storage),
		BUF8(test_free_releases_the_storage_and_empties),
		BUF8(test_free_of_a_buffer_never_used_is_harmless),
		BUF8(test_buffer_is_usable_again_after_free),

		BUF8(test_append_within_the_cap_takes_everything),
		BUF8(test_append_past_the_cap_takes_what_fits),
		BUF8(test_append_larger_than_the_cap_takes_the_cap),
		BUF8(test_append_to_a_full_buffer_takes_nothing),
		BUF8(test_append_filling_exactly_to_the_cap_takes_everything),

		BUF8(test_consume_drops_bytes_from_the_front),
		BUF8(test_consume_of_everything_starts_the_buffer_over),
		BUF8(test_consume_frees_space_for_append),
		BUF8(test_append_after_consume_compacts_to_the_front),
		BUF8(test_consume_of_nothing_changes_nothing),

		BUF8(test_tail_offers_all_the_space_contiguously),
		BUF8(test_commit_makes_bytes_written_at_the_tail_queued),
		BUF8(test_commit_of_fewer_bytes_queues_only_those),
		BUF8(test_tail_without_commit_queues_nothing),
		BUF8(test_tail_after_consume_moves_the_queued_bytes_to_the_front),
		BUF8(test_tail_of_a_full_buffer_offers_no_space),
		BUF8(test_head_follows_consume_without_moving_bytes),

		cmocka_unit_test(test_stream_through_a_small_buffer_keeps_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
