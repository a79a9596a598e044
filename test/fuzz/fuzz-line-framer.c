/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the line framer of lib/core/buf.c. Input layout: byte 0 is the
 * line cap, bytes 1..4 a table of chunk sizes (1 + byte), the rest the
 * stream. The stream is fed once whole and once in chunks; both must produce
 * the same callbacks, every delivered line must be non-empty, within the cap
 * and free of '\n' (only one '\r' before the '\n' is removed), and the framer
 * must never hold more than one capped line. Aborts on any violation.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	struct buf out; /* "L<len>:<bytes>" or "D<n>" per callback */
	size_t max_line;
};

static int on_line(char *line, size_t len, void *userdata)
{
	struct trace *t = userdata;

	if (!line)
		return buf_printf(&t->out, "D%zu;", len) < 0 ? -ENOMEM : 0;
	if (len == 0 || len > t->max_line || line[len] != '\0' || memchr(line, '\n', len))
		abort();
	if (buf_printf(&t->out, "L%zu:", len) < 0 || buf_append(&t->out, line, len) < 0)
		return -ENOMEM;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole = {.out = BUF_INIT}, chunked = {.out = BUF_INIT};
	struct line_framer f;
	const uint8_t *stream;
	size_t n, pos = 0, k = 0;
	int r1, r2;

	if (size < 5)
		return 0;
	whole.max_line = chunked.max_line = data[0];
	stream = data + 5;
	n = size - 5;

	line_framer_init(&f, whole.max_line);
	r1 = line_framer_feed(&f, stream, n, on_line, &whole);
	line_framer_free(&f);

	line_framer_init(&f, chunked.max_line);
	r2 = 0;
	while (pos < n && r2 == 0) {
		size_t c = (size_t)data[1 + k++ % 4] + 1;
		c = MIN(c, n - pos);
		r2 = line_framer_feed(&f, stream + pos, c, on_line, &chunked);
		if (line_framer_pending(&f) > f.max_line + 1)
			abort();
		pos += c;
	}
	line_framer_free(&f);

	if (r1 == 0 && r2 == 0 &&
	    (whole.out.len != chunked.out.len ||
	     (whole.out.len && memcmp(whole.out.data, chunked.out.data, whole.out.len) != 0)))
		abort();
	buf_free(&whole.out);
	buf_free(&chunked.out);
	return 0;
}
