/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/json.c: strict parsing (grammar, UTF-8, escapes,
 * duplicates, caps), printing with sorted keys, round trips of arbitrary
 * user values, and the building/merging used for delegate configurations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cni/json.h"

static char *print(const struct cni_json *v)
{
	struct buf b = BUF_INIT;
	assert_int_equal(cni_json_print(v, &b), 0);
	return buf_steal(&b, NULL);
}

/* Parses in and checks that printing gives out (and that out parses to an equal value). */
static void roundtrip(const char *in, const char *out)
{
	_cleanup_cni_json_ struct cni_json *v = NULL, *w = NULL;
	struct errmsg err = {};
	int r = cni_json_parse(in, strlen(in), &v, &err);
	if (r < 0)
		fail_msg("parse of %s failed: %s", in, err.text);
	_cleanup_free_ char *text = print(v);
	assert_string_equal(text, out);
	assert_int_equal(cni_json_parse(text, strlen(text), &w, &err), 0);
	assert_true(cni_json_equal(v, w));
}

static void test_roundtrip(void **state)
{
	roundtrip(" { } ", "{}");
	roundtrip("[]", "[]");
	roundtrip("null", "null");
	roundtrip("[true,false,null]", "[true,false,null]");
	/* Keys come out in byte order, numbers keep their literal text. */
	roundtrip("{\"b\": 1, \"a\": [1.50, -0, 1e+300, 12345678901234567890123], \"A\": {}}",
		  "{\"A\":{},\"a\":[1.50,-0,1e+300,12345678901234567890123],\"b\":1}");
	roundtrip("{\"ab\":1,\"a\":2,\"\":3}", "{\"\":3,\"a\":2,\"ab\":1}");
	/* Escapes: short forms where JSON has them, \u00XX for other controls, UTF-8 as is. */
	roundtrip("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\"",
		  "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\"");
	roundtrip("\"\\u00e9\\u20ac\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	roundtrip("\"\xc3\xa9\"", "\"\xc3\xa9\"");
	/* NUL inside strings and keys survives. */
	roundtrip("{\"k\\u0000x\":\"a\\u0000b\"}", "{\"k\\u0000x\":\"a\\u0000b\"}");
	(void)state;
}

static void parse_fails(const char *in, int expect, const char *msg)
{
	struct cni_json *v = NULL;
	struct errmsg err = {};
	assert_int_equal(cni_json_parse(in, strlen(in), &v, &err), expect);
	assert_null(v);
	if (!strstr(err.text, msg))
		fail_msg("%s: error \"%s\" lacks \"%s\"", in, err.text, msg);
}

static void test_strict(void **state)
{
	parse_fails("", -EBADMSG, "offset 0: unexpected end of input");
	parse_fails("{", -EBADMSG, "expected string key");
	parse_fails("{\"a\" 1}", -EBADMSG, "offset 5: expected ':'");
	parse_fails("[1,]", -EBADMSG, "offset 3");
	parse_fails("[1 2]", -EBADMSG, "expected ',' or ']'");
	parse_fails("{\"a\":1,}", -EBADMSG, "expected string key");
	parse_fails("{} x", -EBADMSG, "offset 3: unexpected data after");
	parse_fails("01", -EBADMSG, "unexpected data after");
	parse_fails("1.", -EBADMSG, "digit expected after '.'");
	parse_fails("1e", -EBADMSG, "digit expected in exponent");
	parse_fails("-", -EBADMSG, "invalid number");
	parse_fails("+1", -EBADMSG, "unexpected character 0x2b");
	parse_fails("tru", -EBADMSG, "invalid literal");
	parse_fails("nul", -EBADMSG, "invalid literal");
	parse_fails("'a'", -EBADMSG, "unexpected character");
	parse_fails("\"abc", -EBADMSG, "unterminated string");
	parse_fails("\"a\\", -EBADMSG, "unterminated string");
	parse_fails("\"a\nb\"", -EBADMSG, "control character");
	parse_fails("\"\\x\"", -EBADMSG, "offset 2: invalid escape");
	parse_fails("\"\\u12g4\"", -EBADMSG, "invalid \\u escape");
	parse_fails("\"\\ud800\"", -EBADMSG, "lone high surrogate");
	parse_fails("\"\\ud800\\u0041\"", -EBADMSG, "lone high surrogate");
	parse_fails("\"\\udc00\"", -EBADMSG, "lone low surrogate");
	parse_fails("\"\xff\"", -EBADMSG, "invalid UTF-8");
	parse_fails("\"\xc0\xaf\"", -EBADMSG, "invalid UTF-8");		/* overlong */
	parse_fails("\"\xed\xa0\x80\"", -EBADMSG, "invalid UTF-8");	/* encoded surrogate */
	parse_fails("\"\xf4\x90\x80\x80\"", -EBADMSG, "invalid UTF-8"); /* > U+10FFFF */
	parse_fails("\"\xe2\x82\"", -EBADMSG, "invalid UTF-8");		/* truncated */
	parse_fails("{\"a\":1,\"b\":2,\"a\":3}", -EBADMSG, "duplicate key \"a\"");
	parse_fails("123456789012345678901234567890123456789012345678901234567890123456789", -E2BIG,
		    "number literal too long");
	(void)state;
}

static void test_caps(void **state)
{
	char deep[2 * CNI_JSON_MAX_DEPTH + 8];
	size_t n = 0;
	struct cni_json *v = NULL;
	struct errmsg err = {};

	/* Exactly the maximum depth parses, one more does not. */
	for (int i = 0; i < CNI_JSON_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < CNI_JSON_MAX_DEPTH; i++)
		deep[n++] = ']';
	assert_int_equal(cni_json_parse(deep, n, &v, &err), 0);
	v = cni_json_free(v);
	memmove(deep + 1, deep, n);
	deep[0] = '[';
	deep[++n] = ']';
	n++;
	assert_int_equal(cni_json_parse(deep, n, &v, &err), -E2BIG);
	assert_non_null(strstr(err.text, "nesting too deep"));

	/* Too many values. */
	size_t count = CNI_JSON_MAX_NODES + 1;
	_cleanup_free_ char *many = malloc(2 * count + 2);
	assert_non_null(many);
	n = 0;
	many[n++] = '[';
	for (size_t i = 0; i < count; i++) {
		many[n++] = '0';
		many[n++] = ',';
	}
	many[n - 1] = ']';
	assert_int_equal(cni_json_parse(many, n, &v, &err), -E2BIG);
	assert_non_null(strstr(err.text, "too many values"));
	(void)state;
}

static void test_build(void **state)
{
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	_cleanup_cni_json_ struct cni_json *a = cni_json_new_array();
	assert_int_equal(cni_json_set(o, "z", cni_json_new_u64(18446744073709551615ULL)), 0);
	assert_int_equal(cni_json_set(o, "m", cni_json_new_bool(true)), 0);
	assert_int_equal(cni_json_append(a, cni_json_new_string("x\"y")), 0);
	assert_int_equal(cni_json_append(a, cni_json_new_null()), 0);
	assert_int_equal(cni_json_set(o, "a", TAKE_PTR(a)), 0);
	assert_int_equal(cni_json_set(o, "m", cni_json_new_bool(false)), 0); /* replaces */
	assert_int_equal(cni_json_set(o, "x", NULL), -ENOMEM);
	_cleanup_free_ char *text = print(o);
	assert_string_equal(text,
			    "{\"a\":[\"x\\\"y\",null],\"m\":false,\"z\":18446744073709551615}");

	assert_int_equal(cni_json_size(o), 3);
	assert_string_equal(cni_json_key(o, 0), "a");
	assert_true(cni_json_has(o, "z"));
	assert_false(cni_json_has(o, "q"));
	assert_null(cni_json_get(cni_json_get(o, "a"), "x")); /* not an object */
	assert_string_equal(cni_json_string(cni_json_item(cni_json_get(o, "a"), 0)), "x\"y");
	assert_null(cni_json_item(cni_json_get(o, "a"), 2));
	_cleanup_cni_json_ struct cni_json *arr = cni_json_new_array();
	assert_int_equal(cni_json_set(arr, "k", cni_json_new_null()), -EINVAL);
	assert_int_equal(cni_json_append(o, cni_json_new_null()), -EINVAL);

	const char *s;
	assert_int_equal(cni_json_get_string(o, "q", &s), -ENOENT);
	assert_int_equal(cni_json_get_string(o, "m", &s), -EINVAL);
	uint32_t u;
	assert_int_equal(cni_json_as_u32(cni_json_get(o, "z"), &u), -ERANGE);
	assert_int_equal(cni_json_as_u32(cni_json_get(o, "m"), &u), -EINVAL);
	(void)state;
}

static void test_merge_copy_equal(void **state)
{
	const char *dst_text = "{\"mtu\":1400,\"keep\":[1,{\"x\":\"y\"}]}";
	const char *src_text = "{\"mtu\":1450,\"ipMasq\":true,\"nested\":{\"a\":[\"\\u00e9\"]}}";
	_cleanup_cni_json_ struct cni_json *dst = NULL, *src = NULL, *copy = NULL;
	assert_int_equal(cni_json_parse(dst_text, strlen(dst_text), &dst, NULL), 0);
	assert_int_equal(cni_json_parse(src_text, strlen(src_text), &src, NULL), 0);
	copy = cni_json_copy(src);
	assert_non_null(copy);
	assert_true(cni_json_equal(copy, src));

	assert_int_equal(cni_json_merge(dst, src), 0);
	_cleanup_free_ char *text = print(dst);
	assert_string_equal(text, "{\"ipMasq\":true,\"keep\":[1,{\"x\":\"y\"}],\"mtu\":1400,"
				  "\"nested\":{\"a\":[\"\xc3\xa9\"]}}");
	/* The merged values are copies: src is unchanged and still equal to its copy. */
	assert_true(cni_json_equal(copy, src));
	assert_false(cni_json_equal(dst, src));

	_cleanup_cni_json_ struct cni_json *n1 = NULL, *n2 = NULL;
	assert_int_equal(cni_json_parse("1.0", 3, &n1, NULL), 0);
	assert_int_equal(cni_json_parse("1", 1, &n2, NULL), 0);
	assert_false(cni_json_equal(n1, n2)); /* literal text is the value */
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_merge_copy_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
