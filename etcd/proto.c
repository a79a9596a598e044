/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd v3 JSON gateway's wire format, kept apart from the HTTP client
 * so that every parser is pure and fuzzable. Bodies are small and built by
 * hand (base64 needs no JSON escaping); the only body with free text, the
 * authentication request, goes through cJSON. Responses are parsed with the
 * bounded lib/json/json.h parser and turned into plain structs before the cJSON
 * tree is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/proto.h"
#include "lib/core/base64.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

#define RESPONSE_MAX_SIZE (256u * 1024 * 1024)

static int put_b64(struct buf *out, const char *s, size_t len)
{
	int r = buf_puts(out, "\"");

	if (r >= 0)
		r = base64_encode(s, len, out);
	if (r >= 0)
		r = buf_puts(out, "\"");
	return r;
}

/* The end of the range of all keys starting with prefix: the prefix with its
 * last byte below 0xff incremented and the rest dropped; "\0" (all keys)
 * when every byte is 0xff. */
static int put_prefix_end(struct buf *out, const char *prefix)
{
	size_t len = strlen(prefix);
	_cleanup_free_ char *end = strdup(prefix);

	if (!end)
		return -ENOMEM;
	while (len > 0) {
		if ((unsigned char)end[len - 1] != 0xff) {
			end[len - 1]++;
			return put_b64(out, end, len);
		}
		len--;
	}
	return put_b64(out, "", 1);
}

int etcd_body_range(const char *key, bool prefix, struct buf *out)
{
	int r;

	r = buf_puts(out, "{\"key\":");
	if (r >= 0)
		r = put_b64(out, key, strlen(key));
	if (r >= 0 && prefix) {
		r = buf_puts(out, ",\"range_end\":");
		if (r >= 0)
			r = put_prefix_end(out, key);
	}
	if (r >= 0)
		r = buf_puts(out, "}");
	return r;
}

static int put_request_put(const char *key, const char *value, int64_t lease, struct buf *out)
{
	int r;

	r = buf_puts(out, "{\"key\":");
	if (r >= 0)
		r = put_b64(out, key, strlen(key));
	if (r >= 0)
		r = buf_puts(out, ",\"value\":");
	if (r >= 0)
		r = put_b64(out, value, strlen(value));
	if (r >= 0 && lease != 0)
		r = buf_printf(out, ",\"lease\":\"%lld\"", (long long)lease);
	if (r >= 0)
		r = buf_puts(out, "}");
	return r;
}

int etcd_body_put(const char *key, const char *value, int64_t lease, struct buf *out)
{
	return put_request_put(key, value, lease, out);
}

int etcd_body_create(const char *key, const char *value, int64_t lease, struct buf *out)
{
	int r;

	r = buf_puts(out, "{\"compare\":[{\"target\":\"VERSION\",\"result\":\"EQUAL\","
			  "\"version\":\"0\",\"key\":");
	if (r >= 0)
		r = put_b64(out, key, strlen(key));
	if (r >= 0)
		r = buf_puts(out, "}],\"success\":[{\"request_put\":");
	if (r >= 0)
		r = put_request_put(key, value, lease, out);
	if (r >= 0)
		r = buf_puts(out, "}]}");
	return r;
}

int etcd_body_delete(const char *key, struct buf *out)
{
	int r;

	r = buf_puts(out, "{\"key\":");
	if (r >= 0)
		r = put_b64(out, key, strlen(key));
	if (r >= 0)
		r = buf_puts(out, "}");
	return r;
}

int etcd_body_grant(int64_t ttl, struct buf *out)
{
	return buf_printf(out, "{\"TTL\":\"%lld\"}", (long long)ttl);
}

int etcd_body_revoke(int64_t id, struct buf *out)
{
	return buf_printf(out, "{\"ID\":\"%lld\"}", (long long)id);
}

int etcd_body_watch(const char *prefix, int64_t start_revision, struct buf *out)
{
	int r;

	r = buf_puts(out, "{\"create_request\":{\"key\":");
	if (r >= 0)
		r = put_b64(out, prefix, strlen(prefix));
	if (r >= 0)
		r = buf_puts(out, ",\"range_end\":");
	if (r >= 0)
		r = put_prefix_end(out, prefix);
	if (r >= 0 && start_revision > 0)
		r = buf_printf(out, ",\"start_revision\":\"%lld\"", (long long)start_revision);
	if (r >= 0)
		r = buf_puts(out, "}}");
	return r;
}

int etcd_body_auth(const char *user, const char *password, struct buf *out)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *s = NULL;
	int r;

	if (!o || !cJSON_AddStringToObject(o, "name", user) ||
	    !cJSON_AddStringToObject(o, "password", password))
		return -ENOMEM;
	s = json_print(o);
	if (!s)
		return -ENOMEM;
	r = buf_puts(out, s);
	explicit_bzero(s, strlen(s));
	/* the tree holds the password too */
	cJSON *pw = cJSON_GetObjectItemCaseSensitive(o, "password");
	if (pw && pw->valuestring)
		explicit_bzero(pw->valuestring, strlen(pw->valuestring));
	return r;
}

int etcd_grpc_errno(int code)
{
	switch (code) {
	case ETCD_GRPC_OK:
		return 0;
	case ETCD_GRPC_UNAUTHENTICATED:
		return -EACCES;
	case ETCD_GRPC_PERMISSION_DENIED:
		return -EPERM;
	case ETCD_GRPC_INVALID_ARGUMENT:
		return -EINVAL;
	case ETCD_GRPC_NOT_FOUND:
		return -ENOENT;
	case ETCD_GRPC_OUT_OF_RANGE:
		return -ESTALE;
	case ETCD_GRPC_UNAVAILABLE:
	case ETCD_GRPC_DEADLINE_EXCEEDED:
	case ETCD_GRPC_ABORTED:
	case ETCD_GRPC_RESOURCE_EXHAUSTED:
		return -EAGAIN;
	case ETCD_GRPC_FAILED_PRECONDITION:
		return -EPROTO;
	default:
		return -EIO;
	}
}

void etcd_parse_error(const char *body, size_t len, char *msg, size_t size, int *ret_code)
{
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *e;
	const char *s;
	int64_t code;

	if (size > 0)
		msg[0] = '\0';
	*ret_code = -1;
	if (!body || json_parse(body, len, 64 * 1024, ETCD_RESPONSE_MAX_DEPTH, &root) < 0)
		return;
	e = json_item(root, "error");
	if (cJSON_IsObject(e)) { /* stream form */
		if (json_get_str(e, "message", &s) >= 0 && size > 0)
			snprintf(msg, size, "%s", s);
		if (json_get_int64(e, "grpc_code", &code) >= 0 && code >= 0 && code < 1000)
			*ret_code = (int)code;
		return;
	}
	if ((json_get_str(root, "message", &s) >= 0 || json_as_str(e, &s) >= 0) && size > 0)
		snprintf(msg, size, "%s", s);
	if (json_get_int64(root, "code", &code) >= 0 && code >= 0 && code < 1000)
		*ret_code = (int)code;
}

/* An int64 field: a JSON string of decimal digits (the gateway's form) or an
 * integer number. Absent or null: 0. */
static int get_i64(const cJSON *obj, const char *key, int64_t *ret, struct errmsg *err)
{
	const cJSON *it = json_item(obj, key);
	const char *s;
	char *end;
	long long v;

	*ret = 0;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsNumber(it)) {
		if (json_as_int64(it, ret) < 0) {
			errmsg_set(err, "%s: not an integer", key);
			return -EINVAL;
		}
		return 0;
	}
	if (json_as_str(it, &s) < 0) {
		errmsg_set(err, "%s: expected a string, got %s", key, json_type_name(it));
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!s[0] || *end || errno != 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9'))) {
		errmsg_set(err, "%s: not an integer", key);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int get_b64(const cJSON *obj, const char *key, bool required, char **ret, size_t *ret_len,
		   struct errmsg *err)
{
	const cJSON *it = json_item(obj, key);
	const char *s;
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (!it || cJSON_IsNull(it)) {
		if (required) {
			errmsg_set(err, "%s: missing", key);
			return -EBADMSG;
		}
		/* omitted: the empty byte string */
		*ret = strdup("");
		return *ret ? 0 : -ENOMEM;
	}
	if (json_as_str(it, &s) < 0) {
		errmsg_set(err, "%s: expected a string, got %s", key, json_type_name(it));
		return -EINVAL;
	}
	r = base64_decode(s, strlen(s), BASE64_STRICT, ret, ret_len);
	if (r == -EBADMSG)
		errmsg_set(err, "%s: invalid base64", key);
	return r;
}

void etcd_kv_done(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	*kv = (struct etcd_kv){};
}

static int parse_kv(const cJSON *o, bool with_value, struct etcd_kv *ret, struct errmsg *err)
{
	struct etcd_kv kv = {};
	int r;

	if (!cJSON_IsObject(o)) {
		errmsg_set(err, "kv: expected an object, got %s", json_type_name(o));
		return -EINVAL;
	}
	r = get_b64(o, "key", true, &kv.key, &kv.key_len, err);
	if (r >= 0 && with_value)
		r = get_b64(o, "value", false, &kv.value, &kv.value_len, err);
	if (r >= 0)
		r = get_i64(o, "lease", &kv.lease, err);
	if (r >= 0)
		r = get_i64(o, "create_revision", &kv.create_revision, err);
	if (r >= 0)
		r = get_i64(o, "mod_revision", &kv.mod_revision, err);
	if (r >= 0)
		r = get_i64(o, "version", &kv.version, err);
	if (r < 0) {
		etcd_kv_done(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

static int parse_root(const char *body, size_t len, cJSON **ret, struct errmsg *err)
{
	int r = json_parse(body, len, RESPONSE_MAX_SIZE, ETCD_RESPONSE_MAX_DEPTH, ret);

	if (r == -EMSGSIZE)
		errmsg_set(err, "response larger than %u bytes", RESPONSE_MAX_SIZE);
	else if (r < 0)
		errmsg_set(err, "invalid JSON");
	else if (!cJSON_IsObject(*ret)) {
		errmsg_set(err, "expected an object, got %s", json_type_name(*ret));
		cJSON_Delete(*ret);
		*ret = NULL;
		return -EBADMSG;
	}
	return r;
}

static int header_revision(const cJSON *root, int64_t *ret, struct errmsg *err)
{
	const cJSON *h = json_item(root, "header");

	*ret = 0;
	if (!h || cJSON_IsNull(h))
		return 0;
	if (!cJSON_IsObject(h)) {
		errmsg_set(err, "header: expected an object, got %s", json_type_name(h));
		return -EINVAL;
	}
	return get_i64(h, "revision", ret, err);
}

void etcd_range_done(struct etcd_range *rg)
{
	for (size_t i = 0; i < rg->n; i++)
		etcd_kv_done(&rg->kvs[i]);
	free(rg->kvs);
	*rg = (struct etcd_range){};
}

int etcd_parse_range(const char *body, size_t len, struct etcd_range *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct etcd_range rg = {};
	const cJSON *kvs, *it;
	int r;

	r = parse_root(body, len, &root, err);
	if (r < 0)
		return r;
	r = header_revision(root, &rg.revision, err);
	if (r < 0)
		return r;
	kvs = json_item(root, "kvs");
	if (kvs && !cJSON_IsNull(kvs)) {
		if (!cJSON_IsArray(kvs)) {
			errmsg_set(err, "kvs: expected an array, got %s", json_type_name(kvs));
			return -EINVAL;
		}
		rg.kvs = calloc((size_t)cJSON_GetArraySize(kvs) + 1, sizeof(*rg.kvs));
		if (!rg.kvs)
			return -ENOMEM;
		cJSON_ArrayForEach (it, kvs) {
			r = parse_kv(it, true, &rg.kvs[rg.n], err);
			if (r < 0) {
				etcd_range_done(&rg);
				return r;
			}
			rg.n++;
		}
	}
	*ret = rg;
	return 0;
}

int etcd_parse_txn(const char *body, size_t len, bool *ret_succeeded, int64_t *ret_revision,
		   struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *s;
	int64_t rev;
	int r;

	r = parse_root(body, len, &root, err);
	if (r < 0)
		return r;
	r = header_revision(root, &rev, err);
	if (r < 0)
		return r;
	s = json_item(root, "succeeded");
	if (s && !cJSON_IsNull(s) && !cJSON_IsBool(s)) {
		errmsg_set(err, "succeeded: expected a boolean, got %s", json_type_name(s));
		return -EINVAL;
	}
	*ret_succeeded = cJSON_IsTrue(s);
	*ret_revision = rev;
	return 0;
}

int etcd_parse_grant(const char *body, size_t len, int64_t *ret_id, int64_t *ret_ttl,
		     struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int64_t id, ttl;
	const char *e;
	int r;

	r = parse_root(body, len, &root, err);
	if (r < 0)
		return r;
	if (json_get_str(root, "error", &e) >= 0 && e[0]) {
		errmsg_set(err, "%s", e);
		return -EIO;
	}
	r = get_i64(root, "ID", &id, err);
	if (r >= 0)
		r = get_i64(root, "TTL", &ttl, err);
	if (r < 0)
		return r;
	if (id == 0 || ttl <= 0) {
		errmsg_set(err, "no lease ID or TTL in the grant response");
		return -EBADMSG;
	}
	*ret_id = id;
	*ret_ttl = ttl;
	return 0;
}

int etcd_parse_revision(const char *body, size_t len, int64_t *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int r;

	r = parse_root(body, len, &root, err);
	if (r < 0)
		return r;
	return header_revision(root, ret, err);
}

int etcd_parse_auth(const char *body, size_t len, char **ret_token, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	const char *t;
	int r;

	r = parse_root(body, len, &root, err);
	if (r < 0)
		return r;
	if (json_get_str(root, "token", &t) < 0 || !t[0]) {
		errmsg_set(err, "no token in the authentication response");
		return -EBADMSG;
	}
	/* the token goes into a header: no control characters */
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			errmsg_set(err, "token: invalid character");
			return -EBADMSG;
		}
	*ret_token = strdup(t);
	return *ret_token ? 0 : -ENOMEM;
}

void etcd_watch_response_done(struct etcd_watch_response *w)
{
	for (size_t i = 0; i < w->n; i++)
		etcd_kv_done(&w->events[i].kv);
	free(w->events);
	*w = (struct etcd_watch_response){};
}

static int parse_event(const cJSON *o, struct etcd_event *ret, struct errmsg *err)
{
	const cJSON *type;
	const char *t;
	int r;

	if (!cJSON_IsObject(o)) {
		errmsg_set(err, "events: expected an object, got %s", json_type_name(o));
		return -EINVAL;
	}
	ret->type = ETCD_EVENT_PUT;
	type = json_item(o, "type");
	if (type && !cJSON_IsNull(type)) {
		if (json_as_str(type, &t) < 0) {
			errmsg_set(err, "type: expected a string, got %s", json_type_name(type));
			return -EINVAL;
		}
		if (strcmp(t, "DELETE") == 0)
			ret->type = ETCD_EVENT_DELETE;
		else if (strcmp(t, "PUT") != 0) {
			errmsg_set(err, "type: unknown event type");
			return -EINVAL;
		}
	}
	r = parse_kv(json_item(o, "kv"), ret->type == ETCD_EVENT_PUT, &ret->kv, err);
	if (r < 0)
		return r;
	return 0;
}

int etcd_parse_watch(const char *line, size_t len, struct etcd_watch_response *ret,
		     struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct etcd_watch_response w = {};
	const cJSON *res, *e, *evs, *it, *b;
	const char *s;
	int r;

	r = parse_root(line, len, &root, err);
	if (r < 0)
		return r;
	e = json_item(root, "error");
	if (e && !cJSON_IsNull(e)) {
		int64_t code = -1;
		if (cJSON_IsObject(e)) {
			if (json_get_str(e, "message", &s) >= 0)
				errmsg_set(err, "%s", s);
			(void)json_get_int64(e, "grpc_code", &code);
		} else if (json_as_str(e, &s) >= 0) {
			errmsg_set(err, "%s", s);
		}
		if (!err || !err->text[0])
			errmsg_set(err, "watch stream error");
		return code > 0 && code < 1000 ? etcd_grpc_errno((int)code) : -EPROTO;
	}
	res = json_item(root, "result");
	if (!cJSON_IsObject(res)) {
		errmsg_set(err, "result: expected an object, got %s", json_type_name(res));
		return -EBADMSG;
	}
	r = header_revision(res, &w.revision, err);
	if (r >= 0)
		r = get_i64(res, "compact_revision", &w.compact_revision, err);
	if (r < 0)
		return r;
	b = json_item(res, "created");
	w.created = cJSON_IsTrue(b);
	b = json_item(res, "canceled");
	w.canceled = cJSON_IsTrue(b);
	if (json_get_str(res, "cancel_reason", &s) >= 0)
		snprintf(w.cancel_reason, sizeof(w.cancel_reason), "%s", s);
	evs = json_item(res, "events");
	if (evs && !cJSON_IsNull(evs)) {
		if (!cJSON_IsArray(evs)) {
			errmsg_set(err, "events: expected an array, got %s", json_type_name(evs));
			return -EINVAL;
		}
		w.events = calloc((size_t)cJSON_GetArraySize(evs) + 1, sizeof(*w.events));
		if (!w.events)
			return -ENOMEM;
		cJSON_ArrayForEach (it, evs) {
			r = parse_event(it, &w.events[w.n], err);
			if (r < 0) {
				etcd_watch_response_done(&w);
				return r;
			}
			w.n++;
		}
	}
	*ret = w;
	return 0;
}
