/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the backends: the state every backend shares (struct backend), the
 * small ops table each backend type implements, and the table of types.
 * The daemon never includes this; it uses backend.h.
 */
#pragma once

#include "backend.h"
#include "plan.h"

struct backend_ops {
	const char *type;
	/* Parse the Backend JSON, allocate b->impl. */
	int (*init)(struct backend *b, const char *json, size_t len, struct errmsg *err);
	void (*done)(struct backend *b);
	int (*register_)(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
			 struct errmsg *err);
	/* Our own lease is known (b->own): addresses. */
	int (*set_lease)(struct backend *b, struct errmsg *err);
	/* Before each pass: ensure devices and addresses; fill the planner's parameters. */
	int (*prepare)(struct backend *b, struct plan_params *ret);
	/* Is this notification about something of ours? */
	bool (*owns_event)(const struct backend *b, const struct nl_event *ev);
	/* Families with plan_family.wg: the device's peers (ifindex set), and one change. */
	int (*dump_peers)(struct backend *b, int fi, struct wg_peer **ret, size_t *ret_n);
	int (*apply_peer)(struct backend *b, int fi, const struct wg_peer *p, bool remove);
	/* A backend without kernel state of its own (extension): its own
	 * reconciler instead of the planner's; peers without our own lease. */
	int (*reconcile)(struct backend *b, const struct lease *const *peers, size_t n_peers);
	/* With reconcile: its peers for the status view (sorted by name). */
	size_t (*n_peers)(const struct backend *b);
	void (*peer_status)(const struct backend *b, size_t k, struct backend_peer_status *ret);
};

struct backend {
	const struct backend_ops *ops;
	void *impl;
	struct nlh *nl;	   /* borrowed */
	struct loop *loop; /* borrowed, may be NULL */
	struct ext_iface ext;
	bool ipv4, ipv6;
	bool has_network[2]; /* [0] IPv4, [1] IPv6 */
	struct ip_net network[2];
	bool has_mac, has_mac6;
	uint8_t mac[6], mac6[6];
	struct lease *own; /* ours (lease_dup), NULL until backend_set_lease */
	struct nl_monitor *monitor;
	bool resync;
	/* Reconciler state. */
	bool last_ok;
	uint64_t last_hash;
	/* The desired state of the last pass: the kernel as we believe it
	 * while belief_ok; otherwise (a failed op, a foreign notification,
	 * backend_invalidate) the next pass must be a full one, and the state
	 * only serves the per-peer status view. params: of the last full pass. */
	struct plan_state *belief;
	bool belief_ok;
	struct plan_params params;
	struct backend_status status;
	/* The peers skipped or refused after the last pass, sorted by name:
	 * what the log has reported (once per peer and reason). */
	struct peer_problem *problems;
	size_t n_problems;
};

struct peer_problem {
	char name[LEASE_NAME_MAX];
	enum plan_skip skip;
	unsigned refused_bits; /* PLAN_BIT()s of the refused entries */
	int refused;	       /* -errno */
	char what[96];	       /* the first refused write, "set route to 198.18.2.0/24" */
};

extern const struct backend_ops vxlan_backend_ops;
extern const struct backend_ops hostgw_backend_ops;
extern const struct backend_ops wireguard_backend_ops;
extern const struct backend_ops alloc_backend_ops;
extern const struct backend_ops extension_backend_ops;

/* The connected (masked) subnets of a family on ifindex: the "same L2 segment" test. */
int backend_connected_nets(struct backend *b, int family, int ifindex, struct ip_net **ret,
			   size_t *ret_n);
/* Fill the planner's network of each family (the route ownership rule). */
void backend_params_networks(const struct backend *b, struct plan_params *p);
/* Is a route notification about a route of ours (on dev_ifindex, or protocol 63 in our network)? */
bool backend_owns_route(const struct backend *b, const struct nl_event *ev, int dev_ifindex);
/* Exactly one address of addr's family on the device (IPv6 link-local kept). */
int backend_dev_set_addr(struct nlh *h, int ifindex, const struct ip_net *addr);
/* Free the state of the last pass (the status view then has no peers). */
void backend_forget(struct backend *b);
/* Discard pending notifications: the full pass about to dump sees their effects. */
int backend_drain_events(struct backend *b);
/* Read pending notifications into b->resync (and the belief), as backend_handle_events. */
int backend_read_events(struct backend *b);
