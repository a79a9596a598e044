/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes label selectors (metav1.LabelSelector): matchLabels and
 * matchExpressions with In, NotIn, Exists, DoesNotExist. matchLabels
 * entries become `In` requirements of one value; all requirements are
 * ANDed; no requirement matches everything (`{}`).
 *
 * Pure: parse from a borrowed cJSON object, match against a label set
 * sorted by key, and render a canonical text (requirements sorted, values
 * sorted and deduplicated) so that equal selectors written differently get
 * the same nftables set.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"

enum np_op {
	NP_OP_IN,
	NP_OP_NOT_IN,
	NP_OP_EXISTS,
	NP_OP_DOES_NOT_EXIST,
};

struct np_req {
	char *key;
	enum np_op op;
	char **values; /* sorted, unique */
	size_t n_values;
};

struct np_selector {
	struct np_req *reqs; /* sorted by key, op, values */
	size_t n;
};

/*
 * Parse a LabelSelector. field is its path for messages
 * ("spec.ingress[0].from[1].podSelector"); err names the bad field, e.g.
 * `spec.podSelector.matchExpressions[0].operator: unsupported value "Has"`.
 * Rejects what the API server rejects: In/NotIn without values,
 * Exists/DoesNotExist with values, non-string keys or values.
 */
int np_selector_parse(const cJSON *obj, const char *field, struct np_selector *ret,
		      struct errmsg *err);
void np_selector_done(struct np_selector *s);

/* kv: n (key, value) pairs sorted by key (strcmp), kv[2i] key, kv[2i+1] value. */
bool np_selector_match(const struct np_selector *s, const char *const *kv, size_t n);
bool np_selector_is_empty(const struct np_selector *s);

/*
 * Canonical text, strings length-prefixed so that no label text can make two
 * selectors collide: "3:app in (2:db,3:web);4:tier!" ("4:tier" exists,
 * "4:tier!" does not exist, "... notin (...)").
 */
int np_selector_canon(const struct np_selector *s, struct buf *out);
