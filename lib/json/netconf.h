/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net-conf.json (kube mode: the file at --net-config-path; etcd mode: the
 * value of <prefix>/config). Keys are matched case-insensitively as Go's
 * encoding/json does; unknown keys are ignored; wrong types are errors.
 * The Backend object is kept raw for the backend's own parser.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"

#define NETCONF_MAX_SIZE (64 * 1024)

struct netconf {
	bool enable_ipv4;     /* default true */
	bool enable_ipv6;     /* default false */
	bool enable_nftables; /* default false */
	bool has_network;
	struct ip_net network; /* masked */
	bool has_ipv6_network;
	struct ip_net ipv6_network;
	uint32_t subnet_len;		       /* 0: unset (computed by netconf_check) */
	struct ip_addr subnet_min, subnet_max; /* family 0: unset */
	uint32_t ipv6_subnet_len;
	struct ip_addr ipv6_subnet_min, ipv6_subnet_max;
	char backend_type[32]; /* lower-cased; "udp" when Backend is absent, as upstream */
	char *backend_json;    /* the raw Backend object ("{}" when absent); owned */
};

/* Parse; on error err holds "<Field>: <problem> \"<value>\"". */
int netconf_parse(const char *data, size_t len, struct netconf *ret, struct errmsg *err);
/* Upstream's CheckNetworkConfig (etcd mode): fills SubnetLen/Min/Max defaults, exact errors. */
int netconf_check(struct netconf *c, struct errmsg *err);
void netconf_done(struct netconf *c);
