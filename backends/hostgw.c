/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-gw backend (upstream backend/hostgw): no device, no
 * encapsulation; a route to each peer's subnet via the peer's public IP on
 * the external interface. It needs L2 adjacency and refuses a public IP that
 * differs from the interface's (NAT). Upstream re-checks its routes every
 * 10 s; here the reconciler's dumps and netlink notifications do that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/macro.h"
#include "lib/json/json.h"
#include "registry.h"

#define HOSTGW_MAX_JSON (64 * 1024)

static int hostgw_init(struct backend *b, const char *json, size_t len, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int r;

	/* host-gw has no options besides Type; the object must still be one. */
	r = json_parse(json, len, HOSTGW_MAX_JSON, 16, &root);
	if (r < 0 || !cJSON_IsObject(root)) {
		errmsg_set(err, "Backend: expected an object");
		return r < 0 ? r : -EINVAL;
	}
	if ((b->ipv4 && !ip_addr_equal(&b->ext.ext_addr, &b->ext.iface_addr)) ||
	    (b->ipv6 && !ip_addr_equal(&b->ext.ext_addr6, &b->ext.iface_addr6))) {
		errmsg_set(
			err,
			"your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend");
		return -EINVAL;
	}
	/* No per-backend state: b->impl only marks initialisation. */
	b->impl = b;
	return 0;
}

static void hostgw_done(struct backend *b)
{
	b->impl = NULL;
}

static int hostgw_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
			   struct errmsg *err)
{
	*ret_attrs = (struct lease_attrs){.backend_type = "host-gw"};
	*ret_mtu = b->ext.mtu;
	return 0;
}

static int hostgw_set_lease(struct backend *b, struct errmsg *err)
{
	return 0;
}

static int hostgw_prepare(struct backend *b, struct plan_params *ret)
{
	struct plan_params p = {.backend_type = "host-gw", .proto = NL_PROTO_FLANNEL};

	for (int fi = 0; fi < 2; fi++) {
		p.fam[fi].enabled = fi == 0 ? b->ipv4 : b->ipv6;
		p.fam[fi].ext_ifindex = b->ext.ifindex;
		p.fam[fi].route_priority = fi == 0 ? 0 : 1024;
	}
	backend_params_networks(b, &p);
	*ret = p;
	return 0;
}

static bool hostgw_owns_event(const struct backend *b, const struct nl_event *ev)
{
	switch (ev->kind) {
	case NL_EVENT_LINK:
		return ev->ifindex == b->ext.ifindex;
	case NL_EVENT_ROUTE:
		return backend_owns_route(b, ev, 0);
	case NL_EVENT_ADDR:
	case NL_EVENT_NEIGH:
		return false;
	case NL_EVENT_OVERRUN:
	default:
		return true;
	}
}

const struct backend_ops hostgw_backend_ops = {
	.type = "host-gw",
	.init = hostgw_init,
	.done = hostgw_done,
	.register_ = hostgw_register,
	.set_lease = hostgw_set_lease,
	.prepare = hostgw_prepare,
	.owns_event = hostgw_owns_event,
};
