/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reflector for Node objects (client-go's ListAndWatch, reduced to what
 * flannel needs). The only state kept is a set of node names, each stamped
 * with the epoch of the LIST that last saw it: when a LIST completes, names
 * with an older stamp were deleted while we were not watching. Objects
 * themselves go straight to the subnet manager.
 */
#include <string.h>

#include "kube/list_stream.h"
#include "kube/watch.h"
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

void kube_event_done(struct kube_event *ev)
{
	kube_node_done(&ev->node);
	*ev = (struct kube_event){};
}

int kube_event_parse(const char *line, size_t len, const struct kube_annotation_keys *keys,
		     struct kube_event *ret, struct errmsg *err)
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
		r = kube_node_from_cjson(obj, keys, &ev.node, err);
		if (r < 0)
			return r;
		strcpy(ev.resource_version, ev.node.resource_version);
		break;
	}
	kube_event_done(ret);
	*ret = ev;
	return 0;
}

/* A set of node names, each stamped with the epoch of the LIST that saw it. */
struct name_entry {
	struct name_entry *next;
	uint32_t epoch;
	char name[];
};

struct name_set {
	struct name_entry **buckets;
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

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static int names_grow(struct name_set *s)
{
	size_t nb = s->n_buckets ? s->n_buckets * 2 : 256;
	struct name_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_buckets; i++) {
		struct name_entry *e, *next;
		for (e = s->buckets[i]; e; e = next) {
			size_t k = name_hash(e->name) % nb;
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

static int names_mark(struct name_set *s, const char *name, uint32_t epoch)
{
	struct name_entry *e;
	size_t k, len;

	if (s->n_buckets) {
		for (e = s->buckets[name_hash(name) % s->n_buckets]; e; e = e->next)
			if (strcmp(e->name, name) == 0) {
				e->epoch = epoch;
				return 0;
			}
	}
	if (s->n >= s->n_buckets && names_grow(s) < 0)
		return -ENOMEM;
	len = strlen(name);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, name, len + 1);
	e->epoch = epoch;
	k = name_hash(name) % s->n_buckets;
	e->next = s->buckets[k];
	s->buckets[k] = e;
	s->n++;
	return 1;
}

static void names_remove(struct name_set *s, const char *name)
{
	if (!s->n_buckets)
		return;
	for (struct name_entry **p = &s->buckets[name_hash(name) % s->n_buckets]; *p;
	     p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0) {
			struct name_entry *e = *p;
			*p = e->next;
			free(e);
			s->n--;
			return;
		}
}

static void names_free(struct name_set *s)
{
	for (size_t i = 0; i < s->n_buckets; i++) {
		struct name_entry *e, *next;
		for (e = s->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->buckets);
	*s = (struct name_set){};
}

enum {
	W_IDLE,
	W_LISTING,
	W_WATCHING,
};

struct kube_watch {
	struct kube_http *http;
	const struct kube_annotation_keys *keys;
	struct kube_watch_options opts;
	struct kube_watch_ops ops;
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
	struct name_set names;
	struct kube_watch_stats stats;
};

static int start_list(struct kube_watch *w, bool restart);
static int start_watch(struct kube_watch *w);

static int retry_cb(struct loop_source *s, void *userdata)
{
	struct kube_watch *w = userdata;
	return w->retry_state == W_LISTING ? start_list(w, true) : start_watch(w);
}

static int schedule(struct kube_watch *w, int what, uint64_t delay)
{
	w->state = W_IDLE;
	w->retry_state = what;
	return loop_timer_arm(w->retry_timer, delay);
}

static int schedule_backoff(struct kube_watch *w, int what)
{
	return schedule(w, what, backoff_next(&w->backoff, random_u32()));
}

static void handle_node(struct kube_watch *w, struct kube_node *node)
{
	if (names_mark(&w->names, node->name, w->epoch) < 0)
		log_error("Out of memory tracking node \"%s\"", node->name);
	w->dirty = true;
	w->ops.upsert(node, w->userdata);
}

static void handle_remove(struct kube_watch *w, const char *name)
{
	w->dirty = true;
	w->ops.remove(name, w->userdata);
}

static void batch_end(struct kube_watch *w)
{
	if (!w->dirty)
		return;
	w->dirty = false;
	if (w->ops.batch_end)
		w->ops.batch_end(w->userdata);
}

static int list_item(const char *item, size_t len, void *userdata)
{
	struct kube_watch *w = userdata;
	struct kube_node node = {};
	struct errmsg err = {};
	int r;

	if (!item) {
		w->stats.skipped_objects++;
		log_warn("Skipping a listed node of %zu bytes: larger than the %zu byte limit", len,
			 w->opts.max_object_size);
		return 0;
	}
	r = kube_node_parse(item, len, w->keys, &node, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		w->stats.skipped_objects++;
		log_warn("Skipping malformed node in list: %s", err.text);
		return 0;
	}
	handle_node(w, &node);
	kube_node_done(&node);
	return 0;
}

static int list_data(const char *data, size_t n, void *userdata)
{
	struct kube_watch *w = userdata;
	return kube_list_stream_feed(&w->ls, data, n, list_item, w);
}

static void sweep(struct kube_watch *w)
{
	for (size_t i = 0; i < w->names.n_buckets; i++) {
		struct name_entry **p = &w->names.buckets[i];
		while (*p) {
			struct name_entry *e = *p;
			if (e->epoch == w->epoch) {
				p = &e->next;
				continue;
			}
			*p = e->next;
			w->names.n--;
			log_v(1, "Node \"%s\" disappeared while not watching", e->name);
			handle_remove(w, e->name);
			free(e);
		}
	}
}

static void list_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_watch *w = userdata;
	struct kube_list_meta meta = {};
	struct errmsg err = {};
	char msg[256], code[32];

	w->req = NULL;
	if (r >= 0) {
		r = kube_list_stream_finish(&w->ls, &meta, &err);
		if (r < 0)
			log_warn("Listing nodes failed: %s, will retry", err.text);
	} else if (r == -ESTALE) {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_info("Listing nodes: %s (HTTP 410), restarting the list",
			 msg[0] ? msg : "resource version or continue token expired");
		w->stats.relists++;
		kube_list_stream_done(&w->ls);
		(void)schedule_backoff(w, W_LISTING);
		return;
	} else {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_warn("Listing nodes failed: %s%s%s%s, will retry", strerror(-r),
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
	w->stats.last_sync_realtime_usec = now_realtime_usec();
	log_v(1, "Listed %zu nodes at resourceVersion %s", w->names.n, w->rv);
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

static int start_list(struct kube_watch *w, bool restart)
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
	r = buf_printf(&path, "/api/v1/nodes?limit=%u", w->opts.page_limit);
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
		return log_warn_errno(r, "Failed to start listing nodes");
	w->state = W_LISTING;
	return 0;
}

static int watch_line(char *line, size_t len, void *userdata)
{
	struct kube_watch *w = userdata;
	struct kube_event ev = {};
	struct errmsg err = {};
	int r;

	if (!line) {
		w->stats.skipped_objects++;
		log_warn("Skipping a watch event of %zu bytes: larger than the %zu byte limit", len,
			 w->opts.max_object_size);
		return 0;
	}
	r = kube_event_parse(line, len, w->keys, &ev, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		w->stats.skipped_objects++;
		log_warn("Skipping malformed watch event: %s", err.text);
		return 0;
	}
	w->stats.events++;
	if (ev.resource_version[0])
		strcpy(w->rv, ev.resource_version);
	switch (ev.type) {
	case KUBE_EVENT_ADDED:
	case KUBE_EVENT_MODIFIED:
		handle_node(w, &ev.node);
		break;
	case KUBE_EVENT_DELETED:
		names_remove(&w->names, ev.node.name);
		handle_remove(w, ev.node.name);
		break;
	case KUBE_EVENT_BOOKMARK:
		w->stats.bookmarks++;
		break;
	case KUBE_EVENT_ERROR:
		if (ev.code == 410) {
			log_info("Watching nodes: %s (410), relisting",
				 ev.message[0] ? ev.message : "resource version too old");
			r = -ESTALE;
		} else {
			log_warn("Watching nodes: error event %ld: %s, will re-watch", ev.code,
				 ev.message);
			r = -EPROTO;
		}
		break;
	default:
		break;
	}
	kube_event_done(&ev);
	return r;
}

static int watch_data(const char *data, size_t n, void *userdata)
{
	struct kube_watch *w = userdata;
	int r = line_framer_feed(&w->framer, data, n, watch_line, w);

	batch_end(w);
	return r;
}

static void watch_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_watch *w = userdata;
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
		log_v(1, "Watch ended, re-watching from resourceVersion %s", w->rv);
		backoff_reset(&w->backoff);
		if (start_watch(w) < 0)
			(void)schedule_backoff(w, W_WATCHING);
		return;
	}
	w->stats.watch_restarts++;
	if (r >= 0) {
		log_v(1,
		      "Watch ended right away, re-watching from resourceVersion %s after a delay",
		      w->rv);
	} else {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_warn("Watching nodes failed: %s%s%s%s, re-watching from resourceVersion %s",
			 strerror(-r), msg[0] ? ": " : "", msg, status_suffix(status, code), w->rv);
	}
	(void)schedule_backoff(w, W_WATCHING);
}

static int start_watch(struct kube_watch *w)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	unsigned timeout;
	int r;

	kube_request_cancel(w->req);
	w->req = NULL;
	timeout = (unsigned)random_range(w->opts.min_timeout_seconds, w->opts.max_timeout_seconds);
	r = buf_puts(&path, "/api/v1/nodes?watch=1&resourceVersion=");
	if (r >= 0)
		r = url_escape(&path, w->rv);
	if (r >= 0)
		r = buf_printf(&path, "&allowWatchBookmarks=true&timeoutSeconds=%u", timeout);
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
		return log_warn_errno(r, "Failed to start watching nodes");
	w->stats.watches++;
	w->watch_start_usec = now_monotonic_usec();
	w->state = W_WATCHING;
	return 0;
}

int kube_watch_new(struct kube_http *http, const struct kube_annotation_keys *keys,
		   const struct kube_watch_options *opts, const struct kube_watch_ops *ops,
		   void *userdata, struct kube_watch **ret)
{
	struct kube_watch *w;
	int r;

	if (!ops || !ops->upsert || !ops->remove)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->http = http;
	w->keys = keys;
	w->ops = *ops;
	w->userdata = userdata;
	if (opts)
		w->opts = *opts;
	if (!w->opts.page_limit)
		w->opts.page_limit = 500;
	if (!w->opts.min_timeout_seconds)
		w->opts.min_timeout_seconds = 300;
	if (!w->opts.max_timeout_seconds)
		w->opts.max_timeout_seconds = 600;
	if (w->opts.max_timeout_seconds < w->opts.min_timeout_seconds)
		w->opts.max_timeout_seconds = w->opts.min_timeout_seconds;
	if (!w->opts.max_object_size)
		w->opts.max_object_size = KUBE_OBJECT_MAX_SIZE;
	backoff_init(&w->backoff, RETRY_BASE_USEC, RETRY_MAX_USEC);
	line_framer_init(&w->framer, w->opts.max_object_size);
	kube_list_stream_init(&w->ls, w->opts.max_object_size);
	r = loop_add_timer(kube_http_loop(http), 3600 * USEC_PER_SEC, retry_cb, w,
			   "kube node watch retry", &w->retry_timer);
	if (r >= 0)
		r = loop_timer_disarm(w->retry_timer);
	if (r < 0) {
		kube_watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

struct kube_watch *kube_watch_free(struct kube_watch *w)
{
	if (!w)
		return NULL;
	kube_request_cancel(w->req);
	loop_source_free(w->retry_timer);
	kube_list_stream_done(&w->ls);
	line_framer_free(&w->framer);
	free(w->continue_token);
	names_free(&w->names);
	free(w);
	return NULL;
}

int kube_watch_start(struct kube_watch *w)
{
	return start_list(w, true);
}

int kube_watch_relist(struct kube_watch *w)
{
	w->stats.relists++;
	(void)loop_timer_disarm(w->retry_timer);
	return start_list(w, true);
}

bool kube_watch_synced(const struct kube_watch *w)
{
	return w->synced;
}

const struct kube_watch_stats *kube_watch_stats(const struct kube_watch *w)
{
	return &w->stats;
}
