/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer (capacity doubles, contents always NUL-terminated
 * so text can be handed to string functions), and the line framer that cuts
 * streamed bytes into lines. The framer never holds more than one capped
 * line: an oversized line is skipped up to its '\n' and reported once, so a
 * hostile or broken peer cannot make us buffer without bound, and the lines
 * after it are still delivered.
 */
#include "lib/core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for `extra` more bytes plus the NUL. */
static int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (b->data && need <= b->cap)
		return 0;

	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;

	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	int r;

	r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;

	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;

	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (!b->data)
		return;
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf)BUF_INIT;
}

char *buf_steal(struct buf *b, size_t *ret_len)
{
	char *p;

	if (!b->data && buf_reserve(b, 0) < 0)
		return NULL;
	p = TAKE_PTR(b->data);
	if (ret_len)
		*ret_len = b->len;
	*b = (struct buf)BUF_INIT;
	return p;
}

void line_framer_init(struct line_framer *f, size_t max_line)
{
	*f = (struct line_framer){.pending = BUF_INIT, .max_line = max_line};
}

/*
 * Could a line whose first n bytes end in `last` still be at most max_line
 * long once its '\n' (and a '\r' before it) are removed?
 */
static bool may_fit(const struct line_framer *f, size_t n, char last)
{
	if (n <= f->max_line)
		return true;
	return n - 1 == f->max_line && last == '\r';
}

/* The '\n' ending a discarded line arrived: report it and continue after it. */
static int end_discard(struct line_framer *f, const char **p, const char *nl, line_fn cb,
		       void *userdata)
{
	size_t dropped = f->discarding;

	f->discarding = 0;
	*p = nl + 1;
	return cb(NULL, dropped, userdata);
}

static char last_pending(const struct line_framer *f)
{
	return f->pending.len > 0 ? f->pending.data[f->pending.len - 1] : '\0';
}

int line_framer_feed(struct line_framer *f, const void *data, size_t n, line_fn cb, void *userdata)
{
	const char *p = data, *end = p + n;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);
		size_t total = f->pending.len + seg;

		if (f->discarding > 0 ||
		    !may_fit(f, total, seg > 0 ? p[seg - 1] : last_pending(f))) {
			/* Too long: drop what we hold and skip up to the '\n'. */
			f->discarding = f->discarding > 0 ? f->discarding + seg : total;
			buf_reset(&f->pending);
			if (!nl)
				return 0;
			r = end_discard(f, &p, nl, cb, userdata);
			if (r < 0)
				return r;
			continue;
		}

		r = buf_append(&f->pending, p, seg);
		if (r < 0) {
			buf_reset(&f->pending);
			return r;
		}
		if (!nl)
			return 0;
		p = nl + 1;

		size_t len = f->pending.len;
		if (len > 0 && f->pending.data[len - 1] == '\r')
			f->pending.data[--len] = '\0';
		if (len == 0) {
			buf_reset(&f->pending);
			continue;
		}
		r = cb(f->pending.data, len, userdata);
		buf_reset(&f->pending);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t line_framer_pending(const struct line_framer *f)
{
	return f->pending.len;
}

void line_framer_reset(struct line_framer *f)
{
	buf_reset(&f->pending);
	f->discarding = 0;
}

void line_framer_free(struct line_framer *f)
{
	buf_free(&f->pending);
	f->discarding = 0;
}
