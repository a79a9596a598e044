/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/backoff.c: with fixed random numbers the sequence is
 * deterministic; the ceiling doubles up to the cap and resets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>

#include "lib/core/backoff.h"

static void test_sequence(void **state)
{
	struct backoff b;

	backoff_init(&b, 1000, 30000);
	assert_int_equal(b.cur_usec, 0);

	/* random 0 gives the floor (half the ceiling), UINT32_MAX the ceiling */
	assert_int_equal(backoff_next(&b, 0), 500);
	assert_int_equal(backoff_next(&b, UINT32_MAX), 2000);
	assert_int_equal(backoff_next(&b, 0), 2000);
	assert_int_equal(backoff_next(&b, UINT32_MAX), 8000);
	assert_int_equal(backoff_next(&b, 1U << 31), 16000 / 2 + (16000 - 8000 + 1) / 2);
	/* capped: 32000 -> 30000 */
	assert_int_equal(backoff_next(&b, UINT32_MAX), 30000);
	assert_int_equal(b.cur_usec, 30000);
	assert_int_equal(backoff_next(&b, 0), 15000);
	assert_int_equal(backoff_next(&b, UINT32_MAX), 30000);

	backoff_reset(&b);
	assert_int_equal(b.cur_usec, 0);
	assert_int_equal(backoff_next(&b, UINT32_MAX), 1000);
	(void)state;
}

static void test_bounds(void **state)
{
	struct backoff b;
	const uint32_t randoms[] = {0, 1, 12345, 1U << 31, UINT32_MAX - 1, UINT32_MAX};

	/* every delay lies in [cur/2, cur] */
	for (size_t k = 0; k < sizeof(randoms) / sizeof(randoms[0]); k++) {
		backoff_init(&b, 3, 1000001);
		for (int i = 0; i < 40; i++) {
			uint64_t d = backoff_next(&b, randoms[k]);
			assert_true(d >= b.cur_usec / 2);
			assert_true(d <= b.cur_usec);
			assert_true(b.cur_usec <= 1000001);
		}
		assert_int_equal(b.cur_usec, 1000001);
	}

	/* a huge cap does not overflow while doubling */
	backoff_init(&b, UINT64_MAX / 3, UINT64_MAX);
	backoff_next(&b, 0);
	backoff_next(&b, 0);
	assert_true(b.cur_usec == UINT64_MAX / 3 * 2);
	backoff_next(&b, 0);
	assert_true(b.cur_usec == UINT64_MAX);
	assert_true(backoff_next(&b, 0) == UINT64_MAX / 2);
	assert_true(backoff_next(&b, UINT32_MAX) >
		    UINT64_MAX / 2 + (UINT64_MAX / 2 - (1ULL << 32)));

	/* base above the cap: the cap wins */
	backoff_init(&b, 5000, 100);
	assert_int_equal(backoff_next(&b, UINT32_MAX), 100);
	(void)state;
}

static void test_random(void **state)
{
	uint32_t seen_or = 0, seen_and = UINT32_MAX;

	for (int i = 0; i < 64; i++) {
		uint32_t v = random_u32();
		seen_or |= v;
		seen_and &= v;
	}
	/* 64 draws: every bit both set and clear at least once (fails with p ~ 2^-58) */
	assert_int_equal(seen_or, UINT32_MAX);
	assert_int_equal(seen_and, 0);

	for (int i = 0; i < 1000; i++) {
		uint64_t v = random_range(10, 20);
		assert_true(v >= 10 && v <= 20);
	}
	assert_int_equal(random_range(7, 7), 7);
	assert_int_equal(random_range(9, 3), 9);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
