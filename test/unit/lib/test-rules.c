/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/rules/rules.c: the rendered rules are compared with upstream
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

#include "lib/rules/rules.h"

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

/* The header comment tells iptables-nft (whose changes the kernel reports) from legacy. */
static void test_scan_nf_tables(void **state)
{
	static const char *const legacy =
		"# Generated by iptables-save v1.8.9 on Sun Nov 29 00:14:13 2026\n*nat\nCOMMIT\n";
	struct ipt_scan s;

	ipt_scan_init(&s, "nat", "POSTROUTING", "FLANNEL-POSTRTG", rules_ipt_masq_jump());
	assert_int_equal(ipt_scan_feed(&s, converged, strlen(converged)), 0);
	assert_true(s.nf_tables);
	assert_true(s.table_seen);
	ipt_scan_done(&s);
	ipt_scan_init(&s, "nat", "POSTROUTING", "FLANNEL-POSTRTG", rules_ipt_masq_jump());
	assert_int_equal(ipt_scan_feed(&s, legacy, strlen(legacy)), 0);
	assert_false(s.nf_tables);
	assert_true(s.table_seen);
	ipt_scan_done(&s);
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

/* ---- chains shared with another flanneld ---- */

/* Another network's rules (10.245.0.0/16, lease 10.245.3.0/24), as its flanneld writes them. */
#define OTHER_V4                                                                                  \
	"-A FLANNEL-POSTRTG -s 10.245.3.0/24 -d 10.245.0.0/16 -m comment --comment \"flanneld "   \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG -s 10.245.0.0/16 -d 10.245.3.0/24 -m comment --comment \"flanneld "   \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG ! -s 10.245.0.0/16 -d 10.245.3.0/24 -m comment --comment \"flanneld " \
	"masq\" -j RETURN\n"                                                                      \
	"-A FLANNEL-POSTRTG -s 10.245.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld "   \
	"masq\" -j MASQUERADE --random-fully\n"                                                   \
	"-A FLANNEL-POSTRTG ! -s 10.245.0.0/16 -d 10.245.0.0/16 -m comment --comment \"flanneld " \
	"masq\" -j MASQUERADE --random-fully\n"
#define MARK_RULE                                                                                 \
	"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" " \
	"-j RETURN\n"

static struct rules_owned owned_of(const char *n, const char *s)
{
	struct rules_net r = net4(n, s);
	struct rules_owned o = {0};

	assert_int_equal(rules_owned_add_net(&o, &r), 0);
	return o;
}

static int plan_nat_shared(const char *text, const struct rules_owned *o, const char *want,
			   bool jump_last, struct buf *out)
{
	struct ipt_scan s;
	int r;

	ipt_scan_init(&s, "nat", "POSTROUTING", "FLANNEL-POSTRTG", rules_ipt_masq_jump());
	assert_int_equal(ipt_scan_feed(&s, text, strlen(text)), 0);
	assert_int_equal(ipt_scan_finish(&s), 0);
	r = rules_ipt_plan_shared(&s, want, o, jump_last, out);
	ipt_scan_done(&s);
	return r;
}

static void test_owned_match(void **state)
{
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");
	struct rules_owned h = owned_of("10.244.0.0/16", "10.244.1.1/32");
	struct ip_net any;
#define M(o, line) rules_owned_match(o, line, strlen(line))

	assert_true(M(&o, "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"x\" -j ACCEPT"));
	assert_true(M(&o, "-A FLANNEL-POSTRTG ! -s 10.9.0.0/16 -d 10.244.1.0/24 -j RETURN"));
	assert_true(M(&o, "ip saddr != 10.244.1.0/24 ip daddr 10.9.0.0/16 return"));
	assert_true(M(&o, "ip daddr 10.244.0.0/16 accept"));
	assert_true(M(&h, "ip saddr 10.244.1.1 ip daddr 10.9.0.0/16 return"));
	assert_true(M(&h, "-A FLANNEL-POSTRTG -s 10.244.1.1/32 -j RETURN"));
	/* other networks, the multicast range, a mark, a comment or a longer word are not ours */
	assert_false(M(&o, "-A FLANNEL-FWD -s 10.245.0.0/16 -j ACCEPT"));
	assert_false(M(&o, "-A FLANNEL-POSTRTG -s 10.245.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE"));
	assert_false(M(&o, MARK_RULE));
	assert_false(M(&o, "-A FLANNEL-FWD -m comment --comment 10.244.0.0/16 -j ACCEPT"));
	assert_false(M(&o, "-A FLANNEL-FWD -s 10.244.0.0/160 -j ACCEPT"));
	assert_false(M(&o, "meta mark != 10.244.0.0/16 accept"));
	assert_false(M(&o, "-s"));
	assert_false(M(&o, ""));
	assert_false(rules_owned_match(NULL, "-s 10.244.0.0/16", 16));
	/* the set: masked, without duplicates, bounded, never /0 */
	assert_int_equal(o.n, 2);
	assert_int_equal(ip_net_parse("10.244.7.1/24", &any), 0);
	assert_int_equal(rules_owned_add(&o, &any), 0);
	assert_int_equal(rules_owned_add(&o, &any), 0);
	assert_int_equal(o.n, 3);
	assert_true(M(&o, "-s 10.244.7.0/24"));
	assert_int_equal(ip_net_parse("10.1.0.0/16", &any), 0);
	assert_int_equal(rules_owned_add(&o, &any), 0);
	assert_int_equal(ip_net_parse("10.2.0.0/16", &any), 0);
	assert_int_equal(rules_owned_add(&o, &any), -ENOSPC);
	assert_int_equal(ip_net_parse("0.0.0.0/0", &any), 0);
	assert_int_equal(rules_owned_add(&h, &any), -EINVAL);
#undef M
	(void)state;
}

static void test_plan_shared_converged(void **state)
{
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf out = BUF_INIT;
	/* the other network wrote last: its rules first, our mark rule shared with it */
	static const char theirs_first[] = SAVE_HEAD
		":FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n" MARK_RULE OTHER_V4
		"-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "
		"\"flanneld masq\" -j RETURN\n"
		"-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "
		"\"flanneld masq\" -j RETURN\n"
		"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "
		"\"flanneld masq\" -j RETURN\n"
		"-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "
		"\"flanneld masq\" -j MASQUERADE --random-fully\n"
		"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "
		"\"flanneld masq\" -j MASQUERADE --random-fully\n" SAVE_TAIL;
	static const char ours_first[] =
		SAVE_HEAD ":FLANNEL-POSTRTG - [0:0]\n" JUMP_MASQ "\n" MASQ_V4 OTHER_V4 SAVE_TAIL;

	/* ours are all there, in order: nothing to write, whoever is first */
	assert_int_equal(plan_nat_shared(theirs_first, &o, MASQ_V4, true, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(plan_nat_shared(ours_first, &o, MASQ_V4, false, &out), 0);
	assert_int_equal(out.len, 0);
	/* the same chains seen by an exclusive owner would be rewritten */
	assert_int_equal(plan_nat(ours_first, 4096, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data, "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 "COMMIT\n");
	(void)state;
}

static void test_plan_shared_repair_keeps_foreign(void **state)
{
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf out = BUF_INIT;
	/* our MASQUERADE rules were deleted by hand; a user rule sits in between */
	static const char text[] = SAVE_HEAD
		":FLANNEL-POSTRTG - [0:0]\n" MARK_RULE
		"-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "
		"\"flanneld masq\" -j RETURN\n"
		"-A FLANNEL-POSTRTG -s 10.9.9.9/32 -j RETURN\n" OTHER_V4 SAVE_TAIL;

	assert_int_equal(plan_nat_shared(text, &o, MASQ_V4, false, &out), 0);
	/* one transaction: ours first, then the foreign rules in their order; the jump re-added */
	assert_string_equal(out.data,
			    "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4
			    "-A FLANNEL-POSTRTG -s 10.9.9.9/32 -j RETURN\n" OTHER_V4 JUMP_MASQ
			    "\nCOMMIT\n");
	(void)state;
}

static void test_plan_shared_order_and_duplicates(void **state)
{
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf text = BUF_INIT, swapped = BUF_INIT, out = BUF_INIT;
	char *l2, *l3;

	/* our 2nd and 3rd rules swapped: out of order, rewritten */
	assert_int_equal(buf_puts(&swapped, MASQ_V4), 0);
	l2 = strchr(swapped.data, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	memcpy(l2, "-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24", 52);
	memcpy(l3, "-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16", 52);
	assert_int_equal(buf_printf(&text, "%s:FLANNEL-POSTRTG - [0:0]\n%s\n%s%s%s", SAVE_HEAD,
				    JUMP_MASQ, OTHER_V4, swapped.data, SAVE_TAIL),
			 0);
	assert_int_equal(plan_nat_shared(text.data, &o, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data,
			    "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 OTHER_V4 "COMMIT\n");

	/* the mark rule twice (each network added one): one is kept */
	buf_reset(&text);
	buf_reset(&out);
	assert_int_equal(buf_printf(&text, "%s:FLANNEL-POSTRTG - [0:0]\n%s\n%s%s%s%s", SAVE_HEAD,
				    JUMP_MASQ, MASQ_V4, MARK_RULE, OTHER_V4, SAVE_TAIL),
			 0);
	assert_int_equal(plan_nat_shared(text.data, &o, MASQ_V4, false, &out), 0);
	assert_string_equal(out.data,
			    "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 OTHER_V4 "COMMIT\n");
	(void)state;
}

static void test_plan_shared_recycle(void **state)
{
	struct rules_net prev = net4("10.246.0.0/16", "10.246.7.0/24");
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf old = BUF_INIT, text = BUF_INIT, out = BUF_INIT;

	/* the previous run had another network and lease (subnet.env): those rules are ours too */
	assert_int_equal(rules_owned_add_net(&o, &prev), 0);
	assert_int_equal(rules_ipt_masq(RULES_IPV4, &prev, true, &old), 0);
	assert_int_equal(buf_printf(&text, "%s:FLANNEL-POSTRTG - [0:0]\n%s\n%s%s%s", SAVE_HEAD,
				    JUMP_MASQ, old.data, OTHER_V4, SAVE_TAIL),
			 0);
	assert_int_equal(plan_nat_shared(text.data, &o, MASQ_V4, true, &out), 0);
	assert_string_equal(out.data,
			    "*nat\n:FLANNEL-POSTRTG - [0:0]\n" MASQ_V4 OTHER_V4 "COMMIT\n");
	assert_null(strstr(out.data, "10.246."));
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
	/* a missing table is created with exactly this text */
	assert_int_equal(rules_nft_plan(RULES_IPV4, &n, NULL, true, true, true, NULL, 0, &s), 0);
	assert_string_equal(s.data, b.data);

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

/* `nft -a list table ip flannel-ipv4` of a converged host */
static const char nft_handles[] =
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

#define NFT_DECL                                                                           \
	NFT_V4_HEAD "\tchain postrtg {\n"                                                  \
		    "\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"    \
		    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n" \
		    "\tchain forward {\n\t\tcomment \"chain to accept flannel traffic\"\n" \
		    "\t\ttype filter hook forward priority filter; policy accept;\n\t}\n}\n"
#define NFT_INSERT_POSTRTG                                                                      \
	"insert rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 " \
	"masquerade fully-random\n"                                                             \
	"insert rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 "   \
	"masquerade fully-random\n"                                                             \
	"insert rule ip flannel-ipv4 postrtg ip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 " \
	"return\n"                                                                              \
	"insert rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 "    \
	"return\n"                                                                              \
	"insert rule ip flannel-ipv4 postrtg ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 "    \
	"return\n"                                                                              \
	"insert rule ip flannel-ipv4 postrtg meta mark 0x00004000 return\n"

static int nft_plan(const char *listing, bool masq, bool forward, bool random_fully,
		    struct buf *out)
{
	struct rules_net n = net4("10.244.0.0/16", "10.244.1.0/24");
	struct rules_owned o = owned_of("10.244.0.0/16", "10.244.1.0/24");

	buf_reset(out);
	return rules_nft_plan(RULES_IPV4, &n, &o, masq, forward, random_fully, listing,
			      listing ? strlen(listing) : 0, out);
}

/* The listing with line `from` replaced by `to` (to "" deletes the line). */
static char *edit(const char *listing, const char *from, const char *to)
{
	const char *p = strstr(listing, from);
	char *r = NULL;

	assert_non_null(p);
	assert_true(asprintf(&r, "%.*s%s%s", (int)(p - listing), listing, to, p + strlen(from)) >
		    0);
	return r;
}

static void test_nft_plan_converged(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_free_ char *other = NULL;

	assert_int_equal(nft_plan(nft_handles, true, true, true, &out), 0);
	assert_int_equal(out.len, 0);
	/* another network's rules before, between and after ours do not count */
	other = edit(nft_handles, "    ip saddr 10.244.1.0/24",
		     "    ip saddr 10.245.3.0/24 ip daddr 10.245.0.0/16 return # handle 20\n"
		     "    ip saddr { 10.1.0.0/16, 10.2.0.0/16 } counter packets 0 bytes 0 "
		     "accept comment \"a { b\" # handle 21\n"
		     "    ip saddr 10.244.1.0/24");
	assert_int_equal(nft_plan(other, true, true, true, &out), 0);
	assert_int_equal(out.len, 0);
	free(TAKE_PTR(other));
	other = edit(nft_handles, "    ip daddr 10.244.0.0/16 accept # handle 11\n",
		     "    ip saddr 10.245.0.0/16 accept # handle 12\n"
		     "    ip daddr 10.244.0.0/16 accept # handle 11\n"
		     "    ip daddr 10.245.0.0/16 accept # handle 13\n");
	assert_int_equal(nft_plan(other, true, true, true, &out), 0);
	assert_int_equal(out.len, 0);
	(void)state;
}

static void test_nft_plan_repair(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_free_ char *cut = NULL, *other = NULL, *policy = NULL;

	/* a rule of ours deleted by hand, another network's rule kept (never written) */
	cut = edit(nft_handles,
		   "    ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return # handle 4\n",
		   "    ip saddr 10.245.0.0/16 ip daddr 10.245.3.0/24 return # handle 30\n");
	assert_int_equal(nft_plan(cut, true, true, true, &out), 0);
	assert_string_equal(out.data, NFT_DECL
			    "delete rule ip flannel-ipv4 postrtg handle 2\n"
			    "delete rule ip flannel-ipv4 postrtg handle 3\n"
			    "delete rule ip flannel-ipv4 postrtg handle 5\n"
			    "delete rule ip flannel-ipv4 postrtg handle 6\n"
			    "delete rule ip flannel-ipv4 postrtg handle 8\n" NFT_INSERT_POSTRTG);
	assert_null(strstr(out.data, "10.245"));

	/* --ip-masq-fully-random-disable changed: every masquerade rule is ours, rewritten */
	assert_int_equal(nft_plan(nft_handles, true, true, false, &out), 0);
	assert_non_null(strstr(out.data, "delete rule ip flannel-ipv4 postrtg handle 8\n"
					 "insert rule ip flannel-ipv4 postrtg ip saddr != "
					 "10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade\n"));
	assert_null(strstr(out.data, "forward handle"));

	/* the policy was changed: re-declaring the chain is enough */
	policy = edit(nft_handles, "filter; policy accept;", "filter; policy drop;");
	assert_int_equal(nft_plan(policy, true, true, true, &out), 0);
	assert_string_equal(out.data, NFT_DECL);

	/* a chain deleted: created and filled, the other left alone */
	other = edit(nft_handles, "  chain forward { # handle 9\n", "  chain other { # handle 9\n");
	assert_int_equal(nft_plan(other, true, true, true, &out), 0);
	assert_string_equal(out.data, NFT_DECL
			    "insert rule ip flannel-ipv4 forward ip daddr 10.244.0.0/16 accept\n"
			    "insert rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 accept\n");
	/* an empty listing (the table is there, but no chain) */
	assert_int_equal(
		nft_plan("table ip flannel-ipv4 { # handle 7\n}\n", true, false, true, &out), 0);
	assert_true(strncmp(out.data, NFT_V4_HEAD "\tchain postrtg {",
			    strlen(NFT_V4_HEAD "\tchain postrtg {")) == 0);
	assert_non_null(strstr(out.data, "}\n}\n" NFT_INSERT_POSTRTG));
	(void)state;
}

static void test_nft_plan_unwanted_chain(void **state)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_free_ char *other = NULL;
	static const char decl_postrtg[] = NFT_V4_HEAD
		"\tchain postrtg {\n"
		"\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n}\n";

	/* --iptables-forward-rules=false now: our forward rules go, and the chain with them */
	assert_int_equal(nft_plan(nft_handles, true, false, true, &out), 0);
	assert_true(strncmp(out.data, decl_postrtg, strlen(decl_postrtg)) == 0);
	assert_string_equal(out.data + strlen(decl_postrtg),
			    "delete rule ip flannel-ipv4 forward handle 10\n"
			    "delete rule ip flannel-ipv4 forward handle 11\n"
			    "delete chain ip flannel-ipv4 forward\n");
	/* ...but a chain that still holds another network's rule stays */
	other = edit(nft_handles, "    ip daddr 10.244.0.0/16 accept # handle 11\n",
		     "    ip daddr 10.244.0.0/16 accept # handle 11\n"
		     "    ip daddr 10.245.0.0/16 accept # handle 13\n");
	assert_int_equal(nft_plan(other, true, false, true, &out), 0);
	assert_string_equal(out.data + strlen(decl_postrtg),
			    "delete rule ip flannel-ipv4 forward handle 10\n"
			    "delete rule ip flannel-ipv4 forward handle 11\n");
	(void)state;
}

static void test_nft_plan_invalid(void **state)
{
	struct rules_net n6 = net4("2001:db8:42::/56", "2001:db8:42:1::/64");
	struct rules_net off = {0};
	_cleanup_buf_ struct buf out = BUF_INIT;

	assert_int_equal(rules_nft_plan(RULES_IPV4, &n6, NULL, true, false, true, "", 0, &out),
			 -EINVAL);
	assert_int_equal(rules_nft_plan(RULES_IPV4, &off, NULL, false, true, true, "", 0, &out),
			 -EINVAL);
	/* nothing wanted, nothing of ours: nothing to do */
	assert_int_equal(rules_nft_plan(RULES_IPV4, &off, NULL, false, false, true, "", 0, &out),
			 0);
	assert_int_equal(out.len, 0);
	/* garbage and truncated listings: no crash, never a delete of a rule we did not see */
	assert_int_equal(
		nft_plan("}}}\n{{{ # handle 3\nchain postrtg {\n", true, false, true, &out), 0);
	assert_null(strstr(out.data, "delete"));
	assert_int_equal(nft_plan("table ip flannel-ipv4 {\n  chain postrtg {\n    ip saddr "
				  "10.244.0.0/16 accept # handle 99999999999999999999\n  }\n}\n",
				  true, false, true, &out),
			 0);
	assert_non_null(strstr(out.data, NFT_INSERT_POSTRTG));
	assert_null(strstr(out.data, "delete"));
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
		cmocka_unit_test(test_scan_nf_tables),
		cmocka_unit_test(test_plan_jump_not_last),
		cmocka_unit_test(test_plan_duplicate_jumps),
		cmocka_unit_test(test_plan_hand_deleted),
		cmocka_unit_test(test_plan_recycle_previous_subnet),
		cmocka_unit_test(test_plan_other_table_ignored),
		cmocka_unit_test(test_plan_remove),
		cmocka_unit_test(test_plan_overflow),
		cmocka_unit_test(test_plan_long_line),
		cmocka_unit_test(test_owned_match),
		cmocka_unit_test(test_plan_shared_converged),
		cmocka_unit_test(test_plan_shared_repair_keeps_foreign),
		cmocka_unit_test(test_plan_shared_order_and_duplicates),
		cmocka_unit_test(test_plan_shared_recycle),
		cmocka_unit_test(test_nft_v4),
		cmocka_unit_test(test_nft_v6),
		cmocka_unit_test(test_nft_host_prefix),
		cmocka_unit_test(test_nft_plan_converged),
		cmocka_unit_test(test_nft_plan_repair),
		cmocka_unit_test(test_nft_plan_unwanted_chain),
		cmocka_unit_test(test_nft_plan_invalid),
		cmocka_unit_test(test_nft_tables_has),
		cmocka_unit_test(test_blackhole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
