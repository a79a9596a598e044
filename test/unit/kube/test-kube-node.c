/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node parsing, node -> lease, the annotation prefix table, and the pure
 * patch planner, fed with the recorded kube-apiserver bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "kube-wire.h"
#include "kube/annotations.h"
#include "kube/node.h"
#include "kube/patch.h"
#include "lib/core/buf.h"
#include "lib/json/json.h"

static struct kube_annotation_keys keys;

static int setup(void **state)
{
	return kube_annotation_keys_init(&keys, NULL, NULL);
}

static void test_prefix_table(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"flannel.alpha.coreos.com", "flannel.alpha.coreos.com/"},
		{"example.com/foo", "example.com/foo-"},
		{"example.com/foo-", "example.com/foo-"},
		{"example.com/", "example.com/"},
		{"a_b.c-d/x_y", "a_b.c-d/x_y-"},
	};
	static const char *const bad[] = {
		"org",		"Example.com",	   "example.com/a/b", "example..com",
		".example.com", "example.com/Foo", "example.com/a.b", "",
		"/foo",
	};
	char buf[KUBE_ANNOTATION_KEY_MAX];
	struct errmsg err = {};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(kube_annotation_prefix_normalize(ok[i].in, buf, sizeof(buf), &err),
				 0);
		assert_string_equal(buf, ok[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(kube_annotation_prefix_normalize(bad[i], buf, sizeof(buf), &err),
				 -EINVAL);
	kube_annotation_prefix_normalize("a.b/c/d", buf, sizeof(buf), &err);
	assert_string_equal(err.text, "subnet/kube: prefix can contain at most single slash");
	kube_annotation_prefix_normalize("org", buf, sizeof(buf), &err);
	assert_string_equal(err.text, "subnet/kube: prefix must be in a format: fqdn/[0-9a-z-_]*");

	struct kube_annotation_keys k;
	assert_int_equal(kube_annotation_keys_init(&k, "example.com/foo", &err), 0);
	assert_string_equal(k.key[KUBE_ANN_BACKEND_TYPE], "example.com/foo-backend-type");
	assert_string_equal(keys.key[KUBE_ANN_SUBNET_MANAGER],
			    "flannel.alpha.coreos.com/kube-subnet-manager");
	assert_string_equal(keys.key[KUBE_ANN_PUBLIC_IPV6_OVERWRITE],
			    "flannel.alpha.coreos.com/public-ipv6-overwrite");
}

static struct kube_lease_params params4(void)
{
	struct kube_lease_params p = {.keys = &keys, .enable_ipv4 = true, .has_network = true};
	assert_int_equal(ip_net_parse("10.244.0.0/16", &p.network), 0);
	return p;
}

/* The node as patched by flannel in recording 50: a complete peer. */
static void test_recorded_node_to_lease(void **state)
{
	struct kube_lease_params p = params4();
	struct kube_node n = {};
	struct errmsg err = {};
	struct lease l;
	char b[IP_NET_STRLEN];
	size_t len;
	_cleanup_free_ char *body = wire_response_body("50-flannel-patch-status-smp.http", &len);

	assert_int_equal(kube_node_parse(body, len, &keys, &n, &err), 0);
	assert_string_equal(n.name, "node-a");
	assert_string_equal(n.resource_version, "240");
	assert_int_equal(n.n_pod_cidrs, 1);
	assert_true(n.flannel_is_up);
	assert_string_equal(ip_addr_fmt(&n.internal_ip4, b), "192.0.2.11");
	assert_string_equal(n.ann[KUBE_ANN_BACKEND_TYPE], "vxlan");
	assert_null(n.ann[KUBE_ANN_PUBLIC_IPV6]);

	assert_int_equal(kube_node_to_lease(&n, &p, &l, &err), 0);
	assert_string_equal(l.name, "node-a");
	assert_true(l.has_subnet);
	assert_false(l.has_subnet6);
	assert_string_equal(ip_net_fmt(&l.subnet, b), "10.244.1.0/24");
	assert_string_equal(ip_addr_fmt(&l.public_ip, b), "192.0.2.11");
	assert_int_equal(l.attrs.vni, 1);
	assert_true(l.attrs.has_vtep_mac);
	assert_int_equal(l.attrs.vtep_mac[0], 0x8a);
	assert_string_equal(l.attrs.backend_type, "vxlan");

	/* Outside Network: upstream's message. */
	assert_int_equal(ip_net_parse("10.245.0.0/16", &p.network), 0);
	assert_int_equal(kube_node_to_lease(&n, &p, &l, &err), -EINVAL);
	assert_string_equal(err.text,
			    "subnet \"10.245.0.0/16\" specified in the flannel net config "
			    "doesn't contain \"10.244.1.0/24\" PodCIDR of the \"node-a\" node");
	kube_node_done(&n);
}

/* A node nobody annotated (recording 24): not a peer, silently. */
static void test_unannotated_node(void **state)
{
	struct kube_lease_params p = params4();
	struct kube_node n = {};
	struct lease l;
	size_t len;
	_cleanup_free_ char *body = wire_response_body("24-get-node-a.http", &len);

	assert_int_equal(kube_node_parse(body, len, &keys, &n, NULL), 0);
	assert_false(n.flannel_is_up);
	assert_int_equal(kube_node_to_lease(&n, &p, &l, NULL), -ENOENT);
	/* but its subnets are fine for an own lease */
	assert_int_equal(kube_node_subnets(&n, &p, &l, NULL), 0);
	kube_node_done(&n);
}

static int lease_of(const char *json, struct kube_lease_params *p, struct lease *l,
		    struct errmsg *err)
{
	struct kube_node n = {};
	int r = kube_node_parse(json, strlen(json), &keys, &n, err);
	if (r >= 0)
		r = kube_node_to_lease(&n, p, l, err);
	kube_node_done(&n);
	return r;
}

#define ANN(k, v) "\"flannel.alpha.coreos.com/" k "\":\"" v "\""
#define PEER(extra_ann, spec)                                                                     \
	"{\"metadata\":{\"name\":\"n1\",\"annotations\":{" ANN(                                   \
		"kube-subnet-manager", "true") "," ANN("backend-type",                            \
						       "vxlan") "," ANN("public-ip", "192.0.2.1") \
		extra_ann "}},\"spec\":" spec "}"
#define DATA4 "," ANN("backend-data", "{\\\"VNI\\\":7,\\\"VtepMAC\\\":\\\"02:00:00:00:00:01\\\"}")

static void test_bad_nodes(void **state)
{
	struct kube_lease_params p = params4();
	struct errmsg err = {};
	struct lease l;

	assert_int_equal(lease_of(PEER(DATA4, "{\"podCIDR\":\"10.244.5.0/24\"}"), &p, &l, &err), 0);
	assert_int_equal(l.attrs.vni, 7);

	/* missing backend data */
	assert_int_equal(lease_of(PEER("", "{\"podCIDR\":\"10.244.5.0/24\"}"), &p, &l, &err),
			 -EINVAL);
	assert_non_null(strstr(err.text, "flannel.alpha.coreos.com/backend-data: missing"));
	/* bad CIDR, reported with the field */
	assert_int_equal(lease_of(PEER(DATA4, "{\"podCIDR\":\"10.244.5.0/33\"}"), &p, &l, &err),
			 -EINVAL);
	assert_string_equal(err.text, "spec.podCIDR: invalid CIDR \"10.244.5.0/33\"");
	/* no CIDR */
	assert_int_equal(lease_of(PEER(DATA4, "{}"), &p, &l, &err), -ENODATA);
	assert_string_equal(err.text, "node \"n1\" pod cidr not assigned");
	/* three CIDRs */
	assert_int_equal(lease_of(PEER(DATA4, "{\"podCIDRs\":[\"10.244.5.0/24\",\"2001:db8::/64\","
					      "\"10.244.6.0/24\"]}"),
				  &p, &l, &err),
			 -EINVAL);
	assert_non_null(strstr(err.text, "should be IPv4/IPv6 only or dualstack"));
	/* only IPv6 while IPv4 is enabled */
	assert_int_equal(lease_of(PEER(DATA4, "{\"podCIDRs\":[\"2001:db8::/64\"]}"), &p, &l, &err),
			 -EINVAL);
	assert_string_equal(err.text, "missing IPv4 address on n.Spec.PodCIDRs");
	/* bad public IP */
	assert_int_equal(
		lease_of("{\"metadata\":{\"name\":\"n1\",\"annotations\":{" ANN(
				 "kube-subnet-manager", "true") "," ANN("public-ip", "2001:db8::1")
				 DATA4 "}},\"spec\":{\"podCIDR\":\"10.244.5.0/24\"}}",
			 &p, &l, &err),
		-EINVAL);
	assert_non_null(strstr(err.text, "public-ip: invalid IP address format"));
	/* wrong types */
	assert_int_equal(lease_of("{\"metadata\":{\"name\":7}}", &p, &l, &err), -EINVAL);
	assert_string_equal(err.text, "metadata.name: expected a string, got number");
	assert_int_equal(
		lease_of("{\"metadata\":{\"name\":\"x\",\"annotations\":[]}}", &p, &l, &err),
		-EINVAL);
	assert_non_null(strstr(err.text, "node \"x\": metadata.annotations"));
	assert_int_equal(lease_of("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"podCIDRs\":{}}}", &p,
				  &l, &err),
			 -EINVAL);
	assert_int_equal(lease_of("[1]", &p, &l, &err), -EINVAL);
	assert_int_equal(lease_of("{\"metadata\":", &p, &l, &err), -EBADMSG);
	/* not "true": not a peer */
	assert_int_equal(lease_of("{\"metadata\":{\"name\":\"x\",\"annotations\":{" ANN(
					  "kube-subnet-manager", "false") "}}}",
				  &p, &l, &err),
			 -ENOENT);
}

/* extension: backend-data is kept as published (a JSON string or null), borrowed from the node. */
static void test_extension_data(void **state)
{
	static const char *const good[] = {"\\\"k=1 x\\\"", "null"};
	struct kube_lease_params p = params4();
	struct errmsg err = {};
	struct lease l;
	char json[1024];

	for (size_t k = 0; k < 2; k++) {
		struct kube_node n = {};
		snprintf(
			json, sizeof(json),
			"{\"metadata\":{\"name\":\"n1\",\"annotations\":{" ANN(
				"kube-subnet-manager",
				"true") "," ANN("backend-type",
						"extension") "," ANN("public-ip",
								     "192.0.2.1") "," ANN("backend-data",
											  "%s") "}},\"spec\":{\"podCIDR\":\"10.244.5.0/24\"}}",
			good[k]);
		assert_int_equal(kube_node_parse(json, strlen(json), &keys, &n, &err), 0);
		assert_int_equal(kube_node_to_lease(&n, &p, &l, &err), 0);
		assert_string_equal(l.attrs.ext_data, k == 0 ? "\"k=1 x\"" : "null");
		assert_string_equal(l.attrs.backend_type, "extension");
		kube_node_done(&n);
	}
	/* an object (another backend's data) is refused, naming the annotation */
	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"n1\",\"annotations\":{" ANN(
			 "kube-subnet-manager",
			 "true") "," ANN("backend-type", "extension") "," ANN("public-ip",
									      "192.0.2.1") DATA4
		 "}},\"spec\":{\"podCIDR\":\"10.244.5.0/24\"}}");
	assert_int_equal(lease_of(json, &p, &l, &err), -EINVAL);
	assert_string_equal(err.text, "annotation flannel.alpha.coreos.com/backend-data: expected "
				      "a string or null, got object");

	/* Published: the data as it is, of any length; v6 data null. */
	_cleanup_free_ char *big = malloc(4096);
	struct lease_attrs a = {.backend_type = "extension"};
	struct kube_desired d;
	struct ip_addr ip, ip6;
	assert_non_null(big);
	big[0] = '"';
	memset(big + 1, 'x', 4000);
	strcpy(big + 4001, "\"");
	a.ext_data = big;
	assert_int_equal(ip_addr_parse("192.0.2.1", &ip), 0);
	assert_int_equal(ip_addr_parse("2001:db8::1", &ip6), 0);
	assert_int_equal(kube_desired_from_attrs(&a, &ip, &ip6, NULL, &d), 0);
	assert_true(d.v4 && d.v6);
	assert_ptr_equal(d.ext_data, big);
	assert_string_equal(d.backend_v6_data, "null");
	/* without a PreStartupCommand: null */
	a.ext_data = NULL;
	assert_int_equal(kube_desired_from_attrs(&a, &ip, NULL, NULL, &d), 0);
	assert_null(d.ext_data);
	assert_string_equal(d.backend_data, "null");
	(void)state;
}

static void test_dual_stack(void **state)
{
	struct kube_lease_params p = params4();
	struct errmsg err = {};
	struct lease l;
	char b[IP_NET_STRLEN];

	p.enable_ipv6 = p.has_ipv6_network = true;
	assert_int_equal(ip_net_parse("2001:db8::/56", &p.ipv6_network), 0);
	assert_int_equal(
		lease_of(PEER(DATA4 "," ANN("public-ipv6", "2001:db8:1::1") "," ANN(
				      "backend-v6-data",
				      "{\\\"VNI\\\":7,\\\"VtepMAC\\\":\\\"02:00:00:00:00:02\\\"}"),
			      "{\"podCIDRs\":[\"10.244.5.0/24\",\"2001:db8:0:5::/64\"]}"),
			 &p, &l, &err),
		0);
	assert_true(l.has_subnet6);
	assert_string_equal(ip_net_fmt(&l.subnet6, b), "2001:db8:0:5::/64");
	assert_true(l.attrs.has_vtep_mac6);
	assert_int_equal(l.attrs.vtep_mac6[5], 2);
	/* v6 CIDR outside the v6 network */
	assert_int_equal(lease_of(PEER(DATA4 "," ANN("public-ipv6", "2001:db8:1::1"),
				       "{\"podCIDRs\":[\"10.244.5.0/24\",\"2001:db9::/64\"]}"),
				  &p, &l, &err),
			 -EINVAL);
	assert_non_null(strstr(err.text, "IPv6 PodCIDR of the \"n1\" node"));
}

static void test_oversized(void **state)
{
	struct kube_node n = {};
	struct errmsg err = {};
	_cleanup_buf_ struct buf b = BUF_INIT;

	/* an annotation value above the cap */
	assert_int_equal(buf_puts(&b, "{\"metadata\":{\"name\":\"big\",\"annotations\":{"
				      "\"flannel.alpha.coreos.com/backend-data\":\""),
			 0);
	for (int i = 0; i < KUBE_ANNOTATION_VALUE_MAX + 1; i++)
		assert_int_equal(buf_puts(&b, "x"), 0);
	assert_int_equal(buf_puts(&b, "\"}}}"), 0);
	assert_int_equal(kube_node_parse(b.data, b.len, &keys, &n, &err), -EMSGSIZE);
	assert_non_null(strstr(err.text, "node \"big\""));

	/* a whole object above the cap */
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "{\"metadata\":{\"name\":\"big\"},\"x\":\""), 0);
	while (b.len <= KUBE_OBJECT_MAX_SIZE)
		assert_int_equal(buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
				 0);
	assert_int_equal(buf_puts(&b, "\"}"), 0);
	assert_int_equal(kube_node_parse(b.data, b.len, &keys, &n, &err), -EMSGSIZE);

	/* a name longer than a DNS subdomain */
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "{\"metadata\":{\"name\":\""), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(buf_puts(&b, "a"), 0);
	assert_int_equal(buf_puts(&b, "\"}}"), 0);
	assert_int_equal(kube_node_parse(b.data, b.len, &keys, &n, &err), -EINVAL);
	assert_non_null(strstr(err.text, "metadata.name: too long"));
}

static void test_pod_node_name(void **state)
{
	char name[64];
	struct errmsg err = {};
	const char *pod = "{\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"node-a\"}}";

	assert_int_equal(kube_pod_node_name(pod, strlen(pod), name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-a");
	pod = "{\"kind\":\"Pod\",\"spec\":{}}";
	assert_int_equal(kube_pod_node_name(pod, strlen(pod), name, sizeof(name), &err), -ENOENT);
}

/* The PATCH body equals, byte for byte, the one recorded in 50 (with its timestamp). */
static void test_patch_body_golden(void **state)
{
	struct lease_attrs a = {.backend_type = "vxlan", .vni = 1, .has_vtep_mac = true};
	struct kube_desired d;
	struct kube_node cur = {};
	struct ip_addr ip;
	_cleanup_buf_ struct buf out = BUF_INIT;
	size_t len;
	_cleanup_free_ char *rec = wire_read("50-flannel-patch-status-smp.http", &len);
	char *req = strstr(rec, "\n\n{");
	char *end;
	struct tm tm = {
		.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 28, .tm_hour = 22, .tm_min = 40};

	assert_non_null(req);
	req += 2;
	end = strchr(req, '\n');
	*end = '\0';

	assert_int_equal(mac_parse("8a:2c:1e:4f:90:1b", a.vtep_mac), 0);
	assert_int_equal(ip_addr_parse("192.0.2.11", &ip), 0);
	strcpy(cur.name, "node-a");
	assert_int_equal(kube_desired_from_attrs(&a, &ip, NULL, &cur, &d), 0);
	assert_int_equal(
		kube_patch_body(&cur, &keys, &d, true, (uint64_t)timegm(&tm) * 1000000, &out), 1);
	assert_string_equal(out.data, req);

	/* Once the node has it all: nothing to patch. */
	size_t blen;
	_cleanup_free_ char *body = wire_response_body("50-flannel-patch-status-smp.http", &blen);
	struct kube_node after = {};
	assert_int_equal(kube_node_parse(body, blen, &keys, &after, NULL), 0);
	buf_reset(&out);
	assert_int_equal(kube_patch_body(&after, &keys, &d, true, 0, &out), 0);
	/* Only the changed key when one differs; no condition when disabled. */
	a.vtep_mac[5] = 0x1c;
	assert_int_equal(kube_desired_from_attrs(&a, &ip, NULL, &after, &d), 0);
	assert_int_equal(kube_patch_body(&after, &keys, &d, false, 0, &out), 1);
	assert_string_equal(
		out.data,
		"{\"metadata\":{\"annotations\":{\"flannel.alpha.coreos.com/backend-data\":"
		"\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"8a:2c:1e:4f:90:1c\\\"}\"}}}");
	/* public-ip-overwrite wins over the detected address */
	after.ann[KUBE_ANN_PUBLIC_IP_OVERWRITE] = strdup("198.51.100.7");
	assert_int_equal(kube_desired_from_attrs(&a, &ip, NULL, &after, &d), 0);
	assert_string_equal(d.public_ip, "198.51.100.7");
	/* host-gw writes null data; nothing at all is an error */
	struct lease_attrs hg = {.backend_type = "host-gw"};
	assert_int_equal(kube_desired_from_attrs(&hg, &ip, NULL, NULL, &d), 0);
	assert_string_equal(d.backend_data, "null");
	assert_int_equal(kube_desired_from_attrs(&hg, NULL, NULL, NULL, &d), -EINVAL);
	kube_node_done(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_table),
		cmocka_unit_test(test_recorded_node_to_lease),
		cmocka_unit_test(test_unannotated_node),
		cmocka_unit_test(test_bad_nodes),
		cmocka_unit_test(test_extension_data),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_pod_node_name),
		cmocka_unit_test(test_patch_body_golden),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
