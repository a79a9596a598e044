/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy engine: model + compiler + applier. See engine.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/core/prom.h"
#include "netpol/apply.h"
#include "netpol/engine.h"
#include "netpol/parse.h"

struct np_engine {
	char *node;
	struct np_model *model;
	struct np_applier applier;
	bool applied_once;
	bool dirty; /* a change that matters since the last successful reconcile */
	/* what the last compile depends on, to skip pod changes elsewhere that do not matter */
	struct np_refs refs;
	bool refs_valid;
	uint64_t ignored;	   /* pod changes that could not change the table */
	uint64_t dirty_since_usec; /* first change not yet in the kernel (0: none) */
	struct buf report;	   /* of the last compile */
	struct np_compile_stats cstats;
	uint64_t updates, update_failures, invalid_objects;
	struct histogram reconcile_seconds; /* compile + apply */
	struct histogram change_seconds;    /* first change -> in the kernel */
};

int np_engine_new(const struct np_engine_config *cfg, struct np_engine **ret)
{
	_cleanup_(np_engine_freep) struct np_engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->node = strdup(cfg->node ? cfg->node : "");
	if (!e->node)
		return -ENOMEM;
	r = np_model_new(&e->model);
	if (r < 0)
		return r;
	r = np_model_set_local_node(e->model, e->node);
	if (r < 0)
		return r;
	e->applier.nft = cfg->nft;
	e->applier.timeout_ms = cfg->timeout_ms;
	histogram_init(&e->reconcile_seconds, prom_latency_bounds, prom_latency_bounds_n);
	histogram_init(&e->change_seconds, prom_latency_bounds, prom_latency_bounds_n);
	*ret = TAKE_PTR(e);
	return 0;
}

struct np_engine *np_engine_free(struct np_engine *e)
{
	if (!e)
		return NULL;
	np_applier_done(&e->applier);
	np_refs_done(&e->refs);
	np_model_free(e->model);
	buf_free(&e->report);
	free(e->node);
	free(e);
	return NULL;
}

static void mark_dirty(struct np_engine *e)
{
	e->dirty = true;
	if (!e->dirty_since_usec)
		e->dirty_since_usec = now_monotonic_usec();
}

struct np_object {
	enum np_kind kind;
	struct np_model *model;
	union {
		struct np_pod_in pod;
		struct {
			char name[254];
			const struct np_labels *labels;
		} ns;
		struct {
			char ns[254];
			struct np_policy *p;
		} policy;
	};
};

void np_object_free(struct np_object *o)
{
	if (!o)
		return;
	switch (o->kind) {
	case NP_KIND_POD:
		np_pod_in_done(o->model, &o->pod);
		break;
	case NP_KIND_NAMESPACE:
		np_labels_unref(o->model, o->ns.labels);
		break;
	case NP_KIND_POLICY:
		np_policy_free(o->policy.p);
		break;
	}
	free(o);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct np_object *, np_object_free);

int np_engine_parse(struct np_engine *e, enum np_kind kind, const cJSON *obj,
		    struct np_object **ret, struct errmsg *err)
{
	_cleanup_(np_object_freep) struct np_object *o = calloc(1, sizeof(*o));
	int r;

	if (!o)
		return -ENOMEM;
	o->kind = kind;
	o->model = e->model;
	switch (kind) {
	case NP_KIND_POD:
		r = np_pod_parse(e->model, obj, &o->pod, err);
		break;
	case NP_KIND_NAMESPACE:
		r = np_ns_parse(e->model, obj, o->ns.name, &o->ns.labels, err);
		break;
	case NP_KIND_POLICY:
		r = np_policy_parse(obj, o->policy.ns, &o->policy.p, err);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0) {
		if (r == -EINVAL)
			e->invalid_objects++;
		return r;
	}
	*ret = TAKE_PTR(o);
	return 0;
}

static int upsert_policy(struct np_engine *e, const char *ns, struct np_policy *p)
{
	if (p->error) {
		const struct np_policy *old = np_model_policy_get(e->model, ns, p->name);
		/* log once per distinct error, not on every relist of the same object */
		if (!old || !old->error || strcmp(old->error, p->error) != 0)
			log_error("NetworkPolicy %s/%s not understood, its pods are isolated "
				  "and it allows nothing: %s",
				  ns, p->name, p->error);
	}
	return np_model_policy_set(e->model, ns, p);
}

/* Whether the pod, as the model has it now, matters to the table (see np_refs). */
static bool pod_matters(const struct np_engine *e, const char *ns, const char *name)
{
	const struct np_pod *p = np_model_pod_get(e->model, ns, name);

	return !e->refs_valid || (p && np_refs_pod_matters(&e->refs, p, e->node));
}

/* A pod changed (r > 0) that mattered before or matters now: the table may change. */
static void pod_changed(struct np_engine *e, int r, bool mattered, const char *ns, const char *name)
{
	if (r <= 0)
		return;
	if (mattered || pod_matters(e, ns, name))
		mark_dirty(e);
	else
		e->ignored++;
}

int np_engine_upsert(struct np_engine *e, struct np_object *o)
{
	bool mattered;
	int r;

	switch (o->kind) {
	case NP_KIND_POD:
		mattered = pod_matters(e, o->pod.ns, o->pod.name);
		r = np_model_pod_set(e->model, &o->pod);
		pod_changed(e, r, mattered, o->pod.ns, o->pod.name);
		np_object_free(o);
		return r;
	case NP_KIND_NAMESPACE:
		r = np_model_ns_set(e->model, o->ns.name, TAKE_PTR(o->ns.labels));
		break;
	case NP_KIND_POLICY:
		r = upsert_policy(e, o->policy.ns, TAKE_PTR(o->policy.p));
		if (r > 0)
			e->refs_valid = false; /* they point into the policies */
		break;
	default:
		r = -EINVAL;
	}
	np_object_free(o);
	if (r > 0)
		mark_dirty(e);
	return r;
}

int np_engine_remove(struct np_engine *e, enum np_kind kind, const char *key)
{
	char ns[254];
	const char *slash = strchr(key, '/');
	int r;

	if (kind == NP_KIND_NAMESPACE)
		r = np_model_ns_del(e->model, key);
	else if (!slash || (size_t)(slash - key) >= sizeof(ns))
		return -EINVAL;
	else {
		memcpy(ns, key, (size_t)(slash - key));
		ns[slash - key] = '\0';
		if (kind == NP_KIND_POD) {
			bool mattered = pod_matters(e, ns, slash + 1);
			r = np_model_pod_del(e->model, ns, slash + 1);
			pod_changed(e, r, mattered, ns, slash + 1);
			return r;
		}
		r = np_model_policy_del(e->model, ns, slash + 1);
		if (r > 0)
			e->refs_valid = false;
	}
	if (r > 0)
		mark_dirty(e);
	return r;
}

int np_engine_update(struct np_engine *e, enum np_kind kind, const cJSON *obj, bool deleted,
		     struct errmsg *err)
{
	struct np_object *o;
	char ns[254], name[254], key[510];
	int r;

	if (deleted) {
		r = np_object_key(obj, ns, name, err);
		if (r < 0)
			return r;
		if (kind == NP_KIND_NAMESPACE)
			return np_engine_remove(e, kind, name);
		snprintf(key, sizeof(key), "%s/%s", ns, name);
		return np_engine_remove(e, kind, key);
	}
	r = np_engine_parse(e, kind, obj, &o, err);
	if (r < 0)
		return r;
	return np_engine_upsert(e, o);
}

bool np_engine_dirty(const struct np_engine *e)
{
	return !e->applied_once || e->dirty;
}

int np_engine_reconcile(struct np_engine *e, struct errmsg *err)
{
	_cleanup_(np_state_done) struct np_state want = {};
	_cleanup_buf_ struct buf report = BUF_INIT;
	struct np_compile_stats cs;
	struct np_refs refs = {};
	uint64_t start = now_monotonic_usec();
	int r;

	r = np_compile_refs(e->model, e->node, &want, &report, &cs, &refs);
	if (r < 0) {
		np_refs_done(&refs);
		errmsg_set(err, "compiling the policies: %s", strerror(-r));
		return r;
	}
	/* the model has not changed since the compile: these describe it */
	np_refs_done(&e->refs);
	e->refs = refs;
	e->refs_valid = true;
	r = np_applier_sync(&e->applier, &want, err);
	uint64_t end = now_monotonic_usec();
	histogram_observe(&e->reconcile_seconds, (double)(end - start) / USEC_PER_SEC);
	if (r < 0) {
		e->update_failures++;
		return r;
	}
	if (r > 0) {
		e->updates++;
		log_v(2, "network policy: %d nft commands in %.1f ms", r,
		      (double)(end - start) / USEC_PER_MSEC);
	}
	if (e->dirty_since_usec) {
		histogram_observe(&e->change_seconds,
				  (double)(end - e->dirty_since_usec) / USEC_PER_SEC);
		e->dirty_since_usec = 0;
	}
	e->dirty = false;
	e->applied_once = true;
	e->cstats = cs;
	buf_free(&e->report);
	e->report = report;
	report = (struct buf)BUF_INIT;
	return r;
}

void np_engine_forget_kernel(struct np_engine *e)
{
	e->applier.known = false;
	e->applied_once = false;
}

int np_engine_remove_table(struct np_engine *e, struct errmsg *err)
{
	e->applied_once = false;
	return np_applier_remove(&e->applier, err);
}

const struct np_model *np_engine_model(const struct np_engine *e)
{
	return e->model;
}

int np_engine_status(const struct np_engine *e, struct buf *out)
{
	int r = buf_printf(out,
			   "network policy: %zu policies (%zu not understood), %zu pods cached, "
			   "%zu local pods (%zu isolated for ingress, %zu for egress)%s\n",
			   np_model_n_policies(e->model), e->cstats.bad_policies,
			   np_model_n_pods(e->model), e->cstats.local_pods,
			   e->cstats.isolated[NP_INGRESS], e->cstats.isolated[NP_EGRESS],
			   np_engine_dirty(e) ? " (changes pending)" : "");
	if (r >= 0 && e->report.len)
		r = buf_append(out, e->report.data, e->report.len);
	return r < 0 ? r : 0;
}

int np_engine_metrics(const struct np_engine *e, struct buf *out)
{
	const struct np_apply_stats *as = &e->applier.stats;
	int r = 0;

#define GAUGE(name, help, v) \
	(r >= 0 ? (r = prom_metric_u64(out, "flannel_netpol_" name, "gauge", help, (v))) : r)
#define COUNTER(name, help, v) \
	(r >= 0 ? (r = prom_metric_u64(out, "flannel_netpol_" name, "counter", help, (v))) : r)
	GAUGE("policies", "NetworkPolicies known.", np_model_n_policies(e->model));
	GAUGE("policies_invalid", "NetworkPolicies not understood (their pods fail closed).",
	      e->cstats.bad_policies);
	GAUGE("policies_active", "NetworkPolicies selecting at least one pod of this node.",
	      e->cstats.policies_used);
	GAUGE("pods", "Pods cached (all nodes).", np_model_n_pods(e->model));
	GAUGE("local_pods", "Pods of this node with an address.", e->cstats.local_pods);
	if (r >= 0)
		r = prom_header(out, "flannel_netpol_isolated_pods", "gauge",
				"Pods of this node selected by a policy, per direction.");
	if (r >= 0)
		r = prom_sample_u64(out, "flannel_netpol_isolated_pods", "direction=\"ingress\"",
				    e->cstats.isolated[NP_INGRESS]);
	if (r >= 0)
		r = prom_sample_u64(out, "flannel_netpol_isolated_pods", "direction=\"egress\"",
				    e->cstats.isolated[NP_EGRESS]);
	GAUGE("sets", "nftables sets in the policy table.", e->cstats.sets);
	GAUGE("set_elements", "Elements in those sets.", e->cstats.set_elements);
	GAUGE("chains", "Policy and pod chains in the policy table.", e->cstats.chains);
	GAUGE("cache_bytes", "Heap bytes of the policy cache (pods, namespaces, policies).",
	      np_model_bytes(e->model));
	COUNTER("rule_updates_total", "nft transactions that changed the policy table.",
		as->transactions);
	COUNTER("rule_update_failures_total", "Failed reads or writes of the policy table.",
		as->failures);
	COUNTER("invalid_objects_total", "Pod, Namespace or NetworkPolicy objects refused.",
		e->invalid_objects);
	COUNTER("pod_changes_ignored_total",
		"Changes of pods elsewhere that no selector or named port in use matches.",
		e->ignored);
	if (r >= 0)
		r = prom_header(out, "flannel_netpol_reconcile_duration_seconds", "histogram",
				"Compile and apply of the policy table.");
	if (r >= 0)
		r = prom_histogram(out, "flannel_netpol_reconcile_duration_seconds", NULL,
				   &e->reconcile_seconds);
	if (r >= 0)
		r = prom_header(out, "flannel_netpol_change_latency_seconds", "histogram",
				"From a change of a pod, namespace or policy to the kernel.");
	if (r >= 0)
		r = prom_histogram(out, "flannel_netpol_change_latency_seconds", NULL,
				   &e->change_seconds);
#undef GAUGE
#undef COUNTER
	return r < 0 ? r : 0;
}
