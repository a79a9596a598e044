/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/rules/nfnotify.c's scanner: nf_tables notifications laid
 * out as the kernel sends them (nlmsghdr, nfgenmsg, attributes; the table's
 * name is attribute 1 of table, chain, rule and set messages) are counted
 * when they name a table the predicate wants; the generation message, other
 * netfilter subsystems and attributes that are not a proper string are not;
 * a malformed sequence is -EBADMSG.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/rules/nfnotify.h"

struct msgbuf {
	_Alignas(struct nlmsghdr) uint8_t data[4096];
	size_t len;
};

/* Append one message: subsystem/type, family, and attribute 1 = payload[0..plen). */
static void add(struct msgbuf *b, uint16_t subsys, uint16_t type, uint8_t family,
		const void *payload, size_t plen)
{
	struct nlmsghdr h = {.nlmsg_type = (uint16_t)(subsys << 8 | type)};
	struct nfgenmsg g = {.nfgen_family = family, .version = NFNETLINK_V0};
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + plen), .nla_type = 1};
	size_t off = b->len;

	h.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g)) + NLA_ALIGN(a.nla_len));
	assert_true(off + h.nlmsg_len <= sizeof(b->data));
	memset(b->data + off, 0, h.nlmsg_len);
	memcpy(b->data + off, &h, sizeof(h));
	memcpy(b->data + off + NLMSG_HDRLEN, &g, sizeof(g));
	memcpy(b->data + off + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g)), &a, sizeof(a));
	memcpy(b->data + off + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g)) + NLA_HDRLEN, payload, plen);
	b->len += NLMSG_ALIGN(h.nlmsg_len);
}

static void add_table_msg(struct msgbuf *b, uint16_t type, uint8_t family, const char *table)
{
	add(b, NFNL_SUBSYS_NFTABLES, type, family, table, strlen(table) + 1);
}

/* Wants family ip (AF_INET) tables "nat" and "flannel-ipv4". */
static bool want_ours(uint8_t family, const char *table, void *userdata)
{
	int *calls = userdata;

	(*calls)++;
	return family == AF_INET &&
	       (strcmp(table, "nat") == 0 || strcmp(table, "flannel-ipv4") == 0);
}

static void test_transaction(void **state)
{
	struct msgbuf b = {0};
	uint32_t gen = 42;
	int calls = 0;

	/* iptables-nft -t nat -A FLANNEL-POSTRTG ...: a chain and a rule, then the generation */
	add_table_msg(&b, NFT_MSG_NEWCHAIN, AF_INET, "nat");
	add_table_msg(&b, NFT_MSG_NEWRULE, AF_INET, "nat");
	add(&b, NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWGEN, AF_UNSPEC, &gen, sizeof(gen));
	assert_int_equal(nfnotify_scan(b.data, b.len, want_ours, &calls), 2);
	assert_int_equal(calls, 2);
	/* without a predicate every table message counts */
	assert_int_equal(nfnotify_scan(b.data, b.len, NULL, NULL), 2);
	(void)state;
}

static void test_other_tables_and_families(void **state)
{
	struct msgbuf b = {0};
	int calls = 0;

	add_table_msg(&b, NFT_MSG_NEWRULE, AF_INET6, "nat");   /* ip6 nat: not wanted */
	add_table_msg(&b, NFT_MSG_DELRULE, AF_INET, "mangle"); /* another table */
	add_table_msg(&b, NFT_MSG_NEWSETELEM, 1 /* inet */, "kube-proxy");
	add_table_msg(&b, NFT_MSG_DELTABLE, AF_INET, "flannel-ipv4"); /* ours deleted */
	assert_int_equal(nfnotify_scan(b.data, b.len, want_ours, &calls), 1);
	assert_int_equal(calls, 4);
	(void)state;
}

static void test_not_counted(void **state)
{
	static const char unterminated[] = {'n', 'a', 't'};
	static const char embedded[] = "na\0t";
	struct msgbuf b = {0};
	int calls = 0;

	/* a conntrack message (another netfilter subsystem) */
	add(&b, NFNL_SUBSYS_CTNETLINK, 0, AF_INET, "nat", 4);
	/* the table name without its NUL, or with one inside */
	add(&b, NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWRULE, AF_INET, unterminated, sizeof(unterminated));
	add(&b, NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWRULE, AF_INET, embedded, sizeof(embedded));
	assert_int_equal(nfnotify_scan(b.data, b.len, want_ours, &calls), 0);
	assert_int_equal(calls, 0);
	(void)state;
}

static void test_malformed(void **state)
{
	struct msgbuf b = {0};
	struct nlmsghdr h;

	add_table_msg(&b, NFT_MSG_NEWRULE, AF_INET, "nat");
	/* a truncated datagram */
	assert_int_equal(nfnotify_scan(b.data, b.len - 1, NULL, NULL), -EBADMSG);
	assert_int_equal(nfnotify_scan(b.data, 3, NULL, NULL), -EBADMSG);
	/* a header claiming less than itself */
	memcpy(&h, b.data, sizeof(h));
	h.nlmsg_len = 4;
	memcpy(b.data, &h, sizeof(h));
	assert_int_equal(nfnotify_scan(b.data, b.len, NULL, NULL), -EBADMSG);
	/* an attribute longer than its message is not a table */
	b = (struct msgbuf){0};
	add_table_msg(&b, NFT_MSG_NEWRULE, AF_INET, "nat");
	b.data[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg))] = 0xff;
	assert_int_equal(nfnotify_scan(b.data, b.len, NULL, NULL), 0);
	assert_int_equal(nfnotify_scan(b.data, 0, NULL, NULL), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_other_tables_and_families),
		cmocka_unit_test(test_not_counted),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
