/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of netpol/compile.c, netpol/plan.c and netpol/listing.c: the
 * desired table for a node (verdict maps for its pods only, content-
 * addressed chains, peer and named-port sets over the whole cluster), the
 * nft script from nothing, the minimal scripts for a label change and a
 * policy change (and their order), fail-closed bad policies, and the
 * read-back of a real `nft -j list table` (test/unit/netpol/data, written
 * by nft 1.0.6 from data/objects.json) planning to nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/core/fileio.h"
#include "lib/json/json.h"
#include "netpol/engine.h"
#include "netpol/listing.h"
#include "netpol/plan.h"

static char *data_file(const char *name, size_t *len)
{
	const char *dir = getenv("TEST_DATA_DIR");
	char path[4096];
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/unit/netpol/data/%s", dir ? dir : "test", name);
	assert_int_equal(read_file_bounded(path, 1 << 24, &data, len), 0);
	return data;
}

/* Feed a JSON List (or one object) to the engine. */
static void feed(struct np_engine *e, const char *json)
{
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *items, *item;
	struct errmsg err = {};

	assert_int_equal(json_parse(json, strlen(json), 1 << 24, JSON_MAX_DEPTH_DEFAULT, &root), 0);
	items = json_item(root, "items");
	cJSON_ArrayForEach (item, items) {
		const char *kind;
		assert_int_equal(json_get_str(item, "kind", &kind), 0);
		enum np_kind k = strcmp(kind, "Pod") == 0	  ? NP_KIND_POD
				 : strcmp(kind, "Namespace") == 0 ? NP_KIND_NAMESPACE
								  : NP_KIND_POLICY;
		assert_true(np_engine_update(e, k, item, false, &err) >= 0);
	}
}

static struct np_engine *engine_from_data(void)
{
	struct np_engine_config cfg = {.node = "n1"};
	struct np_engine *e;
	size_t len;
	_cleanup_free_ char *json = data_file("objects.json", &len);

	assert_int_equal(np_engine_new(&cfg, &e), 0);
	feed(e, json);
	return e;
}

static const struct np_elem *map_get(const struct np_state *s, enum np_map_id m, const char *addr)
{
	struct np_elem key = {};

	assert_int_equal(
		inet_pton(m == NP_MAP_I6 || m == NP_MAP_E6 ? AF_INET6 : AF_INET, addr, key.addr),
		1);
	for (size_t i = 0; i < s->maps[m].n; i++)
		if (memcmp(s->maps[m].e[i].addr, key.addr, 16) == 0)
			return &s->maps[m].e[i];
	return NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_compile(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {};
	_cleanup_buf_ struct buf report = BUF_INIT;
	struct np_compile_stats st;

	assert_int_equal(np_compile(np_engine_model(e), "n1", &s, &report, &st), 0);
	/* x/a and x/b are on n1 (x/c on n2); a is isolated both ways, b for egress only */
	assert_int_equal(st.local_pods, 2);
	assert_int_equal(st.isolated[NP_INGRESS], 1);
	assert_int_equal(st.isolated[NP_EGRESS], 2);
	assert_int_equal(st.bad_policies, 1);
	const struct np_elem *ia = map_get(&s, NP_MAP_I4, "198.18.1.2");
	assert_non_null(ia);
	assert_non_null(map_get(&s, NP_MAP_I6, "2001:db8:42:1::2"));
	assert_null(map_get(&s, NP_MAP_I4, "198.18.1.3"));
	assert_null(map_get(&s, NP_MAP_I4, "198.18.2.3"));
	/* both pods have the same egress policies: one shared chain */
	assert_string_equal(map_get(&s, NP_MAP_E4, "198.18.1.2")->chain,
			    map_get(&s, NP_MAP_E4, "198.18.1.3")->chain);

	/* a's ingress chain: jump to allow-b's chain, then drop */
	const struct np_chain *c = np_state_find_chain(&s, ia->chain);
	assert_non_null(c);
	assert_int_equal(strncmp(c->body, "jump p", 6), 0);
	assert_non_null(strstr(c->body, "\ndrop\n"));
	char pname[NP_NAME_LEN];
	snprintf(pname, sizeof(pname), "%.17s", c->body + 5);
	const struct np_chain *p = np_state_find_chain(&s, pname);
	assert_non_null(p);
	/* from pod=b (v4+v6 sets) x named port serve-80-tcp (v4+v6) and UDP 81-90; the ipBlock
	 * is IPv4: 2 + 2 + 1 + 1 rules */
	assert_int_equal(count(p->body, "accept\n"), 6);
	assert_non_null(strstr(p->body, "meta l4proto tcp ip daddr . th dport @n"));
	assert_non_null(strstr(p->body, "ip saddr 10.0.0.0/8 ip saddr != { 10.1.0.0/16 } "));
	assert_non_null(strstr(p->body, "meta l4proto udp th dport 81-90 accept"));
	assert_int_equal(count(p->body, "ip6 saddr @s"), 2);
	/* the named port set holds a's (address . port), the peer set b's address */
	size_t named = 0, peers = 0;
	for (size_t i = 0; i < s.n_sets; i++) {
		const struct np_set *set = &s.sets[i];
		if (set->type == NP_SET_ADDRPORT4) {
			named++;
			assert_int_equal(set->n, 1);
			assert_int_equal(set->e[0].port, 80);
		} else if (set->type == NP_SET_ADDR4) {
			peers++;
			assert_int_equal(set->n, 1);
		}
	}
	assert_int_equal(named, 1);
	assert_int_equal(peers, 1);
	assert_non_null(strstr(report.data, "x/a ingress=allow-b egress=deny-eg\n"));
	assert_non_null(strstr(report.data, "x/b ingress=- egress=deny-eg\n"));
	assert_non_null(strstr(report.data, "! x/bad: spec.ingress[0].ports[0].protocol:"));
}

static void test_bad_policy_fails_closed(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {};

	/* x/bad selects x/c on n2: isolated for ingress, its chain allows nothing */
	assert_int_equal(np_compile(np_engine_model(e), "n2", &s, NULL, NULL), 0);
	const struct np_elem *ic = map_get(&s, NP_MAP_I4, "198.18.2.3");
	assert_non_null(ic);
	const struct np_chain *c = np_state_find_chain(&s, ic->chain);
	char pname[NP_NAME_LEN];
	snprintf(pname, sizeof(pname), "%.17s", c->body + 5);
	assert_string_equal(np_state_find_chain(&s, pname)->body, "");
}

static void test_plan_from_nothing(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {}, none = {};
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(np_compile(np_engine_model(e), "n1", &s, NULL, NULL), 0);
	assert_true(np_plan(&none, &s, &out, NULL) > 0);
	assert_non_null(strstr(out.data, "add table inet flannel-netpol\n"
					 "add chain inet flannel-netpol egress { type filter hook "
					 "postrouting priority srcnat - 6; policy accept; }\n"));
	assert_non_null(
		strstr(out.data, "add rule inet flannel-netpol ingress ip daddr vmap @i4\n"));
	assert_non_null(
		strstr(out.data, "add rule inet flannel-netpol egress ip6 saddr vmap @e6\n"));
	assert_non_null(
		strstr(out.data, "add element inet flannel-netpol i4 { 198.18.1.2 : jump c"));
	/* the chain a map element jumps to is created before it, its sets before the chain */
	char *set = strstr(out.data, "add set inet flannel-netpol n");
	char *chain = strstr(out.data, "add chain inet flannel-netpol p");
	char *pod = strstr(out.data, "add chain inet flannel-netpol c");
	char *elem = strstr(out.data, "add element inet flannel-netpol i4");
	assert_true(set && chain && pod && elem);
	assert_true(set < chain && chain < pod && pod < elem);
	assert_null(strstr(out.data, "delete"));
	/* equal states: nothing to do */
	buf_reset(&out);
	assert_int_equal(np_plan(&s, &s, &out, NULL), 0);
	assert_int_equal(out.len, 0);
}

static void test_plan_label_change(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state before = {}, after = {};
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct np_plan_stats ps;

	assert_int_equal(np_compile(np_engine_model(e), "n1", &before, NULL, NULL), 0);
	/* x/c (on n2) gets pod=b: it joins the pod=b set, nothing else changes */
	feed(e, "{\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"c\","
		"\"labels\":{\"pod\":\"b\"}},\"spec\":{\"nodeName\":\"n2\"},"
		"\"status\":{\"podIP\":\"198.18.2.3\"}}]}");
	assert_int_equal(np_compile(np_engine_model(e), "n1", &after, NULL, NULL), 0);
	assert_int_equal(np_plan(&before, &after, &out, &ps), 1);
	assert_int_equal(count(out.data, "\n"), 1);
	assert_int_equal(strncmp(out.data, "add element inet flannel-netpol s", 33), 0);
	assert_non_null(strstr(out.data, "-4 { 198.18.2.3 }\n"));
	assert_int_equal(ps.elements_added, 1);
}

static void test_plan_policy_change(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state before = {}, after = {};
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct np_plan_stats ps;

	assert_int_equal(np_compile(np_engine_model(e), "n1", &before, NULL, NULL), 0);
	feed(e,
	     "{\"items\":[{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\",\"name\":"
	     "\"allow-b\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":"
	     "[{\"ports\":[{\"port\":8080}]}],\"policyTypes\":[\"Ingress\"]}}]}");
	assert_int_equal(np_compile(np_engine_model(e), "n1", &after, NULL, NULL), 0);
	assert_true(np_plan(&before, &after, &out, &ps) > 0);
	/* new policy chain, new pod chain, a's verdicts repointed, old chains and unused sets gone */
	assert_int_equal(ps.chains_added, 2);
	assert_int_equal(ps.chains_deleted, 2);
	assert_int_equal(ps.sets_deleted, 4);
	char *add_p = strstr(out.data, "add chain inet flannel-netpol p");
	char *add_c = strstr(out.data, "add chain inet flannel-netpol c");
	char *del_v = strstr(out.data, "delete element inet flannel-netpol i4 { 198.18.1.2 }\n");
	char *add_v = strstr(out.data, "add element inet flannel-netpol i4 { 198.18.1.2 : jump c");
	char *del_c = strstr(out.data, "delete chain inet flannel-netpol c");
	char *del_p = strstr(out.data, "delete chain inet flannel-netpol p");
	char *del_s = strstr(out.data, "delete set inet flannel-netpol");
	assert_true(add_p && add_c && del_v && add_v && del_c && del_p && del_s);
	assert_true(add_p < add_c && add_c < del_v && del_v < add_v && add_v < del_c &&
		    del_c < del_p && del_p < del_s);
	assert_non_null(strstr(out.data, "meta l4proto tcp th dport 8080 accept\n"));
	/* the egress side (shared chain) is untouched */
	assert_null(strstr(out.data, "element inet flannel-netpol e4"));
}

/* A literal listing (len 0: strlen). */
static int listing_parse(const char *s, size_t len, struct np_state *out, struct errmsg *err)
{
	return np_listing_parse(s, len ? len : strlen(s), out, err);
}

static void test_listing_readback(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state want = {}, kernel = {};
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct errmsg err = {};
	size_t len;
	_cleanup_free_ char *listing = data_file("listing.json", &len);

	assert_int_equal(np_compile(np_engine_model(e), "n1", &want, NULL, NULL), 0);
	assert_int_equal(np_listing_parse(listing, len, &kernel, &err), 0);
	assert_true(kernel.has_table);
	assert_int_equal(kernel.n_chains, want.n_chains);
	assert_int_equal(kernel.n_sets, want.n_sets);
	if (np_plan(&kernel, &want, &out, NULL) != 0)
		fail_msg("the read-back differs from the compiled state:\n%s", out.data);

	/* a listing without the base chains' rules: the planner writes them again */
	np_state_done(&kernel);
	assert_int_equal(listing_parse("{\"nftables\":[{\"table\":{\"family\":\"inet\","
				       "\"name\":\"flannel-netpol\"}}]}",
				       0, &kernel, &err),
			 0);
	assert_false(kernel.has_table);
	buf_reset(&out);
	assert_true(np_plan(&kernel, &want, &out, NULL) > 0);
	assert_non_null(strstr(out.data, "flush chain inet flannel-netpol ingress\n"));

	/* not what nft prints */
	np_state_done(&kernel);
	assert_int_equal(listing_parse("{\"nftables\":[{\"set\":{\"name\":\"s0123456789abcdef-4\","
				       "\"elem\":[\"300.1.1.1\"]}}]}",
				       0, &kernel, &err),
			 -EBADMSG);
	assert_int_equal(listing_parse("[]", 0, &kernel, &err), -EBADMSG);
}

static void test_no_local_pods(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {};

	assert_int_equal(np_compile(np_engine_model(e), "n9", &s, NULL, NULL), 0);
	assert_true(s.has_table);
	assert_int_equal(s.n_chains + s.n_sets, 0);
	for (int m = 0; m < _NP_MAP_MAX; m++)
		assert_int_equal(s.maps[m].n, 0);
}

static void test_host_network_and_removal(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {};

	/* a hostNetwork pod labelled pod=b is matched by no selector and gets no verdict */
	feed(e, "{\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"h\","
		"\"labels\":{\"pod\":\"b\"}},\"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true},"
		"\"status\":{\"podIP\":\"203.0.113.1\"}}]}");
	assert_int_equal(np_engine_remove(e, NP_KIND_POD, "x/b"), 1);
	assert_int_equal(np_engine_remove(e, NP_KIND_POD, "x/b"), 0);
	assert_int_equal(np_engine_remove(e, NP_KIND_POD, "nonsense"), -EINVAL);
	assert_int_equal(np_compile(np_engine_model(e), "n1", &s, NULL, NULL), 0);
	assert_null(map_get(&s, NP_MAP_E4, "203.0.113.1"));
	for (size_t i = 0; i < s.n_sets; i++)
		if (s.sets[i].type == NP_SET_ADDR4)
			assert_int_equal(s.sets[i].n, 0);
}

static const struct np_pod *pod_in(struct np_engine *e, const char *json, const char *ns,
				   const char *name)
{
	feed(e, json);
	return np_model_pod_get(np_engine_model(e), ns, name);
}

static void test_refs(void **state)
{
	_cleanup_(np_engine_freep) struct np_engine *e = engine_from_data();
	_cleanup_(np_state_done) struct np_state s = {};
	struct np_refs refs = {};

	assert_int_equal(np_compile_refs(np_engine_model(e), "n1", &s, NULL, NULL, &refs), 0);
	/* one peer selector in use (pod=b in x); no named port needed cluster-wide */
	assert_int_equal(refs.n_sels, 1);
	assert_int_equal(refs.n_ports, 0);
	/* x/b (pod=b) matters, and so does every pod of this node */
	assert_true(
		np_refs_pod_matters(&refs, np_model_pod_get(np_engine_model(e), "x", "b"), "n1"));
	assert_true(
		np_refs_pod_matters(&refs, np_model_pod_get(np_engine_model(e), "x", "a"), "n1"));
	/* x/c on n2 (pod=c) does not: a change of it cannot change n1's table */
	assert_false(
		np_refs_pod_matters(&refs, np_model_pod_get(np_engine_model(e), "x", "c"), "n1"));
	/* pod=b elsewhere in another namespace does not either (the selector is x's own) */
	const struct np_pod *p =
		pod_in(e,
		       "{\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"y\","
		       "\"name\":\"b\",\"labels\":{\"pod\":\"b\"}},\"spec\":{\"nodeName\":"
		       "\"n2\"},\"status\":{\"podIP\":\"198.18.2.9\"}}]}",
		       "y", "b");
	assert_false(np_refs_pod_matters(&refs, p, "n1"));
	/* nor a pod without an address */
	p = pod_in(e,
		   "{\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"d\","
		   "\"labels\":{\"pod\":\"b\"}},\"spec\":{\"nodeName\":\"n2\"}}]}",
		   "x", "d");
	assert_false(np_refs_pod_matters(&refs, p, "n1"));
	np_refs_done(&refs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_bad_policy_fails_closed),
		cmocka_unit_test(test_plan_from_nothing),
		cmocka_unit_test(test_plan_label_change),
		cmocka_unit_test(test_plan_policy_change),
		cmocka_unit_test(test_listing_readback),
		cmocka_unit_test(test_no_local_pods),
		cmocka_unit_test(test_host_network_and_removal),
		cmocka_unit_test(test_refs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
