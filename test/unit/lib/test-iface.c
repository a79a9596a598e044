/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/netlink/iface.c's pure selection (upstream pkg/ipmatch): default
 * route, dual-stack same-interface rule, --iface by name and IP in order,
 * --iface-regex on addresses before names, --iface-can-reach, public IP
 * override, address preference, and the error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/netlink/iface.h"
#include "lib/netlink/netlink.h"

static struct iface_addr A(const char *cidr, uint8_t scope, uint32_t flags) {
	struct iface_addr a = {.scope = scope, .flags = flags};
	assert_int_equal(ip_net_parse(cidr, &a.addr), 0);
	return a;
}

/*
 * lo (1): 127.0.0.1/8, ::1/128
 * eth0 (2): 10.0.0.5/24 (dynamic), 203.0.113.7/24 (permanent), fe80::1/64, 2001:db8:1::7/64
 * eth1 (3): 198.51.100.9/24, 2001:db8:2::9/64 (temporary), 2001:db8:2::10/64 (permanent)
 * wg0 (4): no addresses, mtu 0
 */
static struct iface_addr lo_addrs[2],
	eth0_addrs[4], eth1_addrs[3];
static struct iface ifaces[4];
static struct iface_table table;

static int setup(void **state)
{
	lo_addrs[0] = A("127.0.0.1/8", NL_SCOPE_HOST, NL_IFA_F_PERMANENT);
	lo_addrs[1] = A("::1/128", NL_SCOPE_HOST, NL_IFA_F_PERMANENT);
	eth0_addrs[0] = A("10.0.0.5/24", 0, 0);
	eth0_addrs[1] = A("203.0.113.7/24", 0, NL_IFA_F_PERMANENT);
	eth0_addrs[2] = A("fe80::1/64", NL_SCOPE_LINK, NL_IFA_F_PERMANENT);
	eth0_addrs[3] = A("2001:db8:1::7/64", 0, NL_IFA_F_PERMANENT);
	eth1_addrs[0] = A("198.51.100.9/24", 0, NL_IFA_F_PERMANENT);
	eth1_addrs[1] = A("2001:db8:2::9/64", 0, NL_IFA_F_TEMPORARY);
	eth1_addrs[2] = A("2001:db8:2::10/64", 0, NL_IFA_F_PERMANENT);
	ifaces[0] = (struct iface){
		.name = "lo", .ifindex = 1, .mtu = 65536, .addrs = lo_addrs, .n_addrs = 2};
	ifaces[1] = (struct iface){
		.name = "eth0", .ifindex = 2, .mtu = 1500, .addrs = eth0_addrs, .n_addrs = 4};
	ifaces[2] = (struct iface){
		.name = "eth1", .ifindex = 3, .mtu = 9000, .addrs = eth1_addrs, .n_addrs = 3};
	ifaces[3] = (struct iface){.name = "wg0", .ifindex = 4, .mtu = 0};
	table = (struct iface_table){
		.ifaces = ifaces, .n_ifaces = 4, .default_ifindex = 2, .default_ifindex6 = 2};
	(void)state;
	return 0;
}

static void assert_addr(const struct ip_addr *a, const char *want)
{
	char s[IP_ADDR_STRLEN];
	assert_string_equal(ip_addr_fmt(a, s), want);
}

static void test_best_addr(void **state)
{
	/* permanent before dynamic; global before link-local; non-temporary before temporary */
	assert_addr(&iface_best_addr(&ifaces[1], AF_INET)->addr.addr, "203.0.113.7");
	assert_addr(&iface_best_addr(&ifaces[1], AF_INET6)->addr.addr, "2001:db8:1::7");
	assert_addr(&iface_best_addr(&ifaces[2], AF_INET6)->addr.addr, "2001:db8:2::10");
	assert_null(iface_best_addr(&ifaces[0], AF_INET)); /* loopback is not usable */
	assert_null(iface_best_addr(&ifaces[3], AF_INET));
	(void)state;
}

static void test_default_route(void **state)
{
	struct iface_request req = {.ipv4 = true};
	struct ext_iface e;
	struct errmsg err = {{0}};

	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth0");
	assert_int_equal(e.ifindex, 2);
	assert_int_equal(e.mtu, 1500);
	assert_addr(&e.iface_addr, "203.0.113.7");
	assert_addr(&e.ext_addr, "203.0.113.7");
	assert_int_equal(e.iface_addr6.family, 0);

	req.ipv6 = true;
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_addr(&e.iface_addr6, "2001:db8:1::7");

	table.default_ifindex6 = 3;
	assert_int_equal(iface_select(&table, &req, &e, &err), -EINVAL);
	assert_string_equal(
		err.text,
		"v6 default route interface eth1 must be the same with v4 default route interface eth0");
	table.default_ifindex = 0;
	req.ipv6 = false;
	assert_int_equal(iface_select(&table, &req, &e, &err), -ENOENT);
	assert_string_equal(err.text, "failed to get default interface: no default route");
	(void)state;
}

static void test_iface_list_in_order(void **state)
{
	char *list[] = {"eth9", "198.51.100.9", "eth0"};
	struct iface_request req = {.ipv4 = true, .ifaces = list, .n_ifaces = 3};
	struct ext_iface e;
	struct errmsg err = {{0}};

	/* eth9 does not exist; the IP finds eth1 and is the chosen address. */
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");
	assert_addr(&e.iface_addr, "198.51.100.9");

	/* An IP chooses that very address, even when not the best one. */
	list[1] = "10.0.0.5";
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth0");
	assert_addr(&e.iface_addr, "10.0.0.5");

	/* wg0 has no address and MTU 0: skipped, the next entry wins. */
	list[0] = "wg0";
	list[1] = "eth1";
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");

	req.n_ifaces = 1;
	assert_int_equal(iface_select(&table, &req, &e, &err), -ENODEV);
	assert_string_equal(
		err.text,
		"Failed to find interface to use that matches the interfaces and/or regexes provided: failed to find IPv4 address for interface wg0");
	(void)state;
}

static void test_regex(void **state)
{
	char *re[] = {"^198\\.51\\."};
	struct iface_request req = {.ipv4 = true, .regexes = re, .n_regexes = 1};
	struct ext_iface e;
	struct errmsg err = {{0}};

	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");
	assert_addr(&e.iface_addr, "198.51.100.9");

	/* Addresses are tried before names: "1" matches eth0's address 10.0.0.5 first. */
	re[0] = "^1";
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth0");
	assert_addr(&e.iface_addr, "10.0.0.5");

	re[0] = "^eth[1-9]$";
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");

	re[0] = "^nothing$";
	assert_int_equal(iface_select(&table, &req, &e, &err), -ENODEV);
	assert_non_null(strstr(
		err.text,
		"Could not match pattern ^nothing$ to any of the available network interfaces (lo, eth0, eth1, wg0)"));

	re[0] = "(";
	assert_int_equal(iface_select(&table, &req, &e, &err), -ENODEV);
	assert_non_null(strstr(err.text, "invalid --iface-regex \"(\""));
	(void)state;
}

static void test_can_reach_and_public_ip(void **state)
{
	struct iface_request req = {.ipv4 = true, .has_can_reach = true};
	struct ext_iface e;
	struct errmsg err = {{0}};

	assert_int_equal(ip_addr_parse("198.51.100.200", &req.can_reach), 0);
	table.can_reach_ifindex = 3;
	assert_int_equal(ip_addr_parse("198.51.100.9", &table.can_reach_src), 0);
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");
	table.can_reach_ifindex = 0;
	assert_int_equal(iface_select(&table, &req, &e, &err), -ENETUNREACH);
	assert_string_equal(err.text,
			    "failed to get ifcanreach based interface: no route to 198.51.100.200");

	/* A public IP that is on an interface chooses it; --public-ip is advertised. */
	req.has_can_reach = false;
	assert_int_equal(ip_addr_parse("198.51.100.9", &req.public_ip), 0);
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth1");
	assert_addr(&e.ext_addr, "198.51.100.9");

	/* Behind NAT: not on any interface, so the default route's, advertised as given. */
	assert_int_equal(ip_addr_parse("198.51.100.250", &req.public_ip), 0);
	assert_int_equal(iface_select(&table, &req, &e, &err), 0);
	assert_string_equal(e.name, "eth0");
	assert_addr(&e.iface_addr, "203.0.113.7");
	assert_addr(&e.ext_addr, "198.51.100.250");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_best_addr, setup),
		cmocka_unit_test_setup(test_default_route, setup),
		cmocka_unit_test_setup(test_iface_list_in_order, setup),
		cmocka_unit_test_setup(test_regex, setup),
		cmocka_unit_test_setup(test_can_reach_and_public_ip, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
