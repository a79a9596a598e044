/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wireguard Backend object of net-conf.json (upstream backend/wireguard):
 *   {"Type":"wireguard","ListenPort":51820,"ListenPortV6":51821,"MTU":0,
 *    "PSK":"<base64>","PersistentKeepaliveInterval":0,"Mode":"separate"}
 * Keys case-insensitive, null keeps the default. PersistentKeepaliveInterval
 * is in seconds (upstream multiplies Go's Duration by 1 s; a string such as
 * "25s" is a decode error there too). Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/json/lease.h"

#define WG_DEFAULT_PORT	  51820u
#define WG_DEFAULT_PORT6  51821u
#define WG_OVERHEAD	  80u  /* IPv6 40 + UDP 8 + type 4 + index 4 + nonce 8 + tag 16 */
#define WG_MTU_MIN	  148u /* 68 (the IPv4 minimum) + 80 */
#define WG_CONFIG_MAX_LEN (64 * 1024)

enum wg_mode {
	WG_MODE_SEPARATE, /* flannel-wg for IPv4, flannel-wg-v6 for IPv6 */
	WG_MODE_AUTO,	  /* one device flannel-wg */
	WG_MODE_IPV4,
	WG_MODE_IPV6,
};

struct wg_config {
	uint16_t listen_port;
	uint16_t listen_port6;
	uint32_t mtu; /* 0: the external interface's */
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	uint16_t keepalive; /* seconds, 0: off */
	enum wg_mode mode;
};

/* Parse the raw Backend object; err names the field ("Backend: PSK: ..."). */
int wg_config_parse(const char *json, size_t len, struct wg_config *ret, struct errmsg *err);
const char *wg_mode_name(enum wg_mode m);
