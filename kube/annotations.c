/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Annotation prefix normalisation and key table. Upstream validates the
 * prefix with a regular expression; this is the same language written as a
 * small hand parser so that no regex engine is needed and the error
 * messages stay upstream's.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kube/annotations.h"

static const char *const ann_names[_KUBE_ANN_MAX] = {
	[KUBE_ANN_BACKEND_TYPE] = "backend-type",
	[KUBE_ANN_BACKEND_DATA] = "backend-data",
	[KUBE_ANN_BACKEND_V6_DATA] = "backend-v6-data",
	[KUBE_ANN_PUBLIC_IP] = "public-ip",
	[KUBE_ANN_PUBLIC_IPV6] = "public-ipv6",
	[KUBE_ANN_SUBNET_MANAGER] = "kube-subnet-manager",
	[KUBE_ANN_PUBLIC_IP_OVERWRITE] = "public-ip-overwrite",
	[KUBE_ANN_PUBLIC_IPV6_OVERWRITE] = "public-ipv6-overwrite",
	[KUBE_ANN_NODE_PUBLIC_IP] = "node-public-ip",
	[KUBE_ANN_NODE_PUBLIC_IPV6] = "node-public-ipv6",
};

const char *kube_ann_name(enum kube_ann a)
{
	if ((unsigned)a >= _KUBE_ANN_MAX)
		return NULL;
	return ann_names[a];
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* (?:[a-z0-9_-]+\.)+[a-z0-9_-]+ over [s, e) */
static bool valid_fqdn(const char *s, const char *e)
{
	size_t labels = 0, len = 0;

	for (const char *p = s; p < e; p++) {
		if (*p == '.') {
			if (len == 0)
				return false;
			labels++;
			len = 0;
		} else if (is_label_char(*p)) {
			len++;
		} else {
			return false;
		}
	}
	return len > 0 && labels >= 1;
}

/* (?:[a-z0-9_-]+-)? over [s, e) */
static bool valid_name_part(const char *s, const char *e)
{
	if (s == e)
		return true;
	if (e - s < 2 || e[-1] != '-')
		return false;
	for (const char *p = s; p < e; p++)
		if (!is_label_char(*p))
			return false;
	return true;
}

int kube_annotation_prefix_normalize(const char *prefix, char *ret, size_t size, struct errmsg *err)
{
	char buf[KUBE_ANNOTATION_KEY_MAX];
	const char *slash;
	size_t len;

	len = strlen(prefix);
	if (len + 2 >= sizeof(buf))
		return errmsg_set(err, "subnet/kube: prefix is too long (%zu bytes)", len), -EINVAL;
	slash = strchr(prefix, '/');
	if (slash && strchr(slash + 1, '/'))
		return errmsg_set(err, "subnet/kube: prefix can contain at most single slash"),
		       -EINVAL;

	memcpy(buf, prefix, len + 1);
	if (!slash)
		buf[len++] = '/';
	if (len > 0 && buf[len - 1] != '/' && buf[len - 1] != '-')
		buf[len++] = '-';
	buf[len] = '\0';

	slash = strchr(buf, '/');
	if (!valid_fqdn(buf, slash) || !valid_name_part(slash + 1, buf + len))
		return errmsg_set(err, "subnet/kube: prefix must be in a format: fqdn/[0-9a-z-_]*"),
		       -EINVAL;
	if (len + 1 > size)
		return errmsg_set(err, "subnet/kube: prefix is too long (%zu bytes)", len), -EINVAL;
	memcpy(ret, buf, len + 1);
	return 0;
}

int kube_annotation_keys_init(struct kube_annotation_keys *k, const char *prefix,
			      struct errmsg *err)
{
	char norm[KUBE_ANNOTATION_KEY_MAX - 32];
	int r;

	r = kube_annotation_prefix_normalize(prefix ?: KUBE_ANNOTATION_PREFIX_DEFAULT, norm,
					     sizeof(norm), err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < _KUBE_ANN_MAX; i++)
		snprintf(k->key[i], sizeof(k->key[i]), "%s%s", norm, ann_names[i]);
	return 0;
}
