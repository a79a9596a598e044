/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What flanneld writes on its own Node, and the body of the one
 * strategic-merge PATCH of nodes/<name>/status that writes it
 * (flannel-behaviour §3.3 step 4-5 and §3.5; wire: kube-wire/50):
 *
 *   {"metadata":{"annotations":{<only the keys whose value differs>}},
 *    "status":{"conditions":[{"type":"NetworkUnavailable","status":"False",
 *      "reason":"FlannelIsUp","message":"Flannel is running on this node",
 *      "lastTransitionTime":<now>,"lastHeartbeatTime":<now>}]}}
 *
 * Annotation order: backend-type, backend-data, backend-v6-data, public-ip,
 * public-ipv6, kube-subnet-manager. Pure: the clock is a parameter.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kube/annotations.h"
#include "kube/node.h"
#include "lib/core/buf.h"
#include "lib/core/ipnet.h"
#include "lib/json/lease.h"

struct kube_desired {
	char backend_type[BACKEND_TYPE_MAX];
	bool v4, v6; /* which pair (backend data + public IP) is written */
	char backend_data[128], backend_v6_data[128];
	const char *ext_data; /* extension: backend-data instead (borrowed from the attrs) */
	char public_ip[IP_ADDR_STRLEN], public_ipv6[IP_ADDR_STRLEN];
};

/*
 * From the backend's attributes and detected public IPs (NULL or family 0:
 * none). VXLAN writes a pair only when that family's VtepMAC is known;
 * extension writes its data (attrs.ext_data, borrowed) or "null"; other
 * backends write "null" data. A public-ip(v6)-overwrite annotation on
 * own (may be NULL) replaces the detected address. -EINVAL when nothing
 * would be written.
 */
int kube_desired_from_attrs(const struct lease_attrs *attrs, const struct ip_addr *public_ip,
			    const struct ip_addr *public_ip6, const struct kube_node *own,
			    struct kube_desired *ret);

/*
 * The PATCH body turning cur into desired (and, when set_condition and the
 * node does not say FlannelIsUp yet, the NetworkUnavailable condition).
 * Returns 1 with the body in out, 0 when nothing differs (out untouched).
 */
int kube_patch_body(const struct kube_node *cur, const struct kube_annotation_keys *keys,
		    const struct kube_desired *d, bool set_condition, uint64_t now_realtime_usec,
		    struct buf *out);
