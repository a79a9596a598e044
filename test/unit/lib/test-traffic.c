/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/rules/traffic.c against recording fakes of iptables-save,
 * iptables-restore, ip6tables-* and nft (shell scripts put first in $PATH):
 * what is executed, how often (one read per table per resync, a write only
 * on drift), and what is written. Also the br_netfilter check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/rules/traffic.h"

static char dir[64];

/* A fake: logs "<name> <args>" to $dir/log, then behaves per tool. */
static void write_fake(const char *name, const char *body)
{
	char path[256], *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true(asprintf(&text, "#!/bin/sh\nD=%s\necho \"%s $*\" >> $D/log\n%s\n", dir, name,
			     body) > 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0755), 0);
	free(text);
}

static void put(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static char *get(const char *name)
{
	char path[256], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file_bounded(path, 1 << 20, &text, &len) < 0)
		return strdup("");
	return text;
}

static void clear(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int setup(void **state)
{
	char path[256];

	snprintf(dir, sizeof(dir), "/tmp/test-traffic-XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* saves print $D/<prog>-<table> (empty when absent); restores append stdin */
	write_fake("iptables-save", "cat $D/v4-$2 2>/dev/null; exit 0");
	write_fake("ip6tables-save", "cat $D/v6-$2 2>/dev/null; exit 0");
	write_fake("iptables-restore",
		   "cat >> $D/v4-restored; exit $(cat $D/fail 2>/dev/null || echo 0)");
	write_fake("ip6tables-restore", "cat >> $D/v6-restored");
	write_fake("nft", "[ \"$1\" = -a ] && shift\n"
			  "case \"$1\" in\n"
			  "-f) cat >> $D/nft-in;;\n"
			  "list) if [ \"$2\" = tables ]; then cat $D/nft-tables; exit 0; fi\n"
			  "  if [ -f $D/nft-$3 ]; then cat $D/nft-$3; else\n"
			  "  echo 'Error: No such file or directory' >&2; exit 1; fi;;\n"
			  "esac");
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	log_set_stream(fopen("/dev/null", "w"));
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int reset(void **state)
{
	const char *files[] = {"log",	     "v4-nat",	    "v4-filter",   "v6-nat",
			       "v6-filter",  "v4-restored", "v6-restored", "nft-in",
			       "nft-tables", "nft-ip",	    "nft-ip6",	   "fail"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		clear(files[i]);
	return 0;
}

static struct rules_net mknet(const char *n, const char *s)
{
	struct ip_net a, b;
	struct rules_net r;

	assert_int_equal(ip_net_parse(n, &a), 0);
	assert_int_equal(ip_net_parse(s, &b), 0);
	assert_int_equal(
		rules_net_set(&r, a.addr.family == AF_INET6 ? RULES_IPV6 : RULES_IPV4, &a, &b), 0);
	return r;
}

/* Make the fake tables look like what was restored (a converged host). */
static void converge_fakes(void)
{
	_cleanup_free_ char *r = get("v4-restored");
	_cleanup_buf_ struct buf nat = BUF_INIT, filter = BUF_INIT;
	char *fsec = strstr(r, "*filter\n");

	assert_non_null(fsec);
	/* the restore input is in iptables-save form already */
	assert_int_equal(buf_append(&nat, r, (size_t)(fsec - r)), 0);
	assert_int_equal(buf_puts(&filter, fsec), 0);
	put("v4-nat", nat.data);
	put("v4-filter", filter.data);
}

static void test_iptables_ensure_and_resync(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_IPTABLES,
				     .ip_masq = true,
				     .forward_rules = true,
				     .random_fully = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	char *t;

	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_ensure(m, &v4, NULL, NULL), 0);
	t = get("log");
	assert_string_equal(t, "iptables-save -t nat\niptables-save -t filter\n"
			       "iptables-restore --noflush -w 5\n");
	free(t);
	t = get("v4-restored");
	assert_non_null(strstr(t, "*nat\n:FLANNEL-POSTRTG - [0:0]\n-A FLANNEL-POSTRTG -m mark"));
	assert_non_null(strstr(t, "-A POSTROUTING -m comment --comment \"flanneld masq\" -j "
				  "FLANNEL-POSTRTG\nCOMMIT\n*filter\n:FLANNEL-FWD - [0:0]\n"));
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->applies, 1);
	assert_int_equal(traffic_mgr_stats(m)->execs, 3);

	/* converged: a resync pass is one read per table and no write */
	converge_fakes();
	clear("log");
	clear("v4-restored");
	assert_int_equal(traffic_mgr_resync(m), 0);
	t = get("log");
	assert_string_equal(t, "iptables-save -t nat\niptables-save -t filter\n");
	free(t);

	/* a rule deleted by hand: repaired in one write */
	put("v4-filter",
	    "*filter\n:FORWARD ACCEPT [0:0]\n:FLANNEL-FWD - [0:0]\n"
	    "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n"
	    "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" "
	    "-j ACCEPT\nCOMMIT\n");
	clear("log");
	assert_int_equal(traffic_mgr_resync(m), 1);
	t = get("v4-restored");
	assert_string_equal(t, "*filter\n:FLANNEL-FWD - [0:0]\n"
			       "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld "
			       "forward\" -j ACCEPT\n"
			       "-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld "
			       "forward\" -j ACCEPT\nCOMMIT\n");
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->checks, 2);
	assert_int_equal(traffic_mgr_stats(m)->repairs, 1);
	assert_int_equal(traffic_mgr_stats(m)->applies, 2);
	assert_int_equal(traffic_mgr_stats(m)->execs, 3 + 2 + 3);
	(void)state;
}

struct resync_rec {
	int calls, r;
};

static void resync_done(int r, void *userdata)
{
	struct resync_rec *rec = userdata;

	rec->calls++;
	rec->r = r;
}

static void run_until(struct loop *l, const int *calls, int n)
{
	while (*calls < n)
		assert_true(loop_run_once(l, UINT64_MAX) >= 0);
}

/* The periodic pass in a child: same reads and repair, counters come back. */
static void test_iptables_resync_in_child(void **state)
{
	struct traffic_config cfg = {
		.mode = TRAFFIC_MODE_IPTABLES, .ip_masq = true, .forward_rules = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	struct resync_rec rec = {0};
	struct loop *l = NULL;
	char *t;

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_ensure(m, &v4, NULL, NULL), 0);
	/* nothing converged yet (the fakes keep no state): the child repairs both tables */
	clear("log");
	clear("v4-restored");
	assert_int_equal(traffic_mgr_resync_start(m, l, resync_done, &rec), 0);
	assert_int_equal(traffic_mgr_resync_start(m, l, resync_done, &rec), -EBUSY);
	run_until(l, &rec.calls, 1);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.r, 1);
	t = get("log");
	assert_string_equal(t, "iptables-save -t nat\niptables-save -t filter\n"
			       "iptables-restore --noflush -w 5\n");
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->checks, 1);
	assert_int_equal(traffic_mgr_stats(m)->repairs, 1);
	assert_int_equal(traffic_mgr_stats(m)->applies, 2);
	assert_int_equal(traffic_mgr_stats(m)->execs, 3 + 3);

	/* converged: one read, no write, and another pass may start */
	converge_fakes();
	clear("log");
	assert_int_equal(traffic_mgr_resync_start(m, l, resync_done, &rec), 0);
	run_until(l, &rec.calls, 2);
	assert_int_equal(rec.r, 0);
	t = get("log");
	assert_string_equal(t, "iptables-save -t nat\niptables-save -t filter\n");
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->checks, 2);
	assert_int_equal(traffic_mgr_stats(m)->repairs, 1);
	assert_int_equal(traffic_mgr_stats(m)->execs, 3 + 3 + 2);
	loop_free(l);
	(void)state;
}

static void test_iptables_dual_stack_and_failure(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_IPTABLES, .ip_masq = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	struct rules_net v6 = mknet("2001:db8:42::/56", "2001:db8:42:1::/64");
	char *t;

	put("fail", "1");
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	/* v4 fails, v6 is still attempted; the first error is returned */
	assert_int_equal(traffic_mgr_ensure(m, &v4, &v6, NULL), -EPROTO);
	t = get("log");
	assert_string_equal(t, "iptables-save -t nat\niptables-restore --noflush -w 5\n"
			       "ip6tables-save -t nat\nip6tables-restore --noflush -w 5\n");
	free(t);
	t = get("v6-restored");
	assert_non_null(strstr(t, "-A FLANNEL-POSTRTG -s 2001:db8:42::/56 ! -d ff00::/8 "));
	assert_null(strstr(t, "*filter")); /* forward rules off */
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->failures, 1);
	assert_int_equal(traffic_mgr_stats(m)->applies, 1);
	(void)state;
}

static void test_iptables_cleans_nft(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_IPTABLES};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	char *t;

	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	put("nft-tables", "table ip nat\ntable ip6 flannel-ipv6\n");
	assert_int_equal(traffic_mgr_cleanup_other(m), 1);
	t = get("nft-in");
	assert_string_equal(t, "add table ip6 flannel-ipv6\ndelete table ip6 flannel-ipv6\n");
	free(t);
	/* nothing left: one listing, no script */
	put("nft-tables", "table ip nat\n");
	clear("log");
	assert_int_equal(traffic_mgr_cleanup_other(m), 0);
	t = get("log");
	assert_string_equal(t, "nft list tables\n");
	free(t);
	(void)state;
}

/* What `nft -a list table` prints for a table text: its rules get handles. */
static void with_handles(const char *text, struct buf *out)
{
	unsigned h = 1;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int len = (int)(nl ? nl - p : (long)strlen(p));
		bool rule = strncmp(p, "\t\t", 2) == 0 && strncmp(p, "\t\tcomment", 9) != 0 &&
			    strncmp(p, "\t\ttype", 6) != 0;

		if (rule)
			assert_int_equal(buf_printf(out, "%.*s # handle %u\n", len, p, h++), 0);
		else
			assert_int_equal(buf_printf(out, "%.*s\n", len, p), 0);
		p += len + (nl ? 1 : 0);
	}
}

static void test_nftables_ensure_and_resync(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_NFTABLES,
				     .ip_masq = true,
				     .forward_rules = true,
				     .random_fully = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	_cleanup_buf_ struct buf want = BUF_INIT, listed = BUF_INIT;
	char *t;

	assert_int_equal(rules_nft_table_text(RULES_IPV4, &v4, true, true, true, &want), 0);
	with_handles(want.data, &listed);
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_ensure(m, &v4, NULL, NULL), 0);
	t = get("log");
	assert_string_equal(t, "nft -a list table ip flannel-ipv4\nnft -f -\n");
	free(t);
	/* no table yet: created as a whole (never "delete table": it may hold other networks') */
	t = get("nft-in");
	assert_string_equal(t, want.data);
	free(t);

	/* converged: the listing (with blank lines/indentation of nft) matches, no write */
	put("nft-ip", listed.data);
	clear("log");
	clear("nft-in");
	assert_int_equal(traffic_mgr_resync(m), 0);
	t = get("log");
	assert_string_equal(t, "nft -a list table ip flannel-ipv4\n");
	free(t);
	/* the table was flushed by hand: our chains re-declared and refilled */
	put("nft-ip", "table ip flannel-ipv4 {\n\tcomment \"rules for flannel-ipv4\"\n}\n");
	assert_int_equal(traffic_mgr_resync(m), 1);
	assert_int_equal(traffic_mgr_stats(m)->repairs, 1);
	t = get("nft-in");
	assert_null(strstr(t, "delete"));
	assert_non_null(strstr(t, "insert rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 "
				  "accept\n"));
	free(t);
	(void)state;
}

static void test_nftables_shared_table(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_NFTABLES, .forward_rules = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	struct subnet_env prev = {.has_network = true, .has_subnet = true};
	char *t;

	/* the previous run had network 10.7.0.0/16; another network's flanneld shares the table */
	assert_int_equal(ip_net_parse("10.7.0.0/16", &prev.network), 0);
	assert_int_equal(ip_net_parse("10.7.3.1/24", &prev.subnet), 0);
	put("nft-ip", "table ip flannel-ipv4 { # handle 3\n"
		      "\tcomment \"rules for flannel-ipv4\"\n"
		      "\tchain forward { # handle 1\n"
		      "\t\tcomment \"chain to accept flannel traffic\"\n"
		      "\t\ttype filter hook forward priority filter; policy accept;\n"
		      "\t\tip saddr 10.245.0.0/16 accept # handle 4\n"
		      "\t\tip daddr 10.245.0.0/16 accept # handle 5\n"
		      "\t\tip saddr 10.7.0.0/16 accept # handle 6\n"
		      "\t\tip daddr 10.7.0.0/16 accept # handle 7\n"
		      "\t}\n}\n");
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_ensure(m, &v4, NULL, &prev), 0);
	t = get("nft-in");
	assert_non_null(strstr(t,
			       "}\ndelete rule ip flannel-ipv4 forward handle 6\n"
			       "delete rule ip flannel-ipv4 forward handle 7\n"
			       "insert rule ip flannel-ipv4 forward ip daddr 10.244.0.0/16 accept\n"
			       "insert rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 "
			       "accept\n"));
	assert_null(strstr(t, "handle 4"));
	assert_null(strstr(t, "handle 5"));
	assert_null(strstr(t, "postrtg"));
	free(t);
	(void)state;
}

static void test_iptables_shared_chain(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_IPTABLES, .forward_rules = true};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net v4 = mknet("10.244.0.0/16", "10.244.1.0/24");
	static const char other[] =
		"-A FLANNEL-FWD -s 10.245.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		"-A FLANNEL-FWD -d 10.245.0.0/16 -m comment --comment \"flanneld forward\" "
		"-j ACCEPT\n";
	static const char ours[] =
		"-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		"-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" "
		"-j ACCEPT\n";
	static const char head[] =
		"*filter\n:FORWARD DROP [0:0]\n:FLANNEL-FWD - [0:0]\n"
		"-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n";
	_cleanup_buf_ struct buf text = BUF_INIT;
	char *t;

	/* the other network's flanneld was first: ours are added, its rules kept */
	assert_int_equal(buf_printf(&text, "%s%sCOMMIT\n", head, other), 0);
	put("v4-filter", text.data);
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_ensure(m, &v4, NULL, NULL), 0);
	t = get("v4-restored");
	buf_reset(&text);
	assert_int_equal(
		buf_printf(&text, "*filter\n:FLANNEL-FWD - [0:0]\n%s%sCOMMIT\n", ours, other), 0);
	assert_string_equal(t, text.data);
	free(t);

	/* both there, theirs first (it repaired after us): nothing to write, many passes */
	buf_reset(&text);
	assert_int_equal(buf_printf(&text, "%s%s%sCOMMIT\n", head, other, ours), 0);
	put("v4-filter", text.data);
	clear("v4-restored");
	for (int i = 0; i < 3; i++)
		assert_int_equal(traffic_mgr_resync(m), 0);
	t = get("v4-restored");
	assert_string_equal(t, "");
	free(t);
	assert_int_equal(traffic_mgr_stats(m)->repairs, 0);
	assert_int_equal(traffic_mgr_stats(m)->applies, 1);
	(void)state;
}

static void test_nftables_cleans_iptables(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_NFTABLES};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	char *t;

	put("v4-nat", "*nat\n:POSTROUTING ACCEPT [0:0]\n:FLANNEL-POSTRTG - [0:0]\n"
		      "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
		      "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -j RETURN\nCOMMIT\n");
	put("v6-filter", "*filter\n:FLANNEL-FWD - [0:0]\nCOMMIT\n");
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	assert_int_equal(traffic_mgr_cleanup_other(m), 2);
	t = get("v4-restored");
	assert_string_equal(t, "*nat\n-D POSTROUTING -m comment --comment \"flanneld masq\" -j "
			       "FLANNEL-POSTRTG\n-F FLANNEL-POSTRTG\n-X FLANNEL-POSTRTG\nCOMMIT\n");
	free(t);
	t = get("v6-restored");
	assert_string_equal(t, "*filter\n-F FLANNEL-FWD\n-X FLANNEL-FWD\nCOMMIT\n");
	free(t);
	(void)state;
}

static void test_invalid(void **state)
{
	struct traffic_config cfg = {.mode = TRAFFIC_MODE_IPTABLES, .iptables_variant = "bogus"};
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	struct rules_net bad = mknet("10.244.0.0/16", "10.244.1.0/24");

	assert_int_equal(traffic_mgr_new(&cfg, &m), -EINVAL);
	cfg.iptables_variant = "legacy";
	cfg.mode = 7;
	assert_int_equal(traffic_mgr_new(&cfg, &m), -EINVAL);
	cfg.mode = TRAFFIC_MODE_IPTABLES;
	cfg.ip_masq = true;
	assert_int_equal(traffic_mgr_new(&cfg, &m), 0);
	/* a v4 net given as v6 */
	assert_int_equal(traffic_mgr_ensure(m, NULL, &bad, NULL), -EINVAL);
	/* nothing installed: resync does nothing */
	assert_int_equal(traffic_mgr_resync(m), 0);
	assert_int_equal(traffic_mgr_stats(m)->execs, 0);
	(void)state;
}

static void test_br_netfilter(void **state)
{
	struct errmsg err = {""};
	char sub[128], path[256];

	snprintf(sub, sizeof(sub), "%s/bridge", dir);
	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(traffic_check_br_netfilter(TRAFFIC_MODE_IPTABLES, true, false, sub, &err),
			 -ENOENT);
	snprintf(path, sizeof(path),
		 "Failed to check br_netfilter: stat %s/bridge-nf-call-iptables: no such file or "
		 "directory (",
		 sub);
	assert_true(strncmp(err.text, path, strlen(path)) == 0);
	assert_non_null(strstr(err.text, "modprobe br_netfilter"));
	/* skipped in nftables mode */
	assert_int_equal(traffic_check_br_netfilter(TRAFFIC_MODE_NFTABLES, true, true, sub, &err),
			 0);

	snprintf(path, sizeof(path), "%s/bridge-nf-call-iptables", sub);
	assert_int_equal(write_file_atomic(path, "1\n", 2, 0644), 0);
	assert_int_equal(traffic_check_br_netfilter(TRAFFIC_MODE_IPTABLES, true, false, sub, &err),
			 0);
	assert_int_equal(traffic_check_br_netfilter(TRAFFIC_MODE_IPTABLES, true, true, sub, &err),
			 -ENOENT);
	assert_non_null(strstr(err.text, "bridge-nf-call-ip6tables: no such file or directory"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_iptables_ensure_and_resync, reset),
		cmocka_unit_test_setup(test_iptables_resync_in_child, reset),
		cmocka_unit_test_setup(test_iptables_dual_stack_and_failure, reset),
		cmocka_unit_test_setup(test_iptables_cleans_nft, reset),
		cmocka_unit_test_setup(test_nftables_ensure_and_resync, reset),
		cmocka_unit_test_setup(test_nftables_shared_table, reset),
		cmocka_unit_test_setup(test_iptables_shared_chain, reset),
		cmocka_unit_test_setup(test_nftables_cleans_iptables, reset),
		cmocka_unit_test_setup(test_invalid, reset),
		cmocka_unit_test_setup(test_br_netfilter, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
