/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded JSON parsing and typed getters on top of cJSON. cJSON recurses once
 * per nesting level and accepts 1000 levels, so the depth is checked by a
 * cheap string-aware scan before cJSON sees the document. The input is copied
 * into a NUL-terminated buffer so cJSON never depends on bytes past `len`,
 * and anything but whitespace after the value is rejected (cJSON itself
 * stops at the end of the first value). cJSON_GetErrorPtr() is never used:
 * it is a global. Getters treat JSON null as missing, and numbers must be
 * integral and in range: net-conf.json's VNI or a Node's port is never 1.5.
 */
#include "lib/json/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deepest nesting of objects and arrays outside strings; stops once above max. */
static bool depth_ok(const char *data, size_t len, unsigned max_depth)
{
	unsigned depth = 0;
	bool in_string = false, escaped = false;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '{':
		case '[':
			if (++depth > max_depth)
				return false;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return true;
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int json_parse(const char *data, size_t len, size_t max_len, unsigned max_depth, cJSON **ret)
{
	_cleanup_free_ char *copy = NULL;
	const char *end = NULL;
	cJSON *root;

	if (len > max_len)
		return -EMSGSIZE;
	if (len == 0 || !data)
		return -EBADMSG;
	if (!depth_ok(data, len, max_depth))
		return -ELOOP;

	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	copy[len] = '\0';

	root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
	if (!root)
		return -EBADMSG;
	for (const char *p = end; p && p < copy + len; p++)
		if (!is_json_space(*p)) {
			cJSON_Delete(root);
			return -EBADMSG;
		}
	*ret = root;
	return 0;
}

const cJSON *json_item(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj) || !key)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The LAST key that matches case-insensitively, as Go's encoding/json
 * applies every key that folds to the field name in order: of duplicate
 * keys, the later one wins. */
const cJSON *json_item_ci(const cJSON *obj, const char *key)
{
	const cJSON *it, *found = NULL;

	if (!cJSON_IsObject(obj) || !key)
		return NULL;
	cJSON_ArrayForEach (it, obj) {
		if (it->string && strcasecmp(it->string, key) == 0)
			found = it;
	}
	return found;
}

static bool missing(const cJSON *item)
{
	return !item || cJSON_IsNull(item);
}

int json_as_str(const cJSON *item, const char **ret)
{
	if (missing(item))
		return -ENOENT;
	if (!cJSON_IsString(item) || !item->valuestring)
		return -EINVAL;
	*ret = item->valuestring;
	return 0;
}

int json_as_bool(const cJSON *item, bool *ret)
{
	if (missing(item))
		return -ENOENT;
	if (!cJSON_IsBool(item))
		return -EINVAL;
	*ret = cJSON_IsTrue(item);
	return 0;
}

/* An integral number within [lo, hi], which are exact doubles. */
static int as_integral(const cJSON *item, double lo, double hi, double *ret)
{
	double d;

	if (missing(item))
		return -ENOENT;
	if (!cJSON_IsNumber(item))
		return -EINVAL;
	d = item->valuedouble;
	/* NaN fails both comparisons; within range the int64 cast is exact for integers. */
	if (!(d >= lo && d <= hi) || (double)(int64_t)d != d)
		return -EINVAL;
	*ret = d;
	return 0;
}

int json_as_int64(const cJSON *item, int64_t *ret)
{
	double d;
	int r;

	/* 2^63 is not an int64; the largest double below it is 2^63 - 1024. */
	r = as_integral(item, -9223372036854775808.0, 9223372036854774784.0, &d);
	if (r < 0)
		return r;
	*ret = (int64_t)d;
	return 0;
}

int json_as_u32(const cJSON *item, uint32_t *ret)
{
	double d;
	int r;

	r = as_integral(item, 0, UINT32_MAX, &d);
	if (r < 0)
		return r;
	*ret = (uint32_t)d;
	return 0;
}

int json_as_object(const cJSON *item, const cJSON **ret)
{
	if (missing(item))
		return -ENOENT;
	if (!cJSON_IsObject(item))
		return -EINVAL;
	*ret = item;
	return 0;
}

int json_as_array(const cJSON *item, const cJSON **ret)
{
	if (missing(item))
		return -ENOENT;
	if (!cJSON_IsArray(item))
		return -EINVAL;
	*ret = item;
	return 0;
}

int json_get_str(const cJSON *obj, const char *key, const char **ret)
{
	return json_as_str(json_item(obj, key), ret);
}

int json_get_bool(const cJSON *obj, const char *key, bool *ret)
{
	return json_as_bool(json_item(obj, key), ret);
}

int json_get_int64(const cJSON *obj, const char *key, int64_t *ret)
{
	return json_as_int64(json_item(obj, key), ret);
}

int json_get_u32(const cJSON *obj, const char *key, uint32_t *ret)
{
	return json_as_u32(json_item(obj, key), ret);
}

int json_get_object(const cJSON *obj, const char *key, const cJSON **ret)
{
	return json_as_object(json_item(obj, key), ret);
}

int json_get_array(const cJSON *obj, const char *key, const cJSON **ret)
{
	return json_as_array(json_item(obj, key), ret);
}

const char *json_type_name(const cJSON *item)
{
	if (!item)
		return "missing";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsBool(item))
		return "bool";
	if (cJSON_IsNumber(item))
		return "number";
	if (cJSON_IsString(item))
		return "string";
	if (cJSON_IsArray(item))
		return "array";
	if (cJSON_IsObject(item))
		return "object";
	if (cJSON_IsRaw(item))
		return "raw";
	return "invalid";
}

char *json_print(const cJSON *item)
{
	if (!item)
		return NULL;
	return cJSON_PrintUnformatted(item);
}
