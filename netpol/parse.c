/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers of Pod, Namespace and NetworkPolicy objects. See parse.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "netpol/parse.h"

/* Field paths are short; a path cut at the buffer's end still names the place. */
static _printf_(3, 4) void field_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

#define NP_NAME_MAX	 253
#define NP_LABEL_STR_MAX 1024
#define NP_MAX_ITEMS	 4096 /* rules, peers, ports, except entries, containers, ports */
#define NP_PORT_NAME_MAX 15
#define NP_FIELD_LEN	 256

static int get_name(const cJSON *meta, const char *key, char out[static 254], bool required,
		    struct errmsg *err)
{
	const cJSON *item = json_item(meta, key);
	const char *s;

	if (!item && !required) {
		out[0] = '\0';
		return 0;
	}
	if (json_as_str(item, &s) < 0 || !s[0] || strlen(s) > NP_NAME_MAX || strchr(s, '/')) {
		errmsg_set(err, "metadata.%s: missing or invalid", key);
		return -EINVAL;
	}
	strcpy(out, s);
	return 0;
}

int np_object_key(const cJSON *obj, char ns[static 254], char name[static 254], struct errmsg *err)
{
	const cJSON *meta = json_item(obj, "metadata");

	if (!cJSON_IsObject(meta)) {
		errmsg_set(err, "metadata: missing");
		return -EINVAL;
	}
	int r = get_name(meta, "namespace", ns, false, err);
	if (r < 0)
		return r;
	return get_name(meta, "name", name, true, err);
}

static int parse_labels(struct np_model *m, const cJSON *meta, const struct np_labels **ret,
			struct errmsg *err)
{
	const cJSON *labels = json_item(meta, "labels"), *item;
	_cleanup_free_ const char **kv = NULL;
	size_t n = 0;
	int r;

	if (!labels || cJSON_IsNull(labels))
		return np_labels_intern(m, NULL, 0, ret);
	if (!cJSON_IsObject(labels)) {
		errmsg_set(err, "metadata.labels: must be an object, not %s",
			   json_type_name(labels));
		return -EINVAL;
	}
	size_t cap = (size_t)cJSON_GetArraySize(labels);
	if (cap > NP_MAX_ITEMS) {
		errmsg_set(err, "metadata.labels: more than %d labels", NP_MAX_ITEMS);
		return -EINVAL;
	}
	kv = calloc(2 * cap + 1, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	cJSON_ArrayForEach (item, labels) {
		const char *v;

		if (!item->string || strlen(item->string) > NP_LABEL_STR_MAX ||
		    json_as_str(item, &v) < 0 || strlen(v) > NP_LABEL_STR_MAX) {
			errmsg_set(err,
				   "metadata.labels.%.64s: must be a string of at most %d bytes",
				   item->string ? item->string : "", NP_LABEL_STR_MAX);
			return -EINVAL;
		}
		kv[2 * n] = item->string;
		kv[2 * n + 1] = v;
		n++;
	}
	r = np_labels_intern(m, kv, n, ret);
	if (r == -EINVAL)
		errmsg_set(err, "metadata.labels: duplicate key");
	return r;
}

static int parse_proto(const cJSON *item, const char *field, uint8_t *ret, struct errmsg *err)
{
	const char *s;

	if (!item || cJSON_IsNull(item)) {
		*ret = NP_PROTO_TCP;
		return 0;
	}
	if (json_as_str(item, &s) < 0) {
		errmsg_set(err, "%s: must be a string, not %s", field, json_type_name(item));
		return -EINVAL;
	}
	if (strcmp(s, "TCP") == 0)
		*ret = NP_PROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*ret = NP_PROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*ret = NP_PROTO_SCTP;
	else {
		errmsg_set(
			err,
			"%s: Unsupported value: \"%.32s\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
			field, s);
		return -EINVAL;
	}
	return 0;
}

/* An IANA_SVC_NAME as the API server validates it: 1-15 of [a-z0-9-], a letter, no "--". */
static bool port_name_valid(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;

	if (len == 0 || len > NP_PORT_NAME_MAX || s[0] == '-' || s[len - 1] == '-' ||
	    strstr(s, "--"))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

static int parse_container_ports(struct np_model *m, const cJSON *spec, const struct np_ports **ret,
				 struct errmsg *err)
{
	const cJSON *containers = json_item(spec, "containers"), *c;
	_cleanup_free_ struct np_named_port *p = NULL;
	size_t n = 0, cap = 0, ci = 0;
	int r = 0;

	if (containers && !cJSON_IsNull(containers) && !cJSON_IsArray(containers)) {
		errmsg_set(err, "spec.containers: must be an array");
		return -EINVAL;
	}
	cJSON_ArrayForEach (c, containers) {
		const cJSON *ports = json_item(c, "ports"), *port;
		size_t pi = 0;

		if (ports && !cJSON_IsNull(ports) && !cJSON_IsArray(ports)) {
			errmsg_set(err, "spec.containers[%zu].ports: must be an array", ci);
			r = -EINVAL;
			goto fail;
		}
		cJSON_ArrayForEach (port, ports) {
			char f[NP_FIELD_LEN];
			const char *name;
			uint32_t num;
			uint8_t proto;

			field_fmt(f, sizeof(f), "spec.containers[%zu].ports[%zu]", ci, pi++);
			if (json_get_str(port, "name", &name) < 0)
				continue; /* unnamed: never referenced by a policy */
			if (!port_name_valid(name)) {
				errmsg_set(err, "%s.name: invalid port name \"%.32s\"", f, name);
				r = -EINVAL;
				goto fail;
			}
			if (json_get_u32(port, "containerPort", &num) < 0 || num < 1 ||
			    num > 65535) {
				errmsg_set(err, "%s.containerPort: must be between 1 and 65535", f);
				r = -EINVAL;
				goto fail;
			}
			char pf[NP_FIELD_LEN + 16];
			field_fmt(pf, sizeof(pf), "%s.protocol", f);
			r = parse_proto(json_item(port, "protocol"), pf, &proto, err);
			if (r < 0)
				goto fail;
			if (n >= NP_MAX_ITEMS) {
				errmsg_set(err, "spec.containers: more than %d named ports",
					   NP_MAX_ITEMS);
				r = -EINVAL;
				goto fail;
			}
			if (n == cap) {
				cap = cap ? 2 * cap : 4;
				struct np_named_port *np = realloc(p, cap * sizeof(*p));
				if (!np) {
					r = -ENOMEM;
					goto fail;
				}
				p = np;
			}
			p[n].name = np_intern(m, name, strlen(name));
			if (!p[n].name) {
				r = -ENOMEM;
				goto fail;
			}
			p[n].port = (uint16_t)num;
			p[n].proto = proto;
			n++;
		}
		ci++;
	}
	return np_ports_intern(m, p, n, ret);
fail:
	for (size_t i = 0; i < n; i++)
		np_unintern(m, p[i].name);
	return r;
}

static int parse_pod_ips(const cJSON *status, struct np_pod_in *in, struct errmsg *err)
{
	const cJSON *ips = json_item(status, "podIPs"), *e;
	const char *s;
	size_t i = 0;

	if (ips && !cJSON_IsNull(ips)) {
		if (!cJSON_IsArray(ips)) {
			errmsg_set(err, "status.podIPs: must be an array");
			return -EINVAL;
		}
		cJSON_ArrayForEach (e, ips) {
			struct ip_addr a;

			if (json_get_str(e, "ip", &s) < 0 || ip_addr_parse(s, &a) < 0) {
				errmsg_set(err, "status.podIPs[%zu].ip: not an IP address", i);
				return -EINVAL;
			}
			if (a.family == AF_INET && !(in->flags & NP_POD_HAS_IP4)) {
				in->ip4 = a.in;
				in->flags |= NP_POD_HAS_IP4;
			} else if (a.family == AF_INET6 && !(in->flags & NP_POD_HAS_IP6)) {
				in->ip6 = a.in6;
				in->flags |= NP_POD_HAS_IP6;
			}
			i++;
		}
	}
	if (i == 0 && json_get_str(status, "podIP", &s) == 0 && s[0]) {
		struct ip_addr a;

		if (ip_addr_parse(s, &a) < 0) {
			errmsg_set(err, "status.podIP: not an IP address");
			return -EINVAL;
		}
		if (a.family == AF_INET) {
			in->ip4 = a.in;
			in->flags |= NP_POD_HAS_IP4;
		} else {
			in->ip6 = a.in6;
			in->flags |= NP_POD_HAS_IP6;
		}
	}
	return 0;
}

int np_pod_parse(struct np_model *m, const cJSON *obj, struct np_pod_in *ret, struct errmsg *err)
{
	struct np_pod_in in = {};
	const cJSON *meta = json_item(obj, "metadata"), *spec = json_item(obj, "spec");
	const cJSON *status = json_item(obj, "status");
	const char *s;
	bool b;
	int r;

	r = np_object_key(obj, in.ns, in.name, err);
	if (r < 0)
		return r;
	if (!in.ns[0]) {
		errmsg_set(err, "metadata.namespace: missing or invalid");
		return -EINVAL;
	}
	if (spec && !cJSON_IsObject(spec)) {
		errmsg_set(err, "spec: must be an object");
		return -EINVAL;
	}
	if (json_get_bool(spec, "hostNetwork", &b) == 0 && b)
		in.flags |= NP_POD_HOST_NETWORK;
	if (json_get_str(status, "phase", &s) == 0 &&
	    (strcmp(s, "Succeeded") == 0 || strcmp(s, "Failed") == 0))
		in.flags |= NP_POD_FINISHED;
	r = parse_pod_ips(status, &in, err);
	if (r < 0)
		return r;
	r = parse_labels(m, meta, &in.labels, err);
	if (r < 0)
		return r;
	r = parse_container_ports(m, spec, &in.ports, err);
	if (r < 0)
		goto fail;
	if (json_get_str(spec, "nodeName", &s) == 0 && s[0]) {
		if (strlen(s) > NP_NAME_MAX) {
			errmsg_set(err, "spec.nodeName: too long");
			r = -EINVAL;
			goto fail;
		}
		in.node = np_intern(m, s, strlen(s));
		if (!in.node) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = in;
	return 0;
fail:
	np_pod_in_done(m, &in);
	return r;
}

int np_ns_parse(struct np_model *m, const cJSON *obj, char name[static 254],
		const struct np_labels **labels, struct errmsg *err)
{
	char ns[254];
	int r = np_object_key(obj, ns, name, err);

	if (r < 0)
		return r;
	return parse_labels(m, json_item(obj, "metadata"), labels, err);
}

/* ---- NetworkPolicy ---- */

static int array_of(const cJSON *item, const char *field, const cJSON **ret, size_t *n,
		    struct errmsg *err)
{
	*ret = NULL;
	*n = 0;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsArray(item)) {
		errmsg_set(err, "%s: must be an array, not %s", field, json_type_name(item));
		return -EINVAL;
	}
	*n = (size_t)cJSON_GetArraySize(item);
	if (*n > NP_MAX_ITEMS) {
		errmsg_set(err, "%s: more than %d items", field, NP_MAX_ITEMS);
		return -EINVAL;
	}
	*ret = item;
	return 0;
}

static int parse_port(const cJSON *obj, const char *f, struct np_port *p, struct errmsg *err)
{
	const cJSON *port = json_item(obj, "port"), *end = json_item(obj, "endPort");
	char pf[NP_FIELD_LEN + 16];
	int r;

	if (!cJSON_IsObject(obj)) {
		errmsg_set(err, "%s: must be an object, not %s", f, json_type_name(obj));
		return -EINVAL;
	}
	field_fmt(pf, sizeof(pf), "%s.protocol", f);
	r = parse_proto(json_item(obj, "protocol"), pf, &p->proto, err);
	if (r < 0)
		return r;
	if (port && !cJSON_IsNull(port)) {
		uint32_t v;

		p->has_port = true;
		if (cJSON_IsString(port)) {
			if (!port_name_valid(port->valuestring)) {
				errmsg_set(err,
					   "%s.port: Invalid value: \"%.32s\": not a port name", f,
					   port->valuestring);
				return -EINVAL;
			}
			p->name = strdup(port->valuestring);
			if (!p->name)
				return -ENOMEM;
		} else if (json_as_u32(port, &v) < 0 || v < 1 || v > 65535) {
			errmsg_set(err, "%s.port: must be between 1 and 65535, inclusive", f);
			return -EINVAL;
		} else
			p->port = p->end_port = (uint16_t)v;
	}
	if (end && !cJSON_IsNull(end)) {
		uint32_t v;

		if (!p->has_port) {
			errmsg_set(err,
				   "%s.endPort: may not be specified when `port` is not specified",
				   f);
			return -EINVAL;
		}
		if (p->name) {
			errmsg_set(err,
				   "%s.endPort: may not be specified when `port` is non-numeric",
				   f);
			return -EINVAL;
		}
		if (json_as_u32(end, &v) < 0 || v > 65535) {
			errmsg_set(err, "%s.endPort: must be between 1 and 65535, inclusive", f);
			return -EINVAL;
		}
		if (v < p->port) {
			errmsg_set(err, "%s.endPort: must be greater than or equal to `port`", f);
			return -EINVAL;
		}
		p->end_port = (uint16_t)v;
	}
	return 0;
}

static int parse_ipblock(const cJSON *obj, const char *f, struct np_peer *p, struct errmsg *err)
{
	const cJSON *except, *e;
	const char *s;
	char ef[NP_FIELD_LEN + 16];
	size_t n, i = 0;
	int r;

	if (!cJSON_IsObject(obj)) {
		errmsg_set(err, "%s: must be an object, not %s", f, json_type_name(obj));
		return -EINVAL;
	}
	if (json_get_str(obj, "cidr", &s) < 0 || ip_net_parse(s, &p->cidr) < 0) {
		errmsg_set(err, "%s.cidr: not a valid CIDR", f);
		return -EINVAL;
	}
	ip_net_mask(&p->cidr);
	field_fmt(ef, sizeof(ef), "%s.except", f);
	r = array_of(json_item(obj, "except"), ef, &except, &n, err);
	if (r < 0)
		return r;
	if (n) {
		p->except = calloc(n, sizeof(*p->except));
		if (!p->except)
			return -ENOMEM;
	}
	cJSON_ArrayForEach (e, except) {
		struct ip_net x;

		if (json_as_str(e, &s) < 0 || ip_net_parse(s, &x) < 0) {
			errmsg_set(err, "%s.except[%zu]: not a valid CIDR", f, i);
			return -EINVAL;
		}
		ip_net_mask(&x);
		if (!ip_net_contains_net(&p->cidr, &x) || x.prefixlen <= p->cidr.prefixlen) {
			errmsg_set(err, "%s.except[%zu]: must be a strict subset of `cidr`", f, i);
			return -EINVAL;
		}
		p->except[p->n_except++] = x;
		i++;
	}
	return 0;
}

static int parse_peer(const cJSON *obj, const char *f, struct np_peer *p, struct errmsg *err)
{
	const cJSON *pod = json_item(obj, "podSelector"), *ns = json_item(obj, "namespaceSelector");
	const cJSON *ipb = json_item(obj, "ipBlock");
	char sf[NP_FIELD_LEN + 32];
	int r;

	if (!cJSON_IsObject(obj)) {
		errmsg_set(err, "%s: must be an object, not %s", f, json_type_name(obj));
		return -EINVAL;
	}
	if (cJSON_IsNull(pod))
		pod = NULL;
	if (cJSON_IsNull(ns))
		ns = NULL;
	if (cJSON_IsNull(ipb))
		ipb = NULL;
	if (ipb && (pod || ns)) {
		errmsg_set(err, "%s: Forbidden: may not specify both ipBlock and another peer", f);
		return -EINVAL;
	}
	if (!ipb && !pod && !ns) {
		errmsg_set(err, "%s: must specify a peer", f);
		return -EINVAL;
	}
	if (ipb) {
		p->kind = NP_PEER_IPBLOCK;
		field_fmt(sf, sizeof(sf), "%s.ipBlock", f);
		return parse_ipblock(ipb, sf, p, err);
	}
	p->kind = NP_PEER_PODS;
	if (pod) {
		field_fmt(sf, sizeof(sf), "%s.podSelector", f);
		r = np_selector_parse(pod, sf, &p->pod_sel, err);
		if (r < 0)
			return r;
		p->has_pod_sel = true;
	}
	if (ns) {
		field_fmt(sf, sizeof(sf), "%s.namespaceSelector", f);
		r = np_selector_parse(ns, sf, &p->ns_sel, err);
		if (r < 0)
			return r;
		p->has_ns_sel = true;
	}
	return 0;
}

static int parse_rule(const cJSON *obj, const char *f, enum np_dir dir, struct np_rule *rule,
		      struct errmsg *err)
{
	const char *peers_key = dir == NP_INGRESS ? "from" : "to";
	const cJSON *peers, *ports, *e;
	char af[NP_FIELD_LEN], ef[NP_FIELD_LEN + 32];
	size_t n, i;
	int r;

	if (!cJSON_IsObject(obj)) {
		errmsg_set(err, "%s: must be an object, not %s", f, json_type_name(obj));
		return -EINVAL;
	}
	field_fmt(af, sizeof(af), "%s.ports", f);
	r = array_of(json_item(obj, "ports"), af, &ports, &n, err);
	if (r < 0)
		return r;
	if (n) {
		rule->ports = calloc(n, sizeof(*rule->ports));
		if (!rule->ports)
			return -ENOMEM;
	}
	i = 0;
	cJSON_ArrayForEach (e, ports) {
		field_fmt(ef, sizeof(ef), "%s[%zu]", af, i++);
		r = parse_port(e, ef, &rule->ports[rule->n_ports++], err);
		if (r < 0)
			return r;
	}
	field_fmt(af, sizeof(af), "%s.%s", f, peers_key);
	r = array_of(json_item(obj, peers_key), af, &peers, &n, err);
	if (r < 0)
		return r;
	if (n) {
		rule->peers = calloc(n, sizeof(*rule->peers));
		if (!rule->peers)
			return -ENOMEM;
	}
	i = 0;
	cJSON_ArrayForEach (e, peers) {
		field_fmt(ef, sizeof(ef), "%s[%zu]", af, i++);
		r = parse_peer(e, ef, &rule->peers[rule->n_peers++], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_policy_types(const cJSON *spec, struct np_policy *p, struct errmsg *err)
{
	const cJSON *types, *e;
	const char *s;
	size_t n, i = 0;
	int r;

	r = array_of(json_item(spec, "policyTypes"), "spec.policyTypes", &types, &n, err);
	if (r < 0)
		return r;
	if (n == 0) {
		/* Only when a client bypassed the server's defaulting: the server's rule. */
		p->types[NP_INGRESS] = true;
		p->types[NP_EGRESS] = cJSON_GetArraySize(json_item(spec, "egress")) > 0;
		return 0;
	}
	cJSON_ArrayForEach (e, types) {
		if (json_as_str(e, &s) == 0 && strcmp(s, "Ingress") == 0)
			p->types[NP_INGRESS] = true;
		else if (json_as_str(e, &s) == 0 && strcmp(s, "Egress") == 0)
			p->types[NP_EGRESS] = true;
		else {
			errmsg_set(
				err,
				"spec.policyTypes[%zu]: Unsupported value: supported values: \"Ingress\", \"Egress\"",
				i);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

static int parse_spec(const cJSON *spec, struct np_policy *p, struct errmsg *err)
{
	static const char *const keys[] = {"ingress", "egress"};
	const cJSON *rules, *e;
	char f[NP_FIELD_LEN];
	size_t n, i;
	int r;

	for (int d = 0; d < _NP_DIR_MAX; d++) {
		r = array_of(json_item(spec, keys[d]),
			     d == NP_INGRESS ? "spec.ingress" : "spec.egress", &rules, &n, err);
		if (r < 0)
			return r;
		if (n) {
			p->rules[d] = calloc(n, sizeof(*p->rules[d]));
			if (!p->rules[d])
				return -ENOMEM;
		}
		i = 0;
		cJSON_ArrayForEach (e, rules) {
			field_fmt(f, sizeof(f), "spec.%s[%zu]", keys[d], i++);
			r = parse_rule(e, f, (enum np_dir)d, &p->rules[d][p->n_rules[d]++], err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int np_policy_parse(const cJSON *obj, char ns[static 254], struct np_policy **ret,
		    struct errmsg *err)
{
	_cleanup_(np_policy_freep) struct np_policy *p = calloc(1, sizeof(*p));
	struct errmsg perr = {};
	char name[254];
	const cJSON *spec;
	int r;

	if (!p)
		return -ENOMEM;
	r = np_object_key(obj, ns, name, err);
	if (r < 0)
		return r;
	if (!ns[0]) {
		errmsg_set(err, "metadata.namespace: missing or invalid");
		return -EINVAL;
	}
	p->name = strdup(name);
	if (!p->name)
		return -ENOMEM;

	spec = json_item(obj, "spec");
	if (!cJSON_IsObject(spec)) {
		errmsg_set(&perr, "spec: must be an object, not %s", json_type_name(spec));
		r = -EINVAL;
	} else {
		/* A bad selector leaves pod_sel empty: every pod of the namespace. */
		r = np_selector_parse(json_item(spec, "podSelector"), "spec.podSelector",
				      &p->pod_sel, &perr);
		struct errmsg terr = {};
		int t = parse_policy_types(spec, p, &terr);
		if (t < 0) {
			p->types[NP_INGRESS] = p->types[NP_EGRESS] = true;
			if (r >= 0)
				perr = terr;
			r = t;
		}
		if (r >= 0)
			r = parse_spec(spec, p, &perr);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* Fail closed: isolate what it selects, allow nothing. */
		if (!p->types[NP_INGRESS] && !p->types[NP_EGRESS])
			p->types[NP_INGRESS] = p->types[NP_EGRESS] = true;
		np_policy_drop_rules(p);
		p->error = strdup(perr.text[0] ? perr.text : "invalid");
		if (!p->error)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(p);
	return 0;
}
