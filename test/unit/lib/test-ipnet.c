/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/ipnet.c: strict parsing, canonical formatting, the
 * containment predicates, and the 128-bit arithmetic used by the subnet
 * allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/core/ipnet.h"

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

static void assert_net_str(const struct ip_net *n, const char *want)
{
	char buf[IP_NET_STRLEN];

	assert_string_equal(ip_net_fmt(n, buf), want);
}

static void assert_addr_str(const struct ip_addr *a, const char *want)
{
	char buf[IP_ADDR_STRLEN];

	assert_string_equal(ip_addr_fmt(a, buf), want);
}

static void test_parse_format_roundtrip(void **state)
{
	static const char *const nets[] = {
		"10.244.0.0/16", "0.0.0.0/0",	  "255.255.255.255/32",
		"10.244.1.7/24", "2001:db8::/32", "2001:db8:1::1/64",
		"::/0",		 "::1/128",	  "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128",
	};

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		struct ip_net n = net(nets[i]), again;
		char buf[IP_NET_STRLEN];

		assert_net_str(&n, nets[i]);
		assert_int_equal(ip_net_parse(ip_net_fmt(&n, buf), &again), 0);
		assert_true(ip_net_equal(&n, &again));
	}

	struct ip_addr a = addr("198.18.3.4");
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(ntohl(a.in.s_addr), 0xc6120304);
	assert_addr_str(&a, "198.18.3.4");

	/* IPv6 is printed in canonical (compressed, lower-case) form. */
	a = addr("2001:DB8:0:0:0:0:0:1");
	assert_int_equal(a.family, AF_INET6);
	assert_addr_str(&a, "2001:db8::1");

	/* Host bits are kept by the parser. */
	struct ip_net n = net("10.244.1.7/16");
	assert_false(ip_net_is_masked(&n));
	assert_addr_str(&n.addr, "10.244.1.7");
	assert_int_equal(n.prefixlen, 16);
	(void)state;
}

static void test_parse_invalid(void **state)
{
	static const char *const bad_nets[] = {
		"",
		"/",
		"10.0.0.0",
		"10.0.0.0/",
		"/8",
		"10.0.0.0/33",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/8 ",
		" 10.0.0.0/8",
		"10.0.0.0/8/8",
		"10.0.0.0/1000",
		"10.0.0/8",
		"10.0.0.256/8",
		"01.0.0.0/8",
		"2001:db8::/129",
		"2001:db8::%eth0/64",
		"2001:db8:::/64",
		"10.0.0.0/a",
		"10.0.0.0/0x8",
		"2001:db8::/0008",
	};
	static const char *const bad_addrs[] = {
		"",    "1.2.3",	     "1.2.3.4.5",  "1.2.3.04", "1.2.3.4 ",
		"::g", "fe80::1%lo", "1.2.3.4/32", "-1.2.3.4",
	};
	struct ip_net n = {.prefixlen = 77};
	struct ip_addr a = {.family = 99};

	for (size_t i = 0; i < sizeof(bad_nets) / sizeof(bad_nets[0]); i++) {
		int r = ip_net_parse(bad_nets[i], &n);
		if (r != -EINVAL)
			fail_msg("ip_net_parse(\"%s\") = %d, want -EINVAL", bad_nets[i], r);
	}
	/* ret untouched on failure */
	assert_int_equal(n.prefixlen, 77);
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		int r = ip_addr_parse(bad_addrs[i], &a);
		if (r != -EINVAL)
			fail_msg("ip_addr_parse(\"%s\") = %d, want -EINVAL", bad_addrs[i], r);
	}
	assert_int_equal(a.family, 99);
	assert_int_equal(ip_net_parse(NULL, &n), -EINVAL);

	/* Leading zeros in a prefix of up to 3 digits are accepted as in Go's ParseCIDR. */
	n = net("10.0.0.0/08");
	assert_int_equal(n.prefixlen, 8);

	/* family-checked variants */
	assert_int_equal(ip_net_parse_family(AF_INET6, "10.0.0.0/8", &n), -EAFNOSUPPORT);
	assert_int_equal(ip_net_parse_family(AF_INET, "10.0.0.0/8", &n), 0);
	assert_int_equal(ip_addr_parse_family(AF_INET, "2001:db8::1", &a), -EAFNOSUPPORT);
	assert_int_equal(ip_addr_parse_family(AF_INET6, "2001:db8::1", &a), 0);
	(void)state;
}

static void test_contains_overlap(void **state)
{
	struct ip_net outer = net("10.244.0.0/16"), inner = net("10.244.3.0/24");
	struct ip_net other = net("10.245.0.0/24"), v6 = net("2001:db8::/32");
	struct ip_addr in = addr("10.244.255.255"), out = addr("10.243.255.255");

	assert_true(ip_net_contains_addr(&outer, &in));
	assert_false(ip_net_contains_addr(&outer, &out));
	assert_true(ip_net_contains_net(&outer, &inner));
	assert_false(ip_net_contains_net(&inner, &outer));
	assert_true(ip_net_contains_net(&outer, &outer));
	assert_false(ip_net_contains_net(&outer, &other));
	assert_false(ip_net_contains_net(&outer, &v6));

	assert_true(ip_net_overlaps(&outer, &inner));
	assert_true(ip_net_overlaps(&inner, &outer));
	assert_false(ip_net_overlaps(&outer, &other));
	assert_false(ip_net_overlaps(&outer, &v6));

	/* A v4 address never matches a v6 net, even ::/0. */
	struct ip_net all6 = net("::/0");
	assert_false(ip_net_contains_addr(&all6, &in));
	struct ip_addr a6 = addr("2001:db8:1::5");
	assert_true(ip_net_contains_addr(&all6, &a6));
	assert_true(ip_net_contains_addr(&v6, &a6));
	struct ip_net n48 = net("2001:db8:1::/48"), n48b = net("2001:db8:2::/48");
	assert_false(ip_net_overlaps(&n48, &n48b));
	assert_true(ip_net_overlaps(&n48, &v6));

	/* unmasked network: containment uses the prefix only */
	struct ip_net unmasked = net("10.244.9.9/16");
	assert_true(ip_net_contains_net(&unmasked, &inner));
	(void)state;
}

static void test_mask_first_last(void **state)
{
	struct ip_net n = net("10.244.1.7/23"), first;
	struct ip_addr last;

	ip_net_mask(&n);
	assert_true(ip_net_is_masked(&n));
	assert_net_str(&n, "10.244.0.0/23");

	ip_net_first_host(&n, &first);
	assert_net_str(&first, "10.244.0.1/23");
	/* first host masks first */
	struct ip_net raw = net("10.244.1.7/24");
	ip_net_first_host(&raw, &first);
	assert_net_str(&first, "10.244.1.1/24");

	ip_net_last_addr(&n, &last);
	assert_addr_str(&last, "10.244.1.255");

	struct ip_net v6 = net("2001:db8:0:7:1:2:3:4/64");
	ip_net_mask(&v6);
	assert_net_str(&v6, "2001:db8:0:7::/64");
	ip_net_first_host(&v6, &first);
	assert_net_str(&first, "2001:db8:0:7::1/64");
	ip_net_last_addr(&v6, &last);
	assert_addr_str(&last, "2001:db8:0:7:ffff:ffff:ffff:ffff");

	/* prefix not on a byte boundary */
	struct ip_net odd = net("2001:db8:abcd::/45");
	ip_net_mask(&odd);
	assert_net_str(&odd, "2001:db8:abc8::/45");

	struct ip_net zero = net("203.0.113.9/0");
	ip_net_mask(&zero);
	assert_net_str(&zero, "0.0.0.0/0");
	ip_net_last_addr(&zero, &last);
	assert_addr_str(&last, "255.255.255.255");

	/* the very last /32 cannot grow: it is kept */
	struct ip_net end = net("255.255.255.255/32");
	ip_net_first_host(&end, &first);
	assert_net_str(&first, "255.255.255.255/32");
	(void)state;
}

static void test_add(void **state)
{
	struct ip_addr a = addr("10.0.0.255"), r;

	assert_int_equal(ip_addr_add(&a, 1, &r), 0);
	assert_addr_str(&r, "10.0.1.0");
	assert_int_equal(ip_addr_add(&a, -256, &r), 0);
	assert_addr_str(&r, "9.255.255.255");

	struct ip_addr top = addr("255.255.255.255"), bottom = addr("0.0.0.0");
	r = a;
	assert_int_equal(ip_addr_add(&top, 1, &r), -ERANGE);
	assert_addr_str(&r, "10.0.0.255"); /* untouched */
	assert_int_equal(ip_addr_add(&bottom, -1, &r), -ERANGE);
	assert_int_equal(ip_addr_add(&bottom, INT64_MIN, &r), -ERANGE);
	assert_int_equal(ip_addr_add(&bottom, 0xffffffffLL, &r), 0);
	assert_addr_str(&r, "255.255.255.255");
	assert_int_equal(ip_addr_add(&bottom, 0x100000000LL, &r), -ERANGE);

	/* IPv6: carries across 64-bit halves both ways */
	struct ip_addr v6 = addr("2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(ip_addr_add(&v6, 1, &r), 0);
	assert_addr_str(&r, "2001:db8:0:1::");
	assert_int_equal(ip_addr_add(&r, -1, &r), 0);
	assert_addr_str(&r, "2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(ip_addr_add(&v6, INT64_MAX, &r), 0);
	assert_addr_str(&r, "2001:db8:0:1:7fff:ffff:ffff:fffe");

	struct ip_addr v6top = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(ip_addr_add(&v6top, 1, &r), -ERANGE);
	struct ip_addr v6zero = addr("::");
	assert_int_equal(ip_addr_add(&v6zero, INT64_MIN, &r), -ERANGE);
	assert_int_equal(ip_addr_add(&v6top, INT64_MIN, &r), 0);
	assert_addr_str(&r, "ffff:ffff:ffff:ffff:7fff:ffff:ffff:ffff");
	(void)state;
}

static void test_nth_subnet(void **state)
{
	struct ip_net n = net("10.244.0.0/16"), s;
	uint64_t idx;

	assert_int_equal(ip_net_subnet_count(&n, 24), 256);
	assert_int_equal(ip_net_nth_subnet(&n, 24, 0, &s), 0);
	assert_net_str(&s, "10.244.0.0/24");
	assert_int_equal(ip_net_nth_subnet(&n, 24, 5, &s), 0);
	assert_net_str(&s, "10.244.5.0/24");
	assert_int_equal(ip_net_nth_subnet(&n, 24, 255, &s), 0);
	assert_net_str(&s, "10.244.255.0/24");
	assert_int_equal(ip_net_nth_subnet(&n, 24, 256, &s), -ERANGE);
	assert_int_equal(ip_net_nth_subnet(&n, 15, 0, &s), -ERANGE);
	assert_int_equal(ip_net_nth_subnet(&n, 33, 0, &s), -ERANGE);
	assert_int_equal(ip_net_nth_subnet(&n, 16, 0, &s), 0);
	assert_net_str(&s, "10.244.0.0/16");

	/* The network's host bits are ignored. */
	struct ip_net unmasked = net("10.244.7.7/16");
	assert_int_equal(ip_net_nth_subnet(&unmasked, 26, 3, &s), 0);
	assert_net_str(&s, "10.244.0.192/26");

	/* IPv6: /64s in a /48 */
	struct ip_net v6 = net("2001:db8:42::/48");
	assert_int_equal(ip_net_subnet_count(&v6, 64), 65536);
	assert_int_equal(ip_net_nth_subnet(&v6, 64, 0, &s), 0);
	assert_net_str(&s, "2001:db8:42::/64");
	assert_int_equal(ip_net_nth_subnet(&v6, 64, 1, &s), 0);
	assert_net_str(&s, "2001:db8:42:1::/64");
	assert_int_equal(ip_net_nth_subnet(&v6, 64, 0xabcd, &s), 0);
	assert_net_str(&s, "2001:db8:42:abcd::/64");
	assert_int_equal(ip_net_subnet_index(&v6, &s, &idx), 0);
	assert_int_equal(idx, 0xabcd);
	assert_int_equal(ip_net_nth_subnet(&v6, 64, 65536, &s), -ERANGE);

	/* huge ranges: the count saturates; large indices still work */
	struct ip_net v6big = net("2001:db8::/32");
	assert_int_equal(ip_net_subnet_count(&v6big, 96), UINT64_MAX);
	assert_int_equal(ip_net_subnet_count(&v6big, 95), 1ULL << 63);
	assert_int_equal(ip_net_subnet_count(&v6big, 128), UINT64_MAX);
	assert_int_equal(ip_net_nth_subnet(&v6big, 128, UINT64_MAX, &s), 0);
	assert_net_str(&s, "2001:db8::ffff:ffff:ffff:ffff/128");
	assert_int_equal(ip_net_subnet_index(&v6big, &s, &idx), 0);
	assert_true(idx == UINT64_MAX);
	assert_int_equal(ip_net_nth_subnet(&v6big, 96, 1, &s), 0);
	assert_net_str(&s, "2001:db8::1:0:0/96");
	struct ip_net all = net("::/0");
	assert_int_equal(ip_net_subnet_count(&all, 0), 1);
	assert_int_equal(ip_net_nth_subnet(&all, 0, 0, &s), 0);
	assert_net_str(&s, "::/0");
	assert_int_equal(ip_net_nth_subnet(&all, 0, 1, &s), -ERANGE);
	assert_int_equal(ip_net_subnet_count(&n, 8), 0);
	(void)state;
}

static void test_subnet_index(void **state)
{
	struct ip_net n = net("10.244.0.0/16"), s = net("10.244.42.0/24"),
		      v6 = net("2001:db8::/64");
	uint64_t idx = 0;

	assert_int_equal(ip_net_subnet_index(&n, &s, &idx), 0);
	assert_int_equal(idx, 42);

	/* every subnet's index inverts nth_subnet */
	for (uint64_t i = 0; i < 256; i++) {
		struct ip_net t;
		assert_int_equal(ip_net_nth_subnet(&n, 24, i, &t), 0);
		assert_int_equal(ip_net_subnet_index(&n, &t, &idx), 0);
		assert_int_equal(idx, i);
	}

	struct ip_net outside = net("10.245.1.0/24"), bigger = net("10.0.0.0/8");
	idx = 99;
	assert_int_equal(ip_net_subnet_index(&n, &outside, &idx), -ERANGE);
	assert_int_equal(ip_net_subnet_index(&n, &bigger, &idx), -ERANGE);
	assert_int_equal(ip_net_subnet_index(&n, &v6, &idx), -ERANGE);
	assert_int_equal(idx, 99);

	/* more than 2^64 subnets between the prefixes: not representable */
	struct ip_net all6 = net("::/0"), tail = net("8000::/128");
	assert_int_equal(ip_net_subnet_index(&all6, &tail, &idx), -ERANGE);
	(void)state;
}

static void test_cmp(void **state)
{
	struct ip_net a = net("10.0.0.0/8"), b = net("10.0.0.0/16"), c = net("11.0.0.0/8");
	struct ip_net d = net("2001:db8::/32");

	assert_true(ip_net_cmp(&a, &b) < 0);
	assert_true(ip_net_cmp(&b, &c) < 0);
	assert_true(ip_net_cmp(&c, &d) < 0); /* AF_INET < AF_INET6 */
	assert_true(ip_net_cmp(&d, &a) > 0);
	assert_int_equal(ip_net_cmp(&a, &a), 0);

	struct ip_addr x = addr("10.0.0.1"), y = addr("10.0.0.1"), z = {0};
	struct in_addr in = {.s_addr = htonl(0x0a000001)};
	struct ip_addr w;
	ip_addr_from_in(&w, in);
	assert_true(ip_addr_equal(&x, &y));
	assert_true(ip_addr_equal(&x, &w));
	assert_true(ip_addr_is_set(&x));
	assert_false(ip_addr_is_set(&z));
	assert_int_equal(ip_family_bits(AF_INET), 32);
	assert_int_equal(ip_family_bits(AF_INET6), 128);
	assert_int_equal(ip_family_bits(0), 0);

	struct in6_addr in6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", &in6), 1);
	ip_addr_from_in6(&w, &in6);
	assert_addr_str(&w, "2001:db8::9");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_contains_overlap),
		cmocka_unit_test(test_mask_first_last),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_nth_subnet),
		cmocka_unit_test(test_subnet_index),
		cmocka_unit_test(test_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
