/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for cni/json.c: anything accepted must print, the printed
 * text must parse back to an equal value and print to the same bytes
 * (parse -> print -> parse is the identity), and a deep copy must be equal.
 * Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_cni_json_ struct cni_json *v = NULL, *w = NULL, *c = NULL;
	_cleanup_buf_ struct buf first = BUF_INIT, second = BUF_INIT;
	struct errmsg err = {};

	if (cni_json_parse((const char *)data, size, &v, &err) < 0) {
		if (err.text[0] == '\0')
			abort(); /* every rejection says why */
		return 0;
	}
	if (cni_json_print(v, &first) < 0)
		abort();
	if (cni_json_parse(first.data, first.len, &w, &err) < 0)
		abort();
	if (!cni_json_equal(v, w))
		abort();
	if (cni_json_print(w, &second) < 0 || second.len != first.len ||
	    memcmp(first.data, second.data, first.len) != 0)
		abort();
	c = cni_json_copy(v);
	if (!c || !cni_json_equal(c, v))
		abort();
	return 0;
}
