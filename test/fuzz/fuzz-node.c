/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/node.c: parse one Node object, then turn it into a
 * peer lease and an own lease with IPv4-only and dual-stack parameters, and
 * plan the status PATCH against it. Checks the invariants a peer lease must
 * keep (the node's name, subnets inside the networks). Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/node.h"
#include "kube/patch.h"
#include "lib/core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kube_annotation_keys keys;
	static bool init;
	struct kube_lease_params p = {.keys = &keys, .enable_ipv4 = true, .has_network = true};
	struct kube_node n = {};
	struct errmsg err = {};
	struct lease l;

	if (!init) {
		if (kube_annotation_keys_init(&keys, NULL, NULL) < 0)
			abort();
		init = true;
	}
	if (kube_node_parse((const char *)data, size, &keys, &n, &err) < 0)
		return 0;
	if (!n.name[0] || n.n_pod_cidrs > KUBE_NODE_MAX_PODCIDRS)
		abort();

	ip_net_parse("10.0.0.0/8", &p.network);
	ip_net_parse("2001:db8::/32", &p.ipv6_network);
	for (int dual = 0; dual < 2; dual++) {
		p.enable_ipv6 = p.has_ipv6_network = dual;
		if (kube_node_to_lease(&n, &p, &l, &err) >= 0) {
			if (strcmp(l.name, n.name) != 0 || !l.has_subnet ||
			    !ip_net_contains_net(&p.network, &l.subnet))
				abort();
			if (dual &&
			    (!l.has_subnet6 || !ip_net_contains_net(&p.ipv6_network, &l.subnet6)))
				abort();
		}
		(void)kube_node_subnets(&n, &p, &l, &err);
	}

	struct lease_attrs a = {.backend_type = "vxlan", .vni = 1, .has_vtep_mac = true};
	struct ip_addr ip;
	struct kube_desired d;
	struct buf out = BUF_INIT;
	ip_addr_parse("192.0.2.1", &ip);
	if (kube_desired_from_attrs(&a, &ip, NULL, &n, &d) >= 0 &&
	    kube_patch_body(&n, &keys, &d, true, 0, &out) < 0)
		abort();
	buf_free(&out);
	kube_node_done(&n);
	return 0;
}
