/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for lib/core/ipnet.c: every string the CIDR and address parsers
 * accept must format back to a string that parses to the same value (masked
 * or not), and the subnet arithmetic must invert itself. Aborts on mismatch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/ipnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_net_roundtrip(const struct ip_net *n)
{
	char buf[IP_NET_STRLEN];
	struct ip_net again;

	if (ip_net_parse(ip_net_fmt(n, buf), &again) < 0 || !ip_net_equal(n, &again))
		abort();
}

static void check_arithmetic(const struct ip_net *n, uint8_t extra, uint64_t idx)
{
	unsigned bits = ip_family_bits(n->addr.family);
	unsigned sublen = n->prefixlen + extra % (bits - n->prefixlen + 1);
	uint64_t count = ip_net_subnet_count(n, sublen), back;
	struct ip_net s;
	struct ip_addr last;

	if (count == 0)
		abort();
	if (count != UINT64_MAX)
		idx %= count;
	if (ip_net_nth_subnet(n, sublen, idx, &s) < 0)
		abort();
	if (!ip_net_is_masked(&s) || !ip_net_contains_net(n, &s) || !ip_net_overlaps(n, &s))
		abort();
	if (ip_net_subnet_index(n, &s, &back) < 0 || back != idx)
		abort();
	ip_net_last_addr(&s, &last);
	if (!ip_net_contains_addr(&s, &last) || !ip_net_contains_addr(n, &last))
		abort();
	check_net_roundtrip(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128];
	struct ip_net n;
	struct ip_addr a;
	uint64_t idx = 0;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (ip_addr_parse(s, &a) == 0) {
		char buf[IP_ADDR_STRLEN];
		struct ip_addr again;
		if (ip_addr_parse(ip_addr_fmt(&a, buf), &again) < 0 || !ip_addr_equal(&a, &again))
			abort();
	}

	if (ip_net_parse(s, &n) < 0)
		return 0;
	if (n.prefixlen > ip_family_bits(n.addr.family))
		abort();
	check_net_roundtrip(&n);
	ip_net_mask(&n);
	if (!ip_net_is_masked(&n))
		abort();
	check_net_roundtrip(&n);

	/* the raw bytes pick the subnet length and index */
	for (size_t i = 0; i < size && i < 8; i++)
		idx = idx << 8 | data[i];
	check_arithmetic(&n, size > 0 ? data[size - 1] : 0, idx);
	return 0;
}
