/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choosing the external interface and the public IP(s), as upstream's
 * pkg/ipmatch: --iface (names or IPs, tried in order), --iface-regex
 * (addresses first, then names), --iface-can-reach (the kernel's route to an
 * address), else the interface of the default route (dual-stack: the v4 and
 * v6 default routes must use the same interface); --public-ip(v6) override
 * the advertised address.
 *
 * The selection is pure (iface_select on a struct iface_table snapshot);
 * iface_table_load() and iface_discover() do the netlink I/O.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"

struct nlh;

struct iface_addr {
	struct ip_net addr; /* local address + prefix length */
	uint8_t scope;	    /* NL_SCOPE_* */
	uint32_t flags;	    /* NL_IFA_F_* */
};

struct iface {
	char name[IFNAMSIZ];
	int ifindex;
	uint32_t mtu;
	struct iface_addr *addrs;
	size_t n_addrs;
};

/* A snapshot of the host's interfaces and default routes. */
struct iface_table {
	struct iface *ifaces;
	size_t n_ifaces;
	int default_ifindex;  /* first IPv4 default route of the main table; 0: none */
	int default_ifindex6; /* same for IPv6 */
	/* --iface-can-reach: the kernel's route to that address (filled by the loader). */
	int can_reach_ifindex;
	struct ip_addr can_reach_src;
};

struct iface_request {
	char *const *ifaces; /* --iface, names or IP addresses, in order */
	size_t n_ifaces;
	char *const *regexes; /* --iface-regex, POSIX extended regexes, in order */
	size_t n_regexes;
	bool has_can_reach;
	struct ip_addr can_reach;  /* --iface-can-reach */
	struct ip_addr public_ip;  /* --public-ip (or the node annotation); family 0: none */
	struct ip_addr public_ip6; /* --public-ipv6 */
	bool ipv4;		   /* IPv4 enabled */
	bool ipv6;		   /* IPv6 enabled */
};

struct ext_iface {
	char name[IFNAMSIZ];
	int ifindex;
	uint32_t mtu;
	struct ip_addr iface_addr;  /* the interface's own IPv4 address (family 0 when !ipv4) */
	struct ip_addr iface_addr6; /* the interface's own IPv6 address */
	struct ip_addr ext_addr;    /* public IPv4: --public-ip or iface_addr */
	struct ip_addr ext_addr6;   /* public IPv6 */
};

/*
 * The best usable address of a family on an interface: global or link-local
 * unicast, not deprecated/tentative; global before link-local, permanent
 * before dynamic, non-temporary before temporary, then kernel order.
 * NULL when there is none.
 */
const struct iface_addr *iface_best_addr(const struct iface *i, int family);
const struct iface *iface_table_find_name(const struct iface_table *t, const char *name);
const struct iface *iface_table_find_index(const struct iface_table *t, int ifindex);
/* The interface owning the address ip, or NULL. */
const struct iface *iface_table_find_addr(const struct iface_table *t, const struct ip_addr *ip);

/* Pure: choose. On failure err says why, e.g. "Could not match pattern ...". */
int iface_select(const struct iface_table *t, const struct iface_request *req,
		 struct ext_iface *ret, struct errmsg *err);

void iface_table_done(struct iface_table *t);

/* Netlink I/O: snapshot links, addresses, default routes; resolve can_reach when given. */
int iface_table_load(struct nlh *h, const struct ip_addr *can_reach, struct iface_table *ret);
/* Load, then select. */
int iface_discover(struct nlh *h, const struct iface_request *req, struct ext_iface *ret,
		   struct errmsg *err);
