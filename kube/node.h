/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Node object, reduced to what flannel reads: name, resourceVersion, pod
 * CIDR(s), node addresses, the NetworkUnavailable condition and flannel's own
 * annotations. Nothing else of the JSON is kept, so 5000 nodes cost a few
 * hundred bytes each. Node -> lease follows upstream's nodeToLease and
 * AcquireLease checks (flannel-behaviour §3.3, §3.4).
 *
 * Pure: no I/O. Parsers fill struct errmsg with "<field>: <problem>".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube/annotations.h"
#include "kube/reflector.h"
#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"
#include "lib/json/lease.h"

#define KUBE_ANNOTATION_VALUE_MAX 4096
#define KUBE_NODE_MAX_PODCIDRS	  3 /* a third one is kept only to report the error */

struct kube_node {
	char name[LEASE_NAME_MAX];
	char resource_version[KUBE_RV_MAX];
	/* spec.podCIDRs, or spec.podCIDR when podCIDRs is empty; masked. */
	unsigned n_pod_cidrs;
	struct ip_net pod_cidrs[KUBE_NODE_MAX_PODCIDRS];
	/* A malformed pod CIDR does not fail the parse (a node that is not
	 * flannel's must not be warned about): it is reported by to_lease. */
	char pod_cidr_error[128];
	struct ip_addr internal_ip4, internal_ip6, external_ip4, external_ip6;
	/* NetworkUnavailable is False with reason FlannelIsUp. */
	bool flannel_is_up;
	char *ann[_KUBE_ANN_MAX]; /* owned, NULL when absent */
};

/* The reflector's kind for Nodes: kind_userdata is the struct
 * kube_annotation_keys; the objects are struct kube_node (malloc'ed). */
extern const struct kube_kind kube_node_kind;

void kube_node_done(struct kube_node *n);
/* Move: *dst (done first) takes src's contents, src is left empty. */
void kube_node_move(struct kube_node *dst, struct kube_node *src);
int kube_node_copy(struct kube_node *dst, const struct kube_node *src);

/* Parse a Node object. Requires metadata.name. -EINVAL/-EMSGSIZE + err. */
int kube_node_from_cjson(const cJSON *obj, const struct kube_annotation_keys *keys,
			 struct kube_node *ret, struct errmsg *err);
/* Same from text (bounded by KUBE_OBJECT_MAX_SIZE); -EBADMSG on bad JSON. */
int kube_node_parse(const char *data, size_t len, const struct kube_annotation_keys *keys,
		    struct kube_node *ret, struct errmsg *err);

/* What the subnet manager lets into a lease. */
struct kube_lease_params {
	const struct kube_annotation_keys *keys; /* for error messages */
	bool enable_ipv4, enable_ipv6;
	bool has_network, has_ipv6_network;
	struct ip_net network, ipv6_network;
};

/* The node's subnets, checked against the networks (AcquireLease rules);
 * ret->name borrows n->name. -ENODATA: no pod CIDR assigned yet. */
int kube_node_subnets(const struct kube_node *n, const struct kube_lease_params *p,
		      struct lease *ret, struct errmsg *err);

/*
 * A peer's lease (nodeToLease). -ENOENT when the node is not flannel's
 * (kube-subnet-manager != "true": skip silently); -EINVAL/-ENODATA with err
 * naming the field otherwise. ret->name borrows n->name.
 */
int kube_node_to_lease(const struct kube_node *n, const struct kube_lease_params *p,
		       struct lease *ret, struct errmsg *err);

/* spec.nodeName of a Pod object (text). */
int kube_pod_node_name(const char *data, size_t len, char *ret, size_t size, struct errmsg *err);
