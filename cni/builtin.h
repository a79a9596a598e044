/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Built-in mode: the plugin wires the pod itself, through rtnetlink, with
 * the layout the reference bridge + host-local plugins give the delegate
 * configuration flannel builds (so nothing else on the node can tell):
 *   - bridge <bridge> (default cni0), up, MTU at creation, with the gateway
 *     address of each range when isGateway (then ip_forward / IPv6
 *     forwarding on); IPv6 router advertisements off on it;
 *   - a veth pair per pod: host end veth<8 hex digits> on the bridge
 *     (hairpin when hairpinMode), pod end <ifname> in the pod's namespace,
 *     both with the MTU; the host name is a hash of (container ID,
 *     ifname), so DEL and GC find it without the pod's namespace;
 *   - the pod's addresses from the host-local store (ipam.h), the ipam
 *     routes via the gateway (or their own gw), default routes when
 *     isDefaultGateway;
 *   - the result of bridge: interfaces [bridge, host veth, pod end with
 *     sandbox], ips with interface 2 and gateway, routes, dns {}.
 *
 * It serves the configurations bridge + host-local would: anything else
 * (another delegate type or IPAM, ipMasq, VLANs, ...) is refused with the
 * key named, and the caller falls back to running the delegate.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ipam.h"
#include "json.h"
#include "lib/core/errmsg.h"

#define BUILTIN_MAX_ROUTES 32

struct builtin_route {
	struct ip_net dst;
	struct ip_addr gw; /* unset: the gateway of dst's family */
};

struct builtin_conf {
	const char *network; /* name, borrowed */
	const char *cni_version;
	const char *bridge;
	uint32_t mtu; /* 0: the kernel's default */
	bool is_gateway, is_default_gateway, hairpin;
	const char *ipam_dir;
	struct ipam_range ranges[2]; /* in ipam.ranges order; index = host-local's range set */
	unsigned n_ranges;
	struct builtin_route routes[BUILTIN_MAX_ROUTES];
	unsigned n_routes;
};

/*
 * Pure. The delegate configuration d (as built by cni_delegate_build() or
 * saved by either mode) as a built-in one; borrowed strings point into d.
 * -EOPNOTSUPP when d is valid but not what built-in mode implements,
 * -EINVAL when malformed; the reason, naming the key, in err.
 */
int builtin_conf_parse(const struct cni_json *d, struct builtin_conf *ret, struct errmsg *err);

/* The host end's name for an attachment: "veth" + 8 hex digits of a hash of (id, ifname). */
void builtin_host_veth_name(const char *id, const char *ifname, char ret[static 16]);

struct builtin_attachment {
	const char *container_id, *ifname;
	const char *netns; /* may be NULL (DEL) */
};

struct builtin_result {
	char bridge[16], host[16], ifname[16];
	uint8_t bridge_mac[6], host_mac[6], pod_mac[6];
	const char *sandbox;
	struct ip_net ips[2]; /* address with the range's prefix length */
	struct ip_addr gateways[2];
	unsigned n_ips;
};

/* Pure. The CNI result for the configuration's cniVersion ("version" in ips before 1.0.0). */
int builtin_result_json(const struct builtin_conf *c, const struct builtin_result *res,
			struct cni_json **ret);

/*
 * ADD: reserves the addresses and wires the pod; on failure whatever was
 * done stays for builtin_del() (the caller runs it). -EEXIST: the
 * attachment already has addresses or an interface; the reason in err.
 */
int builtin_add(const struct builtin_conf *c, const struct builtin_attachment *a,
		struct builtin_result *ret, struct errmsg *err);
/* DEL: idempotent; works without the pod's namespace (a reboot lost it). */
int builtin_del(const struct builtin_conf *c, const struct builtin_attachment *a,
		struct errmsg *err);
/*
 * CHECK: the pod's interface (veth, up, MTU, on the bridge), its reserved
 * addresses and routes are there, and match prev_result's ips when given.
 * -ENOENT when the attachment has no reservation, -EINVAL with the
 * difference in err.
 */
int builtin_check(const struct builtin_conf *c, const struct builtin_attachment *a,
		  const struct cni_json *prev_result, struct errmsg *err);
/*
 * GC: releases every reservation of network in ipam_dir (host-local's
 * dataDir) for which keep() is false
 * and removes the host end of those attachments; returns how many.
 */
int builtin_gc(const char *ipam_dir, const char *network,
	       bool (*keep)(const struct ipam_entry *e, void *userdata), void *userdata,
	       struct errmsg *err);
