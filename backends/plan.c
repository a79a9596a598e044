/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planner: desired entries from leases, actual entries from the kernel,
 * a sort-merge diff, and ops in an order that keeps the datapath valid at
 * every step. Pure and allocation-bounded (linear in peers + entries), so
 * that a reconcile of thousands of unchanged peers costs sorting, not
 * syscalls, and so that every rule can be unit-tested.
 *
 * Conflicting leases (two peers with the same subnet address or, for vxlan,
 * the same VtepMAC) would make every pass rewrite the kernel; the first by
 * name wins and the others are reported as skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "plan.h"

/* A desired or actual entry with its sort key fields reachable. */
struct entry {
	enum plan_kind kind;
	int family;
	ssize_t peer;
	union {
		struct neigh_spec neigh;
		struct fdb_spec fdb;
		struct route_spec route;
	};
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

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

static bool in_direct_nets(const struct plan_family *f, const struct ip_addr *ip)
{
	for (size_t k = 0; k < f->n_direct_nets; k++)
		if (ip_net_contains_addr(&f->direct_nets[k], ip))
			return true;
	return false;
}

/* qsort_r context for peer conflict detection. */
struct conflict_ctx {
	const struct lease *const *peers;
	int fi;
	bool by_mac;
};

static int conflict_cmp(const void *x, const void *y, void *arg)
{
	const struct conflict_ctx *c = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	struct ip_net sa, sb;
	struct ip_addr pa, pb;
	int r;

	if (c->by_mac)
		r = mac_cmp(peer_mac(c->peers[a], c->fi), peer_mac(c->peers[b], c->fi));
	else {
		(void)peer_subnet(c->peers[a], c->fi, &sa, &pa);
		(void)peer_subnet(c->peers[b], c->fi, &sb, &pb);
		r = ip_addr_cmp(&sa.addr, &sb.addr);
	}
	return r ? r : (a > b) - (a < b);
}

/* Mark later peers (by name) sharing a key with an earlier one as conflicting. */
static int mark_conflicts(const struct lease *const *peers, const size_t *idx, size_t n, int fi,
			  bool by_mac, bool *conflict)
{
	_cleanup_free_ size_t *sorted = NULL;
	struct conflict_ctx c = {.peers = peers, .fi = fi, .by_mac = by_mac};

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
		if (by_mac)
			same = mac_cmp(peer_mac(peers[a], fi), peer_mac(peers[b], fi)) == 0;
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

/* Desired entries of one family. */
static int build_desired(const struct plan_params *p, int fi, const struct lease *const *peers,
			 size_t n_peers, struct plan_peer *pp, struct entries *out)
{
	const struct plan_family *f = &p->fam[fi];
	const int family = fi == 0 ? AF_INET : AF_INET6;
	_cleanup_free_ size_t *idx = NULL, *mac_idx = NULL;
	_cleanup_free_ bool *conflict = NULL;
	size_t n_idx = 0, n_mac = 0;
	int r;

	idx = malloc((n_peers ? n_peers : 1) * sizeof(*idx));
	mac_idx = malloc((n_peers ? n_peers : 1) * sizeof(*mac_idx));
	conflict = calloc(n_peers ? n_peers : 1, sizeof(*conflict));
	if (!idx || !mac_idx || !conflict)
		return -ENOMEM;

	for (size_t k = 0; k < n_peers; k++) {
		const struct lease *l = peers[k];
		struct ip_net subnet;
		struct ip_addr pub;
		bool direct;

		if (!peer_subnet(l, fi, &subnet, &pub))
			continue;
		if (l->attrs.backend_type[0] && p->backend_type &&
		    strncmp(l->attrs.backend_type, p->backend_type, BACKEND_TYPE_MAX) != 0) {
			pp[k].skipped = true;
			continue;
		}
		direct = !f->vxlan || (f->direct_routing && in_direct_nets(f, &pub));
		if (fi == 0)
			pp[k].direct = f->vxlan && direct;
		else
			pp[k].direct6 = f->vxlan && direct;
		if (!direct) {
			if (!peer_mac(l, fi)) {
				pp[k].skipped = true;
				continue;
			}
			mac_idx[n_mac++] = k;
		}
		idx[n_idx++] = k;
	}
	r = mark_conflicts(peers, idx, n_idx, fi, false, conflict);
	if (r < 0)
		return r;
	r = mark_conflicts(peers, mac_idx, n_mac, fi, true, conflict);
	if (r < 0)
		return r;

	for (size_t j = 0; j < n_idx; j++) {
		size_t k = idx[j];
		const struct lease *l = peers[k];
		bool direct = fi == 0 ? pp[k].direct : pp[k].direct6;
		struct entry e = {.family = family, .peer = (ssize_t)k};
		struct ip_net subnet;
		struct ip_addr pub;

		if (conflict[k]) {
			pp[k].skipped = true;
			continue;
		}
		(void)peer_subnet(l, fi, &subnet, &pub);
		if (!f->vxlan || direct) {
			e.kind = PLAN_ROUTE;
			e.route = (struct route_spec){.family = family,
						      .dst = subnet,
						      .gw = pub,
						      .ifindex = f->ext_ifindex,
						      .proto = p->proto,
						      .type = NL_ROUTE_UNICAST,
						      .table = NL_TABLE_MAIN,
						      .priority = f->route_priority};
			r = entries_push(out, &e);
			if (r < 0)
				return r;
			pp[k].want |= PLAN_BIT(PLAN_ROUTE, fi);
			continue;
		}

		e.kind = PLAN_NEIGH;
		e.neigh = (struct neigh_spec){.ifindex = f->dev_ifindex,
					      .ip = subnet.addr,
					      .has_mac = true,
					      .state = NL_NUD_PERMANENT};
		memcpy(e.neigh.mac, peer_mac(l, fi), 6);
		r = entries_push(out, &e);
		if (r < 0)
			return r;

		e.kind = PLAN_FDB;
		e.fdb = (struct fdb_spec){
			.ifindex = f->dev_ifindex, .dst = pub, .state = NL_NUD_PERMANENT};
		memcpy(e.fdb.mac, peer_mac(l, fi), 6);
		r = entries_push(out, &e);
		if (r < 0)
			return r;

		e.kind = PLAN_ROUTE;
		e.route = (struct route_spec){.family = family,
					      .dst = subnet,
					      .gw = subnet.addr,
					      .ifindex = f->dev_ifindex,
					      .onlink = true,
					      .proto = p->proto,
					      .type = NL_ROUTE_UNICAST,
					      .table = NL_TABLE_MAIN,
					      .priority = f->route_priority};
		r = entries_push(out, &e);
		if (r < 0)
			return r;
		pp[k].want |= PLAN_BIT(PLAN_NEIGH, fi) | PLAN_BIT(PLAN_FDB, fi) |
			      PLAN_BIT(PLAN_ROUTE, fi);
	}
	return 0;
}

static int build_actual(const struct plan_actual *a, int fi, struct entries *out)
{
	const int family = fi == 0 ? AF_INET : AF_INET6;
	int r;

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
		if (a->routes[k].family != family)
			continue;
		e.route = a->routes[k];
		r = entries_push(out, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Ops are gathered per (action, kind, family) and concatenated in order. */
#define N_BUCKETS (2 * _PLAN_KIND_MAX * 2)

static size_t bucket_of(enum plan_action action, enum plan_kind kind, int fi)
{
	return ((size_t)action * _PLAN_KIND_MAX + (size_t)kind) * 2 + (size_t)fi;
}

static int emit(struct entries *buckets, enum plan_action action, const struct entry *e, int fi)
{
	return entries_push(&buckets[bucket_of(action, e->kind, fi)], e);
}

static int entry_kind_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->kind != b->kind)
		return (a->kind > b->kind) - (a->kind < b->kind);
	return entry_sort_cmp(a, b);
}

static int diff_family(struct entries *want, struct entries *have, int fi, struct plan *plan,
		       struct entries *buckets)
{
	size_t i = 0, j = 0;
	int r;

	/* qsort() wants a non-NULL base even for no elements. */
	if (want->n > 0)
		qsort(want->v, want->n, sizeof(struct entry), entry_kind_cmp);
	if (have->n > 0)
		qsort(have->v, have->n, sizeof(struct entry), entry_kind_cmp);

	while (i < want->n || j < have->n) {
		const struct entry *d = i < want->n ? &want->v[i] : NULL;
		const struct entry *a = j < have->n ? &have->v[j] : NULL;
		int c;

		if (d && a)
			c = d->kind != a->kind ? (d->kind < a->kind ? -1 : 1) : key_cmp(d, a);
		else
			c = d ? -1 : 1;

		if (c < 0) {
			r = emit(buckets, PLAN_REPLACE, d, fi);
			if (r < 0)
				return r;
			plan->peers[d->peer].missing |= PLAN_BIT(d->kind, fi);
			i++;
		} else if (c > 0) {
			if (entry_is_stale(a)) {
				r = emit(buckets, PLAN_DELETE, a, fi);
				if (r < 0)
					return r;
			}
			j++;
		} else {
			if (!entry_satisfies(a, d)) {
				r = emit(buckets, PLAN_REPLACE, d, fi);
				if (r < 0)
					return r;
				plan->peers[d->peer].missing |= PLAN_BIT(d->kind, fi);
			}
			i++;
			/* Several actual entries may share a key (e.g. the same
			 * route at two metrics is two keys; one FDB MAC+dst is
			 * one): consume exactly one. */
			j++;
		}
	}
	return 0;
}

int plan_compute(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		 const struct plan_actual actual[2], struct plan *ret)
{
	struct entries buckets[N_BUCKETS] = {{0}};
	struct plan plan = {0};
	uint64_t hash = 0xcbf29ce484222325ULL;
	size_t total = 0;
	int r = 0;

	plan.peers = calloc(n_peers ? n_peers : 1, sizeof(*plan.peers));
	if (!plan.peers)
		return -ENOMEM;
	plan.n_peers = n_peers;

	for (int fi = 0; fi < 2 && r >= 0; fi++) {
		struct entries want = {0}, have = {0};

		if (!p->fam[fi].enabled)
			continue;
		r = build_desired(p, fi, peers, n_peers, plan.peers, &want);
		if (r >= 0)
			r = build_actual(&actual[fi], fi, &have);
		if (r >= 0)
			r = diff_family(&want, &have, fi, &plan, buckets);
		if (r >= 0) {
			/* want is sorted now: the hash does not depend on peer order. */
			for (size_t k = 0; k < want.n; k++)
				hash = entry_hash(hash, &want.v[k]);
			plan.n_desired += want.n;
		}
		free(want.v);
		free(have.v);
	}

	for (size_t b = 0; b < N_BUCKETS; b++)
		total += buckets[b].n;
	if (r >= 0) {
		plan.ops = calloc(total ? total : 1, sizeof(*plan.ops));
		if (!plan.ops)
			r = -ENOMEM;
	}
	if (r >= 0) {
		/* Adds: neighbour, FDB, route; deletes: route, FDB, neighbour. */
		static const enum plan_kind add_order[] = {PLAN_NEIGH, PLAN_FDB, PLAN_ROUTE};
		static const enum plan_kind del_order[] = {PLAN_ROUTE, PLAN_FDB, PLAN_NEIGH};
		for (int pass = 0; pass < 2; pass++) {
			enum plan_action action = pass == 0 ? PLAN_REPLACE : PLAN_DELETE;
			const enum plan_kind *order = pass == 0 ? add_order : del_order;
			for (int o = 0; o < 3; o++)
				for (int fi = 0; fi < 2; fi++) {
					struct entries *e =
						&buckets[bucket_of(action, order[o], fi)];
					for (size_t k = 0; k < e->n; k++) {
						struct plan_op *op = &plan.ops[plan.n_ops++];
						op->action = action;
						op->kind = e->v[k].kind;
						op->family = e->v[k].family;
						op->peer =
							action == PLAN_DELETE ? -1 : e->v[k].peer;
						if (op->kind == PLAN_NEIGH)
							op->neigh = e->v[k].neigh;
						else if (op->kind == PLAN_FDB)
							op->fdb = e->v[k].fdb;
						else
							op->route = e->v[k].route;
						if (action == PLAN_DELETE)
							plan.n_stale++;
					}
				}
		}
	}
	for (size_t b = 0; b < N_BUCKETS; b++)
		free(buckets[b].v);
	if (r < 0) {
		plan_done(&plan);
		return r;
	}
	for (size_t k = 0; k < n_peers; k++)
		if (plan.peers[k].skipped)
			plan.n_skipped++;
	plan.desired_hash = hash;
	*ret = plan;
	return 0;
}

void plan_done(struct plan *p)
{
	free(p->ops);
	free(p->peers);
	memset(p, 0, sizeof(*p));
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
	default:
		return "unknown";
	}
}
