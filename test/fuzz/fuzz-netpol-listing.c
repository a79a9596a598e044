/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for netpol/listing.c: the read-back of `nft -j list table`.
 * Whatever it accepts must be a sorted state that plans to nothing against
 * itself. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "netpol/listing.h"
#include "netpol/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_state s = {};
	struct buf out = BUF_INIT;
	struct errmsg err = {};

	if (np_listing_parse((const char *)data, size, &s, &err) == 0) {
		if (!s.sorted)
			abort();
		if (np_plan(&s, &s, &out, NULL) != (s.has_table ? 0 : 1))
			abort();
	}
	np_state_done(&s);
	buf_free(&out);
	return 0;
}
