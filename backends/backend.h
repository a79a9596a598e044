/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend interface the daemon uses: leases in, kernel state out.
 *
 *   backend_new()         parse the Backend JSON for the type ("vxlan", "host-gw")
 *   backend_register()    ensure the device(s); the lease attributes to publish
 *                         (type, VNI, VtepMAC(s)) and the MTU for subnet.env
 *   backend_set_lease()   our own lease: the device address(es)
 *   backend_reconcile()   make the kernel match the peers
 *   backend_reconcile_changed()  the same, told which peers changed
 *   backend_invalidate()  the next reconcile is a full pass (periodic resync)
 *   backend_event_fd()    a netlink notification fd for the event loop;
 *   backend_handle_events()  > 0 when something of ours changed: reconcile soon
 *   backend_status()      drift counters, netlink ops, the number of peers
 *   backend_peer_status() one peer's entries wanted and present, computed when asked
 *   backend_free()        forget; the datapath stays (SIGTERM leaves routes)
 *
 * Single-threaded. A full pass (dump → plan → apply) recreates a deleted
 * device and replays every peer; an unchanged kernel costs dumps only, no
 * writes. After a full pass whose every op succeeded, the backend trusts
 * its belief of the kernel (the desired state it applied): the following
 * reconciles plan only the peers that changed against it, with no dumps,
 * and notifications that merely echo our own writes trigger nothing. A
 * full pass comes at start, after a foreign change (any other notification
 * about our device or routes, a lost notification), after a failed op, and
 * after backend_invalidate().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/loop.h"
#include "lib/json/lease.h"
#include "lib/netlink/iface.h"
#include "lib/netlink/netlink.h"

struct backend;

struct backend_config {
	const char *type; /* "vxlan", "host-gw" (lower case, as netconf) */
	const char *json; /* the raw Backend object; NULL for "{}" */
	size_t json_len;
	const struct ext_iface *ext; /* copied */
	/* The event loop, for backends that run programs (extension); may be NULL. */
	struct loop *loop;
	bool ipv4;
	bool ipv6;
	/*
	 * Our Network / IPv6Network (netconf). Routes of protocol 63 that are
	 * not on our own device are ours only inside them, so that several
	 * flannel networks can share a host; none: every such route is ours.
	 */
	bool has_network;
	struct ip_net network;
	bool has_network6;
	struct ip_net network6;
	/* The VtepMAC(s) found in our node's annotations: kept across restarts. */
	bool has_mac;
	uint8_t mac[6];
	bool has_mac6;
	uint8_t mac6[6];
};

/* Entries a peer has, per family: bits of backend_peer_status.want/have. */
#define BACKEND_NEIGH4 (1u << 0)
#define BACKEND_FDB4   (1u << 1)
#define BACKEND_ROUTE4 (1u << 2)
#define BACKEND_PEER4  (1u << 3) /* a WireGuard peer */
#define BACKEND_NEIGH6 (1u << 4)
#define BACKEND_FDB6   (1u << 5)
#define BACKEND_ROUTE6 (1u << 6)
#define BACKEND_PEER6  (1u << 7)

/* Why a peer is not programmed (the planner's reasons, backends/plan.h). */
enum backend_skip {
	BACKEND_SKIP_NONE,
	BACKEND_SKIP_BACKEND_TYPE,  /* its backend-type is not ours */
	BACKEND_SKIP_NO_VTEP_MAC,   /* vxlan without a VtepMAC */
	BACKEND_SKIP_VNI,	    /* vxlan announcing another VNI than ours */
	BACKEND_SKIP_CONFLICT,	    /* its subnet or VtepMAC / PublicKey is another peer's */
	BACKEND_SKIP_NO_PUBLIC_KEY, /* wireguard without a PublicKey */
	_BACKEND_SKIP_MAX,
};
/* A metric label: "backend-type", "no-vtep-mac", "vni", "conflict", "no-public-key"; "" for none. */
const char *backend_skip_name(enum backend_skip reason);

struct backend_peer_status {
	const char *name; /* borrowed, valid until the next reconcile */
	unsigned want;	  /* BACKEND_* entries this peer should have */
	unsigned have;	  /* of those, present after the last reconcile */
	bool direct;	  /* IPv4 via DirectRouting */
	bool direct6;
	bool skipped; /* not programmable: skip_reason says why */
	enum backend_skip skip_reason;
	/* -errno with which the kernel refuses some of its entries (refused_bits). */
	int refused;
	unsigned refused_bits;
	/* extension: why its last command failed (refused set), borrowed; else NULL. */
	const char *problem;
};

struct backend_status {
	const char *type;
	uint64_t reconciles;
	uint64_t reconcile_failures;
	uint64_t entries_added;	  /* replace ops that succeeded */
	uint64_t entries_removed; /* stale entries deleted */
	uint64_t op_errors;
	uint64_t drift_found;	 /* ops needed while the desired state had not changed */
	uint64_t drift_repaired; /* of those, succeeded */
	uint64_t devices_created;
	uint64_t full_passes;	     /* dump → plan → apply */
	uint64_t checks;	     /* backend_check(): dump → compare with the belief */
	uint64_t incremental_passes; /* planned against the belief, no dumps */
	uint64_t events_echo;	     /* notifications of our own writes: ignored */
	uint64_t events_foreign;     /* notifications that forced a full pass */
	int last_error;		     /* -errno of the last failed reconcile, 0 after a success */
	size_t n_desired;	     /* kernel entries wanted */
	size_t n_skipped;	     /* peers */
	size_t n_skipped_by[_BACKEND_SKIP_MAX]; /* of those, by reason */
	/* Peers with an entry the kernel refuses (backend_op_refused): retried,
	 * reported, and not waited for by readiness. */
	size_t n_refused;
	/* -errno of the last failed reconcile other than such refusals (a dump,
	 * the device, a transient error), 0 when there was none: the kernel
	 * holds every entry it accepts. */
	int last_blocking_error;
	size_t n_peers; /* of the last reconcile: backend_peer_status */
	struct nl_counters nl;
};

/* -EINVAL with err set for bad options, -EOPNOTSUPP for an unknown type. */
int backend_new(struct nlh *h, const struct backend_config *cfg, struct backend **ret,
		struct errmsg *err);
/* Leaves devices, routes, neighbours and FDB entries in place. NULL is fine. */
void backend_free(struct backend *b);

const char *backend_type(const struct backend *b);
int backend_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
		     struct errmsg *err);
int backend_set_lease(struct backend *b, const struct lease *own, struct errmsg *err);
/*
 * peers: sorted by name (lease_set_snapshot), our own lease excluded (and
 * skipped if present). Returns the number of kernel writes, or the first
 * error (every op is still attempted; the next pass retries).
 */
int backend_reconcile(struct backend *b, const struct lease *const *peers, size_t n_peers);
/*
 * backend_reconcile with the names of the peers added, changed or removed
 * since the previous reconcile call (lease_set_changes; it must name every
 * change, a superset is fine), or NULL when unknown. An incremental pass
 * then looks at those peers only; a full pass ignores the hint.
 */
int backend_reconcile_changed(struct backend *b, const struct lease *const *peers, size_t n_peers,
			      const char *const *changed, size_t n_changed);

/*
 * Does -errno of an entry's write mean the kernel refuses this entry as
 * specified (a next hop not on the link, an invalid address), so that
 * retrying soon will not help? Transient errors (no memory, no buffer
 * space, a busy lock) and errors of the whole backend are not refusals.
 */
bool backend_op_refused(int r);

/* Forget the belief: the next reconcile dumps the kernel (drift repair). */
void backend_invalidate(struct backend *b);

/*
 * The periodic drift check: dump what is ours and compare it with the
 * belief, without planning. 0 when the kernel holds exactly what the last
 * reconcile programmed; 1 when it does not, or when there is no belief to
 * compare with (then the belief is dropped: the next reconcile is a full
 * pass that repairs it); <0 when the dumps failed (the same).
 */
int backend_check(struct backend *b);

int backend_event_fd(const struct backend *b);
/* Read pending notifications: 1 when a reconcile is needed, 0 when not, <0 on error. */
int backend_handle_events(struct backend *b);

void backend_status(const struct backend *b, struct backend_status *ret);
/*
 * Peer k < backend_status().n_peers of the last reconcile, in the order it
 * was given (sorted by name), our own lease excluded. Derived from the
 * backend's desired state on each call, so that a reconcile does no
 * per-peer status work: have = want minus the entries whose op failed.
 */
void backend_peer_status(const struct backend *b, size_t k, struct backend_peer_status *ret);
/* The same for the peer named name (binary search); -ENOENT when the last reconcile had none. */
int backend_peer_find(const struct backend *b, const char *name, struct backend_peer_status *ret);
