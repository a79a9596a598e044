/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renders upstream flannel's traffic rules as text and plans their atomic
 * installation. iptables rules are written in the canonical form that
 * `iptables-save` prints, so one string serves as restore input and as the
 * expected read-back: drift detection is a byte comparison of our rules
 * instead of a storm of `iptables -C` calls (flannel#933). The plan
 * rewrites a chain with ":<chain> - [0:0]" + our rules + the foreign rules
 * inside one `iptables-restore --noflush` transaction, which flushes and
 * refills it atomically, so unlike upstream's create-or-flush (#2237) there
 * is never a moment without masquerading, and another flanneld's rules in
 * the same chain survive. nftables tables are rendered exactly as
 * `nft list table` prints them; once a table exists, our rules in it are
 * replaced by handle (delete ours, insert ours at the top) so that a
 * transaction never re-renders another network's rules and fails as a
 * whole if ours changed under it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/rules/rules.h"

static const char masq_jump[] =
	"-A " RULES_IPT_MASQ_BASE " -m comment --comment \"" RULES_IPT_MASQ_COMMENT
	"\" -j " RULES_IPT_MASQ_CHAIN;
static const char fwd_jump[] =
	"-A " RULES_IPT_FWD_BASE " -m comment --comment \"" RULES_IPT_FWD_COMMENT
	"\" -j " RULES_IPT_FWD_CHAIN;

const char *rules_ipt_masq_jump(void)
{
	return masq_jump;
}

const char *rules_ipt_fwd_jump(void)
{
	return fwd_jump;
}

static int family_af(enum rules_family family)
{
	switch (family) {
	case RULES_IPV4:
		return AF_INET;
	case RULES_IPV6:
		return AF_INET6;
	default:
		return 0;
	}
}

const char *rules_family_name(enum rules_family family)
{
	return family == RULES_IPV6 ? "IPv6" : "IPv4";
}

int rules_net_set(struct rules_net *n, enum rules_family family, const struct ip_net *network,
		  const struct ip_net *subnet)
{
	struct rules_net r = {.enabled = true, .network = *network, .subnet = *subnet};
	int af = family_af(family);

	if (af == 0 || network->addr.family != af || subnet->addr.family != af)
		return -EAFNOSUPPORT;
	ip_net_mask(&r.network);
	ip_net_mask(&r.subnet);
	if (r.network.prefixlen == 0 || r.subnet.prefixlen == 0)
		return -EINVAL;
	if (!ip_net_contains_net(&r.network, &r.subnet))
		return -EINVAL;
	*n = r;
	return 0;
}

bool rules_net_equal(const struct rules_net *a, const struct rules_net *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	return ip_net_equal(&a->network, &b->network) && ip_net_equal(&a->subnet, &b->subnet);
}

/* ---- ownership ---- */

/* nft prints a full-length prefix as a bare address. */
static const char *nft_net_fmt(const struct ip_net *n, char buf[static IP_NET_STRLEN])
{
	if (n->prefixlen == ip_family_bits(n->addr.family))
		return ip_addr_fmt(&n->addr, buf);
	return ip_net_fmt(n, buf);
}

int rules_owned_add(struct rules_owned *o, const struct ip_net *net)
{
	struct ip_net m = *net;

	ip_net_mask(&m);
	if (m.prefixlen == 0)
		return -EINVAL;
	for (unsigned i = 0; i < o->n; i++)
		if (ip_net_equal(&o->nets[i], &m))
			return 0;
	if (o->n >= RULES_OWNED_MAX)
		return -ENOSPC;
	o->nets[o->n++] = m;
	return 0;
}

int rules_owned_add_net(struct rules_owned *o, const struct rules_net *n)
{
	int r;

	if (!n->enabled)
		return 0;
	r = rules_owned_add(o, &n->network);
	if (r < 0)
		return r;
	return rules_owned_add(o, &n->subnet);
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(w, s, n) == 0;
}

static bool owned_word(const struct rules_owned *o, const char *w, size_t n)
{
	char a[IP_NET_STRLEN], b[IP_NET_STRLEN];

	for (unsigned i = 0; i < o->n; i++)
		if (word_is(w, n, ip_net_fmt(&o->nets[i], a)) ||
		    word_is(w, n, nft_net_fmt(&o->nets[i], b)))
			return true;
	return false;
}

bool rules_owned_match(const struct rules_owned *o, const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	const char *w1 = NULL, *w2 = NULL; /* the previous word and the one before */
	size_t n1 = 0, n2 = 0;

	if (!o)
		return false;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		size_t n = (size_t)(p - w);
		if (n == 0)
			break;
		bool addr = w1 && (word_is(w1, n1, "-s") || word_is(w1, n1, "-d") ||
				   word_is(w1, n1, "saddr") || word_is(w1, n1, "daddr"));
		if (!addr && w1 && w2 && word_is(w1, n1, "!="))
			addr = word_is(w2, n2, "saddr") || word_is(w2, n2, "daddr");
		if (addr && owned_word(o, w, n))
			return true;
		w2 = w1;
		n2 = n1;
		w1 = w;
		n1 = n;
	}
	return false;
}

/* Whether text (lines ending in '\n') has a line equal to the len bytes at line. */
static bool has_line(const char *text, const char *line, size_t len)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l == len && memcmp(p, line, len) == 0)
			return true;
		p += l + (nl ? 1 : 0);
	}
	return false;
}

/* ---- iptables ---- */

int rules_ipt_masq(enum rules_family family, const struct rules_net *n, bool random_fully,
		   struct buf *out)
{
	char net[IP_NET_STRLEN], sub[IP_NET_STRLEN];
	const char *mcast = family == RULES_IPV6 ? "ff00::/8" : "224.0.0.0/4";
	const char *rf = random_fully ? " --random-fully" : "";
	const char *c = "-m comment --comment \"" RULES_IPT_MASQ_COMMENT "\"";
	const char *a = "-A " RULES_IPT_MASQ_CHAIN;

	if (!n->enabled || family_af(family) != n->network.addr.family)
		return -EINVAL;
	ip_net_fmt(&n->network, net);
	ip_net_fmt(&n->subnet, sub);

	return buf_printf(out,
			  /* leave kube-proxy-marked packets alone (double NAT, flannel#1279) */
			  "%s -m mark --mark " RULES_KUBE_PROXY_MARK " %s -j RETURN\n"
			  /* no NAT inside the overlay */
			  "%s -s %s -d %s %s -j RETURN\n"
			  "%s -s %s -d %s %s -j RETURN\n"
			  /* no NAT for external traffic arriving for local pods */
			  "%s ! -s %s -d %s %s -j RETURN\n"
			  /* pods to the outside, except multicast */
			  "%s -s %s ! -d %s %s -j MASQUERADE%s\n"
			  /* the host to pods */
			  "%s ! -s %s -d %s %s -j MASQUERADE%s\n",
			  a, c, a, sub, net, c, a, net, sub, c, a, net, sub, c, a, net, mcast, c,
			  rf, a, net, net, c, rf);
}

int rules_ipt_fwd(const struct rules_net *n, struct buf *out)
{
	char net[IP_NET_STRLEN];
	const char *c = "-m comment --comment \"" RULES_IPT_FWD_COMMENT "\"";
	const char *a = "-A " RULES_IPT_FWD_CHAIN;

	if (!n->enabled)
		return -EINVAL;
	ip_net_fmt(&n->network, net);
	return buf_printf(out, "%s -s %s %s -j ACCEPT\n%s -d %s %s -j ACCEPT\n", a, net, c, a, net,
			  c);
}

/* "-A <chain> " prefix of a rule line: returns the rest, or NULL. */
static const char *rule_in_chain(const char *line, const char *chain)
{
	size_t l = strlen(chain);

	if (strncmp(line, "-A ", 3) != 0 || strncmp(line + 3, chain, l) != 0 || line[3 + l] != ' ')
		return NULL;
	return line + 3 + l + 1;
}

/* Whether a rule spec jumps or goes to chain ("-j X" / "-g X" as whole words). */
static bool spec_targets(const char *spec, const char *chain)
{
	size_t l = strlen(chain);

	for (const char *p = spec; (p = strstr(p, chain)); p++) {
		if (p - spec < 4 || p[-1] != ' ' || (p[-2] != 'j' && p[-2] != 'g') ||
		    p[-3] != '-' || p[-4] != ' ')
			continue;
		if (p[l] == '\0' || p[l] == ' ')
			return true;
	}
	return false;
}

static int keep_line(struct ipt_scan *s, struct buf *b, const char *line, size_t len)
{
	if (b->len + len + 1 > RULES_IPT_MAX_KEPT) {
		s->overflow = true;
		return 0;
	}
	int r = buf_append(b, line, len);
	if (r < 0)
		return r;
	return buf_append(b, "\n", 1);
}

static int scan_line(char *line, size_t len, void *userdata)
{
	struct ipt_scan *s = userdata;
	const char *spec;

	if (!line) {
		/* an over-long line was dropped: we cannot know what it was */
		s->overflow = true;
		s->jump_last = false;
		return 0;
	}
	if (line[0] == '#') {
		if (strstr(line, "(nf_tables)"))
			s->nf_tables = true;
		return 0;
	}
	if (line[0] == '*') {
		s->in_table = strcmp(line + 1, s->table) == 0;
		if (s->in_table)
			s->table_seen = true;
		return 0;
	}
	if (!s->in_table)
		return 0;
	if (strcmp(line, "COMMIT") == 0) {
		s->in_table = false;
		return 0;
	}
	if (line[0] == ':') {
		size_t l = strlen(s->chain);
		if (strncmp(line + 1, s->chain, l) == 0 &&
		    (line[1 + l] == ' ' || line[1 + l] == '\0'))
			s->chain_exists = true;
		return 0;
	}
	if (rule_in_chain(line, s->chain))
		return keep_line(s, &s->rules, line, len);

	spec = rule_in_chain(line, s->base);
	if (spec) {
		bool ours = strcmp(line, s->jump) == 0;
		if (ours)
			s->jumps++;
		s->jump_last = ours;
	}
	if (strncmp(line, "-A ", 3) == 0 && spec_targets(line, s->chain))
		return keep_line(s, &s->refs, line, len);
	return 0;
}

void ipt_scan_init(struct ipt_scan *s, const char *table, const char *base, const char *chain,
		   const char *jump)
{
	*s = (struct ipt_scan){.table = table, .base = base, .chain = chain, .jump = jump};
	line_framer_init(&s->framer, RULES_IPT_MAX_LINE);
}

int ipt_scan_feed(struct ipt_scan *s, const void *data, size_t len)
{
	return line_framer_feed(&s->framer, data, len, scan_line, s);
}

int ipt_scan_finish(struct ipt_scan *s)
{
	if (line_framer_pending(&s->framer) == 0)
		return 0;
	return line_framer_feed(&s->framer, "\n", 1, scan_line, s);
}

void ipt_scan_done(struct ipt_scan *s)
{
	buf_free(&s->rules);
	buf_free(&s->refs);
	line_framer_free(&s->framer);
}

/* Append "-D ..." for a "-A ..." line (of len bytes). */
static int append_delete(struct buf *out, const char *line, size_t len)
{
	int r = buf_puts(out, "-D");
	if (r < 0)
		return r;
	r = buf_append(out, line + 2, len - 2);
	if (r < 0)
		return r;
	return buf_puts(out, "\n");
}

static int plan_remove(const struct ipt_scan *s, struct buf *body)
{
	int r;

	if (s->overflow)
		return -EBADMSG;
	for (const char *p = s->refs.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		/* a rule of our own chain that targets it is flushed below */
		if (!rule_in_chain(p, s->chain)) {
			r = append_delete(body, p, len);
			if (r < 0)
				return r;
		}
		p += len + (nl ? 1 : 0);
	}
	if (s->chain_exists)
		return buf_printf(body, "-F %s\n-X %s\n", s->chain, s->chain);
	return 0;
}

/* Sort the scanned chain's lines into ours and foreign (owned NULL: all ours). */
static int split_rules(const struct ipt_scan *s, const char *want, const struct rules_owned *owned,
		       struct buf *ours, struct buf *foreign)
{
	int r;

	for (const char *p = s->rules.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool mine = !owned || has_line(want, p, len) || rules_owned_match(owned, p, len);
		struct buf *b = mine ? ours : foreign;

		r = buf_append(b, p, len);
		if (r >= 0)
			r = buf_puts(b, "\n");
		if (r < 0)
			return r;
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

static int plan_ensure(const struct ipt_scan *s, const char *want, const struct rules_owned *owned,
		       bool jump_last, struct buf *body)
{
	_cleanup_buf_ struct buf ours = BUF_INIT, foreign = BUF_INIT;
	int r;

	r = split_rules(s, want, owned, &ours, &foreign);
	if (r < 0)
		return r;
	if (!s->chain_exists || s->overflow || strcmp(ours.data ? ours.data : "", want) != 0) {
		r = buf_printf(body, ":%s - [0:0]\n%s%s", s->chain, want,
			       foreign.data ? foreign.data : "");
		if (r < 0)
			return r;
	}
	if (s->jumps == 1 && (s->jump_last || !jump_last))
		return 0;
	for (unsigned i = 0; i < s->jumps; i++) {
		r = append_delete(body, s->jump, strlen(s->jump));
		if (r < 0)
			return r;
	}
	return buf_printf(body, "%s\n", s->jump);
}

int rules_ipt_plan_shared(const struct ipt_scan *s, const char *want,
			  const struct rules_owned *owned, bool jump_last, struct buf *out)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	int r;

	r = want ? plan_ensure(s, want, owned, jump_last, &body) : plan_remove(s, &body);
	if (r < 0)
		return r;
	if (body.len == 0)
		return 0;
	return buf_printf(out, "*%s\n%sCOMMIT\n", s->table, body.data);
}

int rules_ipt_plan(const struct ipt_scan *s, const char *want, bool jump_last, struct buf *out)
{
	return rules_ipt_plan_shared(s, want, NULL, jump_last, out);
}

/* ---- nftables ---- */

const char *rules_nft_family(enum rules_family family)
{
	return family == RULES_IPV6 ? "ip6" : "ip";
}

const char *rules_nft_table(enum rules_family family)
{
	return family == RULES_IPV6 ? RULES_NFT_TABLE_V6 : RULES_NFT_TABLE_V4;
}

enum { NFT_POSTRTG, NFT_FORWARD, _NFT_CHAIN_MAX };

static const struct nft_chain_def {
	const char *name, *comment, *type;
} nft_chains[_NFT_CHAIN_MAX] = {
	[NFT_POSTRTG] = {"postrtg", "chain to manage traffic masquerading by flannel",
			 "type nat hook postrouting priority srcnat; policy accept;"},
	[NFT_FORWARD] = {"forward", "chain to accept flannel traffic",
			 "type filter hook forward priority filter; policy accept;"},
};

/* The rules of one chain, one per line, each preceded by indent. */
static int nft_chain_rules(enum rules_family family, const struct rules_net *n, int chain,
			   bool random_fully, const char *indent, struct buf *out)
{
	char net[IP_NET_STRLEN], sub[IP_NET_STRLEN];
	const char *f = rules_nft_family(family), *i = indent;
	const char *mcast = family == RULES_IPV6 ? "ff00::/8" : "224.0.0.0/4";
	const char *masquerade = random_fully ? "masquerade fully-random" : "masquerade";

	nft_net_fmt(&n->network, net);
	nft_net_fmt(&n->subnet, sub);
	if (chain == NFT_FORWARD)
		return buf_printf(out, "%s%s saddr %s accept\n%s%s daddr %s accept\n", i, f, net, i,
				  f, net);
	return buf_printf(out,
			  "%smeta mark 0x00004000 return\n"
			  "%s%s saddr %s %s daddr %s return\n"
			  "%s%s saddr %s %s daddr %s return\n"
			  "%s%s saddr != %s %s daddr %s return\n"
			  "%s%s saddr %s %s daddr != %s %s\n"
			  "%s%s saddr != %s %s daddr %s %s\n",
			  i, i, f, sub, f, net, i, f, net, f, sub, i, f, sub, f, net, i, f, net, f,
			  mcast, masquerade, i, f, net, f, net, masquerade);
}

static bool nft_args_valid(enum rules_family family, const struct rules_net *n, bool masq,
			   bool forward)
{
	if (family_af(family) == 0)
		return false;
	return !(masq || forward) || (n->enabled && family_af(family) == n->network.addr.family);
}

int rules_nft_table_text(enum rules_family family, const struct rules_net *n, bool masq,
			 bool forward, bool random_fully, struct buf *out)
{
	const char *t = rules_nft_table(family);
	const bool wanted[_NFT_CHAIN_MAX] = {masq, forward};
	const char *sep = "";
	int r;

	if (!nft_args_valid(family, n, masq, forward))
		return -EINVAL;
	r = buf_printf(out, "table %s %s {\n\tcomment \"rules for %s\"\n", rules_nft_family(family),
		       t, t);
	for (int c = 0; r >= 0 && c < _NFT_CHAIN_MAX; c++) {
		if (!wanted[c])
			continue;
		r = buf_printf(out, "%s\tchain %s {\n\t\tcomment \"%s\"\n\t\t%s\n", sep,
			       nft_chains[c].name, nft_chains[c].comment, nft_chains[c].type);
		if (r >= 0)
			r = nft_chain_rules(family, n, c, random_fully, "\t\t", out);
		if (r >= 0)
			r = buf_puts(out, "\t}\n");
		sep = "\n";
	}
	if (r < 0)
		return r;
	return buf_puts(out, "}\n");
}

int rules_nft_delete_script(enum rules_family family, struct buf *out)
{
	const char *f = rules_nft_family(family), *t = rules_nft_table(family);

	if (family_af(family) == 0)
		return -EINVAL;
	return buf_printf(out, "add table %s %s\ndelete table %s %s\n", f, t, f, t);
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/*
 * Drop a trailing "# handle N" (nft -a) from the trimmed line s..e: returns
 * the new end (trimmed) and sets *handle (0 when there is none).
 */
static const char *strip_handle(const char *s, const char *e, uint64_t *handle)
{
	const char *h = e;
	uint64_t v = 0;

	*handle = 0;
	while (h > s && h[-1] >= '0' && h[-1] <= '9')
		h--;
	if (h == e || e - h > 19 || (size_t)(h - s) < 9 || memcmp(h - 9, "# handle ", 9) != 0)
		return e;
	for (const char *d = h; d < e; d++)
		v = v * 10 + (uint64_t)(*d - '0');
	*handle = v;
	e = h - 9;
	trim(&s, &e);
	return e;
}

/* Next non-empty line between p and end, trimmed and without "# handle N"; advances p. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	while (*p < end) {
		const char *s = *p;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		uint64_t handle;

		*p = nl ? nl + 1 : end;
		trim(&s, &e);
		e = strip_handle(s, e, &handle);
		if (e > s) {
			*ret = s;
			*ret_len = (size_t)(e - s);
			return true;
		}
	}
	return false;
}

bool rules_nft_tables_has(const char *listing, size_t len, enum rules_family family)
{
	char want[64];
	if (!listing) {
		listing = "";
		len = 0;
	}
	const char *p = listing, *end = listing + len, *l;
	size_t n;
	int k = snprintf(want, sizeof(want), "table %s %s", rules_nft_family(family),
			 rules_nft_table(family));

	while (next_line(&p, end, &l, &n))
		if (n == (size_t)k && memcmp(l, want, n) == 0)
			return true;
	return false;
}

/* What a listing says about one of our chains. */
struct nft_chain_state {
	bool exists;
	bool type_ok;	 /* its "type ..." line is ours */
	unsigned rules;	 /* rules with a handle */
	unsigned ours;	 /* of which ours */
	struct buf mine; /* our rules' text, '\n'-terminated, in chain order */
	struct buf del;	 /* "delete rule ... handle N" for each of ours */
};

/* Nesting change of a line: braces outside double quotes. */
static int brace_delta(const char *s, const char *e)
{
	bool quoted = false;
	int d = 0;

	for (; s < e; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '{')
			d++;
		else if (!quoted && *s == '}')
			d--;
	}
	return d;
}

static int nft_chain_by_name(const char *s, const char *e)
{
	const char *w = s;

	while (w < e && *w != ' ' && *w != '\t' && *w != '{')
		w++;
	for (int c = 0; c < _NFT_CHAIN_MAX; c++)
		if (word_is(s, (size_t)(w - s), nft_chains[c].name))
			return c;
	return -1;
}

static int nft_rule(enum rules_family family, struct nft_chain_state *st, int c, const char *want,
		    const struct rules_owned *owned, const char *s, const char *e, uint64_t handle)
{
	size_t len = (size_t)(e - s);
	int r;

	st->rules++;
	if (!(want && has_line(want, s, len)) && !rules_owned_match(owned, s, len))
		return 0;
	st->ours++;
	r = buf_append(&st->mine, s, len);
	if (r >= 0)
		r = buf_puts(&st->mine, "\n");
	if (r >= 0)
		r = buf_printf(&st->del, "delete rule %s %s %s handle %" PRIu64 "\n",
			       rules_nft_family(family), rules_nft_table(family),
			       nft_chains[c].name, handle);
	return r;
}

/* Read an `nft -a list table` listing into st[]. want[c] NULL: chain c is not wanted. */
static int nft_scan(enum rules_family family, const char *listing, size_t len,
		    const char *const want[static _NFT_CHAIN_MAX], const struct rules_owned *owned,
		    struct nft_chain_state st[static _NFT_CHAIN_MAX])
{
	const char *p = listing, *end = listing + len;
	int depth = 0, cur = -1, r;

	while (p < end) {
		const char *s = p, *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		int d = depth;
		uint64_t handle;

		p = nl ? nl + 1 : end;
		depth += brace_delta(s, e);
		if (depth < 0)
			depth = 0;
		trim(&s, &e);
		e = strip_handle(s, e, &handle);
		if (d == 1 && e - s > 6 && memcmp(s, "chain ", 6) == 0) {
			cur = nft_chain_by_name(s + 6, e);
			if (cur >= 0)
				st[cur].exists = true;
		} else if (cur >= 0 && d == 2 && e - s > 5 && memcmp(s, "type ", 5) == 0) {
			st[cur].type_ok = word_is(s, (size_t)(e - s), nft_chains[cur].type);
		} else if (cur >= 0 && d == 2 && handle && e > s && e[-1] != '{') {
			r = nft_rule(family, &st[cur], cur, want[cur], owned, s, e, handle);
			if (r < 0)
				return r;
		}
		if (depth <= 1)
			cur = -1;
	}
	return 0;
}

/* Append "insert rule <f> <t> <chain> <line>" for the lines of want, last first. */
static int nft_insert_all(enum rules_family family, int c, const char *want, struct buf *out)
{
	const char *end = want + strlen(want);
	int r = 0;

	while (r >= 0 && end > want) {
		const char *e = end[-1] == '\n' ? end - 1 : end;
		const char *s = e;

		while (s > want && s[-1] != '\n')
			s--;
		r = buf_printf(out, "insert rule %s %s %s %.*s\n", rules_nft_family(family),
			       rules_nft_table(family), nft_chains[c].name, (int)(e - s), s);
		end = s;
	}
	return r;
}

static int nft_plan_chains(enum rules_family family, const char *const want[static _NFT_CHAIN_MAX],
			   struct nft_chain_state st[static _NFT_CHAIN_MAX], struct buf *out)
{
	_cleanup_buf_ struct buf edit = BUF_INIT;
	const char *f = rules_nft_family(family), *t = rules_nft_table(family);
	bool need = false;
	int r = 0;

	for (int c = 0; r >= 0 && c < _NFT_CHAIN_MAX; c++) {
		const char *mine = st[c].mine.data ? st[c].mine.data : "";

		if (want[c]) {
			need = need || !st[c].exists || !st[c].type_ok;
			if (st[c].exists && strcmp(mine, want[c]) == 0)
				continue;
			need = true;
			r = buf_puts(&edit, st[c].del.data ? st[c].del.data : "");
			if (r >= 0)
				r = nft_insert_all(family, c, want[c], &edit);
		} else if (st[c].ours > 0) {
			need = true;
			r = buf_puts(&edit, st[c].del.data);
			if (r >= 0 && st[c].ours == st[c].rules)
				r = buf_printf(&edit, "delete chain %s %s %s\n", f, t,
					       nft_chains[c].name);
		}
	}
	if (r < 0 || !need)
		return r;

	/* (re)declare the table and our chains: creates what is missing, restores the policy */
	r = buf_printf(out, "table %s %s {\n\tcomment \"rules for %s\"\n", f, t, t);
	for (int c = 0; r >= 0 && c < _NFT_CHAIN_MAX; c++)
		if (want[c])
			r = buf_printf(out, "\tchain %s {\n\t\tcomment \"%s\"\n\t\t%s\n\t}\n",
				       nft_chains[c].name, nft_chains[c].comment,
				       nft_chains[c].type);
	if (r >= 0)
		r = buf_puts(out, "}\n");
	if (r >= 0 && edit.len > 0)
		r = buf_puts(out, edit.data);
	return r;
}

int rules_nft_plan(enum rules_family family, const struct rules_net *n,
		   const struct rules_owned *owned, bool masq, bool forward, bool random_fully,
		   const char *listing, size_t len, struct buf *out)
{
	_cleanup_buf_ struct buf want_p = BUF_INIT, want_f = BUF_INIT;
	struct nft_chain_state st[_NFT_CHAIN_MAX] = {0};
	const char *want[_NFT_CHAIN_MAX] = {NULL, NULL};
	int r = 0;

	if (!nft_args_valid(family, n, masq, forward))
		return -EINVAL;
	if (!listing)
		return rules_nft_table_text(family, n, masq, forward, random_fully, out);

	if (masq) {
		r = nft_chain_rules(family, n, NFT_POSTRTG, random_fully, "", &want_p);
		want[NFT_POSTRTG] = want_p.data;
	}
	if (r >= 0 && forward) {
		r = nft_chain_rules(family, n, NFT_FORWARD, random_fully, "", &want_f);
		want[NFT_FORWARD] = want_f.data;
	}
	if (r >= 0)
		r = nft_scan(family, listing, len, want, owned, st);
	if (r >= 0)
		r = nft_plan_chains(family, want, st, out);
	for (int c = 0; c < _NFT_CHAIN_MAX; c++) {
		buf_free(&st[c].mine);
		buf_free(&st[c].del);
	}
	return r;
}

/* ---- blackhole route ---- */

int rules_blackhole_routes(const struct rules_net *v4, const struct rules_net *v6,
			   struct ip_net ret[static 2])
{
	int k = 0;

	if (v4 && v4->enabled)
		ret[k++] = v4->subnet;
	if (v6 && v6->enabled)
		ret[k++] = v6->subnet;
	return k;
}
