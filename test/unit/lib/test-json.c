/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/json/json.c: the size and depth bounds, trailing data,
 * unterminated input, and the typed getters (types, ranges, null, case).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/json/json.h"

static int parse(const char *s, cJSON **ret)
{
	return json_parse(s, strlen(s), 1 << 20, JSON_MAX_DEPTH_DEFAULT, ret);
}

static void test_parse_bounds(void **state)
{
	_cleanup_json_ cJSON *j = NULL;
	cJSON *none = NULL;

	assert_int_equal(parse("{\"a\": [1, 2, {\"b\": null}]} \r\n\t", &j), 0);
	assert_true(cJSON_IsObject(j));

	/* size cap: exactly max is fine, one more is not */
	const char *s = "[1,2,3]";
	assert_int_equal(json_parse(s, 7, 7, 8, &none), 0);
	cJSON_Delete(none);
	none = NULL;
	assert_int_equal(json_parse(s, 7, 6, 8, &none), -EMSGSIZE);
	assert_null(none);

	/* depth cap: exactly max is fine, one deeper is not */
	assert_int_equal(json_parse("[[[1]]]", 7, 100, 3, &none), 0);
	cJSON_Delete(none);
	none = NULL;
	assert_int_equal(json_parse("[[[[1]]]]", 9, 100, 3, &none), -ELOOP);
	assert_int_equal(json_parse("{\"a\":{\"b\":{\"c\":{}}}}", 20, 100, 3, &none), -ELOOP);
	/* brackets inside strings (with escaped quotes) do not count */
	const char *str = "[\"[[[[\\\"[[[[\", \"{{{{\"]";
	assert_int_equal(json_parse(str, strlen(str), 100, 1, &none), 0);
	cJSON_Delete(none);
	none = NULL;

	/* very deep input is refused before cJSON recurses into it */
	char deep[20001];
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	assert_int_equal(json_parse(deep, 20000, 100000, JSON_MAX_DEPTH_DEFAULT, &none), -ELOOP);

	/* trailing garbage, empty, invalid */
	assert_int_equal(parse("{} {}", &none), -EBADMSG);
	assert_int_equal(parse("{}x", &none), -EBADMSG);
	assert_int_equal(parse("", &none), -EBADMSG);
	assert_int_equal(parse("   ", &none), -EBADMSG);
	assert_int_equal(parse("{\"a\":}", &none), -EBADMSG);
	assert_int_equal(parse("[1,2", &none), -EBADMSG);
	assert_int_equal(parse("\"unterminated", &none), -EBADMSG);
	assert_int_equal(json_parse("{}\0", 3, 10, 4, &none), -EBADMSG);
	assert_null(none);

	/* not NUL-terminated: only len bytes are read */
	char buf[16];
	memcpy(buf, "{\"k\":7}GARBAGE!!", 16);
	assert_int_equal(json_parse(buf, 7, 16, 4, &none), 0);
	uint32_t v;
	assert_int_equal(json_get_u32(none, "k", &v), 0);
	assert_int_equal(v, 7);
	cJSON_Delete(none);
	none = NULL;
	/* cut in the middle of a number or string */
	assert_int_equal(json_parse(buf, 5, 16, 4, &none), -EBADMSG);
	memcpy(buf, "\"abcdef\"", 8);
	assert_int_equal(json_parse(buf, 4, 16, 4, &none), -EBADMSG);
	(void)state;
}

static void test_getters(void **state)
{
	_cleanup_json_ cJSON *j = NULL;
	const char *s = "sentinel";
	bool b = false;
	int64_t i = 5;
	uint32_t u = 5;
	const cJSON *o = NULL;

	assert_int_equal(parse("{\"str\":\"x\",\"t\":true,\"f\":false,\"n\":null,\"int\":-42,"
			       "\"big\":4294967295,\"over\":4294967296,\"frac\":1.5,\"neg\":-1,"
			       "\"obj\":{\"Inner\":1},\"arr\":[1],\"huge\":1e300,"
			       "\"i64\":-9007199254740992,\"exp\":1e3}",
			       &j),
			 0);

	assert_int_equal(json_get_str(j, "str", &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(json_get_str(j, "t", &s), -EINVAL);
	assert_int_equal(json_get_str(j, "n", &s), -ENOENT);
	assert_int_equal(json_get_str(j, "missing", &s), -ENOENT);
	assert_string_equal(s, "x"); /* untouched on failure */

	assert_int_equal(json_get_bool(j, "t", &b), 0);
	assert_true(b);
	assert_int_equal(json_get_bool(j, "f", &b), 0);
	assert_false(b);
	assert_int_equal(json_get_bool(j, "str", &b), -EINVAL);
	assert_int_equal(json_get_bool(j, "int", &b), -EINVAL);
	assert_int_equal(json_get_bool(j, "n", &b), -ENOENT);

	assert_int_equal(json_get_int64(j, "int", &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(json_get_int64(j, "i64", &i), 0);
	assert_true(i == -9007199254740992LL);
	assert_int_equal(json_get_int64(j, "frac", &i), -EINVAL);
	assert_int_equal(json_get_int64(j, "huge", &i), -EINVAL);
	assert_int_equal(json_get_int64(j, "str", &i), -EINVAL);
	assert_int_equal(json_get_int64(j, "exp", &i), 0);
	assert_int_equal(i, 1000);

	assert_int_equal(json_get_u32(j, "big", &u), 0);
	assert_int_equal(u, 4294967295U);
	u = 5;
	assert_int_equal(json_get_u32(j, "over", &u), -EINVAL);
	assert_int_equal(json_get_u32(j, "neg", &u), -EINVAL);
	assert_int_equal(json_get_u32(j, "frac", &u), -EINVAL);
	assert_int_equal(json_get_u32(j, "n", &u), -ENOENT);
	assert_int_equal(json_get_u32(j, "t", &u), -EINVAL);
	assert_int_equal(u, 5);

	assert_int_equal(json_get_object(j, "obj", &o), 0);
	assert_true(cJSON_IsObject(o));
	assert_int_equal(json_get_object(j, "arr", &o), -EINVAL);
	assert_int_equal(json_get_array(j, "arr", &o), 0);
	assert_int_equal(cJSON_GetArraySize(o), 1);
	assert_int_equal(json_get_array(j, "obj", &o), -EINVAL);
	assert_int_equal(json_get_array(j, "n", &o), -ENOENT);

	/* getters on non-objects and NULL are safe */
	const cJSON *arr = json_item(j, "arr");
	assert_null(json_item(arr, "x"));
	assert_null(json_item_ci(arr, "x"));
	assert_null(json_item(NULL, "x"));
	assert_int_equal(json_get_str(NULL, "x", &s), -ENOENT);
	assert_int_equal(json_as_u32(NULL, &u), -ENOENT);

	assert_string_equal(json_type_name(json_item(j, "str")), "string");
	assert_string_equal(json_type_name(json_item(j, "t")), "bool");
	assert_string_equal(json_type_name(json_item(j, "n")), "null");
	assert_string_equal(json_type_name(json_item(j, "int")), "number");
	assert_string_equal(json_type_name(json_item(j, "obj")), "object");
	assert_string_equal(json_type_name(arr), "array");
	assert_string_equal(json_type_name(NULL), "missing");
	(void)state;
}

static void test_case(void **state)
{
	_cleanup_json_ cJSON *j = NULL;
	int64_t v = 0;

	assert_int_equal(parse("{\"Network\":\"10.244.0.0/16\",\"VNI\":4096}", &j), 0);
	assert_non_null(json_item(j, "Network"));
	assert_null(json_item(j, "network"));
	assert_non_null(json_item_ci(j, "network"));
	assert_non_null(json_item_ci(j, "NETWORK"));
	assert_int_equal(json_as_int64(json_item_ci(j, "vni"), &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(json_get_int64(j, "vni", &v), -ENOENT);
	(void)state;
}

/* Duplicate keys, in any case: the last one wins, as in Go's encoding/json. */
static void test_case_duplicates(void **state)
{
	_cleanup_json_ cJSON *j = NULL;
	const char *s = NULL;
	int64_t v = 0;

	assert_int_equal(parse("{\"VNI\":1,\"Network\":\"a\",\"vni\":2,\"NETWORK\":\"b\","
			       "\"Vni\":3}",
			       &j),
			 0);
	assert_int_equal(json_as_int64(json_item_ci(j, "VNI"), &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(json_as_str(json_item_ci(j, "network"), &s), 0);
	assert_string_equal(s, "b");
	/* the case-sensitive lookup still finds the exact key */
	assert_int_equal(json_as_int64(json_item(j, "VNI"), &v), 0);
	assert_int_equal(v, 1);
	assert_null(json_item_ci(j, "missing"));
	assert_null(json_item_ci(j, NULL));
	(void)state;
}

static void test_print(void **state)
{
	_cleanup_json_ cJSON *j = NULL;
	_cleanup_free_ char *out = NULL;

	assert_int_equal(parse("{ \"a\" : [ 1 , \"x\" ] , \"b\" : { } }", &j), 0);
	out = json_print(j);
	assert_non_null(out);
	assert_string_equal(out, "{\"a\":[1,\"x\"],\"b\":{}}");
	assert_null(json_print(NULL));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bounds), cmocka_unit_test(test_getters),
		cmocka_unit_test(test_case),	     cmocka_unit_test(test_case_duplicates),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
