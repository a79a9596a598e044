/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exponential backoff with "equal jitter": the ceiling doubles from base to
 * max and each delay is uniform in [ceiling/2, ceiling], so a fleet of agents
 * restarted together spreads out while no retry comes sooner than half the
 * ceiling. The arithmetic is pure (the random number is an argument); the
 * random source is getrandom(2), non-blocking so that early boot never
 * stalls, with a splitmix64 sequence seeded from the clocks and pid as the
 * fallback.
 */
#include "lib/core/backoff.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void backoff_init(struct backoff *b, uint64_t base_usec, uint64_t max_usec)
{
	*b = (struct backoff){.base_usec = base_usec, .max_usec = max_usec};
}

/* lo + floor(random * (hi - lo + 1) / 2^32): uniform in [lo, hi] for a uniform random. */
static uint64_t scale_u32(uint64_t lo, uint64_t hi, uint32_t random)
{
	unsigned __int128 span = (unsigned __int128)(hi - lo) + 1;

	return lo + (uint64_t)(((unsigned __int128)random * span) >> 32);
}

uint64_t backoff_next(struct backoff *b, uint32_t random)
{
	uint64_t cur;

	if (b->cur_usec == 0)
		cur = b->base_usec;
	else
		cur = b->cur_usec > UINT64_MAX / 2 ? UINT64_MAX : b->cur_usec * 2;
	if (cur > b->max_usec)
		cur = b->max_usec;
	b->cur_usec = cur;
	return scale_u32(cur / 2, cur, random);
}

void backoff_reset(struct backoff *b)
{
	b->cur_usec = 0;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t random_u32(void)
{
	static uint64_t state;
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;

	/* No entropy yet (or no getrandom): good enough for jitter, never for secrets. */
	if (state == 0) {
		struct timespec m = {}, r = {};
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_REALTIME, &r);
		state = ((uint64_t)m.tv_nsec << 32) ^ (uint64_t)r.tv_nsec ^ (uint64_t)r.tv_sec ^
			((uint64_t)getpid() << 16);
	}
	return (uint32_t)(splitmix64(&state) >> 32);
}

uint64_t random_range(uint64_t lo, uint64_t hi)
{
	uint64_t r;

	if (hi <= lo)
		return lo;
	r = ((uint64_t)random_u32() << 32) | random_u32();
	return lo + (uint64_t)(((unsigned __int128)r * ((unsigned __int128)(hi - lo) + 1)) >> 64);
}
