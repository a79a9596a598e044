/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subnet keys, lease values and the allocation planner of the etcd subnet
 * manager, byte-compatible with upstream flannel so that C and Go agents
 * can share one etcd prefix.
 *
 * The planner walks [SubnetMin, SubnetMax] like upstream's allocateSubnet
 * (collect up to 100 free subnets, pick one at random), but jumps over an
 * existing lease in one step instead of one subnet at a time, so a hostile
 * or huge lease (a /8 in the list) cannot make the walk take 2^56 steps.
 */
#include <errno.h>
#include <string.h>

#include "etcd/registry.h"
#include "lib/core/macro.h"
#include "lib/core/quote.h"
#include "lib/json/json.h"

typedef unsigned __int128 u128;

#define VALUE_MAX_DEPTH 16

static u128 to_u128(const struct ip_addr *a)
{
	u128 v = 0;
	unsigned n = a->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | a->bytes[i];
	return v;
}

static void from_u128(int family, u128 v, struct ip_addr *ret)
{
	unsigned n = family == AF_INET ? 4 : 16;

	*ret = (struct ip_addr){.family = family};
	for (unsigned i = n; i > 0; i--) {
		ret->bytes[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

int etcd_subnet_key_format(const struct ip_net *sn, const struct ip_net *sn6,
			   char buf[static ETCD_SUBNET_KEY_MAX])
{
	char a[IP_ADDR_STRLEN], b[IP_ADDR_STRLEN];

	if (sn->addr.family != AF_INET || !ip_net_is_masked(sn))
		return -EINVAL;
	ip_addr_fmt(&sn->addr, a);
	if (!sn6 || sn6->addr.family == 0) {
		snprintf(buf, ETCD_SUBNET_KEY_MAX, "%s-%u", a, sn->prefixlen);
		return 0;
	}
	if (sn6->addr.family != AF_INET6 || !ip_net_is_masked(sn6))
		return -EINVAL;
	ip_addr_fmt(&sn6->addr, b);
	snprintf(buf, ETCD_SUBNET_KEY_MAX, "%s-%u&%s-%u", a, sn->prefixlen, b, sn6->prefixlen);
	return 0;
}

/* Decimal digits only (as Go's ParseUint), value <= max. */
static int parse_len(const char *s, size_t len, unsigned max, uint8_t *ret)
{
	unsigned v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return -EINVAL;
	}
	*ret = (uint8_t)v;
	return 0;
}

static int parse_part(int family, const char *s, size_t len, struct ip_net *ret)
{
	const char *dash = memrchr(s, '-', len);
	char addr[IP_ADDR_STRLEN];
	size_t alen;
	struct ip_net n = {};
	int r;

	if (!dash)
		return -EINVAL;
	alen = (size_t)(dash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	for (size_t i = 0; i < alen; i++) {
		char c = s[i];
		bool ok = family == AF_INET
				  ? (c >= '0' && c <= '9') || c == '.'
				  : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':';
		if (!ok)
			return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	r = ip_addr_parse_family(family, addr, &n.addr);
	if (r < 0)
		return -EINVAL;
	r = parse_len(dash + 1, len - alen - 1, family == AF_INET ? 31 : 127, &n.prefixlen);
	if (r < 0)
		return r;
	if (!ip_net_is_masked(&n))
		return -EINVAL;
	*ret = n;
	return 0;
}

int etcd_subnet_key_parse(const char *s, size_t len, struct ip_net *ret_sn, struct ip_net *ret_sn6)
{
	const char *amp = memchr(s, '&', len);
	struct ip_net sn, sn6 = {};
	int r;

	if (memchr(s, '\0', len))
		return -EINVAL;
	r = parse_part(AF_INET, s, amp ? (size_t)(amp - s) : len, &sn);
	if (r < 0)
		return r;
	if (amp) {
		r = parse_part(AF_INET6, amp + 1, len - (size_t)(amp - s) - 1, &sn6);
		if (r < 0)
			return r;
	}
	*ret_sn = sn;
	*ret_sn6 = sn6;
	return 0;
}

int etcd_key_subnet_name(const char *prefix, const char *key, size_t key_len, const char **ret_name,
			 size_t *ret_len)
{
	static const char sub[] = "/subnets/";
	size_t plen = strlen(prefix);

	/* upstream joins with path.Join, which drops a trailing '/' of the prefix */
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	if (key_len <= plen + strlen(sub) || memcmp(key, prefix, plen) != 0 ||
	    memcmp(key + plen, sub, strlen(sub)) != 0)
		return -ENOENT;
	*ret_name = key + plen + strlen(sub);
	*ret_len = key_len - plen - strlen(sub);
	if (memchr(*ret_name, '/', *ret_len))
		return -ENOENT;
	return 0;
}

static int add_backend_data(cJSON *o, const char *name, const struct lease_attrs *attrs, bool v6)
{
	char buf[128];
	cJSON *raw;
	int r;

	if (!v6 && strcmp(attrs->backend_type, "extension") == 0 && attrs->ext_data) {
		/* A JSON string of any length, checked when it was made. */
		raw = cJSON_CreateRaw(attrs->ext_data);
		goto add;
	}
	r = lease_backend_data_render(attrs, v6, buf, sizeof(buf));
	if (r < 0)
		return r;
	raw = cJSON_CreateRaw(buf);
add:
	if (!raw || !cJSON_AddItemToObject(o, name, raw)) {
		cJSON_Delete(raw);
		return -ENOMEM;
	}
	return 0;
}

int etcd_lease_value_render(const struct lease_attrs *attrs, const struct ip_addr *public_ip,
			    const struct ip_addr *public_ip6, struct buf *out)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *s = NULL;
	char a[IP_ADDR_STRLEN];
	bool has6 = public_ip6 && public_ip6->family == AF_INET6;
	int r;

	if (!o)
		return -ENOMEM;
	if (!public_ip || public_ip->family != AF_INET ||
	    (public_ip6 && public_ip6->family && public_ip6->family != AF_INET6))
		return -EINVAL;
	if (!cJSON_AddStringToObject(o, "PublicIP", ip_addr_fmt(public_ip, a)))
		return -ENOMEM;
	if (has6 ? !cJSON_AddStringToObject(o, "PublicIPv6", ip_addr_fmt(public_ip6, a))
		 : !cJSON_AddNullToObject(o, "PublicIPv6"))
		return -ENOMEM;
	if (attrs->backend_type[0] &&
	    !cJSON_AddStringToObject(o, "BackendType", attrs->backend_type))
		return -ENOMEM;
	if (lease_attrs_has_data(attrs, false)) {
		r = add_backend_data(o, "BackendData", attrs, false);
		if (r < 0)
			return r;
	}
	if (has6 && lease_attrs_has_data(attrs, true)) {
		r = add_backend_data(o, "BackendV6Data", attrs, true);
		if (r < 0)
			return r;
	}
	s = json_print(o);
	if (!s)
		return -ENOMEM;
	return buf_puts(out, s);
}

static int value_addr(const cJSON *o, const char *key, int family, bool nullable,
		      struct ip_addr *ret, struct errmsg *err)
{
	const cJSON *it = json_item_ci(o, key);
	char q[QUOTE_BUF_SIZE];
	const char *s;

	*ret = (struct ip_addr){};
	if (!it) {
		if (nullable)
			return 0;
		errmsg_set(err, "%s: missing", key);
		return -EINVAL;
	}
	if (cJSON_IsNull(it) && nullable)
		return 0;
	if (json_as_str(it, &s) < 0) {
		errmsg_set(err, "%s: expected a string, got %s", key, json_type_name(it));
		return -EINVAL;
	}
	if (ip_addr_parse_family(family, s, ret) < 0) {
		errmsg_set(err, "%s: invalid %s address %s", key,
			   family == AF_INET ? "IPv4" : "IPv6", quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

static int value_backend_data(const cJSON *o, const char *key, bool v6, struct lease_attrs *attrs,
			      struct errmsg *err)
{
	const cJSON *it = json_item_ci(o, key);
	_cleanup_free_ char *s = NULL;
	struct lease_backend_data d;
	struct errmsg e = {};
	int r;

	if (!it || cJSON_IsNull(it))
		return 0;
	s = json_print(it);
	if (!s)
		return -ENOMEM;
	r = lease_backend_data_parse(s, strlen(s), &d, &e);
	if (r < 0) {
		errmsg_set(err, "%s: %s", key, e.text);
		return r;
	}
	lease_attrs_set_data(attrs, v6, &d);
	return 0;
}

/* extension: BackendData, a JSON string or null, as JSON text. */
static int value_ext_data(const cJSON *o, char **ret, struct errmsg *err)
{
	const cJSON *it = json_item_ci(o, "BackendData");
	_cleanup_free_ char *s = NULL;
	struct errmsg e = {};
	int r;

	if (!it || cJSON_IsNull(it))
		return 0;
	s = json_print(it);
	if (!s)
		return -ENOMEM;
	r = lease_ext_data_check(s, strlen(s), &e);
	if (r < 0) {
		errmsg_set(err, "BackendData: %s", e.text);
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

int etcd_lease_value_parse(const char *json, size_t len, struct lease *ret, char **ret_ext_data,
			   struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	_cleanup_free_ char *ext = NULL;
	struct lease_attrs attrs = {};
	struct ip_addr pub4, pub6;
	const cJSON *bt;
	const char *s;
	int r;

	r = json_parse(json, len, ETCD_LEASE_VALUE_MAX, VALUE_MAX_DEPTH, &root);
	if (r == -EMSGSIZE) {
		errmsg_set(err, "value larger than %d bytes", ETCD_LEASE_VALUE_MAX);
		return r;
	}
	if (r < 0) {
		errmsg_set(err, "value is not valid JSON");
		return r;
	}
	if (!cJSON_IsObject(root)) {
		errmsg_set(err, "value: expected an object, got %s", json_type_name(root));
		return -EINVAL;
	}
	r = value_addr(root, "PublicIP", AF_INET, false, &pub4, err);
	if (r < 0)
		return r;
	r = value_addr(root, "PublicIPv6", AF_INET6, true, &pub6, err);
	if (r < 0)
		return r;
	bt = json_item_ci(root, "BackendType");
	if (bt && !cJSON_IsNull(bt)) {
		if (json_as_str(bt, &s) < 0) {
			errmsg_set(err, "BackendType: expected a string, got %s",
				   json_type_name(bt));
			return -EINVAL;
		}
		if (strlen(s) >= sizeof(attrs.backend_type)) {
			errmsg_set(err, "BackendType: longer than %zu bytes",
				   sizeof(attrs.backend_type) - 1);
			return -EINVAL;
		}
		snprintf(attrs.backend_type, sizeof(attrs.backend_type), "%s", s);
	}
	if (strcmp(attrs.backend_type, "extension") == 0) {
		/* Its data is BackendData only (upstream: no BackendV6Data). */
		r = value_ext_data(root, &ext, err);
		if (r < 0)
			return r;
		attrs.ext_data = ext;
	} else {
		r = value_backend_data(root, "BackendData", false, &attrs, err);
		if (r < 0)
			return r;
		r = value_backend_data(root, "BackendV6Data", true, &attrs, err);
		if (r < 0)
			return r;
	}
	ret->public_ip = pub4;
	ret->public_ip6 = pub6;
	ret->attrs = attrs;
	*ret_ext_data = TAKE_PTR(ext);
	return 0;
}

int etcd_lease_from_kv(const char *name, size_t name_len, const char *value, size_t value_len,
		       char name_buf[static ETCD_SUBNET_KEY_MAX], struct lease *ret,
		       char **ret_ext_data, struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];
	struct lease l = {};
	struct ip_net sn6;
	int r;

	if (name_len >= ETCD_SUBNET_KEY_MAX ||
	    etcd_subnet_key_parse(name, name_len, &l.subnet, &sn6) < 0) {
		errmsg_set(err, "not a subnet key: %s", quote_mem(name, name_len, q, sizeof(q)));
		return -EINVAL;
	}
	memcpy(name_buf, name, name_len);
	name_buf[name_len] = '\0';
	l.name = name_buf;
	l.has_subnet = true;
	if (sn6.addr.family) {
		l.has_subnet6 = true;
		l.subnet6 = sn6;
	}
	r = etcd_lease_value_parse(value, value_len, &l, ret_ext_data, err);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}

static bool in_range(const struct ip_net *sn, const struct ip_addr *min, const struct ip_addr *max,
		     uint32_t len)
{
	return sn->addr.family == min->family && ip_addr_cmp(&sn->addr, min) >= 0 &&
	       ip_addr_cmp(&sn->addr, max) <= 0 && sn->prefixlen == len;
}

bool etcd_subnet_compatible(const struct netconf *conf, const struct ip_net *sn,
			    const struct ip_net *sn6)
{
	bool has6 = sn6 && sn6->addr.family != 0;

	if (!sn || !in_range(sn, &conf->subnet_min, &conf->subnet_max, conf->subnet_len))
		return false;
	if (!conf->enable_ipv6)
		return !has6;
	return has6 &&
	       in_range(sn6, &conf->ipv6_subnet_min, &conf->ipv6_subnet_max, conf->ipv6_subnet_len);
}

static bool overlaps_any(const struct etcd_alloc_lease *leases, size_t n, bool v6,
			 const struct ip_net *sn)
{
	for (size_t i = 0; i < n; i++) {
		const struct ip_net *l = v6 ? &leases[i].subnet6 : &leases[i].subnet;
		if (l->addr.family == sn->addr.family && ip_net_overlaps(l, sn))
			return true;
	}
	return false;
}

/*
 * Collect up to ETCD_ALLOC_CANDIDATES free subnets of length len between
 * min and max (both aligned) and pick the random-th one. -ENOSPC if none.
 */
static int pick_free(const struct etcd_alloc_lease *leases, size_t n, bool v6,
		     const struct ip_addr *min, const struct ip_addr *max, uint32_t len,
		     uint32_t random, struct ip_net *ret)
{
	int family = min->family;
	unsigned bits = ip_family_bits(family);
	u128 cand[ETCD_ALLOC_CANDIDATES];
	u128 step, cur = to_u128(min), last = to_u128(max), all;
	size_t found = 0;

	if (!bits || len > bits || len == 0)
		return -EINVAL;
	all = bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1);
	step = (u128)1 << (bits - len);

	while (cur <= last && found < ETCD_ALLOC_CANDIDATES) {
		struct ip_net sn = {.prefixlen = (uint8_t)len};
		bool taken = false, at_end = cur > all - step;
		u128 next = at_end ? 0 : cur + step;

		from_u128(family, cur, &sn.addr);
		for (size_t i = 0; i < n; i++) {
			const struct ip_net *l = v6 ? &leases[i].subnet6 : &leases[i].subnet;
			struct ip_addr le;
			u128 lend;

			if (l->addr.family != family || !ip_net_overlaps(l, &sn))
				continue;
			taken = true;
			/* a lease larger than a subnet: continue after its end */
			ip_net_last_addr(l, &le);
			lend = to_u128(&le);
			if (lend > all - step)
				at_end = true;
			else if (!at_end && (lend / step + 1) * step > next)
				next = (lend / step + 1) * step;
		}
		if (!taken)
			cand[found++] = cur;
		if (at_end)
			break;
		cur = next;
	}
	if (found == 0)
		return -ENOSPC;
	*ret = (struct ip_net){.prefixlen = (uint8_t)len};
	from_u128(family, cand[random % found], &ret->addr);
	return 0;
}

int etcd_alloc_plan(const struct netconf *conf, const struct etcd_alloc_lease *leases, size_t n,
		    const struct ip_addr *public_ip, const struct ip_net *prev,
		    const struct ip_net *prev6, uint32_t random4, uint32_t random6,
		    struct etcd_alloc_plan *ret)
{
	struct etcd_alloc_plan p = {};
	int r;

	if (!conf->enable_ipv4 || conf->subnet_len == 0)
		return -EINVAL;

	/* 1. a lease that already carries our public IP */
	for (size_t i = 0; public_ip && public_ip->family == AF_INET && i < n; i++) {
		if (!ip_addr_equal(&leases[i].public_ip, public_ip))
			continue;
		if (etcd_subnet_compatible(conf, &leases[i].subnet, &leases[i].subnet6)) {
			p.action = ETCD_ALLOC_REUSE_BY_IP;
			p.subnet = leases[i].subnet;
			p.subnet6 = leases[i].subnet6;
			p.with_ttl = leases[i].has_ttl;
			*ret = p;
			return 0;
		}
		p.delete_stale = true;
		p.stale_subnet = leases[i].subnet;
		p.stale_subnet6 = leases[i].subnet6;
		break;
	}
	p.with_ttl = true;

	/* 2. the subnet of the previous subnet.env, if nobody holds it */
	if (prev && prev->addr.family == AF_INET) {
		bool has6 = prev6 && prev6->addr.family == AF_INET6;
		bool free4 = !overlaps_any(leases, n, false, prev);
		bool free6 = !has6 || !overlaps_any(leases, n, true, prev6);

		if (free4 && free6) {
			if (etcd_subnet_compatible(conf, prev, has6 ? prev6 : NULL)) {
				p.action = ETCD_ALLOC_PREVIOUS;
				p.subnet = *prev;
				p.subnet6 = has6 ? *prev6 : (struct ip_net){};
				*ret = p;
				return 0;
			}
			p.previous_incompatible = true;
		}
	}

	/* 3. a random free subnet */
	p.action = ETCD_ALLOC_RANDOM;
	r = pick_free(leases, n, false, &conf->subnet_min, &conf->subnet_max, conf->subnet_len,
		      random4, &p.subnet);
	if (r < 0)
		return r;
	if (conf->enable_ipv6) {
		r = pick_free(leases, n, true, &conf->ipv6_subnet_min, &conf->ipv6_subnet_max,
			      conf->ipv6_subnet_len, random6, &p.subnet6);
		if (r < 0)
			return r;
	}
	*ret = p;
	return 0;
}
