/* SPDX-License-Identifier: Apache-2.0 */
/* What both WireGuard control APIs share: peer comparison, device cleanup. */
#include <stdlib.h>
#include <string.h>

#include "wg_proto.h"

void wg_device_done(struct wg_device *d)
{
	free(d->peers);
	d->peers = NULL;
	d->n_peers = 0;
}

uint64_t wg_psk_tag(const uint8_t *psk)
{
	static const uint8_t zero[WG_KEY_LEN];
	uint64_t h = 0xcbf29ce484222325ULL;

	if (!psk || memcmp(psk, zero, WG_KEY_LEN) == 0)
		return 0;
	for (int i = 0; i < WG_KEY_LEN; i++) {
		h ^= psk[i];
		h *= 0x100000001b3ULL;
	}
	return h | 1;
}

int wg_peer_key_cmp(const struct wg_peer *a, const struct wg_peer *b)
{
	return memcmp(a->key, b->key, WG_KEY_LEN);
}

static bool allowed_has(const struct wg_peer *p, const struct ip_net *n)
{
	for (unsigned k = 0; k < p->n_allowed; k++)
		if (ip_net_equal(&p->allowed[k], n))
			return true;
	return false;
}

bool wg_peer_equal(const struct wg_peer *have, const struct wg_peer *want)
{
	if (have->psk_tag != want->psk_tag || have->keepalive != want->keepalive ||
	    !ip_addr_equal(&have->endpoint, &want->endpoint) || have->port != want->port ||
	    have->more_allowed || have->n_allowed != want->n_allowed)
		return false;
	for (unsigned k = 0; k < want->n_allowed; k++)
		if (!allowed_has(have, &want->allowed[k]))
			return false;
	return true;
}
