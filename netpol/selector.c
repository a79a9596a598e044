/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label selectors: parse, canonicalise, match. See selector.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "netpol/selector.h"

/* The API server caps label keys at 317 and values at 63 bytes; be lenient but bounded. */

/* Field paths are short; a path cut at the buffer's end still names the place. */
static _printf_(3, 4) void field_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

#define NP_SEL_MAX_STR	  1024
#define NP_SEL_MAX_REQS	  256
#define NP_SEL_MAX_VALUES 1024

static const char *const op_names[] = {
	[NP_OP_IN] = "In",
	[NP_OP_NOT_IN] = "NotIn",
	[NP_OP_EXISTS] = "Exists",
	[NP_OP_DOES_NOT_EXIST] = "DoesNotExist",
};

static void req_done(struct np_req *r)
{
	free(r->key);
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	*r = (struct np_req){};
}

void np_selector_done(struct np_selector *s)
{
	for (size_t i = 0; i < s->n; i++)
		req_done(&s->reqs[i]);
	free(s->reqs);
	*s = (struct np_selector){};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_req(const void *pa, const void *pb)
{
	const struct np_req *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	if (c)
		return c;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	for (size_t i = 0; i < a->n_values && i < b->n_values; i++) {
		c = strcmp(a->values[i], b->values[i]);
		if (c)
			return c;
	}
	return a->n_values < b->n_values ? -1 : a->n_values > b->n_values;
}

static int str_checked(const cJSON *item, const char *field, const char *what, char **ret,
		       struct errmsg *err)
{
	const char *s;

	if (json_as_str(item, &s) < 0) {
		errmsg_set(err, "%s: %s must be a string, not %s", field, what,
			   json_type_name(item));
		return -EINVAL;
	}
	if (strlen(s) > NP_SEL_MAX_STR) {
		errmsg_set(err, "%s: %s longer than %d bytes", field, what, NP_SEL_MAX_STR);
		return -EINVAL;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int add_req(struct np_selector *s, struct np_req *r, const char *field, struct errmsg *err)
{
	if (s->n >= NP_SEL_MAX_REQS) {
		errmsg_set(err, "%s: more than %d requirements", field, NP_SEL_MAX_REQS);
		return -E2BIG;
	}
	struct np_req *n = realloc(s->reqs, (s->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->reqs = n;
	s->reqs[s->n++] = *r;
	*r = (struct np_req){};
	return 0;
}

static int parse_match_labels(const cJSON *ml, const char *field, struct np_selector *s,
			      struct errmsg *err)
{
	const cJSON *item;

	if (!cJSON_IsObject(ml)) {
		errmsg_set(err, "%s.matchLabels: must be an object, not %s", field,
			   json_type_name(ml));
		return -EINVAL;
	}
	cJSON_ArrayForEach (item, ml) {
		_cleanup_(req_done) struct np_req r = {.op = NP_OP_IN};
		char f[512];
		int k;

		field_fmt(f, sizeof(f), "%s.matchLabels", field);
		if (!item->string || strlen(item->string) > NP_SEL_MAX_STR) {
			errmsg_set(err, "%s: bad key", f);
			return -EINVAL;
		}
		r.key = strdup(item->string);
		r.values = calloc(1, sizeof(char *));
		if (!r.key || !r.values)
			return -ENOMEM;
		field_fmt(f, sizeof(f), "%s.matchLabels.%s", field, item->string);
		k = str_checked(item, f, "value", &r.values[0], err);
		if (k < 0)
			return k;
		r.n_values = 1;
		k = add_req(s, &r, field, err);
		if (k < 0)
			return k;
	}
	return 0;
}

static int parse_expression(const cJSON *e, const char *f, struct np_selector *s,
			    struct errmsg *err)
{
	_cleanup_(req_done) struct np_req r = {};
	const cJSON *key = json_item(e, "key"), *op = json_item(e, "operator");
	const cJSON *values = json_item(e, "values"), *v;
	const char *ops;
	size_t i;
	int k;

	if (!cJSON_IsObject(e)) {
		errmsg_set(err, "%s: must be an object, not %s", f, json_type_name(e));
		return -EINVAL;
	}
	k = str_checked(key, f, "key", &r.key, err);
	if (k < 0)
		return k;
	if (json_as_str(op, &ops) < 0) {
		errmsg_set(err, "%s.operator: must be a string, not %s", f, json_type_name(op));
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(op_names); i++)
		if (strcmp(ops, op_names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(op_names)) {
		errmsg_set(err, "%s.operator: unsupported value \"%.64s\"", f, ops);
		return -EINVAL;
	}
	r.op = (enum np_op)i;
	if (values && !cJSON_IsNull(values) && !cJSON_IsArray(values)) {
		errmsg_set(err, "%s.values: must be an array, not %s", f, json_type_name(values));
		return -EINVAL;
	}
	size_t n = values && cJSON_IsArray(values) ? (size_t)cJSON_GetArraySize(values) : 0;
	if (n > NP_SEL_MAX_VALUES) {
		errmsg_set(err, "%s.values: more than %d values", f, NP_SEL_MAX_VALUES);
		return -E2BIG;
	}
	if ((r.op == NP_OP_IN || r.op == NP_OP_NOT_IN) && n == 0) {
		errmsg_set(err, "%s.values: must be specified when `operator` is 'In' or 'NotIn'",
			   f);
		return -EINVAL;
	}
	if ((r.op == NP_OP_EXISTS || r.op == NP_OP_DOES_NOT_EXIST) && n > 0) {
		errmsg_set(
			err,
			"%s.values: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
			f);
		return -EINVAL;
	}
	if (n) {
		r.values = calloc(n, sizeof(char *));
		if (!r.values)
			return -ENOMEM;
	}
	i = 0;
	const cJSON *list = n ? values : NULL;
	cJSON_ArrayForEach (v, list) {
		char vf[512];

		field_fmt(vf, sizeof(vf), "%s.values[%zu]", f, i);
		k = str_checked(v, vf, "value", &r.values[r.n_values], err);
		if (k < 0)
			return k;
		r.n_values++;
		i++;
	}
	if (r.n_values)
		qsort(r.values, r.n_values, sizeof(char *), cmp_str);
	/* drop duplicates */
	size_t w = 0;
	for (i = 0; i < r.n_values; i++) {
		if (w && strcmp(r.values[w - 1], r.values[i]) == 0) {
			free(r.values[i]);
			continue;
		}
		r.values[w++] = r.values[i];
	}
	r.n_values = w;
	return add_req(s, &r, f, err);
}

int np_selector_parse(const cJSON *obj, const char *field, struct np_selector *ret,
		      struct errmsg *err)
{
	_cleanup_(np_selector_done) struct np_selector s = {};
	const cJSON *ml, *me, *e;
	size_t i = 0;
	int k;

	if (!cJSON_IsObject(obj)) {
		errmsg_set(err, "%s: must be an object, not %s", field, json_type_name(obj));
		return -EINVAL;
	}
	ml = json_item(obj, "matchLabels");
	if (ml && !cJSON_IsNull(ml)) {
		k = parse_match_labels(ml, field, &s, err);
		if (k < 0)
			return k;
	}
	me = json_item(obj, "matchExpressions");
	if (me && !cJSON_IsNull(me)) {
		if (!cJSON_IsArray(me)) {
			errmsg_set(err, "%s.matchExpressions: must be an array, not %s", field,
				   json_type_name(me));
			return -EINVAL;
		}
		cJSON_ArrayForEach (e, me) {
			char f[512];

			field_fmt(f, sizeof(f), "%s.matchExpressions[%zu]", field, i++);
			k = parse_expression(e, f, &s, err);
			if (k < 0)
				return k;
		}
	}
	if (s.n)
		qsort(s.reqs, s.n, sizeof(*s.reqs), cmp_req);
	*ret = s;
	s = (struct np_selector){};
	return 0;
}

static const char *lookup(const char *const *kv, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(kv[2 * mid], key);

		if (c == 0)
			return kv[2 * mid + 1];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool in_values(const struct np_req *r, const char *v)
{
	return r->n_values && bsearch(&v, r->values, r->n_values, sizeof(char *), cmp_str) != NULL;
}

bool np_selector_match(const struct np_selector *s, const char *const *kv, size_t n)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_req *r = &s->reqs[i];
		const char *v = lookup(kv, n, r->key);

		switch (r->op) {
		case NP_OP_IN:
			if (!v || !in_values(r, v))
				return false;
			break;
		case NP_OP_NOT_IN:
			if (v && in_values(r, v))
				return false;
			break;
		case NP_OP_EXISTS:
			if (!v)
				return false;
			break;
		case NP_OP_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

bool np_selector_is_empty(const struct np_selector *s)
{
	return s->n == 0;
}

int np_selector_canon(const struct np_selector *s, struct buf *out)
{
	int r = 0;

	for (size_t i = 0; i < s->n && r >= 0; i++) {
		const struct np_req *q = &s->reqs[i];

		if (i)
			r = buf_puts(out, ";");
		if (r >= 0)
			r = buf_printf(out, "%zu:%s", strlen(q->key), q->key);
		if (r < 0)
			break;
		switch (q->op) {
		case NP_OP_EXISTS:
			continue;
		case NP_OP_DOES_NOT_EXIST:
			r = buf_puts(out, "!");
			continue;
		case NP_OP_IN:
			r = buf_puts(out, " in (");
			break;
		case NP_OP_NOT_IN:
			r = buf_puts(out, " notin (");
			break;
		}
		for (size_t j = 0; j < q->n_values && r >= 0; j++)
			r = buf_printf(out, "%s%zu:%s", j ? "," : "", strlen(q->values[j]),
				       q->values[j]);
		if (r >= 0)
			r = buf_puts(out, ")");
	}
	return r < 0 ? r : 0;
}
