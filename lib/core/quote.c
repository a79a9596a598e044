/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go-%q-like quoting of untrusted values. Parsers of net-conf.json,
 * subnet.env and backend data put the offending value into their error
 * message; it comes from a file or the API server, so it may contain
 * newlines or terminal escapes. Escaping here keeps every message one line.
 */
#include <stdio.h>
#include <string.h>

#include "lib/core/quote.h"

static size_t escape_one(unsigned char c, char out[static 5])
{
	switch (c) {
	case '"':
		return (size_t)snprintf(out, 5, "\\\"");
	case '\\':
		return (size_t)snprintf(out, 5, "\\\\");
	case '\n':
		return (size_t)snprintf(out, 5, "\\n");
	case '\r':
		return (size_t)snprintf(out, 5, "\\r");
	case '\t':
		return (size_t)snprintf(out, 5, "\\t");
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f)
		return (size_t)snprintf(out, 5, "\\x%02x", c);
	out[0] = (char)c;
	out[1] = '\0';
	return 1;
}

const char *quote_mem(const char *s, size_t len, char *buf, size_t size)
{
	static const char cut[] = "\"...";
	size_t pos = 0;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[pos++] = '"';
	for (size_t i = 0; s && i < len; i++) {
		char esc[5];
		size_t n = escape_one((unsigned char)s[i], esc);

		/* Room for this escape, the closing quote (or the cut marker) and NUL. */
		if (pos + n + sizeof(cut) > size) {
			memcpy(buf + pos, cut, sizeof(cut));
			return buf;
		}
		memcpy(buf + pos, esc, n);
		pos += n;
	}
	buf[pos++] = '"';
	buf[pos] = '\0';
	return buf;
}

const char *quote_str(const char *s, char *buf, size_t size)
{
	return quote_mem(s, s ? strlen(s) : 0, buf, size);
}
