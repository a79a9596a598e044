/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VXLAN devices flannel.<VNI> (IPv4) and flannel-v6.<VNI> (IPv6),
 * upstream §4.1: created with our MAC, MTU and VXLAN attributes; an existing
 * device is reused when compatible (its MAC and MTU are corrected in place)
 * and deleted and recreated when not; its only address of the family is
 * <lease network address>/32 (/128).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/ipnet.h"
#include "lib/netlink/netlink.h"

struct vxlan_dev_spec {
	char name[IFNAMSIZ];
	uint32_t vni;
	uint16_t port; /* 0: kernel default */
	bool learning;
	bool gbp;
	struct ip_addr local;
	int underlay_ifindex;
	uint32_t mtu;
	bool has_mac;
	uint8_t mac[6];
};

/*
 * "flannel.<vni>" or "flannel-v6.<vni>". -ENAMETOOLONG beyond IFNAMSIZ-1
 * characters (VNI > 9999999, or > 9999 for the IPv6 device), where the kernel
 * would refuse the name; never truncated, as two VNIs would share a name.
 */
int vxlan_dev_name(uint32_t vni, bool v6, char buf[static IFNAMSIZ]);

/*
 * Pure: NULL when the existing device can be reused, else what differs
 * (written to buf), e.g. "VNI 2 != 1".
 */
const char *vxlan_dev_incompatible(const struct vxlan_link *have, const struct vxlan_dev_spec *want,
				   char *buf, size_t size);

/*
 * Make the device exist, compatible, with the spec's MAC (when given) and
 * MTU, and up. ret is the device as it is afterwards; *ret_created says
 * whether it was (re)created. No kernel write when all is in place.
 */
int vxlan_dev_ensure(struct nlh *h, const struct vxlan_dev_spec *spec, struct vxlan_link *ret,
		     bool *ret_created);
