/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WireGuard UAPI reply parser (the socket of another process, root's
 * wireguard-go or whoever bound its path): wg_uapi_parse_get() on arbitrary
 * bytes. A success must hold well-formed peers, and each must render as a
 * set request whose lines all have a key and a value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/wg_uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device d = {0};
	struct errmsg err = {{0}};

	if (wg_uapi_parse_get((const char *)data, size, &d, &err) < 0) {
		if (d.peers || memchr(err.text, '\0', sizeof(err.text)) == NULL)
			abort();
		return 0;
	}
	for (size_t k = 0; k < d.n_peers; k++) {
		const struct wg_peer *p = &d.peers[k];
		struct wg_change c = {.peer = p};
		struct buf out = BUF_INIT;

		if (p->n_allowed > WG_ALLOWED_MAX ||
		    (p->more_allowed && p->n_allowed != WG_ALLOWED_MAX))
			abort();
		for (unsigned i = 0; i < p->n_allowed; i++)
			if (p->allowed[i].addr.family != AF_INET &&
			    p->allowed[i].addr.family != AF_INET6)
				abort();
		if (wg_uapi_render_set(&c, &out) < 0 || out.len < 8 ||
		    memcmp(out.data + out.len - 2, "\n\n", 2) != 0)
			abort();
		buf_free(&out);
	}
	wg_device_done(&d);
	return 0;
}
