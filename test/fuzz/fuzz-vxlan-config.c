/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vxlan Backend object of net-conf.json (written by the cluster admin,
 * read by every node): vxlan_config_parse() on arbitrary bytes. A success
 * must satisfy the ranges the device code relies on; a failure must leave
 * a NUL-terminated message naming the Backend.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vxlan_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vxlan_config c;
	struct errmsg err = {{0}};

	if (vxlan_config_parse((const char *)data, size, &c, &err) < 0) {
		if (memchr(err.text, '\0', sizeof(err.text)) == NULL ||
		    strncmp(err.text, "Backend: ", 9) != 0)
			abort();
		return 0;
	}
	if (c.vni < 1 || c.vni > VXLAN_VNI_MAX)
		abort();
	if (c.mtu != 0 && (c.mtu < VXLAN_MTU_MIN || c.mtu > UINT16_MAX))
		abort();
	return 0;
}
