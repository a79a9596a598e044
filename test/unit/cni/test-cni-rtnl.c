/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/rtnl.c: requests byte for byte (as the kernel and
 * iproute2 lay them out), parsers on replies, truncation; and a batch of
 * link lookups against the kernel, which needs no privilege.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "cni/rtnl.h"

static void assert_bytes(const struct rtnl_msg *m, const uint8_t *want, size_t len)
{
	assert_int_equal(m->hdr.nlmsg_len, len);
	assert_memory_equal(m->buf, want, len);
}

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

static void test_getlink(void **state)
{
	struct rtnl_msg m;
	static const uint8_t want[] = {
		44, 0, 0,	    0, RTM_GETLINK, 0,	 0x05, 0,   0, 0, 0, 0,
		0,  0, 0,	    0, /* nlmsghdr */
		0,  0, 0,	    0, 0,	    0,	 0,    0,   0, 0, 0, 0,
		0,  0, 0,	    0,						/* ifinfomsg */
		9,  0, IFLA_IFNAME, 0, 'c',	    'n', 'i',  '0', 0, 0, 0, 0, /* name + pad */
	};
	assert_int_equal(rtnl_build_getlink(&m, 0, "cni0"), 0);
	assert_bytes(&m, want, sizeof(want));
	assert_int_equal(rtnl_build_getlink(&m, 0, "sixteen-chars-xx"), -EINVAL);
	assert_int_equal(rtnl_build_getlink(&m, 0, ""), -EINVAL);
	/* By index: no name attribute. */
	assert_int_equal(rtnl_build_dellink(&m, 7, NULL), 0);
	assert_int_equal(m.hdr.nlmsg_len, 32);
	assert_int_equal(m.hdr.nlmsg_type, RTM_DELLINK);
	assert_int_equal(((struct ifinfomsg *)NLMSG_DATA(&m.hdr))->ifi_index, 7);
}

static void test_addr(void **state)
{
	struct rtnl_msg m;
	static const uint8_t want4[] = {
		48,
		0,
		0,
		0,
		RTM_NEWADDR,
		0,
		0x05,
		0x06,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		AF_INET,
		24,
		0,
		0,
		7,
		0,
		0,
		0, /* ifaddrmsg */
		8,
		0,
		IFA_LOCAL,
		0,
		198,
		18,
		5,
		2,
		8,
		0,
		IFA_ADDRESS,
		0,
		198,
		18,
		5,
		2,
		8,
		0,
		IFA_BROADCAST,
		0,
		198,
		18,
		5,
		255,
	};
	struct ip_net a = net("198.18.5.2/24");
	assert_int_equal(rtnl_build_addr(&m, 7, &a), 0);
	assert_bytes(&m, want4, sizeof(want4));

	/* IPv6: no broadcast, IFA_F_NODAD. */
	a = net("2001:db8:42:5::2/64");
	assert_int_equal(rtnl_build_addr(&m, 7, &a), 0);
	assert_int_equal(m.hdr.nlmsg_len, 16 + 8 + 2 * 20);
	const struct ifaddrmsg *ifa = NLMSG_DATA(&m.hdr);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	assert_int_equal(ifa->ifa_prefixlen, 64);

	/* Round trip through the parser. */
	struct rtnl_addr got;
	m.hdr.nlmsg_type = RTM_NEWADDR;
	assert_int_equal(rtnl_parse_addr(&m.hdr, &got), 0);
	assert_int_equal(got.ifindex, 7);
	assert_true(ip_net_equal(&got.addr, &a));

	struct ip_net bad = {};
	assert_int_equal(rtnl_build_addr(&m, 7, &bad), -EINVAL);
}

static void test_route(void **state)
{
	struct rtnl_msg m;
	static const uint8_t want[] = {
		52,
		0,
		0,
		0,
		RTM_NEWROUTE,
		0,
		0x05,
		0x06,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		AF_INET,
		16,
		0,
		0,
		RT_TABLE_MAIN,
		RTPROT_BOOT,
		RT_SCOPE_UNIVERSE,
		RTN_UNICAST,
		0,
		0,
		0,
		0, /* rtm_flags */
		8,
		0,
		RTA_DST,
		0,
		198,
		18,
		0,
		0,
		8,
		0,
		RTA_GATEWAY,
		0,
		198,
		18,
		5,
		1,
		8,
		0,
		RTA_OIF,
		0,
		7,
		0,
		0,
		0,
	};
	/* Host bits of dst are masked. */
	struct ip_net dst = net("198.18.3.4/16");
	struct ip_addr gw = addr("198.18.5.1");
	assert_int_equal(rtnl_build_route(&m, 7, &dst, &gw), 0);
	assert_bytes(&m, want, sizeof(want));

	/* A default route has no RTA_DST. */
	struct ip_net any = {.addr = {.family = AF_INET6}};
	struct ip_addr gw6 = addr("2001:db8:42:5::1");
	assert_int_equal(rtnl_build_route(&m, 7, &any, &gw6), 0);
	assert_int_equal(m.hdr.nlmsg_len, 16 + 12 + 20 + 8);
	struct rtnl_route got;
	assert_int_equal(rtnl_parse_route(&m.hdr, &got), 0);
	assert_int_equal(got.oif, 7);
	assert_int_equal(got.table, RT_TABLE_MAIN);
	assert_int_equal(got.dst.prefixlen, 0);
	assert_true(ip_addr_equal(&got.gw, &gw6));

	/* A gateway of the other family is refused. */
	assert_int_equal(rtnl_build_route(&m, 7, &dst, &gw6), -EINVAL);
}

static void test_hairpin(void **state)
{
	/* As `ip link set veth0 type bridge_slave hairpin on` sends it. */
	struct rtnl_msg m;
	static const uint8_t want[] = {
		72,   0,	   0,
		0,    RTM_NEWLINK, 0,
		0x05, 0,	   0,
		0,    0,	   0,
		0,    0,	   0,
		0, /* nlmsghdr */
		0,    0,	   0,
		0,    0,	   0,
		0,    0,	   0,
		0,    0,	   0,
		0,    0,	   0,
		0, /* ifinfomsg */
		10,   0,	   IFLA_IFNAME,
		0,    'v',	   'e',
		't',  'h',	   '0',
		0,    0,	   0, /* name + pad */
		28,   0,	   IFLA_LINKINFO,
		0, /* nest */
		11,   0,	   IFLA_INFO_SLAVE_KIND,
		0,    'b',	   'r',
		'i',  'd',	   'g',
		'e',  0,	   0, /* + pad */
		12,   0,	   IFLA_INFO_SLAVE_DATA,
		0, /* nest */
		5,    0,	   IFLA_BRPORT_MODE,
		0,    1,	   0,
		0,    0, /* + pad */
	};
	assert_int_equal(rtnl_build_hairpin(&m, "veth0", true), 0);
	assert_bytes(&m, want, sizeof(want));
	assert_int_equal(rtnl_build_hairpin(&m, "", true), -EINVAL);
}

/*
 * A batch against the kernel (reading links needs no privilege): each
 * request's own result, replies to the right one, the next call unharmed.
 */
static void test_batch(void **state)
{
	_cleanup_rtnl_ struct rtnl r = RTNL_INIT;
	struct rtnl_msg m[3];
	struct rtnl_msg *mp[3] = {&m[0], &m[1], &m[2]};
	struct rtnl_link lo1, lo2, link;
	struct rtnl_link *links[3] = {&lo1, NULL, &lo2};
	int errs[3] = {1, 1, 1};

	assert_int_equal(rtnl_open(&r), 0);
	assert_int_equal(rtnl_build_getlink(&m[0], 0, "lo"), 0);
	assert_int_equal(rtnl_build_getlink(&m[1], 0, "no-such-link"), 0);
	assert_int_equal(rtnl_build_getlink(&m[2], 1, NULL), 0);
	assert_int_equal(rtnl_call_batch(&r, mp, 3, errs, links), 0);
	assert_int_equal(errs[0], 0);
	assert_int_equal(errs[1], -ENODEV);
	assert_int_equal(errs[2], 0);
	assert_string_equal(lo1.name, "lo");
	assert_int_equal(lo1.ifindex, 1);
	assert_string_equal(lo2.name, "lo");
	/* Only the last one asked for an ACK. */
	assert_false(m[0].hdr.nlmsg_flags & NLM_F_ACK);
	assert_true(m[2].hdr.nlmsg_flags & NLM_F_ACK);

	/* A failing last request, then a plain call on the same socket. */
	assert_int_equal(rtnl_build_getlink(&m[0], 0, "lo"), 0);
	assert_int_equal(rtnl_build_getlink(&m[1], 0, "no-such-link"), 0);
	assert_int_equal(rtnl_call_batch(&r, mp, 2, errs, links), 0);
	assert_int_equal(errs[0], 0);
	assert_int_equal(errs[1], -ENODEV);
	assert_int_equal(rtnl_get_link(&r, "lo", &link), 0);
	assert_int_equal(link.ifindex, 1);
	assert_int_equal(rtnl_get_link(&r, "no-such-link", &link), -ENODEV);

	assert_int_equal(rtnl_call_batch(&r, mp, 0, errs, links), -EINVAL);
	assert_int_equal(rtnl_call_batch(&r, mp, RTNL_BATCH_MAX + 1, errs, links), -EINVAL);
}

static void test_veth(void **state)
{
	struct rtnl_msg m;
	static const uint8_t want[] = {
		132,
		0,
		0,
		0,
		RTM_NEWLINK,
		0,
		0x0d, /* REQUEST | ACK | ECHO */
		0x06,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		IFF_UP,
		0,
		0,
		0,
		IFF_UP,
		0,
		0,
		0,
		14,
		0,
		IFLA_IFNAME,
		0,
		'v',
		'e',
		't',
		'h',
		'0',
		'1',
		'2',
		'3',
		'4',
		0,
		0,
		0,
		8,
		0,
		IFLA_MTU,
		0,
		0xaa,
		0x05,
		0,
		0,
		8,
		0,
		IFLA_MASTER,
		0,
		2,
		0,
		0,
		0,
		68,
		0,
		IFLA_LINKINFO,
		0,
		9,
		0,
		IFLA_INFO_KIND,
		0,
		'v',
		'e',
		't',
		'h',
		0,
		0,
		0,
		0,
		52,
		0,
		IFLA_INFO_DATA,
		0,
		48,
		0,
		1 /* VETH_INFO_PEER, not flagged nested */,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0, /* peer ifinfomsg: down */
		9,
		0,
		IFLA_IFNAME,
		0,
		'e',
		't',
		'h',
		'0',
		0,
		0,
		0,
		0,
		8,
		0,
		IFLA_MTU,
		0,
		0xaa,
		0x05,
		0,
		0,
		8,
		0,
		IFLA_NET_NS_FD,
		0,
		5,
		0,
		0,
		0,
	};
	assert_int_equal(rtnl_build_veth(&m, "veth01234", 1450, 2, "eth0", 5), 0);
	assert_bytes(&m, want, sizeof(want));
	assert_int_equal(rtnl_build_veth(&m, "veth0", 0, 0, "", 5), -EINVAL);
}

static void test_parse_link(void **state)
{
	struct rtnl_msg m;
	const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
	struct rtnl_link l;
	assert_int_equal(rtnl_build_bridge(&m, "cni0", 1450, mac), 0);
	/* A request and a reply share the layout: parse it as the kernel's answer. */
	((struct ifinfomsg *)NLMSG_DATA(&m.hdr))->ifi_index = 4;
	assert_int_equal(rtnl_parse_link(&m.hdr, &l), 0);
	assert_int_equal(l.ifindex, 4);
	assert_string_equal(l.name, "cni0");
	assert_string_equal(l.kind, "bridge");
	assert_int_equal(l.mtu, 1450);
	assert_true(l.has_mac);
	assert_memory_equal(l.mac, mac, 6);
	assert_true(l.flags & IFF_UP);

	/* Truncated: a header shorter than ifinfomsg, an attribute running past the end. */
	struct rtnl_msg t = m;
	t.hdr.nlmsg_len = NLMSG_LENGTH(8);
	assert_int_equal(rtnl_parse_link(&t.hdr, &l), -EBADMSG);
	t = m;
	t.hdr.nlmsg_len -= 3; /* cuts the linkinfo nest: skipped, the rest parsed */
	assert_int_equal(rtnl_parse_link(&t.hdr, &l), 0);
	assert_string_equal(l.kind, "");
	assert_string_equal(l.name, "cni0");
	t.hdr.nlmsg_type = RTM_NEWADDR;
	assert_int_equal(rtnl_parse_link(&t.hdr, &l), -EBADMSG);
}

static void test_parse_error(void **state)
{
	uint8_t buf[NLMSG_LENGTH(sizeof(struct nlmsgerr))] __attribute__((aligned(4))) = {};
	struct nlmsghdr *h = (void *)buf;
	struct nlmsgerr e = {.error = -EEXIST};
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_len = sizeof(buf);
	memcpy(NLMSG_DATA(h), &e, sizeof(e));
	assert_int_equal(rtnl_parse_error(h), -EEXIST);
	e.error = 0;
	memcpy(NLMSG_DATA(h), &e, sizeof(e));
	assert_int_equal(rtnl_parse_error(h), 0);
	h->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(rtnl_parse_error(h), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getlink),	   cmocka_unit_test(test_addr),
		cmocka_unit_test(test_route),	   cmocka_unit_test(test_hairpin),
		cmocka_unit_test(test_batch),	   cmocka_unit_test(test_veth),
		cmocka_unit_test(test_parse_link), cmocka_unit_test(test_parse_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
