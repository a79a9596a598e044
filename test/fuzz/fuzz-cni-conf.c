/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the CNI plugin's parsers: the netconf parser, then the
 * delegate builder on every accepted configuration (with a dual-stack
 * subnet.env), and the installer's conflist check on the same bytes. A
 * built delegate must carry the invariants flannel guarantees: name set,
 * string type, ipam object with ranges; and every delegate built-in mode
 * takes has both range sets and gives a result. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/builtin.h"
#include "cni/conf.h"
#include "cni/delegate.h"
#include "cni/install.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subnet_env e = {.has_mtu = true, .mtu = 1450, .has_ipmasq = true, .ipmasq = true};
	struct cni_conf c;
	struct errmsg err = {};
	_cleanup_cni_json_ struct cni_json *d = NULL;
	_cleanup_buf_ struct buf out = BUF_INIT;

	e.has_network = ip_net_parse("198.18.0.0/16", &e.network) == 0;
	e.has_subnet = ip_net_parse("198.18.5.1/24", &e.subnet) == 0;
	e.has_ipv6_network = ip_net_parse("2001:db8:42::/56", &e.ipv6_network) == 0;
	e.has_ipv6_subnet = ip_net_parse("2001:db8:42:1::1/64", &e.ipv6_subnet) == 0;

	(void)cni_conflist_check((const char *)data, size, &err);
	if (cni_conf_parse((const char *)data, size, &c, &err) < 0)
		return 0;
	if (!c.name || !cni_conf_valid_id(c.name) || !c.subnet_file[0] || !c.data_dir[0])
		abort();
	if (cni_delegate_build(&c, &e, &d, &err) == 0) {
		const char *name, *type;
		const struct cni_json *ipam = cni_json_get(d, "ipam");
		if (cni_json_get_string(d, "name", &name) < 0 || strcmp(name, c.name) != 0 ||
		    cni_json_get_string(d, "type", &type) < 0 ||
		    cni_json_size(cni_json_get(ipam, "ranges")) != 2 || !cni_json_has(d, "mtu") ||
		    cni_json_print(d, &out) < 0)
			abort();
		struct builtin_conf bc;
		struct builtin_result res = {.bridge = "cni0", .host = "veth0", .ifname = "eth0"};
		_cleanup_cni_json_ struct cni_json *result = NULL;
		if (builtin_conf_parse(d, &bc, &err) == 0) {
			res.n_ips = bc.n_ranges;
			for (unsigned i = 0; i < bc.n_ranges; i++) {
				res.ips[i] = bc.ranges[i].subnet;
				res.gateways[i] = bc.ranges[i].gateway;
			}
			if (bc.n_ranges != 2 || !bc.bridge[0] || !bc.ipam_dir[0] ||
			    bc.n_routes > BUILTIN_MAX_ROUTES ||
			    builtin_result_json(&bc, &res, &result) < 0)
				abort();
		}
	}
	cni_conf_done(&c);
	return 0;
}
