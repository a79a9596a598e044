/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for lib/json/json.c: json_parse with a small depth cap, then every
 * typed getter on every node of the tree. An accepted document must respect
 * the depth cap, and its printed form must parse back. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DEPTH 8

static unsigned walk(const cJSON *item, unsigned depth)
{
	const char *s;
	bool b;
	int64_t i;
	uint32_t u;
	const cJSON *o, *child;
	unsigned deepest = depth;

	/* each getter either fails cleanly or matches the type */
	if (json_as_str(item, &s) == 0 && (!cJSON_IsString(item) || !s))
		abort();
	if (json_as_bool(item, &b) == 0 && !cJSON_IsBool(item))
		abort();
	if (json_as_int64(item, &i) == 0 &&
	    (!cJSON_IsNumber(item) || (double)i != item->valuedouble))
		abort();
	if (json_as_u32(item, &u) == 0 && (!cJSON_IsNumber(item) || (double)u != item->valuedouble))
		abort();
	if (json_as_object(item, &o) == 0 && !cJSON_IsObject(o))
		abort();
	if (json_as_array(item, &o) == 0 && !cJSON_IsArray(o))
		abort();
	(void)json_type_name(item);

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return depth;
	depth++;
	if (depth > FUZZ_DEPTH)
		abort();
	cJSON_ArrayForEach (child, item) {
		if (cJSON_IsObject(item) && child->string) {
			if (!json_item(item, child->string) || !json_item_ci(item, child->string))
				abort();
			(void)json_get_str(item, child->string, &s);
			(void)json_get_u32(item, child->string, &u);
		}
		deepest = MAX(deepest, walk(child, depth));
	}
	return MAX(deepest, depth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ cJSON *j = NULL, *again = NULL;
	_cleanup_free_ char *printed = NULL;

	if (json_parse((const char *)data, size, 65536, FUZZ_DEPTH, &j) < 0)
		return 0;
	walk(j, 0);

	printed = json_print(j);
	if (!printed)
		return 0;
	if (json_parse(printed, strlen(printed), SIZE_MAX, FUZZ_DEPTH, &again) < 0)
		abort();
	return 0;
}
