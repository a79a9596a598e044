/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Built-in mode (see builtin.h): the configuration check and the result
 * are pure; ADD, DEL, CHECK and GC do their kernel work through rtnl.h,
 * from the host's network namespace (a netlink socket opened inside the
 * pod's namespace acts there), and their address work through ipam.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "builtin.h"
#include "conf.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "rtnl.h"

/* The type of a value that may be absent (NULL counts as null). */
static enum cni_json_type json_type(const struct cni_json *v)
{
	return v ? cni_json_type(v) : CNI_JSON_NULL;
}

static bool key_in(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return true;
	return false;
}

/* Every key of obj is in allowed; -EOPNOTSUPP naming the first that is not. */
static int only_keys(const struct cni_json *obj, const char *where, const char *const *allowed,
		     struct errmsg *err)
{
	for (size_t i = 0; i < cni_json_size(obj); i++)
		if (!key_in(cni_json_key(obj, i), allowed)) {
			errmsg_set(err, "%s%.64s: not supported in built-in mode", where,
				   cni_json_key(obj, i));
			return -EOPNOTSUPP;
		}
	return 0;
}

static int get_bool(const struct cni_json *obj, const char *key, bool *ret, struct errmsg *err)
{
	const struct cni_json *v = cni_json_get(obj, key);
	if (!v || json_type(v) == CNI_JSON_NULL)
		return 0;
	if (json_type(v) != CNI_JSON_BOOL) {
		errmsg_set(err, "%s: must be a boolean", key);
		return -EINVAL;
	}
	*ret = cni_json_is_true(v);
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 16 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       !strpbrk(s, "/: \t\r\n\v\f");
}

static int parse_ranges(const struct cni_json *ipam, struct builtin_conf *c, struct errmsg *err)
{
	static const char *const range_keys[] = {"subnet", NULL};
	const struct cni_json *ranges = cni_json_get(ipam, "ranges");
	if (json_type(ranges) != CNI_JSON_ARRAY || cni_json_size(ranges) == 0 ||
	    cni_json_size(ranges) > 2) {
		errmsg_set(err, "ipam.ranges: must be an array of one or two range sets");
		return -EINVAL;
	}
	for (size_t i = 0; i < cni_json_size(ranges); i++) {
		const struct cni_json *set = cni_json_item(ranges, i);
		const struct cni_json *range = cni_json_item(set, 0);
		const char *subnet;
		struct ip_net net;
		if (json_type(set) != CNI_JSON_ARRAY || cni_json_size(set) != 1 ||
		    json_type(range) != CNI_JSON_OBJECT) {
			errmsg_set(err, "ipam.ranges[%zu]: built-in mode takes one range per set",
				   i);
			return -EOPNOTSUPP;
		}
		int r = only_keys(range, "ipam.ranges[].", range_keys, err);
		if (r < 0)
			return r;
		if (cni_json_get_string(range, "subnet", &subnet) < 0 ||
		    ip_net_parse(subnet, &net) < 0 || ipam_range_init(&net, &c->ranges[i]) < 0) {
			errmsg_set(
				err,
				"ipam.ranges[%zu].subnet: must be a CIDR with room for addresses",
				i);
			return -EINVAL;
		}
		if (i == 1 && c->ranges[0].subnet.addr.family == net.addr.family) {
			errmsg_set(err, "ipam.ranges: two range sets of the same family");
			return -EOPNOTSUPP;
		}
	}
	c->n_ranges = cni_json_size(ranges);
	return 0;
}

static int parse_routes(const struct cni_json *ipam, struct builtin_conf *c, struct errmsg *err)
{
	static const char *const route_keys[] = {"dst", "gw", NULL};
	const struct cni_json *routes = cni_json_get(ipam, "routes");
	if (!routes || json_type(routes) == CNI_JSON_NULL)
		return 0;
	if (json_type(routes) != CNI_JSON_ARRAY || cni_json_size(routes) > BUILTIN_MAX_ROUTES) {
		errmsg_set(err, "ipam.routes: must be an array of at most %d routes",
			   BUILTIN_MAX_ROUTES);
		return -EINVAL;
	}
	for (size_t i = 0; i < cni_json_size(routes); i++) {
		const struct cni_json *route = cni_json_item(routes, i);
		struct builtin_route *rt = &c->routes[i];
		const char *dst, *gw;
		if (json_type(route) != CNI_JSON_OBJECT ||
		    cni_json_get_string(route, "dst", &dst) < 0 ||
		    ip_net_parse(dst, &rt->dst) < 0) {
			errmsg_set(err, "ipam.routes[%zu].dst: must be a CIDR", i);
			return -EINVAL;
		}
		int r = only_keys(route, "ipam.routes[].", route_keys, err);
		if (r < 0)
			return r;
		ip_net_mask(&rt->dst);
		r = cni_json_get_string(route, "gw", &gw);
		if (r == -EINVAL ||
		    (r >= 0 && ip_addr_parse_family(rt->dst.addr.family, gw, &rt->gw) < 0)) {
			errmsg_set(err, "ipam.routes[%zu].gw: must be an address of dst's family",
				   i);
			return -EINVAL;
		}
	}
	c->n_routes = cni_json_size(routes);
	return 0;
}

static int parse_ipam(const struct cni_json *ipam, struct builtin_conf *c, struct errmsg *err)
{
	static const char *const ipam_keys[] = {"type", "dataDir", "ranges", "routes", NULL};
	const char *type;
	if (json_type(ipam) != CNI_JSON_OBJECT) {
		errmsg_set(err, "ipam: must be an object");
		return -EINVAL;
	}
	if (cni_json_get_string(ipam, "type", &type) < 0 || strcmp(type, "host-local") != 0) {
		errmsg_set(err, "ipam.type: built-in mode implements host-local only");
		return -EOPNOTSUPP;
	}
	int r = only_keys(ipam, "ipam.", ipam_keys, err);
	if (r < 0)
		return r;
	r = cni_json_get_string(ipam, "dataDir", &c->ipam_dir);
	if (r == -ENOENT)
		c->ipam_dir = IPAM_DEFAULT_DATA_DIR;
	else if (r < 0 || c->ipam_dir[0] == '\0') {
		errmsg_set(err, "ipam.dataDir: must be a non-empty string");
		return -EINVAL;
	}
	r = parse_ranges(ipam, c, err);
	if (r >= 0)
		r = parse_routes(ipam, c, err);
	return r;
}

int builtin_conf_parse(const struct cni_json *d, struct builtin_conf *ret, struct errmsg *err)
{
	static const char *const keys[] = {
		"name",	       "type",	 "cniVersion",	"runtimeConfig",
		"ipMasq",      "mtu",	 "isGateway",	"isDefaultGateway",
		"hairpinMode", "bridge", "promiscMode", "forceAddress",
		"ipam",	       NULL,
	};
	struct builtin_conf c = {.bridge = "cni0", .cni_version = ""};
	bool ip_masq = false, promisc = false;
	const char *type;
	int r;

	if (json_type(d) != CNI_JSON_OBJECT) {
		errmsg_set(err, "delegate configuration must be an object");
		return -EINVAL;
	}
	if (cni_json_get_string(d, "type", &type) < 0 || strcmp(type, "bridge") != 0) {
		errmsg_set(err, "type: built-in mode implements bridge only");
		return -EOPNOTSUPP;
	}
	r = only_keys(d, "", keys, err);
	if (r < 0)
		return r;
	if (cni_json_get_string(d, "name", &c.network) < 0 || !cni_conf_valid_id(c.network)) {
		errmsg_set(err, "name: must be a network name");
		return -EINVAL;
	}
	if (cni_json_get_string(d, "cniVersion", &c.cni_version) == -EINVAL) {
		errmsg_set(err, "cniVersion: must be a string");
		return -EINVAL;
	}
	r = get_bool(d, "ipMasq", &ip_masq, err);
	if (r >= 0)
		r = get_bool(d, "promiscMode", &promisc, err);
	if (r >= 0)
		r = get_bool(d, "isGateway", &c.is_gateway, err);
	if (r >= 0)
		r = get_bool(d, "isDefaultGateway", &c.is_default_gateway, err);
	if (r >= 0)
		r = get_bool(d, "hairpinMode", &c.hairpin, err);
	if (r >= 0 && json_type(cni_json_get(d, "forceAddress")) != CNI_JSON_BOOL &&
	    cni_json_has(d, "forceAddress")) {
		errmsg_set(err, "forceAddress: must be a boolean");
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (ip_masq) {
		errmsg_set(err, "ipMasq: built-in mode does not masquerade "
				"(flanneld --ip-masq does; or use delegate mode)");
		return -EOPNOTSUPP;
	}
	if (promisc) {
		errmsg_set(err, "promiscMode: not supported in built-in mode");
		return -EOPNOTSUPP;
	}
	c.is_gateway |= c.is_default_gateway;
	if (cni_json_has(d, "mtu") &&
	    (cni_json_as_u32(cni_json_get(d, "mtu"), &c.mtu) < 0 || c.mtu < 68 || c.mtu > 65535)) {
		errmsg_set(err, "mtu: must be a number from 68 to 65535");
		return -EINVAL;
	}
	r = cni_json_get_string(d, "bridge", &c.bridge);
	if (r == -ENOENT)
		c.bridge = "cni0";
	else if (r < 0 || !valid_ifname(c.bridge)) {
		errmsg_set(err, "bridge: must be an interface name");
		return -EINVAL;
	}
	r = parse_ipam(cni_json_get(d, "ipam"), &c, err);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

void builtin_host_veth_name(const char *id, const char *ifname, char ret[static 16])
{
	/* FNV-1a over "<id>\0<ifname>". */
	uint32_t h = 2166136261u;
	for (const char *p = id;; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
		if (!*p)
			break;
	}
	for (const char *p = ifname; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(ret, 16, "veth%08x", h);
}

static struct cni_json *mac_string(const uint8_t mac[6])
{
	char s[18];
	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return cni_json_new_string(s);
}

static int add_interface(struct cni_json *list, const char *name, const uint8_t mac[6],
			 const char *sandbox)
{
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	if (!o)
		return -ENOMEM;
	int r = cni_json_set(o, "name", cni_json_new_string(name));
	if (r >= 0)
		r = cni_json_set(o, "mac", mac_string(mac));
	if (r >= 0 && sandbox)
		r = cni_json_set(o, "sandbox", cni_json_new_string(sandbox));
	if (r >= 0)
		r = cni_json_append(list, TAKE_PTR(o));
	return r;
}

static int add_route(struct cni_json *list, const struct ip_net *dst, const struct ip_addr *gw)
{
	char text[IP_NET_STRLEN];
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	if (!o)
		return -ENOMEM;
	int r = cni_json_set(o, "dst", cni_json_new_string(ip_net_fmt(dst, text)));
	if (r >= 0 && gw && ip_addr_is_set(gw))
		r = cni_json_set(o, "gw", cni_json_new_string(ip_addr_fmt(gw, text)));
	if (r >= 0)
		r = cni_json_append(list, TAKE_PTR(o));
	return r;
}

static bool has_ip_version(const char *v)
{
	return strcmp(v, "0.3.0") == 0 || strcmp(v, "0.3.1") == 0 || strcmp(v, "0.4.0") == 0;
}

int builtin_result_json(const struct builtin_conf *c, const struct builtin_result *res,
			struct cni_json **ret)
{
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	_cleanup_cni_json_ struct cni_json *ifs = cni_json_new_array();
	_cleanup_cni_json_ struct cni_json *ips = cni_json_new_array();
	_cleanup_cni_json_ struct cni_json *routes = cni_json_new_array();
	char text[IP_NET_STRLEN];
	if (!o || !ifs || !ips || !routes)
		return -ENOMEM;
	int r = add_interface(ifs, res->bridge, res->bridge_mac, NULL);
	if (r >= 0)
		r = add_interface(ifs, res->host, res->host_mac, NULL);
	if (r >= 0)
		r = add_interface(ifs, res->ifname, res->pod_mac, res->sandbox);
	for (unsigned i = 0; r >= 0 && i < res->n_ips; i++) {
		_cleanup_cni_json_ struct cni_json *ip = cni_json_new_object();
		if (!ip)
			return -ENOMEM;
		if (has_ip_version(c->cni_version))
			r = cni_json_set(ip, "version",
					 cni_json_new_string(
						 res->ips[i].addr.family == AF_INET ? "4" : "6"));
		if (r >= 0)
			r = cni_json_set(ip, "interface", cni_json_new_u64(2));
		if (r >= 0)
			r = cni_json_set(ip, "address",
					 cni_json_new_string(ip_net_fmt(&res->ips[i], text)));
		if (r >= 0)
			r = cni_json_set(ip, "gateway",
					 cni_json_new_string(ip_addr_fmt(&res->gateways[i], text)));
		if (r >= 0)
			r = cni_json_append(ips, TAKE_PTR(ip));
	}
	for (unsigned i = 0; r >= 0 && i < c->n_routes; i++)
		r = add_route(routes, &c->routes[i].dst, &c->routes[i].gw);
	for (unsigned i = 0; r >= 0 && c->is_default_gateway && i < res->n_ips; i++) {
		struct ip_net any = {.addr = {.family = res->ips[i].addr.family}};
		r = add_route(routes, &any, &res->gateways[i]);
	}
	if (r >= 0 && c->cni_version[0])
		r = cni_json_set(o, "cniVersion", cni_json_new_string(c->cni_version));
	if (r >= 0)
		r = cni_json_set(o, "interfaces", TAKE_PTR(ifs));
	if (r >= 0)
		r = cni_json_set(o, "ips", TAKE_PTR(ips));
	if (r >= 0)
		r = cni_json_set(o, "routes", TAKE_PTR(routes));
	if (r >= 0)
		r = cni_json_set(o, "dns", cni_json_new_object());
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

/* Writes "1" unless the sysctl already is 1 (a write is not free, and IPv6 forwarding resets state). */
static int sysctl_on(const char *path)
{
	_cleanup_free_ char *v = NULL;
	size_t len;
	if (read_file_bounded(path, 64, &v, &len) >= 0 && len > 0 && v[0] == '1')
		return 0;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		return negative_errno();
	return 0;
}

static int sysctl_set(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		return negative_errno();
	return 0;
}

static int fail(struct errmsg *err, int r, const char *what, const char *name)
{
	errmsg_set(err, "failed to %s %s: %s", what, name, strerror(-r));
	return r;
}

/* The bridge, created (up, MTU) when missing; it must be a bridge. */
static int ensure_bridge(struct rtnl *host, const struct builtin_conf *c, struct rtnl_link *ret,
			 struct errmsg *err)
{
	struct rtnl_msg m;
	int r = rtnl_get_link(host, c->bridge, ret);
	if (r == -ENODEV) {
		/* A MAC of its own (locally administered), so that it does not change with its ports. */
		uint8_t mac[6];
		if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
			return fail(err, negative_errno(), "make a MAC address for", c->bridge);
		mac[0] = (mac[0] & 0xfe) | 0x02;
		r = rtnl_build_bridge(&m, c->bridge, c->mtu, mac);
		if (r >= 0)
			r = rtnl_call(host, &m, NULL);
		if (r < 0 && r != -EEXIST) /* EEXIST: a parallel ADD made it */
			return fail(err, r, "create bridge", c->bridge);
		r = rtnl_get_link(host, c->bridge, ret);
		if (r >= 0 && c->n_ranges > 0) {
			char path[96];
			snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra",
				 c->bridge);
			if (sysctl_set(path, "0") < 0)
				log_v(1, "Cannot turn off router advertisements on %s", c->bridge);
		}
	}
	if (r < 0)
		return fail(err, r, "look up bridge", c->bridge);
	if (strcmp(ret->kind, "bridge") != 0) {
		errmsg_set(err, "%s already exists but is not a bridge", c->bridge);
		return -EEXIST;
	}
	if (!(ret->flags & IFF_UP)) {
		r = rtnl_build_link_up(&m, ret->ifindex);
		if (r >= 0)
			r = rtnl_call(host, &m, NULL);
		if (r < 0)
			return fail(err, r, "set up", c->bridge);
	}
	return 0;
}

static int reserve(const struct builtin_conf *c, const struct builtin_attachment *a,
		   struct builtin_result *res, struct errmsg *err)
{
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	int r = ipam_store_open(c->ipam_dir, c->network, &s);
	if (r < 0)
		return fail(err, r, "open the address store in", c->ipam_dir);
	for (unsigned i = 0; i < c->n_ranges; i++) {
		char text[IP_NET_STRLEN];
		r = ipam_allocate(&s, i, &c->ranges[i], a->container_id, a->ifname,
				  &res->ips[i].addr);
		if (r == -EEXIST) {
			errmsg_set(err,
				   "%s has an address in %s already, duplicate allocation is "
				   "not allowed",
				   a->container_id, ip_net_fmt(&c->ranges[i].subnet, text));
			return r;
		}
		if (r == -ENOSPC) {
			errmsg_set(err, "no IP addresses available in range set %s",
				   ip_net_fmt(&c->ranges[i].subnet, text));
			return r;
		}
		if (r < 0)
			return fail(err, r, "reserve an address in", c->ipam_dir);
		res->ips[i].prefixlen = c->ranges[i].subnet.prefixlen;
		res->gateways[i] = c->ranges[i].gateway;
		res->n_ips = i + 1;
	}
	return 0;
}

static const struct ip_addr *gateway_of(const struct builtin_result *res, int family)
{
	for (unsigned i = 0; i < res->n_ips; i++)
		if (res->ips[i].addr.family == family)
			return &res->gateways[i];
	return NULL;
}

/*
 * Requests sent together (rtnl_call_batch(): one system call each way), in
 * order, each with what its failure is reported as and the error that
 * counts as success for it (0: none).
 */
struct batch {
	struct rtnl_msg m[RTNL_BATCH_MAX];
	struct rtnl_link *links[RTNL_BATCH_MAX];
	char what[RTNL_BATCH_MAX][80];
	int tolerated[RTNL_BATCH_MAX], errs[RTNL_BATCH_MAX];
	size_t n;
};

/* The next request of b, for the caller to build; its RTM_NEWLINK reply goes to link. */
static _printf_(4, 5) struct rtnl_msg *batch_add(struct batch *b, struct rtnl_link *link,
						 int tolerated, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->what[b->n], sizeof(b->what[b->n]), fmt, ap);
	va_end(ap);
	b->links[b->n] = link;
	b->tolerated[b->n] = tolerated;
	return &b->m[b->n++];
}

/*
 * Sends b and empties it: 0, or the first request's error that is not
 * tolerated, with err saying what failed and *failed (may be NULL) its
 * index.
 */
static int batch_send(struct rtnl *r, struct batch *b, struct errmsg *err, size_t *failed)
{
	struct rtnl_msg *m[RTNL_BATCH_MAX] = {};
	size_t n = b->n;
	b->n = 0;
	for (size_t i = 0; i < n; i++)
		m[i] = &b->m[i];
	int k = rtnl_call_batch(r, m, n, b->errs, b->links);
	if (k < 0) {
		errmsg_set(err, "failed to %s: %s", b->what[0], strerror(-k));
		return k;
	}
	for (size_t i = 0; i < n; i++)
		if (b->errs[i] < 0 && b->errs[i] != b->tolerated[i]) {
			errmsg_set(err, "failed to %s: %s", b->what[i], strerror(-b->errs[i]));
			if (failed)
				*failed = i;
			return b->errs[i];
		}
	return 0;
}

/*
 * Host side, one batch: the gateway addresses on the bridge when isGateway
 * (already there is fine) and the veth pair, its pod end made directly in
 * the pod's namespace, the host end echoed into hl (Linux 6.3+, else left
 * unset); then forwarding on.
 */
static int create_veth(struct rtnl *host, const struct builtin_conf *c,
		       const struct builtin_attachment *a, int bridge, int pod_fd,
		       const char *host_veth, struct rtnl_link *hl, struct errmsg *err)
{
	struct batch b = {.n = 0};
	char text[IP_NET_STRLEN];
	size_t veth, failed = 0;
	int r;
	for (unsigned i = 0; c->is_gateway && i < c->n_ranges; i++) {
		struct ip_net gw = {.addr = c->ranges[i].gateway,
				    .prefixlen = c->ranges[i].subnet.prefixlen};
		r = rtnl_build_addr(batch_add(&b, NULL, -EEXIST, "add the gateway address %s to %s",
					      ip_net_fmt(&gw, text), c->bridge),
				    bridge, &gw);
		if (r < 0)
			return fail(err, r, "add the gateway address to", c->bridge);
	}
	veth = b.n;
	*hl = (struct rtnl_link){};
	r = rtnl_build_veth(batch_add(&b, hl, 0, "create veth %s", host_veth), host_veth, c->mtu,
			    bridge, a->ifname, pod_fd);
	if (r < 0)
		return fail(err, r, "create veth", host_veth);
	r = batch_send(host, &b, err, &failed);
	if (r == -EEXIST && failed == veth) {
		errmsg_set(err, "container veth name provided (%s) already exists", a->ifname);
		return r;
	}
	if (r < 0)
		return r;
	for (unsigned i = 0; c->is_gateway && i < c->n_ranges; i++) {
		const char *fwd = c->ranges[i].subnet.addr.family == AF_INET
					  ? "/proc/sys/net/ipv4/ip_forward"
					  : "/proc/sys/net/ipv6/conf/all/forwarding";
		r = sysctl_on(fwd);
		if (r < 0)
			return fail(err, r, "enable", fwd);
	}
	return 0;
}

/*
 * Host side, one batch: hairpin on the new port, then the bridge as it is
 * now (its address may follow its ports'), and the port unless the kernel
 * echoed it at creation (hl set).
 */
static int read_host(struct rtnl *host, const struct builtin_conf *c, const char *host_veth,
		     struct rtnl_link *hl, struct rtnl_link *br, struct errmsg *err)
{
	struct batch b = {.n = 0};
	bool echoed = strcmp(hl->name, host_veth) == 0;
	int r = 0;
	*br = (struct rtnl_link){};
	if (c->hairpin)
		r = rtnl_build_hairpin(batch_add(&b, NULL, 0, "set hairpin mode on %s", host_veth),
				       host_veth, true);
	if (r >= 0 && !echoed) {
		*hl = (struct rtnl_link){};
		r = rtnl_build_getlink(batch_add(&b, hl, 0, "look up %s", host_veth), 0, host_veth);
	}
	if (r >= 0)
		r = rtnl_build_getlink(batch_add(&b, br, 0, "look up %s", c->bridge), 0, c->bridge);
	if (r < 0)
		return fail(err, r, "look up", host_veth);
	r = batch_send(host, &b, err, NULL);
	if (r < 0)
		return r;
	if (hl->ifindex <= 0 || br->ifindex <= 0) {
		errmsg_set(err, "%s or %s is not what was just made", host_veth, c->bridge);
		return -ENODEV;
	}
	return 0;
}

/*
 * Pod side, through a socket of the pod's namespace, in batches: the pod's
 * end (ifindex, as its peer reports it) up, its addresses and routes, then
 * the interface as it is now.
 */
static int configure_pod(struct rtnl *pod, const struct builtin_conf *c, int ifindex,
			 const struct builtin_attachment *a, const struct builtin_result *res,
			 struct rtnl_link *pl, struct errmsg *err)
{
	struct batch b = {.n = 0};
	char text[IP_NET_STRLEN];
	int r = rtnl_build_link_up(batch_add(&b, NULL, 0, "set up %s", a->ifname), ifindex);
	for (unsigned i = 0; r >= 0 && i < res->n_ips; i++)
		r = rtnl_build_addr(
			batch_add(&b, NULL, 0, "add address %s", ip_net_fmt(&res->ips[i], text)),
			ifindex, &res->ips[i]);
	if (r < 0)
		return fail(err, r, "configure", a->ifname);
	for (unsigned i = 0; i < c->n_routes + (c->is_default_gateway ? res->n_ips : 0); i++) {
		struct ip_net dst;
		const struct ip_addr *gw;
		if (i < c->n_routes) {
			dst = c->routes[i].dst;
			gw = ip_addr_is_set(&c->routes[i].gw) ? &c->routes[i].gw
							      : gateway_of(res, dst.addr.family);
		} else {
			dst = (struct ip_net){
				.addr = {.family = res->ips[i - c->n_routes].addr.family}};
			gw = &res->gateways[i - c->n_routes];
		}
		if (!gw)
			continue; /* a route of a family the pod has no address of */
		if (b.n == RTNL_BATCH_MAX) {
			r = batch_send(pod, &b, err, NULL);
			if (r < 0)
				return r;
		}
		r = rtnl_build_route(
			batch_add(&b, NULL, 0, "add route to %s", ip_net_fmt(&dst, text)), ifindex,
			&dst, gw);
		if (r < 0)
			return fail(err, r, "add route to", ip_net_fmt(&dst, text));
	}
	if (b.n == RTNL_BATCH_MAX) {
		r = batch_send(pod, &b, err, NULL);
		if (r < 0)
			return r;
	}
	*pl = (struct rtnl_link){};
	r = rtnl_build_getlink(batch_add(&b, pl, 0, "look up %s", a->ifname), 0, a->ifname);
	if (r < 0)
		return fail(err, r, "look up", a->ifname);
	r = batch_send(pod, &b, err, NULL);
	if (r < 0)
		return r;
	if (pl->ifindex != ifindex) {
		errmsg_set(err, "%s in %s is not the veth just made", a->ifname, a->netns);
		return -ENODEV;
	}
	return 0;
}

int builtin_add(const struct builtin_conf *c, const struct builtin_attachment *a,
		struct builtin_result *ret, struct errmsg *err)
{
	_cleanup_rtnl_ struct rtnl host = RTNL_INIT, pod = RTNL_INIT;
	_cleanup_close_ int host_fd = -1, pod_fd = -1;
	struct builtin_result res = {.sandbox = a->netns};
	struct rtnl_link br, hl, pl;
	int r;

	host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		return fail(err, negative_errno(), "open", "/proc/self/ns/net");
	pod_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
	if (pod_fd < 0)
		return fail(err, negative_errno(), "open netns", a->netns);

	r = reserve(c, a, &res, err);
	if (r < 0)
		return r;

	r = rtnl_open(&host);
	if (r < 0)
		return fail(err, r, "open", "rtnetlink");
	r = ensure_bridge(&host, c, &br, err);
	if (r < 0)
		return r;
	builtin_host_veth_name(a->container_id, a->ifname, res.host);
	r = create_veth(&host, c, a, br.ifindex, pod_fd, res.host, &hl, err);
	if (r >= 0)
		r = read_host(&host, c, res.host, &hl, &br, err);
	if (r < 0)
		return r;

	r = rtnl_open_in(&pod, pod_fd, host_fd);
	if (r < 0)
		return fail(err, r, "open rtnetlink in", a->netns);
	/* The peer's index (IFLA_LINK) is left out when it equals the host end's. */
	r = configure_pod(&pod, c, hl.link > 0 ? hl.link : hl.ifindex, a, &res, &pl, err);
	if (r < 0)
		return r;

	snprintf(res.bridge, sizeof(res.bridge), "%s", c->bridge);
	snprintf(res.ifname, sizeof(res.ifname), "%s", a->ifname);
	memcpy(res.bridge_mac, br.mac, 6);
	memcpy(res.host_mac, hl.mac, 6);
	memcpy(res.pod_mac, pl.mac, 6);
	*ret = res;
	return 0;
}

static int del_link(struct rtnl *r, const char *name)
{
	struct rtnl_msg m;
	int k = rtnl_build_dellink(&m, 0, name);
	if (k >= 0)
		k = rtnl_call(r, &m, NULL);
	return k == -ENODEV ? 0 : k;
}

int builtin_del(const struct builtin_conf *c, const struct builtin_attachment *a,
		struct errmsg *err)
{
	_cleanup_rtnl_ struct rtnl host = RTNL_INIT;
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	char host_veth[16];
	int r;

	r = rtnl_open(&host);
	if (r < 0)
		return fail(err, r, "open", "rtnetlink");
	/* The pod's end, by name in its namespace: also pods whose host end another plugin named. */
	if (a->netns && a->netns[0]) {
		_cleanup_close_ int host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		_cleanup_close_ int pod_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
		if (pod_fd >= 0 && host_fd >= 0) {
			_cleanup_rtnl_ struct rtnl pod = RTNL_INIT;
			r = rtnl_open_in(&pod, pod_fd, host_fd);
			if (r >= 0)
				r = del_link(&pod, a->ifname);
			if (r < 0)
				return fail(err, r, "delete", a->ifname);
		} else {
			log_v(1, "Netns %s is gone (%m): its interfaces went with it", a->netns);
		}
	}
	builtin_host_veth_name(a->container_id, a->ifname, host_veth);
	r = del_link(&host, host_veth);
	if (r < 0)
		return fail(err, r, "delete", host_veth);

	r = ipam_store_open(c->ipam_dir, c->network, &s);
	if (r >= 0)
		r = ipam_release(&s, a->container_id, a->ifname);
	if (r < 0)
		return fail(err, r, "release the addresses in", c->ipam_dir);
	return 0;
}

struct dump_ctx {
	int ifindex;
	struct rtnl_addr addrs[16];
	unsigned n_addrs;
	struct rtnl_route routes[64];
	unsigned n_routes;
};

static int addr_cb(const struct nlmsghdr *h, void *userdata)
{
	struct dump_ctx *d = userdata;
	struct rtnl_addr a;
	if (rtnl_parse_addr(h, &a) >= 0 && a.ifindex == d->ifindex &&
	    d->n_addrs < ARRAY_SIZE(d->addrs))
		d->addrs[d->n_addrs++] = a;
	return 0;
}

static int route_cb(const struct nlmsghdr *h, void *userdata)
{
	struct dump_ctx *d = userdata;
	struct rtnl_route rt;
	if (rtnl_parse_route(h, &rt) >= 0 && rt.oif == d->ifindex && rt.table == RT_TABLE_MAIN &&
	    d->n_routes < ARRAY_SIZE(d->routes))
		d->routes[d->n_routes++] = rt;
	return 0;
}

static bool has_route(const struct dump_ctx *d, const struct ip_net *dst, const struct ip_addr *gw)
{
	for (unsigned i = 0; i < d->n_routes; i++)
		if (ip_net_equal(&d->routes[i].dst, dst) && ip_addr_equal(&d->routes[i].gw, gw))
			return true;
	return false;
}

/* prevResult's ips are the reserved addresses (as a set). */
static int check_prev_result(const struct cni_json *prev, const struct builtin_result *res,
			     struct errmsg *err)
{
	const struct cni_json *ips = cni_json_get(prev, "ips");
	size_t n = cni_json_size(ips);
	if (json_type(ips) != CNI_JSON_ARRAY || n != res->n_ips) {
		errmsg_set(err, "prevResult has %zu addresses, the attachment %u", n, res->n_ips);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *text;
		struct ip_net net;
		bool found = false;
		if (cni_json_get_string(cni_json_item(ips, i), "address", &text) < 0 ||
		    ip_net_parse(text, &net) < 0) {
			errmsg_set(err, "prevResult.ips[%zu].address: must be a CIDR", i);
			return -EINVAL;
		}
		for (unsigned k = 0; k < res->n_ips; k++)
			found |= ip_net_equal(&net, &res->ips[k]);
		if (!found) {
			errmsg_set(err,
				   "prevResult address %.64s is not reserved for the attachment",
				   text);
			return -EINVAL;
		}
	}
	return 0;
}

int builtin_check(const struct builtin_conf *c, const struct builtin_attachment *a,
		  const struct cni_json *prev_result, struct errmsg *err)
{
	_cleanup_rtnl_ struct rtnl host = RTNL_INIT, pod = RTNL_INIT;
	_cleanup_close_ int host_fd = -1, pod_fd = -1;
	struct builtin_result res = {};
	struct dump_ctx d = {};
	struct rtnl_link pl, br, hl;
	struct rtnl_msg m;
	char text[IP_NET_STRLEN];
	int r;

	{
		_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
		r = ipam_store_open(c->ipam_dir, c->network, &s);
		if (r < 0)
			return fail(err, r, "open the address store in", c->ipam_dir);
		for (unsigned i = 0; i < c->n_ranges; i++) {
			r = ipam_find(&s, a->container_id, a->ifname, &c->ranges[i],
				      &res.ips[i].addr);
			if (r == -ENOENT) {
				errmsg_set(err, "no address of %s reserved for %s/%s",
					   ip_net_fmt(&c->ranges[i].subnet, text), a->container_id,
					   a->ifname);
				return r;
			}
			if (r < 0)
				return fail(err, r, "read the address store in", c->ipam_dir);
			res.ips[i].prefixlen = c->ranges[i].subnet.prefixlen;
			res.gateways[i] = c->ranges[i].gateway;
			res.n_ips = i + 1;
		}
	}
	if (prev_result) {
		r = check_prev_result(prev_result, &res, err);
		if (r < 0)
			return r;
	}

	host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	pod_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
	if (host_fd < 0 || pod_fd < 0)
		return fail(err, negative_errno(), "open netns", a->netns);
	r = rtnl_open(&host);
	if (r >= 0)
		r = rtnl_open_in(&pod, pod_fd, host_fd);
	if (r < 0)
		return fail(err, r, "open rtnetlink in", a->netns);
	r = rtnl_get_link(&pod, a->ifname, &pl);
	if (r < 0)
		return fail(err, r, "find the pod's interface", a->ifname);
	if (strcmp(pl.kind, "veth") != 0 || !(pl.flags & IFF_UP) || (c->mtu && pl.mtu != c->mtu)) {
		errmsg_set(err, "%s is not an up veth with MTU %u (kind %s, mtu %u)", a->ifname,
			   c->mtu, pl.kind, pl.mtu);
		return -EINVAL;
	}
	r = rtnl_get_link(&host, c->bridge, &br);
	if (r < 0)
		return fail(err, r, "find bridge", c->bridge);
	r = rtnl_build_getlink(&m, pl.link, NULL);
	if (r >= 0)
		r = rtnl_call(&host, &m, &hl);
	if (r < 0 || hl.master != br.ifindex) {
		errmsg_set(err, "the host end of %s is not on %s", a->ifname, c->bridge);
		return -EINVAL;
	}

	d.ifindex = pl.ifindex;
	r = rtnl_build_dump(&m, RTM_GETADDR, AF_UNSPEC);
	if (r >= 0)
		r = rtnl_dump(&pod, &m, addr_cb, &d);
	if (r >= 0)
		r = rtnl_build_dump(&m, RTM_GETROUTE, AF_UNSPEC);
	if (r >= 0)
		r = rtnl_dump(&pod, &m, route_cb, &d);
	if (r < 0)
		return fail(err, r, "list the addresses and routes in", a->netns);
	for (unsigned i = 0; i < res.n_ips; i++) {
		bool found = false;
		for (unsigned k = 0; k < d.n_addrs; k++)
			found |= ip_net_equal(&d.addrs[k].addr, &res.ips[i]);
		if (!found) {
			errmsg_set(err, "%s lacks its address %s", a->ifname,
				   ip_net_fmt(&res.ips[i], text));
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < c->n_routes + (c->is_default_gateway ? res.n_ips : 0); i++) {
		struct ip_net dst;
		const struct ip_addr *gw;
		if (i < c->n_routes) {
			dst = c->routes[i].dst;
			gw = ip_addr_is_set(&c->routes[i].gw) ? &c->routes[i].gw
							      : gateway_of(&res, dst.addr.family);
		} else {
			dst = (struct ip_net){
				.addr = {.family = res.ips[i - c->n_routes].addr.family}};
			gw = &res.gateways[i - c->n_routes];
		}
		if (gw && !has_route(&d, &dst, gw)) {
			errmsg_set(err, "%s lacks its route to %s", a->ifname,
				   ip_net_fmt(&dst, text));
			return -EINVAL;
		}
	}
	return 0;
}

struct gc_ctx {
	bool (*keep)(const struct ipam_entry *e, void *userdata);
	void *userdata;
	struct rtnl *host;
};

static bool gc_keep(const struct ipam_entry *e, void *userdata)
{
	struct gc_ctx *g = userdata;
	return g->keep(e, g->userdata);
}

static void gc_gone(const struct ipam_entry *e, void *userdata)
{
	struct gc_ctx *g = userdata;
	char name[16];
	if (!e->ifname[0])
		return;
	builtin_host_veth_name(e->id, e->ifname, name);
	int r = del_link(g->host, name);
	if (r < 0)
		log_warn_errno(r, "Failed to delete %s of stale attachment %s/%s", name, e->id,
			       e->ifname);
}

int builtin_gc(const char *ipam_dir, const char *network,
	       bool (*keep)(const struct ipam_entry *e, void *userdata), void *userdata,
	       struct errmsg *err)
{
	_cleanup_rtnl_ struct rtnl host = RTNL_INIT;
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	struct gc_ctx g = {.keep = keep, .userdata = userdata, .host = &host};
	int r = rtnl_open(&host);
	if (r < 0)
		return fail(err, r, "open", "rtnetlink");
	r = ipam_store_open(ipam_dir, network, &s);
	if (r >= 0)
		r = ipam_gc(&s, gc_keep, gc_gone, &g);
	if (r < 0)
		return fail(err, r, "garbage-collect the addresses in", ipam_dir);
	return r;
}
