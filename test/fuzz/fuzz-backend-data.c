/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend data (the backend-data node annotation, set by any node of the
 * cluster): lease_backend_data_parse() on arbitrary bytes; a VXLAN value
 * with a MAC and a WireGuard value with a key must render and parse back
 * to the same data. The same bytes as extension data (lease_ext_data_check):
 * accepted only as a JSON string or null, rendered back unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const char *type, const struct lease_backend_data *d)
{
	struct lease_attrs a = {0};
	struct lease_backend_data back;
	struct errmsg err;
	char buf[128];
	int n;

	strcpy(a.backend_type, type);
	lease_attrs_set_data(&a, false, d);
	n = lease_backend_data_render(&a, false, buf, sizeof(buf));
	if (n < 0)
		abort();
	if (lease_backend_data_parse(buf, (size_t)n, &back, &err) < 0)
		abort();
	if (strcmp(type, "vxlan") == 0 &&
	    (back.vni != d->vni || !back.has_mac || memcmp(back.mac, d->mac, 6) != 0))
		abort();
	if (strcmp(type, "wireguard") == 0 &&
	    (back.port != d->port || !back.has_key || memcmp(back.key, d->key, WG_KEY_LEN) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_backend_data d;
	struct errmsg err;

	if (lease_ext_data_check((const char *)data, size, &err) == 0 && size < 4096) {
		struct lease_attrs a = {.backend_type = "extension"};
		char *s = malloc(size + 1), buf[4096];
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		a.ext_data = s;
		if (strlen(s) == size &&
		    (lease_backend_data_render(&a, false, buf, sizeof(buf)) != (int)size ||
		     memcmp(buf, s, size) != 0 || !lease_attrs_has_data(&a, false)))
			abort();
		free(s);
	}
	if (lease_backend_data_parse((const char *)data, size, &d, &err) < 0)
		return 0;
	if (d.has_mac)
		round_trip("vxlan", &d);
	if (d.has_key)
		round_trip("wireguard", &d);
	return 0;
}
