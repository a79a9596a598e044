/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WireGuard generic-netlink reply parser: wg_genl_parse_reply() on
 * arbitrary datagrams (attribute lengths, nests, multi-part peers). It
 * must never read outside the buffer and must keep peers well-formed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "backends/wg_genl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device d = {0};
	uint16_t id;
	int r = wg_genl_parse_reply(data, size, 1, &d);

	if (r > 1)
		abort();
	for (size_t k = 0; k < d.n_peers; k++)
		if (d.peers[k].n_allowed > WG_ALLOWED_MAX)
			abort();
	wg_device_done(&d);
	(void)wg_genl_family_parse(data, size, &id);
	return 0;
}
