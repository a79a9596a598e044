/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of netpol/selector.c and netpol/parse.c: label selector
 * matching (matchLabels, In, NotIn, Exists, DoesNotExist, AND, empty), the
 * canonical text, and Pods, Namespaces and NetworkPolicies as a real
 * kube-apiserver stores them (recordings 101-169), plus the errors naming
 * the field and the fail-closed form of a policy that is not understood.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/json/json.h"
#include "netpol/parse.h"
#include "test/unit/kube/kube-wire.h"

static cJSON *json_of(const char *s)
{
	cJSON *j = NULL;

	assert_int_equal(json_parse(s, strlen(s), 1 << 20, JSON_MAX_DEPTH_DEFAULT, &j), 0);
	return j;
}

static cJSON *wire_json(const char *name)
{
	size_t len;
	_cleanup_free_ char *body = wire_response_body(name, &len);
	cJSON *j = NULL;

	assert_int_equal(json_parse(body, len, 1 << 24, JSON_MAX_DEPTH_DEFAULT, &j), 0);
	return j;
}

static int sel(const char *json, struct np_selector *s, struct errmsg *err)
{
	_cleanup_json_ cJSON *j = json_of(json);
	return np_selector_parse(j, "spec.podSelector", s, err);
}

static bool matches(const char *selector, const char *const *kv, size_t n)
{
	struct np_selector s = {};
	struct errmsg err = {};

	assert_int_equal(sel(selector, &s, &err), 0);
	bool m = np_selector_match(&s, kv, n);
	np_selector_done(&s);
	return m;
}

static void test_selector_match(void **state)
{
	/* sorted by key */
	const char *web[] = {"app", "web", "tier", "front"};
	const char *db[] = {"app", "db"};

	assert_true(matches("{}", web, 2));
	assert_true(matches("{}", NULL, 0));
	assert_true(matches("{\"matchLabels\":{\"app\":\"web\"}}", web, 2));
	assert_false(matches("{\"matchLabels\":{\"app\":\"web\"}}", db, 1));
	assert_false(matches("{\"matchLabels\":{\"app\":\"web\",\"x\":\"y\"}}", web, 2));
	assert_true(matches(
		"{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"db\",\"web\"]}]}",
		db, 1));
	assert_false(matches(
		"{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"web\"]}]}",
		web, 2));
	/* NotIn matches a pod without the key */
	assert_true(matches(
		"{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}",
		web, 2));
	assert_true(matches("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}",
			    web, 2));
	assert_false(matches("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}",
			     db, 1));
	assert_true(
		matches("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}",
			db, 1));
	/* matchLabels AND matchExpressions */
	assert_false(matches(
		"{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}",
		web, 2));
}

static void test_selector_canon(void **state)
{
	struct np_selector a = {}, b = {};
	struct errmsg err = {};
	struct buf ca = BUF_INIT, cb = BUF_INIT;

	assert_int_equal(
		sel("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"y\",\"x\",\"y\"]}]}",
		    &a, &err),
		0);
	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"x\",\"y\"]},{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"1\"]}],\"matchLabels\":{\"b\":\"2\"}}",
		    &b, &err),
		0);
	assert_int_equal(np_selector_canon(&a, &ca), 0);
	assert_int_equal(np_selector_canon(&b, &cb), 0);
	assert_string_equal(ca.data, "1:a in (1:1);1:b in (1:2);1:c in (1:x,1:y)");
	assert_string_equal(ca.data, cb.data);
	np_selector_done(&a);
	np_selector_done(&b);
	buf_free(&ca);
	buf_free(&cb);

	/* a value with the separators in it cannot pass for two values */
	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a,1:b\"]}]}",
		    &a, &err),
		0);
	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}",
		    &b, &err),
		0);
	assert_int_equal(np_selector_canon(&a, &ca), 0);
	assert_int_equal(np_selector_canon(&b, &cb), 0);
	assert_string_not_equal(ca.data, cb.data);
	np_selector_done(&a);
	np_selector_done(&b);
	buf_free(&ca);
	buf_free(&cb);
}

static void test_selector_errors(void **state)
{
	struct np_selector s = {};
	struct errmsg err = {};

	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Has\"}]}", &s, &err),
		-EINVAL);
	assert_string_equal(
		err.text,
		"spec.podSelector.matchExpressions[0].operator: unsupported value \"Has\"");
	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
		    &s, &err),
		-EINVAL);
	assert_non_null(strstr(err.text, "matchExpressions[0].values: must be specified"));
	assert_int_equal(
		sel("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
		    &s, &err),
		-EINVAL);
	assert_int_equal(sel("{\"matchLabels\":{\"a\":1}}", &s, &err), -EINVAL);
	assert_string_equal(err.text,
			    "spec.podSelector.matchLabels.a: value must be a string, not number");
	assert_int_equal(sel("[]", &s, &err), -EINVAL);
	assert_int_equal(s.n, 0);
}

static struct np_policy *policy_of(cJSON *j, char ns[static 254])
{
	struct np_policy *p = NULL;
	struct errmsg err = {};

	assert_int_equal(np_policy_parse(j, ns, &p, &err), 0);
	cJSON_Delete(j);
	return p;
}

static void test_policy_recorded(void **state)
{
	char ns[254];
	struct np_policy *p;

	/* 110: ingress only, no policyTypes sent: stored ["Ingress"], TCP defaulted */
	p = policy_of(wire_json("110-create-netpol-ingress-no-policytypes.http"), ns);
	assert_string_equal(ns, "x");
	assert_null(p->error);
	assert_true(p->types[NP_INGRESS]);
	assert_false(p->types[NP_EGRESS]);
	assert_int_equal(p->n_rules[NP_INGRESS], 1);
	assert_int_equal(p->rules[NP_INGRESS][0].ports[0].proto, NP_PROTO_TCP);
	np_policy_free(p);

	/* 112: egress only, stored ["Ingress","Egress"]: ingress-isolating too */
	p = policy_of(wire_json("112-create-netpol-egress-only-no-policytypes.http"), ns);
	assert_true(p->types[NP_INGRESS]);
	assert_true(p->types[NP_EGRESS]);
	assert_int_equal(p->n_rules[NP_INGRESS], 0);
	assert_true(p->n_rules[NP_EGRESS] > 0);
	np_policy_free(p);

	/* 113: ipBlocks v4 and v6 with except */
	p = policy_of(wire_json("113-create-netpol-ipblock-except.http"), ns);
	assert_null(p->error);
	bool v4 = false, v6 = false;
	for (int d = 0; d < _NP_DIR_MAX; d++)
		for (size_t i = 0; i < p->n_rules[d]; i++)
			for (size_t k = 0; k < p->rules[d][i].n_peers; k++) {
				const struct np_peer *peer = &p->rules[d][i].peers[k];
				assert_int_equal(peer->kind, NP_PEER_IPBLOCK);
				assert_true(peer->n_except > 0);
				v4 |= peer->cidr.addr.family == AF_INET;
				v6 |= peer->cidr.addr.family == AF_INET6;
			}
	assert_true(v4 && v6);
	np_policy_free(p);

	/* 114: named ports with their protocols; a rule with ports and no from */
	p = policy_of(wire_json("114-create-netpol-named-ports.http"), ns);
	assert_int_equal(p->n_rules[NP_INGRESS], 1);
	const struct np_rule *r = &p->rules[NP_INGRESS][0];
	assert_int_equal(r->n_peers, 0);
	assert_int_equal(r->n_ports, 3);
	assert_string_equal(r->ports[0].name, "http");
	assert_int_equal(r->ports[1].proto, NP_PROTO_UDP);
	assert_string_equal(r->ports[1].name, "dns-udp");
	assert_int_equal(r->ports[2].proto, NP_PROTO_SCTP);
	np_policy_free(p);

	/* 115: endPort */
	p = policy_of(wire_json("115-create-netpol-endport.http"), ns);
	r = &p->rules[NP_INGRESS][0];
	assert_int_equal(r->ports[0].port, 32000);
	assert_int_equal(r->ports[0].end_port, 32768);
	assert_int_equal(r->ports[1].port, 8080);
	assert_int_equal(r->ports[1].end_port, 8080);
	np_policy_free(p);

	/* 116: a protocol without port; namespaceSelector {} */
	p = policy_of(wire_json("116-create-netpol-udp-sctp.http"), ns);
	assert_null(p->error);
	bool proto_only = false, all_ns = false;
	for (size_t i = 0; i < p->n_rules[NP_INGRESS]; i++) {
		r = &p->rules[NP_INGRESS][i];
		for (size_t k = 0; k < r->n_ports; k++)
			proto_only |= r->ports[k].proto == NP_PROTO_UDP && !r->ports[k].has_port;
		for (size_t k = 0; k < r->n_peers; k++)
			all_ns |=
				r->peers[k].has_ns_sel && np_selector_is_empty(&r->peers[k].ns_sel);
	}
	assert_true(proto_only && all_ns);
	np_policy_free(p);

	/* 117: deny all both ways; 118: egress [{}] = one rule allowing everything */
	p = policy_of(wire_json("117-create-netpol-default-deny-all.http"), ns);
	assert_true(p->types[NP_INGRESS] && p->types[NP_EGRESS]);
	assert_int_equal(p->n_rules[NP_INGRESS] + p->n_rules[NP_EGRESS], 0);
	assert_true(np_selector_is_empty(&p->pod_sel));
	np_policy_free(p);
	p = policy_of(wire_json("118-create-netpol-allow-all-egress-explicit.http"), ns);
	assert_false(p->types[NP_INGRESS]);
	assert_int_equal(p->n_rules[NP_EGRESS], 1);
	assert_int_equal(p->rules[NP_EGRESS][0].n_peers + p->rules[NP_EGRESS][0].n_ports, 0);
	np_policy_free(p);

	/* 119: host bits are masked */
	p = policy_of(wire_json("119-create-netpol-ipblock-host-bits.http"), ns);
	char a[IP_NET_STRLEN];
	assert_string_equal(ip_net_fmt(&p->rules[NP_INGRESS][0].peers[0].cidr, a),
			    "192.168.1.0/24");
	np_policy_free(p);
}

static void bad_policy(const char *spec, const char *want_error, bool ingress, bool egress,
		       bool all_pods)
{
	char json[2048], ns[254];
	struct np_policy *p;

	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"namespace\":\"x\",\"name\":\"bad\"},\"spec\":%s}", spec);
	p = policy_of(json_of(json), ns);
	assert_non_null(p->error);
	if (strcmp(p->error, want_error) != 0)
		fail_msg("error \"%s\", want \"%s\"", p->error, want_error);
	assert_int_equal(p->types[NP_INGRESS], ingress);
	assert_int_equal(p->types[NP_EGRESS], egress);
	assert_int_equal(p->n_rules[NP_INGRESS] + p->n_rules[NP_EGRESS], 0);
	assert_int_equal(np_selector_is_empty(&p->pod_sel), all_pods);
	np_policy_free(p);
}

static void test_policy_bad(void **state)
{
	const char *sel = "\"podSelector\":{\"matchLabels\":{\"a\":\"b\"}}";
	char spec[1024];

	snprintf(
		spec, sizeof(spec),
		"{%s,\"ingress\":[{\"ports\":[{\"protocol\":\"TCP\"},{\"endPort\":90}]}],\"policyTypes\":[\"Ingress\"]}",
		sel);
	bad_policy(
		spec,
		"spec.ingress[0].ports[1].endPort: may not be specified when `port` is not specified",
		true, false, false);
	snprintf(
		spec, sizeof(spec),
		"{%s,\"egress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}],\"policyTypes\":[\"Egress\"]}",
		sel);
	bad_policy(
		spec,
		"spec.egress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
		false, true, false);
	snprintf(
		spec, sizeof(spec),
		"{%s,\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}],\"policyTypes\":[\"Ingress\"]}",
		sel);
	bad_policy(spec, "spec.ingress[0].from[0].ipBlock.cidr: not a valid CIDR", true, false,
		   false);
	snprintf(
		spec, sizeof(spec),
		"{%s,\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\",\"except\":[\"10.1.0.0/24\"]}}]}],\"policyTypes\":[\"Ingress\"]}",
		sel);
	bad_policy(spec,
		   "spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of `cidr`",
		   true, false, false);
	snprintf(
		spec, sizeof(spec),
		"{%s,\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\"},\"podSelector\":{}}]}],\"policyTypes\":[\"Ingress\"]}",
		sel);
	bad_policy(
		spec,
		"spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
		true, false, false);
	snprintf(spec, sizeof(spec),
		 "{%s,\"ingress\":[{\"ports\":[{\"port\":70000}]}],\"policyTypes\":[\"Ingress\"]}",
		 sel);
	bad_policy(spec, "spec.ingress[0].ports[0].port: must be between 1 and 65535, inclusive",
		   true, false, false);
	/* a bad policyTypes isolates both directions */
	snprintf(spec, sizeof(spec), "{%s,\"policyTypes\":[\"Both\"]}", sel);
	bad_policy(
		spec,
		"spec.policyTypes[0]: Unsupported value: supported values: \"Ingress\", \"Egress\"",
		true, true, false);
	/* a bad podSelector selects every pod of the namespace */
	bad_policy(
		"{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\"}]},\"policyTypes\":[\"Egress\"]}",
		"spec.podSelector.matchExpressions[0].operator: unsupported value \"Gt\"", false,
		true, true);
	bad_policy("[]", "spec: must be an object, not array", true, true, true);

	/* without a name there is nothing to report or enforce */
	char ns[254];
	struct np_policy *p = NULL;
	struct errmsg err = {};
	_cleanup_json_ cJSON *j = json_of("{\"metadata\":{\"namespace\":\"x\"},\"spec\":{}}");
	assert_int_equal(np_policy_parse(j, ns, &p, &err), -EINVAL);
	assert_null(p);
	assert_string_equal(err.text, "metadata.name: missing or invalid");
}

static void test_pod_recorded(void **state)
{
	_cleanup_(np_model_freep) struct np_model *m = NULL;
	struct np_pod_in in;
	struct errmsg err = {};
	char a[IP_ADDR_STRLEN];
	cJSON *j;

	assert_int_equal(np_model_new(&m), 0);

	/* 147: a running pod with labels, an address and named ports */
	j = wire_json("147-get-pod-web-1-running.http");
	assert_int_equal(np_pod_parse(m, j, &in, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(in.ns, "x");
	assert_string_equal(in.name, "web-1");
	assert_string_equal(in.node, "node-a");
	assert_string_equal(np_labels_get(in.labels, "app"), "web");
	assert_true(in.flags & NP_POD_HAS_IP4);
	assert_false(in.flags & NP_POD_HOST_NETWORK);
	assert_string_equal(inet_ntop(AF_INET, &in.ip4, a, sizeof(a)), "10.244.1.5");
	/* 53/UDP dns-udp and 53/TCP dns-tcp: the same number, two names */
	bool udp = false, tcp = false;
	for (size_t i = 0; i < in.ports->n; i++) {
		udp |= strcmp(in.ports->p[i].name, "dns-udp") == 0 &&
		       in.ports->p[i].proto == NP_PROTO_UDP && in.ports->p[i].port == 53;
		tcp |= strcmp(in.ports->p[i].name, "dns-tcp") == 0 &&
		       in.ports->p[i].proto == NP_PROTO_TCP && in.ports->p[i].port == 53;
	}
	assert_true(udp && tcp);
	assert_int_equal(np_model_pod_set(m, &in), 1);

	/* the same object again changes nothing; shared label sets are interned */
	j = wire_json("147-get-pod-web-1-running.http");
	assert_int_equal(np_pod_parse(m, j, &in, &err), 0);
	cJSON_Delete(j);
	assert_ptr_equal(in.labels, np_model_pod_get(m, "x", "web-1")->labels);
	assert_int_equal(np_model_pod_set(m, &in), 0);

	/* 145: dual-stack podIPs (objects, IPv4 first) */
	j = wire_json("145-patch-pod-status-client-dualstack.http");
	assert_int_equal(np_pod_parse(m, j, &in, &err), 0);
	cJSON_Delete(j);
	assert_true((in.flags & (NP_POD_HAS_IP4 | NP_POD_HAS_IP6)) ==
		    (NP_POD_HAS_IP4 | NP_POD_HAS_IP6));
	np_pod_in_done(m, &in);

	/* 169: hostNetwork, recognised by spec.hostNetwork */
	j = wire_json("169-patch-pod-status-hostnetwork.http");
	assert_int_equal(np_pod_parse(m, j, &in, &err), 0);
	cJSON_Delete(j);
	assert_true(in.flags & NP_POD_HOST_NETWORK);
	np_pod_in_done(m, &in);

	/* 140: a pod without a kubelet has no address yet */
	j = wire_json("140-create-pod-x-web-1.http");
	assert_int_equal(np_pod_parse(m, j, &in, &err), 0);
	cJSON_Delete(j);
	assert_int_equal(in.flags & (NP_POD_HAS_IP4 | NP_POD_HAS_IP6), 0);
	np_pod_in_done(m, &in);

	/* bad input names the field */
	j = json_of(
		"{\"metadata\":{\"namespace\":\"x\",\"name\":\"p\"},\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.300\"}]}}");
	assert_int_equal(np_pod_parse(m, j, &in, &err), -EINVAL);
	cJSON_Delete(j);
	assert_string_equal(err.text, "status.podIPs[0].ip: not an IP address");
	j = json_of("{\"metadata\":{\"namespace\":\"x\",\"name\":\"p\",\"labels\":{\"a\":[]}}}");
	assert_int_equal(np_pod_parse(m, j, &in, &err), -EINVAL);
	cJSON_Delete(j);
	assert_non_null(strstr(err.text, "metadata.labels.a:"));
}

static void test_namespace_recorded(void **state)
{
	_cleanup_(np_model_freep) struct np_model *m = NULL;
	const struct np_labels *l;
	struct errmsg err = {};
	char name[254];

	assert_int_equal(np_model_new(&m), 0);
	cJSON *j = wire_json("101-create-namespace-y-labelled.http");
	assert_int_equal(np_ns_parse(m, j, name, &l, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(name, "y");
	assert_string_equal(np_labels_get(l, "team"), "blue");
	assert_string_equal(np_labels_get(l, "kubernetes.io/metadata.name"), "y");
	assert_int_equal(np_model_ns_set(m, name, l), 1);
	assert_non_null(np_model_ns_get(m, "y"));
	assert_int_equal(np_model_ns_del(m, "y"), 1);
	assert_null(np_model_ns_get(m, "y"));
	assert_int_equal(np_model_bytes(m) > 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_match),	   cmocka_unit_test(test_selector_canon),
		cmocka_unit_test(test_selector_errors),	   cmocka_unit_test(test_policy_recorded),
		cmocka_unit_test(test_policy_bad),	   cmocka_unit_test(test_pod_recorded),
		cmocka_unit_test(test_namespace_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
