/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reflector (client-go's ListAndWatch, reduced to what flannel needs) for
 * one kind of object. The only state kept is a set of keys, each stamped
 * with the epoch of the LIST that last saw it: when a LIST completes, keys
 * with an older stamp were deleted while we were not watching. The typed
 * objects themselves go straight to the caller.
 */
#include <string.h>

#include "kube/list_stream.h"
#include "kube/reflector.h"
#include "lib/core/backoff.h"
#include "lib/core/buf.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

#define RETRY_BASE_USEC (800 * USEC_PER_MSEC)
#define RETRY_MAX_USEC	(30 * USEC_PER_SEC)
/* A watch that ends cleanly sooner than this is treated as a failure (no hot loop). */
#define WATCH_MIN_LIFETIME_USEC (USEC_PER_SEC)

static const char *const event_names[_KUBE_EVENT_MAX] = {
	[KUBE_EVENT_ADDED] = "ADDED",	  [KUBE_EVENT_MODIFIED] = "MODIFIED",
	[KUBE_EVENT_DELETED] = "DELETED", [KUBE_EVENT_BOOKMARK] = "BOOKMARK",
	[KUBE_EVENT_ERROR] = "ERROR",
};

const char *kube_event_type_name(enum kube_event_type t)
{
	return (unsigned)t < _KUBE_EVENT_MAX ? event_names[t] : NULL;
}

void kube_event_done(struct kube_event *ev, const struct kube_kind *kind)
{
	if (ev->obj)
		kind->free(ev->obj);
	*ev = (struct kube_event){};
}

static int meta_str(const cJSON *meta, const char *key, size_t max, bool required, const char **ret,
		    struct errmsg *err)
{
	const char *s = NULL;
	int r = json_get_str(meta, key, &s);

	if (r == -ENOENT || (r >= 0 && !s[0])) {
		if (required)
			return errmsg_set(err, "metadata.%s: missing or empty", key), -EINVAL;
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return errmsg_set(err, "metadata.%s: expected a string, got %s", key,
				  json_type_name(json_item(meta, key))),
		       -EINVAL;
	if (strlen(s) >= max)
		return errmsg_set(err, "metadata.%s: too long (%zu bytes, at most %zu)", key,
				  strlen(s), max - 1),
		       -EINVAL;
	*ret = s;
	return 0;
}

int kube_object_meta_get(const cJSON *obj, bool namespaced, struct kube_object_meta *meta,
			 char key_buf[static KUBE_KEY_MAX], struct errmsg *err)
{
	struct kube_object_meta m = {};
	const cJSON *md;
	int r;

	if (!cJSON_IsObject(obj))
		return errmsg_set(err, "expected an object, got %s", json_type_name(obj)), -EINVAL;
	r = json_get_object(obj, "metadata", &md);
	if (r < 0)
		return errmsg_set(err, "metadata: %s",
				  r == -ENOENT ? "missing" : "expected an object"),
		       -EINVAL;
	r = meta_str(md, "name", KUBE_NAME_MAX, true, &m.name, err);
	if (r >= 0)
		r = meta_str(md, "namespace", KUBE_NAMESPACE_MAX, namespaced, &m.namespace, err);
	if (r >= 0)
		r = meta_str(md, "resourceVersion", KUBE_RV_MAX, false, &m.resource_version, err);
	if (r < 0)
		return r;
	if (!m.resource_version)
		m.resource_version = "";
	/* The API server refuses '/' in names (they are path segments), and the key
	 * "namespace/name" relies on it. */
	if (strchr(m.name, '/'))
		return errmsg_set(err, "metadata.name: contains '/'"), -EINVAL;
	if (m.namespace && strchr(m.namespace, '/'))
		return errmsg_set(err, "metadata.namespace: contains '/'"), -EINVAL;
	if (!namespaced && m.namespace)
		return errmsg_set(err, "metadata.namespace: set on a cluster-scoped object"),
		       -EINVAL;
	if (m.namespace)
		snprintf(key_buf, KUBE_KEY_MAX, "%s/%s", m.namespace, m.name);
	else
		snprintf(key_buf, KUBE_KEY_MAX, "%s", m.name);
	m.key = key_buf;
	*meta = m;
	return 0;
}

/* Metadata, then the kind's parser. err is prefixed with the key when known. */
static int parse_object(const cJSON *obj, const struct kube_kind *kind, void *kind_userdata,
			char key[static KUBE_KEY_MAX], char rv[static KUBE_RV_MAX], void **ret,
			struct errmsg *err)
{
	struct kube_object_meta meta;
	void *o = NULL;
	int r;

	r = kube_object_meta_get(obj, kind->namespaced, &meta, key, err);
	if (r < 0)
		return r;
	strcpy(rv, meta.resource_version);
	if (ret) {
		r = kind->parse(obj, &meta, kind_userdata, &o, err);
		if (r >= 0 && !o)
			r = -EINVAL, errmsg_set(err, "parser returned no object");
		if (r < 0) {
			if (err) {
				struct errmsg e = *err;
				errmsg_set(err, "\"%s\": %s", key, e.text);
			}
			return r;
		}
		*ret = o;
	}
	return 0;
}

int kube_event_parse(const char *line, size_t len, const struct kube_kind *kind,
		     void *kind_userdata, struct kube_event *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct kube_event ev = {};
	const cJSON *obj, *meta;
	const char *type, *s;
	int r;

	r = json_parse(line, len, KUBE_OBJECT_MAX_SIZE, KUBE_OBJECT_MAX_DEPTH, &root);
	if (r < 0)
		return errmsg_set(err, "watch event: %s",
				  r == -EMSGSIZE ? "too large"
				  : r == -ELOOP	 ? "nested too deeply"
						 : "invalid JSON"),
		       r == -ENOMEM ? r : -EBADMSG;
	if (json_get_str(root, "type", &type) < 0)
		return errmsg_set(err, "watch event: type: missing or not a string"), -EINVAL;
	for (r = 0; r < _KUBE_EVENT_MAX; r++)
		if (strcmp(type, event_names[r]) == 0)
			break;
	if (r == _KUBE_EVENT_MAX)
		return errmsg_set(err, "watch event: type: unknown \"%.32s\"", type), -EINVAL;
	ev.type = (enum kube_event_type)r;
	if (json_get_object(root, "object", &obj) < 0)
		return errmsg_set(err, "watch event: object: missing or not an object"), -EINVAL;

	switch (ev.type) {
	case KUBE_EVENT_BOOKMARK:
		if (json_get_object(obj, "metadata", &meta) < 0 ||
		    json_get_str(meta, "resourceVersion", &s) < 0 || !s[0] ||
		    strlen(s) >= sizeof(ev.resource_version))
			return errmsg_set(err,
					  "BOOKMARK: metadata.resourceVersion: missing or invalid"),
			       -EINVAL;
		strcpy(ev.resource_version, s);
		break;
	case KUBE_EVENT_ERROR: {
		int64_t code = 0;
		if (json_get_int64(obj, "code", &code) < 0)
			code = 0;
		ev.code = (long)code;
		if (json_get_str(obj, "message", &s) >= 0)
			snprintf(ev.message, sizeof(ev.message), "%s", s);
		break;
	}
	default:
		r = parse_object(obj, kind, kind_userdata, ev.key, ev.resource_version,
				 ev.type == KUBE_EVENT_DELETED ? NULL : &ev.obj, err);
		if (r < 0)
			return r;
		break;
	}
	kube_event_done(ret, kind);
	*ret = ev;
	return 0;
}

/* A set of keys, each stamped with the epoch of the LIST that saw it. */
struct key_entry {
	struct key_entry *next;
	uint32_t epoch;
	char key[];
};

struct key_set {
	struct key_entry **buckets;
	size_t n_buckets, n;
};

/* " (HTTP 503)" for an error status; "" when the failure came after a 2xx
 * (a stream cut mid-way) or before any response. */
static const char *status_suffix(long status, char buf[static 32])
{
	if (status < 300)
		return "";
	snprintf(buf, 32, " (HTTP %ld)", status);
	return buf;
}

static size_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static int keys_grow(struct key_set *s)
{
	size_t nb = s->n_buckets ? s->n_buckets * 2 : 256;
	struct key_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_buckets; i++) {
		struct key_entry *e, *next;
		for (e = s->buckets[i]; e; e = next) {
			size_t k = key_hash(e->key) % nb;
			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = nb;
	return 0;
}

static int keys_mark(struct key_set *s, const char *key, uint32_t epoch)
{
	struct key_entry *e;
	size_t k, len;

	if (s->n_buckets) {
		for (e = s->buckets[key_hash(key) % s->n_buckets]; e; e = e->next)
			if (strcmp(e->key, key) == 0) {
				e->epoch = epoch;
				return 0;
			}
	}
	if (s->n >= s->n_buckets && keys_grow(s) < 0)
		return -ENOMEM;
	len = strlen(key);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, len + 1);
	e->epoch = epoch;
	k = key_hash(key) % s->n_buckets;
	e->next = s->buckets[k];
	s->buckets[k] = e;
	s->n++;
	return 1;
}

/* true when the key was known */
static bool keys_remove(struct key_set *s, const char *key)
{
	if (!s->n_buckets)
		return false;
	for (struct key_entry **p = &s->buckets[key_hash(key) % s->n_buckets]; *p; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0) {
			struct key_entry *e = *p;
			*p = e->next;
			free(e);
			s->n--;
			return true;
		}
	return false;
}

static void keys_free(struct key_set *s)
{
	for (size_t i = 0; i < s->n_buckets; i++) {
		struct key_entry *e, *next;
		for (e = s->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->buckets);
	*s = (struct key_set){};
}

enum {
	W_IDLE,
	W_LISTING,
	W_WATCHING,
};

struct kube_reflector {
	struct kube_http *http;
	const struct kube_kind *kind;
	void *kind_userdata;
	struct kube_reflector_options opts;
	char *selectors; /* "&labelSelector=...&fieldSelector=..." (escaped), or "" */
	struct kube_reflector_ops ops;
	void *userdata;

	int state;
	struct kube_request *req;
	struct loop_source *retry_timer;
	int retry_state; /* what the timer starts */
	struct backoff backoff;

	struct kube_list_stream ls;
	char *continue_token;
	uint32_t epoch;
	struct line_framer framer;
	uint64_t watch_start_usec;
	char rv[KUBE_RV_MAX];
	bool synced, dirty;
	struct key_set keys;
	struct kube_reflector_stats stats;
};

static int start_list(struct kube_reflector *w, bool restart);
static int start_watch(struct kube_reflector *w);

static int retry_cb(struct loop_source *s, void *userdata)
{
	struct kube_reflector *w = userdata;
	return w->retry_state == W_LISTING ? start_list(w, true) : start_watch(w);
}

static int schedule(struct kube_reflector *w, int what, uint64_t delay)
{
	w->state = W_IDLE;
	w->retry_state = what;
	return loop_timer_arm(w->retry_timer, delay);
}

static int schedule_backoff(struct kube_reflector *w, int what)
{
	return schedule(w, what, backoff_next(&w->backoff, random_u32()));
}

static void handle_upsert(struct kube_reflector *w, const char *key, void *obj)
{
	if (keys_mark(&w->keys, key, w->epoch) < 0)
		log_error("Out of memory tracking %s \"%s\"", w->kind->name, key);
	w->stats.objects = w->keys.n;
	w->dirty = true;
	w->ops.upsert(key, obj, w->userdata);
}

static void handle_remove(struct kube_reflector *w, const char *key)
{
	w->stats.objects = w->keys.n;
	w->dirty = true;
	w->ops.remove(key, w->userdata);
}

static void batch_end(struct kube_reflector *w)
{
	if (!w->dirty)
		return;
	w->dirty = false;
	if (w->ops.batch_end)
		w->ops.batch_end(w->userdata);
}

static void skip(struct kube_reflector *w, const char *what, const struct errmsg *err)
{
	w->stats.skipped_objects++;
	log_warn("Skipping malformed %s (%s): %s", what, w->kind->name, err->text);
}

static int list_item(const char *item, size_t len, void *userdata)
{
	struct kube_reflector *w = userdata;
	_cleanup_json_ cJSON *root = NULL;
	char key[KUBE_KEY_MAX], rv[KUBE_RV_MAX];
	struct errmsg err = {};
	void *obj = NULL;
	int r;

	if (!item) {
		w->stats.skipped_objects++;
		log_warn("Skipping a listed object of %zu bytes in %s: larger than the %zu byte "
			 "limit",
			 len, w->kind->name, w->opts.max_object_size);
		return 0;
	}
	r = json_parse(item, len, KUBE_OBJECT_MAX_SIZE, KUBE_OBJECT_MAX_DEPTH, &root);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		errmsg_set(&err, "%s", r == -ELOOP ? "nested too deeply" : "invalid JSON");
		skip(w, "list item", &err);
		return 0;
	}
	r = parse_object(root, w->kind, w->kind_userdata, key, rv, &obj, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		skip(w, "list item", &err);
		return 0;
	}
	handle_upsert(w, key, obj);
	return 0;
}

static int list_data(const char *data, size_t n, void *userdata)
{
	struct kube_reflector *w = userdata;
	return kube_list_stream_feed(&w->ls, data, n, list_item, w);
}

static void sweep(struct kube_reflector *w)
{
	for (size_t i = 0; i < w->keys.n_buckets; i++) {
		struct key_entry **p = &w->keys.buckets[i];
		while (*p) {
			struct key_entry *e = *p;
			if (e->epoch == w->epoch) {
				p = &e->next;
				continue;
			}
			*p = e->next;
			w->keys.n--;
			log_v(1, "%s \"%s\" disappeared while not watching", w->kind->name, e->key);
			handle_remove(w, e->key);
			free(e);
		}
	}
}

static void list_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_reflector *w = userdata;
	struct kube_list_meta meta = {};
	struct errmsg err = {};
	char msg[256], code[32];

	w->req = NULL;
	if (r >= 0) {
		r = kube_list_stream_finish(&w->ls, &meta, &err);
		if (r < 0)
			log_warn("Listing %s failed: %s, will retry", w->kind->name, err.text);
	} else if (r == -ESTALE) {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_info("Listing %s: %s (HTTP 410), restarting the list", w->kind->name,
			 msg[0] ? msg : "resource version or continue token expired");
		w->stats.relists++;
		kube_list_stream_done(&w->ls);
		(void)schedule_backoff(w, W_LISTING);
		return;
	} else {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_warn("Listing %s failed: %s%s%s%s, will retry", w->kind->name, strerror(-r),
			 msg[0] ? ": " : "", msg, status_suffix(status, code));
	}
	kube_list_stream_done(&w->ls);
	batch_end(w);
	if (r < 0) {
		kube_list_meta_done(&meta);
		(void)schedule_backoff(w, W_LISTING);
		return;
	}

	w->stats.list_pages++;
	free(w->continue_token);
	w->continue_token = TAKE_PTR(meta.continue_token);
	if (w->continue_token) {
		kube_list_meta_done(&meta);
		if (start_list(w, false) < 0)
			(void)schedule_backoff(w, W_LISTING);
		return;
	}

	sweep(w);
	batch_end(w);
	strcpy(w->rv, meta.resource_version);
	kube_list_meta_done(&meta);
	w->stats.lists++;
	w->stats.objects = w->keys.n;
	w->stats.last_sync_realtime_usec = now_realtime_usec();
	log_v(1, "Listed %zu %s at resourceVersion %s", w->keys.n, w->kind->name, w->rv);
	backoff_reset(&w->backoff);
	if (!w->synced) {
		w->synced = true;
		if (w->ops.synced)
			w->ops.synced(w->userdata);
	}
	if (start_watch(w) < 0)
		(void)schedule_backoff(w, W_WATCHING);
}

static int url_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int r;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			r = buf_append(b, s, 1);
		else
			r = buf_printf(b, "%%%02X", c);
		if (r < 0)
			return r;
	}
	return 0;
}

static int start_list(struct kube_reflector *w, bool restart)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	int r;

	kube_request_cancel(w->req);
	w->req = NULL;
	if (restart) {
		free(w->continue_token);
		w->continue_token = NULL;
		w->epoch++;
	}
	r = buf_printf(&path, "%s?limit=%u%s", w->kind->path, w->opts.page_limit, w->selectors);
	if (r >= 0 && w->continue_token) {
		r = buf_puts(&path, "&continue=");
		if (r >= 0)
			r = url_escape(&path, w->continue_token);
	}
	if (r < 0)
		return r;
	kube_list_stream_done(&w->ls);
	kube_list_stream_init(&w->ls, w->opts.max_object_size);
	struct kube_request_spec spec = {
		.verb = KUBE_VERB_LIST,
		.path = path.data,
		.data = list_data,
		.done = list_done,
		.userdata = w,
	};
	r = kube_http_start(w->http, &spec, &w->req);
	if (r < 0)
		return log_warn_errno(r, "Failed to start listing %s", w->kind->name);
	w->state = W_LISTING;
	return 0;
}

static int watch_line(char *line, size_t len, void *userdata)
{
	struct kube_reflector *w = userdata;
	struct kube_event ev = {};
	struct errmsg err = {};
	int r;

	if (!line) {
		w->stats.skipped_objects++;
		log_warn("Skipping a watch event of %zu bytes in %s: larger than the %zu byte "
			 "limit",
			 len, w->kind->name, w->opts.max_object_size);
		return 0;
	}
	r = kube_event_parse(line, len, w->kind, w->kind_userdata, &ev, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		skip(w, "watch event", &err);
		return 0;
	}
	w->stats.events++;
	if (ev.resource_version[0])
		strcpy(w->rv, ev.resource_version);
	switch (ev.type) {
	case KUBE_EVENT_ADDED:
	case KUBE_EVENT_MODIFIED:
		handle_upsert(w, ev.key, TAKE_PTR(ev.obj));
		break;
	case KUBE_EVENT_DELETED:
		if (keys_remove(&w->keys, ev.key))
			handle_remove(w, ev.key);
		break;
	case KUBE_EVENT_BOOKMARK:
		w->stats.bookmarks++;
		break;
	case KUBE_EVENT_ERROR:
		if (ev.code == 410) {
			log_info("Watching %s: %s (410), relisting", w->kind->name,
				 ev.message[0] ? ev.message : "resource version too old");
			r = -ESTALE;
		} else {
			log_warn("Watching %s: error event %ld: %s, will re-watch", w->kind->name,
				 ev.code, ev.message);
			r = -EPROTO;
		}
		break;
	default:
		break;
	}
	kube_event_done(&ev, w->kind);
	return r;
}

static int watch_data(const char *data, size_t n, void *userdata)
{
	struct kube_reflector *w = userdata;
	int r = line_framer_feed(&w->framer, data, n, watch_line, w);

	batch_end(w);
	return r;
}

static void watch_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_reflector *w = userdata;
	char msg[256], code[32];

	w->req = NULL;
	line_framer_reset(&w->framer);
	batch_end(w);
	if (r == -ESTALE) {
		w->stats.relists++;
		if (start_list(w, true) < 0)
			(void)schedule_backoff(w, W_LISTING);
		return;
	}
	if (r >= 0 && now_monotonic_usec() - w->watch_start_usec >= WATCH_MIN_LIFETIME_USEC) {
		log_v(1, "Watch of %s ended, re-watching from resourceVersion %s", w->kind->name,
		      w->rv);
		backoff_reset(&w->backoff);
		if (start_watch(w) < 0)
			(void)schedule_backoff(w, W_WATCHING);
		return;
	}
	w->stats.watch_restarts++;
	if (r >= 0) {
		log_v(1,
		      "Watch of %s ended right away, re-watching from resourceVersion %s after a "
		      "delay",
		      w->kind->name, w->rv);
	} else {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_warn("Watching %s failed: %s%s%s%s, re-watching from resourceVersion %s",
			 w->kind->name, strerror(-r), msg[0] ? ": " : "", msg,
			 status_suffix(status, code), w->rv);
	}
	(void)schedule_backoff(w, W_WATCHING);
}

static int start_watch(struct kube_reflector *w)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	unsigned timeout;
	int r;

	kube_request_cancel(w->req);
	w->req = NULL;
	timeout = (unsigned)random_range(w->opts.min_timeout_seconds, w->opts.max_timeout_seconds);
	r = buf_printf(&path, "%s?watch=1&resourceVersion=", w->kind->path);
	if (r >= 0)
		r = url_escape(&path, w->rv);
	if (r >= 0)
		r = buf_printf(&path, "&allowWatchBookmarks=true&timeoutSeconds=%u%s", timeout,
			       w->selectors);
	if (r < 0)
		return r;
	line_framer_reset(&w->framer);
	struct kube_request_spec spec = {
		.verb = KUBE_VERB_WATCH,
		.path = path.data,
		.watch = true,
		.timeout_usec = ((uint64_t)timeout + 30) * USEC_PER_SEC,
		.data = watch_data,
		.done = watch_done,
		.userdata = w,
	};
	r = kube_http_start(w->http, &spec, &w->req);
	if (r < 0)
		return log_warn_errno(r, "Failed to start watching %s", w->kind->name);
	w->stats.watches++;
	w->watch_start_usec = now_monotonic_usec();
	w->state = W_WATCHING;
	return 0;
}

static int build_selectors(const struct kube_reflector_options *o, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r = buf_puts(&b, "");

	if (r >= 0 && o->label_selector && o->label_selector[0]) {
		r = buf_puts(&b, "&labelSelector=");
		if (r >= 0)
			r = url_escape(&b, o->label_selector);
	}
	if (r >= 0 && o->field_selector && o->field_selector[0]) {
		r = buf_puts(&b, "&fieldSelector=");
		if (r >= 0)
			r = url_escape(&b, o->field_selector);
	}
	if (r < 0)
		return r;
	*ret = strdup(b.data);
	return *ret ? 0 : -ENOMEM;
}

int kube_reflector_new(struct kube_http *http, const struct kube_kind *kind, void *kind_userdata,
		       const struct kube_reflector_options *opts,
		       const struct kube_reflector_ops *ops, void *userdata,
		       struct kube_reflector **ret)
{
	struct kube_reflector *w;
	char what[64];
	int r;

	if (!ops || !ops->upsert || !ops->remove || !kind || !kind->name || !kind->path ||
	    !kind->parse || !kind->free)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->http = http;
	w->kind = kind;
	w->kind_userdata = kind_userdata;
	w->ops = *ops;
	w->userdata = userdata;
	if (opts)
		w->opts = *opts;
	w->opts.label_selector = w->opts.field_selector = NULL; /* copied into selectors */
	if (!w->opts.page_limit)
		w->opts.page_limit = 500;
	if (!w->opts.min_timeout_seconds)
		w->opts.min_timeout_seconds = 300;
	if (!w->opts.max_timeout_seconds)
		w->opts.max_timeout_seconds = 600;
	if (w->opts.max_timeout_seconds < w->opts.min_timeout_seconds)
		w->opts.max_timeout_seconds = w->opts.min_timeout_seconds;
	if (!w->opts.max_object_size || w->opts.max_object_size > KUBE_OBJECT_MAX_SIZE)
		w->opts.max_object_size = KUBE_OBJECT_MAX_SIZE;
	backoff_init(&w->backoff, RETRY_BASE_USEC, RETRY_MAX_USEC);
	line_framer_init(&w->framer, w->opts.max_object_size);
	kube_list_stream_init(&w->ls, w->opts.max_object_size);
	snprintf(what, sizeof(what), "kube %s watch retry", kind->name);
	r = build_selectors(opts ? opts : &w->opts, &w->selectors);
	if (r >= 0)
		r = loop_add_timer(kube_http_loop(http), 3600 * USEC_PER_SEC, retry_cb, w, what,
				   &w->retry_timer);
	if (r >= 0)
		r = loop_timer_disarm(w->retry_timer);
	if (r < 0) {
		kube_reflector_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

struct kube_reflector *kube_reflector_free(struct kube_reflector *w)
{
	if (!w)
		return NULL;
	kube_request_cancel(w->req);
	loop_source_free(w->retry_timer);
	kube_list_stream_done(&w->ls);
	line_framer_free(&w->framer);
	free(w->continue_token);
	free(w->selectors);
	keys_free(&w->keys);
	free(w);
	return NULL;
}

int kube_reflector_start(struct kube_reflector *w)
{
	return start_list(w, true);
}

int kube_reflector_relist(struct kube_reflector *w)
{
	w->stats.relists++;
	(void)loop_timer_disarm(w->retry_timer);
	return start_list(w, true);
}

bool kube_reflector_synced(const struct kube_reflector *w)
{
	return w->synced;
}

const struct kube_kind *kube_reflector_kind(const struct kube_reflector *w)
{
	return w->kind;
}

const struct kube_reflector_stats *kube_reflector_stats(const struct kube_reflector *w)
{
	return &w->stats;
}
