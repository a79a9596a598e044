/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renders upstream flannel's traffic rules as text and plans their atomic
 * installation. iptables rules are written in the canonical form that
 * `iptables-save` prints, so one string serves as restore input and as the
 * expected read-back: drift detection is a byte comparison of our chain's
 * lines instead of a storm of `iptables -C` calls (flannel#933). The plan
 * rewrites a chain with ":<chain> - [0:0]" + its rules inside one
 * `iptables-restore --noflush` transaction, which flushes and refills it
 * atomically, so unlike upstream's create-or-flush (#2237) there is never a
 * moment without masquerading. nftables tables are rendered exactly as
 * `nft list table` prints them, which is also valid nft input.
 */
#include <errno.h>
#include <string.h>

#include "rules.h"

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

static int plan_ensure(const struct ipt_scan *s, const char *want, bool jump_last, struct buf *body)
{
	int r;

	if (!s->chain_exists || s->overflow ||
	    strcmp(s->rules.data ? s->rules.data : "", want) != 0) {
		r = buf_printf(body, ":%s - [0:0]\n", s->chain);
		if (r < 0)
			return r;
		r = buf_puts(body, want);
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

int rules_ipt_plan(const struct ipt_scan *s, const char *want, bool jump_last, struct buf *out)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	int r;

	r = want ? plan_ensure(s, want, jump_last, &body) : plan_remove(s, &body);
	if (r < 0)
		return r;
	if (body.len == 0)
		return 0;
	return buf_printf(out, "*%s\n%sCOMMIT\n", s->table, body.data);
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

/* nft prints a full-length prefix as a bare address. */
static const char *nft_net_fmt(const struct ip_net *n, char buf[static IP_NET_STRLEN])
{
	if (n->prefixlen == ip_family_bits(n->addr.family))
		return ip_addr_fmt(&n->addr, buf);
	return ip_net_fmt(n, buf);
}

int rules_nft_table_text(enum rules_family family, const struct rules_net *n, bool masq,
			 bool forward, bool random_fully, struct buf *out)
{
	char net[IP_NET_STRLEN], sub[IP_NET_STRLEN];
	const char *f = rules_nft_family(family);
	const char *t = rules_nft_table(family);
	const char *mcast = family == RULES_IPV6 ? "ff00::/8" : "224.0.0.0/4";
	const char *masquerade = random_fully ? "masquerade fully-random" : "masquerade";
	int r;

	if (family_af(family) == 0 ||
	    ((masq || forward) && (!n->enabled || family_af(family) != n->network.addr.family)))
		return -EINVAL;
	r = buf_printf(out, "table %s %s {\n\tcomment \"rules for %s\"\n", f, t, t);
	if (r < 0)
		return r;
	if (masq) {
		nft_net_fmt(&n->network, net);
		nft_net_fmt(&n->subnet, sub);
		r = buf_printf(out,
			       "\tchain postrtg {\n"
			       "\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"
			       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
			       "\t\tmeta mark 0x00004000 return\n"
			       "\t\t%s saddr %s %s daddr %s return\n"
			       "\t\t%s saddr %s %s daddr %s return\n"
			       "\t\t%s saddr != %s %s daddr %s return\n"
			       "\t\t%s saddr %s %s daddr != %s %s\n"
			       "\t\t%s saddr != %s %s daddr %s %s\n"
			       "\t}\n",
			       f, sub, f, net, f, net, f, sub, f, sub, f, net, f, net, f, mcast,
			       masquerade, f, net, f, net, masquerade);
		if (r < 0)
			return r;
	}
	if (forward) {
		nft_net_fmt(&n->network, net);
		r = buf_printf(out,
			       "%s\tchain forward {\n"
			       "\t\tcomment \"chain to accept flannel traffic\"\n"
			       "\t\ttype filter hook forward priority filter; policy accept;\n"
			       "\t\t%s saddr %s accept\n"
			       "\t\t%s daddr %s accept\n"
			       "\t}\n",
			       masq ? "\n" : "", f, net, f, net);
		if (r < 0)
			return r;
	}
	return buf_puts(out, "}\n");
}

int rules_nft_delete_script(enum rules_family family, struct buf *out)
{
	const char *f = rules_nft_family(family), *t = rules_nft_table(family);

	if (family_af(family) == 0)
		return -EINVAL;
	return buf_printf(out, "add table %s %s\ndelete table %s %s\n", f, t, f, t);
}

int rules_nft_apply_script(enum rules_family family, const char *table_text, struct buf *out)
{
	int r = rules_nft_delete_script(family, out);
	if (r < 0)
		return r;
	return buf_puts(out, table_text);
}

/* Next non-empty normalised line between p and end; advances p. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	while (*p < end) {
		const char *s = *p;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		*p = nl ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		/* drop a trailing "# handle N" (nft -a) */
		for (const char *h = e; h > s; h--) {
			if (h[-1] >= '0' && h[-1] <= '9')
				continue;
			if ((size_t)(h - s) >= 9 && memcmp(h - 9, "# handle ", 9) == 0 && h != e) {
				e = h - 9;
				while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
					e--;
			}
			break;
		}
		if (e > s) {
			*ret = s;
			*ret_len = (size_t)(e - s);
			return true;
		}
	}
	return false;
}

bool rules_nft_listing_equal(const char *listing, size_t len, const char *want)
{
	if (!listing) { /* an empty struct buf */
		listing = "";
		len = 0;
	}
	const char *a = listing, *ae = listing + len;
	const char *b = want, *be = want + strlen(want);

	for (;;) {
		const char *la, *lb;
		size_t na, nb;
		bool ha = next_line(&a, ae, &la, &na);
		bool hb = next_line(&b, be, &lb, &nb);

		if (!ha || !hb)
			return ha == hb;
		if (na != nb || memcmp(la, lb, na) != 0)
			return false;
	}
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
