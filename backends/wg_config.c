/* SPDX-License-Identifier: Apache-2.0 */
/* Parser of the wireguard Backend options (see wg_config.h). */
#include <errno.h>
#include <string.h>

#include "lib/core/quote.h"
#include "lib/json/json.h"
#include "options.h"
#include "wg_config.h"
#include "wg_key.h"

static const char *const mode_names[] = {
	[WG_MODE_SEPARATE] = "separate",
	[WG_MODE_AUTO] = "auto",
	[WG_MODE_IPV4] = "ipv4",
	[WG_MODE_IPV6] = "ipv6",
};

const char *wg_mode_name(enum wg_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

int wg_config_parse(const char *json, size_t len, struct wg_config *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct wg_config c = {.listen_port = WG_DEFAULT_PORT, .listen_port6 = WG_DEFAULT_PORT6};
	char q[QUOTE_BUF_SIZE];
	const char *s;
	uint64_t v;
	int r;

	r = backend_opt_object(json, len, WG_CONFIG_MAX_LEN, &root, err);
	if (r < 0)
		return r;
	r = backend_opt_uint(root, "ListenPort", 1, UINT16_MAX, &v, err);
	if (r < 0)
		return r;
	if (r > 0)
		c.listen_port = (uint16_t)v;
	r = backend_opt_uint(root, "ListenPortV6", 1, UINT16_MAX, &v, err);
	if (r < 0)
		return r;
	if (r > 0)
		c.listen_port6 = (uint16_t)v;
	r = backend_opt_mtu(root, WG_MTU_MIN, &c.mtu, err);
	if (r < 0)
		return r;
	r = backend_opt_uint(root, "PersistentKeepaliveInterval", 0, UINT16_MAX, &v, err);
	if (r < 0)
		return r;
	if (r > 0)
		c.keepalive = (uint16_t)v;
	r = backend_opt_str(root, "PSK", &s, err);
	if (r < 0)
		return r;
	if (r > 0 && *s) {
		if (wg_key_parse(s, strlen(s), c.psk) < 0) {
			errmsg_set(err,
				   "Backend: PSK: could not parse psk: not a base64 %d-byte key",
				   WG_KEY_LEN);
			return -EINVAL;
		}
		c.has_psk = true;
	}
	r = backend_opt_str(root, "Mode", &s, err);
	if (r < 0)
		return r;
	if (r > 0) {
		unsigned m;
		for (m = 0; m < 4; m++)
			if (strcmp(s, mode_names[m]) == 0)
				break;
		if (m == 4) {
			errmsg_set(err, "Backend: Mode: no valid Mode configured: %s",
				   quote_str(s, q, sizeof(q)));
			return -EINVAL;
		}
		c.mode = (enum wg_mode)m;
	}
	*ret = c;
	return 0;
}
