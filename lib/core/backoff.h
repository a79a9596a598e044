/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exponential backoff with jitter. Pure: the caller supplies the random
 * number, so tests are deterministic. The delay doubles from base to max;
 * each returned delay is drawn uniformly from [cur/2, cur] ("equal jitter"),
 * so that many agents restarted together do not retry in lockstep.
 */
#pragma once

#include <stdint.h>

struct backoff {
	uint64_t base_usec;
	uint64_t max_usec;
	uint64_t cur_usec; /* 0 before the first failure */
};

void backoff_init(struct backoff *b, uint64_t base_usec, uint64_t max_usec);
/* Next delay after a failure. */
uint64_t backoff_next(struct backoff *b, uint32_t random);
/* After a success. */
void backoff_reset(struct backoff *b);

/* A random number from getrandom(2) (non-blocking; falls back to a counter mixed with time). */
uint32_t random_u32(void);
/* Uniform in [lo, hi]. */
uint64_t random_range(uint64_t lo, uint64_t hi);
