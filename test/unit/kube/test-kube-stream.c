/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streaming LIST splitter (every chunk split of a recorded list gives the
 * same items), watch event parsing (recorded ADDED/MODIFIED/DELETED/BOOKMARK,
 * in-stream 410, broken lines), the kubeconfig parser, the token cache and the
 * HTTP status/CURLcode -> errno table.
 */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kube-wire.h"
#include "kube/config.h"
#include "kube/http.h"
#include "kube/list_stream.h"
#include "kube/node.h"
#include "kube/reflector.h"
#include "kube/token.h"
#include "lib/core/buf.h"

static struct kube_annotation_keys keys;

static int setup(void **state)
{
	return kube_annotation_keys_init(&keys, NULL, NULL);
}

struct collected {
	struct buf names; /* "name,name,..." */
	size_t n, oversized;
};

static int collect(const char *item, size_t len, void *userdata)
{
	struct collected *c = userdata;
	struct kube_node n = {};

	if (!item) {
		c->oversized++;
		return 0;
	}
	assert_int_equal(kube_node_parse(item, len, &keys, &n, NULL), 0);
	assert_int_equal(buf_printf(&c->names, "%s,", n.name), 0);
	c->n++;
	kube_node_done(&n);
	return 0;
}

static int collect_noop(const char *item, size_t len, void *userdata)
{
	return 0;
}

static int split(const char *body, size_t len, size_t at, size_t step, size_t max_item,
		 struct collected *c, struct kube_list_meta *meta)
{
	struct kube_list_stream s;
	int r = 0;

	kube_list_stream_init(&s, max_item);
	if (step == 0) {
		r = kube_list_stream_feed(&s, body, at, collect, c);
		if (r >= 0)
			r = kube_list_stream_feed(&s, body + at, len - at, collect, c);
	} else {
		for (size_t i = 0; i < len && r >= 0; i += step)
			r = kube_list_stream_feed(&s, body + i, MIN(step, len - i), collect, c);
	}
	if (r >= 0)
		r = kube_list_stream_finish(&s, meta, NULL);
	kube_list_stream_done(&s);
	return r;
}

static void test_list_every_split(void **state)
{
	size_t len;
	_cleanup_free_ char *body = wire_response_body("20-list-nodes.http", &len);
	struct kube_list_meta meta = {};

	for (size_t at = 0; at <= len; at++) {
		struct collected c = {};
		assert_int_equal(split(body, len, at, 0, KUBE_OBJECT_MAX_SIZE, &c, &meta), 0);
		assert_int_equal(c.n, 3);
		assert_string_equal(c.names.data, "node-a,node-b,node-c,");
		assert_string_equal(meta.resource_version, "223");
		assert_null(meta.continue_token);
		buf_free(&c.names);
	}
	/* byte by byte */
	struct collected c = {};
	assert_int_equal(split(body, len, 0, 1, KUBE_OBJECT_MAX_SIZE, &c, &meta), 0);
	assert_int_equal(c.n, 3);
	buf_free(&c.names);
	/* an item cap below the node size: all three skipped, reported with their size */
	c = (struct collected){};
	assert_int_equal(split(body, len, 0, 7, 1000, &c, &meta), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.oversized, 3);
	kube_list_meta_done(&meta);
}

static void test_list_pages(void **state)
{
	size_t len;
	_cleanup_free_ char *p1 = wire_response_body("21-list-nodes-limit1.http", &len);
	struct kube_list_meta meta = {};
	struct collected c = {};

	assert_int_equal(split(p1, len, len / 2, 0, KUBE_OBJECT_MAX_SIZE, &c, &meta), 0);
	assert_string_equal(c.names.data, "node-a,");
	assert_string_equal(
		meta.continue_token,
		"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MjIzLCJzdGFydCI6Im5vZGUtYVx1MDAwMCJ9");
	assert_true(meta.has_remaining);
	assert_int_equal(meta.remaining_item_count, 2);
	buf_free(&c.names);

	_cleanup_free_ char *p3 =
		wire_response_body("23-list-nodes-limit1-continue-last.http", &len);
	c = (struct collected){};
	assert_int_equal(split(p3, len, 10, 0, KUBE_OBJECT_MAX_SIZE, &c, &meta), 0);
	assert_string_equal(c.names.data, "node-c,");
	assert_null(meta.continue_token);
	assert_false(meta.has_remaining);
	buf_free(&c.names);
	kube_list_meta_done(&meta);
}

static void test_list_malformed(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"items\":{}}",
		"{\"items\":[1]}",
		"{\"items\":[{}],\"metadata\":{\"resourceVersion\":\"1\"}} x",
		"{\"items\":[{}]",		  /* truncated */
		"{\"items\":[{}]}",		  /* no metadata */
		"{\"metadata\":{},\"items\":[]}", /* no resourceVersion */
		"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[\"x\"]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct kube_list_stream s;
		struct kube_list_meta meta = {};
		int r;

		kube_list_stream_init(&s, 1024);
		r = kube_list_stream_feed(&s, bad[i], strlen(bad[i]), collect_noop, NULL);
		if (r >= 0)
			r = kube_list_stream_finish(&s, &meta, NULL);
		assert_true(r < 0);
		kube_list_stream_done(&s);
	}
	/* braces inside strings do not count; null items is an empty list */
	const char *ok =
		"{\"metadata\":{\"resourceVersion\":\"5\",\"x\":\"}]\\\"{\"},\"items\":null}";
	struct kube_list_stream s;
	struct kube_list_meta meta = {};
	kube_list_stream_init(&s, 1024);
	assert_int_equal(kube_list_stream_feed(&s, ok, strlen(ok), collect_noop, NULL), 0);
	assert_int_equal(kube_list_stream_finish(&s, &meta, NULL), 0);
	assert_string_equal(meta.resource_version, "5");
	kube_list_stream_done(&s);
}

/* Each line of a recorded watch body. */
static void for_lines(const char *name, void (*fn)(const char *line, size_t len, void *ud),
		      void *ud)
{
	size_t len;
	_cleanup_free_ char *body = wire_read(name, &len);
	char *p = body, *nl;

	while ((nl = memchr(p, '\n', len - (size_t)(p - body)))) {
		fn(p, (size_t)(nl - p), ud);
		p = nl + 1;
	}
}

static void record_event(const char *line, size_t len, void *ud)
{
	struct buf *out = ud;
	struct kube_event ev = {};

	assert_int_equal(kube_event_parse(line, len, &kube_node_kind, &keys, &ev, NULL), 0);
	assert_int_equal(buf_printf(out, "%s:%s:%s;", kube_event_type_name(ev.type), ev.key,
				    ev.resource_version),
			 0);
	/* ADDED/MODIFIED carry the parsed node, DELETED only its key */
	assert_true((ev.obj != NULL) == (ev.type <= KUBE_EVENT_MODIFIED));
	if (ev.obj)
		assert_string_equal(((struct kube_node *)ev.obj)->name, ev.key);
	if (ev.type == KUBE_EVENT_ERROR)
		assert_int_equal(buf_printf(out, "%ld:%s;", ev.code, ev.message), 0);
	kube_event_done(&ev, &kube_node_kind);
}

static void test_watch_events(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	for_lines("30-watch-nodes.body", record_event, &out);
	assert_string_equal(out.data, "MODIFIED:node-a:224;ADDED:node-d:225;DELETED:node-c:226;"
				      "BOOKMARK::226;BOOKMARK::226;");
	buf_reset(&out);
	for_lines("45-watch-old-rv-after-restart.body", record_event, &out);
	assert_string_equal(out.data, "ERROR::;410:too old resource version: 223 (243);");
}

static void test_watch_broken_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"type\":\"ADDED\"}",
		"{\"type\":\"NOPE\",\"object\":{}}",
		"{\"type\":1,\"object\":{}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
		"{\"type\":\"ADDED\",\"object\":[]} trailing",
	};
	struct errmsg err = {};
	struct kube_event ev = {};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_true(kube_event_parse(bad[i], strlen(bad[i]), &kube_node_kind, &keys, &ev,
					     &err) < 0);
	const char *e = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500}}";
	assert_int_equal(kube_event_parse(e, strlen(e), &kube_node_kind, &keys, &ev, &err), 0);
	assert_int_equal(ev.code, 500);
	kube_event_done(&ev, &kube_node_kind);
}

static const char kubeconfig[] =
	"# written by kubectl\n"
	"---\n"
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"    server: https://127.0.0.1:6443/\n"
	"  name: kind-kind\n"
	"- cluster:\n"
	"    server: \"https://other:6443\"\n"
	"    insecure-skip-tls-verify: true\n"
	"  name: other\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kind-kind\n"
	"    user: 'kind-kind'\n"
	"  name: kind-kind\n"
	"current-context: kind-kind # the active one\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: kind-kind\n"
	"  user:\n"
	"    tokenFile: secrets/token\n"
	"    client-certificate: certs/c.crt\n"
	"    client-key: /abs/c.key\n";

static void test_kubeconfig(void **state)
{
	struct kube_config c = {};
	struct errmsg err = {};

	assert_int_equal(
		kube_config_from_kubeconfig(kubeconfig, strlen(kubeconfig), "/etc/kc", &c, &err),
		0);
	assert_string_equal(c.server, "https://127.0.0.1:6443");
	assert_int_equal(c.ca_data_len, 28);
	assert_memory_equal(c.ca_data, "-----BEGIN CERTIFICATE-----\n", 28);
	assert_null(c.ca_file);
	assert_false(c.insecure_skip_tls_verify);
	assert_null(c.token);
	assert_string_equal(c.token_file, "/etc/kc/secrets/token");
	assert_string_equal(c.cert_file, "/etc/kc/certs/c.crt");
	assert_string_equal(c.key_file, "/abs/c.key");
	kube_config_done(&c);

	/* JSON kubeconfig, other context */
	const char *json =
		"{\"current-context\":\"o\",\"contexts\":[{\"name\":\"o\",\"context\":"
		"{\"cluster\":\"other\",\"user\":\"u\"}}],\"clusters\":[{\"name\":"
		"\"other\",\"cluster\":{\"server\":\"http://x:1\",\"insecure-skip-tls-"
		"verify\":true}}],\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"t0k\"}}]}";
	assert_int_equal(kube_config_from_kubeconfig(json, strlen(json), NULL, &c, &err), 0);
	assert_string_equal(c.server, "http://x:1");
	assert_true(c.insecure_skip_tls_verify);
	assert_string_equal(c.token, "t0k");
	kube_config_done(&c);

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"current-context: x\n", "contexts: no entry named \"x\""},
		{"a: b\n", "current-context: missing"},
		{"a:\n\tb: c\n", "line 2: tab in indentation"},
		{"a: &x b\n",
		 "line 1: unsupported YAML feature (anchor, alias, tag or block scalar)"},
		{"a: |\n  text\n",
		 "line 1: unsupported YAML feature (anchor, alias, tag or block scalar)"},
		{"a: {b: c}\n", "line 1: flow collections are not supported"},
		{"a: b\n  c\n", "line 2: multi-line scalars are not supported"},
		{"a: b\na: c\n", "line 2: duplicate key"},
		{"a: \"unterminated\n", "line 1: invalid quoted scalar"},
		{"- a\nb: c\n", "line 2: unexpected content"},
		{"current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\nclusters:\n"
		 "- name: k\n  cluster:\n    server: https://h\n    certificate-authority-data: '!!'\n",
		 "cluster.certificate-authority-data: invalid base64"},
		{"current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
		 "clusters:\n- name: k\n  cluster:\n    server: https://h\nusers:\n- name: u\n  user:\n"
		 "    exec:\n      command: aws\n",
		 "user: exec and auth-provider plugins are not supported"},
		{"current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\nclusters:\n"
		 "- name: k\n  cluster:\n    server: ftp://h\n",
		 "cluster.server: expected an http(s) URL with a host"},
		/* Found by fuzz-kubeconfig: a scheme without a host. */
		{"current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\nclusters:\n"
		 "- name: k\n  cluster:\n    server: https:///\n",
		 "cluster.server: expected an http(s) URL with a host"},
		{"current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\nclusters:\n"
		 "- name: k\n  cluster:\n    server: \"https://h st\"\n",
		 "cluster.server: expected an http(s) URL with a host"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err.text[0] = '\0';
		assert_true(kube_config_from_kubeconfig(bad[i].text, strlen(bad[i].text), "/", &c,
							&err) < 0);
		assert_string_equal(err.text, bad[i].msg);
	}
}

static void test_in_cluster(void **state)
{
	struct kube_config c = {};
	struct errmsg err = {};

	assert_int_equal(kube_config_in_cluster("10.96.0.1", "443", NULL, &c, &err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.token_file, KUBE_SA_DIR_DEFAULT "/token");
	assert_string_equal(c.ca_file, KUBE_SA_DIR_DEFAULT "/ca.crt");
	assert_int_equal(kube_config_in_cluster("fd00::1", "6443", "/sa", &c, &err), 0);
	assert_string_equal(c.server, "https://[fd00::1]:6443");
	assert_string_equal(c.token_file, "/sa/token");
	kube_config_done(&c);
	assert_int_equal(kube_config_in_cluster(NULL, "443", NULL, &c, &err), -ENOENT);
	assert_int_equal(kube_config_in_cluster("h/x", "443", NULL, &c, &err), -EINVAL);
}

static void test_token_reload(void **state)
{
	char dir[] = "/tmp/kube-token-XXXXXX", path[64];
	struct kube_token t;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_int_equal(write_file_atomic(path, "first\n", 6, 0600), 0);
	assert_int_equal(kube_token_init(&t, NULL, path), 0);
	assert_string_equal(kube_token_get(&t, 1000), "first");
	assert_int_equal(write_file_atomic(path, "second", 6, 0600), 0);
	/* cached within the period */
	assert_string_equal(kube_token_get(&t, 1000 + KUBE_TOKEN_REFRESH_USEC - 1), "first");
	/* re-read after the period */
	assert_string_equal(kube_token_get(&t, 1000 + KUBE_TOKEN_REFRESH_USEC), "second");
	/* re-read at once after a 401 */
	assert_int_equal(write_file_atomic(path, "third", 5, 0600), 0);
	kube_token_invalidate(&t);
	assert_string_equal(kube_token_get(&t, 1000 + KUBE_TOKEN_REFRESH_USEC + 1), "third");
	/* a broken file keeps the old token */
	assert_int_equal(unlink(path), 0);
	kube_token_invalidate(&t);
	assert_string_equal(kube_token_get(&t, 1000 + KUBE_TOKEN_REFRESH_USEC + 2), "third");
	kube_token_done(&t);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(kube_token_init(&t, "static", NULL), 0);
	assert_string_equal(kube_token_get(&t, 0), "static");
	kube_token_done(&t);
}

static void test_errno_table(void **state)
{
	static const struct {
		int cc;
		long status;
		int r;
	} t[] = {
		{CURLE_OK, 200, 0},
		{CURLE_OK, 201, 0},
		{CURLE_OK, 400, -EINVAL},
		{CURLE_OK, 401, -EACCES},
		{CURLE_OK, 403, -EPERM},
		{CURLE_OK, 404, -ENOENT},
		{CURLE_OK, 405, -EOPNOTSUPP},
		{CURLE_OK, 409, -EBUSY},
		{CURLE_OK, 410, -ESTALE},
		{CURLE_OK, 415, -EPROTO},
		{CURLE_OK, 422, -EINVAL},
		{CURLE_OK, 429, -EAGAIN},
		{CURLE_OK, 500, -EAGAIN},
		{CURLE_OK, 503, -EAGAIN},
		{CURLE_OK, 302, -EPROTO},
		{CURLE_COULDNT_CONNECT, 0, -ECONNREFUSED},
		{CURLE_COULDNT_RESOLVE_HOST, 0, -EHOSTUNREACH},
		{CURLE_OPERATION_TIMEDOUT, 0, -ETIMEDOUT},
		{CURLE_PEER_FAILED_VERIFICATION, 0, -EKEYREJECTED},
		{CURLE_SSL_CONNECT_ERROR, 0, -EPROTO},
		{CURLE_PARTIAL_FILE, 200, -ECONNRESET},
		{CURLE_RECV_ERROR, 200, -ECONNRESET},
		{CURLE_GOT_NOTHING, 0, -ECONNRESET},
		{CURLE_OUT_OF_MEMORY, 0, -ENOMEM},
		{CURLE_WRITE_ERROR, 410, -ESTALE},
		{CURLE_UNKNOWN_OPTION, 0, -EIO},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_int_equal(kube_http_errno(t[i].cc, t[i].status), t[i].r);

	size_t len;
	_cleanup_free_ char *body = wire_response_body("62-wrong-token.http", &len);
	char msg[128];
	long code;
	kube_status_message(body, len, msg, sizeof(msg), &code);
	assert_string_equal(msg, "Unauthorized");
	assert_int_equal(code, 401);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_every_split),   cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_list_malformed),	   cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_broken_lines), cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_in_cluster),	   cmocka_unit_test(test_token_reload),
		cmocka_unit_test(test_errno_table),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
