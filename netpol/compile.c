/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy compiler. See compile.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpol/compile.h"

/* A peer selector used by some chain: the set it fills. */
struct selref {
	char name[NP_NAME_LEN]; /* s<hash>, without the family suffix */
	const struct np_ns *ns; /* the policy's namespace when there is no namespaceSelector */
	const struct np_peer *peer;
};

/* A named port used by some chain. */
struct portref {
	char name[NP_NAME_LEN]; /* n<hash> */
	const char *port_name;
	uint8_t proto;
	/* ingress: the destination is always one of our pods, so the set needs only those */
	bool local_only;
};

struct ctx {
	const struct np_model *m;
	const char *node;
	struct np_state *out;
	struct np_compile_stats *stats;
	struct buf *report;
	struct selref *sels;
	size_t n_sels, cap_sels;
	struct portref *ports;
	size_t n_ports, cap_ports;
	bool all_pods_ports; /* some named port needs every pod (egress), not only ours */
	const struct np_pod **locals;
	size_t n_locals, cap_locals;
	struct buf key; /* scratch */
};

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case NP_PROTO_TCP:
		return "tcp";
	case NP_PROTO_UDP:
		return "udp";
	default:
		return "sctp";
	}
}

static bool pod_eligible(const struct np_pod *p)
{
	return !(p->flags & (NP_POD_HOST_NETWORK | NP_POD_FINISHED)) &&
	       (p->flags & (NP_POD_HAS_IP4 | NP_POD_HAS_IP6));
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? 2 * *cap : 16;
	void *a = realloc(*arr, ncap * size);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = ncap;
	return 0;
}

/* The set name of a pod/namespace-selector peer of a policy in namespace ns. */
static int selref_get(struct ctx *c, const struct np_ns *ns, const struct np_peer *peer,
		      char name[static NP_NAME_LEN])
{
	int r;

	buf_reset(&c->key);
	if (peer->has_ns_sel) {
		r = buf_puts(&c->key, "N");
		if (r >= 0)
			r = np_selector_canon(&peer->ns_sel, &c->key);
	} else
		r = buf_printf(&c->key, "n%zu:%s", strlen(ns->name), ns->name);
	if (r >= 0)
		r = buf_puts(&c->key, peer->has_pod_sel ? "|P" : "|*");
	if (r >= 0 && peer->has_pod_sel)
		r = np_selector_canon(&peer->pod_sel, &c->key);
	if (r < 0)
		return r;
	np_hash_name(name, 's', c->key.data, c->key.len, NULL);
	for (size_t i = 0; i < c->n_sels; i++)
		if (strcmp(c->sels[i].name, name) == 0)
			return 0;
	r = grow((void **)&c->sels, &c->cap_sels, c->n_sels, sizeof(*c->sels));
	if (r < 0)
		return r;
	c->sels[c->n_sels] = (struct selref){.ns = ns, .peer = peer};
	memcpy(c->sels[c->n_sels].name, name, NP_NAME_LEN);
	c->n_sels++;
	return 0;
}

static int portref_get(struct ctx *c, const char *port_name, uint8_t proto, bool local_only,
		       char name[static NP_NAME_LEN])
{
	int r;

	buf_reset(&c->key);
	r = buf_printf(&c->key, "%s/%u%s", port_name, proto, local_only ? "/local" : "");
	if (r < 0)
		return r;
	np_hash_name(name, 'n', c->key.data, c->key.len, NULL);
	for (size_t i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return 0;
	r = grow((void **)&c->ports, &c->cap_ports, c->n_ports, sizeof(*c->ports));
	if (r < 0)
		return r;
	c->ports[c->n_ports] =
		(struct portref){.port_name = port_name, .proto = proto, .local_only = local_only};
	c->all_pods_ports |= !local_only;
	memcpy(c->ports[c->n_ports].name, name, NP_NAME_LEN);
	c->n_ports++;
	return 0;
}

/* A match fragment and the address family it restricts the rule to (0: none). */
struct frag {
	int family;
	char text[160];
};

#define MAX_FRAGS 2

static int peer_frags(struct ctx *c, const struct np_ns *ns, const struct np_peer *peer,
		      enum np_dir dir, struct buf *scratch, struct frag f[MAX_FRAGS], size_t *n)
{
	const char *side = dir == NP_INGRESS ? "saddr" : "daddr";
	char name[NP_NAME_LEN], a[IP_NET_STRLEN];
	int r;

	if (peer->kind == NP_PEER_PODS) {
		r = selref_get(c, ns, peer, name);
		if (r < 0)
			return r;
		f[0].family = AF_INET;
		snprintf(f[0].text, sizeof(f[0].text), "ip %s @%s-4 ", side, name);
		f[1].family = AF_INET6;
		snprintf(f[1].text, sizeof(f[1].text), "ip6 %s @%s-6 ", side, name);
		*n = 2;
		return 0;
	}
	/* ipBlock: the except list can be long, so it is built in scratch. */
	const char *fam = peer->cidr.addr.family == AF_INET ? "ip" : "ip6";
	buf_reset(scratch);
	if (peer->cidr.prefixlen == 0)
		r = buf_printf(scratch, "meta nfproto %s ",
			       peer->cidr.addr.family == AF_INET ? "ipv4" : "ipv6");
	else
		r = buf_printf(scratch, "%s %s %s ", fam, side, ip_net_fmt(&peer->cidr, a));
	if (r >= 0 && peer->n_except) {
		r = buf_printf(scratch, "%s %s != { ", fam, side);
		for (size_t i = 0; r >= 0 && i < peer->n_except; i++)
			r = buf_printf(scratch, "%s%s", i ? ", " : "",
				       ip_net_fmt(&peer->except[i], a));
		if (r >= 0)
			r = buf_puts(scratch, " } ");
	}
	if (r < 0)
		return r;
	f[0].family = peer->cidr.addr.family;
	f[0].text[0] = '\0'; /* the text is in scratch */
	*n = 1;
	return 1;
}

static int port_frags(struct ctx *c, const struct np_port *p, enum np_dir dir,
		      struct frag f[MAX_FRAGS], size_t *n)
{
	const char *proto = proto_name(p->proto);
	char name[NP_NAME_LEN];
	int r;

	if (p->name) {
		r = portref_get(c, p->name, p->proto, dir == NP_INGRESS, name);
		if (r < 0)
			return r;
		f[0].family = AF_INET;
		snprintf(f[0].text, sizeof(f[0].text), "meta l4proto %s ip daddr . th dport @%s-4 ",
			 proto, name);
		f[1].family = AF_INET6;
		snprintf(f[1].text, sizeof(f[1].text),
			 "meta l4proto %s ip6 daddr . th dport @%s-6 ", proto, name);
		*n = 2;
		return 0;
	}
	f[0].family = 0;
	if (!p->has_port)
		snprintf(f[0].text, sizeof(f[0].text), "meta l4proto %s ", proto);
	else if (p->end_port > p->port)
		snprintf(f[0].text, sizeof(f[0].text), "meta l4proto %s th dport %u-%u ", proto,
			 p->port, p->end_port);
	else
		snprintf(f[0].text, sizeof(f[0].text), "meta l4proto %s th dport %u ", proto,
			 p->port);
	*n = 1;
	return 0;
}

/* The rules of one direction of one policy, one per line. */
static int policy_body(struct ctx *c, const struct np_policy *pol, enum np_dir dir,
		       struct buf *body)
{
	_cleanup_buf_ struct buf scratch = BUF_INIT;
	int r = 0;

	if (pol->error)
		return 0; /* fail closed: allows nothing */
	for (size_t i = 0; i < pol->n_rules[dir]; i++) {
		const struct np_rule *rule = &pol->rules[dir][i];
		size_t n_peers = rule->n_peers ? rule->n_peers : 1;
		size_t n_ports = rule->n_ports ? rule->n_ports : 1;

		for (size_t pi = 0; pi < n_peers; pi++) {
			struct frag pf[MAX_FRAGS] = {{0, ""}};
			size_t npf = 1;
			bool in_scratch = false;

			if (rule->n_peers) {
				r = peer_frags(c, pol->ns, &rule->peers[pi], dir, &scratch, pf,
					       &npf);
				if (r < 0)
					return r;
				in_scratch = r > 0;
			}
			for (size_t qi = 0; qi < n_ports; qi++) {
				struct frag qf[MAX_FRAGS] = {{0, ""}};
				size_t nqf = 1;

				if (rule->n_ports) {
					r = port_frags(c, &rule->ports[qi], dir, qf, &nqf);
					if (r < 0)
						return r;
				}
				for (size_t a = 0; a < npf; a++)
					for (size_t b = 0; b < nqf; b++) {
						if (pf[a].family && qf[b].family &&
						    pf[a].family != qf[b].family)
							continue;
						r = buf_printf(body, "%s%saccept\n",
							       in_scratch ? scratch.data
									  : pf[a].text,
							       qf[b].text);
						if (r < 0)
							return r;
						c->stats->rules++;
					}
			}
		}
	}
	return 0;
}

/* A local pod being compiled: the policy chains selecting it, per direction. */
struct local {
	const struct np_pod *pod;
	struct buf chains[_NP_DIR_MAX]; /* "jump p...\n" lines */
	struct buf names[_NP_DIR_MAX];	/* "ns/name," for the report */
};

static int add_pod_verdicts(struct ctx *c, struct local *l, struct buf *report)
{
	const struct np_pod *p = l->pod;
	int r;

	for (int d = 0; d < _NP_DIR_MAX; d++) {
		char name[NP_NAME_LEN];
		struct np_elem e = {};

		if (!l->chains[d].len)
			continue;
		c->stats->isolated[d]++;
		r = buf_puts(&l->chains[d], "drop\n");
		if (r < 0)
			return r;
		np_hash_name(name, 'c', l->chains[d].data, l->chains[d].len, NULL);
		/* duplicates (pods with the same policies) are merged by np_state_sort() */
		r = np_state_add_chain(c->out, name, buf_steal(&l->chains[d], NULL));
		if (r < 0)
			return r;
		memcpy(e.chain, name, NP_NAME_LEN);
		if (p->flags & NP_POD_HAS_IP4) {
			memset(e.addr, 0, sizeof(e.addr));
			memcpy(e.addr, &p->ip4, 4);
			r = np_set_add(&c->out->maps[d == NP_INGRESS ? NP_MAP_I4 : NP_MAP_E4], &e);
			if (r < 0)
				return r;
		}
		if (p->flags & NP_POD_HAS_IP6) {
			memcpy(e.addr, &p->ip6, 16);
			r = np_set_add(&c->out->maps[d == NP_INGRESS ? NP_MAP_I6 : NP_MAP_E6], &e);
			if (r < 0)
				return r;
		}
	}
	if (!report)
		return 0;
	r = buf_printf(report, "%s/%s", p->ns->name, p->name);
	for (int d = 0; d < _NP_DIR_MAX && r >= 0; d++) {
		struct buf *nb = &l->names[d];
		if (nb->len)
			nb->data[--nb->len] = '\0'; /* trailing comma */
		r = buf_printf(report, " %s=%s", d == NP_INGRESS ? "ingress" : "egress",
			       nb->len ? nb->data : "-");
	}
	if (r >= 0)
		r = buf_puts(report, "\n");
	return r;
}

static void local_done(struct local *l)
{
	for (int d = 0; d < _NP_DIR_MAX; d++) {
		buf_free(&l->chains[d]);
		buf_free(&l->names[d]);
	}
}

/* One namespace: its local pods, the policies selecting them, their chains. */
static int compile_ns(const struct np_ns *ns, void *userdata)
{
	struct ctx *c = userdata;
	struct local *locals = NULL;
	size_t n_locals = 0;
	int r = 0;

	if (np_model_local_node(c->m) == c->node && !ns->n_local_pods)
		return 0;
	for (const struct np_pod *p = ns->pods; p; p = p->ns_next)
		if (p->node == c->node && pod_eligible(p))
			n_locals++;
	if (!n_locals)
		return 0;
	c->stats->local_pods += n_locals;
	locals = calloc(n_locals, sizeof(*locals));
	if (!locals)
		return -ENOMEM;
	n_locals = 0;
	for (const struct np_pod *p = ns->pods; p; p = p->ns_next)
		if (p->node == c->node && pod_eligible(p)) {
			locals[n_locals++].pod = p;
			r = grow((void **)&c->locals, &c->cap_locals, c->n_locals,
				 sizeof(*c->locals));
			if (r < 0)
				goto out;
			c->locals[c->n_locals++] = p;
		}

	for (const struct np_policy *pol = ns->policies; pol && r >= 0; pol = pol->ns_next) {
		bool used = false;

		for (int d = 0; d < _NP_DIR_MAX && r >= 0; d++) {
			char chain[NP_NAME_LEN] = "";

			if (!pol->types[d])
				continue;
			for (size_t i = 0; i < n_locals && r >= 0; i++) {
				if (!np_selector_match_pod(&pol->pod_sel, locals[i].pod))
					continue;
				if (!chain[0]) {
					_cleanup_buf_ struct buf body = BUF_INIT;

					r = policy_body(c, pol, (enum np_dir)d, &body);
					if (r < 0)
						break;
					np_hash_name(chain, 'p', body.data ? body.data : "",
						     body.len, NULL);
					r = np_state_add_chain(c->out, chain,
							       buf_steal(&body, NULL));
					if (r < 0)
						break;
					used = true;
				}
				r = buf_printf(&locals[i].chains[d], "jump %s\n", chain);
				if (r >= 0)
					r = buf_printf(&locals[i].names[d], "%s,", pol->name);
			}
		}
		if (used)
			c->stats->policies_used++;
	}
	for (size_t i = 0; i < n_locals && r >= 0; i++)
		r = add_pod_verdicts(c, &locals[i], c->report);
out:
	for (size_t i = 0; i < n_locals; i++)
		local_done(&locals[i]);
	free(locals);
	return r;
}

static int add_ip_elems(struct np_set *s4, struct np_set *s6, const struct np_pod *p, uint16_t port)
{
	struct np_elem e = {.port = port};
	int r = 0;

	if (p->flags & NP_POD_HAS_IP4) {
		memcpy(e.addr, &p->ip4, 4);
		r = np_set_add(s4, &e);
	}
	if (r >= 0 && (p->flags & NP_POD_HAS_IP6)) {
		memcpy(e.addr, &p->ip6, 16);
		r = np_set_add(s6, &e);
	}
	return r;
}

static int fill_pods_of_ns(const struct np_ns *ns, const struct np_peer *peer, struct np_set *s4,
			   struct np_set *s6)
{
	for (const struct np_pod *p = ns->pods; p; p = p->ns_next) {
		if (!pod_eligible(p))
			continue;
		if (peer->has_pod_sel && !np_selector_match_pod(&peer->pod_sel, p))
			continue;
		int r = add_ip_elems(s4, s6, p, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

struct fill {
	const struct np_peer *peer;
	struct np_set *s4, *s6;
};

static int fill_ns(const struct np_ns *ns, void *userdata)
{
	struct fill *f = userdata;

	if (!ns->n_pods || !np_selector_match_ns(&f->peer->ns_sel, ns))
		return 0;
	return fill_pods_of_ns(ns, f->peer, f->s4, f->s6);
}

static int cmp_portref(const void *a, const void *b)
{
	const struct portref *x = a, *y = b;
	int c = strcmp(x->port_name, y->port_name);

	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (int)x->local_only - (int)y->local_only;
}

struct fill_ports {
	struct ctx *c;
	struct np_set **s4, **s6;
};

static int fill_ports_pod(struct fill_ports *f, const struct np_pod *p)
{
	struct ctx *c = f->c;

	if (!p->ports || !pod_eligible(p))
		return 0;
	bool local = p->node == c->node;
	for (size_t i = 0; i < p->ports->n; i++) {
		const struct np_named_port *np = &p->ports->p[i];
		for (int lo = 0; lo <= (int)local; lo++) {
			struct portref key = {
				.port_name = np->name, .proto = np->proto, .local_only = lo};
			const struct portref *ref =
				bsearch(&key, c->ports, c->n_ports, sizeof(*c->ports), cmp_portref);
			if (!ref)
				continue;
			size_t k = (size_t)(ref - c->ports);
			int r = add_ip_elems(f->s4[k], f->s6[k], p, np->port);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int fill_ports_ns(const struct np_ns *ns, void *userdata)
{
	for (const struct np_pod *p = ns->pods; p; p = p->ns_next) {
		int r = fill_ports_pod(userdata, p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fill_sets(struct ctx *c)
{
	char name[NP_NAME_LEN + 4];
	int r;

	for (size_t i = 0; i < c->n_sels; i++) {
		const struct selref *s = &c->sels[i];
		struct np_set *s4, *s6;

		snprintf(name, sizeof(name), "%s-4", s->name);
		s4 = np_state_add_set(c->out, name, NP_SET_ADDR4);
		if (!s4)
			return -ENOMEM;
		snprintf(name, sizeof(name), "%s-6", s->name);
		s6 = np_state_add_set(c->out, name, NP_SET_ADDR6);
		if (!s6)
			return -ENOMEM;
		/* the pointers stay valid: the array only grows between here and the fill */
		s4 = &c->out->sets[c->out->n_sets - 2];
		if (s->peer->has_ns_sel) {
			struct fill f = {s->peer, s4, s6};
			r = np_model_foreach_ns(c->m, fill_ns, &f);
		} else
			r = fill_pods_of_ns(s->ns, s->peer, s4, s6);
		if (r < 0)
			return r;
	}

	if (!c->n_ports)
		return 0;
	qsort(c->ports, c->n_ports, sizeof(*c->ports), cmp_portref);
	_cleanup_free_ struct np_set **s4 = calloc(c->n_ports, sizeof(*s4));
	_cleanup_free_ struct np_set **s6 = calloc(c->n_ports, sizeof(*s6));
	if (!s4 || !s6)
		return -ENOMEM;
	/* Add every set first (the array may move), then take the pointers. */
	size_t first = c->out->n_sets;
	for (size_t i = 0; i < c->n_ports; i++) {
		snprintf(name, sizeof(name), "%s-4", c->ports[i].name);
		if (!np_state_add_set(c->out, name, NP_SET_ADDRPORT4))
			return -ENOMEM;
		snprintf(name, sizeof(name), "%s-6", c->ports[i].name);
		if (!np_state_add_set(c->out, name, NP_SET_ADDRPORT6))
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_ports; i++) {
		s4[i] = &c->out->sets[first + 2 * i];
		s6[i] = &c->out->sets[first + 2 * i + 1];
	}
	struct fill_ports f = {c, s4, s6};
	if (c->all_pods_ports)
		return np_model_foreach_ns(c->m, fill_ports_ns, &f);
	/* ingress only: the destinations are our pods */
	for (size_t i = 0; i < c->n_locals; i++) {
		r = fill_ports_pod(&f, c->locals[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

struct bad {
	struct buf *report;
	size_t n;
};

static int report_bad(const struct np_ns *ns, void *userdata)
{
	struct bad *b = userdata;

	for (const struct np_policy *p = ns->policies; p; p = p->ns_next) {
		if (!p->error)
			continue;
		b->n++;
		if (b->report) {
			int r = buf_printf(b->report, "! %s/%s: %s\n", ns->name, p->name, p->error);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void np_refs_done(struct np_refs *refs)
{
	free(refs->sels);
	free(refs->ports);
	*refs = (struct np_refs){};
}

static int keep_refs(const struct ctx *c, struct np_refs *refs)
{
	if (c->n_sels) {
		refs->sels = calloc(c->n_sels, sizeof(*refs->sels));
		if (!refs->sels)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_sels; i++)
		refs->sels[refs->n_sels++] =
			(struct np_ref_sel){.ns = c->sels[i].ns, .peer = c->sels[i].peer};
	if (c->n_ports) {
		refs->ports = calloc(c->n_ports, sizeof(*refs->ports));
		if (!refs->ports)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_ports; i++)
		if (!c->ports[i].local_only)
			refs->ports[refs->n_ports++] = (struct np_ref_port){
				.name = c->ports[i].port_name, .proto = c->ports[i].proto};
	return 0;
}

bool np_refs_pod_matters(const struct np_refs *refs, const struct np_pod *p, const char *node)
{
	if (!pod_eligible(p))
		return false;
	if (p->node && strcmp(p->node, node) == 0)
		return true;
	for (size_t i = 0; i < refs->n_sels; i++) {
		const struct np_peer *peer = refs->sels[i].peer;
		if (peer->has_ns_sel ? !np_selector_match_ns(&peer->ns_sel, p->ns)
				     : refs->sels[i].ns != p->ns)
			continue;
		if (!peer->has_pod_sel || np_selector_match_pod(&peer->pod_sel, p))
			return true;
	}
	for (size_t i = 0; p->ports && i < refs->n_ports; i++)
		for (size_t k = 0; k < p->ports->n; k++)
			if (p->ports->p[k].proto == refs->ports[i].proto &&
			    strcmp(p->ports->p[k].name, refs->ports[i].name) == 0)
				return true;
	return false;
}

int np_compile(const struct np_model *m, const char *node, struct np_state *out, struct buf *report,
	       struct np_compile_stats *stats)
{
	return np_compile_refs(m, node, out, report, stats, NULL);
}

int np_compile_refs(const struct np_model *m, const char *node, struct np_state *out,
		    struct buf *report, struct np_compile_stats *stats, struct np_refs *refs)
{
	struct np_compile_stats local_stats = {};
	/* node names are interned: a pod is ours when it points at the same string */
	struct ctx c = {.m = m,
			.node = np_intern_find(m, node),
			.out = out,
			.stats = stats ? stats : &local_stats};
	int r;

	*c.stats = (struct np_compile_stats){};
	out->has_table = true;
	c.report = report;
	/* no node name interned: no pod of ours at all */
	r = c.node ? np_model_foreach_ns(m, compile_ns, &c) : 0;
	if (r >= 0)
		r = fill_sets(&c);
	if (r >= 0) {
		struct bad b = {report, 0};
		r = np_model_foreach_ns(m, report_bad, &b);
		c.stats->bad_policies = b.n;
	}
	if (r >= 0 && refs)
		r = keep_refs(&c, refs);
	free(c.sels);
	free(c.ports);
	free(c.locals);
	buf_free(&c.key);
	if (r < 0)
		return r;
	np_state_sort(out);
	c.stats->sets = out->n_sets;
	c.stats->chains = out->n_chains;
	for (size_t i = 0; i < out->n_sets; i++)
		c.stats->set_elements += out->sets[i].n;
	return 0;
}
