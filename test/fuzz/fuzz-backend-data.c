/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend data (the backend-data node annotation, set by any node of the
 * cluster): lease_backend_data_parse() on arbitrary bytes; a VXLAN value
 * with a MAC must render and parse back to the same VNI and MAC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t vni, vni2;
	bool has_mac, has_mac2;
	uint8_t mac[6], mac2[6];
	struct errmsg err;
	char buf[64];
	int n;

	if (lease_backend_data_parse((const char *)data, size, &vni, &has_mac, mac, &err) < 0)
		return 0;
	if (!has_mac)
		return 0;
	n = lease_backend_data_render(vni, mac, buf, sizeof(buf));
	if (n < 0)
		abort();
	if (lease_backend_data_parse(buf, (size_t)n, &vni2, &has_mac2, mac2, &err) < 0)
		abort();
	if (vni2 != vni || !has_mac2 || memcmp(mac, mac2, 6) != 0)
		abort();
	return 0;
}
