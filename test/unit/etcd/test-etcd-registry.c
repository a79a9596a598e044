/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of etcd/registry: subnet keys (upstream's valid and invalid
 * forms), lease values (upstream's JSON, both ways), and the allocation
 * planner (reuse by public IP, previous subnet, random free subnet, out of
 * subnets, the walk over large leases).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "etcd/registry.h"

static struct ip_net net(const char *s)
{
	struct ip_net n;

	assert_int_equal(ip_net_parse(s, &n), 0);
	return n;
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(s, &a), 0);
	return a;
}

static const char *fmt(const struct ip_net *n)
{
	static char buf[4][IP_NET_STRLEN];
	static int i;

	return ip_net_fmt(n, buf[i++ % 4]);
}

static void test_key_v4(void **state)
{
	struct ip_net sn, sn6;
	char buf[ETCD_SUBNET_KEY_MAX];

	assert_int_equal(etcd_subnet_key_parse("10.12.13.0-24", 13, &sn, &sn6), 0);
	assert_string_equal(fmt(&sn), "10.12.13.0/24");
	assert_int_equal(sn6.addr.family, 0);
	assert_int_equal(etcd_subnet_key_format(&sn, NULL, buf), 0);
	assert_string_equal(buf, "10.12.13.0-24");
	assert_int_equal(etcd_subnet_key_format(&sn, &sn6, buf), 0);
	assert_string_equal(buf, "10.12.13.0-24");
}

static void test_key_dual(void **state)
{
	const char *k = "10.12.13.0-24&fd00:12:13::-56";
	struct ip_net sn, sn6;
	char buf[ETCD_SUBNET_KEY_MAX];

	assert_int_equal(etcd_subnet_key_parse(k, strlen(k), &sn, &sn6), 0);
	assert_string_equal(fmt(&sn), "10.12.13.0/24");
	assert_string_equal(fmt(&sn6), "fd00:12:13::/56");
	assert_int_equal(etcd_subnet_key_format(&sn, &sn6, buf), 0);
	assert_string_equal(buf, k);
}

static void test_key_invalid(void **state)
{
	/* upstream's TestSubnetNodeInvalid, plus what our stricter rules add */
	static const char *bad[] = {
		"10",
		"10.12.13.0",
		"10.12.13-24",
		"10.12.13.300-24",
		"10.12.13.0-24hi",
		"&2001::-56",
		"10.12.13.0-24&:12:13:-56",
		"10.12.13.0-24&20011::-56",
		"10.12.13.0-24&2001-56",
		"10.12.13.0-24&2001::",
		"10.12.13.0-24&2001::-56hi",
		"10.12.13.0-32",	       /* upstream: ParseUint(.., 5) stops at 31 */
		"10.12.13.0-",		       /* no length */
		"10.12.13.0--24",	       /* sign */
		"10.12.13.1-24",	       /* host bits */
		"x10.12.13.0-24",	       /* anchored at the start */
		"10.12.13.0-24&2001:DB8::-56", /* upper case is not in [a-f\d:] */
		"10.12.13.0-24&2001:db8::-128",
		"10.12.13.0-24&::ffff:1.2.3.4-96",
		"010.12.13.0-24", /* leading zero octet */
		"",
		"10.12.13.0-24&",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ip_net sn, sn6;
		if (etcd_subnet_key_parse(bad[i], strlen(bad[i]), &sn, &sn6) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
	/* an embedded NUL */
	struct ip_net sn, sn6;
	assert_int_equal(etcd_subnet_key_parse("10.1.2.0-24\0x", 13, &sn, &sn6), -EINVAL);
}

static void test_key_format_invalid(void **state)
{
	struct ip_net v4 = net("10.1.2.3/24"), v6 = net("2001:db8::/64");
	char buf[ETCD_SUBNET_KEY_MAX];

	assert_int_equal(etcd_subnet_key_format(&v4, NULL, buf), -EINVAL); /* not masked */
	assert_int_equal(etcd_subnet_key_format(&v6, NULL, buf), -EINVAL); /* not IPv4 */
}

static void test_key_name(void **state)
{
	const char *name;
	size_t len;
	const char *k = "/coreos.com/network/subnets/10.5.52.0-24";

	assert_int_equal(etcd_key_subnet_name("/coreos.com/network", k, strlen(k), &name, &len), 0);
	assert_int_equal(len, strlen("10.5.52.0-24"));
	assert_memory_equal(name, "10.5.52.0-24", len);
	assert_int_equal(etcd_key_subnet_name("/coreos.com/network/", k, strlen(k), &name, &len),
			 0);
	assert_int_equal(etcd_key_subnet_name("/other", k, strlen(k), &name, &len), -ENOENT);
	k = "/coreos.com/network/subnets/";
	assert_int_equal(etcd_key_subnet_name("/coreos.com/network", k, strlen(k), &name, &len),
			 -ENOENT);
	k = "/coreos.com/network/subnets/a/b";
	assert_int_equal(etcd_key_subnet_name("/coreos.com/network", k, strlen(k), &name, &len),
			 -ENOENT);
	k = "/coreos.com/network/config";
	assert_int_equal(etcd_key_subnet_name("/coreos.com/network", k, strlen(k), &name, &len),
			 -ENOENT);
}

static void test_value_render(void **state)
{
	struct lease_attrs a = {.backend_type = "vxlan", .vni = 1, .has_vtep_mac = true};
	struct ip_addr p4 = addr("192.168.64.3"), p6 = addr("2001:db8::3");
	struct buf b = BUF_INIT;

	assert_int_equal(mac_parse("c6:d2:32:6f:8f:44", a.vtep_mac), 0);
	assert_int_equal(etcd_lease_value_render(&a, &p4, NULL, &b), 0);
	/* upstream's documented value, byte for byte */
	assert_string_equal(b.data, "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
				    "\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
				    "\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}");
	buf_reset(&b);

	a.has_vtep_mac6 = true;
	assert_int_equal(mac_parse("c6:d2:32:6f:8f:46", a.vtep_mac6), 0);
	assert_int_equal(etcd_lease_value_render(&a, &p4, &p6, &b), 0);
	assert_string_equal(b.data,
			    "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":\"2001:db8::3\","
			    "\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
			    "\"VtepMAC\":\"c6:d2:32:6f:8f:44\"},\"BackendV6Data\":{\"VNI\":1,"
			    "\"VtepMAC\":\"c6:d2:32:6f:8f:46\"}}");
	buf_reset(&b);

	struct lease_attrs hg = {.backend_type = "host-gw"};
	assert_int_equal(etcd_lease_value_render(&hg, &p4, NULL, &b), 0);
	assert_string_equal(b.data, "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
				    "\"BackendType\":\"host-gw\"}");
	assert_int_equal(etcd_lease_value_render(&hg, &p6, NULL, &b), -EINVAL);
	buf_free(&b);
}

static void test_value_parse(void **state)
{
	const char *v = "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,\"BackendType\":"
			"\"vxlan\",\"BackendData\":{\"VNI\":7,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}";
	struct lease l = {};
	struct errmsg err = {};
	char buf[IP_ADDR_STRLEN], mb[18];
	char *ext = NULL;

	assert_int_equal(etcd_lease_value_parse(v, strlen(v), &l, &ext, &err), 0);
	assert_string_equal(ip_addr_fmt(&l.public_ip, buf), "192.168.64.3");
	assert_int_equal(l.public_ip6.family, 0);
	assert_string_equal(l.attrs.backend_type, "vxlan");
	assert_int_equal(l.attrs.vni, 7);
	assert_true(l.attrs.has_vtep_mac);
	assert_string_equal(mac_fmt(l.attrs.vtep_mac, mb), "c6:d2:32:6f:8f:44");
	assert_false(l.attrs.has_vtep_mac6);

	/* case-insensitive keys, the last duplicate wins, v6 data */
	v = "{\"publicip\":\"10.0.0.1\",\"PUBLICIP\":\"10.0.0.2\",\"publicIPv6\":\"2001:db8::1\","
	    "\"backendtype\":\"host-gw\",\"BackendV6Data\":{\"VNI\":3,\"VtepMAC\":"
	    "\"02:00:00:00:00:06\"}}";
	memset(&l, 0, sizeof(l));
	assert_int_equal(etcd_lease_value_parse(v, strlen(v), &l, &ext, &err), 0);
	assert_string_equal(ip_addr_fmt(&l.public_ip, buf), "10.0.0.2");
	assert_string_equal(ip_addr_fmt(&l.public_ip6, buf), "2001:db8::1");
	assert_string_equal(l.attrs.backend_type, "host-gw");
	assert_int_equal(l.attrs.vni, 3);
	assert_true(l.attrs.has_vtep_mac6);
	assert_false(l.attrs.has_vtep_mac);
	assert_null(ext);

	/* extension: BackendData kept as JSON text, rendered back as it is */
	v = "{\"PublicIP\":\"10.0.0.1\",\"BackendType\":\"extension\",\"BackendData\":"
	    "\"key \\\"1\\\"\"}";
	memset(&l, 0, sizeof(l));
	assert_int_equal(etcd_lease_value_parse(v, strlen(v), &l, &ext, &err), 0);
	assert_non_null(ext);
	assert_ptr_equal(l.attrs.ext_data, ext);
	assert_string_equal(ext, "\"key \\\"1\\\"\"");
	struct buf out = BUF_INIT;
	assert_int_equal(etcd_lease_value_render(&l.attrs, &l.public_ip, NULL, &out), 0);
	assert_string_equal(out.data,
			    "{\"PublicIP\":\"10.0.0.1\",\"PublicIPv6\":null,"
			    "\"BackendType\":\"extension\",\"BackendData\":\"key \\\"1\\\"\"}");
	buf_free(&out);
	free(ext);
	ext = NULL;
	v = "{\"PublicIP\":\"10.0.0.1\",\"BackendType\":\"extension\",\"BackendData\":{}}";
	assert_int_equal(etcd_lease_value_parse(v, strlen(v), &l, &ext, &err), -EINVAL);
	assert_string_equal(err.text, "BackendData: expected a string or null, got object");
	assert_null(ext);
}

static void test_value_invalid(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"[1]", "value: expected an object, got array"},
		{"{", "value is not valid JSON"},
		{"{}", "PublicIP: missing"},
		{"{\"PublicIP\":5}", "PublicIP: expected a string, got number"},
		{"{\"PublicIP\":\"2001:db8::1\"}",
		 "PublicIP: invalid IPv4 address \"2001:db8::1\""},
		{"{\"PublicIP\":\"10.0.0.1\",\"PublicIPv6\":\"10.0.0.1\"}",
		 "PublicIPv6: invalid IPv6 address \"10.0.0.1\""},
		{"{\"PublicIP\":\"10.0.0.1\",\"BackendType\":7}",
		 "BackendType: expected a string, got number"},
		{"{\"PublicIP\":\"10.0.0.1\",\"BackendType\":\"aaaaaaaaaaaaaaaaaaaa\"}",
		 "BackendType: longer than 15 bytes"},
		{"{\"PublicIP\":\"10.0.0.1\",\"BackendData\":{\"VtepMAC\":\"zz\"}}",
		 "BackendData: VtepMAC: invalid MAC address \"zz\""},
		{"{\"PublicIP\":\"10.0.0.1\",\"BackendData\":\"x\"}",
		 "BackendData: expected an object or null, got string"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lease l = {};
		struct errmsg err = {};
		char *ext = NULL;
		int r = etcd_lease_value_parse(cases[i].json, strlen(cases[i].json), &l, &ext,
					       &err);
		if (r >= 0)
			fail_msg("accepted %s", cases[i].json);
		if (strcmp(err.text, cases[i].msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].json, err.text,
				 cases[i].msg);
	}
}

static void test_lease_from_kv(void **state)
{
	const char *v = "{\"PublicIP\":\"203.0.113.5\",\"BackendType\":\"vxlan\"}";
	/* The key is not NUL-terminated where the name ends. */
	const char *key = "10.5.52.0-24&2001:db8:1::-64/rest";
	char name[ETCD_SUBNET_KEY_MAX];
	struct lease l;
	struct errmsg err = {};
	char *ext = NULL;

	assert_int_equal(etcd_lease_from_kv(key, 28, v, strlen(v), name, &l, &ext, &err), 0);
	assert_string_equal(l.name, "10.5.52.0-24&2001:db8:1::-64");
	assert_ptr_equal(l.name, name);
	assert_true(l.has_subnet);
	assert_string_equal(fmt(&l.subnet), "10.5.52.0/24");
	assert_true(l.has_subnet6);
	assert_string_equal(fmt(&l.subnet6), "2001:db8:1::/64");
	assert_int_equal(etcd_lease_from_kv("bogus", 5, v, strlen(v), name, &l, &ext, &err),
			 -EINVAL);
	assert_string_equal(err.text, "not a subnet key: \"bogus\"");
}

/* ---- planner ---- */

static struct netconf conf(const char *json)
{
	struct netconf c = {};
	struct errmsg err = {};

	assert_int_equal(netconf_parse(json, strlen(json), &c, &err), 0);
	assert_int_equal(netconf_check(&c, &err), 0);
	return c;
}

static struct etcd_alloc_lease al(const char *sn, const char *sn6, const char *ip)
{
	struct etcd_alloc_lease a = {.subnet = net(sn), .public_ip = addr(ip), .has_ttl = true};

	if (sn6)
		a.subnet6 = net(sn6);
	return a;
}

static void test_plan_random(void **state)
{
	struct netconf c = conf("{\"Network\":\"198.18.0.0/16\"}");
	struct ip_addr me = addr("203.0.113.1");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease taken[] = {al("198.18.1.0/24", NULL, "203.0.113.2"),
					   al("198.18.3.0/24", NULL, "203.0.113.3")};

	/* the candidates are the first 100 free ones in order: 2, 4, 5, ..., 102 */
	assert_int_equal(etcd_alloc_plan(&c, taken, 2, &me, NULL, NULL, 0, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_RANDOM);
	assert_true(p.with_ttl);
	assert_false(p.delete_stale);
	assert_string_equal(fmt(&p.subnet), "198.18.2.0/24");
	assert_int_equal(etcd_alloc_plan(&c, taken, 2, &me, NULL, NULL, 1, 0, &p), 0);
	assert_string_equal(fmt(&p.subnet), "198.18.4.0/24");
	assert_int_equal(etcd_alloc_plan(&c, taken, 2, &me, NULL, NULL, 99, 0, &p), 0);
	assert_string_equal(fmt(&p.subnet), "198.18.102.0/24");
	/* 100 candidates at most: 100 wraps to the first */
	assert_int_equal(etcd_alloc_plan(&c, taken, 2, &me, NULL, NULL, 100, 0, &p), 0);
	assert_string_equal(fmt(&p.subnet), "198.18.2.0/24");
	assert_int_equal(p.subnet6.addr.family, 0);
	netconf_done(&c);
}

static void test_plan_reuse_by_ip(void **state)
{
	struct netconf c = conf("{\"Network\":\"198.18.0.0/16\"}");
	struct ip_addr me = addr("203.0.113.2");
	struct ip_net prev = net("198.18.9.0/24");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {al("198.18.1.0/24", NULL, "203.0.113.9"),
					al("198.18.7.0/24", NULL, "203.0.113.2")};

	/* by public IP first, even with a previous subnet */
	assert_int_equal(etcd_alloc_plan(&c, ls, 2, &me, &prev, NULL, 5, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_REUSE_BY_IP);
	assert_string_equal(fmt(&p.subnet), "198.18.7.0/24");
	assert_true(p.with_ttl);

	/* a reservation (no TTL) stays one */
	ls[1].has_ttl = false;
	assert_int_equal(etcd_alloc_plan(&c, ls, 2, &me, NULL, NULL, 5, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_REUSE_BY_IP);
	assert_false(p.with_ttl);
	netconf_done(&c);
}

static void test_plan_stale_by_ip(void **state)
{
	/* our IP holds a /24 of an old config: delete it and allocate anew */
	struct netconf c = conf("{\"Network\":\"198.18.0.0/16\",\"SubnetLen\":26}");
	struct ip_addr me = addr("203.0.113.2");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {al("198.18.0.0/24", NULL, "203.0.113.2")};

	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, NULL, NULL, 0, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_RANDOM);
	assert_true(p.delete_stale);
	assert_string_equal(fmt(&p.stale_subnet), "198.18.0.0/24");
	/* the stale lease still counts as taken, as upstream (it lists before deleting) */
	assert_string_equal(fmt(&p.subnet), "198.18.1.0/26");
	assert_int_equal(p.subnet.prefixlen, 26);
	netconf_done(&c);
}

static void test_plan_previous(void **state)
{
	struct netconf c = conf("{\"Network\":\"198.18.0.0/16\"}");
	struct ip_addr me = addr("203.0.113.1");
	struct ip_net prev = net("198.18.42.0/24"), bad = net("198.18.0.0/24"),
		      len = net("198.18.42.0/25");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {al("198.18.42.0/24", NULL, "203.0.113.9")};

	assert_int_equal(etcd_alloc_plan(&c, NULL, 0, &me, &prev, NULL, 7, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_PREVIOUS);
	assert_string_equal(fmt(&p.subnet), "198.18.42.0/24");
	assert_false(p.previous_incompatible);

	/* taken by someone else: a random one, no complaint */
	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, &prev, NULL, 0, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_RANDOM);
	assert_false(p.previous_incompatible);

	/* outside [SubnetMin, SubnetMax] (the first subnet is skipped) or wrong length */
	assert_int_equal(etcd_alloc_plan(&c, NULL, 0, &me, &bad, NULL, 0, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_RANDOM);
	assert_true(p.previous_incompatible);
	assert_string_equal(fmt(&p.subnet), "198.18.1.0/24");
	assert_int_equal(etcd_alloc_plan(&c, NULL, 0, &me, &len, NULL, 0, 0, &p), 0);
	assert_true(p.previous_incompatible);
	netconf_done(&c);
}

static void test_plan_out_of_subnets(void **state)
{
	struct netconf c = conf("{\"Network\":\"198.18.0.0/22\"}");
	/* /22 -> SubnetLen 24, range 198.18.1.0 ... 198.18.3.0 */
	struct ip_addr me = addr("203.0.113.1");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {al("198.18.1.0/24", NULL, "203.0.113.2"),
					al("198.18.2.0/24", NULL, "203.0.113.3"),
					al("198.18.3.0/24", NULL, "203.0.113.4")};

	assert_int_equal(etcd_alloc_plan(&c, ls, 2, &me, NULL, NULL, 0, 0, &p), 0);
	assert_string_equal(fmt(&p.subnet), "198.18.3.0/24");
	assert_int_equal(etcd_alloc_plan(&c, ls, 3, &me, NULL, NULL, 0, 0, &p), -ENOSPC);
	netconf_done(&c);
}

static void test_plan_big_lease(void **state)
{
	/* one huge foreign lease covering most of the range is jumped over in one step */
	struct netconf c = conf("{\"EnableIPv6\":true,\"IPv6Network\":\"2001:db8::/32\","
				"\"Network\":\"198.18.0.0/15\"}");
	struct ip_addr me = addr("203.0.113.1");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {
		al("198.18.0.0/15", "2001:db8::/33", "203.0.113.7"),
	};

	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, NULL, NULL, 0, 0, &p), -ENOSPC);
	ls[0].subnet = net("198.18.0.0/16");
	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, NULL, NULL, 0, 3, &p), 0);
	assert_string_equal(fmt(&p.subnet), "198.19.0.0/24");
	/* IPv6SubnetLen 64: the first free one after the /33 is 2001:db8:8000::/64 */
	assert_string_equal(fmt(&p.subnet6), "2001:db8:8000:3::/64");
	netconf_done(&c);
}

static void test_plan_dual_compat(void **state)
{
	struct netconf c = conf("{\"EnableIPv6\":true,\"IPv6Network\":\"2001:db8::/48\","
				"\"Network\":\"198.18.0.0/16\"}");
	struct ip_addr me = addr("203.0.113.1");
	struct etcd_alloc_plan p;
	struct etcd_alloc_lease ls[] = {al("198.18.5.0/24", NULL, "203.0.113.1")};

	/* our old v4-only lease no longer fits a dual-stack config */
	assert_false(etcd_subnet_compatible(&c, &ls[0].subnet, NULL));
	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, NULL, NULL, 0, 0, &p), 0);
	assert_true(p.delete_stale);
	assert_int_equal(p.subnet6.addr.family, AF_INET6);
	assert_string_equal(fmt(&p.subnet6), "2001:db8:0:1::/64");

	ls[0].subnet6 = net("2001:db8:0:9::/64");
	assert_true(etcd_subnet_compatible(&c, &ls[0].subnet, &ls[0].subnet6));
	assert_int_equal(etcd_alloc_plan(&c, ls, 1, &me, NULL, NULL, 0, 0, &p), 0);
	assert_int_equal(p.action, ETCD_ALLOC_REUSE_BY_IP);
	assert_string_equal(fmt(&p.subnet6), "2001:db8:0:9::/64");
	netconf_done(&c);

	/* a v6 subnet in a v4-only config is incompatible */
	c = conf("{\"Network\":\"198.18.0.0/16\"}");
	assert_false(etcd_subnet_compatible(&c, &ls[0].subnet, &ls[0].subnet6));
	assert_true(etcd_subnet_compatible(&c, &ls[0].subnet, NULL));
	netconf_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_v4),		 cmocka_unit_test(test_key_dual),
		cmocka_unit_test(test_key_invalid),	 cmocka_unit_test(test_key_format_invalid),
		cmocka_unit_test(test_key_name),	 cmocka_unit_test(test_value_render),
		cmocka_unit_test(test_value_parse),	 cmocka_unit_test(test_value_invalid),
		cmocka_unit_test(test_lease_from_kv),	 cmocka_unit_test(test_plan_random),
		cmocka_unit_test(test_plan_reuse_by_ip), cmocka_unit_test(test_plan_stale_by_ip),
		cmocka_unit_test(test_plan_previous),	 cmocka_unit_test(test_plan_out_of_subnets),
		cmocka_unit_test(test_plan_big_lease),	 cmocka_unit_test(test_plan_dual_compat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
