/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of etcd/proto (the JSON gateway's wire format) and of the
 * client's pure helpers (endpoint list, errno mapping). The response texts
 * are what etcd 3.4.23 answered on this machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "etcd/client.h"
#include "etcd/proto.h"

static void test_bodies(void **state)
{
	struct buf b = BUF_INIT;

	assert_int_equal(etcd_body_range("/a/b", false, &b), 0);
	assert_string_equal(b.data, "{\"key\":\"L2EvYg==\"}");
	buf_reset(&b);
	/* prefix "/a/" -> range_end "/a0" */
	assert_int_equal(etcd_body_range("/a/", true, &b), 0);
	assert_string_equal(b.data, "{\"key\":\"L2Ev\",\"range_end\":\"L2Ew\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_put("/a/b", "x", 0, &b), 0);
	assert_string_equal(b.data, "{\"key\":\"L2EvYg==\",\"value\":\"eA==\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_put("/a/b", "x", 4111120313321910792LL, &b), 0);
	assert_string_equal(b.data, "{\"key\":\"L2EvYg==\",\"value\":\"eA==\","
				    "\"lease\":\"4111120313321910792\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_create("/a/c", "x", 7, &b), 0);
	assert_string_equal(
		b.data, "{\"compare\":[{\"target\":\"VERSION\",\"result\":\"EQUAL\","
			"\"version\":\"0\",\"key\":\"L2EvYw==\"}],\"success\":[{\"request_put\":"
			"{\"key\":\"L2EvYw==\",\"value\":\"eA==\",\"lease\":\"7\"}}]}");
	buf_reset(&b);
	assert_int_equal(etcd_body_delete("/a/c", &b), 0);
	assert_string_equal(b.data, "{\"key\":\"L2EvYw==\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_grant(86400, &b), 0);
	assert_string_equal(b.data, "{\"TTL\":\"86400\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_revoke(12, &b), 0);
	assert_string_equal(b.data, "{\"ID\":\"12\"}");
	buf_reset(&b);
	assert_int_equal(etcd_body_watch("/a/", 5, &b), 0);
	assert_string_equal(b.data, "{\"create_request\":{\"key\":\"L2Ev\",\"range_end\":\"L2Ew\","
				    "\"start_revision\":\"5\"}}");
	buf_reset(&b);
	assert_int_equal(etcd_body_auth("root", "p\"w", &b), 0);
	assert_string_equal(b.data, "{\"name\":\"root\",\"password\":\"p\\\"w\"}");
	buf_free(&b);
}

static void test_parse_range(void **state)
{
	const char *body =
		"{\"header\":{\"cluster_id\":\"15118495548433857066\",\"revision\":\"2\"},"
		"\"kvs\":[{\"key\":\"L2EvYg==\",\"create_revision\":\"2\","
		"\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"aGVsbG8=\","
		"\"lease\":\"4111120313321910792\"},{\"key\":\"L2Ev\"}],\"count\":\"2\"}";
	struct etcd_range rg;
	struct errmsg err = {};

	assert_int_equal(etcd_parse_range(body, strlen(body), &rg, &err), 0);
	assert_int_equal(rg.revision, 2);
	assert_int_equal(rg.n, 2);
	assert_string_equal(rg.kvs[0].key, "/a/b");
	assert_string_equal(rg.kvs[0].value, "hello");
	assert_int_equal(rg.kvs[0].lease, 4111120313321910792LL);
	assert_int_equal(rg.kvs[0].mod_revision, 2);
	/* omitted value: the empty string; omitted lease: 0 */
	assert_string_equal(rg.kvs[1].value, "");
	assert_int_equal(rg.kvs[1].lease, 0);
	etcd_range_done(&rg);

	/* no kvs at all: not found */
	body = "{\"header\":{\"revision\":\"9\"}}";
	assert_int_equal(etcd_parse_range(body, strlen(body), &rg, &err), 0);
	assert_int_equal(rg.n, 0);
	assert_int_equal(rg.revision, 9);
	etcd_range_done(&rg);

	static const struct {
		const char *body, *msg;
	} bad[] = {
		{"[]", "expected an object, got array"},
		{"{\"kvs\":{}}", "kvs: expected an array, got object"},
		{"{\"kvs\":[{\"key\":\"!!\"}]}", "key: invalid base64"},
		{"{\"kvs\":[{}]}", "key: missing"},
		{"{\"kvs\":[{\"key\":\"L2Ev\",\"lease\":\"x\"}]}", "lease: not an integer"},
		{"{\"header\":{\"revision\":true}}", "revision: expected a string, got bool"},
		{"{\"header\":[]}", "header: expected an object, got array"},
		{"nope", "invalid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.text[0] = '\0';
		if (etcd_parse_range(bad[i].body, strlen(bad[i].body), &rg, &err) >= 0)
			fail_msg("accepted %s", bad[i].body);
		if (strcmp(err.text, bad[i].msg) != 0)
			fail_msg("%s: got \"%s\"", bad[i].body, err.text);
	}
}

static void test_parse_txn_grant_auth(void **state)
{
	struct errmsg err = {};
	bool ok;
	int64_t rev, id, ttl;
	char *tok = NULL;
	const char *b;

	b = "{\"header\":{\"revision\":\"3\"},\"succeeded\":true,\"responses\":[{}]}";
	assert_int_equal(etcd_parse_txn(b, strlen(b), &ok, &rev, &err), 0);
	assert_true(ok);
	assert_int_equal(rev, 3);
	/* false is omitted by the gateway */
	b = "{\"header\":{\"revision\":\"2\"}}";
	assert_int_equal(etcd_parse_txn(b, strlen(b), &ok, &rev, &err), 0);
	assert_false(ok);
	b = "{\"succeeded\":\"yes\"}";
	assert_int_equal(etcd_parse_txn(b, strlen(b), &ok, &rev, &err), -EINVAL);

	b = "{\"header\":{\"revision\":\"2\"},\"ID\":\"4111120313321910792\",\"TTL\":\"60\"}";
	assert_int_equal(etcd_parse_grant(b, strlen(b), &id, &ttl, &err), 0);
	assert_int_equal(id, 4111120313321910792LL);
	assert_int_equal(ttl, 60);
	b = "{\"ID\":\"1\",\"TTL\":\"0\",\"error\":\"too many leases\"}";
	assert_int_equal(etcd_parse_grant(b, strlen(b), &id, &ttl, &err), -EIO);
	assert_string_equal(err.text, "too many leases");
	b = "{\"ID\":\"1\"}";
	assert_int_equal(etcd_parse_grant(b, strlen(b), &id, &ttl, &err), -EBADMSG);

	b = "{\"header\":{},\"token\":\"abc.7\"}";
	assert_int_equal(etcd_parse_auth(b, strlen(b), &tok, &err), 0);
	assert_string_equal(tok, "abc.7");
	free(tok);
	b = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
	assert_int_equal(etcd_parse_auth(b, strlen(b), &tok, &err), -EBADMSG);
	b = "{}";
	assert_int_equal(etcd_parse_auth(b, strlen(b), &tok, &err), -EBADMSG);

	b = "{\"header\":{\"revision\":\"77\"},\"deleted\":\"1\"}";
	assert_int_equal(etcd_parse_revision(b, strlen(b), &rev, &err), 0);
	assert_int_equal(rev, 77);
}

static void test_parse_watch(void **state)
{
	struct etcd_watch_response w;
	struct errmsg err = {};
	const char *l;

	l = "{\"result\":{\"header\":{\"revision\":\"3\"},\"created\":true}}";
	assert_int_equal(etcd_parse_watch(l, strlen(l), &w, &err), 0);
	assert_true(w.created);
	assert_false(w.canceled);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.revision, 3);
	etcd_watch_response_done(&w);

	l = "{\"result\":{\"header\":{\"revision\":\"4\"},\"events\":[{\"kv\":{\"key\":\"L2EvYg==\","
	    "\"mod_revision\":\"2\",\"value\":\"aGVsbG8=\",\"lease\":\"5\"}},{\"type\":\"DELETE\","
	    "\"kv\":{\"key\":\"L2EvYw==\",\"mod_revision\":\"4\"}}]}}";
	assert_int_equal(etcd_parse_watch(l, strlen(l), &w, &err), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.events[0].type, ETCD_EVENT_PUT);
	assert_string_equal(w.events[0].kv.key, "/a/b");
	assert_string_equal(w.events[0].kv.value, "hello");
	assert_int_equal(w.events[0].kv.lease, 5);
	assert_int_equal(w.events[1].type, ETCD_EVENT_DELETE);
	assert_string_equal(w.events[1].kv.key, "/a/c");
	assert_null(w.events[1].kv.value);
	assert_int_equal(w.events[1].kv.mod_revision, 4);
	etcd_watch_response_done(&w);

	/* what etcd 3.4 sends for a compacted start revision */
	l = "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},\"canceled\":true,"
	    "\"compact_revision\":\"5\"}}";
	assert_int_equal(etcd_parse_watch(l, strlen(l), &w, &err), 0);
	assert_true(w.canceled);
	assert_int_equal(w.compact_revision, 5);
	etcd_watch_response_done(&w);

	l = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"no leader\"}}";
	assert_int_equal(etcd_parse_watch(l, strlen(l), &w, &err), -EAGAIN);
	assert_string_equal(err.text, "no leader");
	l = "{\"error\":\"boom\"}";
	assert_int_equal(etcd_parse_watch(l, strlen(l), &w, &err), -EPROTO);
	assert_string_equal(err.text, "boom");

	static const char *bad[] = {
		"{}",
		"{\"result\":5}",
		"{\"result\":{\"events\":{}}}",
		"{\"result\":{\"events\":[5]}}",
		"{\"result\":{\"events\":[{\"type\":\"MOVE\",\"kv\":{\"key\":\"L2Ev\"}}]}}",
		"{\"result\":{\"events\":[{\"type\":7,\"kv\":{\"key\":\"L2Ev\"}}]}}",
		"{\"result\":{\"events\":[{}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"L2Ev\",\"value\":\"???\"}}]}}",
		"{\"result\":{\"compact_revision\":[]}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (etcd_parse_watch(bad[i], strlen(bad[i]), &w, &err) >= 0)
			fail_msg("accepted %s", bad[i]);
}

static void test_errors(void **state)
{
	char msg[128];
	int code;
	const char *b = "{\"error\":\"etcdserver: requested lease not found\",\"message\":"
			"\"etcdserver: requested lease not found\",\"code\":5}";

	etcd_parse_error(b, strlen(b), msg, sizeof(msg), &code);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	assert_int_equal(code, 5);
	assert_int_equal(etcd_grpc_errno(code), -ENOENT);
	etcd_parse_error("garbage", 7, msg, sizeof(msg), &code);
	assert_string_equal(msg, "");
	assert_int_equal(code, -1);

	assert_int_equal(etcd_grpc_errno(ETCD_GRPC_UNAUTHENTICATED), -EACCES);
	assert_int_equal(etcd_grpc_errno(ETCD_GRPC_UNAVAILABLE), -EAGAIN);
	assert_int_equal(etcd_grpc_errno(ETCD_GRPC_OUT_OF_RANGE), -ESTALE);
	assert_int_equal(etcd_grpc_errno(ETCD_GRPC_FAILED_PRECONDITION), -EPROTO);
	assert_int_equal(etcd_grpc_errno(ETCD_GRPC_OK), 0);
}

static void test_endpoints(void **state)
{
	char *e[ETCD_MAX_ENDPOINTS];
	int n;

	n = etcd_endpoints_parse("http://127.0.0.1:4001,http://127.0.0.1:2379", e);
	assert_int_equal(n, 2);
	assert_string_equal(e[0], "http://127.0.0.1:4001");
	assert_string_equal(e[1], "http://127.0.0.1:2379");
	for (int i = 0; i < n; i++)
		free(e[i]);
	n = etcd_endpoints_parse(" https://etcd:2379/ ,,", e);
	assert_int_equal(n, 1);
	assert_string_equal(e[0], "https://etcd:2379");
	free(e[0]);
	assert_int_equal(etcd_endpoints_parse("", e), -EINVAL);
	assert_int_equal(etcd_endpoints_parse("127.0.0.1:2379", e), -EINVAL);
	assert_int_equal(etcd_endpoints_parse("http://a,ftp://b", e), -EINVAL);
	assert_int_equal(etcd_endpoints_parse("http://", e), -EINVAL);
	assert_int_equal(etcd_endpoints_parse("http://a b", e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_txn_grant_auth),
		cmocka_unit_test(test_parse_watch),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
