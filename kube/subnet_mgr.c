/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kube subnet manager glues the Node reflector (kube/reflector.h) to leases:
 * every node event is either the own node (kept whole, as a struct
 * kube_node), a peer (turned into a lease and upserted into the lease_set),
 * or a node that is not flannel's (removed from the set if it was there).
 * Nothing else of the nodes is kept.
 *
 * The own Node is also fetched alone (GET) when the manager starts, so that
 * the lease, subnet.env and the annotations do not wait for the list of
 * every node; peers are upserted as the list streams in.
 *
 * Publishing is a reconcile: the desired annotations are remembered, and
 * whenever the own node is (re)seen without them a PATCH is sent - at most
 * one in flight; the PATCH response itself updates the own node.
 */
#include <string.h>

#include "kube/patch.h"
#include "kube/subnet_mgr.h"
#include "lib/core/backoff.h"
#include "lib/core/buf.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"

#define PATCH_ATTEMPTS	    10
#define POD_RETRY_BASE_USEC (USEC_PER_SEC)
#define POD_RETRY_MAX_USEC  (30 * USEC_PER_SEC)

struct kube_mgr {
	struct loop *loop;
	struct kube_mgr_callbacks cb;
	void *userdata;
	struct kube_annotation_keys keys;
	struct kube_lease_params lease;
	bool set_condition;
	struct kube_reflector_options watch_opts;

	struct kube_http *http;
	struct kube_reflector *watch;
	struct lease_set *peers;
	uint64_t notified_generation;

	char *node_name;
	char *pod_name, *pod_namespace;
	struct kube_request *pod_req;
	struct kube_request *own_req; /* GET of the own Node, ahead of the list */
	struct loop_source *pod_timer;
	struct backoff pod_backoff;

	bool has_own, own_changed;
	struct kube_node own;
	char own_status[sizeof(struct errmsg)]; /* last logged problem with the own lease */

	bool has_desired, patch_pending;
	/* what the backend asked for; the desired annotations are derived from
	 * it and the own node each time (public-ip-overwrite may change) */
	struct lease_attrs pub_attrs;
	char *pub_ext_data; /* pub_attrs.ext_data, owned */
	struct ip_addr pub_ip, pub_ip6;
	struct kube_request *patch_req;

	uint64_t patches, patch_failures, skipped_nodes;
	/* Flannel nodes whose lease cannot be built, sorted by name: logged once
	 * per distinct error, listed in the status until fixed or deleted. */
	struct kube_invalid_node *invalid;
	size_t n_invalid, cap_invalid;
};

static void maybe_publish(struct kube_mgr *m);

static bool rv_older(const char *a, const char *b)
{
	char *ea, *eb;
	unsigned long long x, y;

	if (!a[0] || !b[0])
		return false;
	x = strtoull(a, &ea, 10);
	y = strtoull(b, &eb, 10);
	return !*ea && !*eb && x < y;
}

static void check_own_lease(struct kube_mgr *m)
{
	struct errmsg err = {};
	struct lease l;
	int r;

	r = kube_node_subnets(&m->own, &m->lease, &l, &err);
	if (r >= 0) {
		if (m->own_status[0])
			log_info("Node \"%s\" has a usable podCIDR now", m->own.name);
		m->own_status[0] = '\0';
		return;
	}
	if (strcmp(m->own_status, err.text) == 0)
		return; /* logged once per distinct problem */
	snprintf(m->own_status, sizeof(m->own_status), "%s", err.text);
	if (r == -ENODATA)
		log_info("%s, waiting for it (flannel is not ready until it is)", err.text);
	else
		log_error("Own node: %s; flannel is not ready", err.text);
}

static void set_own(struct kube_mgr *m, struct kube_node *node)
{
	if (m->has_own && rv_older(node->resource_version, m->own.resource_version))
		return; /* an event older than the PATCH response we already have */
	kube_node_move(&m->own, node);
	m->has_own = true;
	m->own_changed = true;
	check_own_lease(m);
	/* a peer entry for ourselves can only come from a stale state */
	lease_set_remove(m->peers, m->own.name);
	maybe_publish(m);
}

/* Index of name in m->invalid, or -(insertion point) - 1. */
static ssize_t invalid_find(const struct kube_mgr *m, const char *name)
{
	size_t lo = 0, hi = m->n_invalid;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, m->invalid[mid].name);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ssize_t)lo - 1;
}

/* Record node name's error; logs it unless it is the one already recorded. */
static void invalid_set(struct kube_mgr *m, const char *name, const char *error)
{
	ssize_t i = invalid_find(m, name);
	char *e;

	if (i >= 0 && strcmp(m->invalid[i].error, error) == 0)
		return;
	log_warn("Error turning node \"%s\" to lease: %s, skipping it%s", name, error,
		 lease_set_find(m->peers, name) ? "; its previous lease is kept" : "");
	e = strdup(error);
	if (!e)
		return;
	if (i >= 0) {
		free(m->invalid[i].error);
		m->invalid[i].error = e;
		return;
	}
	if (m->n_invalid == m->cap_invalid) {
		size_t cap = m->cap_invalid ? 2 * m->cap_invalid : 8;
		struct kube_invalid_node *a = reallocarray(m->invalid, cap, sizeof(*a));
		if (!a) {
			free(e);
			return;
		}
		m->invalid = a;
		m->cap_invalid = cap;
	}
	i = -i - 1;
	memmove(&m->invalid[i + 1], &m->invalid[i],
		(m->n_invalid - (size_t)i) * sizeof(*m->invalid));
	m->invalid[i] = (struct kube_invalid_node){.name = strdup(name), .error = e};
	if (!m->invalid[i].name) {
		free(e);
		memmove(&m->invalid[i], &m->invalid[i + 1],
			(m->n_invalid - (size_t)i) * sizeof(*m->invalid));
		return;
	}
	m->n_invalid++;
}

/* Node name is valid again, or gone. */
static void invalid_clear(struct kube_mgr *m, const char *name, bool deleted)
{
	ssize_t i = invalid_find(m, name);

	if (i < 0)
		return;
	if (!deleted)
		log_info("Node \"%s\" has a valid lease again", name);
	free(m->invalid[i].name);
	free(m->invalid[i].error);
	m->n_invalid--;
	memmove(&m->invalid[i], &m->invalid[i + 1],
		(m->n_invalid - (size_t)i) * sizeof(*m->invalid));
}

static void node_freep(struct kube_node **n)
{
	if (*n)
		kube_node_kind.free(*n);
}

static void on_upsert(const char *key, void *obj, void *userdata)
{
	struct kube_mgr *m = userdata;
	_cleanup_(node_freep) struct kube_node *node = obj;
	struct errmsg err = {};
	struct lease l;
	int r;

	if (m->node_name && strcmp(node->name, m->node_name) == 0) {
		set_own(m, node);
		return;
	}
	r = kube_node_to_lease(node, &m->lease, &l, &err);
	if (r == -ENOENT) {
		invalid_clear(m, node->name, true);
		lease_set_remove(m->peers, node->name);
		return;
	}
	if (r < 0) {
		m->skipped_nodes++;
		invalid_set(m, node->name, err.text);
		return;
	}
	invalid_clear(m, node->name, false);
	r = lease_set_upsert(m->peers, &l);
	if (r < 0)
		log_error_errno(r, "Failed to record the lease of node \"%s\"", node->name);
}

static void on_remove(const char *name, void *userdata) /* node keys are names */
{
	struct kube_mgr *m = userdata;

	if (m->node_name && strcmp(name, m->node_name) == 0) {
		if (m->has_own) {
			log_warn("Own node \"%s\" was deleted", name);
			kube_node_done(&m->own);
			m->has_own = false;
			m->own_changed = true;
		}
		return;
	}
	invalid_clear(m, name, true);
	lease_set_remove(m->peers, name);
}

static void on_batch_end(void *userdata)
{
	struct kube_mgr *m = userdata;
	uint64_t gen = lease_set_generation(m->peers);

	if (m->own_changed) {
		m->own_changed = false;
		if (m->cb.own_node_changed)
			m->cb.own_node_changed(m, m->userdata);
	}
	if (gen != m->notified_generation) {
		m->notified_generation = gen;
		if (m->cb.peers_changed)
			m->cb.peers_changed(m, m->userdata);
	}
}

static void on_synced(void *userdata)
{
	struct kube_mgr *m = userdata;

	if (!m->has_own)
		log_warn("Node \"%s\" not found in the node list, waiting for it", m->node_name);
	log_info("Node cache synced: %zu peers", lease_set_size(m->peers));
	if (m->cb.synced)
		m->cb.synced(m, m->userdata);
}

static void patch_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_mgr *m = userdata;
	struct kube_node node = {};
	struct errmsg err = {};
	char msg[256];

	m->patch_req = NULL;
	if (r < 0) {
		m->patch_failures++;
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_error("Failed to patch node \"%s\": %s%s%s (HTTP %ld)", m->node_name,
			  strerror(-r), msg[0] ? ": " : "", msg, status);
		if (m->cb.published)
			m->cb.published(m, r, m->userdata);
		return;
	}
	m->patches++;
	m->patch_pending = false;
	log_info("Published flannel's annotations on node \"%s\"", m->node_name);
	/* The response is the updated node: take it, so we do not patch twice. */
	if (kube_node_parse(body, len, &m->keys, &node, &err) >= 0 &&
	    strcmp(node.name, m->node_name) == 0)
		set_own(m, &node);
	kube_node_done(&node);
	on_batch_end(m);
	if (m->cb.published)
		m->cb.published(m, 0, m->userdata);
}

static void maybe_publish(struct kube_mgr *m)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	_cleanup_free_ char *path = NULL;
	struct kube_desired d;
	int r;

	if (!m->has_desired || !m->has_own || m->patch_req)
		return;
	r = kube_desired_from_attrs(&m->pub_attrs, &m->pub_ip, &m->pub_ip6, &m->own, &d);
	if (r >= 0)
		r = kube_patch_body(&m->own, &m->keys, &d, m->set_condition, now_realtime_usec(),
				    &body);
	if (r < 0) {
		log_error_errno(r, "Failed to build the node patch");
		return;
	}
	if (r == 0) {
		if (m->patch_pending) {
			m->patch_pending = false;
			if (m->cb.published)
				m->cb.published(m, 0, m->userdata);
		}
		return;
	}
	if (asprintf(&path, "/api/v1/nodes/%s/status", m->node_name) < 0) {
		path = NULL;
		return;
	}
	log_v(1, "Patching node \"%s\": %s", m->node_name, body.data);
	struct kube_request_spec spec = {
		.verb = KUBE_VERB_PATCH,
		.method = "PATCH",
		.path = path,
		.content_type = "application/strategic-merge-patch+json",
		.body = body.data,
		.body_len = body.len,
		.max_attempts = PATCH_ATTEMPTS,
		.done = patch_done,
		.userdata = m,
	};
	r = kube_http_start(m->http, &spec, &m->patch_req);
	if (r < 0)
		log_error_errno(r, "Failed to start patching node \"%s\"", m->node_name);
}

int kube_mgr_publish(struct kube_mgr *m, const struct lease_attrs *attrs,
		     const struct ip_addr *public_ip, const struct ip_addr *public_ip6)
{
	struct kube_desired d;
	int r;

	r = kube_desired_from_attrs(attrs, public_ip, public_ip6, m->has_own ? &m->own : NULL, &d);
	if (r < 0)
		return log_error_errno(r, "Nothing to publish: no public IP with backend data");
	if (attrs->ext_data && (!m->pub_ext_data || strcmp(m->pub_ext_data, attrs->ext_data))) {
		char *c = strdup(attrs->ext_data);
		if (!c)
			return -ENOMEM;
		free(m->pub_ext_data);
		m->pub_ext_data = c;
	}
	m->pub_attrs = *attrs;
	m->pub_attrs.ext_data = attrs->ext_data ? m->pub_ext_data : NULL;
	m->pub_ip = public_ip ? *public_ip : (struct ip_addr){};
	m->pub_ip6 = public_ip6 ? *public_ip6 : (struct ip_addr){};
	m->has_desired = true;
	m->patch_pending = true;
	maybe_publish(m);
	return 0;
}

/*
 * The own Node, fetched on its own while the list of all of them streams
 * in: its podCIDR and annotations are all subnet.env and the annotations
 * need, so a new node can start pods long before a 5000-node list is in.
 * Failures are not fatal: the list brings the own node as well.
 */
static void own_get_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_mgr *m = userdata;
	struct kube_node node = {};
	struct errmsg err = {};

	m->own_req = NULL;
	if (r < 0) {
		log_v(1, "Getting node \"%s\" failed: %s (HTTP %ld), waiting for the node list",
		      m->node_name, strerror(-r), status);
		return;
	}
	r = kube_node_parse(body, len, &m->keys, &node, &err);
	if (r < 0 || strcmp(node.name, m->node_name) != 0) {
		log_warn("Getting node \"%s\": %s, waiting for the node list", m->node_name,
			 r < 0 ? err.text : "another node's object");
		kube_node_done(&node);
		return;
	}
	log_v(1, "Got node \"%s\" at resourceVersion %s ahead of the node list", m->node_name,
	      node.resource_version);
	set_own(m, &node);
	kube_node_done(&node);
	on_batch_end(m);
}

static int start_own_get(struct kube_mgr *m)
{
	_cleanup_free_ char *path = NULL;
	struct kube_request_spec spec = {
		.verb = KUBE_VERB_GET,
		.max_attempts = 1,
		.max_body = KUBE_OBJECT_MAX_SIZE,
		.done = own_get_done,
		.userdata = m,
	};

	/* node_name is a valid DNS name: nothing to escape */
	if (asprintf(&path, "/api/v1/nodes/%s", m->node_name) < 0)
		return -ENOMEM;
	spec.path = path;
	return kube_http_start(m->http, &spec, &m->own_req);
}

static int start_watch(struct kube_mgr *m)
{
	static const struct kube_reflector_ops ops = {
		.upsert = on_upsert,
		.remove = on_remove,
		.synced = on_synced,
		.batch_end = on_batch_end,
	};
	int r;

	log_info("Using node name \"%s\"", m->node_name);
	r = start_own_get(m);
	if (r < 0)
		log_warn_errno(r, "Failed to start getting node \"%s\", waiting for the node list",
			       m->node_name);
	r = kube_reflector_new(m->http, &kube_node_kind, &m->keys, &m->watch_opts, &ops, m,
			       &m->watch);
	if (r < 0)
		return r;
	return kube_reflector_start(m->watch);
}

static int pod_lookup(struct kube_mgr *m);

static int pod_timer_cb(struct loop_source *s, void *userdata)
{
	return pod_lookup(userdata);
}

static void pod_done(int r, long status, const char *body, size_t len, void *userdata)
{
	struct kube_mgr *m = userdata;
	char name[LEASE_NAME_MAX];
	struct errmsg err = {};
	char msg[256];

	m->pod_req = NULL;
	if (r < 0) {
		kube_status_message(body, len, msg, sizeof(msg), NULL);
		log_error("error retrieving pod spec for '%s/%s': %s%s%s, will retry",
			  m->pod_namespace, m->pod_name, strerror(-r), msg[0] ? ": " : "", msg);
		(void)loop_timer_arm(m->pod_timer, backoff_next(&m->pod_backoff, random_u32()));
		return;
	}
	r = kube_pod_node_name(body, len, name, sizeof(name), &err);
	if (r < 0) {
		log_error("node name not present in pod spec '%s/%s' (%s), will retry",
			  m->pod_namespace, m->pod_name, err.text);
		(void)loop_timer_arm(m->pod_timer, backoff_next(&m->pod_backoff, random_u32()));
		return;
	}
	m->node_name = strdup(name);
	if (!m->node_name) {
		log_error("Out of memory");
		return;
	}
	r = start_watch(m);
	if (r < 0)
		log_error_errno(r, "Failed to start watching nodes");
}

static int pod_lookup(struct kube_mgr *m)
{
	_cleanup_free_ char *path = NULL;
	struct kube_request_spec spec = {
		.verb = KUBE_VERB_GET,
		.max_attempts = 3,
		.max_body = KUBE_OBJECT_MAX_SIZE,
		.done = pod_done,
		.userdata = m,
	};

	if (asprintf(&path, "/api/v1/namespaces/%s/pods/%s", m->pod_namespace, m->pod_name) < 0)
		return -ENOMEM;
	spec.path = path;
	return kube_http_start(m->http, &spec, &m->pod_req);
}

static bool valid_dns_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

int kube_mgr_start(struct kube_mgr *m)
{
	const char *name = m->node_name ? NULL : getenv("NODE_NAME");

	if (!m->node_name && name && name[0]) {
		m->node_name = strdup(name);
		if (!m->node_name)
			return -ENOMEM;
	}
	if (m->node_name) {
		if (!valid_dns_name(m->node_name))
			return log_error_errno(EINVAL, "Invalid node name \"%.64s\"", m->node_name);
		return start_watch(m);
	}

	const char *pod = getenv("POD_NAME"), *ns = getenv("POD_NAMESPACE");
	if (!pod || !pod[0] || !ns || !ns[0]) {
		log_error("env variables POD_NAME and POD_NAMESPACE must be set");
		return -EINVAL;
	}
	if (!valid_dns_name(pod) || !valid_dns_name(ns))
		return log_error_errno(EINVAL, "Invalid POD_NAME or POD_NAMESPACE");
	m->pod_name = strdup(pod);
	m->pod_namespace = strdup(ns);
	if (!m->pod_name || !m->pod_namespace)
		return -ENOMEM;
	return pod_lookup(m);
}

int kube_mgr_new(struct loop *loop, const struct kube_mgr_config *config,
		 const struct kube_mgr_callbacks *callbacks, void *userdata, struct kube_mgr **ret)
{
	struct kube_mgr *m;
	struct errmsg err = {};
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	if (callbacks)
		m->cb = *callbacks;
	m->userdata = userdata;
	m->lease = config->lease;
	m->lease.keys = &m->keys;
	m->set_condition = config->set_node_network_unavailable;
	m->watch_opts = config->watch;
	backoff_init(&m->pod_backoff, POD_RETRY_BASE_USEC, POD_RETRY_MAX_USEC);

	r = kube_annotation_keys_init(&m->keys, config->annotation_prefix, &err);
	if (r < 0) {
		log_error("%s", err.text);
		goto fail;
	}
	if (config->node_name && config->node_name[0] &&
	    !(m->node_name = strdup(config->node_name))) {
		r = -ENOMEM;
		goto fail;
	}
	r = lease_set_new(&m->peers);
	if (r < 0)
		goto fail;
	m->notified_generation = lease_set_generation(m->peers);
	r = kube_http_new(loop, config->conn, &config->http, &m->http);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the Kubernetes API client");
		goto fail;
	}
	r = loop_add_timer(loop, 3600 * USEC_PER_SEC, pod_timer_cb, m, "kube pod lookup retry",
			   &m->pod_timer);
	if (r >= 0)
		r = loop_timer_disarm(m->pod_timer);
	if (r < 0)
		goto fail;
	*ret = m;
	return 0;
fail:
	kube_mgr_free(m);
	return r;
}

struct kube_mgr *kube_mgr_free(struct kube_mgr *m)
{
	if (!m)
		return NULL;
	kube_reflector_free(m->watch);
	kube_request_cancel(m->pod_req);
	kube_request_cancel(m->own_req);
	kube_request_cancel(m->patch_req);
	loop_source_free(m->pod_timer);
	kube_http_free(m->http);
	lease_set_free(m->peers);
	kube_node_done(&m->own);
	free(m->node_name);
	free(m->pub_ext_data);
	free(m->pod_name);
	free(m->pod_namespace);
	while (m->n_invalid > 0) {
		m->n_invalid--;
		free(m->invalid[m->n_invalid].name);
		free(m->invalid[m->n_invalid].error);
	}
	free(m->invalid);
	free(m);
	return NULL;
}

const struct kube_invalid_node *kube_mgr_invalid_nodes(const struct kube_mgr *m, size_t *ret_n)
{
	*ret_n = m->n_invalid;
	return m->invalid;
}

const char *kube_mgr_node_name(const struct kube_mgr *m)
{
	return m->node_name;
}

const struct lease_set *kube_mgr_peers(const struct kube_mgr *m)
{
	return m->peers;
}

const struct kube_node *kube_mgr_own_node(const struct kube_mgr *m)
{
	return m->has_own ? &m->own : NULL;
}

int kube_mgr_own_lease(const struct kube_mgr *m, struct lease *ret, struct errmsg *err)
{
	if (!m->has_own)
		return errmsg_set(err, "node \"%s\" not seen yet", m->node_name ?: "?"), -ENOENT;
	return kube_node_subnets(&m->own, &m->lease, ret, err);
}

bool kube_mgr_synced(const struct kube_mgr *m)
{
	return m->watch && kube_reflector_synced(m->watch);
}

bool kube_mgr_ready(const struct kube_mgr *m)
{
	struct lease l;
	return kube_mgr_synced(m) && kube_mgr_own_lease(m, &l, NULL) >= 0;
}

int kube_mgr_relist(struct kube_mgr *m)
{
	kube_http_reload_token(m->http);
	if (!m->watch)
		return 0;
	return kube_reflector_relist(m->watch);
}

struct kube_http *kube_mgr_http(const struct kube_mgr *m)
{
	return m->http;
}

void kube_mgr_reload_token(struct kube_mgr *m)
{
	kube_http_reload_token(m->http);
}

void kube_mgr_get_stats(const struct kube_mgr *m, struct kube_mgr_stats *ret)
{
	*ret = (struct kube_mgr_stats){
		.http = *kube_http_stats(m->http),
		.patches = m->patches,
		.patch_failures = m->patch_failures,
		.skipped_nodes = m->skipped_nodes,
	};
	if (m->watch)
		ret->watch = *kube_reflector_stats(m->watch);
}
