/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wireguard Backend object of net-conf.json: wg_config_parse() on
 * arbitrary bytes. A success must satisfy the ranges the backend relies
 * on; a failure must leave a message naming the Backend.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/wg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_config c;
	struct errmsg err = {{0}};

	if (wg_config_parse((const char *)data, size, &c, &err) < 0) {
		if (memchr(err.text, '\0', sizeof(err.text)) == NULL ||
		    strncmp(err.text, "Backend: ", 9) != 0)
			abort();
		return 0;
	}
	if (c.listen_port == 0 || c.listen_port6 == 0 || (c.mtu != 0 && c.mtu < WG_MTU_MIN) ||
	    c.mode > WG_MODE_IPV6)
		abort();
	return 0;
}
