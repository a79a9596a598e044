/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netconf-check: validate a net-conf.json with the daemon's own parsers and
 * print what they understood, one "Key=value" line per field:
 *
 *   netconf-check /etc/kube-flannel/net-conf.json
 *
 * test/check/test-manifest.py runs it on the ConfigMap's net-conf.json, so a
 * manifest whose network configuration flanneld would reject (or read
 * differently from what the manifest says) fails the check. The Backend
 * object goes through backend_new(), as in the daemon (type supported,
 * options valid), with a stand-in external interface: the interface is a
 * property of the node, not of the configuration. Printing the parsed values,
 * not just an exit code, lets the test compare them with the JSON. Exit 0
 * when valid, 1 with "<file>: <error>" on stderr when not, 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/vxlan_config.h"
#include "lib/core/errmsg.h"
#include "lib/core/fileio.h"
#include "lib/core/ipnet.h"
#include "lib/core/macro.h"
#include "lib/json/netconf.h"

static const char *yes_no(bool b)
{
	return b ? "true" : "false";
}

static void print_netconf(const struct netconf *c)
{
	char net[IP_NET_STRLEN];

	printf("EnableIPv4=%s\n", yes_no(c->enable_ipv4));
	printf("EnableIPv6=%s\n", yes_no(c->enable_ipv6));
	printf("EnableNFTables=%s\n", yes_no(c->enable_nftables));
	if (c->has_network)
		printf("Network=%s\n", ip_net_fmt(&c->network, net));
	if (c->has_ipv6_network)
		printf("IPv6Network=%s\n", ip_net_fmt(&c->ipv6_network, net));
	if (c->subnet_len > 0)
		printf("SubnetLen=%u\n", c->subnet_len);
	if (c->ipv6_subnet_len > 0)
		printf("IPv6SubnetLen=%u\n", c->ipv6_subnet_len);
	printf("BackendType=%s\n", c->backend_type);
}

/* The daemon's backend construction on a stand-in interface (documentation addresses). */
static int check_backend(const struct netconf *c, struct errmsg *err)
{
	struct ext_iface ext = {.name = "eth0", .ifindex = 1, .mtu = 1500};
	struct backend_config cfg = {
		.type = c->backend_type,
		.json = c->backend_json,
		.json_len = c->backend_json ? strlen(c->backend_json) : 0,
		.ext = &ext,
		.ipv4 = c->enable_ipv4,
		.ipv6 = c->enable_ipv6,
	};
	struct backend *b = NULL;
	int r;

	r = ip_addr_parse("203.0.113.1", &ext.iface_addr);
	if (r < 0)
		return r;
	r = ip_addr_parse("2001:db8::1", &ext.iface_addr6);
	if (r < 0)
		return r;
	ext.ext_addr = ext.iface_addr;
	ext.ext_addr6 = ext.iface_addr6;
	r = backend_new(NULL, &cfg, &b, err);
	if (r < 0)
		return r;
	backend_free(b);
	return 0;
}

static int print_vxlan(const struct netconf *c, struct errmsg *err)
{
	struct vxlan_config v;
	int r;

	r = vxlan_config_parse(c->backend_json, strlen(c->backend_json), &v, err);
	if (r < 0)
		return r;
	printf("VNI=%u\n", v.vni);
	printf("Port=%u\n", (unsigned)v.port);
	printf("GBP=%s\n", yes_no(v.gbp));
	printf("DirectRouting=%s\n", yes_no(v.direct_routing));
	printf("Learning=%s\n", yes_no(v.learning));
	printf("MTU=%u\n", v.mtu);
	return 0;
}

static int check_file(const char *path)
{
	_cleanup_free_ char *data = NULL;
	struct netconf conf = {0};
	struct errmsg err = {{0}};
	size_t len;
	int r;

	r = read_file_bounded(path, NETCONF_MAX_SIZE, &data, &len);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	r = netconf_parse(data, len, &conf, &err);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, err.text[0] ? err.text : strerror(-r));
		return 1;
	}
	r = check_backend(&conf, &err);
	if (r >= 0) {
		print_netconf(&conf);
		if (strcmp(conf.backend_type, "vxlan") == 0)
			r = print_vxlan(&conf, &err);
	}
	netconf_done(&conf);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, err.text[0] ? err.text : strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: %s NET-CONF.JSON\n", argv[0]);
		return 2;
	}
	return check_file(argv[1]);
}
