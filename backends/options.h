/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed options of a Backend object (keys case-insensitive, null or absent:
 * keep the default). Each returns 1 when the key was given, 0 when not, and
 * -EINVAL/-ERANGE with err naming the field ("Backend: VNI: ...").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/json/json.h"

int backend_opt_uint(const cJSON *obj, const char *key, uint64_t lo, uint64_t hi, uint64_t *ret,
		     struct errmsg *err);
int backend_opt_bool(const cJSON *obj, const char *key, bool *ret, struct errmsg *err);
int backend_opt_str(const cJSON *obj, const char *key, const char **ret, struct errmsg *err);
