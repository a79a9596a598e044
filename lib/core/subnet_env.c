/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subnet.env: the hand-off from flanneld to the CNI plugin. Rendering
 * reproduces upstream's text byte for byte (same keys, order, and Go's
 * formatting of CIDRs and booleans), because mk-docker-opts.sh and other
 * scripts read it too.
 *
 * Parsing accepts everything upstream flanneld writes and what its readers
 * (the CNI plugin's line scanner, flanneld's dotenv reader) accept in
 * practice, but nothing ambiguous; see subnet_env.h for the exact rules.
 * The result must survive render -> parse unchanged, which the fuzz target
 * checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/fileio.h"
#include "lib/core/quote.h"
#include "lib/core/subnet_env.h"

enum key {
	KEY_NETWORK,
	KEY_SUBNET,
	KEY_IPV6_NETWORK,
	KEY_IPV6_SUBNET,
	KEY_MTU,
	KEY_IPMASQ,
	_KEY_MAX,
};

static const char *const key_names[_KEY_MAX] = {
	[KEY_NETWORK] = "FLANNEL_NETWORK",
	[KEY_SUBNET] = "FLANNEL_SUBNET",
	[KEY_IPV6_NETWORK] = "FLANNEL_IPV6_NETWORK",
	[KEY_IPV6_SUBNET] = "FLANNEL_IPV6_SUBNET",
	[KEY_MTU] = "FLANNEL_MTU",
	[KEY_IPMASQ] = "FLANNEL_IPMASQ",
};

int subnet_env_render(const struct subnet_env *e, struct buf *out)
{
	char b[IP_NET_STRLEN];
	int r = 0;

	if (e->has_network && r >= 0)
		r = buf_printf(out, "FLANNEL_NETWORK=%s\n", ip_net_fmt(&e->network, b));
	if (e->has_subnet && r >= 0)
		r = buf_printf(out, "FLANNEL_SUBNET=%s\n", ip_net_fmt(&e->subnet, b));
	if (e->has_ipv6_network && r >= 0)
		r = buf_printf(out, "FLANNEL_IPV6_NETWORK=%s\n", ip_net_fmt(&e->ipv6_network, b));
	if (e->has_ipv6_subnet && r >= 0)
		r = buf_printf(out, "FLANNEL_IPV6_SUBNET=%s\n", ip_net_fmt(&e->ipv6_subnet, b));
	if (e->has_mtu && r >= 0)
		r = buf_printf(out, "FLANNEL_MTU=%" PRIu32 "\n", e->mtu);
	if (e->has_ipmasq && r >= 0)
		r = buf_printf(out, "FLANNEL_IPMASQ=%s\n", e->ipmasq ? "true" : "false");
	return r < 0 ? r : 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

static bool is_key_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * A comma-separated list of CIDRs: the first one that parses as a CIDR of
 * this family is taken, the others are ignored, as upstream's reader skips
 * invalid entries. keep_host: FLANNEL_SUBNET carries the gateway address.
 */
static int parse_cidr_list(const char *v, size_t len, int family, bool keep_host,
			   struct ip_net *ret)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma ? (size_t)(comma - v) : len;
		const char *item = v;
		size_t ilen = n;
		char tmp[IP_NET_STRLEN + 1];

		trim(&item, &ilen);
		if (ilen > 0 && ilen < sizeof(tmp)) {
			memcpy(tmp, item, ilen);
			tmp[ilen] = '\0';
			if (ip_net_parse_family(family, tmp, ret) >= 0) {
				if (!keep_host)
					ip_net_mask(ret);
				return 0;
			}
		}
		if (!comma)
			break;
		v = comma + 1;
		len -= n + 1;
	}
	return -EINVAL;
}

static int parse_u32(const char *v, size_t len, uint32_t *ret)
{
	uint64_t x = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)x;
	return 0;
}

static int parse_value(struct subnet_env *e, enum key k, const char *v, size_t len)
{
	switch (k) {
	case KEY_NETWORK:
		e->has_network = true;
		return parse_cidr_list(v, len, AF_INET, false, &e->network);
	case KEY_SUBNET:
		e->has_subnet = true;
		return parse_cidr_list(v, len, AF_INET, true, &e->subnet);
	case KEY_IPV6_NETWORK:
		e->has_ipv6_network = true;
		return parse_cidr_list(v, len, AF_INET6, false, &e->ipv6_network);
	case KEY_IPV6_SUBNET:
		e->has_ipv6_subnet = true;
		return parse_cidr_list(v, len, AF_INET6, true, &e->ipv6_subnet);
	case KEY_MTU:
		e->has_mtu = true;
		return parse_u32(v, len, &e->mtu);
	case KEY_IPMASQ:
		e->has_ipmasq = true;
		if (len == 4 && memcmp(v, "true", 4) == 0)
			e->ipmasq = true;
		else if (len == 5 && memcmp(v, "false", 5) == 0)
			e->ipmasq = false;
		else
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static const char *const value_expect[_KEY_MAX] = {
	[KEY_NETWORK] = "an IPv4 CIDR",		  [KEY_SUBNET] = "an IPv4 CIDR",
	[KEY_IPV6_NETWORK] = "an IPv6 CIDR",	  [KEY_IPV6_SUBNET] = "an IPv6 CIDR",
	[KEY_MTU] = "an unsigned 32-bit integer", [KEY_IPMASQ] = "true or false",
};

static int parse_line(struct subnet_env *e, bool seen[static _KEY_MAX], unsigned lineno,
		      const char *line, size_t len, struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];
	const char *eq, *key, *val;
	size_t klen, vlen, keylen;
	int k;

	if (memchr(line, '\0', len)) {
		errmsg_set(err, "line %u: contains a NUL byte", lineno);
		return -EINVAL;
	}
	trim(&line, &len);
	if (len == 0 || line[0] == '#')
		return 0;
	if (len > 7 && memcmp(line, "export", 6) == 0 && is_blank(line[6])) {
		line += 7;
		len -= 7;
		trim(&line, &len);
	}

	eq = memchr(line, '=', len);
	if (!eq) {
		errmsg_set(err, "line %u: expected KEY=VALUE, got %s", lineno,
			   quote_mem(line, len, q, sizeof(q)));
		return -EINVAL;
	}
	key = line;
	klen = (size_t)(eq - line);
	trim(&key, &klen);
	keylen = klen;
	val = eq + 1;
	vlen = (size_t)(line + len - val);
	trim(&val, &vlen);

	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(key[i], i == 0))
			klen = 0;
	if (klen == 0) {
		errmsg_set(err, "line %u: invalid variable name %s", lineno,
			   quote_mem(key, keylen, q, sizeof(q)));
		return -EINVAL;
	}
	/* One level of matching quotes around the value, as dotenv allows. */
	if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
		val++;
		vlen -= 2;
	}

	for (k = 0; k < _KEY_MAX; k++)
		if (strlen(key_names[k]) == klen && memcmp(key_names[k], key, klen) == 0)
			break;
	if (k == _KEY_MAX)
		return 0; /* someone else's variable */
	if (seen[k]) {
		errmsg_set(err, "line %u: duplicate %s", lineno, key_names[k]);
		return -EINVAL;
	}
	seen[k] = true;
	if (parse_value(e, (enum key)k, val, vlen) < 0) {
		errmsg_set(err, "line %u: %s: expected %s, got %s", lineno, key_names[k],
			   value_expect[k], quote_mem(val, vlen, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

int subnet_env_parse(const char *text, size_t len, struct subnet_env *ret, struct errmsg *err)
{
	struct subnet_env e = {0};
	bool seen[_KEY_MAX] = {0};
	unsigned lineno = 0;
	const char *p = text, *end = text + len;
	int r;

	if (len > SUBNET_ENV_MAX_SIZE) {
		errmsg_set(err, "larger than %d bytes", SUBNET_ENV_MAX_SIZE);
		return -EMSGSIZE;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		r = parse_line(&e, seen, lineno, p, n, err);
		if (r < 0)
			return r;
		p = nl ? nl + 1 : end;
	}

	/* The CNI plugin's requirement (flannel-io/cni-plugin loadFlannelSubnetEnv). */
	if (!(e.has_network || e.has_ipv6_network) || !(e.has_subnet || e.has_ipv6_subnet) ||
	    !e.has_mtu || !e.has_ipmasq) {
		struct buf m = BUF_INIT;
		const char *sep = "";

		if (!(e.has_network || e.has_ipv6_network)) {
			buf_printf(&m, "%sFLANNEL_NETWORK, FLANNEL_IPV6_NETWORK", sep);
			sep = ", ";
		}
		if (!(e.has_subnet || e.has_ipv6_subnet)) {
			buf_printf(&m, "%sFLANNEL_SUBNET, FLANNEL_IPV6_SUBNET", sep);
			sep = ", ";
		}
		if (!e.has_mtu) {
			buf_printf(&m, "%sFLANNEL_MTU", sep);
			sep = ", ";
		}
		if (!e.has_ipmasq)
			buf_printf(&m, "%sFLANNEL_IPMASQ", sep);
		errmsg_set(err, "missing %s", m.data ? m.data : "");
		buf_free(&m);
		return -EINVAL;
	}
	*ret = e;
	return 0;
}

int subnet_env_read(const char *path, struct subnet_env *ret, struct errmsg *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, SUBNET_ENV_MAX_SIZE, &data, &len);
	if (r == -EFBIG) {
		errmsg_set(err, "larger than %d bytes", SUBNET_ENV_MAX_SIZE);
		return r;
	}
	if (r < 0) {
		errmsg_set(err, "%s", strerror(-r));
		return r;
	}
	return subnet_env_parse(data, len, ret, err);
}

int subnet_env_write(const char *path, const struct subnet_env *e)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int r;

	r = subnet_env_render(e, &out);
	if (r < 0)
		return r;

	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	return write_file_atomic(path, out.data ? out.data : "", out.len, 0644);
}
