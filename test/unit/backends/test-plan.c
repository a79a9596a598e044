/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of backends/plan.c, the pure planner: the exact entries per
 * peer (vxlan, DirectRouting, host-gw, dual-stack), the op order (adds
 * neighbour -> FDB -> route, deletes route -> FDB -> neighbour), no ops
 * when the kernel already matches, stale and changed entries, and peers
 * that must be skipped and why (other type, no VtepMAC, another VNI,
 * conflicts), and which routes
 * are ours when another flannel network shares the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "backends/plan.h"

#define DEV  7
#define DEV6 8
#define EXT  2

static struct lease mk_lease(const char *name, int n)
{
	struct lease l = {0};
	char s[64];

	l.name = name;
	strcpy(l.attrs.backend_type, "vxlan");
	snprintf(s, sizeof(s), "198.18.%d.0/24", n);
	assert_int_equal(ip_net_parse(s, &l.subnet), 0);
	l.has_subnet = true;
	snprintf(s, sizeof(s), "203.0.113.%d", n);
	assert_int_equal(ip_addr_parse(s, &l.public_ip), 0);
	l.attrs.has_vtep_mac = true;
	memcpy(l.attrs.vtep_mac, (uint8_t[]){0x0e, 0, 0, 0, 4, (uint8_t)n}, 6);
	snprintf(s, sizeof(s), "2001:db8:42:%d::/64", n);
	assert_int_equal(ip_net_parse(s, &l.subnet6), 0);
	l.has_subnet6 = true;
	snprintf(s, sizeof(s), "2001:db8:1::%d", n);
	assert_int_equal(ip_addr_parse(s, &l.public_ip6), 0);
	l.attrs.has_vtep_mac6 = true;
	memcpy(l.attrs.vtep_mac6, (uint8_t[]){0x0e, 0, 0, 0, 6, (uint8_t)n}, 6);
	return l;
}

static struct plan_params vxlan_params(bool v6)
{
	struct plan_params p = {.backend_type = "vxlan", .proto = NL_PROTO_FLANNEL};
	p.fam[0] = (struct plan_family){
		.enabled = true, .vxlan = true, .dev_ifindex = DEV, .ext_ifindex = EXT};
	p.fam[1] = (struct plan_family){.enabled = v6,
					.vxlan = true,
					.dev_ifindex = DEV6,
					.ext_ifindex = EXT,
					.route_priority = 1024};
	return p;
}

static const char *fmt_net(const struct ip_net *n, char buf[static IP_NET_STRLEN])
{
	return ip_net_fmt(n, buf);
}

static void assert_addr(const struct ip_addr *a, const char *want)
{
	char s[IP_ADDR_STRLEN];
	assert_string_equal(ip_addr_fmt(a, s), want);
}

static void test_vxlan_from_scratch(void **state)
{
	struct lease a = mk_lease("node-a", 2), b = mk_lease("node-b", 3);
	const struct lease *peers[] = {&a, &b};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	struct plan plan;
	char s[IP_NET_STRLEN];

	assert_int_equal(plan_compute(&p, peers, 2, actual, &plan), 0);
	assert_int_equal(plan.n_ops, 6);
	assert_int_equal(plan.n_desired, 6);
	assert_int_equal(plan.n_stale, 0);
	/* neighbour, neighbour, FDB, FDB, route, route */
	for (size_t k = 0; k < 6; k++) {
		assert_int_equal(plan.ops[k].action, PLAN_REPLACE);
		assert_int_equal(plan.ops[k].kind, k < 2   ? PLAN_NEIGH
						   : k < 4 ? PLAN_FDB
							   : PLAN_ROUTE);
		assert_int_equal(plan.ops[k].peer, (ssize_t)(k % 2));
	}
	assert_int_equal(plan.ops[0].neigh.ifindex, DEV);
	assert_addr(&plan.ops[0].neigh.ip, "198.18.2.0");
	assert_memory_equal(plan.ops[0].neigh.mac, a.attrs.vtep_mac, 6);
	assert_int_equal(plan.ops[2].fdb.ifindex, DEV);
	assert_addr(&plan.ops[2].fdb.dst, "203.0.113.2");
	assert_memory_equal(plan.ops[2].fdb.mac, a.attrs.vtep_mac, 6);
	assert_string_equal(fmt_net(&plan.ops[4].route.dst, s), "198.18.2.0/24");
	assert_addr(&plan.ops[4].route.gw, "198.18.2.0");
	assert_int_equal(plan.ops[4].route.ifindex, DEV);
	assert_true(plan.ops[4].route.onlink);
	assert_int_equal(plan.ops[4].route.proto, NL_PROTO_FLANNEL);
	assert_int_equal(plan.ops[4].route.priority, 0);
	assert_int_equal(plan.peers[0].want,
			 PLAN_BIT(PLAN_NEIGH, 0) | PLAN_BIT(PLAN_FDB, 0) | PLAN_BIT(PLAN_ROUTE, 0));
	assert_int_equal(plan.peers[0].missing, plan.peers[0].want);
	plan_done(&plan);
	(void)state;
}

/* The actual entries a previous pass would have left, as a kernel dump shows them. */
struct kernel {
	struct neigh_spec neighs[8];
	struct fdb_spec fdbs[8];
	struct route_spec routes[8];
	size_t nn, nf, nr;
};

static void kernel_from_plan(struct kernel *k, const struct plan *plan, int family)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < plan->n_ops; i++) {
		const struct plan_op *op = &plan->ops[i];
		if (op->family != family)
			continue;
		if (op->kind == PLAN_NEIGH)
			k->neighs[k->nn++] = op->neigh;
		else if (op->kind == PLAN_FDB)
			k->fdbs[k->nf++] = op->fdb;
		else
			k->routes[k->nr++] = op->route;
	}
}

static struct plan_actual actual_of(const struct kernel *k)
{
	return (struct plan_actual){.neighs = k->neighs,
				    .n_neighs = k->nn,
				    .fdbs = k->fdbs,
				    .n_fdbs = k->nf,
				    .routes = k->routes,
				    .n_routes = k->nr};
}

static void test_unchanged_is_no_op(void **state)
{
	struct lease a = mk_lease("node-a", 2), b = mk_lease("node-b", 3);
	const struct lease *peers[] = {&a, &b};
	struct plan_params p = vxlan_params(true);
	struct plan_actual actual[2] = {{0}};
	struct kernel k4, k6;
	struct plan first, second;

	assert_int_equal(plan_compute(&p, peers, 2, actual, &first), 0);
	assert_int_equal(first.n_ops, 12);
	kernel_from_plan(&k4, &first, AF_INET);
	kernel_from_plan(&k6, &first, AF_INET6);
	actual[0] = actual_of(&k4);
	actual[1] = actual_of(&k6);
	assert_int_equal(plan_compute(&p, peers, 2, actual, &second), 0);
	assert_int_equal(second.n_ops, 0);
	assert_int_equal(second.n_desired, 12);
	assert_true(first.desired_hash == second.desired_hash);
	assert_int_equal(second.peers[1].missing, 0);
	assert_int_equal(second.peers[1].want,
			 PLAN_BIT(PLAN_NEIGH, 0) | PLAN_BIT(PLAN_FDB, 0) | PLAN_BIT(PLAN_ROUTE, 0) |
				 PLAN_BIT(PLAN_NEIGH, 1) | PLAN_BIT(PLAN_FDB, 1) |
				 PLAN_BIT(PLAN_ROUTE, 1));
	plan_done(&first);
	plan_done(&second);
	(void)state;
}

static void test_stale_and_changed(void **state)
{
	struct lease a = mk_lease("node-a", 2), b = mk_lease("node-b", 3);
	const struct lease *peers[] = {&a, &b};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	struct kernel k;
	struct plan first, plan;
	uint8_t old_mac[6];

	assert_int_equal(plan_compute(&p, peers, 2, actual, &first), 0);
	kernel_from_plan(&k, &first, AF_INET);
	plan_done(&first);

	/* node-b gets a new VtepMAC; a node that left (198.18.9.0) is still programmed. */
	memcpy(old_mac, b.attrs.vtep_mac, 6);
	b.attrs.vtep_mac[5] = 0x99;
	k.neighs[k.nn] = (struct neigh_spec){
		.ifindex = DEV, .has_mac = true, .state = NL_NUD_PERMANENT, .mac = {0x0e, 9}};
	assert_int_equal(ip_addr_parse("198.18.9.0", &k.neighs[k.nn++].ip), 0);
	k.fdbs[k.nf] =
		(struct fdb_spec){.ifindex = DEV, .state = NL_NUD_PERMANENT, .mac = {0x0e, 9}};
	assert_int_equal(ip_addr_parse("203.0.113.9", &k.fdbs[k.nf++].dst), 0);
	k.routes[k.nr] = k.routes[0];
	assert_int_equal(ip_net_parse("198.18.9.0/24", &k.routes[k.nr].dst), 0);
	assert_int_equal(ip_addr_parse("198.18.9.0", &k.routes[k.nr++].gw), 0);
	/* A kernel-learnt neighbour (not permanent) is not ours to delete. */
	k.neighs[k.nn] = (struct neigh_spec){.ifindex = DEV, .state = 0x02 /* REACHABLE */};
	assert_int_equal(ip_addr_parse("198.18.8.5", &k.neighs[k.nn++].ip), 0);

	actual[0] = actual_of(&k);
	assert_int_equal(plan_compute(&p, peers, 2, actual, &plan), 0);
	/* replace neighbour(b), add FDB(b new MAC); delete route 9, FDB(b old), FDB 9, neighbour 9 */
	assert_int_equal(plan.n_ops, 6);
	assert_int_equal(plan.n_stale, 4);
	assert_int_equal(plan.ops[0].kind, PLAN_NEIGH);
	assert_int_equal(plan.ops[0].action, PLAN_REPLACE);
	assert_memory_equal(plan.ops[0].neigh.mac, b.attrs.vtep_mac, 6);
	assert_int_equal(plan.ops[1].kind, PLAN_FDB);
	assert_int_equal(plan.ops[1].action, PLAN_REPLACE);
	assert_memory_equal(plan.ops[1].fdb.mac, b.attrs.vtep_mac, 6);
	assert_int_equal(plan.ops[2].kind, PLAN_ROUTE);
	assert_int_equal(plan.ops[2].action, PLAN_DELETE);
	assert_addr(&plan.ops[2].route.dst.addr, "198.18.9.0");
	assert_int_equal(plan.ops[3].kind, PLAN_FDB);
	assert_int_equal(plan.ops[3].action, PLAN_DELETE);
	assert_int_equal(plan.ops[4].kind, PLAN_FDB);
	assert_int_equal(plan.ops[4].action, PLAN_DELETE);
	assert_true(memcmp(plan.ops[3].fdb.mac, old_mac, 6) == 0 ||
		    memcmp(plan.ops[4].fdb.mac, old_mac, 6) == 0);
	assert_int_equal(plan.ops[5].kind, PLAN_NEIGH);
	assert_int_equal(plan.ops[5].action, PLAN_DELETE);
	assert_addr(&plan.ops[5].neigh.ip, "198.18.9.0");
	assert_int_equal(plan.peers[0].missing, 0);
	assert_int_equal(plan.peers[1].missing, PLAN_BIT(PLAN_NEIGH, 0) | PLAN_BIT(PLAN_FDB, 0));
	plan_done(&plan);
	(void)state;
}

static void test_route_differences_replace(void **state)
{
	struct lease a = mk_lease("node-a", 2);
	const struct lease *peers[] = {&a};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	struct kernel k;
	struct plan first, plan;

	assert_int_equal(plan_compute(&p, peers, 1, actual, &first), 0);
	kernel_from_plan(&k, &first, AF_INET);
	plan_done(&first);
	k.routes[0].onlink = false; /* someone re-added it without onlink */
	actual[0] = actual_of(&k);
	assert_int_equal(plan_compute(&p, peers, 1, actual, &plan), 0);
	assert_int_equal(plan.n_ops, 1);
	assert_int_equal(plan.ops[0].kind, PLAN_ROUTE);
	assert_int_equal(plan.ops[0].action, PLAN_REPLACE);
	assert_true(plan.ops[0].route.onlink);
	plan_done(&plan);
	(void)state;
}

static void test_direct_routing(void **state)
{
	struct lease near = mk_lease("near", 2), far = mk_lease("far", 5);
	const struct lease *peers[] = {&far, &near};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	struct ip_net segment;
	struct plan plan;

	/* Only near (203.0.113.2) is on the external interface's segment. */
	assert_int_equal(ip_net_parse("203.0.113.0/30", &segment), 0);
	p.fam[0].direct_routing = true;
	p.fam[0].direct_nets = &segment;
	p.fam[0].n_direct_nets = 1;
	assert_int_equal(plan_compute(&p, peers, 2, actual, &plan), 0);
	assert_int_equal(plan.n_ops, 4); /* far: neighbour, FDB, route; near: route */
	assert_true(plan.peers[1].direct);
	assert_false(plan.peers[0].direct);
	assert_int_equal(plan.peers[1].want, PLAN_BIT(PLAN_ROUTE, 0));
	assert_int_equal(plan.ops[3].kind, PLAN_ROUTE);
	assert_int_equal(plan.ops[2].kind, PLAN_ROUTE);
	for (size_t k = 2; k < 4; k++)
		if (plan.ops[k].peer == 1) {
			assert_addr(&plan.ops[k].route.gw, "203.0.113.2");
			assert_int_equal(plan.ops[k].route.ifindex, EXT);
			assert_false(plan.ops[k].route.onlink);
		}
	plan_done(&plan);
	(void)state;
}

static void test_hostgw_dual_stack(void **state)
{
	struct lease a = mk_lease("node-a", 2);
	const struct lease *peers[] = {&a};
	struct plan_params p = {.backend_type = "host-gw", .proto = NL_PROTO_FLANNEL};
	struct plan_actual actual[2] = {{0}};
	struct plan plan;
	char s[IP_NET_STRLEN];

	strcpy(a.attrs.backend_type, "host-gw");
	a.attrs.has_vtep_mac = a.attrs.has_vtep_mac6 = false;
	p.fam[0] = (struct plan_family){.enabled = true, .ext_ifindex = EXT};
	p.fam[1] =
		(struct plan_family){.enabled = true, .ext_ifindex = EXT, .route_priority = 1024};
	assert_int_equal(plan_compute(&p, peers, 1, actual, &plan), 0);
	assert_int_equal(plan.n_ops, 2);
	assert_int_equal(plan.ops[0].family, AF_INET);
	assert_string_equal(fmt_net(&plan.ops[0].route.dst, s), "198.18.2.0/24");
	assert_addr(&plan.ops[0].route.gw, "203.0.113.2");
	assert_int_equal(plan.ops[0].route.ifindex, EXT);
	assert_int_equal(plan.ops[1].family, AF_INET6);
	assert_string_equal(fmt_net(&plan.ops[1].route.dst, s), "2001:db8:42:2::/64");
	assert_addr(&plan.ops[1].route.gw, "2001:db8:1::2");
	assert_int_equal(plan.ops[1].route.priority, 1024);
	assert_int_equal(plan.peers[0].want, PLAN_BIT(PLAN_ROUTE, 0) | PLAN_BIT(PLAN_ROUTE, 1));
	plan_done(&plan);
	(void)state;
}

static void test_skipped_peers(void **state)
{
	struct lease a = mk_lease("a", 2), dup_subnet = mk_lease("b", 2),
		     dup_mac = mk_lease("c", 4), other = mk_lease("d", 5), nomac = mk_lease("e", 6),
		     ok = mk_lease("f", 7);
	const struct lease *peers[] = {&a, &dup_subnet, &dup_mac, &other, &nomac, &ok};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	struct plan plan;

	dup_subnet.public_ip.bytes[3] = 42;
	memcpy(dup_mac.attrs.vtep_mac, a.attrs.vtep_mac, 6);
	strcpy(other.attrs.backend_type, "host-gw");
	nomac.attrs.has_vtep_mac = false;
	assert_int_equal(plan_compute(&p, peers, 6, actual, &plan), 0);
	assert_false(plan.peers[0].skipped);
	assert_true(plan.peers[1].skipped);
	assert_true(plan.peers[2].skipped);
	assert_true(plan.peers[3].skipped);
	assert_true(plan.peers[4].skipped);
	assert_false(plan.peers[5].skipped);
	assert_int_equal(plan.n_skipped, 4);
	assert_int_equal(plan.peers[0].skip, PLAN_SKIP_NONE);
	assert_int_equal(plan.peers[1].skip, PLAN_SKIP_CONFLICT);
	assert_int_equal(plan.peers[2].skip, PLAN_SKIP_CONFLICT);
	assert_int_equal(plan.peers[3].skip, PLAN_SKIP_BACKEND_TYPE);
	assert_int_equal(plan.peers[4].skip, PLAN_SKIP_NO_VTEP_MAC);
	assert_int_equal(plan.peers[5].skip, PLAN_SKIP_NONE);
	assert_int_equal(plan.n_ops, 6);
	for (size_t k = 0; k < plan.n_ops; k++)
		assert_true(plan.ops[k].peer == 0 || plan.ops[k].peer == 5);
	plan_done(&plan);
	assert_string_equal(plan_skip_name(PLAN_SKIP_VNI), "vni");
	assert_string_equal(plan_skip_name(PLAN_SKIP_NO_VTEP_MAC), "no-vtep-mac");
	assert_string_equal(plan_skip_name(_PLAN_SKIP_MAX), "");
	(void)state;
}

/*
 * A peer announcing another VNI gets no VXLAN entries (its device drops our
 * packets), in both families; one without a VNI (0) is taken as ours; a
 * peer routed directly (DirectRouting) needs no VXLAN and is programmed.
 * A change of our VNI is a change of parameters: the belief is replanned.
 */
static void test_other_vni(void **state)
{
	struct lease ours = mk_lease("a", 2), other = mk_lease("b", 3), none = mk_lease("c", 4),
		     near = mk_lease("d", 5);
	const struct lease *peers[] = {&ours, &other, &none, &near};
	struct plan_params p = vxlan_params(true);
	struct plan_actual actual[2] = {{0}};
	struct plan plan, upd;
	struct plan_state *st = NULL;
	struct ip_net segment;
	struct plan_peer pp;

	p.vni = 1;
	ours.attrs.vni = 1;
	other.attrs.vni = 2;
	none.attrs.vni = 0;
	near.attrs.vni = 7;
	assert_int_equal(ip_net_parse("203.0.113.5/32", &segment), 0);
	p.fam[0].direct_routing = true;
	p.fam[0].direct_nets = &segment;
	p.fam[0].n_direct_nets = 1;
	assert_int_equal(plan_compute_state(&p, peers, 4, actual, &plan, &st), 0);
	assert_false(plan.peers[0].skipped);
	assert_true(plan.peers[1].skipped);
	assert_int_equal(plan.peers[1].skip, PLAN_SKIP_VNI);
	assert_int_equal(plan.peers[1].want, 0);
	assert_false(plan.peers[2].skipped);
	/* IPv4 routed directly; IPv6 (no direct network) would need VXLAN: skipped there. */
	assert_true(plan.peers[3].direct);
	assert_int_equal(plan.peers[3].want, PLAN_BIT(PLAN_ROUTE, 0));
	assert_int_equal(plan.peers[3].skip, PLAN_SKIP_VNI);
	assert_int_equal(plan.n_skipped, 2);
	for (size_t k = 0; k < plan.n_ops; k++)
		assert_true(plan.ops[k].peer != 1);
	assert_string_equal(plan_state_lease(st, 1)->name, "b");
	assert_string_equal(plan_state_peer(st, 1, &pp), "b");
	assert_int_equal(pp.skip, PLAN_SKIP_VNI);
	plan_done(&plan);

	/* The peer moves to our VNI: planned as a change, now programmed. */
	other.attrs.vni = 1;
	assert_int_equal(plan_update(&p, peers, 4, &st, &upd), 0);
	assert_int_equal(upd.n_ops, 6); /* its neighbour, FDB, route in both families */
	assert_int_equal(upd.n_skipped, 1);
	plan_state_peer(st, 1, &pp);
	assert_false(pp.skipped);
	plan_done(&upd);

	/* And back to another VNI, changed alone: skipped again, its entries deleted. */
	other.attrs.vni = 3;
	assert_int_equal(plan_update(&p, peers, 4, &st, &upd), 0);
	plan_state_peer(st, 1, &pp);
	assert_true(pp.skipped);
	assert_int_equal(pp.skip, PLAN_SKIP_VNI);
	assert_int_equal(upd.n_skipped, 2);
	assert_int_equal(upd.n_ops, 6);
	for (size_t k = 0; k < upd.n_ops; k++)
		assert_int_equal(upd.ops[k].action, PLAN_DELETE);
	plan_done(&upd);

	/* Our VNI becomes 3: the parameters changed, every peer is replanned. */
	p.vni = 3;
	assert_int_equal(plan_update(&p, peers, 4, &st, &upd), 0);
	plan_state_peer(st, 0, &pp);
	assert_int_equal(pp.skip, PLAN_SKIP_VNI);
	plan_state_peer(st, 1, &pp);
	assert_false(pp.skipped);
	plan_done(&upd);
	plan_state_free(st);
	(void)state;
}

static void test_peer_without_family(void **state)
{
	struct lease a = mk_lease("a", 2);
	const struct lease *peers[] = {&a};
	struct plan_params p = vxlan_params(true);
	struct plan_actual actual[2] = {{0}};
	struct plan plan;

	a.has_subnet6 = false; /* an IPv4-only node in a dual-stack cluster */
	assert_int_equal(plan_compute(&p, peers, 1, actual, &plan), 0);
	assert_int_equal(plan.n_ops, 3);
	assert_false(plan.peers[0].skipped);
	plan_done(&plan);
	(void)state;
}

/*
 * Two flannel networks on one host: a vxlan one on 198.18.0.0/16 owns every
 * route on its device and routes of protocol 63 elsewhere only inside its
 * network; the host-gw network's 198.19.0.0/16 routes on the external
 * interface are left alone, in the diff and in notifications.
 */
static void test_other_network_routes(void **state)
{
	struct lease a = mk_lease("node-a", 2);
	const struct lease *peers[] = {&a};
	struct plan_params p = vxlan_params(false);
	struct plan_actual actual[2] = {{0}};
	_cleanup_(plan_state_freep) struct plan_state *st = NULL;
	struct route_spec routes[3];
	struct nl_event ev = {.kind = NL_EVENT_ROUTE, .proto = NL_PROTO_FLANNEL};
	struct plan plan;
	char s[IP_NET_STRLEN];

	p.fam[0].has_network = true;
	assert_int_equal(ip_net_parse("198.18.0.0/16", &p.fam[0].network), 0);
	/* The other network's route, a stale one of ours off the device, one on it. */
	for (size_t k = 0; k < 3; k++)
		routes[k] = (struct route_spec){.family = AF_INET,
						.ifindex = k < 2 ? EXT : DEV,
						.proto = NL_PROTO_FLANNEL,
						.type = NL_ROUTE_UNICAST,
						.table = NL_TABLE_MAIN};
	assert_int_equal(ip_net_parse("198.19.5.0/24", &routes[0].dst), 0);
	assert_int_equal(ip_addr_parse("203.0.113.5", &routes[0].gw), 0);
	assert_int_equal(ip_net_parse("198.18.6.0/24", &routes[1].dst), 0);
	assert_int_equal(ip_addr_parse("203.0.113.6", &routes[1].gw), 0);
	assert_int_equal(ip_net_parse("10.9.0.0/24", &routes[2].dst), 0);
	routes[2].proto = 4; /* static, but on our device */
	actual[0].routes = routes;
	actual[0].n_routes = 3;

	assert_int_equal(plan_compute_state(&p, peers, 1, actual, &plan, &st), 0);
	assert_int_equal(plan.n_stale, 2);
	for (size_t k = 0; k < plan.n_ops; k++) {
		if (plan.ops[k].action != PLAN_DELETE)
			continue;
		fmt_net(&plan.ops[k].route.dst, s);
		assert_true(strcmp(s, "198.18.6.0/24") == 0 || strcmp(s, "10.9.0.0/24") == 0);
	}
	plan_done(&plan);

	assert_true(plan_route_is_ours(&p.fam[0], NL_PROTO_FLANNEL, &routes[1]));
	assert_false(plan_route_is_ours(&p.fam[0], NL_PROTO_FLANNEL, &routes[0]));
	/* The other network's route, added or deleted, is no business of ours. */
	ev.route = routes[0];
	assert_int_equal(plan_classify_event(st, &ev), PLAN_EVENT_IGNORE);
	ev.deleted = true;
	assert_int_equal(plan_classify_event(st, &ev), PLAN_EVENT_IGNORE);
	/* A route of protocol 63 inside our network that we do not want is. */
	ev.route = routes[1];
	ev.deleted = false;
	assert_int_equal(plan_classify_event(st, &ev), PLAN_EVENT_FOREIGN);
	/* Without a network every route of protocol 63 is ours (one network per host). */
	p.fam[0].has_network = false;
	assert_true(plan_route_is_ours(&p.fam[0], NL_PROTO_FLANNEL, &routes[0]));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vxlan_from_scratch),
		cmocka_unit_test(test_unchanged_is_no_op),
		cmocka_unit_test(test_stale_and_changed),
		cmocka_unit_test(test_route_differences_replace),
		cmocka_unit_test(test_direct_routing),
		cmocka_unit_test(test_hostgw_dual_stack),
		cmocka_unit_test(test_skipped_peers),
		cmocka_unit_test(test_other_vni),
		cmocka_unit_test(test_peer_without_family),
		cmocka_unit_test(test_other_network_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
