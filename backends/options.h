/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed options of a Backend object (keys case-insensitive, null or absent:
 * keep the default). Each returns 1 when the key was given, 0 when not, and
 * -EINVAL/-ERANGE with err naming the field ("Backend: VNI: ...").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/json/json.h"

/* The Backend object of json[0..len) (at most max_len bytes); err names what is wrong. */
int backend_opt_object(const char *json, size_t len, size_t max_len, cJSON **ret,
		       struct errmsg *err);
/* "MTU": 0 (absent, or 0: from the interface) or at least min, at most 65535. */
int backend_opt_mtu(const cJSON *obj, unsigned min, uint32_t *ret, struct errmsg *err);
int backend_opt_uint(const cJSON *obj, const char *key, uint64_t lo, uint64_t hi, uint64_t *ret,
		     struct errmsg *err);
int backend_opt_bool(const cJSON *obj, const char *key, bool *ret, struct errmsg *err);
int backend_opt_str(const cJSON *obj, const char *key, const char **ret, struct errmsg *err);
