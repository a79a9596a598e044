/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, strict JSON value module for the static CNI plugin (cJSON has no
 * static library in Debian). Parses bounded input into a tree, looks keys
 * up, builds and merges values, and prints compactly with object keys in
 * byte order (what Go's encoding/json does for maps, so the delegate
 * configuration we save is byte-compatible with upstream's).
 *
 * Strict: RFC 8259 grammar only, UTF-8 validated, \u escapes decoded
 * (surrogate pairs joined, lone surrogates rejected), duplicate keys
 * rejected. Numbers keep their literal text, so any number round-trips.
 * Bounded: depth, node count and number length are capped.
 *
 * Ownership: every cni_json_new_*() returns a new tree (NULL when out of
 * memory) freed with cni_json_free(); cni_json_set()/cni_json_append() take
 * ownership of the value they are given, also on failure. Getters return
 * borrowed pointers valid while the parent lives and is not modified.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "lib/core/macro.h"

#define CNI_JSON_MAX_DEPTH	64
#define CNI_JSON_MAX_NODES	200000
#define CNI_JSON_MAX_NUMBER_LEN 64

enum cni_json_type {
	CNI_JSON_NULL,
	CNI_JSON_BOOL,
	CNI_JSON_NUMBER,
	CNI_JSON_STRING,
	CNI_JSON_ARRAY,
	CNI_JSON_OBJECT,
};

struct cni_json;

/* -EBADMSG with "offset N: ..." in err on malformed input, -E2BIG over a cap, -ENOMEM. */
int cni_json_parse(const char *data, size_t len, struct cni_json **ret, struct errmsg *err);
/* NULL is fine; returns NULL. */
struct cni_json *cni_json_free(struct cni_json *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cni_json *, cni_json_free)
#define _cleanup_cni_json_ _cleanup_(cni_json_freep)

struct cni_json *cni_json_new_null(void);
struct cni_json *cni_json_new_bool(bool b);
struct cni_json *cni_json_new_u64(uint64_t n);
struct cni_json *cni_json_new_string(const char *s);
struct cni_json *cni_json_new_array(void);
struct cni_json *cni_json_new_object(void);
/* Deep copy; NULL when out of memory. */
struct cni_json *cni_json_copy(const struct cni_json *v);

enum cni_json_type cni_json_type(const struct cni_json *v);
const char *cni_json_type_name(const struct cni_json *v);
/* Value of a string (NUL-terminated; may contain NULs, see _len), or NULL for other types. */
const char *cni_json_string(const struct cni_json *v);
size_t cni_json_string_len(const struct cni_json *v);
/* true only for the literal true. */
bool cni_json_is_true(const struct cni_json *v);
/* Number of array items or object members, 0 for scalars. */
size_t cni_json_size(const struct cni_json *v);
const struct cni_json *cni_json_item(const struct cni_json *array, size_t i);
/* i-th member of an object in key order. */
const char *cni_json_key(const struct cni_json *obj, size_t i);
const struct cni_json *cni_json_value(const struct cni_json *obj, size_t i);
/* Member of an object; NULL when absent or obj is not an object. */
const struct cni_json *cni_json_get(const struct cni_json *obj, const char *key);
bool cni_json_has(const struct cni_json *obj, const char *key);
/* A string member without NULs: -ENOENT when absent (or null), -EINVAL for another type. */
int cni_json_get_string(const struct cni_json *obj, const char *key, const char **ret);
/* A non-negative integer number: -EINVAL otherwise, -ERANGE above UINT32_MAX. */
int cni_json_as_u32(const struct cni_json *v, uint32_t *ret);

/* Set (add or replace) a member; takes ownership of value; value NULL gives -ENOMEM. */
int cni_json_set(struct cni_json *obj, const char *key, struct cni_json *value);
int cni_json_append(struct cni_json *array, struct cni_json *value);
/* Copy every member of src that dst does not have into dst (shallow merge, dst wins). */
int cni_json_merge(struct cni_json *dst, const struct cni_json *src);

bool cni_json_equal(const struct cni_json *a, const struct cni_json *b);
/* Compact JSON appended to out. */
int cni_json_print(const struct cni_json *v, struct buf *out);
