/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64 encode/decode, written once for etcd/proto.c and kube/config.c.
 * Decoding goes through a bit accumulator so that both the strict and the
 * lenient form are one loop; the checks at the end make it canonical.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/core/base64.h"
#include "lib/core/macro.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;
	char q[4];
	int r;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t rem = len - i;

		if (rem > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (rem > 2)
			v |= p[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = rem > 1 ? alphabet[(v >> 6) & 63] : '=';
		q[3] = rem > 2 ? alphabet[v & 63] : '=';
		r = buf_append(out, q, 4);
		if (r < 0)
			return r;
	}
	if (len == 0)
		return buf_append(out, "", 0);
	return 0;
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, enum base64_mode mode, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	if (!out)
		return -ENOMEM;
	if (mode == BASE64_STRICT && len % 4 != 0)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int v;

		if (mode == BASE64_LENIENT && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -EBADMSG; /* data after padding */
		v = value(c);
		if (v < 0)
			return -EBADMSG;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* a lone sextet, leftover bits that are not zero, or "===" */
	if (pad > 2 || bits >= 6 || acc != 0)
		return -EBADMSG;
	out[n] = '\0';
	*ret = TAKE_PTR(out);
	*ret_len = n;
	return 0;
}
