/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kube subnet manager: everything flanneld needs from the Kubernetes
 * API, on the daemon's loop.
 *
 *   - the node name: $NODE_NAME, else GET pods/$POD_NAME in $POD_NAMESPACE
 *     and its spec.nodeName (retried with backoff on API errors);
 *   - the own node: podCIDR(s) -> own lease (must be inside Network), the
 *     annotations needed to keep the VtepMAC and node-public-ip(v6);
 *   - the peers: every other node annotated kube-subnet-manager=true with
 *     valid backend data, as a struct lease_set (lib/json/lease.h);
 *   - publishing: one strategic-merge PATCH of nodes/<name>/status with
 *     flannel's annotations and NetworkUnavailable=False (kube/patch.h),
 *     only when something differs, re-done if the node drifts.
 *
 * A node without a podCIDR is not fatal: it is logged once and the manager
 * reports not-ready until the watch delivers one.
 *
 * Callbacks run from the loop, at the end of a batch of changes, so the
 * daemon can coalesce: it reads kube_mgr_peers() / kube_mgr_own_lease() then.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kube/config.h"
#include "kube/http.h"
#include "kube/node.h"
#include "kube/reflector.h"
#include "lib/core/errmsg.h"
#include "lib/core/loop.h"
#include "lib/json/lease.h"

struct kube_mgr;

struct kube_mgr_config {
	const struct kube_config *conn; /* copied */
	const char *annotation_prefix;	/* NULL: flannel.alpha.coreos.com */
	const char *node_name;		/* NULL: $NODE_NAME, else from the pod */
	/* enable_ipv4/6 and the networks; .keys is filled in by the manager */
	struct kube_lease_params lease;
	bool set_node_network_unavailable;
	struct kube_http_options http;
	struct kube_reflector_options watch;
};

struct kube_mgr_callbacks {
	/* The own node appeared, changed (podCIDR, annotations) or disappeared. */
	void (*own_node_changed)(struct kube_mgr *m, void *userdata);
	/* kube_mgr_peers() changed (its generation moved). */
	void (*peers_changed)(struct kube_mgr *m, void *userdata);
	/* The first LIST completed. */
	void (*synced)(struct kube_mgr *m, void *userdata);
	/* A kube_mgr_publish() finished: 0 (also when nothing had to change) or -errno. */
	void (*published)(struct kube_mgr *m, int r, void *userdata);
};

struct kube_mgr_stats {
	struct kube_reflector_stats watch;
	struct kube_http_stats http;
	uint64_t patches, patch_failures;
	uint64_t skipped_nodes; /* flannel nodes whose lease could not be built */
};

int kube_mgr_new(struct loop *loop, const struct kube_mgr_config *config,
		 const struct kube_mgr_callbacks *callbacks, void *userdata, struct kube_mgr **ret);
struct kube_mgr *kube_mgr_free(struct kube_mgr *m);
/* Resolve the node name (maybe via the pod) and start LIST+WATCH.
 * -EINVAL when neither NODE_NAME nor POD_NAME+POD_NAMESPACE is set. */
int kube_mgr_start(struct kube_mgr *m);

/* NULL until known. */
const char *kube_mgr_node_name(const struct kube_mgr *m);
const struct lease_set *kube_mgr_peers(const struct kube_mgr *m);
/* A flannel node whose lease cannot be built (bad podCIDR, annotation, ...). */
struct kube_invalid_node {
	char *name;
	char *error; /* names the field */
};
/* Those nodes, sorted by name; borrowed until the next callback. */
const struct kube_invalid_node *kube_mgr_invalid_nodes(const struct kube_mgr *m, size_t *ret_n);
/* NULL until the own node has been seen. Borrowed until the next callback. */
const struct kube_node *kube_mgr_own_node(const struct kube_mgr *m);
/* The own lease (name + subnets), its name borrowed until the next callback.
 * -ENOENT: own node not seen yet;
 * -ENODATA: no podCIDR yet; -EINVAL: podCIDR outside Network etc. (err). */
int kube_mgr_own_lease(const struct kube_mgr *m, struct lease *ret, struct errmsg *err);
bool kube_mgr_synced(const struct kube_mgr *m);
/* Synced and the own lease is valid. */
bool kube_mgr_ready(const struct kube_mgr *m);

/*
 * Write flannel's annotations (and the NetworkUnavailable condition when
 * configured) on the own node. Asynchronous: callbacks->published reports
 * the outcome; when the own node is not known yet, it is published as soon
 * as it is. public_ip/public_ip6: NULL or family 0 when not used.
 */
int kube_mgr_publish(struct kube_mgr *m, const struct lease_attrs *attrs,
		     const struct ip_addr *public_ip, const struct ip_addr *public_ip6);

/* SIGHUP: LIST again (and diff), and re-read the token. */
int kube_mgr_relist(struct kube_mgr *m);
void kube_mgr_reload_token(struct kube_mgr *m);
/* The API client, shared with other reflectors (same connection, token, metrics). */
struct kube_http *kube_mgr_http(const struct kube_mgr *m);
void kube_mgr_get_stats(const struct kube_mgr *m, struct kube_mgr_stats *ret);
