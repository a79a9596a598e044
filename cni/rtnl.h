/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal rtnetlink client for the static CNI plugin (libnl is not
 * available to it): just what the built-in bridge needs.
 *
 * Two halves. The message builders and parsers are pure: they fill or read
 * a struct rtnl_msg / one netlink message and are unit-tested byte for
 * byte. The socket shell (struct rtnl) sends one request and reads its
 * acknowledgement, or a dump; a socket belongs to the network namespace it
 * was created in, so rtnl_open_in() creates one inside a pod's namespace
 * and returns to ours at once: every later operation on it acts in the pod
 * namespace while this process stays in the host's.
 */
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/ipnet.h"
#include "lib/core/macro.h"

#define RTNL_MSG_MAX 512

struct rtnl_msg {
	union {
		struct nlmsghdr hdr;
		uint8_t buf[RTNL_MSG_MAX];
	};
	int err; /* -EMSGSIZE once something did not fit; the builders return it */
	size_t nest[4];
	unsigned depth;
};

/* Builders: each starts a fresh request with NLM_F_REQUEST|NLM_F_ACK and returns 0 or -EMSGSIZE. */
/*
 * A bridge, up, with this MTU (0: the kernel's default) and MAC (NULL: the
 * kernel's, which then follows the lowest port's).
 */
int rtnl_build_bridge(struct rtnl_msg *m, const char *name, uint32_t mtu, const uint8_t *mac);
/*
 * A veth pair: name, up (and on master, if non-zero), here; peer, down, in
 * the namespace of peer_netns_fd (-1: here). With NLM_F_ECHO: since Linux
 * 6.3 the reply includes the new link (name's), which saves a lookup that
 * would also run its pending link-state work (a grace period) at once.
 */
int rtnl_build_veth(struct rtnl_msg *m, const char *name, uint32_t mtu, int master,
		    const char *peer, int peer_netns_fd);
/* Sets a link up. */
int rtnl_build_link_up(struct rtnl_msg *m, int ifindex);
/*
 * Bridge port hairpin mode of the port named name (IFLA_BRPORT_MODE in the
 * bridge's slave data, as `ip link set NAME type bridge_slave hairpin on`):
 * by name, so that it can follow the port's creation in one batch.
 */
int rtnl_build_hairpin(struct rtnl_msg *m, const char *name, bool on);
/* RTM_GETLINK / RTM_DELLINK by index (name NULL) or by name (ifindex 0). */
int rtnl_build_getlink(struct rtnl_msg *m, int ifindex, const char *name);
int rtnl_build_dellink(struct rtnl_msg *m, int ifindex, const char *name);
/* An address: host bits of a are the address; IPv4 gets its broadcast, IPv6 IFA_F_NODAD. */
int rtnl_build_addr(struct rtnl_msg *m, int ifindex, const struct ip_net *a);
/* A route in the main table, proto boot: dst via gw (gw may be unset) on ifindex. */
int rtnl_build_route(struct rtnl_msg *m, int ifindex, const struct ip_net *dst,
		     const struct ip_addr *gw);
/* Dumps of RTM_GETADDR / RTM_GETROUTE for one family. */
int rtnl_build_dump(struct rtnl_msg *m, uint16_t type, int family);

struct rtnl_link {
	int ifindex;
	unsigned flags;
	uint32_t mtu;
	int master; /* 0 when none */
	int link;   /* IFLA_LINK: a veth's peer index (in the peer's namespace), 0 when none */
	char name[IF_NAMESIZE];
	char kind[16]; /* IFLA_INFO_KIND, "" when none */
	uint8_t mac[6];
	bool has_mac;
	uint8_t hairpin; /* IFLA_BRPORT_MODE when reported, else 0 */
};

struct rtnl_addr {
	int ifindex;
	struct ip_net addr; /* address with its prefix length */
};

struct rtnl_route {
	int oif;
	uint8_t table, type;
	struct ip_net dst; /* /0 for a default route */
	struct ip_addr gw; /* unset when none */
};

/* Parsers of one message of the matching type: -EBADMSG when malformed. */
int rtnl_parse_link(const struct nlmsghdr *h, struct rtnl_link *ret);
int rtnl_parse_addr(const struct nlmsghdr *h, struct rtnl_addr *ret);
int rtnl_parse_route(const struct nlmsghdr *h, struct rtnl_route *ret);
/* An NLMSG_ERROR message: its (negative) error, 0 for an ACK; -EBADMSG when truncated. */
int rtnl_parse_error(const struct nlmsghdr *h);

/* The socket shell. */
struct rtnl {
	int fd;
	uint32_t seq;
};

#define RTNL_INIT        \
	{                \
		.fd = -1 \
	}

int rtnl_open(struct rtnl *ret);
/*
 * A socket of the namespace netns_fd; this thread is back in host_fd's
 * namespace on return (the process aborts if it cannot get back).
 */
int rtnl_open_in(struct rtnl *ret, int netns_fd, int host_fd);
void rtnl_close(struct rtnl *r);
static inline void rtnl_closep(struct rtnl *r)
{
	rtnl_close(r);
}
#define _cleanup_rtnl_ _cleanup_(rtnl_closep)

/* Sends m and waits for its ACK: 0 or the kernel's -errno. A RTM_NEWLINK reply fills link (may be NULL). */
int rtnl_call(struct rtnl *r, struct rtnl_msg *m, struct rtnl_link *link);
/*
 * Up to RTNL_BATCH_MAX requests in one datagram, one system call each way
 * when all succeed: the kernel handles them in order, reports every
 * failure, and only the last asks for an ACK, which therefore comes after
 * every other reply. A request still runs when an earlier one failed: batch
 * only requests that are harmless then. errs[i] is request i's result (0 or
 * the kernel's -errno); links[i], when links and links[i] are non-NULL,
 * gets request i's RTM_NEWLINK reply. Returns 0, or -errno when the
 * exchange itself failed (errs then unreliable).
 */
#define RTNL_BATCH_MAX 8
int rtnl_call_batch(struct rtnl *r, struct rtnl_msg *const m[], size_t n, int errs[],
		    struct rtnl_link *const links[]);
/* A dump: cb for every message until NLMSG_DONE; a negative cb return stops it and is returned. */
int rtnl_dump(struct rtnl *r, struct rtnl_msg *m,
	      int (*cb)(const struct nlmsghdr *h, void *userdata), void *userdata);
/* Link by name: -ENODEV when there is none. */
int rtnl_get_link(struct rtnl *r, const char *name, struct rtnl_link *ret);
