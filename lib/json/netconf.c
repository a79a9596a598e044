/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net-conf.json, parsed the way upstream flannel's Go code does it
 * (pkg/subnet/config.go): keys match case-insensitively and the last
 * duplicate wins, as with encoding/json; unknown keys are ignored; a value
 * of the wrong JSON type is an error naming the field. Network addresses
 * are masked. The Backend object is kept as raw JSON for the backend's own
 * parser; only its Type is looked at here.
 *
 * netconf_check() is upstream's CheckNetworkConfig, run in etcd mode only:
 * it computes SubnetLen/SubnetMin/SubnetMax defaults and its error texts are
 * reproduced exactly, since users search for them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/quote.h"
#include "lib/json/json.h"
#include "lib/json/netconf.h"

#define NETCONF_MAX_DEPTH 32

static bool item_absent(const cJSON *item)
{
	return !item || cJSON_IsNull(item);
}

static int get_bool(const cJSON *root, const char *key, bool *ret, struct errmsg *err)
{
	const cJSON *item = json_item_ci(root, key);

	if (item_absent(item))
		return 0;
	if (json_as_bool(item, ret) < 0) {
		errmsg_set(err, "%s: expected a boolean, got %s", key, json_type_name(item));
		return -EINVAL;
	}
	return 0;
}

/* Returns 1 and sets *ret when present, 0 when absent. */
static int get_str(const cJSON *obj, const char *key, const char *field, const char **ret,
		   struct errmsg *err)
{
	const cJSON *item = json_item_ci(obj, key);

	if (item_absent(item))
		return 0;
	if (json_as_str(item, ret) < 0) {
		errmsg_set(err, "%s: expected a string, got %s", field, json_type_name(item));
		return -EINVAL;
	}
	return 1;
}

static int get_u32(const cJSON *root, const char *key, uint32_t *ret, struct errmsg *err)
{
	const cJSON *item = json_item_ci(root, key);

	if (item_absent(item))
		return 0;
	if (!cJSON_IsNumber(item)) {
		errmsg_set(err, "%s: expected a number, got %s", key, json_type_name(item));
		return -EINVAL;
	}
	if (json_as_u32(item, ret) < 0) {
		errmsg_set(err, "%s: invalid value %.15g, expected an unsigned 32-bit integer", key,
			   item->valuedouble);
		return -EINVAL;
	}
	return 0;
}

static int get_net(const cJSON *root, const char *key, int family, bool *has, struct ip_net *ret,
		   struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];
	const char *s;
	struct ip_net n;
	int r;

	r = get_str(root, key, key, &s, err);
	if (r <= 0)
		return r;
	if (ip_net_parse(s, &n) < 0) {
		errmsg_set(err, "%s: invalid CIDR %s", key, quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	if (n.addr.family != family) {
		errmsg_set(err, "%s: invalid %s CIDR format %s", key,
			   family == AF_INET ? "IPv4" : "IPv6", quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	ip_net_mask(&n);
	*ret = n;
	*has = true;
	return 0;
}

static int get_addr(const cJSON *root, const char *key, int family, struct ip_addr *ret,
		    struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];
	const char *s;
	struct ip_addr a;
	int r;

	r = get_str(root, key, key, &s, err);
	if (r <= 0)
		return r;
	if (ip_addr_parse(s, &a) < 0) {
		errmsg_set(err, "%s: invalid IP address format %s", key,
			   quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	if (a.family != family) {
		errmsg_set(err, "%s: invalid %s address format %s", key,
			   family == AF_INET ? "IPv4" : "IPv6", quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

static int parse_backend(const cJSON *root, struct netconf *c, struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];
	const cJSON *be = json_item_ci(root, "Backend");
	const char *type = "";
	size_t len;
	int r;

	if (!be) {
		/* Upstream's parseBackendType: no Backend at all means udp. */
		strcpy(c->backend_type, "udp");
		c->backend_json = strdup("{}");
		return c->backend_json ? 0 : -ENOMEM;
	}
	if (!cJSON_IsObject(be) && !cJSON_IsNull(be)) {
		errmsg_set(err, "Backend: expected an object, got %s", json_type_name(be));
		return -EINVAL;
	}
	if (cJSON_IsObject(be)) {
		r = get_str(be, "Type", "Backend.Type", &type, err);
		if (r < 0)
			return r;
	}
	len = strlen(type);
	if (len == 0 || len >= sizeof(c->backend_type)) {
		errmsg_set(err, "Backend: unknown backend type %s", quote_str(type, q, sizeof(q)));
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++)
		c->backend_type[i] = (char)tolower((unsigned char)type[i]);
	c->backend_json = json_print(be);
	return c->backend_json ? 0 : -ENOMEM;
}

int netconf_parse(const char *data, size_t len, struct netconf *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct netconf c = {.enable_ipv4 = true};
	int r;

	r = json_parse(data, len, NETCONF_MAX_SIZE, NETCONF_MAX_DEPTH, &root);
	if (r == -EMSGSIZE) {
		errmsg_set(err, "larger than %d bytes", NETCONF_MAX_SIZE);
		return r;
	}
	if (r == -ELOOP) {
		errmsg_set(err, "nested deeper than %d levels", NETCONF_MAX_DEPTH);
		return r;
	}
	if (r < 0) {
		errmsg_set(err, "invalid JSON");
		return r;
	}
	if (!cJSON_IsObject(root)) {
		errmsg_set(err, "expected a JSON object, got %s", json_type_name(root));
		return -EINVAL;
	}

	if ((r = get_bool(root, "EnableIPv4", &c.enable_ipv4, err)) < 0 ||
	    (r = get_bool(root, "EnableIPv6", &c.enable_ipv6, err)) < 0 ||
	    (r = get_bool(root, "EnableNFTables", &c.enable_nftables, err)) < 0 ||
	    (r = get_net(root, "Network", AF_INET, &c.has_network, &c.network, err)) < 0 ||
	    (r = get_net(root, "IPv6Network", AF_INET6, &c.has_ipv6_network, &c.ipv6_network,
			 err)) < 0 ||
	    (r = get_u32(root, "SubnetLen", &c.subnet_len, err)) < 0 ||
	    (r = get_addr(root, "SubnetMin", AF_INET, &c.subnet_min, err)) < 0 ||
	    (r = get_addr(root, "SubnetMax", AF_INET, &c.subnet_max, err)) < 0 ||
	    (r = get_u32(root, "IPv6SubnetLen", &c.ipv6_subnet_len, err)) < 0 ||
	    (r = get_addr(root, "IPv6SubnetMin", AF_INET6, &c.ipv6_subnet_min, err)) < 0 ||
	    (r = get_addr(root, "IPv6SubnetMax", AF_INET6, &c.ipv6_subnet_max, err)) < 0)
		return r;

	if (!c.enable_ipv4 && !c.enable_ipv6) {
		errmsg_set(err, "EnableIPv4 and EnableIPv6 are both false: no IP family enabled");
		return -EINVAL;
	}

	r = parse_backend(root, &c, err);
	if (r < 0) {
		netconf_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void netconf_done(struct netconf *c)
{
	if (!c)
		return;
	free(c->backend_json);
	*c = (struct netconf){0};
}

/* Bit i of the address, counted from the most significant bit. */
static bool addr_bit(const struct ip_addr *a, unsigned i)
{
	return a->bytes[i / 8] & (0x80u >> (i % 8));
}

static void addr_set_bit(struct ip_addr *a, unsigned i, bool v)
{
	uint8_t m = (uint8_t)(0x80u >> (i % 8));

	if (v)
		a->bytes[i / 8] |= m;
	else
		a->bytes[i / 8] &= (uint8_t)~m;
}

static bool addr_is_zero(const struct ip_addr *a)
{
	unsigned bits = ip_family_bits(a->family);

	for (unsigned i = 0; i < bits; i++)
		if (addr_bit(a, i))
			return false;
	return true;
}

/* An address given as 0.0.0.0 or :: counts as unset, as upstream. */
static bool addr_unset(const struct ip_addr *a)
{
	return a->family == 0 || addr_is_zero(a);
}

static bool addr_aligned(const struct ip_addr *a, unsigned len)
{
	unsigned bits = ip_family_bits(a->family);

	for (unsigned i = len; i < bits; i++)
		if (addr_bit(a, i))
			return false;
	return true;
}

/*
 * The range of one family. Names differ between the families only in the
 * "IPv6" prefix of the field names and in the limits, so one function
 * serves both, fed with the texts.
 */
struct family_rules {
	const char *network_name; /* "Network", "IPv6Network" */
	const char *min_name, *max_name;
	const char *too_small; /* subject of "... is too small": "network", "IPv6Network" */
	unsigned max_len;      /* 30, 126 */
	unsigned min_prefix;   /* 28, 124 */
	unsigned big_prefix;   /* prefixes up to this get default_len: 22, 62 */
	unsigned default_len;
};

static int check_family(const struct family_rules *fr, bool has_network, const struct ip_net *net,
			uint32_t *len, struct ip_addr *min, struct ip_addr *max, struct errmsg *err)
{
	char buf[IP_ADDR_STRLEN];
	unsigned bits = ip_family_bits(net->addr.family);

	if (!has_network || (net->prefixlen == 0 && addr_is_zero(&net->addr))) {
		errmsg_set(err, "please define a correct %s parameter in the flannel config",
			   fr->network_name);
		return -EINVAL;
	}
	if (*len > 0) {
		if (*len > fr->max_len) {
			errmsg_set(err, "SubnetLen must be less than /%u", fr->max_len + 1);
			return -EINVAL;
		}
		if (*len < (uint32_t)net->prefixlen + 2) {
			errmsg_set(err,
				   "network must be able to accommodate at least four subnets");
			return -EINVAL;
		}
	} else if (net->prefixlen > fr->min_prefix) {
		errmsg_set(err, "%s is too small. Minimum useful network prefix is /%u",
			   fr->too_small, fr->min_prefix);
		return -EINVAL;
	} else if (net->prefixlen <= fr->big_prefix) {
		*len = fr->default_len;
	} else {
		*len = net->prefixlen + 2u;
	}

	if (addr_unset(min)) {
		/* The first subnet is skipped: network address + one subnet size. */
		*min = net->addr;
		addr_set_bit(min, *len - 1, true);
	} else if (!ip_net_contains_addr(net, min)) {
		errmsg_set(err, "%s is not in the range of the %s", fr->min_name, fr->network_name);
		return -EINVAL;
	}
	if (addr_unset(max)) {
		/* The last subnet: the network's last address with the subnet's host bits cleared. */
		*max = net->addr;
		for (unsigned i = net->prefixlen; i < bits; i++)
			addr_set_bit(max, i, i < *len);
	} else if (!ip_net_contains_addr(net, max)) {
		errmsg_set(err, "%s is not in the range of the %s", fr->max_name, fr->network_name);
		return -EINVAL;
	}

	if (!addr_aligned(min, *len)) {
		errmsg_set(err, "%s is not on a SubnetLen boundary: %s", fr->min_name,
			   ip_addr_fmt(min, buf));
		return -EINVAL;
	}
	if (!addr_aligned(max, *len)) {
		errmsg_set(err, "%s is not on a SubnetLen boundary: %s", fr->max_name,
			   ip_addr_fmt(max, buf));
		return -EINVAL;
	}
	return 0;
}

int netconf_check(struct netconf *c, struct errmsg *err)
{
	static const struct family_rules v4 = {
		.network_name = "Network",
		.min_name = "SubnetMin",
		.max_name = "SubnetMax",
		.too_small = "network",
		.max_len = 30,
		.min_prefix = 28,
		.big_prefix = 22,
		.default_len = 24,
	};
	static const struct family_rules v6 = {
		.network_name = "IPv6Network",
		.min_name = "IPv6SubnetMin",
		.max_name = "IPv6SubnetMax",
		.too_small = "IPv6Network",
		.max_len = 126,
		.min_prefix = 124,
		.big_prefix = 62,
		.default_len = 64,
	};
	/* Work on copies: *c is only updated when the whole check passes. */
	uint32_t len4 = c->subnet_len, len6 = c->ipv6_subnet_len;
	struct ip_addr min4 = c->subnet_min, max4 = c->subnet_max;
	struct ip_addr min6 = c->ipv6_subnet_min, max6 = c->ipv6_subnet_max;
	int r;

	if (c->enable_ipv4) {
		r = check_family(&v4, c->has_network, &c->network, &len4, &min4, &max4, err);
		if (r < 0)
			return r;
	}
	if (c->enable_ipv6) {
		r = check_family(&v6, c->has_ipv6_network, &c->ipv6_network, &len6, &min6, &max6,
				 err);
		if (r < 0)
			return r;
	}
	if (c->enable_ipv4) {
		c->subnet_len = len4;
		c->subnet_min = min4;
		c->subnet_max = max4;
	}
	if (c->enable_ipv6) {
		c->ipv6_subnet_len = len6;
		c->ipv6_subnet_min = min6;
		c->ipv6_subnet_max = max6;
	}
	return 0;
}
