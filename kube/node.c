/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node objects -> struct kube_node -> struct lease. The cJSON tree of a node
 * is 5-7 times its text, so it never outlives kube_node_parse(): only the
 * few fields flannel reads are copied out, annotation values bounded.
 */
#include <string.h>

#include "kube/node.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

void kube_node_done(struct kube_node *n)
{
	for (unsigned i = 0; i < _KUBE_ANN_MAX; i++)
		free(n->ann[i]);
	memset(n, 0, sizeof(*n));
}

void kube_node_move(struct kube_node *dst, struct kube_node *src)
{
	kube_node_done(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int kube_node_copy(struct kube_node *dst, const struct kube_node *src)
{
	struct kube_node tmp = *src;

	for (unsigned i = 0; i < _KUBE_ANN_MAX; i++)
		tmp.ann[i] = NULL;
	for (unsigned i = 0; i < _KUBE_ANN_MAX; i++) {
		if (!src->ann[i])
			continue;
		tmp.ann[i] = strdup(src->ann[i]);
		if (!tmp.ann[i]) {
			kube_node_done(&tmp);
			return -ENOMEM;
		}
	}
	kube_node_done(dst);
	*dst = tmp;
	return 0;
}

static void pod_cidr_error(struct kube_node *n, const char *field, const char *value)
{
	if (n->pod_cidr_error[0])
		return;
	snprintf(n->pod_cidr_error, sizeof(n->pod_cidr_error), "%s: invalid CIDR \"%.64s\"", field,
		 value);
}

static void add_pod_cidr(struct kube_node *n, const char *field, const cJSON *item)
{
	struct ip_net net;
	const char *s;

	if (json_as_str(item, &s) < 0) {
		pod_cidr_error(n, field, json_type_name(item));
		return;
	}
	if (ip_net_parse(s, &net) < 0) {
		pod_cidr_error(n, field, s);
		return;
	}
	ip_net_mask(&net);
	/* Entries past the third are dropped: three already mean "invalid". */
	if (n->n_pod_cidrs < KUBE_NODE_MAX_PODCIDRS)
		n->pod_cidrs[n->n_pod_cidrs++] = net;
}

static int parse_spec(const cJSON *spec, struct kube_node *n, struct errmsg *err)
{
	const cJSON *cidrs, *item;
	int r;

	r = json_get_array(spec, "podCIDRs", &cidrs);
	if (r == -EINVAL)
		return errmsg_set(err, "spec.podCIDRs: expected an array"), -EINVAL;
	if (r >= 0 && cJSON_GetArraySize(cidrs) > 0) {
		cJSON_ArrayForEach (item, cidrs)
			add_pod_cidr(n, "spec.podCIDRs", item);
		return 0;
	}
	item = json_item(spec, "podCIDR");
	if (item) {
		const char *s;
		if (json_as_str(item, &s) < 0)
			return errmsg_set(err, "spec.podCIDR: expected a string"), -EINVAL;
		if (s[0])
			add_pod_cidr(n, "spec.podCIDR", item);
	}
	return 0;
}

static int parse_status(const cJSON *status, struct kube_node *n, struct errmsg *err)
{
	const cJSON *arr, *item;
	int r;

	r = json_get_array(status, "addresses", &arr);
	if (r == -EINVAL)
		return errmsg_set(err, "status.addresses: expected an array"), -EINVAL;
	if (r >= 0) {
		cJSON_ArrayForEach (item, arr) {
			const char *type, *addr;
			struct ip_addr a;

			if (json_get_str(item, "type", &type) < 0 ||
			    json_get_str(item, "address", &addr) < 0 || ip_addr_parse(addr, &a) < 0)
				continue; /* Hostname entries and the like */
			if (streq(type, "InternalIP")) {
				struct ip_addr *slot =
					a.family == AF_INET ? &n->internal_ip4 : &n->internal_ip6;
				if (!ip_addr_is_set(slot))
					*slot = a;
			} else if (streq(type, "ExternalIP")) {
				struct ip_addr *slot =
					a.family == AF_INET ? &n->external_ip4 : &n->external_ip6;
				if (!ip_addr_is_set(slot))
					*slot = a;
			}
		}
	}

	r = json_get_array(status, "conditions", &arr);
	if (r == -EINVAL)
		return errmsg_set(err, "status.conditions: expected an array"), -EINVAL;
	if (r >= 0) {
		cJSON_ArrayForEach (item, arr) {
			const char *type, *st, *reason;

			if (json_get_str(item, "type", &type) < 0 ||
			    !streq(type, "NetworkUnavailable"))
				continue;
			n->flannel_is_up = json_get_str(item, "status", &st) >= 0 &&
					   streq(st, "False") &&
					   json_get_str(item, "reason", &reason) >= 0 &&
					   streq(reason, "FlannelIsUp");
		}
	}
	return 0;
}

static int parse_annotations(const cJSON *anns, const struct kube_annotation_keys *keys,
			     struct kube_node *n, struct errmsg *err)
{
	const cJSON *item;

	cJSON_ArrayForEach (item, anns) {
		const char *s;

		for (unsigned i = 0; i < _KUBE_ANN_MAX; i++) {
			if (!item->string || !streq(item->string, keys->key[i]))
				continue;
			if (json_as_str(item, &s) < 0)
				return errmsg_set(err,
						  "metadata.annotations[%s]: expected a string",
						  keys->key[i]),
				       -EINVAL;
			if (strlen(s) > KUBE_ANNOTATION_VALUE_MAX)
				return errmsg_set(err,
						  "metadata.annotations[%s]: too long (%zu bytes)",
						  keys->key[i], strlen(s)),
				       -EMSGSIZE;
			free(n->ann[i]);
			n->ann[i] = strdup(s);
			if (!n->ann[i])
				return -ENOMEM;
		}
	}
	return 0;
}

static int parse_body(const cJSON *obj, const cJSON *meta, const struct kube_annotation_keys *keys,
		      struct kube_node *n, struct errmsg *err)
{
	const cJSON *sub;
	int r;

	r = json_get_object(meta, "annotations", &sub);
	if (r == -EINVAL)
		return errmsg_set(err, "metadata.annotations: expected an object"), -EINVAL;
	if (r >= 0) {
		r = parse_annotations(sub, keys, n, err);
		if (r < 0)
			return r;
	}

	r = json_get_object(obj, "spec", &sub);
	if (r == -EINVAL)
		r = (errmsg_set(err, "spec: expected an object"), -EINVAL);
	else if (r >= 0)
		r = parse_spec(sub, n, err);
	if (r < 0 && r != -ENOENT)
		return r;
	r = json_get_object(obj, "status", &sub);
	if (r == -EINVAL)
		r = (errmsg_set(err, "status: expected an object"), -EINVAL);
	else if (r >= 0)
		r = parse_status(sub, n, err);
	if (r < 0 && r != -ENOENT)
		return r;

	return 0;
}

static int node_fill(const cJSON *obj, const struct kube_object_meta *meta,
		     const struct kube_annotation_keys *keys, struct kube_node *ret,
		     struct errmsg *err)
{
	struct kube_node n = {};
	int r;

	if (strlen(meta->name) >= sizeof(n.name))
		return errmsg_set(err, "metadata.name: too long"), -EINVAL;
	strcpy(n.name, meta->name);
	snprintf(n.resource_version, sizeof(n.resource_version), "%s", meta->resource_version);
	r = parse_body(obj, json_item(obj, "metadata"), keys, &n, err);
	if (r < 0) {
		kube_node_done(&n);
		return r;
	}
	kube_node_done(ret);
	*ret = n;
	return 0;
}

int kube_node_from_cjson(const cJSON *obj, const struct kube_annotation_keys *keys,
			 struct kube_node *ret, struct errmsg *err)
{
	struct kube_object_meta meta;
	char key[KUBE_KEY_MAX];
	int r;

	r = kube_object_meta_get(obj, false, &meta, key, err);
	if (r < 0)
		return r;
	r = node_fill(obj, &meta, keys, ret, err);
	if (r < 0 && err) {
		/* Name the node: the caller logs one line per skipped node. */
		struct errmsg e = *err;
		errmsg_set(err, "node \"%s\": %s", meta.name, e.text);
	}
	return r;
}

static int node_kind_parse(const cJSON *obj, const struct kube_object_meta *meta,
			   void *kind_userdata, void **ret, struct errmsg *err)
{
	_cleanup_free_ struct kube_node *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	r = node_fill(obj, meta, kind_userdata, n, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

static void node_kind_free(void *obj)
{
	kube_node_done(obj);
	free(obj);
}

const struct kube_kind kube_node_kind = {
	.name = "nodes",
	.path = "/api/v1/nodes",
	.namespaced = false,
	.parse = node_kind_parse,
	.free = node_kind_free,
};

int kube_node_parse(const char *data, size_t len, const struct kube_annotation_keys *keys,
		    struct kube_node *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int r;

	r = json_parse(data, len, KUBE_OBJECT_MAX_SIZE, KUBE_OBJECT_MAX_DEPTH, &root);
	if (r < 0)
		return errmsg_set(err, "node: %s",
				  r == -EMSGSIZE ? "object too large"
				  : r == -ELOOP	 ? "nested too deeply"
						 : "invalid JSON"),
		       r;
	return kube_node_from_cjson(root, keys, ret, err);
}

int kube_node_subnets(const struct kube_node *n, const struct kube_lease_params *p,
		      struct lease *ret, struct errmsg *err)
{
	struct lease l = {};
	char nb[IP_NET_STRLEN], cb[IP_NET_STRLEN];
	const struct ip_net *v4 = NULL, *v6 = NULL;

	if (n->pod_cidr_error[0])
		return errmsg_set(err, "%s", n->pod_cidr_error), -EINVAL;
	if (n->n_pod_cidrs == 0)
		return errmsg_set(err, "node \"%s\" pod cidr not assigned", n->name), -ENODATA;
	if (n->n_pod_cidrs > 2)
		return errmsg_set(err,
				  "node \"%s\" pod cidrs should be IPv4/IPv6 only or dualstack",
				  n->name),
		       -EINVAL;
	for (unsigned i = 0; i < n->n_pod_cidrs; i++) {
		const struct ip_net **slot = n->pod_cidrs[i].addr.family == AF_INET ? &v4 : &v6;
		if (*slot)
			return errmsg_set(
				       err,
				       "node \"%s\" pod cidrs should be IPv4/IPv6 only or dualstack",
				       n->name),
			       -EINVAL;
		*slot = &n->pod_cidrs[i];
	}
	if (p->enable_ipv4) {
		if (!v4)
			return errmsg_set(err, "missing IPv4 address on n.Spec.PodCIDRs"), -EINVAL;
		if (p->has_network && !ip_net_contains_net(&p->network, v4))
			return errmsg_set(
				       err,
				       "subnet \"%s\" specified in the flannel net config doesn't contain \"%s\" PodCIDR of the \"%s\" node",
				       ip_net_fmt(&p->network, nb), ip_net_fmt(v4, cb), n->name),
			       -EINVAL;
		l.has_subnet = true;
		l.subnet = *v4;
	}
	if (p->enable_ipv6) {
		if (!v6)
			return errmsg_set(err, "missing IPv6 address on n.Spec.PodCIDRs"), -EINVAL;
		if (p->has_ipv6_network && !ip_net_contains_net(&p->ipv6_network, v6))
			return errmsg_set(
				       err,
				       "subnet \"%s\" specified in the flannel net config doesn't contain \"%s\" IPv6 PodCIDR of the \"%s\" node",
				       ip_net_fmt(&p->ipv6_network, nb), ip_net_fmt(v6, cb),
				       n->name),
			       -EINVAL;
		l.has_subnet6 = true;
		l.subnet6 = *v6;
	}
	l.name = n->name;
	*ret = l;
	return 0;
}

static int backend_data(const struct kube_node *n, enum kube_ann a, const char *key,
			struct lease_attrs *attrs, struct errmsg *err)
{
	struct lease_backend_data d;
	struct errmsg e = {};
	const char *v = n->ann[a];
	int r;

	if (!v)
		return errmsg_set(err, "annotation %s: missing", key), -EINVAL;
	r = lease_backend_data_parse(v, strlen(v), &d, &e);
	if (r < 0)
		return errmsg_set(err, "annotation %s: %s", key, e.text), -EINVAL;
	lease_attrs_set_data(attrs, a == KUBE_ANN_BACKEND_V6_DATA, &d);
	return 0;
}

/* extension: backend-data kept as published (borrowed from the node), a JSON string or null. */
static int ext_data(const struct kube_node *n, const char *key, struct lease_attrs *attrs,
		    struct errmsg *err)
{
	const char *v = n->ann[KUBE_ANN_BACKEND_DATA];
	struct errmsg e = {};

	if (!v)
		return errmsg_set(err, "annotation %s: missing", key), -EINVAL;
	if (lease_ext_data_check(v, strlen(v), &e) < 0)
		return errmsg_set(err, "annotation %s: %s", key, e.text), -EINVAL;
	attrs->ext_data = v;
	return 0;
}

static int public_ip(const struct kube_node *n, enum kube_ann a, const char *key, int family,
		     struct ip_addr *ret, struct errmsg *err)
{
	const char *v = n->ann[a];

	if (!v || !v[0])
		return errmsg_set(err, "annotation %s: missing", key), -EINVAL;
	if (ip_addr_parse_family(family, v, ret) < 0)
		return errmsg_set(err, "annotation %s: invalid IP address format \"%.64s\"", key,
				  v),
		       -EINVAL;
	return 0;
}

int kube_node_to_lease(const struct kube_node *n, const struct kube_lease_params *p,
		       struct lease *ret, struct errmsg *err)
{
	struct lease l;
	int r;

	if (!n->ann[KUBE_ANN_SUBNET_MANAGER] || !streq(n->ann[KUBE_ANN_SUBNET_MANAGER], "true"))
		return -ENOENT;

	r = kube_node_subnets(n, p, &l, err);
	if (r < 0)
		return r;

	if (n->ann[KUBE_ANN_BACKEND_TYPE]) {
		if (strlen(n->ann[KUBE_ANN_BACKEND_TYPE]) >= sizeof(l.attrs.backend_type))
			return errmsg_set(err, "annotation %s: too long",
					  p->keys->key[KUBE_ANN_BACKEND_TYPE]),
			       -EINVAL;
		strcpy(l.attrs.backend_type, n->ann[KUBE_ANN_BACKEND_TYPE]);
	}
	if (l.has_subnet) {
		r = public_ip(n, KUBE_ANN_PUBLIC_IP, p->keys->key[KUBE_ANN_PUBLIC_IP], AF_INET,
			      &l.public_ip, err);
		if (r < 0)
			return r;
		if (streq(l.attrs.backend_type, "extension"))
			r = ext_data(n, p->keys->key[KUBE_ANN_BACKEND_DATA], &l.attrs, err);
		else
			r = backend_data(n, KUBE_ANN_BACKEND_DATA,
					 p->keys->key[KUBE_ANN_BACKEND_DATA], &l.attrs, err);
		if (r < 0)
			return r;
	}
	if (l.has_subnet6) {
		r = public_ip(n, KUBE_ANN_PUBLIC_IPV6, p->keys->key[KUBE_ANN_PUBLIC_IPV6], AF_INET6,
			      &l.public_ip6, err);
		if (r < 0)
			return r;
		/* extension publishes its data in backend-data only (upstream: null here). */
		if (!streq(l.attrs.backend_type, "extension"))
			r = backend_data(n, KUBE_ANN_BACKEND_V6_DATA,
					 p->keys->key[KUBE_ANN_BACKEND_V6_DATA], &l.attrs, err);
		if (r < 0)
			return r;
	}
	*ret = l;
	return 0;
}

int kube_pod_node_name(const char *data, size_t len, char *ret, size_t size, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *spec;
	const char *s;
	int r;

	r = json_parse(data, len, KUBE_OBJECT_MAX_SIZE, KUBE_OBJECT_MAX_DEPTH, &root);
	if (r < 0)
		return errmsg_set(err, "pod: invalid JSON"), r;
	if (json_get_object(root, "spec", &spec) < 0 || json_get_str(spec, "nodeName", &s) < 0 ||
	    !s[0])
		return errmsg_set(err, "spec.nodeName: missing"), -ENOENT;
	if (strlen(s) >= size)
		return errmsg_set(err, "spec.nodeName: too long"), -EINVAL;
	strcpy(ret, s);
	return 0;
}
