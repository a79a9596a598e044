/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External interface and public IP selection (upstream pkg/ipmatch and the
 * --iface* handling of main.go). The decision is a pure function of a
 * snapshot of links, addresses and default routes, so every rule (the
 * order of --iface entries, regex on addresses before names, dual-stack
 * default routes on one interface, address preference) is unit-testable;
 * the snapshot is taken through lib/netlink.
 */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/buf.h"
#include "lib/core/macro.h"
#include "lib/netlink/iface.h"
#include "lib/netlink/netlink.h"

static bool addr_is_link_local(const struct ip_addr *a)
{
	if (a->family == AF_INET)
		return a->bytes[0] == 169 && a->bytes[1] == 254;
	return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

static bool addr_is_global_unicast(const struct ip_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == AF_INET) {
		if (a->bytes[0] == 0 || a->bytes[0] == 127 || a->bytes[0] >= 224)
			return false; /* unspecified/this-net, loopback, multicast, broadcast */
		return !addr_is_link_local(a);
	}
	if (a->family != AF_INET6)
		return false;
	if (memcmp(a->bytes, zero, 16) == 0 || IN6_IS_ADDR_LOOPBACK(&a->in6) || a->bytes[0] == 0xff)
		return false;
	return !addr_is_link_local(a);
}

static bool addr_usable(const struct iface_addr *ia)
{
	if (ia->flags & (NL_IFA_F_DEPRECATED | NL_IFA_F_TENTATIVE))
		return false;
	return addr_is_global_unicast(&ia->addr.addr) || addr_is_link_local(&ia->addr.addr);
}

/* Smaller is better. */
static unsigned addr_rank(const struct iface_addr *ia)
{
	unsigned rank = 0;
	if (addr_is_link_local(&ia->addr.addr))
		rank |= 4;
	if (!(ia->flags & NL_IFA_F_PERMANENT))
		rank |= 2;
	if (ia->flags & NL_IFA_F_TEMPORARY)
		rank |= 1;
	return rank;
}

const struct iface_addr *iface_best_addr(const struct iface *i, int family)
{
	const struct iface_addr *best = NULL;

	for (size_t k = 0; k < i->n_addrs; k++) {
		const struct iface_addr *ia = &i->addrs[k];
		if (ia->addr.addr.family != family || !addr_usable(ia))
			continue;
		if (!best || addr_rank(ia) < addr_rank(best))
			best = ia;
	}
	return best;
}

const struct iface *iface_table_find_name(const struct iface_table *t, const char *name)
{
	for (size_t k = 0; k < t->n_ifaces; k++)
		if (strncmp(t->ifaces[k].name, name, IFNAMSIZ) == 0)
			return &t->ifaces[k];
	return NULL;
}

const struct iface *iface_table_find_index(const struct iface_table *t, int ifindex)
{
	for (size_t k = 0; k < t->n_ifaces; k++)
		if (t->ifaces[k].ifindex == ifindex)
			return &t->ifaces[k];
	return NULL;
}

const struct iface *iface_table_find_addr(const struct iface_table *t, const struct ip_addr *ip)
{
	for (size_t k = 0; k < t->n_ifaces; k++)
		for (size_t j = 0; j < t->ifaces[k].n_addrs; j++)
			if (ip_addr_equal(&t->ifaces[k].addrs[j].addr.addr, ip))
				return &t->ifaces[k];
	return NULL;
}

/* A chosen interface and, possibly, the address that chose it. */
struct choice {
	const struct iface *iface;
	struct ip_addr addr4, addr6;
};

static void choice_set_addr(struct choice *c, const struct ip_addr *a)
{
	if (a->family == AF_INET)
		c->addr4 = *a;
	else if (a->family == AF_INET6)
		c->addr6 = *a;
}

/* --iface=<name or IP>. */
static int choose_by_spec(const struct iface_table *t, const struct iface_request *req,
			  const char *spec, struct choice *c, struct errmsg *err)
{
	struct ip_addr ip;

	if (ip_addr_parse(spec, &ip) >= 0) {
		if ((ip.family == AF_INET && !req->ipv4) || (ip.family == AF_INET6 && !req->ipv6)) {
			errmsg_set(err, "%s: address family not enabled", spec);
			return -EAFNOSUPPORT;
		}
		c->iface = iface_table_find_addr(t, &ip);
		if (!c->iface) {
			errmsg_set(err, "no interface with given IP found: %s", spec);
			return -ENODEV;
		}
		choice_set_addr(c, &ip);
		return 0;
	}
	c->iface = iface_table_find_name(t, spec);
	if (!c->iface) {
		errmsg_set(err, "no such network interface: %s", spec);
		return -ENODEV;
	}
	return 0;
}

static bool regex_matches(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* --iface-regex: every usable address of an enabled family first, then names. */
static int choose_by_regex(const struct iface_table *t, const struct iface_request *req,
			   const char *pattern, struct choice *c, struct errmsg *err)
{
	_cleanup_buf_ struct buf names = BUF_INIT;
	regex_t re;
	int r;

	r = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char why[128];
		regerror(r, &re, why, sizeof(why));
		errmsg_set(err, "invalid --iface-regex \"%s\": %s", pattern, why);
		return -EINVAL;
	}
	for (size_t k = 0; k < t->n_ifaces && !c->iface; k++) {
		const struct iface *i = &t->ifaces[k];
		for (size_t j = 0; j < i->n_addrs; j++) {
			const struct ip_addr *a = &i->addrs[j].addr.addr;
			char s[IP_ADDR_STRLEN];
			if ((a->family == AF_INET && !req->ipv4) ||
			    (a->family == AF_INET6 && !req->ipv6) || !addr_usable(&i->addrs[j]))
				continue;
			if (regex_matches(&re, ip_addr_fmt(a, s))) {
				c->iface = i;
				choice_set_addr(c, a);
				break;
			}
		}
	}
	for (size_t k = 0; k < t->n_ifaces && !c->iface; k++)
		if (regex_matches(&re, t->ifaces[k].name))
			c->iface = &t->ifaces[k];
	regfree(&re);
	if (c->iface)
		return 0;

	for (size_t k = 0; k < t->n_ifaces; k++)
		if (buf_printf(&names, "%s%s", k ? ", " : "", t->ifaces[k].name) < 0)
			return -ENOMEM;
	errmsg_set(err,
		   "Could not match pattern %s to any of the available network interfaces (%s)",
		   pattern, names.data ? names.data : "");
	return -ENODEV;
}

static int choose_by_default_route(const struct iface_table *t, const struct iface_request *req,
				   struct choice *c, struct errmsg *err)
{
	const struct iface *v4 = NULL, *v6 = NULL;

	if (req->ipv4) {
		v4 = iface_table_find_index(t, t->default_ifindex);
		if (!v4) {
			errmsg_set(err, "failed to get default interface: no default route");
			return -ENOENT;
		}
	}
	if (req->ipv6) {
		v6 = iface_table_find_index(t, t->default_ifindex6);
		if (!v6) {
			errmsg_set(err, "failed to get default v6 interface: no default route");
			return -ENOENT;
		}
	}
	if (v4 && v6 && v4 != v6) {
		errmsg_set(
			err,
			"v6 default route interface %s must be the same with v4 default route interface %s",
			v6->name, v4->name);
		return -EINVAL;
	}
	c->iface = v4 ? v4 : v6;
	return 0;
}

/* Addresses, MTU and public IPs once the interface is known. */
static int finish(const struct iface_request *req, const struct choice *c, struct ext_iface *ret,
		  struct errmsg *err)
{
	struct ext_iface e = {0};

	memcpy(e.name, c->iface->name, sizeof(e.name));
	e.ifindex = c->iface->ifindex;
	e.mtu = c->iface->mtu;
	if (req->ipv4) {
		const struct iface_addr *a = iface_best_addr(c->iface, AF_INET);
		if (c->addr4.family)
			e.iface_addr = c->addr4;
		else if (a)
			e.iface_addr = a->addr.addr;
		else {
			errmsg_set(err, "failed to find IPv4 address for interface %s", e.name);
			return -EADDRNOTAVAIL;
		}
		e.ext_addr = req->public_ip.family == AF_INET ? req->public_ip : e.iface_addr;
	}
	if (req->ipv6) {
		const struct iface_addr *a = iface_best_addr(c->iface, AF_INET6);
		if (c->addr6.family)
			e.iface_addr6 = c->addr6;
		else if (a)
			e.iface_addr6 = a->addr.addr;
		else {
			errmsg_set(err, "failed to find IPv6 address for interface %s", e.name);
			return -EADDRNOTAVAIL;
		}
		e.ext_addr6 = req->public_ip6.family == AF_INET6 ? req->public_ip6 : e.iface_addr6;
	}
	if (e.mtu == 0) {
		errmsg_set(err, "failed to determine MTU for %s interface", e.name);
		return -EINVAL;
	}
	*ret = e;
	return 0;
}

int iface_select(const struct iface_table *t, const struct iface_request *req,
		 struct ext_iface *ret, struct errmsg *err)
{
	struct choice c = {0};
	int r;

	if (!req->ipv4 && !req->ipv6) {
		errmsg_set(err, "neither IPv4 nor IPv6 is enabled");
		return -EINVAL;
	}

	if (req->n_ifaces > 0 || req->n_regexes > 0) {
		struct errmsg last = {{0}};
		/* Each candidate in order; the first that yields a complete choice wins. */
		for (size_t k = 0; k < req->n_ifaces + req->n_regexes; k++) {
			memset(&c, 0, sizeof(c));
			if (k < req->n_ifaces)
				r = choose_by_spec(t, req, req->ifaces[k], &c, &last);
			else
				r = choose_by_regex(t, req, req->regexes[k - req->n_ifaces], &c,
						    &last);
			if (r == -ENOMEM)
				return r;
			if (r >= 0 && finish(req, &c, ret, &last) >= 0)
				return 0;
			/* --iface takes precedence: regexes are only tried without it. */
			if (k + 1 == req->n_ifaces)
				break;
		}
		errmsg_set(
			err,
			"Failed to find interface to use that matches the interfaces and/or regexes provided: %s",
			last.text);
		return -ENODEV;
	}

	if (req->has_can_reach) {
		c.iface = iface_table_find_index(t, t->can_reach_ifindex);
		if (!c.iface) {
			char s[IP_ADDR_STRLEN];
			errmsg_set(err, "failed to get ifcanreach based interface: no route to %s",
				   ip_addr_fmt(&req->can_reach, s));
			return -ENETUNREACH;
		}
		choice_set_addr(&c, &t->can_reach_src);
		return finish(req, &c, ret, err);
	}

	/* A known public IP on one of our interfaces names the interface. */
	if (req->public_ip.family || req->public_ip6.family) {
		const struct ip_addr *p =
			req->ipv4 && req->public_ip.family ? &req->public_ip : &req->public_ip6;
		c.iface = iface_table_find_addr(t, p);
		if (c.iface) {
			choice_set_addr(&c, p);
			return finish(req, &c, ret, err);
		}
		memset(&c, 0, sizeof(c));
	}

	r = choose_by_default_route(t, req, &c, err);
	if (r < 0)
		return r;
	return finish(req, &c, ret, err);
}

void iface_table_done(struct iface_table *t)
{
	for (size_t k = 0; k < t->n_ifaces; k++)
		free(t->ifaces[k].addrs);
	free(t->ifaces);
	memset(t, 0, sizeof(*t));
}

static int first_default_route(struct nlh *h, int family, int *ret)
{
	_cleanup_free_ struct route_spec *routes = NULL;
	size_t n = 0;
	int r;

	*ret = 0;
	r = nl_route_list_main(h, family, &routes, &n);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++)
		if (routes[k].dst.prefixlen == 0 && routes[k].type == NL_ROUTE_UNICAST &&
		    routes[k].ifindex > 0) {
			*ret = routes[k].ifindex;
			break;
		}
	return 0;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct link_info *x = a, *y = b;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int iface_table_load(struct nlh *h, const struct ip_addr *can_reach, struct iface_table *ret)
{
	_cleanup_free_ struct link_info *links = NULL;
	_cleanup_free_ struct addr_info *addrs = NULL;
	struct iface_table t = {0};
	size_t n_links = 0, n_addrs = 0;
	int r;

	r = nl_link_list(h, &links, &n_links);
	if (r < 0)
		return r;
	r = nl_addr_list(h, AF_UNSPEC, 0, &addrs, &n_addrs);
	if (r < 0)
		return r;
	if (n_links > 0)
		qsort(links, n_links, sizeof(*links), cmp_ifindex);

	t.ifaces = calloc(n_links ? n_links : 1, sizeof(*t.ifaces));
	if (!t.ifaces)
		return -ENOMEM;
	t.n_ifaces = n_links;
	for (size_t k = 0; k < n_links; k++) {
		struct iface *i = &t.ifaces[k];
		memcpy(i->name, links[k].name, sizeof(i->name));
		i->ifindex = links[k].ifindex;
		i->mtu = links[k].mtu;
		for (size_t j = 0; j < n_addrs; j++)
			if (addrs[j].ifindex == i->ifindex)
				i->n_addrs++;
		i->addrs = calloc(i->n_addrs ? i->n_addrs : 1, sizeof(*i->addrs));
		if (!i->addrs) {
			iface_table_done(&t);
			return -ENOMEM;
		}
		i->n_addrs = 0;
		for (size_t j = 0; j < n_addrs; j++)
			if (addrs[j].ifindex == i->ifindex)
				i->addrs[i->n_addrs++] =
					(struct iface_addr){.addr = addrs[j].addr,
							    .scope = addrs[j].scope,
							    .flags = addrs[j].flags};
	}

	r = first_default_route(h, AF_INET, &t.default_ifindex);
	if (r >= 0)
		/* A kernel without IPv6 has no IPv6 routes to list. */
		(void)first_default_route(h, AF_INET6, &t.default_ifindex6);
	if (r >= 0 && can_reach && can_reach->family) {
		struct route_spec rs;
		if (nl_route_get(h, can_reach, &rs) >= 0) {
			t.can_reach_ifindex = rs.ifindex;
			t.can_reach_src = rs.prefsrc;
		}
	}
	if (r < 0) {
		iface_table_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}

int iface_discover(struct nlh *h, const struct iface_request *req, struct ext_iface *ret,
		   struct errmsg *err)
{
	struct iface_table t;
	int r;

	r = iface_table_load(h, req->has_can_reach ? &req->can_reach : NULL, &t);
	if (r < 0) {
		errmsg_set(err, "failed to list network interfaces: %s", strerror(-r));
		return r;
	}
	r = iface_select(&t, req, ret, err);
	iface_table_done(&t);
	return r;
}
