/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planner: desired entries from leases, actual entries from the kernel,
 * a sort-merge diff, and ops in an order that keeps the datapath valid at
 * every step. Pure and allocation-bounded (linear in peers + entries), so
 * that a reconcile of thousands of unchanged peers costs sorting, not
 * syscalls, and so that every rule can be unit-tested.
 *
 * Conflicting leases (two peers with the same subnet address or link key:
 * VtepMAC, WireGuard public key) would make every pass rewrite the kernel;
 * the first by name wins and the others are reported as skipped.
 *
 * The belief (struct plan_state) keeps each peer's lease (shared with the
 * lease set: lease_share) with its status (its desired entries are rebuilt from them when needed, which keeps
 * the record small) and a sorted index by subnet address and link key, so
 * that a change of a few peers is planned without sorting (a name merge,
 * or binary searches when the changed names are given) and a notification
 * is classified with a binary search.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "plan.h"

#define FAMILY_BITS(fi)                                                                 \
	(PLAN_BIT(PLAN_NEIGH, fi) | PLAN_BIT(PLAN_FDB, fi) | PLAN_BIT(PLAN_ROUTE, fi) | \
	 PLAN_BIT(PLAN_PEER, fi))

/* A desired or actual entry with its sort key fields reachable. */
struct entry {
	enum plan_kind kind;
	int family;
	ssize_t peer;
	union {
		struct neigh_spec neigh;
		struct fdb_spec fdb;
		struct route_spec route;
		struct wg_peer wg;
	};
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

/* Room for exactly n more entries (the arrays of a full pass are sized once). */
static int entries_reserve(struct entries *e, size_t n)
{
	struct entry *p;

	if (e->cap - e->n >= n)
		return 0;
	p = reallocarray(e->v, e->n + n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	e->v = p;
	e->cap = e->n + n;
	return 0;
}

static int entries_push(struct entries *e, const struct entry *x)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct entry *p = reallocarray(e->v, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		e->v = p;
		e->cap = cap;
	}
	e->v[e->n++] = *x;
	return 0;
}

static int mac_cmp(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6);
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

static int key_cmp(const struct entry *a, const struct entry *b)
{
	int r;

	switch (a->kind) {
	case PLAN_NEIGH:
		return ip_addr_cmp(&a->neigh.ip, &b->neigh.ip);
	case PLAN_FDB:
		r = mac_cmp(a->fdb.mac, b->fdb.mac);
		return r ? r : ip_addr_cmp(&a->fdb.dst, &b->fdb.dst);
	case PLAN_PEER:
		return wg_peer_key_cmp(&a->wg, &b->wg);
	case PLAN_ROUTE:
	default:
		r = ip_net_cmp(&a->route.dst, &b->route.dst);
		return r ? r : cmp_u32(a->route.priority, b->route.priority);
	}
}

static int entry_sort_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int r = key_cmp(a, b);
	if (r)
		return r;
	/* Stable for equal keys: by peer index (peers are sorted by name). */
	return (a->peer > b->peer) - (a->peer < b->peer);
}

/* Same key; does the actual entry a already satisfy the desired entry d? */
static bool entry_satisfies(const struct entry *a, const struct entry *d)
{
	switch (d->kind) {
	case PLAN_NEIGH:
		return a->neigh.has_mac && mac_cmp(a->neigh.mac, d->neigh.mac) == 0 &&
		       (a->neigh.state & NL_NUD_PERMANENT);
	case PLAN_FDB:
		return (a->fdb.state & NL_NUD_PERMANENT) != 0;
	case PLAN_PEER:
		return a->wg.ifindex == d->wg.ifindex && wg_peer_equal(&a->wg, &d->wg);
	case PLAN_ROUTE:
	default:
		return ip_addr_equal(&a->route.gw, &d->route.gw) &&
		       a->route.ifindex == d->route.ifindex && a->route.onlink == d->route.onlink &&
		       a->route.proto == d->route.proto && a->route.type == NL_ROUTE_UNICAST;
	}
}

/* Is an actual entry without a desired counterpart ours to delete? */
static bool entry_is_stale(const struct entry *a)
{
	switch (a->kind) {
	case PLAN_NEIGH:
		/* Only permanent entries are ever ours: dynamic ones age out and
		 * NOARP ones (multicast, e.g. IPv6 ff02::*) belong to the kernel. */
		return (a->neigh.state & NL_NUD_PERMANENT) != 0;
	case PLAN_FDB:
		/* Learnt entries (Learning=true) belong to the kernel. */
		return (a->fdb.state & (NL_NUD_PERMANENT | NL_NUD_NOARP)) != 0;
	case PLAN_PEER: /* the device is ours: so is every peer on it */
	case PLAN_ROUTE:
	default:
		return true; /* the caller dumped only routes that are ours */
	}
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_addr(uint64_t h, const struct ip_addr *a)
{
	h = fnv1a(h, &a->family, sizeof(a->family));
	return fnv1a(h, a->bytes, a->family == AF_INET ? 4 : 16);
}

/* Interface indexes are left out: a recreated device is drift, not a new desire. */
static uint64_t entry_hash(uint64_t h, const struct entry *e)
{
	h = fnv1a(h, &e->kind, sizeof(e->kind));
	switch (e->kind) {
	case PLAN_NEIGH:
		h = hash_addr(h, &e->neigh.ip);
		return fnv1a(h, e->neigh.mac, 6);
	case PLAN_FDB:
		h = fnv1a(h, e->fdb.mac, 6);
		return hash_addr(h, &e->fdb.dst);
	case PLAN_PEER:
		h = fnv1a(h, e->wg.key, WG_KEY_LEN);
		h = fnv1a(h, &e->wg.psk_tag, sizeof(e->wg.psk_tag));
		h = hash_addr(h, &e->wg.endpoint);
		h = fnv1a(h, &e->wg.port, sizeof(e->wg.port));
		h = fnv1a(h, &e->wg.keepalive, sizeof(e->wg.keepalive));
		for (unsigned k = 0; k < e->wg.n_allowed; k++) {
			h = hash_addr(h, &e->wg.allowed[k].addr);
			h = fnv1a(h, &e->wg.allowed[k].prefixlen, 1);
		}
		return h;
	case PLAN_ROUTE:
	default:
		h = hash_addr(h, &e->route.dst.addr);
		h = fnv1a(h, &e->route.dst.prefixlen, 1);
		h = hash_addr(h, &e->route.gw);
		h = fnv1a(h, &e->route.onlink, sizeof(bool));
		return fnv1a(h, &e->route.priority, sizeof(uint32_t));
	}
}

/* Peer accessors per family. */
static bool peer_subnet(const struct lease *l, int fi, struct ip_net *ret_subnet,
			struct ip_addr *ret_public)
{
	if (fi == 0 && l->has_subnet && l->subnet.addr.family == AF_INET &&
	    l->public_ip.family == AF_INET) {
		*ret_subnet = l->subnet;
		*ret_public = l->public_ip;
	} else if (fi == 1 && l->has_subnet6 && l->subnet6.addr.family == AF_INET6 &&
		   l->public_ip6.family == AF_INET6) {
		*ret_subnet = l->subnet6;
		*ret_public = l->public_ip6;
	} else
		return false;
	ip_net_mask(ret_subnet);
	return true;
}

static const uint8_t *peer_mac(const struct lease *l, int fi)
{
	if (fi == 0)
		return l->attrs.has_vtep_mac ? l->attrs.vtep_mac : NULL;
	return l->attrs.has_vtep_mac6 ? l->attrs.vtep_mac6 : NULL;
}

static const uint8_t *peer_wg_key(const struct lease *l, int fi)
{
	if (fi == 0)
		return l->attrs.has_wg_key ? l->attrs.wg_key : NULL;
	return l->attrs.has_wg_key6 ? l->attrs.wg_key6 : NULL;
}

/* A link key, zero-padded: VtepMAC (vxlan) or public key (wireguard). */
#define LINK_KEY_LEN WG_KEY_LEN

static bool peer_link_key(const struct plan_family *f, const struct lease *l, int fi,
			  uint8_t key[static LINK_KEY_LEN])
{
	const uint8_t *k = f->wg ? peer_wg_key(l, fi) : peer_mac(l, fi);

	memset(key, 0, LINK_KEY_LEN);
	if (!k)
		return false;
	memcpy(key, k, f->wg ? WG_KEY_LEN : 6);
	return true;
}

static bool in_direct_nets(const struct plan_family *f, const struct ip_addr *ip)
{
	for (size_t k = 0; k < f->n_direct_nets; k++)
		if (ip_net_contains_addr(&f->direct_nets[k], ip))
			return true;
	return false;
}

/* qsort_r context for peer conflict detection. */
struct conflict_ctx {
	const struct plan_family *f;
	const struct lease *const *peers;
	int fi;
	bool by_link_key;
};

static int link_key_cmp(const struct conflict_ctx *c, size_t a, size_t b)
{
	uint8_t ka[LINK_KEY_LEN], kb[LINK_KEY_LEN];

	(void)peer_link_key(c->f, c->peers[a], c->fi, ka);
	(void)peer_link_key(c->f, c->peers[b], c->fi, kb);
	return memcmp(ka, kb, LINK_KEY_LEN);
}

static int conflict_cmp(const void *x, const void *y, void *arg)
{
	const struct conflict_ctx *c = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	struct ip_net sa, sb;
	struct ip_addr pa, pb;
	int r;

	if (c->by_link_key)
		r = link_key_cmp(c, a, b);
	else {
		(void)peer_subnet(c->peers[a], c->fi, &sa, &pa);
		(void)peer_subnet(c->peers[b], c->fi, &sb, &pb);
		r = ip_addr_cmp(&sa.addr, &sb.addr);
	}
	return r ? r : (a > b) - (a < b);
}

/* Mark later peers (by name) sharing a key with an earlier one as conflicting. */
static int mark_conflicts(const struct plan_family *f, const struct lease *const *peers,
			  const size_t *idx, size_t n, int fi, bool by_link_key, bool *conflict)
{
	_cleanup_free_ size_t *sorted = NULL;
	struct conflict_ctx c = {.f = f, .peers = peers, .fi = fi, .by_link_key = by_link_key};

	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, idx, n * sizeof(*sorted));
	qsort_r(sorted, n, sizeof(*sorted), conflict_cmp, &c);
	for (size_t k = 1; k < n; k++) {
		size_t a = sorted[k - 1], b = sorted[k];
		struct entry ea = {0}, eb = {0};
		bool same;
		if (by_link_key)
			same = link_key_cmp(&c, a, b) == 0;
		else {
			struct ip_addr pa, pb;
			(void)peer_subnet(peers[a], fi, &ea.route.dst, &pa);
			(void)peer_subnet(peers[b], fi, &eb.route.dst, &pb);
			same = ip_addr_equal(&ea.route.dst.addr, &eb.route.dst.addr);
		}
		if (same) {
			conflict[b] = true;
			sorted[k] = a; /* keep comparing against the winner */
		}
	}
	return 0;
}

/*
 * Why a peer with a subnet of family fi cannot be programmed, if it cannot:
 * the same tests for a full plan (build_desired) and a changed peer
 * (rec_plan). First its type; then, once we know whether it is routed
 * directly (host-gw, DirectRouting: no VtepMAC or VNI needed), its VXLAN data.
 */
static enum plan_skip peer_skip_type(const struct plan_params *p, const struct lease *l)
{
	if (l->attrs.backend_type[0] && p->backend_type &&
	    strncmp(l->attrs.backend_type, p->backend_type, BACKEND_TYPE_MAX) != 0)
		return PLAN_SKIP_BACKEND_TYPE;
	return PLAN_SKIP_NONE;
}

static enum plan_skip peer_skip_vxlan(const struct plan_params *p, int fi, const struct lease *l,
				      bool direct)
{
	if (direct)
		return PLAN_SKIP_NONE;
	if (!peer_mac(l, fi))
		return PLAN_SKIP_NO_VTEP_MAC;
	/* A lease without a VNI (older data) is taken as ours. */
	if (p->vni && l->attrs.vni && l->attrs.vni != p->vni)
		return PLAN_SKIP_VNI;
	return PLAN_SKIP_NONE;
}

/* Mark a peer skipped for a reason (the first one stays); returns whether it is. */
static bool skip(struct plan_peer *pp, enum plan_skip why)
{
	if (why == PLAN_SKIP_NONE)
		return false;
	if (!pp->skipped)
		pp->skip = why;
	pp->skipped = true;
	return true;
}

/*
 * A peer's desired entry of a kind and family: direct = routed via its
 * public IP (host-gw, DirectRouting), else VXLAN. The peer must have a
 * subnet of the family, and the link key its entries need (peer_wants);
 * false (and *e untouched) when it has no subnet of that family.
 */
static bool peer_entry(const struct plan_family *f, uint8_t proto, const struct lease *l,
		       bool direct, int fi, enum plan_kind kind, struct entry *e)
{
	const int family = fi == 0 ? AF_INET : AF_INET6;
	struct ip_net subnet;
	struct ip_addr pub;

	if (!peer_subnet(l, fi, &subnet, &pub))
		return false;
	*e = (struct entry){.kind = kind, .family = family, .peer = -1};
	switch (kind) {
	case PLAN_NEIGH:
		e->neigh = (struct neigh_spec){.ifindex = f->dev_ifindex,
					       .ip = subnet.addr,
					       .has_mac = true,
					       .state = NL_NUD_PERMANENT};
		memcpy(e->neigh.mac, peer_mac(l, fi), 6);
		break;
	case PLAN_FDB:
		e->fdb = (struct fdb_spec){
			.ifindex = f->dev_ifindex, .dst = pub, .state = NL_NUD_PERMANENT};
		memcpy(e->fdb.mac, peer_mac(l, fi), 6);
		break;
	case PLAN_PEER:
		e->wg = (struct wg_peer){.ifindex = f->dev_ifindex,
					 .endpoint = pub,
					 .port = (fi == 0 ? l->attrs.wg_port : l->attrs.wg_port6)
							 ?: f->wg_port,
					 .keepalive = f->wg_keepalive,
					 .n_allowed = 1,
					 .allowed = {subnet}};
		memcpy(e->wg.key, peer_wg_key(l, fi), WG_KEY_LEN);
		e->wg.psk_tag = wg_psk_tag(f->wg_psk);
		break;
	case PLAN_ROUTE:
	default:
		e->route = (struct route_spec){.family = family,
					       .dst = subnet,
					       .gw = direct ? pub : subnet.addr,
					       .ifindex = direct ? f->ext_ifindex : f->dev_ifindex,
					       .onlink = !direct,
					       .proto = proto,
					       .type = NL_ROUTE_UNICAST,
					       .table = NL_TABLE_MAIN,
					       .priority = f->route_priority};
		break;
	}
	return true;
}

/*
 * The PLAN_BIT()s a peer wants in family fi, with its status (direct,
 * skipped) into *st; 0 when it has no subnet of the family or is skipped
 * (another backend type, no VtepMAC or PublicKey). Conflicts aside, this
 * is the whole rule of which entries a peer gets.
 */
static unsigned peer_wants(const struct plan_params *p, int fi, const struct lease *l,
			   struct plan_peer *st)
{
	const struct plan_family *f = &p->fam[fi];
	struct ip_net subnet;
	struct ip_addr pub;
	bool direct;

	if (!f->enabled || !peer_subnet(l, fi, &subnet, &pub))
		return 0;
	if (skip(st, peer_skip_type(p, l)))
		return 0;
	if (f->wg) {
		if (skip(st, peer_wg_key(l, fi) ? PLAN_SKIP_NONE : PLAN_SKIP_NO_PUBLIC_KEY))
			return 0;
		return PLAN_BIT(PLAN_PEER, fi);
	}
	direct = !f->vxlan || (f->direct_routing && in_direct_nets(f, &pub));
	if (fi == 0)
		st->direct = f->vxlan && direct;
	else
		st->direct6 = f->vxlan && direct;
	if (skip(st, peer_skip_vxlan(p, fi, l, direct)))
		return 0;
	if (direct)
		return PLAN_BIT(PLAN_ROUTE, fi);
	return PLAN_BIT(PLAN_NEIGH, fi) | PLAN_BIT(PLAN_FDB, fi) | PLAN_BIT(PLAN_ROUTE, fi);
}

static bool peer_direct(const struct plan_family *f, const struct plan_peer *st, int fi)
{
	return !f->vxlan || (fi == 0 ? st->direct : st->direct6);
}

/*
 * A desired entry of a full plan, by reference: peer's entry of a kind in
 * the family (made again from its lease when needed: peer_entry), or the
 * device's own route (DEV_ROUTE). Storing the entries themselves would hold
 * them beside the ops made of them (5000 peers: 1.8 MB more at the peak).
 */
#define DEV_ROUTE UINT32_MAX

struct want_ref {
	uint32_t peer;
	uint8_t kind;
};

struct wants {
	struct want_ref *v;
	size_t n;
};

/* What makes a reference an entry again. */
struct want_ctx {
	const struct plan_params *p;
	int fi;
	const struct lease *const *peers;
	const struct plan_peer *pp;
};

static void want_entry(const struct want_ctx *c, const struct want_ref *w, struct entry *e)
{
	const struct plan_family *f = &c->p->fam[c->fi];

	if (w->peer == DEV_ROUTE) {
		*e = (struct entry){.kind = PLAN_ROUTE,
				    .family = c->fi == 0 ? AF_INET : AF_INET6,
				    .peer = -1,
				    .route = f->dev_route};
		return;
	}
	(void)peer_entry(f, c->p->proto, c->peers[w->peer], peer_direct(f, &c->pp[w->peer], c->fi),
			 c->fi, (enum plan_kind)w->kind, e);
	e->peer = (ssize_t)w->peer;
}

/* Desired entries of one family: the peers' and the device's own route. */
static int build_desired(const struct plan_params *p, int fi, const struct lease *const *peers,
			 size_t n_peers, struct plan_peer *pp, struct wants *out,
			 size_t *n_conflicts)
{
	const struct plan_family *f = &p->fam[fi];
	_cleanup_free_ size_t *idx = NULL, *link_idx = NULL;
	_cleanup_free_ bool *conflict = NULL;
	const unsigned link_bits = PLAN_BIT(PLAN_NEIGH, fi) | PLAN_BIT(PLAN_PEER, fi);
	size_t n_idx = 0, n_link = 0;
	int r;

	idx = malloc((n_peers ? n_peers : 1) * sizeof(*idx));
	link_idx = malloc((n_peers ? n_peers : 1) * sizeof(*link_idx));
	conflict = calloc(n_peers ? n_peers : 1, sizeof(*conflict));
	if (!idx || !link_idx || !conflict)
		return -ENOMEM;

	for (size_t k = 0; k < n_peers; k++) {
		unsigned want = peer_wants(p, fi, peers[k], &pp[k]);

		if (!want)
			continue;
		if (want & link_bits)
			link_idx[n_link++] = k;
		idx[n_idx++] = k;
		pp[k].want |= want;
	}
	r = mark_conflicts(f, peers, idx, n_idx, fi, false, conflict);
	if (r < 0)
		return r;
	r = mark_conflicts(f, peers, link_idx, n_link, fi, true, conflict);
	if (r < 0)
		return r;

	for (size_t j = 0; j < n_idx; j++) {
		size_t k = idx[j];

		if (!conflict[k])
			continue;
		skip(&pp[k], PLAN_SKIP_CONFLICT);
		pp[k].want &= ~FAMILY_BITS(fi);
		(*n_conflicts)++;
	}
	{
		size_t n = f->has_dev_route ? 1 : 0;

		for (size_t j = 0; j < n_idx; j++)
			n += (size_t)__builtin_popcount(pp[idx[j]].want & FAMILY_BITS(fi));
		out->v = calloc(n ? n : 1, sizeof(*out->v));
		if (!out->v)
			return -ENOMEM;
	}
	for (size_t j = 0; j < n_idx; j++) {
		size_t k = idx[j];

		if (conflict[k])
			continue;
		for (int kind = 0; kind < _PLAN_KIND_MAX; kind++)
			if (pp[k].want & PLAN_BIT(kind, fi))
				out->v[out->n++] = (struct want_ref){.peer = (uint32_t)k,
								     .kind = (uint8_t)kind};
	}
	if (f->has_dev_route)
		out->v[out->n++] = (struct want_ref){.peer = DEV_ROUTE, .kind = PLAN_ROUTE};
	return 0;
}

bool plan_route_is_ours(const struct plan_family *f, uint8_t proto, const struct route_spec *r)
{
	if (f->dev_ifindex > 0 && r->ifindex == f->dev_ifindex)
		return true;
	return r->proto == proto && (!f->has_network || ip_net_contains_net(&f->network, &r->dst));
}

static int build_actual(const struct plan_params *p, const struct plan_actual *a, int fi,
			struct entries *out)
{
	const int family = fi == 0 ? AF_INET : AF_INET6;
	int r;

	/* At most every dumped entry: the caller dumped what is ours. */
	r = entries_reserve(out, a->n_neighs + a->n_fdbs + a->n_routes + a->n_wg_peers);
	if (r < 0)
		return r;
	for (size_t k = 0; k < a->n_neighs; k++) {
		struct entry e = {.kind = PLAN_NEIGH, .family = family, .peer = -1};
		if (a->neighs[k].ip.family != family)
			continue;
		e.neigh = a->neighs[k];
		r = entries_push(out, &e);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < a->n_fdbs; k++) {
		struct entry e = {.kind = PLAN_FDB, .family = family, .peer = -1};
		e.fdb = a->fdbs[k];
		r = entries_push(out, &e);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < a->n_routes; k++) {
		struct entry e = {.kind = PLAN_ROUTE, .family = family, .peer = -1};
		if (a->routes[k].family != family ||
		    !plan_route_is_ours(&p->fam[fi], p->proto, &a->routes[k]))
			continue;
		e.route = a->routes[k];
		r = entries_push(out, &e);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < a->n_wg_peers; k++) {
		struct entry e = {.kind = PLAN_PEER, .family = family, .peer = -1};
		e.wg = a->wg_peers[k];
		r = entries_push(out, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Ops are gathered per (action, kind, family) and concatenated in order. A
 * bucket refers to what the ops come from (a dumped entry, which lives until
 * the ops are made, or a desired one by reference), so that a first pass
 * holds each entry once: in its op.
 */
#define N_BUCKETS (2 * _PLAN_KIND_MAX * 2)

/* An op's source: an entry (dumped, or of the per-peer path), or a desired one by reference. */
struct op_src {
	const struct entry *e; /* NULL: ref */
	struct want_ref ref;
};

struct bucket {
	struct op_src *v;
	size_t n, cap;
};

static size_t bucket_of(enum plan_action action, enum plan_kind kind, int fi)
{
	return ((size_t)action * _PLAN_KIND_MAX + (size_t)kind) * 2 + (size_t)fi;
}

static int emit_src(struct bucket *buckets, enum plan_action action, enum plan_kind kind, int fi,
		    const struct op_src *src)
{
	struct bucket *b = &buckets[bucket_of(action, kind, fi)];

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct op_src *v = reallocarray(b->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *src;
	return 0;
}

/* An op from an entry that lives until the ops are made. */
static int emit(struct bucket *buckets, enum plan_action action, const struct entry *e, int fi)
{
	return emit_src(buckets, action, e->kind, fi, &(struct op_src){.e = e});
}

/* An op from a desired entry by reference. */
static int emit_ref(struct bucket *buckets, const struct want_ref *w, int fi)
{
	return emit_src(buckets, PLAN_REPLACE, (enum plan_kind)w->kind, fi,
			&(struct op_src){.ref = *w});
}

static int entry_kind_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->kind != b->kind)
		return (a->kind > b->kind) - (a->kind < b->kind);
	return entry_sort_cmp(a, b);
}

/*
 * key_cmp's order as bytes: the address family first, then the address
 * (ip_addr_cmp), the prefix length and metric of a route, a MAC before the
 * FDB entry's remote.
 */
#define SORT_KEY_LEN 32

static size_t put_addr(uint8_t *p, const struct ip_addr *a)
{
	p[0] = (uint8_t)a->family;
	memcpy(p + 1, a->bytes, a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0);
	return 17;
}

static void sort_key(const struct entry *e, uint8_t key[static SORT_KEY_LEN])
{
	size_t n;

	memset(key, 0, SORT_KEY_LEN);
	switch (e->kind) {
	case PLAN_NEIGH:
		put_addr(key, &e->neigh.ip);
		break;
	case PLAN_FDB:
		memcpy(key, e->fdb.mac, 6);
		put_addr(key + 6, &e->fdb.dst);
		break;
	case PLAN_PEER:
		memcpy(key, e->wg.key, WG_KEY_LEN);
		break;
	case PLAN_ROUTE:
	default:
		n = put_addr(key, &e->route.dst.addr);
		key[n] = e->route.dst.prefixlen;
		for (int b = 0; b < 4; b++)
			key[n + 1 + b] = (uint8_t)(e->route.priority >> (24 - 8 * b));
		break;
	}
}

/* A desired entry with its sort key, made once per entry for the sort. */
struct sort_item {
	uint8_t key[SORT_KEY_LEN];
	struct want_ref ref;
};

static int64_t ref_order(const struct want_ref *w)
{
	return w->peer == DEV_ROUTE ? -1 : (int64_t)w->peer;
}

/* entry_kind_cmp's order: kind, key, peer (the device route first). */
static int sort_item_cmp(const void *x, const void *y)
{
	const struct sort_item *a = x, *b = y;
	int64_t pa = ref_order(&a->ref), pb = ref_order(&b->ref);
	int r;

	if (a->ref.kind != b->ref.kind)
		return a->ref.kind < b->ref.kind ? -1 : 1;
	r = memcmp(a->key, b->key, SORT_KEY_LEN);
	return r ? r : (pa > pb) - (pa < pb);
}

/* Sort the references as their entries would sort (entry_kind_cmp). */
static int wants_sort(const struct want_ctx *ctx, struct wants *want)
{
	_cleanup_free_ struct sort_item *items = NULL;

	if (want->n < 2)
		return 0;
	items = malloc(want->n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < want->n; i++) {
		struct entry e;

		want_entry(ctx, &want->v[i], &e);
		sort_key(&e, items[i].key);
		items[i].ref = want->v[i];
	}
	qsort(items, want->n, sizeof(*items), sort_item_cmp);
	for (size_t i = 0; i < want->n; i++)
		want->v[i] = items[i].ref;
	return 0;
}

/* have must outlive the buckets' use (ops_from_buckets). */
static int diff_family(const struct want_ctx *ctx, struct wants *want, struct entries *have,
		       struct plan *plan, struct bucket *buckets)
{
	const int fi = ctx->fi;
	size_t i = 0, j = 0;
	struct entry cur;
	int r;

	r = wants_sort(ctx, want);
	if (r < 0)
		return r;
	/* qsort() wants a non-NULL base even for no elements. */
	if (have->n > 0)
		qsort(have->v, have->n, sizeof(struct entry), entry_kind_cmp);

	if (want->n > 0)
		want_entry(ctx, &want->v[0], &cur);
	while (i < want->n || j < have->n) {
		const struct entry *d = i < want->n ? &cur : NULL;
		const struct entry *a = j < have->n ? &have->v[j] : NULL;
		int c;

		if (d && a)
			c = d->kind != a->kind ? (d->kind < a->kind ? -1 : 1) : key_cmp(d, a);
		else
			c = d ? -1 : 1;

		if (c > 0) {
			if (entry_is_stale(a)) {
				r = emit(buckets, PLAN_DELETE, a, fi);
				if (r < 0)
					return r;
			}
			j++;
			continue;
		}
		if (c < 0 || !entry_satisfies(a, d)) {
			r = emit_ref(buckets, &want->v[i], fi);
			if (r < 0)
				return r;
			if (d->peer >= 0)
				plan->peers[d->peer].missing |= PLAN_BIT(d->kind, fi);
		}
		/* Several actual entries may share a key (e.g. the same route at
		 * two metrics is two keys; one FDB MAC+dst is one): consume
		 * exactly one. */
		if (c == 0)
			j++;
		if (++i < want->n)
			want_entry(ctx, &want->v[i], &cur);
	}
	return 0;
}

/*
 * The ops of the buckets, in one array of their final size: adds peer,
 * neighbour, FDB, route; deletes route, FDB, neighbour, peer.
 */
/* ctx: for the desired entries by reference (NULL when there are none). */
static int ops_from_buckets(const struct want_ctx *ctx, const struct bucket *buckets,
			    struct plan *plan)
{
	static const enum plan_kind add_order[] = {PLAN_PEER, PLAN_NEIGH, PLAN_FDB, PLAN_ROUTE};
	static const enum plan_kind del_order[] = {PLAN_ROUTE, PLAN_FDB, PLAN_NEIGH, PLAN_PEER};
	size_t n = 0;

	for (size_t b = 0; b < N_BUCKETS; b++)
		n += buckets[b].n;
	plan->ops = calloc(n ? n : 1, sizeof(*plan->ops));
	if (!plan->ops)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		enum plan_action action = pass == 0 ? PLAN_REPLACE : PLAN_DELETE;
		const enum plan_kind *order = pass == 0 ? add_order : del_order;
		for (int o = 0; o < _PLAN_KIND_MAX; o++)
			for (int fi = 0; fi < 2; fi++) {
				const struct bucket *e = &buckets[bucket_of(action, order[o], fi)];

				for (size_t k = 0; k < e->n; k++) {
					const struct entry *x = e->v[k].e;
					struct plan_op *op = &plan->ops[plan->n_ops++];
					struct entry tmp;

					if (!x) {
						want_entry(&ctx[fi], &e->v[k].ref, &tmp);
						x = &tmp;
					}

					*op = (struct plan_op){
						.action = action,
						.kind = x->kind,
						.family = x->family,
						.peer = action == PLAN_DELETE ? -1 : x->peer};
					if (op->kind == PLAN_NEIGH)
						op->neigh = x->neigh;
					else if (op->kind == PLAN_FDB)
						op->fdb = x->fdb;
					else if (op->kind == PLAN_PEER)
						op->wg = x->wg;
					else
						op->route = x->route;
					if (action == PLAN_DELETE)
						plan->n_stale++;
				}
			}
	}
	return 0;
}

static void buckets_done(struct bucket *buckets)
{
	for (size_t b = 0; b < N_BUCKETS; b++)
		free(buckets[b].v);
}

/* ---- the belief ---- */

/*
 * One peer in the belief: its lease and what was planned for it.
 * Its entries are not stored (six of them would triple the record): they
 * are a function of the lease, st and the state's parameters (rec_ent).
 */
struct peer_rec {
	struct lease *lease; /* lease_share: usually the lease set's copy */
	struct plan_peer st; /* missing: failed ops (plan_state_mark_missing) */
	uint64_t hash;	     /* sum of the entries' hashes */
};

/* A sorted index: subnet address or link key (zero-padded) → peer. */
#define KEY_LEN LINK_KEY_LEN
struct kitem {
	uint8_t key[KEY_LEN];
	struct peer_rec *rec;
};

struct keyset {
	struct kitem *v;
	size_t n, cap;
};

/* The planner's parameters without pointers, to detect a change. */
struct params_copy {
	char backend_type[BACKEND_TYPE_MAX];
	uint8_t proto;
	uint32_t vni;
	struct plan_family fam[2]; /* direct_nets point into nets */
	struct ip_net *nets[2];
};

struct plan_state {
	struct params_copy params;
	struct peer_rec **recs; /* one per peer of the last plan, in its order */
	size_t n_recs, recs_cap;
	bool sorted;   /* recs are sorted by name */
	bool conflict; /* a peer was skipped for a conflict */
	struct keyset subnets[2], macs[2];
	uint64_t hash;
	size_t n_desired;
	size_t n_skipped; /* recs with st.skipped */
};

#define HASH_SEED 0xcbf29ce484222325ULL

/* Only for a record with the family's route (has_subnet_key). */
static void subnet_key(const struct peer_rec *r, int fi, uint8_t key[static KEY_LEN])
{
	struct ip_net subnet;
	struct ip_addr pub;

	memset(key, 0, KEY_LEN);
	if (peer_subnet(r->lease, fi, &subnet, &pub))
		memcpy(key, subnet.addr.bytes, 16);
}

/* Only for a record with the family's neighbour or WireGuard peer (has_link_key). */
static void link_key(const struct plan_state *s, const struct peer_rec *r, int fi,
		     uint8_t key[static KEY_LEN])
{
	(void)peer_link_key(&s->params.fam[fi], r->lease, fi, key);
}

static bool has_subnet_key(const struct peer_rec *r, int fi)
{
	return (r->st.want & (PLAN_BIT(PLAN_ROUTE, fi) | PLAN_BIT(PLAN_PEER, fi))) != 0;
}

static bool has_link_key(const struct peer_rec *r, int fi)
{
	return (r->st.want & (PLAN_BIT(PLAN_NEIGH, fi) | PLAN_BIT(PLAN_PEER, fi))) != 0;
}

static int kitem_cmp(const void *x, const void *y)
{
	return memcmp(((const struct kitem *)x)->key, ((const struct kitem *)y)->key, KEY_LEN);
}

/* The first index whose key is >= key. */
static size_t keyset_lower(const struct keyset *ks, const uint8_t *key)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(ks->v[mid].key, key, KEY_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct peer_rec *keyset_find(const struct keyset *ks, const uint8_t *key)
{
	size_t i = keyset_lower(ks, key);
	return i < ks->n && memcmp(ks->v[i].key, key, KEY_LEN) == 0 ? ks->v[i].rec : NULL;
}

static int keyset_reserve(struct keyset *ks, size_t n)
{
	struct kitem *v;

	if (n <= ks->cap)
		return 0;
	/* Geometric: a join reserves one more, and must not copy the index each time. */
	n = MAX(n, ks->cap * 2);
	v = reallocarray(ks->v, n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ks->v = v;
	ks->cap = n;
	return 0;
}

/* Capacity must have been reserved. */
static void keyset_insert(struct keyset *ks, const uint8_t *key, struct peer_rec *rec)
{
	size_t i = keyset_lower(ks, key);

	memmove(&ks->v[i + 1], &ks->v[i], (ks->n - i) * sizeof(*ks->v));
	memcpy(ks->v[i].key, key, KEY_LEN);
	ks->v[i].rec = rec;
	ks->n++;
}

static void keyset_remove(struct keyset *ks, const uint8_t *key, const struct peer_rec *rec)
{
	for (size_t i = keyset_lower(ks, key); i < ks->n && memcmp(ks->v[i].key, key, KEY_LEN) == 0;
	     i++)
		if (ks->v[i].rec == rec) {
			memmove(&ks->v[i], &ks->v[i + 1], (ks->n - i - 1) * sizeof(*ks->v));
			ks->n--;
			return;
		}
}

static int keysets_build(struct plan_state *s)
{
	for (int fi = 0; fi < 2; fi++) {
		struct keyset *sub = &s->subnets[fi], *mac = &s->macs[fi];
		int r = keyset_reserve(sub, s->n_recs ? s->n_recs : 1);
		if (r >= 0)
			r = keyset_reserve(mac, s->n_recs ? s->n_recs : 1);
		if (r < 0)
			return r;
		for (size_t k = 0; k < s->n_recs; k++) {
			struct peer_rec *rec = s->recs[k];
			if (has_subnet_key(rec, fi)) {
				subnet_key(rec, fi, sub->v[sub->n].key);
				sub->v[sub->n++].rec = rec;
			}
			if (has_link_key(rec, fi)) {
				link_key(s, rec, fi, mac->v[mac->n].key);
				mac->v[mac->n++].rec = rec;
			}
		}
		if (sub->n > 0)
			qsort(sub->v, sub->n, sizeof(*sub->v), kitem_cmp);
		if (mac->n > 0)
			qsort(mac->v, mac->n, sizeof(*mac->v), kitem_cmp);
	}
	return 0;
}

static void rec_free(struct peer_rec *r)
{
	if (!r)
		return;
	lease_free(r->lease);
	free(r);
}

void plan_state_free(struct plan_state *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n_recs; k++)
		rec_free(s->recs[k]);
	free(s->recs);
	for (int fi = 0; fi < 2; fi++) {
		free(s->subnets[fi].v);
		free(s->macs[fi].v);
		free(s->params.nets[fi]);
	}
	free(s);
}

static int params_copy(const struct plan_params *p, struct params_copy *c)
{
	memset(c, 0, sizeof(*c));
	if (p->backend_type)
		strncpy(c->backend_type, p->backend_type, sizeof(c->backend_type) - 1);
	c->proto = p->proto;
	c->vni = p->vni;
	for (int fi = 0; fi < 2; fi++) {
		size_t n = p->fam[fi].n_direct_nets;
		c->fam[fi] = p->fam[fi];
		c->fam[fi].direct_nets = NULL;
		if (n == 0)
			continue;
		c->nets[fi] = malloc(n * sizeof(*c->nets[fi]));
		if (!c->nets[fi])
			return -ENOMEM;
		memcpy(c->nets[fi], p->fam[fi].direct_nets, n * sizeof(*c->nets[fi]));
		c->fam[fi].direct_nets = c->nets[fi];
	}
	return 0;
}

static bool route_equal(const struct route_spec *a, const struct route_spec *b)
{
	return a->family == b->family && ip_net_equal(&a->dst, &b->dst) &&
	       ip_addr_equal(&a->gw, &b->gw) && a->ifindex == b->ifindex &&
	       a->onlink == b->onlink && a->proto == b->proto && a->type == b->type &&
	       a->table == b->table && a->priority == b->priority;
}

static bool params_equal(const struct params_copy *c, const struct plan_params *p)
{
	if (strncmp(c->backend_type, p->backend_type ? p->backend_type : "",
		    sizeof(c->backend_type)) != 0 ||
	    c->proto != p->proto || c->vni != p->vni)
		return false;
	for (int fi = 0; fi < 2; fi++) {
		const struct plan_family *a = &c->fam[fi], *b = &p->fam[fi];
		if (a->enabled != b->enabled || a->vxlan != b->vxlan ||
		    a->dev_ifindex != b->dev_ifindex || a->ext_ifindex != b->ext_ifindex ||
		    a->direct_routing != b->direct_routing ||
		    a->route_priority != b->route_priority ||
		    a->n_direct_nets != b->n_direct_nets || a->has_network != b->has_network ||
		    (a->has_network && !ip_net_equal(&a->network, &b->network)) || a->wg != b->wg ||
		    a->wg_port != b->wg_port || a->wg_keepalive != b->wg_keepalive ||
		    memcmp(a->wg_psk, b->wg_psk, WG_KEY_LEN) != 0 ||
		    a->has_dev_route != b->has_dev_route ||
		    (a->has_dev_route && !route_equal(&a->dev_route, &b->dev_route)))
			return false;
		for (size_t k = 0; k < a->n_direct_nets; k++)
			if (!ip_net_equal(&a->direct_nets[k], &b->direct_nets[k]))
				return false;
	}
	return true;
}

static bool names_sorted(const struct lease *const *peers, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (strncmp(peers[k - 1]->name, peers[k]->name, LEASE_NAME_MAX) >= 0)
			return false;
	return true;
}

/* A state with one (empty) record per peer. */
static int state_new(const struct plan_params *p, const struct lease *const *peers, size_t n,
		     struct plan_state **ret)
{
	struct plan_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->recs = calloc(n ? n : 1, sizeof(*s->recs));
	r = s->recs ? params_copy(p, &s->params) : -ENOMEM;
	for (size_t k = 0; k < n && r >= 0; k++) {
		s->recs[k] = calloc(1, sizeof(*s->recs[k]));
		if (!s->recs[k]) {
			r = -ENOMEM;
			break;
		}
		s->n_recs = k + 1;
		r = lease_share(peers[k], &s->recs[k]->lease);
	}
	s->recs_cap = n ? n : 1;
	if (r < 0) {
		plan_state_free(s);
		return r;
	}
	s->sorted = names_sorted(peers, n);
	s->hash = HASH_SEED;
	*ret = s;
	return 0;
}

static uint64_t entry_hash1(const struct entry *e)
{
	return entry_hash(HASH_SEED, e);
}

static int compute(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		   const struct plan_actual actual[2], struct plan *ret,
		   struct plan_state **ret_state)
{
	_cleanup_(plan_state_freep) struct plan_state *st = NULL;
	struct bucket buckets[N_BUCKETS] = {{0}};
	struct wants want[2] = {{0}};
	struct entries have[2] = {{0}};
	struct want_ctx ctx[2];
	struct plan plan = {0};
	size_t n_conflicts = 0;
	int r = 0;

	plan.peers = calloc(n_peers ? n_peers : 1, sizeof(*plan.peers));
	if (!plan.peers)
		return -ENOMEM;
	for (int fi = 0; fi < 2; fi++)
		ctx[fi] = (struct want_ctx){.p = p, .fi = fi, .peers = peers, .pp = plan.peers};
	plan.n_peers = n_peers;
	plan.n_planned = n_peers;
	plan.desired_hash = HASH_SEED;
	if (ret_state)
		r = state_new(p, peers, n_peers, &st);

	for (int fi = 0; fi < 2 && r >= 0; fi++) {
		if (!p->fam[fi].enabled)
			continue;
		r = build_desired(p, fi, peers, n_peers, plan.peers, &want[fi], &n_conflicts);
		if (r >= 0) {
			/* A sum: the hash does not depend on the order of peers or entries. */
			for (size_t k = 0; k < want[fi].n; k++) {
				struct entry e;
				uint64_t h;

				want_entry(&ctx[fi], &want[fi].v[k], &e);
				h = entry_hash1(&e);
				plan.desired_hash += h;
				if (st && e.peer >= 0)
					st->recs[e.peer]->hash += h;
			}
			plan.n_desired += want[fi].n;
			r = build_actual(p, &actual[fi], fi, &have[fi]);
		}
		if (r >= 0)
			r = diff_family(&ctx[fi], &want[fi], &have[fi], &plan, buckets);
	}
	if (r >= 0)
		r = ops_from_buckets(ctx, buckets, &plan);
	buckets_done(buckets);
	for (int fi = 0; fi < 2; fi++) {
		free(want[fi].v);
		free(have[fi].v);
	}
	if (r >= 0 && st) {
		for (size_t k = 0; k < n_peers; k++) {
			st->recs[k]->st = plan.peers[k];
			st->recs[k]->st.missing = 0;
		}
		st->conflict = n_conflicts > 0;
		st->hash = plan.desired_hash;
		st->n_desired = plan.n_desired;
		r = keysets_build(st);
	}
	if (r < 0) {
		plan_done(&plan);
		return r;
	}
	for (size_t k = 0; k < n_peers; k++)
		if (plan.peers[k].skipped)
			plan.n_skipped++;
	*ret = plan;
	if (ret_state) {
		st->n_skipped = plan.n_skipped;
		*ret_state = TAKE_PTR(st);
	}
	return 0;
}

int plan_compute(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		 const struct plan_actual actual[2], struct plan *ret)
{
	return compute(p, peers, n_peers, actual, ret, NULL);
}

int plan_compute_state(const struct plan_params *p, const struct lease *const *peers,
		       size_t n_peers, const struct plan_actual actual[2], struct plan *ret,
		       struct plan_state **ret_state)
{
	return compute(p, peers, n_peers, actual, ret, ret_state);
}

/* ---- planning against the belief ---- */

/* The record's entry of a kind and family into *tmp, or NULL when it has none. */
static const struct entry *rec_ent(const struct params_copy *pc, const struct peer_rec *r, int fi,
				   enum plan_kind kind, struct entry *tmp)
{
	const struct plan_family *f = &pc->fam[fi];

	if (!(r->st.want & PLAN_BIT(kind, fi)))
		return NULL;
	if (!peer_entry(f, pc->proto, r->lease, peer_direct(f, &r->st, fi), fi, kind, tmp))
		return NULL;
	return tmp;
}

/* A record of a peer with its status and entry hash, as build_desired would give them
 * without conflicts. */
static int rec_plan(const struct plan_params *p, const struct lease *l, struct peer_rec **ret)
{
	struct peer_rec *rec = calloc(1, sizeof(*rec));
	int r;

	if (!rec)
		return -ENOMEM;
	r = lease_share(l, &rec->lease);
	if (r < 0) {
		free(rec);
		return r;
	}
	for (int fi = 0; fi < 2; fi++) {
		const struct plan_family *f = &p->fam[fi];
		unsigned want = peer_wants(p, fi, l, &rec->st);

		rec->st.want |= want;
		for (int kind = 0; kind < _PLAN_KIND_MAX; kind++) {
			struct entry e;

			if (!(want & PLAN_BIT(kind, fi)))
				continue;
			if (peer_entry(f, p->proto, l, peer_direct(f, &rec->st, fi), fi,
				       (enum plan_kind)kind, &e))
				rec->hash += entry_hash1(&e);
		}
	}
	*ret = rec;
	return 0;
}

/* A peer that is new, gone (new == NULL) or different (both). */
struct change {
	struct peer_rec *old;
	struct peer_rec *new;
	size_t k; /* index of new among the peers */
};

static bool is_removed(const struct change *c, size_t n, const struct peer_rec *rec)
{
	for (size_t j = 0; j < n; j++)
		if (c[j].old == rec)
			return true;
	return false;
}

/* Would a changed peer share a subnet address or VtepMAC with another peer? */
static bool collides(const struct plan_state *s, const struct change *c, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		const struct peer_rec *a = c[j].new;
		if (!a)
			continue;
		for (int fi = 0; fi < 2; fi++) {
			uint8_t ks[KEY_LEN], km[KEY_LEN], x[KEY_LEN];
			const struct peer_rec *hit;

			if (!has_subnet_key(a, fi))
				continue;
			subnet_key(a, fi, ks);
			hit = keyset_find(&s->subnets[fi], ks);
			if (hit && !is_removed(c, n, hit))
				return true;
			if (has_link_key(a, fi)) {
				link_key(s, a, fi, km);
				hit = keyset_find(&s->macs[fi], km);
				if (hit && !is_removed(c, n, hit))
					return true;
			}
			for (size_t i = j + 1; i < n; i++) {
				const struct peer_rec *b = c[i].new;
				if (!b || !has_subnet_key(b, fi))
					continue;
				subnet_key(b, fi, x);
				if (memcmp(ks, x, KEY_LEN) == 0)
					return true;
				if (has_link_key(a, fi) && has_link_key(b, fi)) {
					link_key(s, b, fi, x);
					if (memcmp(km, x, KEY_LEN) == 0)
						return true;
				}
			}
		}
	}
	return false;
}

/* Is an entry with e's kind, family and key among the changed peers' new entries? */
static bool key_wanted(const struct params_copy *pc, const struct change *c, size_t n, int fi,
		       const struct entry *e)
{
	struct entry tmp;

	for (size_t j = 0; j < n; j++) {
		const struct entry *x = c[j].new ? rec_ent(pc, c[j].new, fi, e->kind, &tmp) : NULL;
		if (x && key_cmp(x, e) == 0)
			return true;
	}
	return false;
}

/* The old entry with e's kind, family and key among the changed peers (keys are unique). */
static const struct entry *key_had(const struct params_copy *pc, const struct change *c, size_t n,
				   int fi, const struct entry *e, struct entry *tmp)
{
	for (size_t j = 0; j < n; j++) {
		const struct entry *x = c[j].old ? rec_ent(pc, c[j].old, fi, e->kind, tmp) : NULL;
		if (x && key_cmp(x, e) == 0)
			return x;
	}
	return NULL;
}

/*
 * Per changed peer: its new entries that the old entry with the same key
 * (its own, or one moving from another changed peer) does not already
 * satisfy are replaced; its old entries whose key no changed peer wants any
 * more are deleted. Unchanged peers cannot share a key with them (checked
 * by collides()), so this is the sort-merge's result. The entries are kept
 * in store, which the buckets refer to.
 */
static int emit_changes(const struct params_copy *pc, const struct change *c, size_t n,
			struct entries *store, struct bucket *buckets)
{
	size_t most = 0;
	int r;

	/* At most each old and each new entry: store never moves once reserved. */
	for (size_t j = 0; j < n; j++)
		most += (size_t)(c[j].old ? __builtin_popcount(c[j].old->st.want) : 0) +
			(size_t)(c[j].new ? __builtin_popcount(c[j].new->st.want) : 0);
	r = entries_reserve(store, most);
	if (r < 0)
		return r;
	for (size_t j = 0; j < n; j++)
		for (int fi = 0; fi < 2; fi++)
			for (int kind = 0; kind < _PLAN_KIND_MAX; kind++) {
				const struct peer_rec *o = c[j].old, *w = c[j].new;
				struct entry old_tmp, had_tmp, e;
				const struct entry *oe =
					o ? rec_ent(pc, o, fi, (enum plan_kind)kind, &old_tmp)
					  : NULL;

				if (w && rec_ent(pc, w, fi, (enum plan_kind)kind, &e)) {
					const struct entry *had =
						key_had(pc, c, n, fi, &e, &had_tmp);
					if (!had || !entry_satisfies(had, &e)) {
						e.peer = (ssize_t)c[j].k;
						store->v[store->n] = e;
						r = emit(buckets, PLAN_REPLACE,
							 &store->v[store->n++], fi);
						if (r < 0)
							return r;
					}
				}
				if (oe && !key_wanted(pc, c, n, fi, oe)) {
					store->v[store->n] = *oe;
					r = emit(buckets, PLAN_DELETE, &store->v[store->n++], fi);
					if (r < 0)
						return r;
				}
			}
	return 0;
}

/* The index, hash and count of the belief after the changes; the records stay. */
static int keys_commit(struct plan_state *s, const struct change *c, size_t n)
{
	for (int fi = 0; fi < 2; fi++) {
		int r = keyset_reserve(&s->subnets[fi], s->subnets[fi].n + n);
		if (r >= 0)
			r = keyset_reserve(&s->macs[fi], s->macs[fi].n + n);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < n; j++) {
		if (c[j].old) {
			for (int fi = 0; fi < 2; fi++) {
				uint8_t key[KEY_LEN];
				if (has_subnet_key(c[j].old, fi)) {
					subnet_key(c[j].old, fi, key);
					keyset_remove(&s->subnets[fi], key, c[j].old);
				}
				if (has_link_key(c[j].old, fi)) {
					link_key(s, c[j].old, fi, key);
					keyset_remove(&s->macs[fi], key, c[j].old);
				}
			}
			s->hash -= c[j].old->hash;
			s->n_desired -= (size_t)__builtin_popcount(c[j].old->st.want);
			s->n_skipped -= c[j].old->st.skipped;
		}
		if (c[j].new) {
			for (int fi = 0; fi < 2; fi++) {
				uint8_t key[KEY_LEN];
				if (has_subnet_key(c[j].new, fi)) {
					subnet_key(c[j].new, fi, key);
					keyset_insert(&s->subnets[fi], key, c[j].new);
				}
				if (has_link_key(c[j].new, fi)) {
					link_key(s, c[j].new, fi, key);
					keyset_insert(&s->macs[fi], key, c[j].new);
				}
			}
			s->hash += c[j].new->hash;
			s->n_desired += (size_t)__builtin_popcount(c[j].new->st.want);
			s->n_skipped += c[j].new->st.skipped;
		}
	}
	return 0;
}

/* The old records of the changes are freed, the new ones owned by the state. */
static void changes_release(struct change *c, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		rec_free(c[j].old);
		c[j].old = NULL;
		c[j].new = NULL;
	}
}

static int state_commit(struct plan_state *s, struct peer_rec **recs, size_t n_recs,
			struct change *c, size_t n)
{
	int r = keys_commit(s, c, n);
	if (r < 0)
		return r;
	changes_release(c, n);
	free(s->recs);
	s->recs = recs;
	s->n_recs = n_recs;
	s->recs_cap = n_recs ? n_recs : 1;
	return 0;
}

/*
 * The plan of the changes: the ops of the changed peers only. The per-peer
 * status stays in the records (plan_state_peer): copying it here would cost
 * O(peers) on every event.
 */
/* The totals of the state into an incremental plan, handed over to *ret; returns 1. */
static int plan_hand_over(const struct plan_state *s, struct plan *plan, struct plan *ret)
{
	plan->n_desired = s->n_desired;
	plan->n_skipped = s->n_skipped;
	plan->desired_hash = s->hash;
	*ret = *plan;
	*plan = (struct plan){0};
	return 1;
}

static int plan_changes(const struct plan_state *s, const struct change *c, size_t n_c,
			struct plan *plan)
{
	struct bucket buckets[N_BUCKETS] = {{0}};
	struct entries store = {0};
	int r;

	plan->n_planned = n_c;
	r = emit_changes(&s->params, c, n_c, &store, buckets);
	if (r >= 0)
		r = ops_from_buckets(NULL, buckets, plan);
	buckets_done(buckets);
	free(store.v);
	return r;
}

/*
 * Plan only the peers that changed since the belief. Returns 1 when done,
 * 0 when the whole set has to be planned (too many changes, or a changed
 * peer shares a subnet or VtepMAC with another), <0 on error.
 */
static int update_per_peer(struct plan_state *s, const struct plan_params *p,
			   const struct lease *const *peers, size_t n, struct plan *ret)
{
	_cleanup_free_ struct peer_rec **recs = calloc(n ? n : 1, sizeof(*recs));
	struct change c[PLAN_PER_PEER_MAX];
	struct plan plan = {0};
	size_t n_c = 0, i = 0, k = 0;
	int r = 0;

	if (!recs)
		return -ENOMEM;
	while (i < s->n_recs || k < n) {
		int cmp =
			i == s->n_recs ? 1
			: k == n       ? -1
				 : strncmp(s->recs[i]->lease->name, peers[k]->name, LEASE_NAME_MAX);
		if (cmp == 0 && lease_equal(s->recs[i]->lease, peers[k])) {
			recs[k++] = s->recs[i++];
			continue;
		}
		if (n_c == PLAN_PER_PEER_MAX) {
			r = 0;
			goto out;
		}
		c[n_c] = (struct change){.old = cmp <= 0 ? s->recs[i] : NULL};
		if (cmp <= 0)
			i++;
		if (cmp >= 0) {
			r = rec_plan(p, peers[k], &c[n_c].new);
			if (r < 0)
				goto out;
			c[n_c].k = k;
			recs[k++] = c[n_c].new;
		}
		n_c++;
	}
	if (collides(s, c, n_c)) {
		r = 0;
		goto out;
	}
	r = plan_changes(s, c, n_c, &plan);
	if (r >= 0)
		r = state_commit(s, recs, n, c, n_c);
	if (r < 0)
		goto out;
	TAKE_PTR(recs);
	r = plan_hand_over(s, &plan, ret);
out:
	for (size_t j = 0; j < n_c; j++)
		rec_free(c[j].new);
	plan_done(&plan);
	return r;
}

/* Index of the peer named name, or where it would be inserted (*found false). */
static size_t peers_lower(const struct lease *const *peers, size_t n, const char *name, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(peers[mid]->name, name, LEASE_NAME_MAX) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && strncmp(peers[lo]->name, name, LEASE_NAME_MAX) == 0;
	return lo;
}

static size_t recs_lower(const struct plan_state *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n_recs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(s->recs[mid]->lease->name, name, LEASE_NAME_MAX) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_recs && strncmp(s->recs[lo]->lease->name, name, LEASE_NAME_MAX) == 0;
	return lo;
}

/*
 * Apply the changes to the name-sorted records: replacements and removals
 * first, then insertions, so that capacity for the final count suffices.
 */
static void recs_commit(struct plan_state *s, const struct change *c, size_t n)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < n; j++) {
			const char *name = (c[j].old ? c[j].old : c[j].new)->lease->name;
			bool found;
			size_t i;

			if ((pass == 0) != (c[j].old != NULL))
				continue;
			i = recs_lower(s, name, &found);
			if (c[j].old && c[j].new)
				s->recs[i] = c[j].new;
			else if (c[j].old) {
				memmove(&s->recs[i], &s->recs[i + 1],
					(s->n_recs - i - 1) * sizeof(*s->recs));
				s->n_recs--;
			} else {
				memmove(&s->recs[i + 1], &s->recs[i],
					(s->n_recs - i) * sizeof(*s->recs));
				s->recs[i] = c[j].new;
				s->n_recs++;
			}
		}
}

/*
 * Plan only the peers named in the hint: each is looked up by binary search
 * among the peers and in the belief, so a pass costs O(changes * log peers)
 * comparisons. Returns 1 when done, 0 when the whole set has to be compared
 * (too many changes, a collision, or a hint that misses a change: the
 * counts disagree), <0 on error.
 */
static int update_hinted(struct plan_state *s, const struct plan_params *p,
			 const struct lease *const *peers, size_t n, const char *const *names,
			 size_t n_names, struct plan *ret)
{
	struct change c[PLAN_PER_PEER_MAX] = {{0}};
	struct plan plan = {0};
	size_t n_c = 0, n_after = s->n_recs;
	int r = 0;

	/* One more than the bound: our own name may be among them. */
	if (n_names > PLAN_PER_PEER_MAX + 1)
		return 0;
	for (size_t j = 0; j < n_names; j++) {
		bool in_peers, in_recs, dup = false;
		size_t k, i;

		for (size_t q = 0; q < j && !dup; q++)
			dup = strncmp(names[q], names[j], LEASE_NAME_MAX) == 0;
		if (dup)
			continue;
		k = peers_lower(peers, n, names[j], &in_peers);
		i = recs_lower(s, names[j], &in_recs);
		if (!in_peers && !in_recs)
			continue;
		if (in_peers && in_recs && lease_equal(s->recs[i]->lease, peers[k]))
			continue;
		if (n_c == PLAN_PER_PEER_MAX)
			goto out;
		c[n_c] = (struct change){.old = in_recs ? s->recs[i] : NULL, .k = k};
		if (in_peers) {
			r = rec_plan(p, peers[k], &c[n_c].new);
			if (r < 0)
				goto out;
		}
		n_after += in_peers && !in_recs;
		n_after -= in_recs && !in_peers;
		n_c++;
	}
	if (n_after != n || collides(s, c, n_c))
		goto out;
	if (n > s->recs_cap) {
		/* Geometric, as a join adds one. */
		size_t cap = MAX(n, s->recs_cap * 2);
		struct peer_rec **v = reallocarray(s->recs, cap, sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		s->recs = v;
		s->recs_cap = cap;
	}
	r = keys_commit(s, c, n_c);
	if (r < 0)
		goto out;
	recs_commit(s, c, n_c);
	r = plan_changes(s, c, n_c, &plan);
	changes_release(c, n_c);
	if (r < 0)
		goto out;
	r = plan_hand_over(s, &plan, ret);
out:
	for (size_t j = 0; j < n_c; j++)
		rec_free(c[j].new);
	plan_done(&plan);
	return r;
}

/* The belief as if dumped: the arrays of each family, freed by the caller. */
struct belief_dump {
	struct neigh_spec *neighs;
	struct fdb_spec *fdbs;
	struct route_spec *routes;
	struct wg_peer *wg_peers;
};

static int state_actual(const struct plan_state *s, struct plan_actual actual[2],
			struct belief_dump d[2])
{
	size_t n = s->n_recs + 1; /* + the device route */

	for (int fi = 0; fi < 2; fi++) {
		const struct plan_family *f = &s->params.fam[fi];
		struct plan_actual *a = &actual[fi];

		d[fi].neighs = calloc(n, sizeof(*d[fi].neighs));
		d[fi].fdbs = calloc(n, sizeof(*d[fi].fdbs));
		d[fi].routes = calloc(n, sizeof(*d[fi].routes));
		d[fi].wg_peers = calloc(n, sizeof(*d[fi].wg_peers));
		if (!d[fi].neighs || !d[fi].fdbs || !d[fi].routes || !d[fi].wg_peers)
			return -ENOMEM;
		*a = (struct plan_actual){.neighs = d[fi].neighs,
					  .fdbs = d[fi].fdbs,
					  .routes = d[fi].routes,
					  .wg_peers = d[fi].wg_peers};
		for (size_t k = 0; k < s->n_recs; k++) {
			const struct peer_rec *rec = s->recs[k];
			struct entry e;

			if (rec_ent(&s->params, rec, fi, PLAN_NEIGH, &e))
				d[fi].neighs[a->n_neighs++] = e.neigh;
			if (rec_ent(&s->params, rec, fi, PLAN_FDB, &e))
				d[fi].fdbs[a->n_fdbs++] = e.fdb;
			if (rec_ent(&s->params, rec, fi, PLAN_ROUTE, &e))
				d[fi].routes[a->n_routes++] = e.route;
			if (rec_ent(&s->params, rec, fi, PLAN_PEER, &e))
				d[fi].wg_peers[a->n_wg_peers++] = e.wg;
		}
		if (f->enabled && f->has_dev_route)
			d[fi].routes[a->n_routes++] = f->dev_route;
	}
	return 0;
}

int plan_update(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		struct plan_state **state, struct plan *ret)
{
	return plan_update_changed(p, peers, n_peers, NULL, 0, state, ret);
}

int plan_update_changed(const struct plan_params *p, const struct lease *const *peers,
			size_t n_peers, const char *const *changed, size_t n_changed,
			struct plan_state **state, struct plan *ret)
{
	struct plan_state *s = *state, *next = NULL;
	struct belief_dump dumps[2] = {{0}};
	struct plan_actual actual[2];
	int r = 0;

	if (!s->conflict && s->sorted && changed && params_equal(&s->params, p)) {
		r = update_hinted(s, p, peers, n_peers, changed, n_changed, ret);
		if (r > 0)
			return 0;
	}
	if (r == 0 && !s->conflict && s->sorted && params_equal(&s->params, p) &&
	    names_sorted(peers, n_peers)) {
		r = update_per_peer(s, p, peers, n_peers, ret);
		if (r > 0)
			return 0;
	}
	if (r >= 0)
		r = state_actual(s, actual, dumps);
	if (r >= 0)
		r = plan_compute_state(p, peers, n_peers, actual, ret, &next);
	for (int fi = 0; fi < 2; fi++) {
		free(dumps[fi].neighs);
		free(dumps[fi].fdbs);
		free(dumps[fi].routes);
		free(dumps[fi].wg_peers);
	}
	plan_state_free(s);
	*state = next;
	return r;
}

/* ---- notifications ---- */

static const struct peer_rec *find_by_subnet(const struct plan_state *s, int fi,
					     const struct ip_addr *a)
{
	uint8_t key[KEY_LEN] = {0};

	memcpy(key, a->bytes, a->family == AF_INET ? 4 : 16);
	return keyset_find(&s->subnets[fi], key);
}

static enum plan_event_class classify_route(const struct plan_state *s, const struct nl_event *ev)
{
	const struct route_spec *r = &ev->route;
	struct entry a = {.kind = PLAN_ROUTE, .route = *r};
	const struct peer_rec *rec;
	const struct entry *d = NULL;
	struct entry tmp;
	int fi = r->family == AF_INET6;

	if (r->family != AF_INET && r->family != AF_INET6)
		return PLAN_EVENT_FOREIGN;
	if (r->table != NL_TABLE_MAIN ||
	    !plan_route_is_ours(&s->params.fam[fi], s->params.proto, r))
		return PLAN_EVENT_IGNORE; /* never dumped as ours */
	if (s->params.fam[fi].has_dev_route) {
		struct entry dev = {.kind = PLAN_ROUTE, .route = s->params.fam[fi].dev_route};
		if (key_cmp(&dev, &a) == 0)
			return !ev->deleted && entry_satisfies(&a, &dev) ? PLAN_EVENT_ECHO
									 : PLAN_EVENT_FOREIGN;
	}
	rec = find_by_subnet(s, fi, &r->dst.addr);
	if (rec)
		d = rec_ent(&s->params, rec, fi, PLAN_ROUTE, &tmp);
	if (d && key_cmp(d, &a) != 0)
		d = NULL;
	if (!ev->deleted)
		return d && entry_satisfies(&a, d) ? PLAN_EVENT_ECHO : PLAN_EVENT_FOREIGN;
	/* Deleted: ours as wanted (repair), or an old version (replaced, stale). */
	return d && ip_addr_equal(&r->gw, &d->route.gw) && r->ifindex == d->route.ifindex
		       ? PLAN_EVENT_FOREIGN
		       : PLAN_EVENT_ECHO;
}

static enum plan_event_class classify_neigh(const struct plan_state *s, const struct nl_event *ev)
{
	const struct neigh_spec *n = &ev->neigh;
	struct entry a = {.kind = PLAN_NEIGH, .neigh = *n};
	const struct peer_rec *rec;
	const struct entry *d = NULL;
	struct entry tmp;
	int fi = n->ip.family == AF_INET6;

	if (n->ip.family != AF_INET && n->ip.family != AF_INET6)
		return PLAN_EVENT_FOREIGN;
	rec = find_by_subnet(s, fi, &n->ip);
	if (rec)
		d = rec_ent(&s->params, rec, fi, PLAN_NEIGH, &tmp);
	if (d && (d->neigh.ifindex != n->ifindex || !ip_addr_equal(&d->neigh.ip, &n->ip)))
		d = NULL;
	if (d)
		return !ev->deleted && entry_satisfies(&a, d) ? PLAN_EVENT_ECHO
							      : PLAN_EVENT_FOREIGN;
	if (!entry_is_stale(&a))
		return PLAN_EVENT_IGNORE; /* the kernel's own (dynamic, NOARP) */
	return ev->deleted ? PLAN_EVENT_ECHO : PLAN_EVENT_FOREIGN;
}

static enum plan_event_class classify_fdb(const struct plan_state *s, const struct nl_event *ev)
{
	const struct fdb_spec *f = &ev->fdb;
	struct entry a = {.kind = PLAN_FDB, .fdb = *f};
	const struct peer_rec *rec;
	const struct entry *d = NULL;
	struct entry tmp;
	uint8_t key[KEY_LEN] = {0};
	int fi;

	if (!ev->is_fdb_self)
		return PLAN_EVENT_IGNORE; /* a bridge's (master) entry: never dumped */
	for (fi = 0; fi < 2; fi++)
		if (s->params.fam[fi].enabled && s->params.fam[fi].vxlan &&
		    s->params.fam[fi].dev_ifindex == f->ifindex)
			break;
	if (fi == 2)
		return PLAN_EVENT_FOREIGN;
	memcpy(key, f->mac, 6);
	rec = keyset_find(&s->macs[fi], key);
	if (rec)
		d = rec_ent(&s->params, rec, fi, PLAN_FDB, &tmp);
	if (d && key_cmp(d, &a) != 0)
		d = NULL;
	if (d)
		return !ev->deleted && entry_satisfies(&a, d) ? PLAN_EVENT_ECHO
							      : PLAN_EVENT_FOREIGN;
	if (!entry_is_stale(&a))
		return PLAN_EVENT_IGNORE; /* learnt */
	return ev->deleted ? PLAN_EVENT_ECHO : PLAN_EVENT_FOREIGN;
}

enum plan_event_class plan_classify_event(const struct plan_state *s, const struct nl_event *ev)
{
	switch (ev->kind) {
	case NL_EVENT_ROUTE:
		return classify_route(s, ev);
	case NL_EVENT_NEIGH:
		return ev->family == AF_BRIDGE ? classify_fdb(s, ev) : classify_neigh(s, ev);
	case NL_EVENT_LINK:
	case NL_EVENT_ADDR:
	case NL_EVENT_OVERRUN:
	default:
		return PLAN_EVENT_FOREIGN;
	}
}

/* One dumped entry against the belief, as if notified: 1 wanted as wanted, 0 not ours, -1 not. */
static int check_dumped(const struct plan_state *s, const struct nl_event *ev)
{
	switch (plan_classify_event(s, ev)) {
	case PLAN_EVENT_ECHO:
		return 1;
	case PLAN_EVENT_IGNORE:
		return 0;
	case PLAN_EVENT_FOREIGN:
	default:
		return -1;
	}
}

bool plan_state_matches(const struct plan_state *s, const struct plan_params *p,
			const struct plan_actual actual[2])
{
	size_t present = 0;

	if (s->conflict || !params_equal(&s->params, p))
		return false;
	for (int fi = 0; fi < 2; fi++) {
		const struct plan_actual *a = &actual[fi];
		const int family = fi == 0 ? AF_INET : AF_INET6;
		struct nl_event ev = {.kind = NL_EVENT_NEIGH, .family = family};
		int r;

		if (!p->fam[fi].enabled)
			continue;
		for (size_t k = 0; k < a->n_neighs; k++) {
			if (a->neighs[k].ip.family != family)
				continue;
			ev.neigh = a->neighs[k];
			if ((r = check_dumped(s, &ev)) < 0)
				return false;
			present += (size_t)r;
		}
		ev = (struct nl_event){
			.kind = NL_EVENT_NEIGH, .family = AF_BRIDGE, .is_fdb_self = true};
		for (size_t k = 0; k < a->n_fdbs; k++) {
			ev.fdb = a->fdbs[k];
			if ((r = check_dumped(s, &ev)) < 0)
				return false;
			present += (size_t)r;
		}
		ev = (struct nl_event){.kind = NL_EVENT_ROUTE, .family = family};
		for (size_t k = 0; k < a->n_routes; k++) {
			if (a->routes[k].family != family)
				continue;
			ev.route = a->routes[k];
			ev.proto = ev.route.proto;
			ev.table = ev.route.table;
			if ((r = check_dumped(s, &ev)) < 0)
				return false;
			present += (size_t)r;
		}
	}
	/* Keys are unique: every wanted entry was seen once. */
	return present == s->n_desired;
}

size_t plan_state_n_peers(const struct plan_state *s)
{
	return s->n_recs;
}

const char *plan_state_peer(const struct plan_state *s, size_t k, struct plan_peer *ret)
{
	*ret = s->recs[k]->st;
	return s->recs[k]->lease->name;
}

const struct lease *plan_state_lease(const struct plan_state *s, size_t k)
{
	return s->recs[k]->lease;
}

bool plan_state_find(const struct plan_state *s, const char *name, struct plan_peer *ret)
{
	bool found = false;
	size_t i;

	if (s->sorted)
		i = recs_lower(s, name, &found);
	else
		for (i = 0; i < s->n_recs && !found;)
			if (strncmp(s->recs[i]->lease->name, name, LEASE_NAME_MAX) == 0)
				found = true;
			else
				i++;
	if (!found)
		return false;
	*ret = s->recs[i]->st;
	return true;
}

void plan_state_mark_missing(struct plan_state *s, size_t k, unsigned bits)
{
	s->recs[k]->st.missing |= bits & s->recs[k]->st.want;
}

void plan_done(struct plan *p)
{
	free(p->ops);
	free(p->peers);
	memset(p, 0, sizeof(*p));
}

const char *plan_skip_name(enum plan_skip s)
{
	static const char *const names[_PLAN_SKIP_MAX] = {
		[PLAN_SKIP_NONE] = "",
		[PLAN_SKIP_BACKEND_TYPE] = "backend-type",
		[PLAN_SKIP_NO_VTEP_MAC] = "no-vtep-mac",
		[PLAN_SKIP_VNI] = "vni",
		[PLAN_SKIP_CONFLICT] = "conflict",
		[PLAN_SKIP_NO_PUBLIC_KEY] = "no-public-key",
	};
	return (unsigned)s < _PLAN_SKIP_MAX ? names[s] : "";
}

const char *plan_kind_name(enum plan_kind k)
{
	switch (k) {
	case PLAN_NEIGH:
		return "neighbour";
	case PLAN_FDB:
		return "fdb";
	case PLAN_ROUTE:
		return "route";
	case PLAN_PEER:
		return "peer";
	default:
		return "unknown";
	}
}
