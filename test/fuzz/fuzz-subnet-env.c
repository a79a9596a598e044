/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subnet.env: subnet_env_parse() on arbitrary bytes; whatever parses must
 * render and parse back to the same struct (the round trip flanneld and
 * the CNI plugin rely on), else abort.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/core/subnet_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool net_same(bool ha, const struct ip_net *a, bool hb, const struct ip_net *b)
{
	return ha == hb && (!ha || ip_net_equal(a, b));
}

static bool env_equal(const struct subnet_env *a, const struct subnet_env *b)
{
	return net_same(a->has_network, &a->network, b->has_network, &b->network) &&
	       net_same(a->has_subnet, &a->subnet, b->has_subnet, &b->subnet) &&
	       net_same(a->has_ipv6_network, &a->ipv6_network, b->has_ipv6_network,
			&b->ipv6_network) &&
	       net_same(a->has_ipv6_subnet, &a->ipv6_subnet, b->has_ipv6_subnet, &b->ipv6_subnet) &&
	       a->has_mtu == b->has_mtu && a->mtu == b->mtu && a->has_ipmasq == b->has_ipmasq &&
	       a->ipmasq == b->ipmasq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct subnet_env e, back;
	struct errmsg err;

	if (subnet_env_parse((const char *)data, size, &e, &err) < 0)
		return 0;
	if (subnet_env_render(&e, &out) < 0)
		abort();
	if (subnet_env_parse(out.data, out.len, &back, &err) < 0)
		abort();
	if (!env_equal(&e, &back))
		abort();
	return 0;
}
