/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flannel's node annotations: the prefix given with --kube-annotation-prefix
 * is normalised exactly as upstream does (flannel-behaviour §3.2), and the
 * ten keys flannel reads or writes are derived from it once.
 * Pure: no I/O, no allocation.
 */
#pragma once

#include <stddef.h>

#include "lib/core/errmsg.h"

#define KUBE_ANNOTATION_PREFIX_DEFAULT "flannel.alpha.coreos.com"
/* 253 (DNS subdomain) + "/" + name part (63) + NUL, rounded up. */
#define KUBE_ANNOTATION_KEY_MAX 320

enum kube_ann {
	KUBE_ANN_BACKEND_TYPE,
	KUBE_ANN_BACKEND_DATA,
	KUBE_ANN_BACKEND_V6_DATA,
	KUBE_ANN_PUBLIC_IP,
	KUBE_ANN_PUBLIC_IPV6,
	KUBE_ANN_SUBNET_MANAGER,
	KUBE_ANN_PUBLIC_IP_OVERWRITE,
	KUBE_ANN_PUBLIC_IPV6_OVERWRITE,
	KUBE_ANN_NODE_PUBLIC_IP,
	KUBE_ANN_NODE_PUBLIC_IPV6,
	_KUBE_ANN_MAX,
};

struct kube_annotation_keys {
	char key[_KUBE_ANN_MAX][KUBE_ANNOTATION_KEY_MAX];
};

/*
 * Upstream's normalisation: at most one '/'; no '/' -> append '/'; then, if
 * it ends in neither '/' nor '-', append '-'; the result must match
 * ^(?:[a-z0-9_-]+\.)+[a-z0-9_-]+/(?:[a-z0-9_-]+-)?$.
 * "flannel.alpha.coreos.com" -> "flannel.alpha.coreos.com/",
 * "example.com/foo" -> "example.com/foo-". -EINVAL with upstream's message.
 */
int kube_annotation_prefix_normalize(const char *prefix, char *ret, size_t size,
				     struct errmsg *err);
/* Normalise prefix (NULL: the default) and build the keys. */
int kube_annotation_keys_init(struct kube_annotation_keys *k, const char *prefix,
			      struct errmsg *err);
/* The part after the prefix, e.g. "backend-type". */
const char *kube_ann_name(enum kube_ann a);
