/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LIST body splitter. A byte-level state machine tracks the top-level object
 * (key, colon, value), brace/bracket depth and string state (quotes and
 * backslash escapes), so braces inside strings never count. Bytes of the
 * value being kept (an item, or the metadata) are copied in spans, not byte
 * by byte, so the cost is one pass over the body.
 */
#include <string.h>

#include "kube/list_stream.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

#define MAX_DEPTH 1000

enum {
	ST_START,     /* before the top-level '{' */
	ST_KEY,	      /* expecting a key or '}' */
	ST_IN_KEY,    /* inside the key string */
	ST_COLON,     /* expecting ':' */
	ST_VALUE,     /* expecting a value */
	ST_IN_STRVAL, /* inside a top-level string value */
	ST_SCALAR,    /* inside a top-level number/true/false/null */
	ST_IN_VALUE,  /* inside a top-level object or array value */
	ST_AFTER,     /* expecting ',' or '}' */
	ST_END,	      /* after the top-level '}' */
	ST_ERROR,
};

enum {
	SEC_SKIP,
	SEC_META,
	SEC_ITEMS,
};

void kube_list_stream_init(struct kube_list_stream *s, size_t max_item)
{
	*s = (struct kube_list_stream){.max_item = max_item};
}

void kube_list_stream_done(struct kube_list_stream *s)
{
	buf_free(&s->item);
	buf_free(&s->meta);
	kube_list_stream_init(s, s->max_item);
}

void kube_list_meta_done(struct kube_list_meta *m)
{
	free(m->continue_token);
	*m = (struct kube_list_meta){};
}

static bool key_is(const struct kube_list_stream *s, const char *k)
{
	size_t n = strlen(k);
	return s->key_len == n && memcmp(s->key, k, n) == 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int capture(struct kube_list_stream *s, const char *p, size_t n)
{
	if (s->in_meta) {
		if (s->meta.len + n > KUBE_LIST_META_MAX)
			return -EMSGSIZE;
		return buf_append(&s->meta, p, n);
	}
	if (!s->in_item)
		return 0;
	if (s->discarding) {
		s->discarded += n;
		return 0;
	}
	if (s->item.len + n > s->max_item) {
		s->discarding = true;
		s->discarded = s->item.len + n;
		buf_reset(&s->item);
		return 0;
	}
	return buf_append(&s->item, p, n);
}

static int fail(struct kube_list_stream *s, int r)
{
	s->state = ST_ERROR;
	return r;
}

int kube_list_stream_feed(struct kube_list_stream *s, const void *data, size_t n,
			  kube_list_item_fn cb, void *userdata)
{
	const char *p = data;
	size_t span = 0; /* start of the bytes to capture in this chunk */
	int r;

	if (s->state == ST_ERROR)
		return -EBADMSG;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (s->in_string) {
			if (s->escape) {
				s->escape = false;
			} else if (c == '\\') {
				s->escape = true;
			} else if (c == '"') {
				s->in_string = false;
				if (s->state == ST_IN_KEY)
					s->state = ST_COLON;
				else if (s->state == ST_IN_STRVAL)
					s->state = ST_AFTER;
			} else if (s->state == ST_IN_KEY) {
				if (s->key_len < sizeof(s->key))
					s->key[s->key_len] = c;
				s->key_len++;
			}
			continue;
		}

		switch (s->state) {
		case ST_START:
			if (c == '{') {
				s->depth = 1;
				s->state = ST_KEY;
			} else if (!is_ws(c)) {
				return fail(s, -EBADMSG);
			}
			break;
		case ST_KEY:
			if (c == '"') {
				s->in_string = true;
				s->key_len = 0;
				s->state = ST_IN_KEY;
			} else if (c == '}') {
				s->depth = 0;
				s->state = ST_END;
			} else if (!is_ws(c)) {
				return fail(s, -EBADMSG);
			}
			break;
		case ST_COLON:
			if (c == ':')
				s->state = ST_VALUE;
			else if (!is_ws(c))
				return fail(s, -EBADMSG);
			break;
		case ST_VALUE:
			if (is_ws(c))
				break;
			if (key_is(s, "items") && c != '[' && c != 'n')
				return fail(s, -EBADMSG); /* an array, or null */
			if (c == '"') {
				s->in_string = true;
				s->state = ST_IN_STRVAL;
			} else if (c == '{' || c == '[') {
				s->depth = 2;
				s->state = ST_IN_VALUE;
				s->section = SEC_SKIP;
				if (key_is(s, "items")) {
					s->section = SEC_ITEMS;
				} else if (key_is(s, "metadata") && c == '{') {
					s->section = SEC_META;
					s->in_meta = true;
					buf_reset(&s->meta);
					span = i;
				}
			} else if (c == '}' || c == ',' || c == ']' || c == ':') {
				return fail(s, -EBADMSG);
			} else {
				s->state = ST_SCALAR;
			}
			break;
		case ST_SCALAR:
		case ST_AFTER:
			if (c == ',') {
				s->state = ST_KEY;
			} else if (c == '}') {
				s->depth = 0;
				s->state = ST_END;
			} else if (is_ws(c)) {
				s->state = ST_AFTER;
			} else if (s->state == ST_AFTER) {
				return fail(s, -EBADMSG);
			}
			break;
		case ST_END:
			if (!is_ws(c))
				return fail(s, -EBADMSG);
			break;
		case ST_IN_VALUE:
			if (s->section == SEC_ITEMS && s->depth == 2 && !is_ws(c) && c != ',' &&
			    c != '{' && c != ']')
				return fail(s, -EBADMSG); /* items must be objects */
			if (c == '"') {
				s->in_string = true;
			} else if (c == '{' || c == '[') {
				if (++s->depth > MAX_DEPTH)
					return fail(s, -ELOOP);
				if (s->section == SEC_ITEMS && s->depth == 3) {
					s->in_item = true;
					s->discarding = false;
					s->discarded = 0;
					buf_reset(&s->item);
					span = i;
				}
			} else if (c == '}' || c == ']') {
				s->depth--;
				/* an item is an object, "items" an array: check the closers we rely on */
				if (s->section == SEC_ITEMS &&
				    ((s->depth == 2 && c != '}') || (s->depth == 1 && c != ']')))
					return fail(s, -EBADMSG);
				if (s->in_item && s->depth == 2) {
					r = capture(s, p + span, i + 1 - span);
					if (r < 0)
						return fail(s, r);
					s->in_item = false;
					if (s->discarding)
						r = cb(NULL, s->discarded, userdata);
					else
						r = cb(s->item.data, s->item.len, userdata);
					buf_reset(&s->item);
					if (r < 0)
						return fail(s, r);
				} else if (s->depth == 1) {
					if (s->in_meta) {
						r = capture(s, p + span, i + 1 - span);
						if (r < 0)
							return fail(s, r);
						s->in_meta = false;
					}
					s->state = ST_AFTER;
				}
			}
			break;
		default:
			return fail(s, -EBADMSG);
		}
	}

	if (s->in_item || s->in_meta) {
		r = capture(s, p + span, n - span);
		if (r < 0)
			return fail(s, r);
	}
	return 0;
}

int kube_list_stream_finish(struct kube_list_stream *s, struct kube_list_meta *ret,
			    struct errmsg *err)
{
	_cleanup_json_ cJSON *meta = NULL;
	struct kube_list_meta m = {};
	const char *str;
	int r;

	if (s->state != ST_END)
		return errmsg_set(err, "list: %s",
				  s->state == ST_ERROR ? "malformed body" : "truncated body"),
		       -EBADMSG;
	if (s->meta.len == 0)
		return errmsg_set(err, "list: metadata missing"), -EBADMSG;
	r = json_parse(s->meta.data, s->meta.len, KUBE_LIST_META_MAX, 8, &meta);
	if (r < 0)
		return errmsg_set(err, "list: metadata: invalid JSON"), -EBADMSG;

	r = json_get_str(meta, "resourceVersion", &str);
	if (r < 0 || !str[0] || strlen(str) >= sizeof(m.resource_version))
		return errmsg_set(err, "list: metadata.resourceVersion: missing or invalid"),
		       -EBADMSG;
	strcpy(m.resource_version, str);

	r = json_get_str(meta, "continue", &str);
	if (r == -EINVAL || (r >= 0 && strlen(str) > 4096))
		return errmsg_set(err, "list: metadata.continue: invalid"), -EBADMSG;
	if (r >= 0 && str[0]) {
		m.continue_token = strdup(str);
		if (!m.continue_token)
			return -ENOMEM;
	}
	r = json_get_int64(meta, "remainingItemCount", &m.remaining_item_count);
	m.has_remaining = r >= 0;

	kube_list_meta_done(ret);
	*ret = m;
	return 0;
}
