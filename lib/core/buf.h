/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer, and an incremental line framer with a byte cap for
 * streams such as the Kubernetes watch (one JSON event per line) and etcd's
 * watch. Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/macro.h"

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define BUF_INIT  \
	{         \
		0 \
	}

int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Hand the data over (NUL-terminated, caller frees); leaves b empty. */
char *buf_steal(struct buf *b, size_t *ret_len);

static inline void buf_freep(struct buf *b)
{
	buf_free(b);
}
#define _cleanup_buf_ _cleanup_(buf_freep)

/*
 * Line framer. Feed it arbitrary chunks; it calls cb once per complete line
 * ('\n'-terminated, the '\n' and an optional preceding '\r' removed, the line
 * NUL-terminated). A line longer than max_line bytes is discarded up to its
 * '\n' and reported once with cb(NULL, discarded_bytes, userdata). Empty lines
 * are skipped. A negative return of cb stops feeding and is returned.
 */
typedef int (*line_fn)(char *line, size_t len, void *userdata);

struct line_framer {
	struct buf pending;
	size_t max_line;
	size_t discarding; /* >0 while skipping an oversized line: bytes dropped so far */
};

void line_framer_init(struct line_framer *f, size_t max_line);
int line_framer_feed(struct line_framer *f, const void *data, size_t n, line_fn cb, void *userdata);
/* Bytes of an incomplete line held. */
size_t line_framer_pending(const struct line_framer *f);
void line_framer_reset(struct line_framer *f);
void line_framer_free(struct line_framer *f);
