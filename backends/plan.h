/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure planner shared by the vxlan, host-gw and wireguard backends:
 * from the peer leases and the entries dumped from the kernel (and the
 * WireGuard device), the ordered list of operations that makes the datapath
 * match the leases.
 *
 * Desired entries per peer and family (upstream §4.2, §4.6, §4.7):
 *   vxlan:   neighbour  <subnet network addr> lladdr <VtepMAC> dev flannel.N permanent
 *            FDB        <VtepMAC> dst <public ip> dev flannel.N self permanent
 *            route      <subnet> via <subnet network addr> dev flannel.N onlink
 *   vxlan + DirectRouting, peer's public IP in a connected subnet of the
 *   external interface, and host-gw:
 *            route      <subnet> via <public ip> dev <external interface>
 *   wireguard:
 *            peer       <PublicKey> endpoint <public ip>:<Port> allowed-ips <subnet>
 *                       on flannel-wg (IPv4) / flannel-wg-v6 (IPv6)
 * Routes carry the protocol given in the parameters. A family may also want
 * one route of its device regardless of peers (wireguard: <Network> dev
 * flannel-wg), planned like the others but belonging to no peer.
 *
 * A peer's "link key" is what identifies it below the IP layer: its VtepMAC
 * (vxlan) or its WireGuard public key. Two peers sharing one conflict.
 *
 * Actual entries are those the caller dumped as ours: everything on our
 * device, and routes elsewhere only with our protocol and, when the family
 * has a network, inside it (another flannel network on the same host owns
 * the rest; plan_route_is_ours). The diff is a
 * sort-merge by key (neighbour: IP; FDB: MAC + remote; route: prefix +
 * metric; peer: public key). Adds/replaces come first in the order peer,
 * neighbour, FDB, route; deletes of stale entries follow in reverse order
 * (route, FDB, neighbour, peer), so the kernel never routes to a gateway it
 * cannot resolve, and a peer whose key changed hands its allowed IPs to the
 * new key before the old one is removed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/core/macro.h"
#include "lib/json/lease.h"
#include "lib/netlink/netlink.h"
#include "wg_proto.h"

enum plan_kind {
	PLAN_NEIGH,
	PLAN_FDB,
	PLAN_ROUTE,
	PLAN_PEER, /* a WireGuard peer */
	_PLAN_KIND_MAX,
};

enum plan_action {
	PLAN_REPLACE, /* add, or replace a different entry with the same key */
	PLAN_DELETE,
};

/* Bits of struct plan_peer masks: kind + _PLAN_KIND_MAX * (0 for IPv4, 1 for IPv6). */
#define PLAN_BIT(kind, v6) (1u << ((kind) + _PLAN_KIND_MAX * ((v6) ? 1 : 0)))

struct plan_op {
	enum plan_action action;
	enum plan_kind kind;
	int family;
	ssize_t peer; /* index into the peers, -1 for a stale entry or the device route */
	union {
		struct neigh_spec neigh;
		struct fdb_spec fdb;
		struct route_spec route;
		struct wg_peer wg;
	};
};

struct plan_family {
	bool enabled;
	bool vxlan;	     /* VXLAN entries on dev_ifindex */
	bool wg;	     /* WireGuard peers on dev_ifindex; neither: host-gw routes */
	int dev_ifindex;     /* flannel.<VNI>, flannel-wg, ...; 0: none (host-gw) */
	int ext_ifindex;     /* the external interface */
	bool direct_routing; /* vxlan only */
	const struct ip_net *direct_nets; /* connected subnets of the external interface */
	size_t n_direct_nets;
	uint32_t route_priority; /* 0 for IPv4; 1024 (the kernel's default) for IPv6 */
	/* Our Network: a route not on dev_ifindex is ours only inside it. */
	bool has_network;
	struct ip_net network;
	/* wireguard: what every peer gets, and the port of a peer that names none. */
	uint16_t wg_port;
	uint16_t wg_keepalive;
	uint8_t wg_psk[WG_KEY_LEN];
	/* The device's own route (no peer's), wanted as long as the family is. */
	bool has_dev_route;
	struct route_spec dev_route;
};

struct plan_params {
	const char *backend_type;  /* leases of another type are skipped */
	uint32_t vni;		   /* vxlan: a peer announcing another VNI is skipped; 0: any */
	uint8_t proto;		   /* rtm_protocol of our routes */
	struct plan_family fam[2]; /* [0] IPv4, [1] IPv6 */
};

/* What was dumped from the kernel, per family ([0] IPv4, [1] IPv6). */
struct plan_actual {
	const struct neigh_spec *neighs;
	size_t n_neighs;
	const struct fdb_spec *fdbs;
	size_t n_fdbs;
	const struct route_spec *routes;
	size_t n_routes;
	const struct wg_peer *wg_peers; /* ifindex: the device's */
	size_t n_wg_peers;
};

/* Why a peer is not programmed. */
enum plan_skip {
	PLAN_SKIP_NONE,
	PLAN_SKIP_BACKEND_TYPE, /* its backend-type is not ours */
	PLAN_SKIP_NO_VTEP_MAC,	/* vxlan without a VtepMAC in its backend-data */
	/* vxlan: its backend-data announces another VNI than ours. Our VXLAN
	 * packets carry our VNI, which its device does not accept. */
	PLAN_SKIP_VNI,
	PLAN_SKIP_CONFLICT,	 /* its subnet or link key is another peer's (first by name wins) */
	PLAN_SKIP_NO_PUBLIC_KEY, /* wireguard without a PublicKey in its backend-data */
	_PLAN_SKIP_MAX,
};

struct plan_peer {
	unsigned want;	  /* PLAN_BIT()s of the entries this peer should have */
	unsigned missing; /* of those, the ones the kernel lacks (an op is planned) */
	bool direct;	  /* IPv4 via DirectRouting */
	bool direct6;
	bool skipped;	     /* not programmable (in a family): skip says why */
	enum plan_skip skip; /* the first reason found */
};

struct plan {
	struct plan_op *ops;
	size_t n_ops;
	/*
	 * One per input peer (missing: the entries an op is planned for); NULL
	 * (n_peers 0) when plan_update planned only the changed peers: the
	 * status of every peer is then in the state (plan_state_peer).
	 */
	struct plan_peer *peers;
	size_t n_peers;
	size_t n_planned; /* peers planned: all, or with plan_update the changed ones */
	size_t n_desired;
	size_t n_stale;	       /* delete ops */
	size_t n_skipped;      /* peers */
	uint64_t desired_hash; /* of the desired entries: equal hashes, equal desires */
};

/*
 * peers: sorted by name (lease_set_snapshot), our own lease excluded.
 * Returns 0 or -ENOMEM; ret is owned by the caller (plan_done).
 */
int plan_compute(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		 const struct plan_actual actual[2], struct plan *ret);
void plan_done(struct plan *p);

/*
 * The belief: the desired entries of the last plan, per peer, indexed by
 * subnet address and link key. Once every op of that plan has succeeded, and
 * while nothing foreign has been seen, it is what the kernel holds: the next
 * plan can be computed against it instead of dumps (plan_update), and
 * notifications can be told apart from the echoes of our own writes
 * (plan_classify_event).
 */
struct plan_state;

void plan_state_free(struct plan_state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan_state *, plan_state_free)

/* plan_compute, and the desired state of the plan in *ret_state. */
int plan_compute_state(const struct plan_params *p, const struct lease *const *peers,
		       size_t n_peers, const struct plan_actual actual[2], struct plan *ret,
		       struct plan_state **ret_state);

/*
 * The per-peer view of a state, computed by nobody until asked for (the
 * status pages): the peers of the plan that made or last updated the state,
 * in the order they were given (k < plan_state_n_peers). plan_state_peer
 * returns the peer's name (borrowed from the state) and its status: want,
 * direct, skipped, and as missing the entries marked by
 * plan_state_mark_missing (0 in a state fresh from a plan).
 */
size_t plan_state_n_peers(const struct plan_state *s);
const char *plan_state_peer(const struct plan_state *s, size_t k, struct plan_peer *ret);
/* The lease peer k was planned with (held by the state: lease_share). */
const struct lease *plan_state_lease(const struct plan_state *s, size_t k);
/* The status of the peer named name, as plan_state_peer; false when the state has no such peer. */
bool plan_state_find(const struct plan_state *s, const char *name, struct plan_peer *ret);
/* The op for these PLAN_BIT()s of peer k (index into the plan's peers) failed. */
void plan_state_mark_missing(struct plan_state *s, size_t k, unsigned bits);

/* At most this many changed peers are planned one by one. */
#define PLAN_PER_PEER_MAX 64

/*
 * Plan against the belief *state instead of dumps and make *state the new
 * desired state. When at most PLAN_PER_PEER_MAX peers changed (by name and
 * lease) and none of them shares a subnet address or link key with another
 * peer, only those are planned, with the result plan_compute would give;
 * otherwise the whole set is planned against the belief as if dumped. On
 * error *state is freed and set to NULL (plan from dumps next time).
 */
int plan_update(const struct plan_params *p, const struct lease *const *peers, size_t n_peers,
		struct plan_state **state, struct plan *ret);
/*
 * plan_update with a hint: changed names the peers added, changed or removed
 * since the plan that made *state (lease_set_changes; a superset is fine,
 * duplicates and names of no peer too; our own name is no peer). Then the
 * changed peers are found by binary search — peers must be sorted by name —
 * and the others are not looked at. Without a hint (changed NULL), or when
 * it cannot be used (more than PLAN_PER_PEER_MAX changes, a shared subnet or
 * link key, a hint that misses a change), as plan_update.
 */
int plan_update_changed(const struct plan_params *p, const struct lease *const *peers,
			size_t n_peers, const char *const *changed, size_t n_changed,
			struct plan_state **state, struct plan *ret);

/* Is a route (not of protocol "kernel") on dev_ifindex (when > 0), or of our protocol elsewhere, ours? */
bool plan_route_is_ours(const struct plan_family *f, uint8_t proto, const struct route_spec *r);

enum plan_event_class {
	PLAN_EVENT_IGNORE,  /* not ours to manage (learnt FDB, dynamic neighbour, other table) */
	PLAN_EVENT_ECHO,    /* a wanted entry as wanted, or the removal of an unwanted one */
	PLAN_EVENT_FOREIGN, /* anything else: the belief no longer holds */
};

/* A notification about our device(s) or routes, against the belief. */
enum plan_event_class plan_classify_event(const struct plan_state *s, const struct nl_event *ev);

/*
 * Does the kernel, dumped as actual (as for plan_compute), hold exactly the
 * belief: every wanted entry as wanted and nothing stale of ours, with the
 * same parameters? A lookup per dumped entry, no plan and no allocation:
 * the periodic drift check, which plans (plan_update) only when this fails.
 */
bool plan_state_matches(const struct plan_state *s, const struct plan_params *p,
			const struct plan_actual actual[2]);

const char *plan_kind_name(enum plan_kind k);
/* "backend-type", "no-vtep-mac", "vni", "conflict", "no-public-key" (metric labels); "" for none. */
const char *plan_skip_name(enum plan_skip s);
