/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read-back parsers of the traffic manager on arbitrary bytes:
 * iptables-save output through the bounded scanner (split into chunks at
 * input-chosen sizes, since the output arrives from a pipe) and the plans
 * (ensure, ensure in a shared chain, remove); `nft -a list table` listings
 * through the nft planner and the table lookup. Invariants: scanning is
 * independent of the chunking, every non-empty plan is one well-formed
 * "*nat ... COMMIT" transaction or nft script re-declaring our table first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char want[] = "-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -j RETURN\n";

static void scan(const char *text, size_t size, size_t chunk, struct ipt_scan *s)
{
	ipt_scan_init(s, "nat", "POSTROUTING", "FLANNEL-POSTRTG", rules_ipt_masq_jump());
	for (size_t off = 0; off < size; off += chunk)
		if (ipt_scan_feed(s, text + off, chunk < size - off ? chunk : size - off) < 0)
			abort();
	if (ipt_scan_finish(s) < 0)
		abort();
}

static void check_plan(const struct ipt_scan *s, const char *w, bool jump_last, struct buf *out)
{
	struct rules_owned o = {0};
	struct ip_net n;
	int r;

	if (ip_net_parse("10.244.0.0/16", &n) < 0 || rules_owned_add(&o, &n) < 0)
		abort();
	/* data[0] picks exclusive or shared; both must hold the same invariants */
	r = rules_ipt_plan_shared(s, w, jump_last ? NULL : &o, jump_last, out);

	if (r == -EBADMSG && !w && s->overflow)
		return;
	if (r < 0)
		abort();
	if (out->len == 0)
		return;
	if (strncmp(out->data, "*nat\n", 5) != 0 || out->len < 12 ||
	    strcmp(out->data + out->len - 7, "COMMIT\n") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct ipt_scan a, b;
	struct buf pa = BUF_INIT, pb = BUF_INIT;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 61 + 1;

	scan(text, size, size, &a);
	scan(text, size, chunk, &b);
	if (a.chain_exists != b.chain_exists || a.jumps != b.jumps || a.jump_last != b.jump_last ||
	    a.overflow != b.overflow || a.rules.len != b.rules.len ||
	    (a.rules.len && memcmp(a.rules.data, b.rules.data, a.rules.len) != 0))
		abort();

	check_plan(&a, want, true, &pa);
	check_plan(&b, want, true, &pb);
	if (pa.len != pb.len || (pa.len && memcmp(pa.data, pb.data, pa.len) != 0))
		abort();
	buf_reset(&pa);
	check_plan(&a, want, false, &pa);
	buf_reset(&pa);
	check_plan(&a, NULL, false, &pa);

	ipt_scan_done(&a);
	ipt_scan_done(&b);
	buf_free(&pa);
	buf_free(&pb);

	/* nft: the input as a listing of our table */
	struct rules_net n;
	struct rules_owned o = {0};
	struct ip_net net, sub;
	static const char head[] = "table ip flannel-ipv4 {\n";

	if (ip_net_parse("10.244.0.0/16", &net) < 0 || ip_net_parse("10.244.1.0/24", &sub) < 0 ||
	    rules_net_set(&n, RULES_IPV4, &net, &sub) < 0 || rules_owned_add_net(&o, &n) < 0)
		abort();
	if (rules_nft_plan(RULES_IPV4, &n, &o, data[0] & 1, data[0] & 2, true, text, size, &pa) < 0)
		abort();
	if (pa.len && strncmp(pa.data, head, strlen(head)) != 0)
		abort();
	buf_free(&pa);
	(void)rules_owned_match(&o, text, size);
	(void)rules_nft_tables_has(text, size, RULES_IPV4);
	(void)rules_nft_tables_has(text, size, RULES_IPV6);
	return 0;
}
