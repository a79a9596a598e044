/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vxlan backend (upstream backend/vxlan on Linux): one VXLAN device per
 * enabled family, flannel.<VNI> over the external interface's IPv4 address
 * and flannel-v6.<VNI> over its IPv6 address, each carrying our lease's
 * network address; per peer a permanent neighbour, a permanent FDB entry and
 * an onlink route on the device, or with DirectRouting, for peers on the
 * same L2 segment, a plain route over the external interface.
 *
 * The VtepMAC we publish is the device's MAC, restored from our node's
 * annotation at start, and reused when the device has to be recreated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "registry.h"
#include "vxlan_config.h"
#include "vxlan_dev.h"

#define VXLAN_OVERHEAD4 50u /* outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 */
#define VXLAN_OVERHEAD6 70u /* outer IPv6 40 instead of 20 */

struct vxlan {
	struct vxlan_config cfg;
	bool registered;
	struct vxlan_dev_spec spec[2]; /* [0] IPv4, [1] IPv6 */
	int ifindex[2];
	struct ip_net *direct_nets[2];
	size_t n_direct_nets[2];
};

static int vxlan_init(struct backend *b, const char *json, size_t len, struct errmsg *err)
{
	struct vxlan *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	r = vxlan_config_parse(json, len, &v->cfg, err);
	if (r < 0) {
		free(v);
		return r;
	}
	if (b->ipv4 && !ip_addr_is_set(&b->ext.ext_addr)) {
		errmsg_set(err,
			   "vxlan: IPv4 is enabled but the external interface has no IPv4 address");
		free(v);
		return -EINVAL;
	}
	if (b->ipv6 && !ip_addr_is_set(&b->ext.ext_addr6)) {
		errmsg_set(err,
			   "vxlan: IPv6 is enabled but the external interface has no IPv6 address");
		free(v);
		return -EINVAL;
	}
	b->impl = v;
	return 0;
}

static void vxlan_done(struct backend *b)
{
	struct vxlan *v = b->impl;
	for (int fi = 0; fi < 2; fi++)
		free(v->direct_nets[fi]);
	free(v);
	b->impl = NULL;
}

static uint32_t base_mtu(const struct backend *b, const struct vxlan *v)
{
	return v->cfg.mtu ? v->cfg.mtu : b->ext.mtu;
}

static int ensure_devices(struct backend *b, struct vxlan *v)
{
	for (int fi = 0; fi < 2; fi++) {
		struct vxlan_dev_spec *s = &v->spec[fi];
		struct vxlan_link link;
		bool created = false;
		int r;

		if (!(fi == 0 ? b->ipv4 : b->ipv6))
			continue;
		r = vxlan_dev_ensure(b->nl, s, &link, &created);
		if (r < 0)
			return r;
		if (created)
			b->status.devices_created++;
		v->ifindex[fi] = link.ifindex;
		/* Keep the MAC we publish, so a recreated device gets it back. */
		if (link.has_mac && !s->has_mac) {
			s->has_mac = true;
			memcpy(s->mac, link.mac, 6);
		}
	}
	return 0;
}

static int vxlan_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
			  struct errmsg *err)
{
	struct vxlan *v = b->impl;
	struct lease_attrs attrs = {.backend_type = "vxlan", .vni = v->cfg.vni};
	uint32_t base = base_mtu(b, v), mtu = UINT32_MAX;
	int r;

	for (int fi = 0; fi < 2; fi++) {
		struct vxlan_dev_spec *s = &v->spec[fi];
		uint32_t overhead = fi == 0 ? VXLAN_OVERHEAD4 : VXLAN_OVERHEAD6;

		if (!(fi == 0 ? b->ipv4 : b->ipv6))
			continue;
		if (base <= overhead + 68) {
			errmsg_set(err, "vxlan: MTU %u is too small for VXLAN encapsulation", base);
			return -EINVAL;
		}
		memset(s, 0, sizeof(*s));
		if (vxlan_dev_name(v->cfg.vni, fi == 1, s->name) < 0) {
			errmsg_set(
				err,
				"Backend: VNI: %u makes the device name %s.%u longer than %d characters",
				v->cfg.vni, fi == 1 ? "flannel-v6" : "flannel", v->cfg.vni,
				IFNAMSIZ - 1);
			return -ENAMETOOLONG;
		}
		s->vni = v->cfg.vni;
		s->port = v->cfg.port;
		s->learning = v->cfg.learning;
		s->gbp = v->cfg.gbp;
		s->local = fi == 0 ? b->ext.ext_addr : b->ext.ext_addr6;
		s->underlay_ifindex = b->ext.ifindex;
		s->mtu = base - overhead;
		s->has_mac = fi == 0 ? b->has_mac : b->has_mac6;
		memcpy(s->mac, fi == 0 ? b->mac : b->mac6, 6);
		mtu = MIN(mtu, s->mtu);
	}
	r = ensure_devices(b, v);
	if (r < 0) {
		errmsg_set(err, "failed to set up the VXLAN device(s): %s", strerror(-r));
		return r;
	}
	if (b->ipv4) {
		attrs.has_vtep_mac = true;
		memcpy(attrs.vtep_mac, v->spec[0].mac, 6);
	}
	if (b->ipv6) {
		attrs.has_vtep_mac6 = true;
		memcpy(attrs.vtep_mac6, v->spec[1].mac, 6);
	}
	v->registered = true;
	*ret_attrs = attrs;
	*ret_mtu = mtu;
	return 0;
}

static int set_addresses(struct backend *b, struct vxlan *v)
{
	for (int fi = 0; fi < 2; fi++) {
		struct ip_net addr;
		int r;

		if (!(fi == 0 ? b->ipv4 : b->ipv6))
			continue;
		addr = fi == 0 ? b->own->subnet : b->own->subnet6;
		ip_net_mask(&addr);
		addr.prefixlen = (uint8_t)ip_family_bits(addr.addr.family);
		r = backend_dev_set_addr(b->nl, v->ifindex[fi], &addr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vxlan_set_lease(struct backend *b, struct errmsg *err)
{
	struct vxlan *v = b->impl;
	int r;

	if (!v->registered) {
		errmsg_set(err, "vxlan: the lease is set before the device exists");
		return -EINVAL;
	}
	if (b->ipv4 && (!b->own->has_subnet || b->own->subnet.addr.family != AF_INET)) {
		errmsg_set(
			err,
			"failed to configure interface %s: IPv4 is enabled but the lease has no IPv4",
			v->spec[0].name);
		return -EINVAL;
	}
	if (b->ipv6 && (!b->own->has_subnet6 || b->own->subnet6.addr.family != AF_INET6)) {
		errmsg_set(
			err,
			"failed to configure interface %s: IPv6 is enabled but the lease has no IPv6",
			v->spec[1].name);
		return -EINVAL;
	}
	r = set_addresses(b, v);
	if (r < 0)
		errmsg_set(err, "failed to configure the VXLAN device address: %s", strerror(-r));
	return r;
}

static int vxlan_prepare(struct backend *b, struct plan_params *ret)
{
	struct vxlan *v = b->impl;
	struct plan_params p = {
		.backend_type = "vxlan", .vni = v->cfg.vni, .proto = NL_PROTO_FLANNEL};
	int r;

	if (!v->registered)
		return -EINVAL;
	r = ensure_devices(b, v);
	if (r < 0)
		return r;
	if (b->own) {
		r = set_addresses(b, v);
		if (r < 0)
			return r;
	}
	for (int fi = 0; fi < 2; fi++) {
		struct plan_family *f = &p.fam[fi];

		f->enabled = fi == 0 ? b->ipv4 : b->ipv6;
		if (!f->enabled)
			continue;
		f->vxlan = true;
		f->dev_ifindex = v->ifindex[fi];
		f->ext_ifindex = b->ext.ifindex;
		f->route_priority = fi == 0 ? 0 : 1024;
		f->direct_routing = v->cfg.direct_routing;
		if (f->direct_routing) {
			free(v->direct_nets[fi]);
			v->direct_nets[fi] = NULL;
			r = backend_connected_nets(b, fi == 0 ? AF_INET : AF_INET6, b->ext.ifindex,
						   &v->direct_nets[fi], &v->n_direct_nets[fi]);
			if (r < 0)
				return log_error_errno(r, "failed to list the addresses of %s",
						       b->ext.name);
			f->direct_nets = v->direct_nets[fi];
			f->n_direct_nets = v->n_direct_nets[fi];
		}
	}
	backend_params_networks(b, &p);
	*ret = p;
	return 0;
}

static bool vxlan_owns_event(const struct backend *b, const struct nl_event *ev)
{
	const struct vxlan *v = b->impl;
	bool on_dev =
		ev->ifindex > 0 && (ev->ifindex == v->ifindex[0] || ev->ifindex == v->ifindex[1]);

	switch (ev->kind) {
	case NL_EVENT_LINK:
		return on_dev || ev->ifindex == b->ext.ifindex ||
		       strncmp(ev->ifname, v->spec[0].name, IFNAMSIZ) == 0 ||
		       strncmp(ev->ifname, v->spec[1].name, IFNAMSIZ) == 0;
	case NL_EVENT_ADDR:
		/* The kernel's IPv6 link-local address on our device (after DAD, a
		 * second after it is up) is none of ours: not a reason for a full pass. */
		if (on_dev && ev->family == AF_INET6 && ev->scope == NL_SCOPE_LINK)
			return false;
		return on_dev || (v->cfg.direct_routing && ev->ifindex == b->ext.ifindex);
	case NL_EVENT_ROUTE:
		return backend_owns_route(
			b, ev, ev->route.family == AF_INET6 ? v->ifindex[1] : v->ifindex[0]);
	case NL_EVENT_NEIGH:
		return on_dev;
	case NL_EVENT_OVERRUN:
	default:
		return true;
	}
}

const struct backend_ops vxlan_backend_ops = {
	.type = "vxlan",
	.init = vxlan_init,
	.done = vxlan_done,
	.register_ = vxlan_register,
	.set_lease = vxlan_set_lease,
	.prepare = vxlan_prepare,
	.owns_event = vxlan_owns_event,
};
