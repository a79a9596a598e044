/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/builtin.c's pure half: which delegate configurations
 * built-in mode takes (the one flannel builds from the manifest's conflist,
 * IPv4, IPv6, dual stack) and which it leaves to the delegate, naming the
 * key; the result in bridge's shape per cniVersion; the host veth names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cni/builtin.h"
#include "cni/conf.h"
#include "cni/delegate.h"

/* The delegate configuration flannel builds for conf_text on a node with this subnet.env. */
static struct cni_json *delegate(const char *conf_text, bool v4, bool v6)
{
	struct subnet_env e = {.has_mtu = true, .mtu = 1450, .has_ipmasq = true, .ipmasq = true};
	struct cni_conf c;
	struct errmsg err = {};
	struct cni_json *d = NULL;
	if (v4) {
		e.has_network = ip_net_parse("198.18.0.0/16", &e.network) == 0;
		e.has_subnet = ip_net_parse("198.18.5.1/24", &e.subnet) == 0;
	}
	if (v6) {
		e.has_ipv6_network = ip_net_parse("2001:db8:42::/56", &e.ipv6_network) == 0;
		e.has_ipv6_subnet = ip_net_parse("2001:db8:42:5::1/64", &e.ipv6_subnet) == 0;
	}
	assert_int_equal(cni_conf_parse(conf_text, strlen(conf_text), &c, &err), 0);
	assert_int_equal(cni_delegate_build(&c, &e, &d, &err), 0);
	cni_conf_done(&c);
	return d;
}

#define MANIFEST                                                                                 \
	"{\"cniVersion\":\"0.3.1\",\"name\":\"cbr0\",\"type\":\"flannel\",\"mode\":\"builtin\"," \
	"\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true}}"

static void test_manifest(void **state)
{
	_cleanup_cni_json_ struct cni_json *d = delegate(MANIFEST, true, true);
	struct builtin_conf c;
	struct errmsg err = {};
	char text[IP_NET_STRLEN];
	assert_int_equal(builtin_conf_parse(d, &c, &err), 0);
	assert_string_equal(c.network, "cbr0");
	assert_string_equal(c.cni_version, "0.3.1");
	assert_string_equal(c.bridge, "cni0");
	assert_string_equal(c.ipam_dir, "/var/lib/cni/networks");
	assert_int_equal(c.mtu, 1450);
	assert_true(c.is_gateway && c.is_default_gateway && c.hairpin);
	assert_int_equal(c.n_ranges, 2);
	assert_string_equal(ip_net_fmt(&c.ranges[0].subnet, text), "198.18.5.0/24");
	assert_string_equal(ip_net_fmt(&c.ranges[1].subnet, text), "2001:db8:42:5::/64");
	assert_int_equal(c.n_routes, 2);
	assert_string_equal(ip_net_fmt(&c.routes[0].dst, text), "198.18.0.0/16");
	assert_false(ip_addr_is_set(&c.routes[0].gw));

	/* IPv6 only: one range set, of IPv6. */
	_cleanup_cni_json_ struct cni_json *d6 = delegate(MANIFEST, false, true);
	assert_int_equal(builtin_conf_parse(d6, &c, &err), 0);
	assert_int_equal(c.n_ranges, 1);
	assert_int_equal(c.ranges[0].subnet.addr.family, AF_INET6);
}

/* builtin_conf_parse of flannel's delegate for a user "delegate"/"ipam" section. */
static int parse_user(const char *delegate_section, const char *ipam_section, struct errmsg *err)
{
	char text[1024];
	struct builtin_conf c;
	snprintf(text, sizeof(text),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"cbr0\",\"type\":\"flannel\","
		 "\"delegate\":%s%s%s}",
		 delegate_section, ipam_section ? ",\"ipam\":" : "",
		 ipam_section ? ipam_section : "");
	_cleanup_cni_json_ struct cni_json *d = delegate(text, true, false);
	return builtin_conf_parse(d, &c, err);
}

static void test_refused(void **state)
{
	static const struct {
		const char *delegate, *ipam;
		int r;
		const char *msg;
	} cases[] = {
		{"{\"type\":\"ipvlan\"}", NULL, -EOPNOTSUPP,
		 "type: built-in mode implements bridge"},
		{"{}", "{\"type\":\"dhcp\"}", -EOPNOTSUPP,
		 "ipam.type: built-in mode implements host-local"},
		{"{\"ipMasq\":true}", NULL, -EOPNOTSUPP,
		 "ipMasq: built-in mode does not masquerade"},
		{"{\"vlan\":5}", NULL, -EOPNOTSUPP, "vlan: not supported in built-in mode"},
		{"{}", "{\"resolvConf\":\"/x\"}", -EOPNOTSUPP, "ipam.resolvConf: not supported"},
		{"{\"promiscMode\":true}", NULL, -EOPNOTSUPP, "promiscMode"},
		{"{\"mtu\":20}", NULL, -EINVAL, "mtu: must be a number from 68 to 65535"},
		{"{\"mtu\":\"1450\"}", NULL, -EINVAL, "mtu:"},
		{"{\"hairpinMode\":\"yes\"}", NULL, -EINVAL, "hairpinMode: must be a boolean"},
		{"{\"bridge\":\"a/b\"}", NULL, -EINVAL, "bridge: must be an interface name"},
		{"{}", "{\"dataDir\":\"\"}", -EINVAL, "ipam.dataDir"},
		{"{}", "{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"2001:db8::1\"}]}", -EINVAL,
		 "ipam.routes[0].gw"},
		{"{}", "{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"mtu\":1400}]}", -EOPNOTSUPP,
		 "ipam.routes[].mtu"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errmsg err = {};
		assert_int_equal(parse_user(cases[i].delegate, cases[i].ipam, &err), cases[i].r);
		if (!strstr(err.text, cases[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.text, cases[i].msg);
	}
	/* Accepted: a bridge name, user routes with a gateway, isGateway off, ipMasq false. */
	struct errmsg err = {};
	assert_int_equal(
		parse_user("{\"bridge\":\"br-pods\",\"isGateway\":false,\"ipMasq\":false}",
			   "{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"198.18.5.254\"}]}", &err),
		0);
}

static void test_result(void **state)
{
	_cleanup_cni_json_ struct cni_json *d = delegate(MANIFEST, true, true);
	_cleanup_cni_json_ struct cni_json *out = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct builtin_conf c;
	struct errmsg err = {};
	struct builtin_result res = {
		.bridge = "cni0",
		.host = "veth0a0b0c0d",
		.ifname = "eth0",
		.bridge_mac = {0x02, 0, 0, 0, 0, 1},
		.host_mac = {0x02, 0, 0, 0, 0, 2},
		.pod_mac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		.sandbox = "/run/netns/p1",
		.n_ips = 2,
	};
	assert_int_equal(builtin_conf_parse(d, &c, &err), 0);
	assert_int_equal(ip_net_parse("198.18.5.2/24", &res.ips[0]), 0);
	assert_int_equal(ip_net_parse("2001:db8:42:5::2/64", &res.ips[1]), 0);
	res.gateways[0] = c.ranges[0].gateway;
	res.gateways[1] = c.ranges[1].gateway;
	assert_int_equal(builtin_result_json(&c, &res, &out), 0);
	assert_int_equal(cni_json_print(out, &b), 0);
	assert_string_equal(
		b.data,
		"{\"cniVersion\":\"0.3.1\",\"dns\":{},\"interfaces\":["
		"{\"mac\":\"02:00:00:00:00:01\",\"name\":\"cni0\"},"
		"{\"mac\":\"02:00:00:00:00:02\",\"name\":\"veth0a0b0c0d\"},"
		"{\"mac\":\"aa:bb:cc:dd:ee:ff\",\"name\":\"eth0\",\"sandbox\":\"/run/netns/p1\"}],"
		"\"ips\":[{\"address\":\"198.18.5.2/24\",\"gateway\":\"198.18.5.1\",\"interface\":2,"
		"\"version\":\"4\"},{\"address\":\"2001:db8:42:5::2/64\",\"gateway\":"
		"\"2001:db8:42:5::1\",\"interface\":2,\"version\":\"6\"}],"
		"\"routes\":[{\"dst\":\"198.18.0.0/16\"},{\"dst\":\"2001:db8:42::/56\"},"
		"{\"dst\":\"0.0.0.0/0\",\"gw\":\"198.18.5.1\"},{\"dst\":\"::/0\",\"gw\":"
		"\"2001:db8:42:5::1\"}]}");

	/* 1.0.0: no "version" in ips. */
	c.cni_version = "1.0.0";
	out = cni_json_free(out);
	buf_reset(&b);
	assert_int_equal(builtin_result_json(&c, &res, &out), 0);
	assert_int_equal(cni_json_print(out, &b), 0);
	assert_null(strstr(b.data, "\"version\""));
	assert_non_null(strstr(b.data, "\"cniVersion\":\"1.0.0\""));
}

static void test_veth_name(void **state)
{
	char a[16], b[16], c[16];
	builtin_host_veth_name("ctr1", "eth0", a);
	builtin_host_veth_name("ctr1", "eth0", b);
	builtin_host_veth_name("ctr1", "net1", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 12);
	assert_memory_equal(a, "veth", 4);
	/* The boundary between ID and interface counts. */
	builtin_host_veth_name("ctr1e", "th0", c);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_veth_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
