/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the rtnetlink reply parsers of the built-in mode: the
 * input is one netlink message (its header's length clamped to the input)
 * parsed as a link, an address, a route and an error. Must never read
 * outside the message; a parsed address or route has a valid prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, NLMSG_ERROR};
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;
	if (size < NLMSG_HDRLEN || size > 65536)
		return 0;
	/* A heap copy of exactly the message, so that ASan sees any over-read. */
	struct nlmsghdr *h = malloc(size);
	if (!h)
		return 0;
	memcpy(h, data, size);
	if (h->nlmsg_len > size)
		h->nlmsg_len = (uint32_t)size;
	h->nlmsg_type = types[h->nlmsg_type % 4];
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
		if (rtnl_parse_link(h, &l) == 0 && strlen(l.name) >= sizeof(l.name))
			abort();
		break;
	case RTM_NEWADDR:
		if (rtnl_parse_addr(h, &a) == 0 &&
		    a.addr.prefixlen > ip_family_bits(a.addr.addr.family))
			abort();
		break;
	case RTM_NEWROUTE:
		if (rtnl_parse_route(h, &r) == 0 &&
		    r.dst.prefixlen > ip_family_bits(r.dst.addr.family))
			abort();
		break;
	default:
		(void)rtnl_parse_error(h);
	}
	free(h);
	return 0;
}
