/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/rules.c: the rendered rules are compared with upstream
 * flannel's golden listings (flannel-behaviour.md §5.2 `iptables -S`, §5.3
 * `nft list chain`, with N = 10.244.0.0/16 and L = 10.244.1.0/24), and the
 * planner is run on recorded `iptables-save` outputs: fresh host, converged
 * host, kube-proxy jumps after ours, duplicates, the previous subnet's
 * rules (recycling), removal, chunked input and oversized input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/rules.h"

#define MASQ_V4                                                                                   \
	"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" " \
	"-j RETURN\n"                                                                             \
	"-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment \"flanneld "   \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld "   \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld " \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld "   \
	"masq\" -j MASQUERADE --random-fully\n"                                                   \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment \"flanneld " \
	"masq\" -j MASQUERADE --random-fully\n"

#define JUMP_MASQ "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG"
#define JUMP_FWD  "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD"

static struct rules_net net4(const char *n, const char *s)
{
	struct ip_net a, b;
	struct rules_net r;

	assert_int_equal(ip_net_parse(n, &a), 0);
	assert_int_equal(ip_net_parse(s, &b), 0);
	assert_int_equal(
		rules_net_set(&r, a.addr.family == AF_INET6 ? RULES_IPV6 : RULES_IPV4, &a, &b), 0);
	return r;
}

static void test_net_set(void **state)
{
	struct ip_net a, b;
	struct rules_net r = {0};

	/* FLANNEL_SUBNET in subnet.env is the first host: masked like net.ParseCIDR */
	r = net4("10.244.0.0/16", "10.244.1.1/24");
	assert_true(r.enabled);
	assert_true(ip_net_is_masked(&r.subnet));
	assert_int_equal(r.subnet.prefixlen, 24);

	assert_int_equal(ip_net_parse("0.0.0.0/0", &a), 0);
	assert_int_equal(ip_net_parse("10.244.1.0/24", &b), 0);
	assert_int_equal(rules_net_set(&r, RULES_IPV4, &a, &b), -EINVAL);
	assert_int_equal(ip_net_parse("10.245.0.0/16", &a), 0);
	assert_int_equal(rules_net_set(&r, RULES_IPV4, &a, &b), -EINVAL);
	assert_int_equal(rules_net_set(&r, RULES_IPV6, &a, &b), -EAFNOSUPPORT);
	assert_int_equal(ip_net_parse("2001:db8::/48", &a), 0);
	assert_int_equal(rules_net_set(&r, RULES_IPV6, &a, &b), -EAFNOSUPPORT);
	(void)state;
}

static void test_ipt_masq_v4(void **state)
{
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf b = BUF_INIT;

	assert_int_equal(rules_ipt_masq(RULES_IPV4, &n, true, &b), 0);
	assert_string_equal(b.data, MASQ_V4);
	assert_string_equal(rules_ipt_masq_jump(), JUMP_MASQ);
	(void)state;
}

static void test_ipt_masq_no_random(void **state)
{
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf b = BUF_INIT;

	assert_int_equal(rules_ipt_masq(RULES_IPV4, &n, false, &b), 0);
	assert_null(strstr(b.data, "random"));
	assert_non_null(strstr(b.data, "-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m "
				       "comment --comment \"flanneld masq\" -j MASQUERADE\n"));
	assert_non_null(strstr(b.data, "-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m "
				       "comment --comment \"flanneld masq\" -j MASQUERADE\n"));
	(void)state;
}

static void test_ipt_masq_v6(void **state)
{
	struct rules_net n = net4("2001:db8:42::/56", "2001:db8:42:1::/64");
	_cleanup_buf_ struct buf b = BUF_INIT;
	const char *c = "-m comment --comment \"flanneld masq\"";
	char want[2048];

	snprintf(want, sizeof(want),
		 "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 %s -j RETURN\n"
		 "-A FLANNEL-POSTRTG -s 2001:db8:42:1::/64 -d 2001:db8:42::/56 %s -j RETURN\n"
		 "-A FLANNEL-POSTRTG -s 2001:db8:42::/56 -d 2001:db8:42:1::/64 %s -j RETURN\n"
		 "-A FLANNEL-POSTRTG ! -s 2001:db8:42::/56 -d 2001:db8:42:1::/64 %s -j RETURN\n"
		 "-A FLANNEL-POSTRTG -s 2001:db8:42::/56 ! -d ff00::/8 %s -j MASQUERADE "
		 "--random-fully\n"
		 "-A FLANNEL-POSTRTG ! -s 2001:db8:42::/56 -d 2001:db8:42::/56 %s -j MASQUERADE "
		 "--random-fully\n",
		 c, c, c, c, c, c);
	assert_int_equal(rules_ipt_masq(RULES_IPV6, &n, true, &b), 0);
	assert_string_equal(b.data, want);
	/* a v6 net rendered as v4 rules is refused */
	assert_int_equal(rules_ipt_masq(RULES_IPV4, &n, true, &b), -EINVAL);
	(void)state;
}

static void test_ipt_fwd(void **state)
{
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.0/24");
	struct rules_net n6 = net4("2001:db8:42::/56", "2001:db8:42:1::/64");
	_cleanup_buf_ struct buf b = BUF_INIT;

	assert_int_equal(rules_ipt_fwd(&n, &b), 0);
	assert_string_equal(b.data, "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "
				    "\"flanneld forward\" -j ACCEPT\n"
				    "-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "
				    "\"flanneld forward\" -j ACCEPT\n");
	assert_string_equal(rules_ipt_fwd_jump(), JUMP_FWD);
	buf_reset(&b);
	assert_int_equal(rules_ipt_fwd(&n6, &b), 0);
	assert_string_equal(b.data, "-A FLANNEL-FWD -s 2001:db8:42::/56 -m comment --comment "
				    "\"flanneld forward\" -j ACCEPT\n"
				    "-A FLANNEL-FWD -d 2001:db8:42::/56 -m comment --comment "
				    "\"flanneld forward\" -j ACCEPT\n");
	(void)state;
}

/* ---- scanner + planner ---- */

#define SAVE_HEAD                                                                       \
	"# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 00:14:13 2026\n" \
	"*nat\n"                                                                        \
	":PREROUTING ACCEPT [0:0]\n"                                                    \
	":INPUT ACCEPT [0:0]\n"                                                         \
	":OUTPUT ACCEPT [0:0]\n"                                                        \
	":POSTROUTING ACCEPT [0:0]\n"
#define SAVE_TAIL "COMMIT\n# Completed on Sun Nov 29 00:14:13 2026\n"
#define KUBE_JUMP \
	"-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"

/* Scan text (in chunks of `chunk` bytes) for the nat table and plan it. */
static int plan_nat(const char *text, size_t chunk, const char *want, bool jump_last,
		    struct buf *out)
{
	struct ipt_scan s;
	size_t len = strlen(text);
	int r;

	ipt_scan_init(&s, "nat", "POSTROUTING", "FLANNEL-POSTRTG", rules_ipt_masq_jump());
	for (size_t off = 0; off < len; off += chunk)
		assert_int_equal(ipt_scan_feed(&s, text + off, MIN(chunk, len - off)), 0);
	assert_int_equal(ipt_scan_finish(&s), 0);
	r = rules_ipt_plan(&s, want, jump_last, out);
	ipt_scan_done(&s);
	return r;
}

static void test_plan_fresh(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(plan_nat(SAVE_HEAD KUBE_JUMP SAVE_TAIL, 4096, MASQ_V4, true, &out), 0);
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 JUMP_MASQ "\n"
				      "COMMIT\n");
	(void)state;
}

static const char converged[] =
	SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n"
		  ":KUBE-POSTROUTING - [0:0]\n" KUBE_JUMP JUMP_MASQ "\n" MASQ_V4 SAVE_TAIL;

static void test_plan_converged(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	/* whatever the chunking, a converged table needs nothing */
	assert_int_equal(plan_nat(converged, 4096, MASQ_V4, true, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(plan_nat(converged, 1, MASQ_V4, true, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(plan_nat(converged, 7, MASQ_V4, false, &out), 0);
	assert_int_equal(out.len, 0);
	(void)state;
}

static void test_plan_jump_not_last(void **state)
{
	static const char text[] =
		SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n" KUBE_JUMP MASQ_V4 SAVE_TAIL;
	_cleanup_buf_ struct buf out = BUF_INIT;

	/* start-up: moved behind kube-proxy's jump, in the same transaction */
	assert_int_equal(plan_nat(text, 13, MASQ_V4, true, &out), 0);
	assert_string_equal(out.data, "*nat\n-D POSTROUTING -m comment --comment \"flanneld masq\" "
				      "-j FLANNEL-POSTRTG\n" JUMP_MASQ "\nCOMMIT\n");
	/* resync: present is enough, no churn against other appenders */
	buf_reset(&out);
	assert_int_equal(plan_nat(text, 13, MASQ_V4, false, &out), 0);
	assert_int_equal(out.len, 0);
	(void)state;
}

static void test_plan_duplicate_jumps(void **state)
{
	static const char text[] = SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n" JUMP_MASQ
					     "\n" MASQ_V4 SAVE_TAIL;
	_cleanup_buf_ struct buf out = BUF_INIT;
	const char *del =
		"-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n";
	char want[1024];

	snprintf(want, sizeof(want), "*nat\n%s%s%s\nCOMMIT\n", del, del, JUMP_MASQ);
	assert_int_equal(plan_nat(text, 4096, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data, want);
	(void)state;
}

static void test_plan_hand_deleted(void **state)
{
	/* someone deleted the MASQUERADE rules and the jump */
	static const char text[] =
		SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n"
			  "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "
			  "\"flanneld masq\" -j RETURN\n" SAVE_TAIL;
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(plan_nat(text, 4096, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 JUMP_MASQ "\n"
				      "COMMIT\n");
	(void)state;
}

static void test_plan_recycle_previous_subnet(void **state)
{
	struct rules_net prev = net4("10.244.0.0/16", "10.244.7.0/24");
	struct rules_net cur = net4("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf old = BUF_INIT, want = BUF_INIT, text = BUF_INIT, out = BUF_INIT;

	assert_int_equal(rules_ipt_masq(RULES_IPV4, &prev, true, &old), 0);
	assert_int_equal(rules_ipt_masq(RULES_IPV4, &cur, true, &want), 0);
	assert_int_equal(buf_printf(&text, "%s:FLANNEL-POSTRTG - [0:0]\n%s\n%s%s", SAVE_HEAD,
				    JUMP_MASQ, old.data, SAVE_TAIL),
			 0);
	assert_int_equal(plan_nat(text.data, 4096, want.data, true, &out), 0);
	/* one transaction: the chain is refilled, the old subnet's rules are gone, the jump stays */
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 "COMMIT\n");
	assert_null(strstr(out.data, "10.244.7.0/24"));
	(void)state;
}

static void test_plan_other_table_ignored(void **state)
{
	/* the same chain name in another table is not ours to judge */
	static const char text[] = "*filter\n:FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n" MASQ_V4
				   "COMMIT\n" SAVE_HEAD SAVE_TAIL;
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(plan_nat(text, 4096, MASQ_V4, true, &out), 0);
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 JUMP_MASQ "\n"
				      "COMMIT\n");
	(void)state;
}

static void test_plan_remove(void **state)
{
	static const char text[] =
		SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n" KUBE_JUMP JUMP_MASQ
			  "\n-A POSTROUTING -s 10.1.0.0/16 -j FLANNEL-POSTRTG\n"
			  "-A OUTPUT -g FLANNEL-POSTRTG\n"
			  "-A POSTROUTING -j FLANNEL-POSTRTGX\n" MASQ_V4 SAVE_TAIL;
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(plan_nat(text, 5, NULL, false, &out), 0);
	assert_string_equal(
		out.data,
		"*nat\n"
		"-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
		"-D POSTROUTING -s 10.1.0.0/16 -j FLANNEL-POSTRTG\n"
		"-D OUTPUT -g FLANNEL-POSTRTG\n"
		"-F FLANNEL-POSTRTG\n-X FLANNEL-POSTRTG\n"
		"COMMIT\n");
	/* nothing of ours: nothing to do */
	buf_reset(&out);
	assert_int_equal(plan_nat(SAVE_HEAD KUBE_JUMP SAVE_TAIL, 4096, NULL, false, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(plan_nat("", 4096, NULL, false, &out), 0);
	assert_int_equal(out.len, 0);
	(void)state;
}

static void test_plan_overflow(void **state)
{
	_cleanup_buf_ struct buf text = BUF_INIT, out = BUF_INIT;

	assert_int_equal(buf_puts(&text, SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n"), 0);
	while (text.len < 2 * RULES_IPT_MAX_KEPT)
		assert_int_equal(buf_puts(&text, "-A FLANNEL-POSTRTG -s 10.9.9.9/32 -j RETURN\n"),
				 0);
	assert_int_equal(buf_puts(&text, SAVE_TAIL), 0);

	/* we refuse to delete what we could not see... */
	assert_int_equal(plan_nat(text.data, 65536, NULL, false, &out), -EBADMSG);
	/* ...but rewriting our own chain is always safe */
	assert_int_equal(plan_nat(text.data, 65536, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 "COMMIT\n");
	(void)state;
}

static void test_plan_long_line(void **state)
{
	_cleanup_buf_ struct buf text = BUF_INIT, out = BUF_INIT;

	assert_int_equal(buf_puts(&text, converged), 0);
	assert_int_equal(buf_puts(&text, "*nat\n-A POSTROUTING -m comment --comment \""), 0);
	for (size_t i = 0; i < RULES_IPT_MAX_LINE; i++)
		assert_int_equal(buf_puts(&text, "x"), 0);
	assert_int_equal(buf_puts(&text, "\" -j RETURN\nCOMMIT\n"), 0);
	/* an unreadable line might be anything: rewrite, and move the jump at start-up */
	assert_int_equal(plan_nat(text.data, 4096, MASQ_V4, true, &out), 0);
	assert_non_null(strstr(out.data, ":FLANNEL-POSTRTG - [0:0]\n"));
	assert_non_null(strstr(out.data, "-D POSTROUTING"));
	(void)state;
}

/* ---- nftables ---- */

#define NFT_V4_POSTRTG                                                                   \
	"\tchain postrtg {\n"                                                            \
	"\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"              \
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"                \
	"\t\tmeta mark 0x00004000 return\n"                                              \
	"\t\tip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n"                     \
	"\t\tip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return\n"                     \
	"\t\tip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n"                  \
	"\t\tip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random\n"   \
	"\t\tip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random\n" \
	"\t}\n"
#define NFT_V4_FORWARD                                                   \
	"\tchain forward {\n"                                            \
	"\t\tcomment \"chain to accept flannel traffic\"\n"              \
	"\t\ttype filter hook forward priority filter; policy accept;\n" \
	"\t\tip saddr 10.244.0.0/16 accept\n"                            \
	"\t\tip daddr 10.244.0.0/16 accept\n"                            \
	"\t}\n"
#define NFT_V4_HEAD "table ip flannel-ipv4 {\n\tcomment \"rules for flannel-ipv4\"\n"

static void test_nft_v4(void **state)
{
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf b = BUF_INIT, s = BUF_INIT;

	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, true, true, true, &b), 0);
	assert_string_equal(b.data, NFT_V4_HEAD NFT_V4_POSTRTG "\n" NFT_V4_FORWARD "}\n");
	assert_int_equal(rules_nft_apply_script(RULES_IPV4, b.data, &s), 0);
	assert_string_equal(s.data,
			    "add table ip flannel-ipv4\ndelete table ip flannel-ipv4\n" NFT_V4_HEAD
				    NFT_V4_POSTRTG "\n" NFT_V4_FORWARD "}\n");

	buf_reset(&b);
	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, true, false, true, &b), 0);
	assert_string_equal(b.data, NFT_V4_HEAD NFT_V4_POSTRTG "}\n");
	buf_reset(&b);
	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, false, true, true, &b), 0);
	assert_string_equal(b.data, NFT_V4_HEAD NFT_V4_FORWARD "}\n");
	buf_reset(&b);
	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, false, false, true, &b), 0);
	assert_string_equal(b.data, NFT_V4_HEAD "}\n");
	buf_reset(&b);
	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, true, false, false, &b), 0);
	assert_null(strstr(b.data, "fully-random"));
	assert_non_null(strstr(b.data, "ip daddr != 224.0.0.0/4 masquerade\n"));
	(void)state;
}

static void test_nft_v6(void **state)
{
	struct rules_net n = net4("2001:db8:42::/56", "2001:db8:42:1::/64");
	_cleanup_buf_ struct buf b = BUF_INIT, s = BUF_INIT;

	assert_int_equal(rules_nft_table_text(RULES_IPV6, &n, true, true, true, &b), 0);
	assert_string_equal(
		b.data,
		"table ip6 flannel-ipv6 {\n\tcomment \"rules for flannel-ipv6\"\n"
		"\tchain postrtg {\n"
		"\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tmeta mark 0x00004000 return\n"
		"\t\tip6 saddr 2001:db8:42:1::/64 ip6 daddr 2001:db8:42::/56 return\n"
		"\t\tip6 saddr 2001:db8:42::/56 ip6 daddr 2001:db8:42:1::/64 return\n"
		"\t\tip6 saddr != 2001:db8:42:1::/64 ip6 daddr 2001:db8:42::/56 return\n"
		"\t\tip6 saddr 2001:db8:42::/56 ip6 daddr != ff00::/8 masquerade fully-random\n"
		"\t\tip6 saddr != 2001:db8:42::/56 ip6 daddr 2001:db8:42::/56 masquerade fully-random\n"
		"\t}\n\n"
		"\tchain forward {\n"
		"\t\tcomment \"chain to accept flannel traffic\"\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tip6 saddr 2001:db8:42::/56 accept\n"
		"\t\tip6 daddr 2001:db8:42::/56 accept\n"
		"\t}\n}\n");
	assert_int_equal(rules_nft_delete_script(RULES_IPV6, &s), 0);
	assert_string_equal(s.data, "add table ip6 flannel-ipv6\ndelete table ip6 flannel-ipv6\n");
	/* a v4 net rendered into the ip6 table is refused */
	struct rules_net n4 = net4("10.244.0.0/16", "10.244.1.0/24");
	assert_int_equal(rules_nft_table_text(RULES_IPV6, &n4, true, false, true, &b), -EINVAL);
	(void)state;
}

static void test_nft_host_prefix(void **state)
{
	/* nft prints a /32 as a bare address; so must we, or resync would never converge */
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.1/32");
	_cleanup_buf_ struct buf b = BUF_INIT;

	assert_int_equal(rules_nft_table_text(RULES_IPV4, &n, true, false, true, &b), 0);
	assert_non_null(strstr(b.data, "ip saddr 10.244.1.1 ip daddr 10.244.0.0/16 return\n"));
	(void)state;
}

static void test_nft_listing_equal(void **state)
{
	static const char want[] = NFT_V4_HEAD NFT_V4_POSTRTG "\n" NFT_V4_FORWARD "}\n";
	static const char handles[] =
		"table ip flannel-ipv4 { # handle 7\n"
		"  comment \"rules for flannel-ipv4\"\n"
		"  chain postrtg { # handle 1\n"
		"    comment \"chain to manage traffic masquerading by flannel\"\n"
		"    type nat hook postrouting priority srcnat; policy accept;\n"
		"    meta mark 0x00004000 return # handle 2\n"
		"    ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return # handle 3\n"
		"    ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return # handle 4\n"
		"    ip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 return # handle 5\n"
		"    ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random # handle 6\n"
		"    ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random # handle 8\n"
		"  }\r\n\n\n"
		"  chain forward { # handle 9\n"
		"    comment \"chain to accept flannel traffic\"\n"
		"    type filter hook forward priority filter; policy accept;\n"
		"    ip saddr 10.244.0.0/16 accept # handle 10\n"
		"    ip daddr 10.244.0.0/16 accept # handle 11\n"
		"  }\n"
		"}";
	char *cut;

	assert_true(rules_nft_listing_equal(want, strlen(want), want));
	assert_true(rules_nft_listing_equal(handles, strlen(handles), want));
	/* a missing rule, a missing last line, an extra line, a changed address */
	cut = strdup(want);
	assert_non_null(cut);
	*strstr(cut, "\t\tmeta mark") = '\0';
	assert_false(rules_nft_listing_equal(cut, strlen(cut), want));
	assert_false(rules_nft_listing_equal(want, strlen(want) - 2, want));
	free(cut);
	assert_false(rules_nft_listing_equal(handles, strlen(handles), NFT_V4_HEAD "}\n"));
	assert_false(rules_nft_listing_equal("", 0, want));
	assert_true(rules_nft_listing_equal("\n\n", 2, ""));
	/* nft printed nothing (an empty struct buf) */
	assert_true(rules_nft_listing_equal(NULL, 0, "\n"));
	assert_false(rules_nft_listing_equal(NULL, 0, want));
	assert_false(rules_nft_tables_has(NULL, 0, RULES_IPV4));
	/* "# handle" alone or without digits is content */
	assert_false(rules_nft_listing_equal("x # handle \n", 12, "x\n"));
	(void)state;
}

static void test_nft_tables_has(void **state)
{
	static const char list[] = "table ip nat\ntable ip flannel-ipv4\ntable inet x\n";

	assert_true(rules_nft_tables_has(list, strlen(list), RULES_IPV4));
	assert_false(rules_nft_tables_has(list, strlen(list), RULES_IPV6));
	assert_false(rules_nft_tables_has("table ip flannel-ipv40\n", 23, RULES_IPV4));
	assert_true(rules_nft_tables_has("table ip6 flannel-ipv6", 22, RULES_IPV6));
	(void)state;
}

static void test_blackhole(void **state)
{
	struct rules_net v4 = net4("10.244.0.0/16", "10.244.1.0/24");
	struct rules_net v6 = net4("2001:db8:42::/56", "2001:db8:42:1::/64");
	struct rules_net off = {0};
	struct ip_net r[2];
	char b[IP_NET_STRLEN];

	assert_int_equal(rules_blackhole_routes(&v4, &v6, r), 2);
	assert_string_equal(ip_net_fmt(&r[0], b), "10.244.1.0/24");
	assert_string_equal(ip_net_fmt(&r[1], b), "2001:db8:42:1::/64");
	assert_int_equal(rules_blackhole_routes(&off, &v6, r), 1);
	assert_string_equal(ip_net_fmt(&r[0], b), "2001:db8:42:1::/64");
	assert_int_equal(rules_blackhole_routes(NULL, NULL, r), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_set),
		cmocka_unit_test(test_ipt_masq_v4),
		cmocka_unit_test(test_ipt_masq_no_random),
		cmocka_unit_test(test_ipt_masq_v6),
		cmocka_unit_test(test_ipt_fwd),
		cmocka_unit_test(test_plan_fresh),
		cmocka_unit_test(test_plan_converged),
		cmocka_unit_test(test_plan_jump_not_last),
		cmocka_unit_test(test_plan_duplicate_jumps),
		cmocka_unit_test(test_plan_hand_deleted),
		cmocka_unit_test(test_plan_recycle_previous_subnet),
		cmocka_unit_test(test_plan_other_table_ignored),
		cmocka_unit_test(test_plan_remove),
		cmocka_unit_test(test_plan_overflow),
		cmocka_unit_test(test_plan_long_line),
		cmocka_unit_test(test_nft_v4),
		cmocka_unit_test(test_nft_v6),
		cmocka_unit_test(test_nft_host_prefix),
		cmocka_unit_test(test_nft_listing_equal),
		cmocka_unit_test(test_nft_tables_has),
		cmocka_unit_test(test_blackhole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
