/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planner: sort-merge diffs of sets, chains and maps. See plan.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "netpol/plan.h"

#define T "inet " NP_TABLE
/* Elements per add/delete command: keeps lines short, the transaction stays one. */
#define ELEMS_PER_LINE 256

static const char *const base_chains =
	"add table " T "\n"
	"add chain " T " " NP_CHAIN_OUT
	" { type filter hook postrouting priority srcnat - 6; policy accept; }\n"
	"add chain " T " " NP_CHAIN_IN
	" { type filter hook postrouting priority srcnat - 5; policy accept; }\n"
	"add map " T " i4 { type ipv4_addr : verdict; }\n"
	"add map " T " i6 { type ipv6_addr : verdict; }\n"
	"add map " T " e4 { type ipv4_addr : verdict; }\n"
	"add map " T " e6 { type ipv6_addr : verdict; }\n"
	"flush chain " T " " NP_CHAIN_OUT "\n"
	"flush chain " T " " NP_CHAIN_IN "\n";

static const char *const base_rules[] = {
	"ct state established,related accept",
	"fib saddr type local accept",
	("icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
	 "nd-neighbor-advert, nd-redirect } accept"),
};

static const char *const set_types[] = {
	[NP_SET_ADDR4] = "ipv4_addr",
	[NP_SET_ADDR6] = "ipv6_addr",
	[NP_SET_ADDRPORT4] = "ipv4_addr . inet_service",
	[NP_SET_ADDRPORT6] = "ipv6_addr . inet_service",
};

static int table_base(struct buf *out)
{
	int r = buf_puts(out, base_chains);

	for (int dir = 0; dir < 2 && r >= 0; dir++) {
		const char *chain = dir ? NP_CHAIN_IN : NP_CHAIN_OUT;
		for (size_t i = 0; i < ARRAY_SIZE(base_rules) && r >= 0; i++)
			r = buf_printf(out, "add rule " T " %s %s\n", chain, base_rules[i]);
		for (int v6 = 0; v6 < 2 && r >= 0; v6++)
			r = buf_printf(out, "add rule " T " %s %s %s vmap @%s%c\n", chain,
				       v6 ? "ip6" : "ip", dir ? "daddr" : "saddr", dir ? "i" : "e",
				       v6 ? '6' : '4');
	}
	return r;
}

static int fmt_elem(struct buf *out, enum np_set_type type, const struct np_elem *e, bool map,
		    bool with_verdict)
{
	char a[INET6_ADDRSTRLEN];
	int r;

	inet_ntop(np_set_type_v6(type) ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	r = buf_puts(out, a);
	if (r >= 0 && (type == NP_SET_ADDRPORT4 || type == NP_SET_ADDRPORT6))
		r = buf_printf(out, " . %u", e->port);
	if (r >= 0 && map && with_verdict)
		r = buf_printf(out, " : jump %s", e->chain);
	return r;
}

struct elems {
	struct buf *out;
	const char *verb, *set;
	enum np_set_type type;
	bool map, with_verdict;
	size_t on_line, lines;
};

static int elems_add(struct elems *l, const struct np_elem *e)
{
	int r = 0;

	if (l->on_line == ELEMS_PER_LINE) {
		r = buf_puts(l->out, " }\n");
		l->on_line = 0;
	}
	if (r >= 0 && l->on_line == 0) {
		r = buf_printf(l->out, "%s element " T " %s { ", l->verb, l->set);
		l->lines++;
	} else if (r >= 0)
		r = buf_puts(l->out, ", ");
	if (r >= 0)
		r = fmt_elem(l->out, l->type, e, l->map, l->with_verdict);
	l->on_line++;
	return r;
}

static int elems_end(struct elems *l)
{
	if (!l->on_line)
		return 0;
	l->on_line = 0;
	return buf_puts(l->out, " }\n");
}

static int cmp_key(const struct np_elem *a, const struct np_elem *b)
{
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (c)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

/*
 * Elements in a and not in b (by key; for maps also those whose verdict
 * differs when diff_verdict) written with verb.
 */
static int elems_minus(struct buf *out, const char *verb, const char *name, enum np_set_type type,
		       const struct np_set *a, const struct np_set *b, bool map, bool with_verdict,
		       size_t *count)
{
	struct elems l = {out, verb, name, type, map, with_verdict, 0, 0};
	size_t i = 0, j = 0;
	int r = 0;

	while (i < (a ? a->n : 0) && r >= 0) {
		int c = j < (b ? b->n : 0) ? cmp_key(&a->e[i], &b->e[j]) : -1;
		if (c < 0 || (c == 0 && map && strcmp(a->e[i].chain, b->e[j].chain) != 0)) {
			r = elems_add(&l, &a->e[i]);
			(*count)++;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	if (r >= 0)
		r = elems_end(&l);
	return r < 0 ? r : (int)l.lines;
}

static int chain_add(struct buf *out, const struct np_chain *c)
{
	const char *line = c->body;
	int r = buf_printf(out, "add chain " T " %s\n", c->name);

	while (r >= 0 && line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		r = buf_printf(out, "add rule " T " %s %.*s\n", c->name, (int)len, line);
		line = nl ? nl + 1 : line + len;
	}
	return r;
}

/* The chain kinds in creation order: policy chains before the pod chains jumping to them. */
static bool chain_is_pod(const struct np_chain *c)
{
	return c->name[0] == 'c';
}

int np_plan(const struct np_state *old, const struct np_state *want, struct buf *out,
	    struct np_plan_stats *stats)
{
	struct np_plan_stats local = {};
	size_t cmds = 0, i, j;
	int r = 0;

	if (!stats)
		stats = &local;
	*stats = (struct np_plan_stats){};
	if (!old->has_table) {
		r = table_base(out);
		cmds++;
	}

	/* 2. new sets, element additions */
	for (i = j = 0; i < want->n_sets && r >= 0;) {
		const struct np_set *w = &want->sets[i];
		int c = j < old->n_sets ? strcmp(w->name, old->sets[j].name) : -1;
		const struct np_set *o = c == 0 ? &old->sets[j] : NULL;

		if (c > 0) {
			j++;
			continue;
		}
		if (!o) {
			r = buf_printf(out, "add set " T " %s { type %s; }\n", w->name,
				       set_types[w->type]);
			stats->sets_added++;
			cmds++;
		}
		if (r >= 0) {
			r = elems_minus(out, "add", w->name, w->type, w, o, false, false,
					&stats->elements_added);
			cmds += r > 0 ? (size_t)r : 0;
		}
		i++;
		if (c == 0)
			j++;
	}

	/* 3. new chains: two passes, policy chains first */
	for (int pass = 0; pass < 2 && r >= 0; pass++)
		for (i = 0; i < want->n_chains && r >= 0; i++) {
			const struct np_chain *c = &want->chains[i];
			if (chain_is_pod(c) != (pass == 1) || np_state_find_chain(old, c->name))
				continue;
			r = chain_add(out, c);
			stats->chains_added++;
			cmds++;
		}

	/* 4. verdicts */
	for (int m = 0; m < _NP_MAP_MAX && r >= 0; m++) {
		enum np_set_type type =
			(m == NP_MAP_I6 || m == NP_MAP_E6) ? NP_SET_ADDR6 : NP_SET_ADDR4;
		r = elems_minus(out, "delete", np_map_name(m), type, &old->maps[m], &want->maps[m],
				true, false, &stats->verdicts_changed);
		cmds += r > 0 ? (size_t)r : 0;
		if (r >= 0) {
			r = elems_minus(out, "add", np_map_name(m), type, &want->maps[m],
					&old->maps[m], true, true, &stats->verdicts_changed);
			cmds += r > 0 ? (size_t)r : 0;
		}
	}

	/* 5. chains no longer wanted: pod chains first */
	for (int pass = 0; pass < 2 && r >= 0; pass++)
		for (i = 0; i < old->n_chains && r >= 0; i++) {
			const struct np_chain *c = &old->chains[i];
			if (chain_is_pod(c) != (pass == 0) || np_state_find_chain(want, c->name))
				continue;
			r = buf_printf(out, "delete chain " T " %s\n", c->name);
			stats->chains_deleted++;
			cmds++;
		}

	/* 6. element deletions, then sets no longer wanted */
	for (i = j = 0; i < old->n_sets && r >= 0;) {
		const struct np_set *o = &old->sets[i];
		int c = j < want->n_sets ? strcmp(o->name, want->sets[j].name) : -1;

		if (c > 0) {
			j++;
			continue;
		}
		if (c == 0) {
			r = elems_minus(out, "delete", o->name, o->type, o, &want->sets[j], false,
					false, &stats->elements_deleted);
			cmds += r > 0 ? (size_t)r : 0;
			j++;
		}
		i++;
	}
	for (i = 0; i < old->n_sets && r >= 0; i++)
		if (!np_state_find_set(want, old->sets[i].name)) {
			r = buf_printf(out, "delete set " T " %s\n", old->sets[i].name);
			stats->sets_deleted++;
			cmds++;
		}
	return r < 0 ? r : (int)cmds;
}

int np_plan_delete_table(struct buf *out)
{
	return buf_puts(out, "delete table " T "\n");
}
