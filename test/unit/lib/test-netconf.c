/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net-conf.json parsing and upstream's CheckNetworkConfig: every field,
 * default, type error and check error, including the examples of upstream's
 * config_test.go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json/netconf.h"

static int parse(const char *s, struct netconf *c, struct errmsg *err)
{
	*err = (struct errmsg){0};
	return netconf_parse(s, strlen(s), c, err);
}

static void expect_parse_error(const char *json, const char *msg)
{
	struct netconf c = {0};
	struct errmsg err;

	assert_int_equal(parse(json, &c, &err) < 0, 1);
	assert_string_equal(err.text, msg);
	assert_null(c.backend_json);
}

static void expect_check_error(const char *json, const char *msg)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse(json, &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), -EINVAL);
	assert_string_equal(err.text, msg);
	netconf_done(&c);
}

static const char *fmt_net(const struct ip_net *n)
{
	static char buf[IP_NET_STRLEN];
	return ip_net_fmt(n, buf);
}

static const char *fmt_addr(const struct ip_addr *a)
{
	static char buf[IP_ADDR_STRLEN];
	return ip_addr_fmt(a, buf);
}

static void test_defaults(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"Network\":\"10.244.0.0/16\"}", &c, &err), 0);
	assert_true(c.enable_ipv4);
	assert_false(c.enable_ipv6);
	assert_false(c.enable_nftables);
	assert_true(c.has_network);
	assert_string_equal(fmt_net(&c.network), "10.244.0.0/16");
	assert_false(c.has_ipv6_network);
	assert_int_equal(c.subnet_len, 0);
	assert_int_equal(c.subnet_min.family, 0);
	assert_int_equal(c.subnet_max.family, 0);
	assert_int_equal(c.ipv6_subnet_len, 0);
	assert_int_equal(c.ipv6_subnet_min.family, 0);
	assert_int_equal(c.ipv6_subnet_max.family, 0);
	/* Upstream: no Backend at all means udp. */
	assert_string_equal(c.backend_type, "udp");
	assert_string_equal(c.backend_json, "{}");
	netconf_done(&c);
	assert_null(c.backend_json);
}

static void test_manifest_config(void **state)
{
	static const char json[] =
		"{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableNFTables\": false,\n"
		"  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n";
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse(json, &c, &err), 0);
	assert_string_equal(c.backend_type, "vxlan");
	assert_string_equal(c.backend_json, "{\"Type\":\"vxlan\"}");
	assert_false(c.enable_nftables);
	netconf_done(&c);
}

static void test_all_fields(void **state)
{
	static const char json[] =
		"{\"EnableIPv4\":true,\"EnableIPv6\":true,\"EnableNFTables\":true,"
		"\"Network\":\"10.5.0.0/16\",\"IPv6Network\":\"2001:db8:42::/56\","
		"\"SubnetLen\":26,\"SubnetMin\":\"10.5.1.0\",\"SubnetMax\":\"10.5.200.0\","
		"\"IPv6SubnetLen\":64,\"IPv6SubnetMin\":\"2001:db8:42:1::\","
		"\"IPv6SubnetMax\":\"2001:db8:42:f0::\",\"UnknownKey\":[1,2,3],"
		"\"Backend\":{\"Type\":\"VXLAN\",\"VNI\":4096,\"Port\":4789,\"DirectRouting\":true}}";
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse(json, &c, &err), 0);
	assert_true(c.enable_ipv4);
	assert_true(c.enable_ipv6);
	assert_true(c.enable_nftables);
	assert_string_equal(fmt_net(&c.network), "10.5.0.0/16");
	assert_true(c.has_ipv6_network);
	assert_string_equal(fmt_net(&c.ipv6_network), "2001:db8:42::/56");
	assert_int_equal(c.subnet_len, 26);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.5.1.0");
	assert_string_equal(fmt_addr(&c.subnet_max), "10.5.200.0");
	assert_int_equal(c.ipv6_subnet_len, 64);
	assert_string_equal(fmt_addr(&c.ipv6_subnet_min), "2001:db8:42:1::");
	assert_string_equal(fmt_addr(&c.ipv6_subnet_max), "2001:db8:42:f0::");
	/* Type is lower-cased; the raw object is kept for the backend's parser. */
	assert_string_equal(c.backend_type, "vxlan");
	assert_string_equal(
		c.backend_json,
		"{\"Type\":\"VXLAN\",\"VNI\":4096,\"Port\":4789,\"DirectRouting\":true}");
	assert_int_equal(netconf_check(&c, &err), 0);
	/* Explicit values are kept by the check. */
	assert_int_equal(c.subnet_len, 26);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.5.1.0");
	assert_string_equal(fmt_addr(&c.ipv6_subnet_max), "2001:db8:42:f0::");
	netconf_done(&c);
}

static void test_case_insensitive_keys(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"network\":\"10.3.0.0/16\",\"ENABLEIPV6\":true,"
			       "\"ipv6network\":\"2001:db8::/48\",\"enableipv4\":false,"
			       "\"enablenftables\":true,\"subnetlen\":20,\"ipv6SUBNETlen\":60,"
			       "\"backend\":{\"type\":\"Host-GW\"}}",
			       &c, &err),
			 0);
	assert_true(c.has_network);
	assert_string_equal(fmt_net(&c.network), "10.3.0.0/16");
	assert_false(c.enable_ipv4);
	assert_true(c.enable_ipv6);
	assert_true(c.enable_nftables);
	assert_string_equal(fmt_net(&c.ipv6_network), "2001:db8::/48");
	assert_int_equal(c.subnet_len, 20);
	assert_int_equal(c.ipv6_subnet_len, 60);
	assert_string_equal(c.backend_type, "host-gw");
	netconf_done(&c);
}

static void test_duplicate_keys_last_wins(void **state)
{
	struct netconf c;
	struct errmsg err;

	/* encoding/json applies every matching key in order. */
	assert_int_equal(parse("{\"SubnetLen\":24,\"subnetlen\":28,\"Network\":\"10.1.0.0/16\","
			       "\"NETWORK\":\"10.2.0.0/16\"}",
			       &c, &err),
			 0);
	assert_int_equal(c.subnet_len, 28);
	assert_string_equal(fmt_net(&c.network), "10.2.0.0/16");
	netconf_done(&c);
}

static void test_network_masked(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"Network\":\"10.244.1.5/16\",\"EnableIPv6\":true,"
			       "\"IPv6Network\":\"2001:db8:1:2::5/48\"}",
			       &c, &err),
			 0);
	assert_string_equal(fmt_net(&c.network), "10.244.0.0/16");
	assert_string_equal(fmt_net(&c.ipv6_network), "2001:db8:1::/48");
	netconf_done(&c);
}

static void test_null_values_are_defaults(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"Network\":\"10.1.0.0/16\",\"EnableIPv4\":null,"
			       "\"SubnetLen\":null,\"SubnetMin\":null,\"IPv6Network\":null}",
			       &c, &err),
			 0);
	assert_true(c.enable_ipv4);
	assert_int_equal(c.subnet_len, 0);
	assert_int_equal(c.subnet_min.family, 0);
	assert_false(c.has_ipv6_network);
	netconf_done(&c);
}

static void test_parse_errors(void **state)
{
	expect_parse_error("{\"Network\":\"10.244.0.0/33\"}",
			   "Network: invalid CIDR \"10.244.0.0/33\"");
	expect_parse_error("{\"Network\":\"\"}", "Network: invalid CIDR \"\"");
	expect_parse_error("{\"Network\":\"10.244.0.0\"}", "Network: invalid CIDR \"10.244.0.0\"");
	expect_parse_error("{\"Network\":\"2001:db8::/32\"}",
			   "Network: invalid IPv4 CIDR format \"2001:db8::/32\"");
	expect_parse_error("{\"Network\":16}", "Network: expected a string, got number");
	expect_parse_error("{\"IPv6Network\":\"10.0.0.0/8\"}",
			   "IPv6Network: invalid IPv6 CIDR format \"10.0.0.0/8\"");
	expect_parse_error("{\"IPv6Network\":\"2001:db8::/129\"}",
			   "IPv6Network: invalid CIDR \"2001:db8::/129\"");
	expect_parse_error("{\"EnableIPv6\":\"true\"}",
			   "EnableIPv6: expected a boolean, got string");
	expect_parse_error("{\"EnableIPv4\":1}", "EnableIPv4: expected a boolean, got number");
	expect_parse_error("{\"EnableNFTables\":[]}",
			   "EnableNFTables: expected a boolean, got array");
	expect_parse_error("{\"SubnetLen\":\"24\"}", "SubnetLen: expected a number, got string");
	expect_parse_error("{\"SubnetLen\":-1}",
			   "SubnetLen: invalid value -1, expected an unsigned 32-bit integer");
	expect_parse_error("{\"SubnetLen\":24.5}",
			   "SubnetLen: invalid value 24.5, expected an unsigned 32-bit integer");
	expect_parse_error("{\"IPv6SubnetLen\":true}",
			   "IPv6SubnetLen: expected a number, got bool");
	expect_parse_error("{\"SubnetMin\":\"10.1.2\"}",
			   "SubnetMin: invalid IP address format \"10.1.2\"");
	expect_parse_error("{\"SubnetMax\":\"2001:db8::\"}",
			   "SubnetMax: invalid IPv4 address format \"2001:db8::\"");
	expect_parse_error("{\"IPv6SubnetMin\":\"10.0.0.0\"}",
			   "IPv6SubnetMin: invalid IPv6 address format \"10.0.0.0\"");
	expect_parse_error("{\"IPv6SubnetMax\":\"zz::\"}",
			   "IPv6SubnetMax: invalid IP address format \"zz::\"");
	expect_parse_error("{\"EnableIPv4\":false}",
			   "EnableIPv4 and EnableIPv6 are both false: no IP family enabled");
	/* Control characters in values are escaped, the message stays one line. */
	expect_parse_error("{\"Network\":\"a\\nb\"}", "Network: invalid CIDR \"a\\nb\"");
}

static void test_backend_errors(void **state)
{
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":{}}",
			   "Backend: unknown backend type \"\"");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"VNI\":1}}",
			   "Backend: unknown backend type \"\"");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":null}",
			   "Backend: unknown backend type \"\"");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"Type\":\"\"}}",
			   "Backend: unknown backend type \"\"");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":\"vxlan\"}",
			   "Backend: expected an object, got string");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"Type\":1}}",
			   "Backend.Type: expected a string, got number");
	expect_parse_error("{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"Type\":"
			   "\"a-very-long-backend-type-name-xyz\"}}",
			   "Backend: unknown backend type \"a-very-long-backend-type-name-xyz\"");
}

static void test_document_errors(void **state)
{
	char big[NETCONF_MAX_SIZE + 16];
	struct netconf c;
	struct errmsg err;

	expect_parse_error("", "invalid JSON");
	expect_parse_error("{\"Network\":", "invalid JSON");
	expect_parse_error("{} x", "invalid JSON");
	expect_parse_error("[]", "expected a JSON object, got array");
	expect_parse_error("\"x\"", "expected a JSON object, got string");
	expect_parse_error(
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		"nested deeper than 32 levels");

	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	assert_int_equal(netconf_parse(big, sizeof(big), &c, &err), -EMSGSIZE);
	assert_string_equal(err.text, "larger than 65536 bytes");
	/* Up to the cap is fine. */
	assert_int_equal(netconf_parse(big + 16, NETCONF_MAX_SIZE, &c, &err) < 0, 1);
	big[16] = '{';
	assert_int_equal(netconf_parse(big + 16, NETCONF_MAX_SIZE, &c, &err), 0);
	netconf_done(&c);
}

/* Upstream config_test.go TestConfigDefaults and TestIPv6ConfigDefaults. */
static void test_check_upstream_examples(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"network\":\"10.3.0.0/16\"}", &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.subnet_len, 24);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.3.1.0");
	assert_string_equal(fmt_addr(&c.subnet_max), "10.3.255.0");
	assert_int_equal(c.ipv6_subnet_len, 0);
	netconf_done(&c);

	assert_int_equal(parse("{\"enableIPv6\":true,\"ipv6Network\":\"fc00::/48\","
			       "\"enableIPv4\":false}",
			       &c, &err),
			 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.ipv6_subnet_len, 64);
	assert_string_equal(fmt_addr(&c.ipv6_subnet_min), "fc00:0:0:1::");
	assert_string_equal(fmt_addr(&c.ipv6_subnet_max), "fc00:0:0:ffff::");
	/* IPv4 is disabled: its fields stay untouched. */
	assert_int_equal(c.subnet_len, 0);
	assert_int_equal(c.subnet_min.family, 0);
	netconf_done(&c);

	/* TestConfigOverrides */
	assert_int_equal(parse("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.5.0\","
			       "\"SubnetMax\":\"10.3.8.0\",\"SubnetLen\":28}",
			       &c, &err),
			 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.subnet_len, 28);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.3.5.0");
	assert_string_equal(fmt_addr(&c.subnet_max), "10.3.8.0");
	netconf_done(&c);
}

static void expect_defaults4(const char *network, unsigned len, const char *min, const char *max)
{
	char json[128];
	struct netconf c;
	struct errmsg err;

	snprintf(json, sizeof(json), "{\"Network\":\"%s\"}", network);
	assert_int_equal(parse(json, &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.subnet_len, len);
	assert_string_equal(fmt_addr(&c.subnet_min), min);
	assert_string_equal(fmt_addr(&c.subnet_max), max);
	netconf_done(&c);
}

static void expect_defaults6(const char *network, unsigned len, const char *min, const char *max)
{
	char json[160];
	struct netconf c;
	struct errmsg err;

	snprintf(json, sizeof(json),
		 "{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"%s\"}", network);
	assert_int_equal(parse(json, &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.ipv6_subnet_len, len);
	assert_string_equal(fmt_addr(&c.ipv6_subnet_min), min);
	assert_string_equal(fmt_addr(&c.ipv6_subnet_max), max);
	netconf_done(&c);
}

static void test_check_default_lengths(void **state)
{
	expect_defaults4("10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0");
	expect_defaults4("10.1.0.0/22", 24, "10.1.1.0", "10.1.3.0");
	expect_defaults4("10.1.0.0/23", 25, "10.1.0.128", "10.1.1.128");
	expect_defaults4("10.1.0.0/28", 30, "10.1.0.4", "10.1.0.12");
	expect_defaults4("255.255.255.0/24", 26, "255.255.255.64", "255.255.255.192");
	expect_defaults6("2001:db8::/62", 64, "2001:db8:0:1::", "2001:db8:0:3::");
	expect_defaults6("2001:db8::/63", 65, "2001:db8:0:0:8000::", "2001:db8:0:1:8000::");
	expect_defaults6("2001:db8::/124", 126, "2001:db8::4", "2001:db8::c");
	expect_defaults6("ffff::/16", 64, "ffff:0:0:1::", "ffff:ffff:ffff:ffff::");
}

static void test_check_dual_stack(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"Network\":\"10.42.0.0/16\",\"EnableIPv6\":true,"
			       "\"IPv6Network\":\"2001:db8:10:244::/56\"}",
			       &c, &err),
			 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_int_equal(c.subnet_len, 24);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.42.1.0");
	assert_string_equal(fmt_addr(&c.subnet_max), "10.42.255.0");
	assert_int_equal(c.ipv6_subnet_len, 64);
	assert_string_equal(fmt_addr(&c.ipv6_subnet_min), "2001:db8:10:201::");
	assert_string_equal(fmt_addr(&c.ipv6_subnet_max), "2001:db8:10:2ff::");
	netconf_done(&c);
}

static void test_check_errors(void **state)
{
	expect_check_error("{}", "please define a correct Network parameter in the flannel config");
	expect_check_error("{\"Network\":\"0.0.0.0/0\"}",
			   "please define a correct Network parameter in the flannel config");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":31}",
			   "SubnetLen must be less than /31");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":17}",
			   "network must be able to accommodate at least four subnets");
	expect_check_error("{\"Network\":\"10.3.0.0/29\"}",
			   "network is too small. Minimum useful network prefix is /28");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"192.168.1.0\"}",
			   "SubnetMin is not in the range of the Network");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetMax\":\"192.168.1.0\"}",
			   "SubnetMax is not in the range of the Network");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.5.5\"}",
			   "SubnetMin is not on a SubnetLen boundary: 10.3.5.5");
	expect_check_error("{\"Network\":\"10.3.0.0/16\",\"SubnetMax\":\"10.3.5.5\"}",
			   "SubnetMax is not on a SubnetLen boundary: 10.3.5.5");
	expect_check_error("{\"EnableIPv6\":true,\"enableIPv4\":false}",
			   "please define a correct IPv6Network parameter in the flannel config");
	expect_check_error("{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"::/0\"}",
			   "please define a correct IPv6Network parameter in the flannel config");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetLen\":127}",
		"SubnetLen must be less than /127");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetLen\":49}",
		"network must be able to accommodate at least four subnets");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/125\"}",
		"IPv6Network is too small. Minimum useful network prefix is /124");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetMin\":\"fd00::\"}",
		"IPv6SubnetMin is not in the range of the IPv6Network");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetMax\":\"fd00::\"}",
		"IPv6SubnetMax is not in the range of the IPv6Network");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetMin\":\"fc00:0:0:1::1\"}",
		"IPv6SubnetMin is not on a SubnetLen boundary: fc00:0:0:1::1");
	expect_check_error(
		"{\"EnableIPv6\":true,\"enableIPv4\":false,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetMax\":\"fc00:0:0:1::1\"}",
		"IPv6SubnetMax is not on a SubnetLen boundary: fc00:0:0:1::1");
	/* IPv4 is checked first. */
	expect_check_error("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\"}",
			   "please define a correct Network parameter in the flannel config");
	/* Boundaries of the SubnetLen checks. */
	expect_check_error("{\"Network\":\"10.3.0.0/29\",\"SubnetLen\":30}",
			   "network must be able to accommodate at least four subnets");
}

static void test_check_limits_pass(void **state)
{
	struct netconf c;
	struct errmsg err;

	assert_int_equal(parse("{\"Network\":\"10.3.0.0/28\",\"SubnetLen\":30}", &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.3.0.4");
	assert_string_equal(fmt_addr(&c.subnet_max), "10.3.0.12");
	netconf_done(&c);

	/* "0.0.0.0" as SubnetMin means unset, as upstream. */
	assert_int_equal(parse("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"0.0.0.0\"}", &c, &err),
			 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	assert_string_equal(fmt_addr(&c.subnet_min), "10.3.1.0");
	netconf_done(&c);
}

static void test_check_failure_leaves_config(void **state)
{
	struct netconf c;
	struct errmsg err;

	/* IPv4 passes, IPv6 fails: nothing is filled in. */
	assert_int_equal(parse("{\"Network\":\"10.3.0.0/16\",\"EnableIPv6\":true,"
			       "\"IPv6Network\":\"fc00::/125\"}",
			       &c, &err),
			 0);
	assert_int_equal(netconf_check(&c, &err), -EINVAL);
	assert_int_equal(c.subnet_len, 0);
	assert_int_equal(c.subnet_min.family, 0);
	netconf_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_manifest_config),
		cmocka_unit_test(test_all_fields),
		cmocka_unit_test(test_case_insensitive_keys),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_network_masked),
		cmocka_unit_test(test_null_values_are_defaults),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_backend_errors),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_check_upstream_examples),
		cmocka_unit_test(test_check_default_lengths),
		cmocka_unit_test(test_check_dual_stack),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_check_limits_pass),
		cmocka_unit_test(test_check_failure_leaves_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
