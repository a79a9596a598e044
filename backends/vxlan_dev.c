/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VXLAN device management. The kernel cannot change a VXLAN device's VNI,
 * local address, port, learning or GBP flag in place, so a device that
 * differs in any of those is deleted and created again (upstream compares
 * the same attributes except learning). The MAC is restored from our node's
 * annotation so that peers' neighbour and FDB entries stay valid across
 * reboots and device re-creation; the MTU follows the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/json/lease.h"
#include "vxlan_config.h"
#include "vxlan_dev.h"

int vxlan_dev_name(uint32_t vni, bool v6, char buf[static IFNAMSIZ])
{
	int n = snprintf(buf, IFNAMSIZ, "%s.%u", v6 ? "flannel-v6" : "flannel", vni);
	return n >= IFNAMSIZ ? -ENAMETOOLONG : 0;
}

static unsigned effective_port(uint16_t port)
{
	return port ? port : VXLAN_KERNEL_PORT;
}

const char *vxlan_dev_incompatible(const struct vxlan_link *have, const struct vxlan_dev_spec *want,
				   char *buf, size_t size)
{
	char a[IP_ADDR_STRLEN], b[IP_ADDR_STRLEN];

	if (have->vni != want->vni)
		snprintf(buf, size, "VNI %u != %u", have->vni, want->vni);
	else if (have->underlay_ifindex > 0 && want->underlay_ifindex > 0 &&
		 have->underlay_ifindex != want->underlay_ifindex)
		snprintf(buf, size, "underlay ifindex %d != %d", have->underlay_ifindex,
			 want->underlay_ifindex);
	else if (ip_addr_is_set(&have->local) && ip_addr_is_set(&want->local) &&
		 !ip_addr_equal(&have->local, &want->local))
		snprintf(buf, size, "local address %s != %s", ip_addr_fmt(&have->local, a),
			 ip_addr_fmt(&want->local, b));
	else if (ip_addr_is_set(&want->local) && !ip_addr_is_set(&have->local))
		snprintf(buf, size, "no local address, want %s", ip_addr_fmt(&want->local, b));
	else if (effective_port(have->port) != effective_port(want->port))
		snprintf(buf, size, "port %u != %u", effective_port(have->port),
			 effective_port(want->port));
	else if (have->learning != want->learning)
		snprintf(buf, size, "learning %s != %s", have->learning ? "on" : "off",
			 want->learning ? "on" : "off");
	else if (have->gbp != want->gbp)
		snprintf(buf, size, "GBP %s != %s", have->gbp ? "on" : "off",
			 want->gbp ? "on" : "off");
	else
		return NULL;
	return buf;
}

/* net/ipv6/conf/<dev>/accept_ra = 0, as upstream; errors ignored (no IPv6). */
static void disable_accept_ra(const char *name)
{
	char path[96];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "0", 1) != 1)
		log_v(2, "Failed to disable accept_ra on %s, ignoring", name);
}

static int create(struct nlh *h, const struct vxlan_dev_spec *spec)
{
	struct vxlan_link l = {
		.vni = spec->vni,
		.local = spec->local,
		.port = spec->port,
		.learning = spec->learning,
		.gbp = spec->gbp,
		.underlay_ifindex = spec->underlay_ifindex,
		.has_mac = spec->has_mac,
		.mtu = spec->mtu,
	};
	int r;

	memcpy(l.name, spec->name, sizeof(l.name));
	memcpy(l.mac, spec->mac, 6);
	r = nl_vxlan_add(h, &l, NULL);
	if (r < 0)
		return log_error_errno(r, "failed to create vxlan interface %s", spec->name);
	disable_accept_ra(spec->name);
	log_info("Created VXLAN device %s (VNI %u, MTU %u)", spec->name, spec->vni, spec->mtu);
	return 0;
}

int vxlan_dev_ensure(struct nlh *h, const struct vxlan_dev_spec *spec, struct vxlan_link *ret,
		     bool *ret_created)
{
	struct vxlan_link have;
	bool created = false;
	char why[128];
	int r;

	r = nl_vxlan_get(h, spec->name, &have);
	if (r == -EMEDIUMTYPE) {
		struct link_info li;
		log_warn(
			"\"%s\" already exists with incompatible configuration: not a vxlan device; recreating device",
			spec->name);
		r = nl_link_get_by_name(h, spec->name, &li);
		if (r >= 0)
			r = nl_link_delete(h, li.ifindex);
		if (r < 0)
			return log_error_errno(r, "failed to delete interface %s", spec->name);
		r = -ENODEV;
	} else if (r >= 0 && vxlan_dev_incompatible(&have, spec, why, sizeof(why))) {
		log_warn(
			"\"%s\" already exists with incompatible configuration: %s; recreating device",
			spec->name, why);
		r = nl_link_delete(h, have.ifindex);
		if (r < 0)
			return log_error_errno(r, "failed to delete interface %s", spec->name);
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = create(h, spec);
		if (r < 0)
			return r;
		created = true;
		r = nl_vxlan_get(h, spec->name, &have);
	}
	if (r < 0)
		return log_error_errno(r, "failed to look up interface %s", spec->name);

	{
		bool fix_mac =
			spec->has_mac && (!have.has_mac || memcmp(have.mac, spec->mac, 6) != 0);
		bool fix_mtu = spec->mtu > 0 && have.mtu != spec->mtu;
		if (fix_mac || fix_mtu || !have.up) {
			if (fix_mac) {
				char m[18];
				log_info("Setting the MAC address of %s to %s", spec->name,
					 mac_fmt(spec->mac, m));
			}
			r = nl_link_update(h, have.ifindex, fix_mtu ? spec->mtu : 0,
					   fix_mac ? spec->mac : NULL, true);
			if (r < 0)
				return log_error_errno(r, "failed to set up interface %s",
						       spec->name);
			if (fix_mac)
				memcpy(have.mac, spec->mac, 6);
			have.has_mac = have.has_mac || fix_mac;
			if (fix_mtu)
				have.mtu = spec->mtu;
			have.up = true;
		}
	}
	*ret = have;
	if (ret_created)
		*ret_created = created;
	return 0;
}
