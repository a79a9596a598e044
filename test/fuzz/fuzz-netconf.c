/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net-conf.json: netconf_parse() on arbitrary bytes, then, for what parses,
 * upstream's CheckNetworkConfig. A successful check must leave a range that
 * lies inside the network and on SubnetLen boundaries.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/json/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_range(const struct ip_net *net, uint32_t len, const struct ip_addr *min,
			const struct ip_addr *max)
{
	struct ip_net a = {.addr = *min, .prefixlen = (uint8_t)len};
	struct ip_net b = {.addr = *max, .prefixlen = (uint8_t)len};

	if (len < (uint32_t)net->prefixlen + 2 || len > ip_family_bits(net->addr.family) - 2)
		abort();
	if (!ip_net_contains_addr(net, min) || !ip_net_contains_addr(net, max))
		abort();
	if (!ip_net_is_masked(&a) || !ip_net_is_masked(&b))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netconf c;
	struct errmsg err;

	if (netconf_parse((const char *)data, size, &c, &err) < 0)
		return 0;
	if (!c.backend_json || !c.backend_type[0])
		abort();
	if (netconf_check(&c, &err) == 0) {
		if (c.enable_ipv4)
			check_range(&c.network, c.subnet_len, &c.subnet_min, &c.subnet_max);
		if (c.enable_ipv6)
			check_range(&c.ipv6_network, c.ipv6_subnet_len, &c.ipv6_subnet_min,
				    &c.ipv6_subnet_max);
	}
	netconf_done(&c);
	return 0;
}
