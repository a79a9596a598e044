/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy agent: reflectors -> engine -> kernel. See netpol.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/netpol.h"
#include "kube/reflector.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "netpol/engine.h"

#define RETRY_USEC  (1 * USEC_PER_SEC)
#define RESYNC_USEC (60 * USEC_PER_SEC)

struct source {
	struct netpol_agent *agent;
	enum np_kind kind;
	struct kube_reflector *refl;
};

struct netpol_agent {
	struct loop *loop;
	struct np_engine *engine;
	struct source src[3];
	struct loop_source *timer;
	uint64_t last_read_usec;
	bool failing;
};

static int parse(const cJSON *obj, const struct kube_object_meta *meta, void *kind_userdata,
		 enum np_kind kind, void **ret, struct errmsg *err)
{
	struct np_object *o;
	int r = np_engine_parse(kind_userdata, kind, obj, &o, err);

	if (r < 0)
		return r;
	*ret = o;
	return 0;
}

static int parse_pod(const cJSON *obj, const struct kube_object_meta *meta, void *ud, void **ret,
		     struct errmsg *err)
{
	return parse(obj, meta, ud, NP_KIND_POD, ret, err);
}

static int parse_ns(const cJSON *obj, const struct kube_object_meta *meta, void *ud, void **ret,
		    struct errmsg *err)
{
	return parse(obj, meta, ud, NP_KIND_NAMESPACE, ret, err);
}

static int parse_policy(const cJSON *obj, const struct kube_object_meta *meta, void *ud, void **ret,
			struct errmsg *err)
{
	return parse(obj, meta, ud, NP_KIND_POLICY, ret, err);
}

static void free_obj(void *obj)
{
	np_object_free(obj);
}

static const struct kube_kind kinds[3] = {
	[NP_KIND_POD] = {.name = "pods",
			 .path = "/api/v1/pods",
			 .namespaced = true,
			 .parse = parse_pod,
			 .free = free_obj},
	[NP_KIND_NAMESPACE] = {.name = "namespaces",
			       .path = "/api/v1/namespaces",
			       .namespaced = false,
			       .parse = parse_ns,
			       .free = free_obj},
	[NP_KIND_POLICY] = {.name = "networkpolicies",
			    .path = "/apis/networking.k8s.io/v1/networkpolicies",
			    .namespaced = true,
			    .parse = parse_policy,
			    .free = free_obj},
};

bool netpol_agent_synced(const struct netpol_agent *a)
{
	for (int k = 0; k < 3; k++)
		if (!a->src[k].refl || !kube_reflector_synced(a->src[k].refl))
			return false;
	return true;
}

static void schedule(struct netpol_agent *a, uint64_t usec)
{
	if (!netpol_agent_synced(a))
		return;
	if (!loop_timer_armed(a->timer) || usec == 0)
		(void)loop_timer_arm(a->timer, usec);
}

static int on_timer(struct loop_source *s, void *userdata)
{
	struct netpol_agent *a = userdata;
	struct errmsg err = {};
	uint64_t now = now_monotonic_usec();
	int r;

	if (!netpol_agent_synced(a))
		return 0;
	if (now - a->last_read_usec >= RESYNC_USEC) {
		/* read the table back: repairs what someone else changed */
		np_engine_forget_kernel(a->engine);
		a->last_read_usec = now;
	}
	r = np_engine_reconcile(a->engine, &err);
	if (r < 0) {
		if (!a->failing)
			log_error("Network policy: failed to program the nftables table: %s",
				  err.text);
		a->failing = true;
		return loop_timer_arm(a->timer, RETRY_USEC);
	}
	if (a->failing)
		log_info("Network policy: nftables table programmed again");
	a->failing = false;
	return loop_timer_arm(a->timer, RESYNC_USEC);
}

static void on_upsert(const char *key, void *obj, void *userdata)
{
	struct source *s = userdata;

	(void)np_engine_upsert(s->agent->engine, obj);
}

static void on_remove(const char *key, void *userdata)
{
	struct source *s = userdata;

	(void)np_engine_remove(s->agent->engine, s->kind, key);
}

static void on_batch_end(void *userdata)
{
	struct source *s = userdata;

	if (np_engine_dirty(s->agent->engine))
		schedule(s->agent, 0);
}

static void on_synced(void *userdata)
{
	struct source *s = userdata;

	log_info("Network policy: %s synced", kinds[s->kind].name);
	if (netpol_agent_synced(s->agent)) {
		const struct np_model *m = np_engine_model(s->agent->engine);
		log_info("Network policy: %zu pods, %zu policies; programming the table",
			 np_model_n_pods(m), np_model_n_policies(m));
		schedule(s->agent, 0);
	}
}

int netpol_agent_new(struct loop *loop, struct kube_http *http, const char *node, const char *nft,
		     struct netpol_agent **ret)
{
	static const struct kube_reflector_ops ops = {
		.upsert = on_upsert,
		.remove = on_remove,
		.synced = on_synced,
		.batch_end = on_batch_end,
	};
	struct np_engine_config cfg = {.node = node, .nft = nft};
	struct netpol_agent *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->loop = loop;
	r = np_engine_new(&cfg, &a->engine);
	if (r >= 0)
		r = loop_add_timer(loop, UINT64_MAX, on_timer, a, "network policy", &a->timer);
	if (r >= 0)
		r = loop_timer_disarm(a->timer);
	for (int k = 0; k < 3 && r >= 0; k++) {
		a->src[k] = (struct source){.agent = a, .kind = (enum np_kind)k};
		r = kube_reflector_new(http, &kinds[k], a->engine, NULL, &ops, &a->src[k],
				       &a->src[k].refl);
	}
	if (r < 0) {
		netpol_agent_free(a);
		return r;
	}
	a->last_read_usec = now_monotonic_usec();
	*ret = a;
	return 0;
}

struct netpol_agent *netpol_agent_free(struct netpol_agent *a)
{
	if (!a)
		return NULL;
	/* reflectors first: they may hold parsed objects referring to the engine's cache */
	for (int k = 0; k < 3; k++)
		kube_reflector_free(a->src[k].refl);
	loop_source_free(a->timer);
	np_engine_free(a->engine);
	free(a);
	return NULL;
}

int netpol_agent_start(struct netpol_agent *a)
{
	for (int k = 0; k < 3; k++) {
		int r = kube_reflector_start(a->src[k].refl);
		if (r < 0)
			return r;
	}
	return 0;
}

int netpol_agent_status(const struct netpol_agent *a, struct buf *out)
{
	if (!netpol_agent_synced(a))
		return buf_puts(out, "network policy: waiting for pods, namespaces and "
				     "network policies from the API server\n");
	return np_engine_status(a->engine, out);
}

int netpol_agent_metrics(const struct netpol_agent *a, struct buf *out)
{
	return np_engine_metrics(a->engine, out);
}

int netpol_remove_table(const char *nft)
{
	struct np_engine_config cfg = {.node = "", .nft = nft};
	_cleanup_(np_engine_freep) struct np_engine *e = NULL;
	struct errmsg err = {};
	int r;

	r = np_engine_new(&cfg, &e);
	if (r < 0)
		return r;
	r = np_engine_remove_table(e, &err);
	if (r == -ENOENT) /* no nft: no table of ours either */
		return 0;
	if (r < 0)
		return log_warn_errno(r, "Network policy is off, but removing its table failed: %s",
				      err.text);
	if (r > 0)
		log_info("Network policy is off: removed the nftables table inet flannel-netpol");
	return 0;
}
