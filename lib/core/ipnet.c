/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4/IPv6 addresses and CIDR networks. Parsing is strict (inet_pton for the
 * address, a short run of decimal digits for the prefix) because every
 * address we parse comes from an annotation, a config file or the API
 * server. All arithmetic is done on an unsigned 128-bit integer holding the
 * address in host order, so IPv6 sums and shifts are exact; IPv4 uses the
 * low 32 bits of the same representation.
 */
#include "lib/core/ipnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/core/macro.h"

typedef unsigned __int128 u128;

unsigned ip_family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

static size_t family_bytes(int family)
{
	return ip_family_bits(family) / 8;
}

static u128 addr_to_u128(const struct ip_addr *a)
{
	size_t n = family_bytes(a->family);
	u128 v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | a->bytes[i];
	return v;
}

static void addr_from_u128(int family, u128 v, struct ip_addr *ret)
{
	size_t n = family_bytes(family);

	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	for (size_t i = n; i > 0; i--) {
		ret->bytes[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

/* All ones in the low `bits` bits (bits <= 128). */
static u128 low_mask(unsigned bits)
{
	return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

/* The host-bits mask of a network: the low (family bits - prefixlen) bits. */
static u128 host_mask(const struct ip_net *n)
{
	unsigned bits = ip_family_bits(n->addr.family);

	return low_mask(bits - MIN(n->prefixlen, bits));
}

int ip_addr_parse(const char *s, struct ip_addr *ret)
{
	struct ip_addr a = {};

	if (!s)
		return -EINVAL;
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, s, a.bytes) != 1)
		return -EINVAL;
	*ret = a;
	return 0;
}

int ip_addr_parse_family(int family, const char *s, struct ip_addr *ret)
{
	struct ip_addr a;
	int r;

	r = ip_addr_parse(s, &a);
	if (r < 0)
		return r;
	if (a.family != family)
		return -EAFNOSUPPORT;
	*ret = a;
	return 0;
}

int ip_net_parse(const char *s, struct ip_net *ret)
{
	char addr[IP_ADDR_STRLEN];
	struct ip_net n = {};
	const char *slash, *p;
	unsigned prefix = 0;
	size_t alen, plen;
	int r;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';

	/* 1 to 3 decimal digits, nothing else (no sign, no space, no second '/'). */
	p = slash + 1;
	plen = strlen(p);
	if (plen == 0 || plen > 3)
		return -EINVAL;
	for (size_t i = 0; i < plen; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		prefix = prefix * 10 + (unsigned)(p[i] - '0');
	}

	r = ip_addr_parse(addr, &n.addr);
	if (r < 0)
		return r;
	if (prefix > ip_family_bits(n.addr.family))
		return -EINVAL;
	n.prefixlen = (uint8_t)prefix;
	*ret = n;
	return 0;
}

int ip_net_parse_family(int family, const char *s, struct ip_net *ret)
{
	struct ip_net n;
	int r;

	r = ip_net_parse(s, &n);
	if (r < 0)
		return r;
	if (n.addr.family != family)
		return -EAFNOSUPPORT;
	*ret = n;
	return 0;
}

const char *ip_addr_fmt(const struct ip_addr *a, char buf[static IP_ADDR_STRLEN])
{
	if (!a || !ip_family_bits(a->family) ||
	    !inet_ntop(a->family, a->bytes, buf, IP_ADDR_STRLEN))
		snprintf(buf, IP_ADDR_STRLEN, "<none>");
	return buf;
}

const char *ip_net_fmt(const struct ip_net *n, char buf[static IP_NET_STRLEN])
{
	char a[IP_ADDR_STRLEN];

	if (!n || !ip_family_bits(n->addr.family)) {
		snprintf(buf, IP_NET_STRLEN, "<none>");
		return buf;
	}
	snprintf(buf, IP_NET_STRLEN, "%s/%u", ip_addr_fmt(&n->addr, a), (unsigned)n->prefixlen);
	return buf;
}

void ip_addr_from_in(struct ip_addr *ret, struct in_addr a)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET;
	ret->in = a;
}

void ip_addr_from_in6(struct ip_addr *ret, const struct in6_addr *a)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET6;
	ret->in6 = *a;
}

bool ip_addr_is_set(const struct ip_addr *a)
{
	return a && ip_family_bits(a->family) > 0;
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, family_bytes(a->family));
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return ip_addr_cmp(a, b) == 0;
}

int ip_net_cmp(const struct ip_net *a, const struct ip_net *b)
{
	int r = ip_addr_cmp(&a->addr, &b->addr);

	if (r != 0)
		return r;
	if (a->prefixlen != b->prefixlen)
		return a->prefixlen < b->prefixlen ? -1 : 1;
	return 0;
}

bool ip_net_equal(const struct ip_net *a, const struct ip_net *b)
{
	return ip_net_cmp(a, b) == 0;
}

void ip_net_mask(struct ip_net *n)
{
	if (!ip_family_bits(n->addr.family))
		return;
	addr_from_u128(n->addr.family, addr_to_u128(&n->addr) & ~host_mask(n), &n->addr);
}

bool ip_net_is_masked(const struct ip_net *n)
{
	return (addr_to_u128(&n->addr) & host_mask(n)) == 0;
}

/* Do a and b agree on their first `prefix` bits? (same family assumed) */
static bool prefix_equal(const struct ip_addr *a, const struct ip_addr *b, unsigned prefix)
{
	unsigned bits = ip_family_bits(a->family);
	u128 m = ~low_mask(bits - MIN(prefix, bits));

	return (addr_to_u128(a) & m) == (addr_to_u128(b) & m);
}

bool ip_net_contains_addr(const struct ip_net *n, const struct ip_addr *a)
{
	if (!ip_family_bits(n->addr.family) || n->addr.family != a->family)
		return false;
	return prefix_equal(&n->addr, a, n->prefixlen);
}

bool ip_net_contains_net(const struct ip_net *outer, const struct ip_net *inner)
{
	if (inner->prefixlen < outer->prefixlen)
		return false;
	return ip_net_contains_addr(outer, &inner->addr);
}

bool ip_net_overlaps(const struct ip_net *a, const struct ip_net *b)
{
	if (!ip_family_bits(a->addr.family) || a->addr.family != b->addr.family)
		return false;
	return prefix_equal(&a->addr, &b->addr, MIN(a->prefixlen, b->prefixlen));
}

int ip_addr_add(const struct ip_addr *a, int64_t delta, struct ip_addr *ret)
{
	unsigned bits = ip_family_bits(a->family);
	u128 v, max, mag;

	if (!bits)
		return -EAFNOSUPPORT;
	v = addr_to_u128(a);
	max = low_mask(bits);
	/* |delta| without overflowing on INT64_MIN */
	mag = delta >= 0 ? (u128)delta : (u128)(-(delta + 1)) + 1;

	if (delta >= 0) {
		if (max - v < mag)
			return -ERANGE;
		v += mag;
	} else {
		if (v < mag)
			return -ERANGE;
		v -= mag;
	}
	addr_from_u128(a->family, v, ret);
	return 0;
}

void ip_net_first_host(const struct ip_net *n, struct ip_net *ret)
{
	struct ip_net r = *n;

	ip_net_mask(&r);
	/* Only a network at the very end of the address space cannot grow: keep it. */
	(void)ip_addr_add(&r.addr, 1, &r.addr);
	*ret = r;
}

void ip_net_last_addr(const struct ip_net *n, struct ip_addr *ret)
{
	if (!ip_family_bits(n->addr.family)) {
		*ret = n->addr;
		return;
	}
	addr_from_u128(n->addr.family, addr_to_u128(&n->addr) | host_mask(n), ret);
}

uint64_t ip_net_subnet_count(const struct ip_net *n, unsigned sublen)
{
	unsigned bits = ip_family_bits(n->addr.family);
	unsigned diff;

	if (!bits || sublen < n->prefixlen || sublen > bits)
		return 0;
	diff = sublen - n->prefixlen;
	return diff >= 64 ? UINT64_MAX : (uint64_t)1 << diff;
}

int ip_net_nth_subnet(const struct ip_net *n, unsigned sublen, uint64_t idx, struct ip_net *ret)
{
	unsigned bits = ip_family_bits(n->addr.family);
	unsigned diff, shift;
	struct ip_net r;
	u128 base;

	if (!bits || sublen < n->prefixlen || sublen > bits)
		return -ERANGE;
	diff = sublen - n->prefixlen;
	/* count = 2^diff; an index below 2^64 always fits when diff >= 64 */
	if (diff < 64 && idx >= ((uint64_t)1 << diff))
		return -ERANGE;

	shift = bits - sublen;
	base = addr_to_u128(&n->addr) & ~host_mask(n);
	/* idx < 2^diff, so idx << shift < 2^(bits - prefixlen): no overflow. */
	if (shift < 128)
		base |= (u128)idx << shift;

	r.prefixlen = (uint8_t)sublen;
	addr_from_u128(n->addr.family, base, &r.addr);
	*ret = r;
	return 0;
}

int ip_net_subnet_index(const struct ip_net *n, const struct ip_net *s, uint64_t *ret)
{
	unsigned bits = ip_family_bits(n->addr.family);
	unsigned shift;
	u128 off;

	if (!bits || !ip_net_contains_net(n, s))
		return -ERANGE;
	shift = bits - s->prefixlen;
	/* s's bits between n's prefix and its own; its host bits shift out */
	off = addr_to_u128(&s->addr) & host_mask(n);
	off = shift >= 128 ? 0 : off >> shift;
	if (off > UINT64_MAX)
		return -ERANGE;
	*ret = (uint64_t)off;
	return 0;
}
