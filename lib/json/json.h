/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed, bounded access to JSON documents parsed with cJSON. Every document
 * we parse is untrusted: sizes and nesting depth are capped, and getters
 * return -errno instead of trusting types:
 *   -ENOENT  key missing (or JSON null)
 *   -EINVAL  wrong type, or a number that is not an integer / out of range
 * Lookups are case-sensitive (json_item) or case-insensitive (json_item_ci,
 * as Go's encoding/json matches net-conf.json keys: the last matching key
 * wins, so of duplicate keys the later one counts).
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/macro.h"

#define JSON_MAX_DEPTH_DEFAULT 64

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete)
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/*
 * Parse data[0..len) (need not be NUL-terminated). -EMSGSIZE when len >
 * max_len, -ELOOP when nested deeper than max_depth, -EBADMSG when not valid
 * JSON or when anything but whitespace follows the value.
 */
int json_parse(const char *data, size_t len, size_t max_len, unsigned max_depth, cJSON **ret);

const cJSON *json_item(const cJSON *obj, const char *key);
const cJSON *json_item_ci(const cJSON *obj, const char *key);

int json_as_str(const cJSON *item, const char **ret);
int json_as_bool(const cJSON *item, bool *ret);
int json_as_int64(const cJSON *item, int64_t *ret);
int json_as_u32(const cJSON *item, uint32_t *ret);
int json_as_object(const cJSON *item, const cJSON **ret);
int json_as_array(const cJSON *item, const cJSON **ret);

/* json_as_X(json_item(obj, key), ret) */
int json_get_str(const cJSON *obj, const char *key, const char **ret);
int json_get_bool(const cJSON *obj, const char *key, bool *ret);
int json_get_int64(const cJSON *obj, const char *key, int64_t *ret);
int json_get_u32(const cJSON *obj, const char *key, uint32_t *ret);
int json_get_object(const cJSON *obj, const char *key, const cJSON **ret);
int json_get_array(const cJSON *obj, const char *key, const cJSON **ret);

/* A short name of the item's type for error messages: "string", "number", ... */
const char *json_type_name(const cJSON *item);

/* cJSON_PrintUnformatted into a malloc'ed string; NULL on OOM. */
char *json_print(const cJSON *item);
