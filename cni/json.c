/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON values for the CNI plugin: a recursive-descent parser with explicit
 * caps (depth, nodes, number length) into a plain tree, and a printer.
 * Objects keep their members sorted by key (byte order, unique), so lookup
 * is a binary search and printing in a stable order needs no extra work.
 * Numbers are kept as their validated literal text: the plugin never does
 * arithmetic on user numbers, it only passes them through to the delegate.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lib/core/hex.h"

struct member {
	char *key;
	size_t key_len;
	struct cni_json *value;
};

struct cni_json {
	enum cni_json_type type;
	bool boolean;
	char *str;  /* STRING value or NUMBER literal, NUL-terminated */
	size_t len; /* bytes of str, or items/members in use */
	size_t cap;
	struct cni_json **items;
	struct member *members;
};

static struct cni_json *node_new(enum cni_json_type type)
{
	struct cni_json *v = calloc(1, sizeof(*v));
	if (v)
		v->type = type;
	return v;
}

struct cni_json *cni_json_free(struct cni_json *v)
{
	if (!v)
		return NULL;
	for (size_t i = 0; v->type == CNI_JSON_ARRAY && i < v->len; i++)
		cni_json_free(v->items[i]);
	for (size_t i = 0; v->type == CNI_JSON_OBJECT && i < v->len; i++) {
		free(v->members[i].key);
		cni_json_free(v->members[i].value);
	}
	free(v->items);
	free(v->members);
	free(v->str);
	free(v);
	return NULL;
}

struct cni_json *cni_json_new_null(void)
{
	return node_new(CNI_JSON_NULL);
}

struct cni_json *cni_json_new_bool(bool b)
{
	struct cni_json *v = node_new(CNI_JSON_BOOL);
	if (v)
		v->boolean = b;
	return v;
}

static struct cni_json *new_text(enum cni_json_type type, const char *s, size_t len)
{
	struct cni_json *v = node_new(type);
	if (!v)
		return NULL;
	v->str = malloc(len + 1);
	if (!v->str)
		return cni_json_free(v);
	memcpy(v->str, s, len);
	v->str[len] = '\0';
	v->len = len;
	return v;
}

struct cni_json *cni_json_new_u64(uint64_t n)
{
	char text[24];
	int k = snprintf(text, sizeof(text), "%" PRIu64, n);
	return new_text(CNI_JSON_NUMBER, text, (size_t)k);
}

struct cni_json *cni_json_new_string(const char *s)
{
	return new_text(CNI_JSON_STRING, s, strlen(s));
}

struct cni_json *cni_json_new_array(void)
{
	return node_new(CNI_JSON_ARRAY);
}

struct cni_json *cni_json_new_object(void)
{
	return node_new(CNI_JSON_OBJECT);
}

enum cni_json_type cni_json_type(const struct cni_json *v)
{
	return v->type;
}

const char *cni_json_type_name(const struct cni_json *v)
{
	static const char *const names[] = {
		[CNI_JSON_NULL] = "null",     [CNI_JSON_BOOL] = "boolean",
		[CNI_JSON_NUMBER] = "number", [CNI_JSON_STRING] = "string",
		[CNI_JSON_ARRAY] = "array",   [CNI_JSON_OBJECT] = "object",
	};
	return v ? names[v->type] : "missing";
}

const char *cni_json_string(const struct cni_json *v)
{
	return v && v->type == CNI_JSON_STRING ? v->str : NULL;
}

size_t cni_json_string_len(const struct cni_json *v)
{
	return v && v->type == CNI_JSON_STRING ? v->len : 0;
}

bool cni_json_is_true(const struct cni_json *v)
{
	return v && v->type == CNI_JSON_BOOL && v->boolean;
}

size_t cni_json_size(const struct cni_json *v)
{
	return v && (v->type == CNI_JSON_ARRAY || v->type == CNI_JSON_OBJECT) ? v->len : 0;
}

const struct cni_json *cni_json_item(const struct cni_json *array, size_t i)
{
	if (!array || array->type != CNI_JSON_ARRAY || i >= array->len)
		return NULL;
	return array->items[i];
}

const char *cni_json_key(const struct cni_json *obj, size_t i)
{
	if (!obj || obj->type != CNI_JSON_OBJECT || i >= obj->len)
		return NULL;
	return obj->members[i].key;
}

const struct cni_json *cni_json_value(const struct cni_json *obj, size_t i)
{
	if (!obj || obj->type != CNI_JSON_OBJECT || i >= obj->len)
		return NULL;
	return obj->members[i].value;
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, MIN(alen, blen));
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of key, or -(insertion point) - 1 when absent. */
static ssize_t member_find(const struct cni_json *obj, const char *key, size_t key_len)
{
	size_t lo = 0, hi = obj->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct member *m = &obj->members[mid];
		int c = key_cmp(key, key_len, m->key, m->key_len);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ssize_t)lo - 1;
}

const struct cni_json *cni_json_get(const struct cni_json *obj, const char *key)
{
	if (!obj || obj->type != CNI_JSON_OBJECT)
		return NULL;
	ssize_t i = member_find(obj, key, strlen(key));
	return i >= 0 ? obj->members[i].value : NULL;
}

bool cni_json_has(const struct cni_json *obj, const char *key)
{
	return cni_json_get(obj, key) != NULL;
}

int cni_json_get_string(const struct cni_json *obj, const char *key, const char **ret)
{
	const struct cni_json *v = cni_json_get(obj, key);
	if (!v || v->type == CNI_JSON_NULL)
		return -ENOENT;
	if (v->type != CNI_JSON_STRING || strlen(v->str) != v->len)
		return -EINVAL;
	*ret = v->str;
	return 0;
}

int cni_json_as_u32(const struct cni_json *v, uint32_t *ret)
{
	if (!v || v->type != CNI_JSON_NUMBER || v->str[0] == '-')
		return -EINVAL;
	uint64_t n = 0;
	for (const char *p = v->str; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	*ret = (uint32_t)n;
	return 0;
}

static int grow(void **array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = MAX(*cap * 2, (size_t)4);
	void *p = reallocarray(*array, n, size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

int cni_json_set(struct cni_json *obj, const char *key, struct cni_json *value)
{
	_cleanup_cni_json_ struct cni_json *v = value;
	if (!v)
		return -ENOMEM;
	if (obj->type != CNI_JSON_OBJECT)
		return -EINVAL;
	size_t key_len = strlen(key);
	ssize_t i = member_find(obj, key, key_len);
	if (i >= 0) {
		cni_json_free(obj->members[i].value);
		obj->members[i].value = TAKE_PTR(v);
		return 0;
	}
	size_t at = (size_t)(-i - 1);
	if (grow((void **)&obj->members, &obj->cap, obj->len + 1, sizeof(struct member)) < 0)
		return -ENOMEM;
	char *k = strdup(key);
	if (!k)
		return -ENOMEM;
	memmove(&obj->members[at + 1], &obj->members[at], (obj->len - at) * sizeof(struct member));
	obj->members[at] = (struct member){.key = k, .key_len = key_len, .value = TAKE_PTR(v)};
	obj->len++;
	return 0;
}

int cni_json_append(struct cni_json *array, struct cni_json *value)
{
	_cleanup_cni_json_ struct cni_json *v = value;
	if (!v)
		return -ENOMEM;
	if (array->type != CNI_JSON_ARRAY)
		return -EINVAL;
	if (grow((void **)&array->items, &array->cap, array->len + 1, sizeof(*array->items)) < 0)
		return -ENOMEM;
	array->items[array->len++] = TAKE_PTR(v);
	return 0;
}

struct cni_json *cni_json_copy(const struct cni_json *v)
{
	_cleanup_cni_json_ struct cni_json *c = NULL;
	switch (v->type) {
	case CNI_JSON_NULL:
	case CNI_JSON_BOOL:
		c = node_new(v->type);
		if (c)
			c->boolean = v->boolean;
		break;
	case CNI_JSON_NUMBER:
	case CNI_JSON_STRING:
		c = new_text(v->type, v->str, v->len);
		break;
	case CNI_JSON_ARRAY:
		c = node_new(v->type);
		if (!c || (v->len > 0 && !(c->items = calloc(v->len, sizeof(*c->items)))))
			return NULL;
		c->cap = v->len;
		for (; c->len < v->len; c->len++)
			if (!(c->items[c->len] = cni_json_copy(v->items[c->len])))
				return NULL;
		break;
	case CNI_JSON_OBJECT:
		c = node_new(v->type);
		if (!c || (v->len > 0 && !(c->members = calloc(v->len, sizeof(*c->members)))))
			return NULL;
		c->cap = v->len;
		for (; c->len < v->len; c->len++) {
			const struct member *m = &v->members[c->len];
			struct member *d = &c->members[c->len];
			d->key = malloc(m->key_len + 1);
			if (!d->key)
				return NULL;
			memcpy(d->key, m->key, m->key_len + 1);
			d->key_len = m->key_len;
			d->value = cni_json_copy(m->value);
			if (!d->value) {
				c->len++; /* so that the key is freed with c */
				return NULL;
			}
		}
		break;
	}
	return TAKE_PTR(c);
}

int cni_json_merge(struct cni_json *dst, const struct cni_json *src)
{
	if (dst->type != CNI_JSON_OBJECT || src->type != CNI_JSON_OBJECT)
		return -EINVAL;
	for (size_t i = 0; i < src->len; i++) {
		const struct member *m = &src->members[i];
		ssize_t found = member_find(dst, m->key, m->key_len);
		if (found >= 0)
			continue;
		/* Keys with NULs cannot go through cni_json_set(): insert directly. */
		size_t at = (size_t)(-found - 1);
		_cleanup_cni_json_ struct cni_json *v = cni_json_copy(m->value);
		if (!v)
			return -ENOMEM;
		if (grow((void **)&dst->members, &dst->cap, dst->len + 1, sizeof(struct member)) <
		    0)
			return -ENOMEM;
		char *k = malloc(m->key_len + 1);
		if (!k)
			return -ENOMEM;
		memcpy(k, m->key, m->key_len + 1);
		memmove(&dst->members[at + 1], &dst->members[at],
			(dst->len - at) * sizeof(struct member));
		dst->members[at] =
			(struct member){.key = k, .key_len = m->key_len, .value = TAKE_PTR(v)};
		dst->len++;
	}
	return 0;
}

bool cni_json_equal(const struct cni_json *a, const struct cni_json *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case CNI_JSON_NULL:
		return true;
	case CNI_JSON_BOOL:
		return a->boolean == b->boolean;
	case CNI_JSON_NUMBER:
	case CNI_JSON_STRING:
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	case CNI_JSON_ARRAY:
		if (a->len != b->len)
			return false;
		for (size_t i = 0; i < a->len; i++)
			if (!cni_json_equal(a->items[i], b->items[i]))
				return false;
		return true;
	case CNI_JSON_OBJECT:
		if (a->len != b->len)
			return false;
		for (size_t i = 0; i < a->len; i++) {
			const struct member *x = &a->members[i], *y = &b->members[i];
			if (key_cmp(x->key, x->key_len, y->key, y->key_len) != 0 ||
			    !cni_json_equal(x->value, y->value))
				return false;
		}
		return true;
	}
	return false;
}

/* ---- printing ---- */

static int print_string(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_append(out, "\"", 1);
	size_t run = 0; /* start of the pending run of plain bytes */
	for (size_t i = 0; r >= 0 && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t n = 2;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (c >= 0x20)
				continue;
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		r = buf_append(out, s + run, i - run);
		if (r >= 0)
			r = buf_append(out, esc, n);
		run = i + 1;
	}
	if (r >= 0)
		r = buf_append(out, s + run, len - run);
	if (r >= 0)
		r = buf_append(out, "\"", 1);
	return r;
}

int cni_json_print(const struct cni_json *v, struct buf *out)
{
	int r = 0;
	switch (v->type) {
	case CNI_JSON_NULL:
		return buf_puts(out, "null");
	case CNI_JSON_BOOL:
		return buf_puts(out, v->boolean ? "true" : "false");
	case CNI_JSON_NUMBER:
		return buf_append(out, v->str, v->len);
	case CNI_JSON_STRING:
		return print_string(v->str, v->len, out);
	case CNI_JSON_ARRAY:
		r = buf_append(out, "[", 1);
		for (size_t i = 0; r >= 0 && i < v->len; i++) {
			if (i > 0)
				r = buf_append(out, ",", 1);
			if (r >= 0)
				r = cni_json_print(v->items[i], out);
		}
		return r < 0 ? r : buf_append(out, "]", 1);
	case CNI_JSON_OBJECT:
		r = buf_append(out, "{", 1);
		for (size_t i = 0; r >= 0 && i < v->len; i++) {
			if (i > 0)
				r = buf_append(out, ",", 1);
			if (r >= 0)
				r = print_string(v->members[i].key, v->members[i].key_len, out);
			if (r >= 0)
				r = buf_append(out, ":", 1);
			if (r >= 0)
				r = cni_json_print(v->members[i].value, out);
		}
		return r < 0 ? r : buf_append(out, "}", 1);
	}
	return -EINVAL;
}

/* ---- parsing ---- */

struct parser {
	const char *p, *start, *end;
	size_t nodes;
	struct errmsg *err;
};

static int fail(struct parser *ps, int r, const char *what)
{
	errmsg_set(ps->err, "offset %zu: %s", (size_t)(ps->p - ps->start), what);
	return r;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *p, uint32_t *ret)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return 0;
}

static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), 0 when invalid. */
static size_t utf8_valid(const unsigned char *p, size_t avail)
{
	size_t n;
	uint32_t cp, min;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Parses a string at ps->p (on the opening quote); result NUL-terminated, may contain NULs. */
static int parse_string(struct parser *ps, char **ret, size_t *ret_len)
{
	ps->p++;
	/* The decoded string is never longer than its source text. */
	const char *q = ps->p;
	while (q < ps->end && *q != '"')
		q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
	if (q >= ps->end)
		return fail(ps, -EBADMSG, "unterminated string");
	_cleanup_free_ char *s = malloc((size_t)(q - ps->p) + 1);
	if (!s)
		return -ENOMEM;
	size_t n = 0;
	while (*ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20)
			return fail(ps, -EBADMSG, "control character in string");
		if (c != '\\') {
			size_t k =
				utf8_valid((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
			if (k == 0)
				return fail(ps, -EBADMSG, "invalid UTF-8 in string");
			memcpy(s + n, ps->p, k);
			n += k;
			ps->p += k;
			continue;
		}
		ps->p++;
		char e = *ps->p++;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			s[n++] = e;
			break;
		case 'b':
			s[n++] = '\b';
			break;
		case 'f':
			s[n++] = '\f';
			break;
		case 'n':
			s[n++] = '\n';
			break;
		case 'r':
			s[n++] = '\r';
			break;
		case 't':
			s[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
				return fail(ps, -EBADMSG, "invalid \\u escape");
			ps->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(ps, -EBADMSG, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
				    hex4(ps->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return fail(ps, -EBADMSG,
						    "lone high surrogate in \\u escape");
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* Never longer than the escape: 6 bytes give at most 3, 12 give 4. */
			n += utf8_put(cp, s + n);
			break;
		}
		default:
			ps->p--;
			return fail(ps, -EBADMSG, "invalid escape in string");
		}
	}
	ps->p++;
	s[n] = '\0';
	*ret = TAKE_PTR(s);
	*ret_len = n;
	return 0;
}

static bool is_digit(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int parse_number(struct parser *ps, struct cni_json **ret)
{
	const char *s = ps->p;
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (!is_digit(ps))
		return fail(ps, -EBADMSG, "invalid number");
	if (*ps->p == '0')
		ps->p++;
	else
		while (is_digit(ps))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!is_digit(ps))
			return fail(ps, -EBADMSG, "invalid number: digit expected after '.'");
		while (is_digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps))
			return fail(ps, -EBADMSG, "invalid number: digit expected in exponent");
		while (is_digit(ps))
			ps->p++;
	}
	if (ps->p - s > CNI_JSON_MAX_NUMBER_LEN)
		return fail(ps, -E2BIG, "number literal too long");
	*ret = new_text(CNI_JSON_NUMBER, s, (size_t)(ps->p - s));
	return *ret ? 0 : -ENOMEM;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, -EBADMSG, "invalid literal");
	ps->p += n;
	return 0;
}

static int cmp_members(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	return key_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int parse_value(struct parser *ps, unsigned depth, struct cni_json **ret);

static int parse_array(struct parser *ps, unsigned depth, struct cni_json **ret)
{
	_cleanup_cni_json_ struct cni_json *a = cni_json_new_array();
	if (!a)
		return -ENOMEM;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		*ret = TAKE_PTR(a);
		return 0;
	}
	for (;;) {
		struct cni_json *item = NULL;
		int r = parse_value(ps, depth + 1, &item);
		if (r < 0)
			return r;
		r = cni_json_append(a, item);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		return fail(ps, -EBADMSG, "expected ',' or ']' in array");
	}
	*ret = TAKE_PTR(a);
	return 0;
}

static int parse_object(struct parser *ps, unsigned depth, struct cni_json **ret)
{
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	if (!o)
		return -ENOMEM;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		*ret = TAKE_PTR(o);
		return 0;
	}
	for (;;) {
		_cleanup_free_ char *key = NULL;
		size_t key_len;
		struct cni_json *value = NULL;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return fail(ps, -EBADMSG, "expected string key in object");
		int r = parse_string(ps, &key, &key_len);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, -EBADMSG, "expected ':' after object key");
		ps->p++;
		r = parse_value(ps, depth + 1, &value);
		if (r < 0)
			return r;
		if (grow((void **)&o->members, &o->cap, o->len + 1, sizeof(struct member)) < 0) {
			cni_json_free(value);
			return -ENOMEM;
		}
		o->members[o->len++] =
			(struct member){.key = TAKE_PTR(key), .key_len = key_len, .value = value};
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		return fail(ps, -EBADMSG, "expected ',' or '}' in object");
	}
	qsort(o->members, o->len, sizeof(struct member), cmp_members);
	for (size_t i = 1; i < o->len; i++)
		if (cmp_members(&o->members[i - 1], &o->members[i]) == 0) {
			errmsg_set(ps->err, "duplicate key \"%.64s\" in object", o->members[i].key);
			return -EBADMSG;
		}
	*ret = TAKE_PTR(o);
	return 0;
}

static int parse_value(struct parser *ps, unsigned depth, struct cni_json **ret)
{
	if (depth > CNI_JSON_MAX_DEPTH)
		return fail(ps, -E2BIG, "nesting too deep");
	if (++ps->nodes > CNI_JSON_MAX_NODES)
		return fail(ps, -E2BIG, "too many values");
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, -EBADMSG, "unexpected end of input");
	int r;
	switch (*ps->p) {
	case '{':
		return parse_object(ps, depth, ret);
	case '[':
		return parse_array(ps, depth, ret);
	case '"': {
		char *s;
		size_t len;
		r = parse_string(ps, &s, &len);
		if (r < 0)
			return r;
		struct cni_json *v = node_new(CNI_JSON_STRING);
		if (!v) {
			free(s);
			return -ENOMEM;
		}
		v->str = s;
		v->len = len;
		*ret = v;
		return 0;
	}
	case 't':
	case 'f': {
		bool b = *ps->p == 't';
		r = literal(ps, b ? "true" : "false");
		if (r < 0)
			return r;
		*ret = cni_json_new_bool(b);
		return *ret ? 0 : -ENOMEM;
	}
	case 'n':
		r = literal(ps, "null");
		if (r < 0)
			return r;
		*ret = cni_json_new_null();
		return *ret ? 0 : -ENOMEM;
	default:
		if (*ps->p != '-' && !is_digit(ps)) {
			char what[48];
			snprintf(what, sizeof(what), "unexpected character 0x%02x",
				 (unsigned char)*ps->p);
			return fail(ps, -EBADMSG, what);
		}
		return parse_number(ps, ret);
	}
}

int cni_json_parse(const char *data, size_t len, struct cni_json **ret, struct errmsg *err)
{
	struct parser ps = {.p = data, .start = data, .end = data + len, .err = err};
	_cleanup_cni_json_ struct cni_json *v = NULL;
	int r = parse_value(&ps, 1, &v);
	if (r < 0)
		return r;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return fail(&ps, -EBADMSG, "unexpected data after the JSON value");
	*ret = TAKE_PTR(v);
	return 0;
}
