/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publishing plan. Upstream computes a two-way strategic merge patch between
 * the cached node and a modified copy, which for flannel's changes reduces
 * to "the annotations that differ"; we build that directly. The condition
 * rides in the same PATCH (strategic merge merges status.conditions by type,
 * so the kubelet's conditions stay).
 */
#include <string.h>
#include <time.h>

#include "kube/patch.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

int kube_desired_from_attrs(const struct lease_attrs *attrs, const struct ip_addr *public_ip,
			    const struct ip_addr *public_ip6, const struct kube_node *own,
			    struct kube_desired *ret)
{
	struct kube_desired d = {};
	bool data = lease_type_has_data(attrs->backend_type);
	int r;

	snprintf(d.backend_type, sizeof(d.backend_type), "%s", attrs->backend_type);
	d.v4 = public_ip && ip_addr_is_set(public_ip) &&
	       (!data || lease_attrs_has_data(attrs, false));
	d.v6 = public_ip6 && ip_addr_is_set(public_ip6) &&
	       (!data || lease_attrs_has_data(attrs, true));
	if (!d.v4 && !d.v6)
		return -EINVAL;

	if (d.v4 && strcmp(attrs->backend_type, "extension") == 0 && attrs->ext_data)
		d.ext_data = attrs->ext_data; /* any length: not rendered into the buffer */
	if (d.v4) {
		r = d.ext_data ? 0
			       : lease_backend_data_render(attrs, false, d.backend_data,
							   sizeof(d.backend_data));
		if (r < 0)
			return r;
		if (own && own->ann[KUBE_ANN_PUBLIC_IP_OVERWRITE] &&
		    own->ann[KUBE_ANN_PUBLIC_IP_OVERWRITE][0])
			snprintf(d.public_ip, sizeof(d.public_ip), "%s",
				 own->ann[KUBE_ANN_PUBLIC_IP_OVERWRITE]);
		else
			ip_addr_fmt(public_ip, d.public_ip);
	}
	if (d.v6) {
		r = lease_backend_data_render(attrs, true, d.backend_v6_data,
					      sizeof(d.backend_v6_data));
		if (r < 0)
			return r;
		if (own && own->ann[KUBE_ANN_PUBLIC_IPV6_OVERWRITE] &&
		    own->ann[KUBE_ANN_PUBLIC_IPV6_OVERWRITE][0])
			snprintf(d.public_ipv6, sizeof(d.public_ipv6), "%s",
				 own->ann[KUBE_ANN_PUBLIC_IPV6_OVERWRITE]);
		else
			ip_addr_fmt(public_ip6, d.public_ipv6);
	}
	*ret = d;
	return 0;
}

static bool differs(const struct kube_node *cur, enum kube_ann a, const char *want)
{
	return !cur->ann[a] || strcmp(cur->ann[a], want) != 0;
}

int kube_patch_body(const struct kube_node *cur, const struct kube_annotation_keys *keys,
		    const struct kube_desired *d, bool set_condition, uint64_t now_realtime_usec,
		    struct buf *out)
{
	_cleanup_json_ cJSON *root = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	const struct {
		enum kube_ann a;
		bool when;
		const char *value;
	} want[] = {
		{KUBE_ANN_BACKEND_TYPE, true, d->backend_type},
		{KUBE_ANN_BACKEND_DATA, d->v4, d->ext_data ? d->ext_data : d->backend_data},
		{KUBE_ANN_BACKEND_V6_DATA, d->v6, d->backend_v6_data},
		{KUBE_ANN_PUBLIC_IP, d->v4, d->public_ip},
		{KUBE_ANN_PUBLIC_IPV6, d->v6, d->public_ipv6},
		{KUBE_ANN_SUBNET_MANAGER, true, "true"},
	};
	cJSON *anns = NULL;
	bool any = false;
	int r;

	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		if (!want[i].when || !differs(cur, want[i].a, want[i].value))
			continue;
		if (!anns) {
			cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
			anns = meta ? cJSON_AddObjectToObject(meta, "annotations") : NULL;
			if (!anns)
				return -ENOMEM;
		}
		if (!cJSON_AddStringToObject(anns, keys->key[want[i].a], want[i].value))
			return -ENOMEM;
		any = true;
	}

	if (set_condition && !cur->flannel_is_up) {
		char ts[32];
		time_t t = (time_t)(now_realtime_usec / USEC_PER_SEC);
		struct tm tm;
		cJSON *status, *conds, *c;

		if (!gmtime_r(&t, &tm) || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			return -EINVAL;
		status = cJSON_AddObjectToObject(root, "status");
		conds = status ? cJSON_AddArrayToObject(status, "conditions") : NULL;
		c = cJSON_CreateObject();
		if (!conds || !c) {
			cJSON_Delete(c);
			return -ENOMEM;
		}
		cJSON_AddItemToArray(conds, c);
		if (!cJSON_AddStringToObject(c, "type", "NetworkUnavailable") ||
		    !cJSON_AddStringToObject(c, "status", "False") ||
		    !cJSON_AddStringToObject(c, "reason", "FlannelIsUp") ||
		    !cJSON_AddStringToObject(c, "message", "Flannel is running on this node") ||
		    !cJSON_AddStringToObject(c, "lastTransitionTime", ts) ||
		    !cJSON_AddStringToObject(c, "lastHeartbeatTime", ts))
			return -ENOMEM;
		any = true;
	}
	if (!any)
		return 0;
	text = json_print(root);
	if (!text)
		return -ENOMEM;
	r = buf_puts(out, text);
	return r < 0 ? r : 1;
}
