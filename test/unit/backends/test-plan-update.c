/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the belief in backends/plan.c: planning against it
 * (plan_update, and plan_update_changed with the changed names as a hint)
 * must give exactly the ops, peer status and hash that a full plan against
 * a kernel holding the belief gives (plan_compute), over a long
 * pseudo-random sequence of peer changes that includes moved subnets,
 * shared VtepMACs (conflicts), other backend types and DirectRouting; and
 * notifications must be told apart: echoes of our writes, entries that are
 * not ours to manage, and foreign changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/plan.h"

#define DEV   7
#define DEV6  8
#define EXT   2
#define NAMES 12
#define MAXE  64

/* "node<NN>", in static storage: a lease borrows its name. */
static const char *node_name(int n)
{
	static char names[100][8];

	assert_true(n >= 0 && n < 100);
	snprintf(names[n], sizeof(names[n]), "node%02d", n);
	return names[n];
}

static struct lease mk_lease(int name, int subnet, int ip, int mac)
{
	struct lease l = {0};
	char s[64];

	l.name = node_name(name);
	strcpy(l.attrs.backend_type, "vxlan");
	snprintf(s, sizeof(s), "198.18.%d.0/24", subnet);
	assert_int_equal(ip_net_parse(s, &l.subnet), 0);
	l.has_subnet = true;
	snprintf(s, sizeof(s), "203.0.113.%d", ip);
	assert_int_equal(ip_addr_parse(s, &l.public_ip), 0);
	l.attrs.has_vtep_mac = true;
	memcpy(l.attrs.vtep_mac, (uint8_t[]){0x0e, 0, 0, 0, 4, (uint8_t)mac}, 6);
	snprintf(s, sizeof(s), "2001:db8:42:%d::/64", subnet);
	assert_int_equal(ip_net_parse(s, &l.subnet6), 0);
	l.has_subnet6 = true;
	snprintf(s, sizeof(s), "2001:db8:1::%d", ip);
	assert_int_equal(ip_addr_parse(s, &l.public_ip6), 0);
	l.attrs.has_vtep_mac6 = true;
	memcpy(l.attrs.vtep_mac6, (uint8_t[]){0x0e, 0, 0, 0, 6, (uint8_t)mac}, 6);
	return l;
}

static const struct ip_net direct_net = {.addr = {.family = AF_INET, .bytes = {203, 0, 113, 0}},
					 .prefixlen = 26};

static struct plan_params vxlan_params(bool direct)
{
	struct plan_params p = {.backend_type = "vxlan", .proto = NL_PROTO_FLANNEL};
	p.fam[0] = (struct plan_family){.enabled = true,
					.vxlan = true,
					.dev_ifindex = DEV,
					.ext_ifindex = EXT,
					.direct_routing = direct,
					.direct_nets = direct ? &direct_net : NULL,
					.n_direct_nets = direct ? 1 : 0};
	p.fam[1] = (struct plan_family){.enabled = true,
					.vxlan = true,
					.dev_ifindex = DEV6,
					.ext_ifindex = EXT,
					.route_priority = 1024};
	return p;
}

/* A kernel holding exactly what the ops wrote, keyed like the planner; one per family. */
struct kernel {
	struct neigh_spec neighs[MAXE];
	size_t n_neighs;
	struct fdb_spec fdbs[MAXE];
	size_t n_fdbs;
	struct route_spec routes[MAXE];
	size_t n_routes;
};

static bool same_key(const struct plan_op *op, const struct kernel *k, size_t i)
{
	switch (op->kind) {
	case PLAN_NEIGH:
		return ip_addr_equal(&k->neighs[i].ip, &op->neigh.ip);
	case PLAN_FDB:
		return memcmp(k->fdbs[i].mac, op->fdb.mac, 6) == 0 &&
		       ip_addr_equal(&k->fdbs[i].dst, &op->fdb.dst);
	case PLAN_ROUTE:
	default:
		return ip_net_equal(&k->routes[i].dst, &op->route.dst) &&
		       k->routes[i].priority == op->route.priority;
	}
}

static void kernel_apply(struct kernel kernels[2], const struct plan *plan)
{
	for (size_t j = 0; j < plan->n_ops; j++) {
		const struct plan_op *op = &plan->ops[j];
		struct kernel *k = &kernels[op->family == AF_INET6];
		size_t *n = op->kind == PLAN_NEIGH ? &k->n_neighs
			    : op->kind == PLAN_FDB ? &k->n_fdbs
						   : &k->n_routes;
		size_t i;

		for (i = 0; i < *n && !same_key(op, k, i); i++)
			;
		if (op->action == PLAN_DELETE) {
			assert_true(i < *n); /* a delete of something absent is a planning error */
			if (op->kind == PLAN_NEIGH)
				k->neighs[i] = k->neighs[*n - 1];
			else if (op->kind == PLAN_FDB)
				k->fdbs[i] = k->fdbs[*n - 1];
			else
				k->routes[i] = k->routes[*n - 1];
			(*n)--;
			continue;
		}
		assert_true(i < MAXE);
		if (i == *n)
			(*n)++;
		if (op->kind == PLAN_NEIGH)
			k->neighs[i] = op->neigh;
		else if (op->kind == PLAN_FDB)
			k->fdbs[i] = op->fdb;
		else
			k->routes[i] = op->route;
	}
}

static void kernel_actual(const struct kernel k[2], struct plan_actual actual[2])
{
	for (int fi = 0; fi < 2; fi++)
		actual[fi] = (struct plan_actual){.neighs = k[fi].neighs,
						  .n_neighs = k[fi].n_neighs,
						  .fdbs = k[fi].fdbs,
						  .n_fdbs = k[fi].n_fdbs,
						  .routes = k[fi].routes,
						  .n_routes = k[fi].n_routes};
}

/* One op as text: comparable whatever the order within a kind. */
static void op_fmt(const struct plan_op *op, char *buf, size_t size)
{
	char a[IP_NET_STRLEN], b[IP_NET_STRLEN], m[18];

	switch (op->kind) {
	case PLAN_NEIGH:
		snprintf(buf, size, "%d peer %zd neigh %s %s dev %d", op->action, op->peer,
			 ip_addr_fmt(&op->neigh.ip, a), mac_fmt(op->neigh.mac, m),
			 op->neigh.ifindex);
		break;
	case PLAN_FDB:
		snprintf(buf, size, "%d peer %zd fdb %s %s dev %d", op->action, op->peer,
			 mac_fmt(op->fdb.mac, m), ip_addr_fmt(&op->fdb.dst, a), op->fdb.ifindex);
		break;
	case PLAN_ROUTE:
	default:
		snprintf(buf, size, "%d peer %zd route %s via %s dev %d onlink %d metric %u",
			 op->action, op->peer, ip_net_fmt(&op->route.dst, a),
			 ip_addr_fmt(&op->route.gw, b), op->route.ifindex, op->route.onlink,
			 op->route.priority);
		break;
	}
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(x, y);
}

/*
 * The per-peer status of got: its own array, or (planned per peer) the
 * belief's view with missing = the entries got has a replace op for, which
 * is what a full plan reports as missing.
 */
static struct plan_peer got_peer(const struct plan *got, const struct plan_state *belief, size_t k,
				 const struct lease *const *peers)
{
	struct plan_peer pp;

	if (got->peers)
		return got->peers[k];
	assert_string_equal(plan_state_peer(belief, k, &pp), peers[k]->name);
	assert_int_equal(pp.missing, 0);
	for (size_t j = 0; j < got->n_ops; j++)
		if (got->ops[j].action == PLAN_REPLACE && got->ops[j].peer == (ssize_t)k)
			pp.missing |= PLAN_BIT(got->ops[j].kind, got->ops[j].family == AF_INET6);
	return pp;
}

static void assert_same_plan(const struct plan *got, const struct plan *want,
			     const struct plan_state *belief, const struct lease *const *peers)
{
	static char g[4 * MAXE][128], w[4 * MAXE][128];

	if (got->n_ops != want->n_ops) {
		char t[128];
		for (size_t k = 0; k < got->n_ops; k++) {
			op_fmt(&got->ops[k], t, sizeof(t));
			fprintf(stderr, "got  %s\n", t);
		}
		for (size_t k = 0; k < want->n_ops; k++) {
			op_fmt(&want->ops[k], t, sizeof(t));
			fprintf(stderr, "want %s\n", t);
		}
	}
	assert_int_equal(got->n_ops, want->n_ops);
	assert_true(got->n_ops <= 4 * MAXE);
	for (size_t k = 0; k < got->n_ops; k++) {
		op_fmt(&got->ops[k], g[k], sizeof(g[k]));
		op_fmt(&want->ops[k], w[k], sizeof(w[k]));
		/* Same order of kinds: adds neighbour, FDB, route; then deletes. */
		assert_int_equal(got->ops[k].action, want->ops[k].action);
		assert_int_equal(got->ops[k].kind, want->ops[k].kind);
		assert_int_equal(got->ops[k].family, want->ops[k].family);
	}
	qsort(g, got->n_ops, sizeof(g[0]), str_cmp);
	qsort(w, want->n_ops, sizeof(w[0]), str_cmp);
	for (size_t k = 0; k < got->n_ops; k++)
		assert_string_equal(g[k], w[k]);
	assert_int_equal(got->peers ? got->n_peers : plan_state_n_peers(belief), want->n_peers);
	for (size_t k = 0; k < want->n_peers; k++) {
		struct plan_peer pp = got_peer(got, belief, k, peers);

		assert_int_equal(pp.want, want->peers[k].want);
		assert_int_equal(pp.missing, want->peers[k].missing);
		assert_int_equal(pp.skipped, want->peers[k].skipped);
		assert_int_equal(pp.direct, want->peers[k].direct);
	}
	assert_int_equal(got->n_desired, want->n_desired);
	assert_int_equal(got->n_skipped, want->n_skipped);
	assert_int_equal(got->n_stale, want->n_stale);
	assert_true(got->desired_hash == want->desired_hash);
}

/* The peers present, sorted by name (as lease_set_snapshot). */
struct cluster {
	bool present[NAMES];
	struct lease leases[NAMES];
	const struct lease *v[NAMES];
	size_t n;
};

static void cluster_snapshot(struct cluster *c)
{
	c->n = 0;
	for (int k = 0; k < NAMES; k++)
		if (c->present[k])
			c->v[c->n++] = &c->leases[k];
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/*
 * hinted: plan_update_changed with the names of the peers touched in the
 * step (a superset of the changed ones: some changes restore a lease or
 * touch an absent peer), in random order, with duplicates and a name of no
 * peer, as lease_set_changes_since gives them.
 */
static void run_sequence(bool direct, bool hinted, uint32_t seed, unsigned steps)
{
	struct plan_params p = vxlan_params(direct);
	struct plan_state *belief = NULL;
	static struct kernel kernel[2];

	memset(kernel, 0, sizeof(kernel));
	struct cluster c = {0};
	struct plan plan = {0};
	struct plan_actual actual[2];
	unsigned per_peer = 0, whole = 0;

	for (int k = 0; k < NAMES; k++) {
		c.present[k] = k < 6;
		c.leases[k] = mk_lease(k, k + 1, k + 1, k + 1);
	}
	cluster_snapshot(&c);
	kernel_actual(kernel, actual);
	assert_int_equal(plan_compute_state(&p, c.v, c.n, actual, &plan, &belief), 0);
	kernel_apply(kernel, &plan);
	plan_done(&plan);

	for (unsigned step = 0; step < steps; step++) {
		struct plan want = {0}, again = {0};
		unsigned changes = 1 + rnd(&seed) % 3;
		const char *names[8];
		size_t n_names = 0;

		names[n_names++] = "no-such-node";
		for (unsigned x = 0; x < changes; x++) {
			int k = (int)(rnd(&seed) % NAMES);
			struct lease *l = &c.leases[k];

			names[n_names++] = c.leases[k].name;
			if (rnd(&seed) % 4 == 0)
				names[n_names++] = c.leases[k].name;
			switch (rnd(&seed) % 6) {
			case 0: /* join or leave */
				c.present[k] = !c.present[k];
				*l = mk_lease(k, k + 1, k + 1, k + 1);
				break;
			case 1: /* another subnet: may move onto another peer's (a conflict) */
				*l = mk_lease(k, 1 + (int)(rnd(&seed) % 16), k + 1, k + 1);
				break;
			case 2: /* another public IP: inside or outside the direct net */
				l->public_ip.bytes[3] = (uint8_t)(1 + rnd(&seed) % 120);
				break;
			case 3: /* another VtepMAC: may be shared */
				l->attrs.vtep_mac[5] = (uint8_t)(1 + rnd(&seed) % 16);
				break;
			case 4: /* another backend type, or no VtepMAC */
				if (rnd(&seed) % 2)
					strcpy(l->attrs.backend_type, "host-gw");
				else
					l->attrs.has_vtep_mac = false;
				break;
			default: /* back to its own lease */
				*l = mk_lease(k, k + 1, k + 1, k + 1);
				break;
			}
		}
		cluster_snapshot(&c);

		kernel_actual(kernel, actual);
		assert_int_equal(plan_compute(&p, c.v, c.n, actual, &want), 0);
		if (hinted) {
			/* Any order: swap the first name to a random place. */
			size_t j = rnd(&seed) % n_names;
			const char *t = names[0];
			names[0] = names[j];
			names[j] = t;
			assert_int_equal(
				plan_update_changed(&p, c.v, c.n, names, n_names, &belief, &plan),
				0);
		} else
			assert_int_equal(plan_update(&p, c.v, c.n, &belief, &plan), 0);
		assert_non_null(belief);
		assert_same_plan(&plan, &want, belief, c.v);
		if (plan.n_planned < c.n || c.n == 0)
			per_peer++;
		else
			whole++;
		kernel_apply(kernel, &plan);

		/* The kernel now holds what was wanted: nothing left to do. */
		kernel_actual(kernel, actual);
		assert_int_equal(plan_compute(&p, c.v, c.n, actual, &again), 0);
		assert_int_equal(again.n_ops, 0);
		plan_done(&again);
		plan_done(&want);
		plan_done(&plan);
	}
	/* Both paths were exercised. */
	assert_true(per_peer > steps / 4);
	assert_true(whole > 0);
	plan_state_free(belief);
}

static void test_update_matches_full_plan(void **state)
{
	run_sequence(false, false, 1, 400);
	run_sequence(false, false, 77, 400);
}

static void test_update_matches_full_plan_direct_routing(void **state)
{
	run_sequence(true, false, 5, 400);
}

/* The same with the names of the changed peers as a hint. */
/* The kernel as the ops of a plan from scratch leave it. */
struct dumped {
	struct neigh_spec neighs[2][MAXE];
	struct fdb_spec fdbs[2][MAXE];
	struct route_spec routes[2][MAXE];
	struct plan_actual actual[2];
};

static void dump_of(const struct plan *plan, struct dumped *d)
{
	memset(d, 0, sizeof(*d));
	for (int fi = 0; fi < 2; fi++)
		d->actual[fi] = (struct plan_actual){
			.neighs = d->neighs[fi], .fdbs = d->fdbs[fi], .routes = d->routes[fi]};
	for (size_t k = 0; k < plan->n_ops; k++) {
		const struct plan_op *op = &plan->ops[k];
		int fi = op->family == AF_INET6;
		struct plan_actual *a = &d->actual[fi];

		assert_int_equal(op->action, PLAN_REPLACE);
		if (op->kind == PLAN_NEIGH)
			d->neighs[fi][a->n_neighs++] = op->neigh;
		else if (op->kind == PLAN_FDB)
			d->fdbs[fi][a->n_fdbs++] = op->fdb;
		else
			d->routes[fi][a->n_routes++] = op->route;
	}
}

/* The periodic check: the dumps hold exactly the belief, or they do not. */
static void test_state_matches_dumps(void **state)
{
	struct plan_params p = vxlan_params(false), other = vxlan_params(false);
	struct plan_actual none[2] = {{0}};
	static struct dumped d;
	struct plan_state *belief = NULL;
	struct plan plan = {0};
	struct lease l[8];
	const struct lease *v[8];
	struct route_spec stale;
	struct neigh_spec dyn;

	for (int k = 0; k < 8; k++) {
		l[k] = mk_lease(k, k + 1, k + 1, k + 1);
		v[k] = &l[k];
	}
	assert_int_equal(plan_compute_state(&p, v, 8, none, &plan, &belief), 0);
	assert_int_equal(plan.n_ops, 8 * 6);
	dump_of(&plan, &d);
	plan_done(&plan);
	assert_true(plan_state_matches(belief, &p, d.actual));
	assert_false(plan_state_matches(belief, &p, none));

	/* A dynamic neighbour is the kernel's: still a match. */
	dyn = d.neighs[0][0];
	dyn.ip.bytes[3] = 99;
	dyn.state = 0x02;
	d.neighs[0][d.actual[0].n_neighs++] = dyn;
	assert_true(plan_state_matches(belief, &p, d.actual));

	/* A stale route of ours, a missing route, a wrong lladdr: no match. */
	stale = d.routes[0][0];
	assert_int_equal(ip_net_parse("198.18.200.0/24", &stale.dst), 0);
	d.routes[0][d.actual[0].n_routes++] = stale;
	assert_false(plan_state_matches(belief, &p, d.actual));
	d.actual[0].n_routes -= 2;
	assert_false(plan_state_matches(belief, &p, d.actual));
	d.actual[0].n_routes++;
	assert_true(plan_state_matches(belief, &p, d.actual));
	d.neighs[1][0].mac[5] ^= 1;
	assert_false(plan_state_matches(belief, &p, d.actual));
	d.neighs[1][0].mac[5] ^= 1;

	/* Other parameters (a recreated device): no match. */
	other.fam[0].dev_ifindex = DEV + 10;
	assert_false(plan_state_matches(belief, &other, d.actual));
	assert_true(plan_state_matches(belief, &p, d.actual));
	plan_state_free(belief);
	(void)state;
}

static void test_hinted_update_matches_full_plan(void **state)
{
	run_sequence(false, true, 1, 400);
	run_sequence(false, true, 77, 400);
	run_sequence(true, true, 5, 400);
	run_sequence(true, true, 9, 400);
}

/* A single add and a single delete touch only that peer's entries. */
static void test_single_peer_is_incremental(void **state)
{
	struct plan_params p = vxlan_params(false);
	struct plan_state *belief = NULL;
	struct lease l[40];
	const struct lease *v[40];
	struct plan_actual actual[2] = {{0}};
	struct plan plan = {0};

	for (int k = 0; k < 40; k++) {
		l[k] = mk_lease(k, k + 1, k + 1, k + 1);
		v[k] = &l[k];
	}
	assert_int_equal(plan_compute_state(&p, v, 39, actual, &plan, &belief), 0);
	assert_int_equal(plan.n_ops, 39 * 6);
	plan_done(&plan);

	assert_int_equal(plan_update(&p, v, 40, &belief, &plan), 0);
	assert_int_equal(plan.n_planned, 1);
	assert_int_equal(plan.n_ops, 6);
	for (size_t k = 0; k < plan.n_ops; k++) {
		assert_int_equal(plan.ops[k].action, PLAN_REPLACE);
		assert_int_equal(plan.ops[k].peer, 39);
	}
	/* Planned per peer: no per-peer array; the belief has every peer's status. */
	assert_null(plan.peers);
	assert_int_equal(plan_state_n_peers(belief), 40);
	{
		struct plan_peer pp;
		unsigned ops = 0;

		assert_string_equal(plan_state_peer(belief, 39, &pp), l[39].name);
		for (size_t k = 0; k < plan.n_ops; k++)
			ops |= PLAN_BIT(plan.ops[k].kind, plan.ops[k].family == AF_INET6);
		assert_int_equal(ops, pp.want);
		assert_int_equal(pp.missing, 0);
		/* A failed op is reported missing until the next plan. */
		plan_state_mark_missing(belief, 39, PLAN_BIT(PLAN_ROUTE, 0));
		(void)plan_state_peer(belief, 39, &pp);
		assert_int_equal(pp.missing, PLAN_BIT(PLAN_ROUTE, 0));
		/* The same status found by name; a name of no peer is not found. */
		memset(&pp, 0, sizeof(pp));
		assert_true(plan_state_find(belief, l[39].name, &pp));
		assert_int_equal(pp.missing, PLAN_BIT(PLAN_ROUTE, 0));
		assert_true(plan_state_find(belief, l[0].name, &pp));
		assert_int_equal(pp.missing, 0);
		assert_int_not_equal(pp.want, 0);
		assert_false(plan_state_find(belief, "no-such-node", &pp));
	}
	assert_int_equal(plan.n_desired, 40 * 6);
	plan_done(&plan);

	/* Unchanged: nothing planned at all. */
	assert_int_equal(plan_update(&p, v, 40, &belief, &plan), 0);
	assert_int_equal(plan.n_planned, 0);
	assert_int_equal(plan.n_ops, 0);
	plan_done(&plan);

	/* node05 leaves: its six entries go, routes first. */
	memmove(&v[5], &v[6], 34 * sizeof(v[0]));
	assert_int_equal(plan_update(&p, v, 39, &belief, &plan), 0);
	assert_int_equal(plan.n_planned, 1);
	assert_int_equal(plan.n_ops, 6);
	assert_int_equal(plan.n_stale, 6);
	assert_int_equal(plan.ops[0].kind, PLAN_ROUTE);
	assert_int_equal(plan.ops[5].kind, PLAN_NEIGH);
	plan_done(&plan);
	plan_state_free(belief);
}

/*
 * With a hint only the named peers are looked at: a change the hint does
 * not name is not planned when the counts agree (the hint is trusted), and
 * a hint that misses a join or a leave is caught by the count and the
 * whole set compared.
 */
static void test_hint_visits_only_named_peers(void **state)
{
	struct plan_params p = vxlan_params(false);
	struct plan_state *belief = NULL;
	struct lease l[40];
	const struct lease *v[40];
	struct plan_actual actual[2] = {{0}};
	struct plan plan = {0};
	const char *names[2];

	for (int k = 0; k < 40; k++) {
		l[k] = mk_lease(k, k + 1, k + 1, k + 1);
		v[k] = &l[k];
	}
	assert_int_equal(plan_compute_state(&p, v, 39, actual, &plan, &belief), 0);
	plan_done(&plan);

	/* A join named in the hint. */
	names[0] = l[39].name;
	assert_int_equal(plan_update_changed(&p, v, 40, names, 1, &belief, &plan), 0);
	assert_int_equal(plan.n_planned, 1);
	assert_int_equal(plan.n_ops, 6);
	assert_int_equal(plan.ops[0].peer, 39);
	plan_done(&plan);

	/* Two peers change, the hint names one: only that one is planned. */
	l[3].public_ip.bytes[3] = 99;
	l[7].public_ip.bytes[3] = 98;
	names[0] = l[7].name;
	assert_int_equal(plan_update_changed(&p, v, 40, names, 1, &belief, &plan), 0);
	assert_int_equal(plan.n_planned, 1);
	/* node07's FDB entry: the new one (MAC + new remote), the old one deleted */
	assert_int_equal(plan.n_ops, 2);
	assert_int_equal(plan.ops[0].kind, PLAN_FDB);
	assert_int_equal(plan.ops[0].peer, 7);
	assert_int_equal(plan.ops[0].fdb.dst.bytes[3], 98);
	assert_int_equal(plan.ops[1].kind, PLAN_FDB);
	assert_int_equal(plan.ops[1].action, PLAN_DELETE);
	plan_done(&plan);
	/* Without a hint the other one is found. */
	assert_int_equal(plan_update(&p, v, 40, &belief, &plan), 0);
	assert_int_equal(plan.n_ops, 2);
	assert_int_equal(plan.ops[0].peer, 3);
	assert_int_equal(plan.ops[0].fdb.dst.bytes[3], 99);
	plan_done(&plan);

	/* A leave the hint misses: the counts disagree, the whole set is compared. */
	names[0] = l[10].name; /* unchanged */
	assert_int_equal(plan_update_changed(&p, v, 39, names, 1, &belief, &plan), 0);
	assert_int_equal(plan.n_stale, 6);
	assert_int_equal(plan.n_desired, 39 * 6);
	plan_done(&plan);
	plan_state_free(belief);
	(void)state;
}

/* ---- notifications ---- */

static struct plan_state *two_peer_belief(void)
{
	struct plan_params p = vxlan_params(false);
	struct plan_state *belief = NULL;
	struct lease l[2] = {mk_lease(1, 1, 1, 1), mk_lease(2, 2, 2, 2)};
	const struct lease *v[2] = {&l[0], &l[1]};
	struct plan_actual actual[2] = {{0}};
	struct plan plan = {0};

	assert_int_equal(plan_compute_state(&p, v, 2, actual, &plan, &belief), 0);
	plan_done(&plan);
	return belief;
}

static struct nl_event route_event(bool deleted, const char *dst, const char *gw, int ifindex)
{
	struct nl_event ev = {.kind = NL_EVENT_ROUTE, .deleted = deleted};

	assert_int_equal(ip_net_parse(dst, &ev.route.dst), 0);
	ev.route.family = ev.route.dst.addr.family;
	assert_int_equal(ip_addr_parse(gw, &ev.route.gw), 0);
	ev.route.ifindex = ifindex;
	ev.route.onlink = true;
	ev.route.proto = NL_PROTO_FLANNEL;
	ev.route.type = NL_ROUTE_UNICAST;
	ev.route.table = NL_TABLE_MAIN;
	ev.route.priority = ev.route.family == AF_INET6 ? 1024 : 0;
	ev.family = ev.route.family;
	ev.ifindex = ifindex;
	return ev;
}

static struct nl_event neigh_event(bool deleted, const char *ip, uint8_t mac_last, uint16_t state)
{
	struct nl_event ev = {.kind = NL_EVENT_NEIGH, .deleted = deleted};

	assert_int_equal(ip_addr_parse(ip, &ev.neigh.ip), 0);
	ev.family = ev.neigh.ip.family;
	ev.ifindex = ev.neigh.ifindex = ev.family == AF_INET6 ? DEV6 : DEV;
	ev.neigh.has_mac = true;
	memcpy(ev.neigh.mac, (uint8_t[]){0x0e, 0, 0, 0, 4, mac_last}, 6);
	ev.neigh.state = state;
	return ev;
}

static struct nl_event fdb_event(bool deleted, uint8_t mac_last, const char *dst, uint16_t state)
{
	struct nl_event ev = {.kind = NL_EVENT_NEIGH, .deleted = deleted, .family = AF_BRIDGE};

	ev.ifindex = ev.fdb.ifindex = DEV;
	memcpy(ev.fdb.mac, (uint8_t[]){0x0e, 0, 0, 0, 4, mac_last}, 6);
	assert_int_equal(ip_addr_parse(dst, &ev.fdb.dst), 0);
	ev.fdb.state = state;
	ev.is_fdb_self = true;
	return ev;
}

static void test_classify_routes(void **state)
{
	struct plan_state *b = two_peer_belief();
	struct nl_event ev;

	ev = route_event(false, "198.18.1.0/24", "198.18.1.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = route_event(false, "2001:db8:42:2::/64", "2001:db8:42:2::", DEV6);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	/* Ours, but changed by someone else: another gateway, device, metric. */
	ev = route_event(false, "198.18.1.0/24", "203.0.113.1", EXT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = route_event(false, "198.18.1.0/24", "198.18.1.0", DEV);
	ev.route.priority = 5;
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = route_event(false, "198.18.1.0/24", "198.18.1.0", DEV);
	ev.route.onlink = false;
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	/* A route of ours nobody wants (a stale one to delete). */
	ev = route_event(false, "198.18.9.0/24", "198.18.9.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	/* A wanted route deleted: repair; an unwanted one deleted: our own delete. */
	ev = route_event(true, "198.18.2.0/24", "198.18.2.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = route_event(true, "2001:db8:42:1::/64", "2001:db8:42:1::", DEV6);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = route_event(true, "198.18.9.0/24", "198.18.9.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	/* The old DirectRouting version of a wanted route, deleted before the add. */
	ev = route_event(true, "198.18.1.0/24", "203.0.113.1", EXT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	/* Another table is never ours. */
	ev = route_event(false, "198.18.1.0/24", "203.0.113.1", EXT);
	ev.route.table = 100;
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_IGNORE);
	plan_state_free(b);
}

static void test_classify_neighbours_and_fdb(void **state)
{
	struct plan_state *b = two_peer_belief();
	struct nl_event ev;

	ev = neigh_event(false, "198.18.1.0", 1, NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = neigh_event(false, "198.18.1.0", 9, NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = neigh_event(true, "198.18.2.0", 2, NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = neigh_event(false, "198.18.9.0", 9, NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = neigh_event(true, "198.18.9.0", 9, NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	/* The kernel's own neighbours (IPv6 multicast NOARP, dynamic) are not ours. */
	ev = neigh_event(false, "ff02::2", 9, NL_NUD_NOARP);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_IGNORE);

	ev = fdb_event(false, 2, "203.0.113.2", NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = fdb_event(true, 2, "203.0.113.2", NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	/* The same MAC towards another remote: not what we want. */
	ev = fdb_event(false, 2, "203.0.113.99", NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	ev = fdb_event(true, 2, "203.0.113.99", NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	/* Learnt (Learning=true) and a bridge's master entries belong to the kernel. */
	ev = fdb_event(false, 9, "203.0.113.9", 0x02 /* NUD_REACHABLE */);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_IGNORE);
	ev = fdb_event(false, 9, "203.0.113.9", NL_NUD_PERMANENT);
	ev.is_fdb_self = false;
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_IGNORE);
	/* On a device that is not ours. */
	ev = fdb_event(false, 2, "203.0.113.2", NL_NUD_PERMANENT);
	ev.fdb.ifindex = 99;
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);

	ev = (struct nl_event){.kind = NL_EVENT_LINK, .ifindex = DEV};
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	plan_state_free(b);
}

/* After an update the notifications are checked against the new desired state. */
static void test_classify_follows_updates(void **state)
{
	struct plan_params p = vxlan_params(false);
	struct plan_state *b = two_peer_belief();
	struct lease l = mk_lease(3, 3, 3, 3), l1 = mk_lease(1, 1, 1, 1);
	const struct lease *v[2] = {&l1, &l};
	struct plan plan = {0};
	struct nl_event ev;

	/* node02 left, node03 joined. */
	assert_int_equal(plan_update(&p, v, 2, &b, &plan), 0);
	assert_int_equal(plan.n_planned, 2);
	plan_done(&plan);
	ev = route_event(false, "198.18.3.0/24", "198.18.3.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = route_event(true, "198.18.2.0/24", "198.18.2.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = fdb_event(true, 2, "203.0.113.2", NL_NUD_PERMANENT);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_ECHO);
	ev = route_event(false, "198.18.2.0/24", "198.18.2.0", DEV);
	assert_int_equal(plan_classify_event(b, &ev), PLAN_EVENT_FOREIGN);
	plan_state_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_matches_full_plan),
		cmocka_unit_test(test_update_matches_full_plan_direct_routing),
		cmocka_unit_test(test_hinted_update_matches_full_plan),
		cmocka_unit_test(test_single_peer_is_incremental),
		cmocka_unit_test(test_hint_visits_only_named_peers),
		cmocka_unit_test(test_state_matches_dumps),
		cmocka_unit_test(test_classify_routes),
		cmocka_unit_test(test_classify_neighbours_and_fdb),
		cmocka_unit_test(test_classify_follows_updates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
