/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vxlan Backend object of net-conf.json (upstream backend/vxlan):
 *   {"Type":"vxlan","VNI":1,"Port":0,"GBP":false,"DirectRouting":false,"MTU":0,"Learning":false}
 * Keys are case-insensitive (Go's encoding/json); unknown keys (e.g. the
 * Windows-only MacPrefix, Name) are ignored; null keeps the default.
 * Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"

#define VXLAN_VNI_MAX	     16777215u /* 24 bits */
#define VXLAN_DEFAULT_VNI    1u
#define VXLAN_KERNEL_PORT    8472u /* what the kernel uses for Port 0 */
#define VXLAN_MTU_MIN	     118u  /* 68 (the IPv4 minimum) + 50 of encapsulation */
#define VXLAN_CONFIG_MAX_LEN (64 * 1024)

struct vxlan_config {
	uint32_t vni;  /* 1..VXLAN_VNI_MAX, default 1 */
	uint16_t port; /* 0: the kernel's default */
	bool gbp;
	bool direct_routing;
	bool learning;
	uint32_t mtu; /* "MTU of outgoing packets"; 0: the external interface's */
};

/*
 * Parse the raw Backend object. On error err names the field:
 *   Backend: VNI: expected an integer, got string
 */
int vxlan_config_parse(const char *json, size_t len, struct vxlan_config *ret, struct errmsg *err);
