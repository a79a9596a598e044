/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser of the vxlan Backend options. Upstream decodes them with Go's
 * encoding/json into typed fields, so a wrong type aborts start-up; we do
 * the same, with a message naming the field, and also reject values the
 * kernel would refuse later (VNI beyond 24 bits, ports beyond 16 bits) so
 * that the error points at the configuration instead of at netlink.
 */
#include <errno.h>
#include <string.h>

#include "lib/json/json.h"
#include "options.h"
#include "vxlan_config.h"

int vxlan_config_parse(const char *json, size_t len, struct vxlan_config *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct vxlan_config c = {.vni = VXLAN_DEFAULT_VNI};
	uint64_t v;
	int r;

	r = backend_opt_object(json, len, VXLAN_CONFIG_MAX_LEN, &root, err);
	if (r < 0)
		return r;

	r = backend_opt_uint(root, "VNI", 1, VXLAN_VNI_MAX, &v, err);
	if (r < 0)
		return r;
	if (r > 0)
		c.vni = (uint32_t)v;
	r = backend_opt_uint(root, "Port", 0, UINT16_MAX, &v, err);
	if (r < 0)
		return r;
	if (r > 0)
		c.port = (uint16_t)v;
	r = backend_opt_mtu(root, VXLAN_MTU_MIN, &c.mtu, err);
	if (r < 0)
		return r;
	r = backend_opt_bool(root, "GBP", &c.gbp, err);
	if (r < 0)
		return r;
	r = backend_opt_bool(root, "DirectRouting", &c.direct_routing, err);
	if (r < 0)
		return r;
	r = backend_opt_bool(root, "Learning", &c.learning, err);
	if (r < 0)
		return r;

	*ret = c;
	return 0;
}
