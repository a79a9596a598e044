/* SPDX-License-Identifier: Apache-2.0 */
/* Typed options of a Backend object, shared by the backends' config parsers. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "options.h"

#define BACKEND_OPT_MAX_DEPTH 16

int backend_opt_object(const char *json, size_t len, size_t max_len, cJSON **ret,
		       struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int r;

	r = json_parse(json, len, max_len, BACKEND_OPT_MAX_DEPTH, &root);
	if (r < 0) {
		errmsg_set(err, "Backend: invalid JSON: %s", strerror(-r));
		return r;
	}
	if (!cJSON_IsObject(root)) {
		errmsg_set(err, "Backend: expected an object, got %s", json_type_name(root));
		return -EINVAL;
	}
	*ret = TAKE_PTR(root);
	return 0;
}

int backend_opt_mtu(const cJSON *obj, unsigned min, uint32_t *ret, struct errmsg *err)
{
	uint64_t v;
	int r = backend_opt_uint(obj, "MTU", 0, UINT16_MAX, &v, err);

	if (r <= 0)
		return r;
	if (v != 0 && v < min) {
		errmsg_set(err, "Backend: MTU: %" PRIu64 " is too small (minimum %u)", v, min);
		return -ERANGE;
	}
	*ret = (uint32_t)v;
	return 1;
}

int backend_opt_uint(const cJSON *obj, const char *key, uint64_t lo, uint64_t hi, uint64_t *ret,
		     struct errmsg *err)
{
	const cJSON *item = json_item_ci(obj, key);
	int64_t v;
	int r;

	r = json_as_int64(item, &v);
	if (r == -ENOENT)
		return 0; /* absent or null: keep the default */
	if (r < 0) {
		if (cJSON_IsNumber(item))
			errmsg_set(err, "Backend: %s: expected an integer, got %g", key,
				   item->valuedouble);
		else
			errmsg_set(err, "Backend: %s: expected an integer, got %s", key,
				   json_type_name(item));
		return -EINVAL;
	}
	if (v < 0 || (uint64_t)v < lo || (uint64_t)v > hi) {
		errmsg_set(err, "Backend: %s: %" PRId64 " is out of range %" PRIu64 "..%" PRIu64,
			   key, v, lo, hi);
		return -ERANGE;
	}
	*ret = (uint64_t)v;
	return 1;
}

int backend_opt_bool(const cJSON *obj, const char *key, bool *ret, struct errmsg *err)
{
	const cJSON *item = json_item_ci(obj, key);
	int r = json_as_bool(item, ret);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		errmsg_set(err, "Backend: %s: expected a boolean, got %s", key,
			   json_type_name(item));
		return -EINVAL;
	}
	return 1;
}

int backend_opt_str(const cJSON *obj, const char *key, const char **ret, struct errmsg *err)
{
	const cJSON *item = json_item_ci(obj, key);
	int r = json_as_str(item, ret);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		errmsg_set(err, "Backend: %s: expected a string, got %s", key,
			   json_type_name(item));
		return -EINVAL;
	}
	return 1;
}
