/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend types by name, and the parts of the backend interface that do
 * not depend on the type: configuration copy, our own lease, the netlink
 * notification socket and its relevance filter, status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "registry.h"

static const struct backend_ops *const backend_types[] = {
	&vxlan_backend_ops, &hostgw_backend_ops,    &wireguard_backend_ops,
	&alloc_backend_ops, &extension_backend_ops,
};

int backend_new(struct nlh *h, const struct backend_config *cfg, struct backend **ret,
		struct errmsg *err)
{
	const struct backend_ops *ops = NULL;
	struct backend *b;
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(backend_types); k++)
		if (cfg->type && strcmp(cfg->type, backend_types[k]->type) == 0)
			ops = backend_types[k];
	if (!ops) {
		errmsg_set(err, "Backend: Type: unsupported backend type \"%s\"",
			   cfg->type ? cfg->type : "");
		return -EOPNOTSUPP;
	}
	if (!cfg->ipv4 && !cfg->ipv6) {
		errmsg_set(err, "Backend: neither IPv4 nor IPv6 is enabled");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ops = ops;
	b->nl = h;
	b->loop = cfg->loop;
	b->ext = *cfg->ext;
	b->ipv4 = cfg->ipv4;
	b->ipv6 = cfg->ipv6;
	b->has_network[0] = cfg->has_network;
	b->network[0] = cfg->network;
	b->has_network[1] = cfg->has_network6;
	b->network[1] = cfg->network6;
	for (int fi = 0; fi < 2; fi++)
		ip_net_mask(&b->network[fi]);
	b->has_mac = cfg->has_mac;
	memcpy(b->mac, cfg->mac, 6);
	b->has_mac6 = cfg->has_mac6;
	memcpy(b->mac6, cfg->mac6, 6);
	b->status.type = ops->type;

	r = ops->init(b, cfg->json ? cfg->json : "{}", cfg->json ? cfg->json_len : 2, err);
	if (r < 0) {
		free(b);
		return r;
	}
	r = nl_monitor_new(&b->monitor);
	if (r < 0) {
		errmsg_set(err, "failed to open a netlink notification socket: %s", strerror(-r));
		backend_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void backend_free(struct backend *b)
{
	if (!b)
		return;
	if (b->ops && b->impl)
		b->ops->done(b);
	nl_monitor_free(b->monitor);
	plan_state_free(b->belief);
	free(b->problems);
	lease_free(b->own);
	free(b);
}

const char *backend_type(const struct backend *b)
{
	return b->ops->type;
}

int backend_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
		     struct errmsg *err)
{
	backend_invalidate(b);
	return b->ops->register_(b, ret_attrs, ret_mtu, err);
}

int backend_set_lease(struct backend *b, const struct lease *own, struct errmsg *err)
{
	_cleanup_(lease_freep) struct lease *saved = NULL;
	struct lease *copy;
	int r;

	r = lease_dup(own, &copy);
	if (r < 0)
		return errmsg_set(err, "cannot record the lease: %s", strerror(-r)), r;
	backend_invalidate(b);
	saved = b->own;
	b->own = copy;
	r = b->ops->set_lease(b, err);
	if (r < 0) {
		lease_free(b->own);
		b->own = TAKE_PTR(saved);
	}
	return r;
}

int backend_event_fd(const struct backend *b)
{
	return nl_monitor_fd(b->monitor);
}

void backend_invalidate(struct backend *b)
{
	/* The state stays for the status view until the next pass replaces it. */
	b->belief_ok = false;
}

void backend_forget(struct backend *b)
{
	plan_state_free(b->belief);
	b->belief = NULL;
	b->belief_ok = false;
}

void backend_params_networks(const struct backend *b, struct plan_params *p)
{
	for (int fi = 0; fi < 2; fi++) {
		p->fam[fi].has_network = b->has_network[fi];
		p->fam[fi].network = b->network[fi];
	}
}

bool backend_owns_route(const struct backend *b, const struct nl_event *ev, int dev_ifindex)
{
	struct plan_family f = {.vxlan = dev_ifindex > 0, .dev_ifindex = dev_ifindex};
	int fi = ev->route.family == AF_INET6;

	if (dev_ifindex > 0 && ev->route.ifindex == dev_ifindex)
		return ev->proto != NL_PROTO_KERNEL;
	f.has_network = b->has_network[fi];
	f.network = b->network[fi];
	return plan_route_is_ours(&f, NL_PROTO_FLANNEL, &ev->route);
}

static const char *event_kind_name(enum nl_event_kind k)
{
	switch (k) {
	case NL_EVENT_LINK:
		return "link";
	case NL_EVENT_ADDR:
		return "address";
	case NL_EVENT_ROUTE:
		return "route";
	case NL_EVENT_NEIGH:
		return "neighbour";
	case NL_EVENT_OVERRUN:
	default:
		return "lost";
	}
}

/*
 * Ours (owns_event) and not an echo of our own writes: the belief no longer
 * holds. Route, neighbour and FDB notifications are checked against the
 * belief; link, address and overrun ones always count.
 */
static void on_event(const struct nl_event *ev, void *userdata)
{
	struct backend *b = userdata;

	if (ev->kind != NL_EVENT_OVERRUN && !b->ops->owns_event(b, ev))
		return;
	if (b->belief && b->belief_ok &&
	    (ev->kind == NL_EVENT_ROUTE || ev->kind == NL_EVENT_NEIGH)) {
		switch (plan_classify_event(b->belief, ev)) {
		case PLAN_EVENT_ECHO:
			b->status.events_echo++;
			return;
		case PLAN_EVENT_IGNORE:
			return;
		case PLAN_EVENT_FOREIGN:
		default:
			break;
		}
	}
	b->status.events_foreign++;
	if (b->belief_ok)
		log_v(2,
		      "A %s%s notification (ifindex %d) does not match what was programmed: full pass",
		      ev->deleted ? "deleted " : "", event_kind_name(ev->kind), ev->ifindex);
	backend_invalidate(b);
	b->resync = true;
}

static void on_event_discard(const struct nl_event *ev, void *userdata)
{
}

int backend_drain_events(struct backend *b)
{
	/* Bounded: a flood of notifications cannot keep the pass from starting. */
	for (unsigned i = 0; i < 64; i++) {
		int r = nl_monitor_read(b->monitor, on_event_discard, NULL);
		if (r <= 0)
			return r;
	}
	return 0;
}

int backend_read_events(struct backend *b)
{
	return nl_monitor_read(b->monitor, on_event, b);
}

int backend_handle_events(struct backend *b)
{
	int r = backend_read_events(b);
	if (r < 0)
		return r;
	r = b->resync;
	b->resync = false;
	return r;
}

void backend_status(const struct backend *b, struct backend_status *ret)
{
	*ret = b->status;
	ret->n_peers = b->ops->n_peers ? b->ops->n_peers(b)
		       : b->belief     ? plan_state_n_peers(b->belief)
				       : 0;
	ret->nl = *nlh_counters(b->nl);
}

void backend_peer_status(const struct backend *b, size_t k, struct backend_peer_status *ret)
{
	struct plan_peer p;

	if (b->ops->peer_status) {
		*ret = (struct backend_peer_status){0};
		b->ops->peer_status(b, k, ret);
		return;
	}
	ret->name = plan_state_peer(b->belief, k, &p);
	ret->want = p.want;
	ret->have = p.want & ~p.missing;
	ret->direct = p.direct;
	ret->direct6 = p.direct6;
	ret->skipped = p.skipped;
	ret->skip_reason = (enum backend_skip)p.skip;
	ret->refused = 0;
	ret->refused_bits = 0;
	/* The problems are sorted by name, as the peers. */
	for (size_t lo = 0, hi = b->n_problems; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(b->problems[mid].name, ret->name, LEASE_NAME_MAX);
		if (c == 0) {
			ret->refused = b->problems[mid].refused;
			ret->refused_bits = b->problems[mid].refused_bits;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

const char *backend_skip_name(enum backend_skip reason)
{
	return plan_skip_name((enum plan_skip)reason);
}

bool backend_op_refused(int r)
{
	switch (-r) {
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EINVAL:
	case ERANGE:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EOPNOTSUPP:
		return true;
	default:
		return false;
	}
}

int backend_peer_find(const struct backend *b, const char *name, struct backend_peer_status *ret)
{
	struct plan_peer p;

	if (b->ops->peer_status) {
		for (size_t lo = 0, hi = b->ops->n_peers(b); lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;
			int c;

			backend_peer_status(b, mid, ret);
			c = strcmp(ret->name, name);
			if (c == 0)
				return 0;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -ENOENT;
	}
	if (!b->belief || !plan_state_find(b->belief, name, &p))
		return -ENOENT;
	*ret = (struct backend_peer_status){.name = name,
					    .want = p.want,
					    .have = p.want & ~p.missing,
					    .direct = p.direct,
					    .direct6 = p.direct6,
					    .skipped = p.skipped};
	return 0;
}

int backend_connected_nets(struct backend *b, int family, int ifindex, struct ip_net **ret,
			   size_t *ret_n)
{
	_cleanup_free_ struct addr_info *addrs = NULL;
	struct ip_net *nets;
	size_t n = 0, m = 0;
	int r;

	r = nl_addr_list(b->nl, family, ifindex, &addrs, &n);
	if (r < 0)
		return r;
	nets = calloc(n ? n : 1, sizeof(*nets));
	if (!nets)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		if (addrs[k].scope == NL_SCOPE_HOST)
			continue;
		nets[m] = addrs[k].addr;
		ip_net_mask(&nets[m]);
		m++;
	}
	*ret = nets;
	*ret_n = m;
	return 0;
}

int backend_dev_set_addr(struct nlh *h, int ifindex, const struct ip_net *addr)
{
	_cleanup_free_ struct addr_info *addrs = NULL;
	char s[IP_NET_STRLEN];
	size_t n = 0;
	bool present = false;
	int r;

	r = nl_addr_list(h, addr->addr.family, ifindex, &addrs, &n);
	if (r < 0)
		return log_error_errno(r, "failed to list addresses of ifindex %d", ifindex);
	for (size_t k = 0; k < n; k++) {
		if (ip_net_equal(&addrs[k].addr, addr)) {
			present = true;
			continue;
		}
		if (addrs[k].scope == NL_SCOPE_LINK)
			continue; /* IPv6 link-local */
		log_info("Removing address %s from ifindex %d", ip_net_fmt(&addrs[k].addr, s),
			 ifindex);
		r = nl_addr_del(h, ifindex, &addrs[k].addr);
		if (r < 0)
			return log_error_errno(r, "failed to remove address %s",
					       ip_net_fmt(&addrs[k].addr, s));
	}
	if (present)
		return 0;
	r = nl_addr_add(h, ifindex, addr);
	if (r < 0)
		return log_error_errno(r, "failed to add address %s", ip_net_fmt(addr, s));
	return 0;
}
