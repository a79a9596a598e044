/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standard base64 (RFC 4648 §4, '+' '/' and '=' padding), for etcd's JSON
 * gateway (keys and values are base64 byte strings) and the kubeconfig's
 * *-data fields. Pure.
 */
#pragma once

#include <stddef.h>

#include "lib/core/buf.h"

enum base64_mode {
	/* padding required, no whitespace: what etcd's gateway sends */
	BASE64_STRICT,
	/* whitespace ignored, padding optional: kubeconfig data fields */
	BASE64_LENIENT,
};

/* Append the encoding (with padding) to out; out->data is set even for len 0. */
int base64_encode(const void *data, size_t len, struct buf *out);
/*
 * Decode in[0..len). Non-canonical trailing bits, data after padding and
 * more than two '=' are refused in both modes. -EBADMSG on bad input.
 * Result NUL-terminated, caller frees.
 */
int base64_decode(const char *in, size_t len, enum base64_mode mode, char **ret, size_t *ret_len);
