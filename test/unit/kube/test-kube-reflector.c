/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reflector (kube/reflector.c) end to end on the event loop, against a
 * tiny HTTP server on the same loop that answers with recorded kube-apiserver
 * bodies (test/apiserver/kube-wire, recordings 103-192): paginated LIST of
 * NetworkPolicies (limit/continue, keys "ns/name"), WATCH from the list's
 * resourceVersion with bookmarks, a 410 ERROR event -> relist and diff (a
 * Namespace gone while not watching is reported removed), an expired continue
 * token -> a new LIST from the start, malformed objects skipped and counted,
 * selectors in the request paths, metadata extraction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kube-wire.h"
#include "kube/reflector.h"
#include "lib/core/buf.h"
#include "lib/core/loop.h"
#include "lib/json/json.h"

#define NETPOLS "/apis/networking.k8s.io/v1/networkpolicies"
#define TOKEN1	"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MzIzLCJzdGFydCI6IngvcG9ydC1yYW5nZVx1MDAwMCJ9"
#define TOKEN2 \
	"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MzIzLCJzdGFydCI6InkvZGVmYXVsdC1kZW55LWFsbFx1MDAwMCJ9"

struct fixture;

/* What the server answers to one request: status, body, and whether the
 * connection stays open after the body (a watch that has not ended). */
struct reply {
	int status;
	char *body; /* owned */
	bool hold;
};
typedef struct reply (*handler_fn)(struct fixture *f, const char *path, int nth);

#define MAX_CONNS 32

struct conn {
	struct fixture *f;
	struct loop_source *src;
	int fd;
	bool answered;
	struct buf in;
};

struct fixture {
	struct loop *loop;
	int fd;
	struct loop_source *src;
	struct conn *conns[MAX_CONNS];
	struct kube_http *http;
	struct kube_config conf;
	handler_fn handler;
	int requests;
	struct buf paths; /* every request path, one a line */
	struct buf log;	  /* "U:<obj>;" "R:<key>;" "S;" "B;" */
	int parse_calls;
};

static char *body_of(const char *recording)
{
	size_t len;
	return wire_response_body(recording, &len);
}

static char *file_of(const char *name)
{
	size_t len;
	return wire_read(name, &len);
}

static void conn_close(struct conn *c)
{
	struct fixture *f = c->f;

	for (int i = 0; i < MAX_CONNS; i++)
		if (f->conns[i] == c)
			f->conns[i] = NULL;
	loop_source_free(c->src);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

static void answer(struct conn *c)
{
	struct fixture *f = c->f;
	char *sp = strchr(c->in.data, ' ');
	char path[4096];
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct reply rep;

	assert_non_null(sp);
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(sp + 1, " "), sp + 1);
	assert_int_equal(buf_printf(&f->paths, "%s\n", path), 0);
	rep = f->handler(f, path, f->requests++);
	assert_int_equal(
		buf_printf(&out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n", rep.status),
		0);
	if (rep.hold)
		assert_int_equal(buf_puts(&out, "Connection: close\r\n\r\n"), 0);
	else
		assert_int_equal(buf_printf(&out,
					    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
					    strlen(rep.body)),
				 0);
	assert_int_equal(buf_puts(&out, rep.body), 0);
	free(rep.body);
	for (size_t off = 0; off < out.len;) {
		ssize_t n = write(c->fd, out.data + off, out.len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	c->answered = true;
	if (!rep.hold)
		conn_close(c);
}

static int conn_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	if (c->answered)
		return 0;
	assert_int_equal(buf_append(&c->in, tmp, (size_t)n), 0);
	if (strstr(c->in.data, "\r\n\r\n"))
		answer(c);
	return 0;
}

static int accept_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fixture *f = userdata;
	struct conn *c = calloc(1, sizeof(*c));
	int i;

	assert_non_null(c);
	c->f = f;
	c->fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->fd >= 0);
	for (i = 0; i < MAX_CONNS && f->conns[i]; i++)
		;
	assert_true(i < MAX_CONNS);
	f->conns[i] = c;
	assert_int_equal(loop_add_io(f->loop, c->fd, EPOLLIN, conn_cb, c, "test conn", &c->src), 0);
	return 0;
}

static int setup(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct fixture *f = calloc(1, sizeof(*f));
	char url[64];

	assert_non_null(f);
	assert_int_equal(loop_new(&f->loop), 0);
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(loop_add_io(f->loop, f->fd, EPOLLIN, accept_cb, f, "test server", &f->src),
			 0);
	f->conf.server = strdup(url);
	assert_non_null(f->conf.server);
	assert_int_equal(kube_http_new(f->loop, &f->conf, NULL, &f->http), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kube_http_free(f->http);
	for (int i = 0; i < MAX_CONNS; i++)
		if (f->conns[i])
			conn_close(f->conns[i]);
	loop_source_free(f->src);
	close(f->fd);
	loop_free(f->loop);
	kube_config_done(&f->conf);
	buf_free(&f->paths);
	buf_free(&f->log);
	free(f);
	return 0;
}

/* ---- the kind under test: objects are "key@resourceVersion" strings ---- */

static int test_parse(const cJSON *obj, const struct kube_object_meta *meta, void *kind_userdata,
		      void **ret, struct errmsg *err)
{
	struct fixture *f = kind_userdata;
	const cJSON *spec;
	char *s;

	f->parse_calls++;
	if (json_get_object(obj, "spec", &spec) < 0)
		return errmsg_set(err, "spec: missing or not an object"), -EINVAL;
	if (asprintf(&s, "%s@%s", meta->key, meta->resource_version) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static const struct kube_kind netpol_kind = {
	.name = "networkpolicies",
	.path = NETPOLS,
	.namespaced = true,
	.parse = test_parse,
	.free = free,
};

static const struct kube_kind namespace_kind = {
	.name = "namespaces",
	.path = "/api/v1/namespaces",
	.namespaced = false,
	.parse = test_parse,
	.free = free,
};

static void on_upsert(const char *key, void *obj, void *userdata)
{
	struct fixture *f = userdata;
	char *s = obj;

	/* the object's own key (from the parser's meta) is the key reported */
	assert_int_equal(strncmp(s, key, strlen(key)), 0);
	assert_int_equal(s[strlen(key)], '@');
	assert_int_equal(buf_printf(&f->log, "U:%s;", s), 0);
	free(s);
}

static void on_remove(const char *key, void *userdata)
{
	struct fixture *f = userdata;
	assert_int_equal(buf_printf(&f->log, "R:%s;", key), 0);
}

static void on_synced(void *userdata)
{
	struct fixture *f = userdata;
	assert_int_equal(buf_puts(&f->log, "S;"), 0);
}

static void on_batch_end(void *userdata)
{
	struct fixture *f = userdata;
	assert_int_equal(buf_puts(&f->log, "B;"), 0);
}

static const struct kube_reflector_ops ops = {
	.upsert = on_upsert,
	.remove = on_remove,
	.synced = on_synced,
	.batch_end = on_batch_end,
};

static void run_until_log(struct fixture *f, const char *needle)
{
	uint64_t deadline = now_monotonic_usec() + 10 * USEC_PER_SEC;

	while (!(f->log.data && strstr(f->log.data, needle)) && now_monotonic_usec() < deadline)
		assert_true(loop_run_once(f->loop, 50 * USEC_PER_MSEC) >= 0);
	if (!(f->log.data && strstr(f->log.data, needle)))
		fail_msg("\"%s\" not in the log \"%s\"", needle, f->log.data ?: "");
}

/* The log without the batch markers (watch data arrives in any chunking). */
static char *without_batches(const char *log)
{
	char *s = strdup(log), *p;

	assert_non_null(s);
	while ((p = strstr(s, "B;")))
		memmove(p, p + 2, strlen(p + 2) + 1);
	return s;
}

static struct reply ok(char *body)
{
	return (struct reply){.status = 200, .body = body};
}

static struct reply stream(char *body)
{
	return (struct reply){.status = 200, .body = body, .hold = true};
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- 1. paginated LIST of NetworkPolicies, then WATCH (131-133, 135) ---- */

static struct reply netpol_handler(struct fixture *f, const char *path, int nth)
{
	if (strcmp(path, NETPOLS "?limit=4") == 0)
		return ok(body_of("131-list-netpols-limit4.http"));
	if (strcmp(path, NETPOLS "?limit=4&continue=" TOKEN1) == 0)
		return ok(body_of("132-list-netpols-limit4-continue.http"));
	if (strcmp(path, NETPOLS "?limit=4&continue=" TOKEN2) == 0)
		return ok(body_of("133-list-netpols-limit4-continue-last.http"));
	if (starts(path, NETPOLS "?watch=1&resourceVersion=323&allowWatchBookmarks=true"
				 "&timeoutSeconds="))
		return stream(file_of("135-watch-netpols-all-namespaces.body"));
	fail_msg("unexpected request %s", path);
	return (struct reply){};
}

static void test_paginated_list_and_watch(void **state)
{
	struct fixture *f = *state;
	struct kube_reflector_options o = {.page_limit = 4};
	struct kube_reflector *r;
	const struct kube_reflector_stats *st;
	_cleanup_free_ char *events = NULL;

	f->handler = netpol_handler;
	assert_int_equal(kube_reflector_new(f->http, &netpol_kind, f, &o, &ops, f, &r), 0);
	assert_ptr_equal(kube_reflector_kind(r), &netpol_kind);
	assert_false(kube_reflector_synced(r));
	assert_int_equal(kube_reflector_start(r), 0);
	run_until_log(f, "R:x/api-allow-web;");

	/* one batch per page, synced once after the last one */
	const char *list = "U:x/allow-cidr@305;U:x/cidr-host-bits@313;U:x/named-ports@306;"
			   "U:x/port-range@307;B;"
			   "U:x/web-allow-client@302;U:x/web-in-out@303;U:y/allow-all-egress@312;"
			   "U:y/default-deny-all@309;B;"
			   "U:y/egress-dns-only@304;U:y/udp-sctp@308;B;S;";
	assert_int_equal(strncmp(f->log.data, list, strlen(list)), 0);
	events = without_batches(f->log.data + strlen(list));
	/* ADDED, MODIFIED (a new RV), DELETED; bookmarks are no objects */
	assert_string_equal(events, "U:x/api-allow-web@326;U:x/api-allow-web@327;"
				    "R:x/api-allow-web;");
	assert_true(kube_reflector_synced(r));

	/* wait for the two bookmarks too */
	uint64_t deadline = now_monotonic_usec() + 5 * USEC_PER_SEC;
	st = kube_reflector_stats(r);
	while (st->bookmarks < 2 && now_monotonic_usec() < deadline)
		assert_true(loop_run_once(f->loop, 50 * USEC_PER_MSEC) >= 0);
	assert_int_equal(st->lists, 1);
	assert_int_equal(st->list_pages, 3);
	assert_int_equal(st->relists, 0);
	assert_int_equal(st->watches, 1);
	assert_int_equal(st->events, 5);
	assert_int_equal(st->bookmarks, 2);
	assert_int_equal(st->skipped_objects, 0);
	assert_int_equal(st->objects, 10);
	assert_true(st->last_sync_realtime_usec > 0);
	/* DELETED is not parsed, bookmarks neither (their spec.podSelector {} is no policy) */
	assert_int_equal(f->parse_calls, 12);
	assert_int_equal(f->requests, 4);
	kube_reflector_free(r);
}

/* ---- 2. 410 in the watch -> relist, and what vanished is removed (103, 192) ---- */

static char *namespaces_without(const char *name, const char *rv)
{
	_cleanup_free_ char *body = body_of("103-list-namespaces.http");
	_cleanup_json_ cJSON *root = NULL;
	cJSON *items, *it;
	char *s;

	assert_int_equal(json_parse(body, strlen(body), 1 << 20, 64, &root), 0);
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	for (int i = cJSON_GetArraySize(items) - 1; i >= 0; i--) {
		it = cJSON_GetArrayItem(items, i);
		const cJSON *md = cJSON_GetObjectItemCaseSensitive(it, "metadata");
		if (strcmp(cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring, name) == 0)
			cJSON_DeleteItemFromArray(items, i);
	}
	cJSON_SetValuestring(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "metadata"),
						 "resourceVersion"),
		rv);
	s = cJSON_PrintUnformatted(root);
	assert_non_null(s);
	return s;
}

static struct reply relist_handler(struct fixture *f, const char *path, int nth)
{
	if (strcmp(path, "/api/v1/namespaces?limit=500") == 0)
		return ok(nth == 0 ? body_of("103-list-namespaces.http")
				   : namespaces_without("z", "419"));
	if (starts(path, "/api/v1/namespaces?watch=1&resourceVersion=272&"))
		return stream(file_of("192-watch-pods-old-rv-after-restart.body"));
	if (starts(path, "/api/v1/namespaces?watch=1&resourceVersion=419&"))
		return stream(strdup(""));
	fail_msg("unexpected request %s", path);
	return (struct reply){};
}

static void test_relist_after_410(void **state)
{
	struct fixture *f = *state;
	struct kube_reflector *r;
	const struct kube_reflector_stats *st;

	struct kube_reflector_options o = {.min_timeout_seconds = 300, .max_timeout_seconds = 300};

	f->handler = relist_handler;
	assert_int_equal(kube_reflector_new(f->http, &namespace_kind, f, &o, &ops, f, &r), 0);
	assert_int_equal(kube_reflector_start(r), 0);
	run_until_log(f, "R:z;");
	/* every namespace twice (list, relist), z removed by the sweep, synced only once */
	assert_string_equal(f->log.data,
			    "U:default@194;U:kube-flannel@241;U:kube-node-lease@45;"
			    "U:kube-public@37;U:kube-system@21;U:x@264;U:y@267;U:z@270;B;S;"
			    "U:default@194;U:kube-flannel@241;U:kube-node-lease@45;"
			    "U:kube-public@37;U:kube-system@21;U:x@264;U:y@267;B;R:z;B;");
	while (f->requests < 4)
		assert_true(loop_run_once(f->loop, 50 * USEC_PER_MSEC) >= 0);
	st = kube_reflector_stats(r);
	assert_int_equal(st->lists, 2);
	assert_int_equal(st->relists, 1);
	assert_int_equal(st->objects, 7);
	assert_string_equal(
		f->paths.data,
		"/api/v1/namespaces?limit=500\n"
		"/api/v1/namespaces?watch=1&resourceVersion=272&allowWatchBookmarks=true"
		"&timeoutSeconds=300\n"
		"/api/v1/namespaces?limit=500\n"
		"/api/v1/namespaces?watch=1&resourceVersion=419&allowWatchBookmarks=true"
		"&timeoutSeconds=300\n");
	kube_reflector_free(r);
}

/* ---- 3. an expired continue token (42: HTTP 410) -> a new LIST from the start ---- */

static struct reply expired_handler(struct fixture *f, const char *path, int nth)
{
	if (strcmp(path, NETPOLS "?limit=4") == 0)
		return ok(body_of(nth == 0 ? "131-list-netpols-limit4.http"
					   : "130-list-netpols-all-namespaces.http"));
	if (strcmp(path, NETPOLS "?limit=4&continue=" TOKEN1) == 0)
		return (struct reply){.status = 410,
				      .body = body_of("42-list-stale-continue.http")};
	if (starts(path, NETPOLS "?watch=1&resourceVersion=323&"))
		return stream(strdup(""));
	fail_msg("unexpected request %s", path);
	return (struct reply){};
}

static void test_expired_continue(void **state)
{
	struct fixture *f = *state;
	struct kube_reflector_options o = {
		.page_limit = 4, .min_timeout_seconds = 300, .max_timeout_seconds = 300};
	struct kube_reflector *r;

	f->handler = expired_handler;
	assert_int_equal(kube_reflector_new(f->http, &netpol_kind, f, &o, &ops, f, &r), 0);
	assert_int_equal(kube_reflector_start(r), 0);
	run_until_log(f, "S;");
	while (f->requests < 4)
		assert_true(loop_run_once(f->loop, 50 * USEC_PER_MSEC) >= 0);
	/* the second LIST starts over; nothing of the first page is removed */
	assert_string_equal(f->paths.data, NETPOLS
			    "?limit=4\n" NETPOLS "?limit=4&continue=" TOKEN1 "\n" NETPOLS
			    "?limit=4\n" NETPOLS "?watch=1&resourceVersion=323&allowWatchBookmarks="
			    "true&timeoutSeconds=300\n");
	assert_null(strstr(f->log.data, "R:"));
	assert_int_equal(kube_reflector_stats(r)->objects, 10);
	assert_int_equal(kube_reflector_stats(r)->relists, 1);
	assert_int_equal(kube_reflector_stats(r)->lists, 1);
	kube_reflector_free(r);
}

/* ---- 4. malformed objects are skipped and counted; selectors reach the server ---- */

static struct reply malformed_handler(struct fixture *f, const char *path, int nth)
{
	if (starts(path, NETPOLS "?limit=500&labelSelector=pod%3Da%2Cns%20in%20%28x%29"
				 "&fieldSelector=spec.nodeName%3Dnode-a"))
		return ok(strdup(
			"{\"kind\":\"NetworkPolicyList\",\"metadata\":{\"resourceVersion\":\"9\"},"
			"\"items\":[{\"metadata\":{\"name\":\"good\",\"namespace\":\"x\","
			"\"resourceVersion\":\"5\"},\"spec\":{}},"
			"{\"metadata\":{\"namespace\":\"x\"},\"spec\":{}},"
			"{\"metadata\":{\"name\":\"nons\"},\"spec\":{}},"
			"{\"metadata\":{\"name\":\"badspec\",\"namespace\":\"x\"},\"spec\":5},"
			"{\"metadata\":{\"name\":7,\"namespace\":\"x\"}},"
			"{\"metadata\":{\"name\":\"good2\",\"namespace\":\"y\"},\"spec\":{}}]}"));
	if (starts(path, NETPOLS "?watch=1&resourceVersion=9&allowWatchBookmarks=true"
				 "&timeoutSeconds=") &&
	    strstr(path, "&labelSelector=pod%3Da%2Cns%20in%20%28x%29&fieldSelector="
			 "spec.nodeName%3Dnode-a"))
		return stream(strdup(
			"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"w\","
			"\"namespace\":\"x\",\"resourceVersion\":\"10\"}}}\n"
			"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"w\"\n"
			"{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"never-seen\","
			"\"namespace\":\"x\",\"resourceVersion\":\"11\"}}}\n"
			"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"w2\","
			"\"namespace\":\"x\",\"resourceVersion\":\"12\"},\"spec\":{}}}\n"));
	fail_msg("unexpected request %s", path);
	return (struct reply){};
}

static void test_malformed_and_selectors(void **state)
{
	struct fixture *f = *state;
	struct kube_reflector_options o = {
		.label_selector = "pod=a,ns in (x)",
		.field_selector = "spec.nodeName=node-a",
	};
	struct kube_reflector *r;
	const struct kube_reflector_stats *st;
	_cleanup_free_ char *log = NULL;

	f->handler = malformed_handler;
	assert_int_equal(kube_reflector_new(f->http, &netpol_kind, f, &o, &ops, f, &r), 0);
	assert_int_equal(kube_reflector_start(r), 0);
	run_until_log(f, "U:x/w2@12;");
	log = without_batches(f->log.data);
	/* a DELETED of a key never upserted is not reported */
	assert_string_equal(log, "U:x/good@5;U:y/good2@;S;U:x/w2@12;");
	st = kube_reflector_stats(r);
	/* list: no name, no namespace, bad spec, name not a string; watch: no spec, cut line */
	assert_int_equal(st->skipped_objects, 6);
	assert_int_equal(st->objects, 3);
	assert_int_equal(st->events, 2);
	assert_int_equal(st->watch_restarts, 0);
	kube_reflector_free(r);
}

/* ---- pure helpers ---- */

static void test_object_meta(void **state)
{
	static const struct {
		const char *json;
		bool namespaced;
		const char *key_or_error;
	} cases[] = {
		{"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\",\"resourceVersion\":\"3\"}}",
		 true, "x/a"},
		{"{\"metadata\":{\"name\":\"node-a\"}}", false, "node-a"},
		{"{\"metadata\":{\"name\":\"node-a\",\"namespace\":\"\"}}", false, "node-a"},
		{"{\"metadata\":{\"name\":\"a\"}}", true, "metadata.namespace: missing or empty"},
		{"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"}}", false,
		 "metadata.namespace: set on a cluster-scoped object"},
		{"{\"metadata\":{\"name\":\"\"}}", false, "metadata.name: missing or empty"},
		{"{\"metadata\":{\"name\":[]}}", false,
		 "metadata.name: expected a string, got array"},
		{"{\"metadata\":{\"name\":\"a\",\"resourceVersion\":5}}", false,
		 "metadata.resourceVersion: expected a string, got number"},
		{"{\"metadata\":{\"name\":\"x/a\"}}", false, "metadata.name: contains '/'"},
		{"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x/y\"}}", true,
		 "metadata.namespace: contains '/'"},
		{"{\"metadata\":5}", false, "metadata: expected an object"},
		{"{}", false, "metadata: missing"},
		{"[]", false, "expected an object, got array"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_json_ cJSON *obj = NULL;
		struct kube_object_meta m = {};
		char key[KUBE_KEY_MAX];
		struct errmsg err = {};
		int r;

		assert_int_equal(json_parse(cases[i].json, strlen(cases[i].json), 4096, 8, &obj),
				 0);
		r = kube_object_meta_get(obj, cases[i].namespaced, &m, key, &err);
		if (r >= 0) {
			assert_string_equal(m.key, cases[i].key_or_error);
			assert_non_null(m.resource_version);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_string_equal(err.text, cases[i].key_or_error);
		}
	}

	/* a name longer than a DNS subdomain is refused, not truncated */
	_cleanup_buf_ struct buf b = BUF_INIT;
	_cleanup_json_ cJSON *obj = NULL;
	struct kube_object_meta m;
	char key[KUBE_KEY_MAX];
	struct errmsg err = {};

	assert_int_equal(buf_puts(&b, "{\"metadata\":{\"namespace\":\"x\",\"name\":\""), 0);
	for (int i = 0; i < KUBE_NAME_MAX; i++)
		assert_int_equal(buf_puts(&b, "n"), 0);
	assert_int_equal(buf_puts(&b, "\"}}"), 0);
	assert_int_equal(json_parse(b.data, b.len, 4096, 8, &obj), 0);
	assert_int_equal(kube_object_meta_get(obj, true, &m, key, &err), -EINVAL);
	assert_non_null(strstr(err.text, "metadata.name: too long"));
}

/* Recorded Pod and Namespace watch lines through kube_event_parse: keys,
 * resourceVersions, DELETED carries no parsed object. */
static void test_recorded_events(void **state)
{
	struct fixture *f = *state;
	static const struct kube_kind pod_kind = {
		.name = "pods",
		.path = "/api/v1/pods",
		.namespaced = true,
		.parse = test_parse,
		.free = free,
	};
	static const struct {
		const char *file;
		const struct kube_kind *kind;
		const char *want;
	} cases[] = {
		{"104-watch-namespaces.body", &namespace_kind,
		 "MODIFIED:x@275;MODIFIED:x@276;MODIFIED:x@278;MODIFIED:z@279;MODIFIED:z@284;"
		 "DELETED:z-;BOOKMARK:@285;BOOKMARK:@285;"},
		{"170-watch-pods-force-delete.body", &pod_kind, NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *body = file_of(cases[i].file);
		_cleanup_buf_ struct buf out = BUF_INIT;
		char *line = body, *nl;

		while ((nl = strchr(line, '\n'))) {
			struct kube_event ev = {};
			struct errmsg err = {};

			assert_int_equal(kube_event_parse(line, (size_t)(nl - line), cases[i].kind,
							  f, &ev, &err),
					 0);
			assert_int_equal(buf_printf(&out, "%s:%s", kube_event_type_name(ev.type),
						    ev.obj ? (char *)ev.obj : ev.key),
					 0);
			if (ev.type == KUBE_EVENT_DELETED)
				assert_int_equal(buf_puts(&out, "-"), 0);
			if (ev.type == KUBE_EVENT_BOOKMARK)
				assert_int_equal(buf_printf(&out, "@%s", ev.resource_version), 0);
			assert_int_equal(buf_puts(&out, ";"), 0);
			assert_true((ev.obj != NULL) == (ev.type <= KUBE_EVENT_MODIFIED));
			kube_event_done(&ev, cases[i].kind);
			line = nl + 1;
		}
		if (cases[i].want)
			assert_string_equal(out.data, cases[i].want);
		else
			assert_non_null(strstr(out.data, "DELETED:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paginated_list_and_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relist_after_410, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_and_selectors, setup, teardown),
		cmocka_unit_test(test_object_meta),
		cmocka_unit_test_setup_teardown(test_recorded_events, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
