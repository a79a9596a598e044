/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one adapter to the kernel's rtnetlink, through libnl-route-3. This is
 * the only module that includes libnl headers: everything else sees our own
 * small structs and -errno.
 *
 * Handles are single-threaded (one request socket each). Writes are
 * idempotent: adds use NLM_F_CREATE|NLM_F_REPLACE, and a delete of something
 * that is already gone succeeds. Dumps are filtered to what the caller asks
 * for and restarted when the kernel reports NLM_F_DUMP_INTR.
 *
 * Ownership: routes that we add outside our own device carry the route
 * protocol NL_PROTO_FLANNEL, so they are provably ours (see below).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/ipnet.h"

/*
 * rtm_protocol of every route we install. 0x3f (63) is unassigned in the
 * kernel's <linux/rtnetlink.h> and in iproute2's /etc/iproute2/rt_protos
 * (assigned: 0-4, 8-18, 42, 99, 186-189, 192). `ip route` shows it as
 * "proto 63"; add "63 flannel" to /etc/iproute2/rt_protos.d/ for a name.
 */
#define NL_PROTO_FLANNEL 63
#define NL_PROTO_KERNEL	 2
#define NL_TABLE_MAIN	 254

enum nl_route_type {
	NL_ROUTE_UNICAST,
	NL_ROUTE_BLACKHOLE,
	NL_ROUTE_OTHER, /* local, broadcast, multicast, ...: only ever seen in dumps */
};

struct route_spec {
	int family;
	struct ip_net dst;	/* masked; prefixlen 0 for a default route */
	struct ip_addr gw;	/* family 0: no gateway */
	struct ip_addr prefsrc; /* filled by dumps and nl_route_get; never sent */
	int ifindex;		/* 0: none */
	bool onlink;
	uint8_t proto;
	uint8_t type;	   /* enum nl_route_type */
	uint32_t table;	   /* 0 means main */
	uint32_t priority; /* metric; IPv6 routes added without one get 1024 */
};

/* Neighbour states, as NUD_* of <linux/neighbour.h>. */
#define NL_NUD_PERMANENT 0x80
#define NL_NUD_NOARP	 0x40

struct neigh_spec {
	int ifindex;
	struct ip_addr ip;
	uint8_t mac[6];
	bool has_mac;
	uint16_t state; /* NL_NUD_*; adds always use NL_NUD_PERMANENT */
};

/* A VXLAN forwarding entry "bridge fdb ... dev X dst IP self permanent". */
struct fdb_spec {
	int ifindex;
	uint8_t mac[6];
	struct ip_addr dst; /* family 0: no remote (not one of ours) */
	uint16_t state;
};

struct link_info {
	char name[IFNAMSIZ];
	int ifindex;
	uint32_t mtu;
	bool up;
	bool has_mac;
	uint8_t mac[6];
	char kind[16]; /* "vxlan", "dummy", ...; "" when the kernel gives none */
};

/* A VXLAN device, as created and as read back. */
struct vxlan_link {
	char name[IFNAMSIZ];
	int ifindex;
	uint32_t vni;
	struct ip_addr local; /* family 0: none */
	uint16_t port;	      /* 0: kernel default (8472) when creating */
	bool learning;
	bool gbp;
	int underlay_ifindex;
	bool has_mac;
	uint8_t mac[6];
	uint32_t mtu;
	bool up;
};

/* Address flags, as IFA_F_* of <linux/if_addr.h>. */
#define NL_IFA_F_TEMPORARY  0x01
#define NL_IFA_F_DEPRECATED 0x20
#define NL_IFA_F_TENTATIVE  0x40
#define NL_IFA_F_PERMANENT  0x80

/* Scopes, as RT_SCOPE_*. */
#define NL_SCOPE_UNIVERSE 0
#define NL_SCOPE_LINK	  253
#define NL_SCOPE_HOST	  254

struct addr_info {
	int ifindex;
	struct ip_net addr; /* the local address with its prefix length (host bits kept) */
	uint8_t scope;
	uint32_t flags; /* NL_IFA_F_* */
};

/* Netlink operations by kind, for metrics and for "zero kernel writes" checks. */
enum nl_op {
	NL_OP_DUMP,
	NL_OP_GET,
	NL_OP_LINK_ADD,
	NL_OP_LINK_DEL,
	NL_OP_LINK_SET,
	NL_OP_ADDR_ADD,
	NL_OP_ADDR_DEL,
	NL_OP_ROUTE_REPLACE,
	NL_OP_ROUTE_DEL,
	NL_OP_NEIGH_REPLACE,
	NL_OP_NEIGH_DEL,
	NL_OP_FDB_REPLACE,
	NL_OP_FDB_DEL,
	_NL_OP_MAX,
};

struct nl_counters {
	uint64_t ops[_NL_OP_MAX];
	uint64_t errors;
};

/* "dump", "link_add", ... */
const char *nl_op_name(enum nl_op op);
/* Sum of all write kinds (everything but dumps and gets). */
uint64_t nl_counters_writes(const struct nl_counters *c);

/* libnl's -NLE_* → -errno (pure). 0 stays 0, positive values pass through. */
int nl_errno(int nle);

struct nlh;

int nlh_new(struct nlh **ret);
void nlh_free(struct nlh *h);
const struct nl_counters *nlh_counters(const struct nlh *h);

/* Links. -ENODEV when there is no such link. */
int nl_link_get_by_name(struct nlh *h, const char *name, struct link_info *ret);
int nl_link_get_by_index(struct nlh *h, int ifindex, struct link_info *ret);
/* All links; *ret is malloc'ed (free()). */
int nl_link_list(struct nlh *h, struct link_info **ret, size_t *ret_n);
int nl_link_delete(struct nlh *h, int ifindex);
/*
 * Create a link of a kind without kind-specific data (e.g. "wireguard"),
 * exactly (NLM_F_EXCL): -EEXIST when the name is taken, -EOPNOTSUPP when
 * the kernel does not know the kind.
 */
int nl_link_add_kind(struct nlh *h, const char *name, const char *kind, uint32_t mtu,
		     int *ret_ifindex);
/* Change what is given: mtu when > 0, mac when non-NULL, up when set_up. */
int nl_link_update(struct nlh *h, int ifindex, uint32_t mtu, const uint8_t *mac, bool set_up);

/* -ENODEV when absent, -EMEDIUMTYPE when the link is not a VXLAN device. */
int nl_vxlan_get(struct nlh *h, const char *name, struct vxlan_link *ret);
/* Create exactly (NLM_F_EXCL): -EEXIST when the name is taken. Fills ret_ifindex. */
int nl_vxlan_add(struct nlh *h, const struct vxlan_link *spec, int *ret_ifindex);

/* Addresses of a family (AF_UNSPEC: both) on ifindex (0: all links). */
int nl_addr_list(struct nlh *h, int family, int ifindex, struct addr_info **ret, size_t *ret_n);
int nl_addr_add(struct nlh *h, int ifindex, const struct ip_net *addr);
int nl_addr_del(struct nlh *h, int ifindex, const struct ip_net *addr);

/*
 * Routes of the main table of one family that are ours: on ifindex (when
 * > 0; routes of protocol "kernel" excluded) or with protocol proto (when
 * > 0). Only unicast routes.
 */
int nl_route_list_ours(struct nlh *h, int family, int ifindex, uint8_t proto,
		       struct route_spec **ret, size_t *ret_n);
/* Every route of the main table of one family (for default-route lookup). */
int nl_route_list_main(struct nlh *h, int family, struct route_spec **ret, size_t *ret_n);
/* RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE; table main when 0. */
int nl_route_replace(struct nlh *h, const struct route_spec *r);
int nl_route_del(struct nlh *h, const struct route_spec *r);
/* The kernel's route to dst (ip route get): oif, gateway, prefsrc. */
int nl_route_get(struct nlh *h, const struct ip_addr *dst, struct route_spec *ret);

/* Neighbours of one family on ifindex. */
int nl_neigh_list(struct nlh *h, int family, int ifindex, struct neigh_spec **ret, size_t *ret_n);
/* Permanent entry, NLM_F_CREATE|NLM_F_REPLACE. */
int nl_neigh_replace(struct nlh *h, const struct neigh_spec *n);
int nl_neigh_del(struct nlh *h, const struct neigh_spec *n);

/* FDB entries (AF_BRIDGE, NTF_SELF) on the VXLAN device ifindex. */
int nl_fdb_list(struct nlh *h, int ifindex, struct fdb_spec **ret, size_t *ret_n);
int nl_fdb_replace(struct nlh *h, const struct fdb_spec *f);
int nl_fdb_del(struct nlh *h, const struct fdb_spec *f);

/*
 * Notifications: a non-blocking socket subscribed to links, addresses,
 * IPv4/IPv6 routes and neighbours. Put nl_monitor_fd() on the event loop
 * and call nl_monitor_read() when it is readable; cb gets one event per
 * message. An overrun of the socket buffer (events lost) is reported as
 * NL_EVENT_OVERRUN: the receiver must resync everything.
 */
enum nl_event_kind {
	NL_EVENT_LINK,
	NL_EVENT_ADDR,
	NL_EVENT_ROUTE,
	NL_EVENT_NEIGH,
	NL_EVENT_OVERRUN,
};

struct nl_event {
	enum nl_event_kind kind;
	bool deleted;
	int family; /* AF_BRIDGE for FDB entries */
	int ifindex;
	char ifname[IFNAMSIZ]; /* links only */
	uint8_t proto;	       /* routes only */
	uint8_t scope;	       /* addresses only: NL_SCOPE_* */
	uint32_t table;	       /* routes only */
	/*
	 * The entry itself, so that a receiver can tell its own writes (echoes)
	 * from changes made by others: routes fill route (as a dump would),
	 * neighbours (family AF_INET/AF_INET6) neigh, and FDB entries
	 * (AF_BRIDGE; is_fdb_self when NTF_SELF, as ours are) fdb.
	 */
	union {
		struct route_spec route;
		struct neigh_spec neigh;
		struct fdb_spec fdb;
	};
	bool is_fdb_self;
};

typedef void (*nl_event_fn)(const struct nl_event *ev, void *userdata);

struct nl_monitor;

int nl_monitor_new(struct nl_monitor **ret);
void nl_monitor_free(struct nl_monitor *m);
int nl_monitor_fd(const struct nl_monitor *m);
/* Drain the socket; returns the number of events delivered or -errno. */
int nl_monitor_read(struct nl_monitor *m, nl_event_fn cb, void *userdata);
