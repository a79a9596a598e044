/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/base64.c: known encodings both ways, bytes that are not
 * text, and what each decoding mode refuses (etcd's strict gateway form,
 * the kubeconfig's lenient one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/base64.h"
#include "lib/core/buf.h"
#include "lib/core/macro.h"

static void test_round_trip(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{"", ""},	 {"f", "Zg=="},	       {"fo", "Zm8="},
		{"foo", "Zm9v"}, {"/a/b", "L2EvYg=="}, {"hello", "aGVsbG8="},
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		for (int mode = BASE64_STRICT; mode <= BASE64_LENIENT; mode++) {
			struct buf b = BUF_INIT;
			char *dec = NULL;
			size_t n;

			assert_int_equal(base64_encode(v[i].plain, strlen(v[i].plain), &b), 0);
			assert_string_equal(b.data, v[i].enc);
			assert_int_equal(base64_decode(v[i].enc, strlen(v[i].enc), mode, &dec, &n),
					 0);
			assert_int_equal(n, strlen(v[i].plain));
			assert_memory_equal(dec, v[i].plain, n);
			assert_int_equal(dec[n], '\0');
			free(dec);
			buf_free(&b);
		}
	}
	/* bytes that are not text */
	struct buf b = BUF_INIT;
	char *dec = NULL;
	size_t n;
	assert_int_equal(base64_encode("\xff\x00\xfe", 3, &b), 0);
	assert_string_equal(b.data, "/wD+");
	assert_int_equal(base64_decode(b.data, b.len, BASE64_STRICT, &dec, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(dec, "\xff\x00\xfe", 3);
	free(dec);
	buf_free(&b);
	(void)state;
}

static void test_strict(void **state)
{
	static const char *bad[] = {"Zg=",   "Z===",	 "Zg=a", "Zh==", "Zm9=",
				    "Zm 9v", "Zg==Zg==", "=Zg=", "Zg",	 "aGVs\nbG8="};
	char *dec = NULL;
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (base64_decode(bad[i], strlen(bad[i]), BASE64_STRICT, &dec, &n) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
	(void)state;
}

static void test_lenient(void **state)
{
	static const char *bad[] = {"a", "aGVsbG8=x", "a$", "Z===", "Zh==", "Zg==Zg=="};
	char *out;
	size_t n;

	assert_int_equal(base64_decode("aGVsbG8=", 8, BASE64_LENIENT, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	/* whitespace anywhere, padding optional */
	assert_int_equal(base64_decode("aGVs\nbG8", 8, BASE64_LENIENT, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	static const char spaced[] = " Zm9v\r\n\tYg== ";
	assert_int_equal(base64_decode(spaced, strlen(spaced), BASE64_LENIENT, &out, &n), 0);
	assert_string_equal(out, "foob");
	free(out);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (base64_decode(bad[i], strlen(bad[i]), BASE64_LENIENT, &out, &n) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_lenient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
