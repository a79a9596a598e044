/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/buf.c: the growable buffer and the line framer, whose
 * output must not depend on how the stream is split into chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/core/buf.h"

/* Records what the framer delivers as "line\n" or "<dropped N>\n". */
struct record {
	struct buf out;
	unsigned lines;
	unsigned dropped;
	int fail_at; /* return -EPIPE on this call (1-based), 0: never */
	unsigned calls;
};

static int record_line(char *line, size_t len, void *userdata)
{
	struct record *r = userdata;

	r->calls++;
	if (line) {
		assert_int_equal(strlen(line), len);
		assert_null(memchr(line, '\n', len));
		assert_int_equal(buf_append(&r->out, line, len), 0);
		assert_int_equal(buf_puts(&r->out, "\n"), 0);
		r->lines++;
	} else {
		assert_int_equal(buf_printf(&r->out, "<dropped %zu>\n", len), 0);
		r->dropped++;
	}
	if (r->fail_at && r->calls == (unsigned)r->fail_at)
		return -EPIPE;
	return 0;
}

static void feed_split(const char *in, size_t max_line, const size_t *cuts, size_t ncuts,
		       struct record *rec)
{
	struct line_framer f;
	size_t pos = 0;

	line_framer_init(&f, max_line);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : strlen(in);
		assert_int_equal(line_framer_feed(&f, in + pos, end - pos, record_line, rec), 0);
		pos = end;
	}
	line_framer_free(&f);
}

static void test_buf_basics(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	size_t len;

	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, " %d %s", 42, "world"), 0);
	assert_string_equal(b.data, "hello 42 world");
	assert_int_equal(b.len, 14);

	buf_consume(&b, 6);
	assert_string_equal(b.data, "42 world");
	buf_consume(&b, 100);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);

	/* growth across many doublings keeps contents and the NUL */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 99990, "0123456789", 10);

	char *s = buf_steal(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, 100000);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	/* stealing an empty buffer still gives a string */
	s = buf_steal(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	/* binary data with NULs */
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	(void)state;
}

static const char stream[] = "first\r\n\nsecond line\n\r\n{\"a\":1}\r\nlast-no-newline";
static const char want[] = "first\nsecond line\n{\"a\":1}\n";

static void test_framer_every_split(void **state)
{
	size_t n = strlen(stream);

	/* one cut at every position, and two cuts at every pair of positions */
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct record rec = {.out = BUF_INIT};
			size_t cuts[2] = {i, j};
			feed_split(stream, 64, cuts, 2, &rec);
			assert_string_equal(rec.out.data, want);
			assert_int_equal(rec.lines, 3);
			assert_int_equal(rec.dropped, 0);
			buf_free(&rec.out);
		}
	}

	/* byte by byte */
	struct record rec = {.out = BUF_INIT};
	size_t cuts[sizeof(stream)];
	for (size_t i = 0; i < n; i++)
		cuts[i] = i;
	feed_split(stream, 64, cuts, n, &rec);
	assert_string_equal(rec.out.data, want);
	buf_free(&rec.out);
	(void)state;
}

static void test_framer_pending(void **state)
{
	struct line_framer f;
	struct record rec = {.out = BUF_INIT};

	line_framer_init(&f, 100);
	assert_int_equal(line_framer_feed(&f, "abc\nde", 6, record_line, &rec), 0);
	assert_int_equal(line_framer_pending(&f), 2);
	line_framer_reset(&f);
	assert_int_equal(line_framer_pending(&f), 0);
	assert_int_equal(line_framer_feed(&f, "f\n", 2, record_line, &rec), 0);
	assert_string_equal(rec.out.data, "abc\nf\n");
	line_framer_free(&f);
	buf_free(&rec.out);
	(void)state;
}

static void test_framer_oversized(void **state)
{
	/* max 8: "12345678" fits; 9 bytes do not; a CR does not count */
	static const char in[] = "12345678\n123456789\nok\n"
				 "12345678\r\n"
				 "1234567890123456789012345\nafter\n";
	static const char expect[] = "12345678\n<dropped 9>\nok\n12345678\n<dropped 25>\nafter\n";
	size_t n = strlen(in);

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct record rec = {.out = BUF_INIT};
			size_t cuts[2] = {i, j};
			feed_split(in, 8, cuts, 2, &rec);
			if (strcmp(rec.out.data, expect) != 0)
				fail_msg("cuts %zu,%zu: got \"%s\"", i, j, rec.out.data);
			assert_int_equal(rec.dropped, 2);
			buf_free(&rec.out);
		}
	}

	/* An oversized line is reported once however many chunks it spans,
	 * and the framer never holds more than the cap meanwhile. */
	struct line_framer f;
	struct record rec = {.out = BUF_INIT};
	line_framer_init(&f, 8);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(line_framer_feed(&f, "xxxxxxxxxx", 10, record_line, &rec), 0);
		assert_true(line_framer_pending(&f) <= 9);
	}
	assert_int_equal(rec.calls, 0);
	assert_int_equal(line_framer_feed(&f, "\nnext\n", 6, record_line, &rec), 0);
	assert_string_equal(rec.out.data, "<dropped 10000>\nnext\n");
	line_framer_free(&f);
	buf_free(&rec.out);

	/* A line of max bytes followed by a lone CR that is not before '\n' is too long. */
	rec = (struct record){.out = BUF_INIT};
	line_framer_init(&f, 4);
	assert_int_equal(line_framer_feed(&f, "abcd\r", 5, record_line, &rec), 0);
	assert_int_equal(line_framer_feed(&f, "e\nabcd\r", 7, record_line, &rec), 0);
	assert_int_equal(line_framer_feed(&f, "\n", 1, record_line, &rec), 0);
	assert_string_equal(rec.out.data, "<dropped 6>\nabcd\n");
	line_framer_free(&f);
	buf_free(&rec.out);

	/* cap 0: every non-empty line is dropped, empty ones skipped */
	rec = (struct record){.out = BUF_INIT};
	line_framer_init(&f, 0);
	assert_int_equal(line_framer_feed(&f, "a\n\n\r\nbc\n", 8, record_line, &rec), 0);
	assert_string_equal(rec.out.data, "<dropped 1>\n<dropped 2>\n");
	line_framer_free(&f);
	buf_free(&rec.out);
	(void)state;
}

static void test_framer_callback_error(void **state)
{
	struct line_framer f;
	struct record rec = {.out = BUF_INIT, .fail_at = 2};

	line_framer_init(&f, 16);
	assert_int_equal(line_framer_feed(&f, "a\nb\nc\n", 6, record_line, &rec), -EPIPE);
	assert_string_equal(rec.out.data, "a\nb\n");
	assert_int_equal(rec.calls, 2);

	/* also from the oversize report */
	rec.fail_at = 3;
	line_framer_reset(&f);
	assert_int_equal(line_framer_feed(&f, "01234567890123456789\nz\n", 23, record_line, &rec),
			 -EPIPE);
	assert_string_equal(rec.out.data, "a\nb\n<dropped 20>\n");
	line_framer_free(&f);
	buf_free(&rec.out);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_basics),
		cmocka_unit_test(test_framer_every_split),
		cmocka_unit_test(test_framer_pending),
		cmocka_unit_test(test_framer_oversized),
		cmocka_unit_test(test_framer_callback_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
