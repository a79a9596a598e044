/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reconciler. A full pass ensures the device(s), dumps what is ours
 * from the kernel, plans (backends/plan.c) and applies. Every op is
 * attempted and the first error is returned so the caller retries later;
 * kernel writes are idempotent, so a retry never hurts.
 *
 * When every op of a pass succeeded, its desired state becomes the belief
 * of what the kernel holds, and the next pass is incremental: no device
 * check, no dumps, only the peers that changed planned against the belief
 * (plan_update). Notifications that contradict the belief (registry.c) and
 * failed ops drop it, so the pass after them is a full one again; pending
 * notifications are discarded before a full pass dumps, as the dumps see
 * whatever they report.
 *
 * Drift: when a full pass finds the desired entries exactly those of the
 * previous successful pass (same hash), any op it needs repairs something
 * changed behind our back (a deleted route, a recreated device, ...).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "registry.h"

/* Notifications are read every this many ops of a long pass. */
#define EVENT_READ_OPS 256

_Static_assert(BACKEND_NEIGH4 == PLAN_BIT(PLAN_NEIGH, 0) && BACKEND_FDB4 == PLAN_BIT(PLAN_FDB, 0) &&
		       BACKEND_ROUTE4 == PLAN_BIT(PLAN_ROUTE, 0) &&
		       BACKEND_PEER4 == PLAN_BIT(PLAN_PEER, 0) &&
		       BACKEND_NEIGH6 == PLAN_BIT(PLAN_NEIGH, 1) &&
		       BACKEND_FDB6 == PLAN_BIT(PLAN_FDB, 1) &&
		       BACKEND_ROUTE6 == PLAN_BIT(PLAN_ROUTE, 1) &&
		       BACKEND_PEER6 == PLAN_BIT(PLAN_PEER, 1),
	       "status bits follow the planner's");
_Static_assert(BACKEND_SKIP_BACKEND_TYPE == (int)PLAN_SKIP_BACKEND_TYPE &&
		       BACKEND_SKIP_NO_VTEP_MAC == (int)PLAN_SKIP_NO_VTEP_MAC &&
		       BACKEND_SKIP_VNI == (int)PLAN_SKIP_VNI &&
		       BACKEND_SKIP_CONFLICT == (int)PLAN_SKIP_CONFLICT &&
		       BACKEND_SKIP_NO_PUBLIC_KEY == (int)PLAN_SKIP_NO_PUBLIC_KEY &&
		       _BACKEND_SKIP_MAX == (int)_PLAN_SKIP_MAX,
	       "skip reasons follow the planner's");

struct actual_dump {
	struct neigh_spec *neighs;
	struct fdb_spec *fdbs;
	struct route_spec *routes;
	struct wg_peer *wg_peers;
};

static void actual_dump_done(struct actual_dump *d)
{
	free(d->neighs);
	free(d->fdbs);
	free(d->routes);
	free(d->wg_peers);
}

static int dump_family(struct backend *b, const struct plan_params *p, int fi,
		       struct actual_dump *d, struct plan_actual *a)
{
	const struct plan_family *f = &p->fam[fi];
	const int family = fi == 0 ? AF_INET : AF_INET6;
	int r;

	if (f->vxlan) {
		r = nl_neigh_list(b->nl, family, f->dev_ifindex, &d->neighs, &a->n_neighs);
		if (r < 0)
			return log_error_errno(r, "failed to dump neighbours of ifindex %d",
					       f->dev_ifindex);
		a->neighs = d->neighs;
		r = nl_fdb_list(b->nl, f->dev_ifindex, &d->fdbs, &a->n_fdbs);
		if (r < 0)
			return log_error_errno(r, "failed to dump FDB of ifindex %d",
					       f->dev_ifindex);
		a->fdbs = d->fdbs;
	}
	if (f->wg) {
		r = b->ops->dump_peers(b, fi, &d->wg_peers, &a->n_wg_peers);
		if (r < 0)
			return r;
		a->wg_peers = d->wg_peers;
	}
	r = nl_route_list_ours(b->nl, family, f->dev_ifindex, p->proto, &d->routes, &a->n_routes);
	if (r < 0)
		return log_error_errno(r, "failed to dump routes");
	a->routes = d->routes;
	return 0;
}

static int apply_op(struct backend *b, const struct plan_op *op)
{
	bool del = op->action == PLAN_DELETE;
	int r;

	switch (op->kind) {
	case PLAN_NEIGH:
		return del ? nl_neigh_del(b->nl, &op->neigh) : nl_neigh_replace(b->nl, &op->neigh);
	case PLAN_FDB:
		return del ? nl_fdb_del(b->nl, &op->fdb) : nl_fdb_replace(b->nl, &op->fdb);
	case PLAN_PEER:
		return b->ops->apply_peer(b, op->family == AF_INET6, &op->wg, del);
	case PLAN_ROUTE:
	default:
		break;
	}
	if (del)
		return nl_route_del(b->nl, &op->route);
	r = nl_route_replace(b->nl, &op->route);
	if (r == -EINVAL && op->route.family == AF_INET6 && op->route.onlink) {
		/* IPv6 validates an onlink gateway against the table (kernel
		 * ip6_route_check_nh_onlink), where our old route to the same
		 * prefix on another device (DirectRouting) still covers it and
		 * is a "device mismatch": delete ours first, then add. */
		struct route_spec old = {.family = AF_INET6,
					 .dst = op->route.dst,
					 .proto = op->route.proto,
					 .table = op->route.table,
					 .priority = op->route.priority};
		r = nl_route_del(b->nl, &old);
		if (r >= 0)
			r = nl_route_replace(b->nl, &op->route);
	}
	return r;
}

/* "set route to 198.18.2.0/24": what an op writes, for the log and the status. */
static void op_describe(const struct plan_op *op, char *buf, size_t size)
{
	const char *verb = op->action == PLAN_DELETE ? "delete" : "set";
	char s[IP_NET_STRLEN], m[18];

	switch (op->kind) {
	case PLAN_PEER:
		snprintf(buf, size, "%s WireGuard peer%s%s",
			 op->action == PLAN_DELETE ? "remove" : "set",
			 op->wg.n_allowed ? " for " : "",
			 op->wg.n_allowed ? ip_net_fmt(&op->wg.allowed[0], s) : "");
		break;
	case PLAN_NEIGH:
		snprintf(buf, size, "%s neighbour %s", verb, ip_addr_fmt(&op->neigh.ip, s));
		break;
	case PLAN_FDB:
		snprintf(buf, size, "%s FDB entry %s", verb, mac_fmt(op->fdb.mac, m));
		break;
	case PLAN_ROUTE:
	default:
		snprintf(buf, size, "%s route to %s", verb, ip_net_fmt(&op->route.dst, s));
		break;
	}
}

static void log_op_failure(const struct plan_op *op, const struct lease *peer, int r)
{
	char what[96];

	op_describe(op, what, sizeof(what));
	log_warn_errno(r, "Failed to %s for %s, will retry", what,
		       peer			   ? peer->name
		       : op->action == PLAN_DELETE ? "stale entry"
						   : "the device");
}

/* A peer's write the kernel refused in this pass (backend_op_refused). */
struct refusal {
	size_t peer; /* index into the peers */
	unsigned bits;
	int err;
	char what[96];
};

static int refusal_cmp(const void *x, const void *y)
{
	const struct refusal *a = x, *b = y;

	return (a->peer > b->peer) - (a->peer < b->peer);
}

static void report_problem(const struct backend *b, const struct peer_problem *p,
			   const struct lease *l)
{
	if (p->refused_bits)
		log_warn_errno(p->refused,
			       "Failed to %s for %s, will retry; the kernel refuses it, so "
			       "readiness does not wait for this peer",
			       p->what, p->name);
	switch (p->skip) {
	case PLAN_SKIP_BACKEND_TYPE:
		log_warn("Not programming peer %s: its backend type is %s, ours %s", p->name,
			 l->attrs.backend_type, b->ops->type);
		break;
	case PLAN_SKIP_NO_VTEP_MAC:
		log_warn("Not programming peer %s: its backend-data has no VtepMAC", p->name);
		break;
	case PLAN_SKIP_VNI:
		log_warn("Not programming peer %s: it announces VNI %" PRIu32 ", ours is %" PRIu32
			 " (its VXLAN device would drop our packets)",
			 p->name, l->attrs.vni, b->params.vni);
		break;
	case PLAN_SKIP_NO_PUBLIC_KEY:
		log_warn("Not programming peer %s: its backend-data has no PublicKey", p->name);
		break;
	case PLAN_SKIP_CONFLICT:
		log_warn(
			"Not programming peer %s: its subnet or VtepMAC / PublicKey is also another peer's "
			"(the first by name is programmed)",
			p->name);
		break;
	case PLAN_SKIP_NONE:
	default:
		break;
	}
}

static bool problem_same(const struct peer_problem *a, const struct peer_problem *b)
{
	return a->skip == b->skip && a->refused_bits == b->refused_bits && a->refused == b->refused;
}

/*
 * After a pass: the peers skipped or with an entry refused, counted, and
 * each reported in the log once (again only when its reason changes). Costs
 * nothing while every peer is programmed; otherwise a walk over the peers.
 */
static int update_problems(struct backend *b, struct refusal *ref, size_t n_ref)
{
	const struct plan_state *s = b->belief;
	size_t n = s ? plan_state_n_peers(s) : 0, m = 0, j = 0, o = 0;
	struct peer_problem *v;

	if (!s)
		return 0;
	memset(b->status.n_skipped_by, 0, sizeof(b->status.n_skipped_by));
	b->status.n_refused = 0;
	if (b->status.n_skipped == 0 && n_ref == 0 && b->n_problems == 0)
		return 0;
	v = calloc(b->status.n_skipped + n_ref + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (n_ref > 1)
		qsort(ref, n_ref, sizeof(*ref), refusal_cmp);
	for (size_t k = 0; k < n && m < b->status.n_skipped + n_ref; k++) {
		struct plan_peer pp;
		const char *name = plan_state_peer(s, k, &pp);
		struct peer_problem *p = &v[m];

		if (!pp.skipped && !(j < n_ref && ref[j].peer == k))
			continue;
		strncpy(p->name, name, sizeof(p->name) - 1);
		p->skip = pp.skipped ? pp.skip : PLAN_SKIP_NONE;
		for (; j < n_ref && ref[j].peer == k; j++) {
			if (!p->refused_bits) {
				p->refused = ref[j].err;
				memcpy(p->what, ref[j].what, sizeof(p->what));
			}
			p->refused_bits |= ref[j].bits;
		}
		if (p->skip != PLAN_SKIP_NONE)
			b->status.n_skipped_by[p->skip]++;
		b->status.n_refused += p->refused_bits != 0;
		/* Both lists are sorted by name: report what the old one lacks. */
		for (;
		     o < b->n_problems && strncmp(b->problems[o].name, p->name, LEASE_NAME_MAX) < 0;
		     o++)
			log_info("Peer %s is no longer skipped or refused", b->problems[o].name);
		if (o < b->n_problems &&
		    strncmp(b->problems[o].name, p->name, LEASE_NAME_MAX) == 0) {
			if (!problem_same(&b->problems[o], p))
				report_problem(b, p, plan_state_lease(s, k));
			o++;
		} else {
			report_problem(b, p, plan_state_lease(s, k));
		}
		m++;
	}
	for (; o < b->n_problems; o++)
		log_info("Peer %s is no longer skipped or refused", b->problems[o].name);
	free(b->problems);
	b->problems = v;
	b->n_problems = m;
	return 0;
}

/*
 * The peers without our own lease (a caller's mistake we tolerate; the
 * subnet managers leave it out). Peers are sorted by name, so the common
 * case is a binary search and no copy: *ret_copy stays NULL and *ret is peers.
 */
static int filter_own(struct backend *b, const struct lease *const *peers, size_t n,
		      const struct lease *const **ret, size_t *ret_n,
		      const struct lease ***ret_copy)
{
	const struct lease **v;
	size_t lo = 0, hi = n;

	*ret = peers;
	*ret_n = n;
	if (!b->own)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(peers[mid]->name, b->own->name, LEASE_NAME_MAX) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || strncmp(peers[lo]->name, b->own->name, LEASE_NAME_MAX) != 0)
		return 0;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, peers, lo * sizeof(*v));
	memcpy(v + lo, peers + lo + 1, (n - lo - 1) * sizeof(*v));
	*ret = *ret_copy = v;
	*ret_n = n - 1;
	return 0;
}

static int record_refusal(struct refusal **v, size_t *n, const struct plan_op *op, int r)
{
	struct refusal *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = (struct refusal){.peer = (size_t)op->peer,
				  .bits = PLAN_BIT(op->kind, op->family == AF_INET6),
				  .err = r};
	op_describe(op, nv[*n].what, sizeof(nv[*n].what));
	(*n)++;
	return 0;
}

/* Full pass: devices, dumps, plan against the kernel and a new belief. */
static int plan_full(struct backend *b, const struct lease *const *peers, size_t n_peers,
		     struct plan *plan, struct plan_state **ret_state)
{
	struct actual_dump dumps[2] = {{0}};
	struct plan_actual actual[2] = {{0}};
	int r;

	b->status.full_passes++;
	r = backend_drain_events(b);
	if (r < 0)
		log_warn_errno(r, "Failed to read netlink notifications, ignoring");
	r = b->ops->prepare(b, &b->params);
	for (int fi = 0; fi < 2 && r >= 0; fi++)
		if (b->params.fam[fi].enabled)
			r = dump_family(b, &b->params, fi, &dumps[fi], &actual[fi]);
	if (r >= 0) {
		/* The old state (kept for the status view) goes before the new one is built. */
		backend_forget(b);
		r = plan_compute_state(&b->params, peers, n_peers, actual, plan, ret_state);
	}
	for (int fi = 0; fi < 2; fi++)
		actual_dump_done(&dumps[fi]);
	return r;
}

int backend_check(struct backend *b)
{
	struct actual_dump dumps[2] = {{0}};
	struct plan_actual actual[2] = {{0}};
	int r;

	if (b->ops->reconcile)
		return 0; /* no kernel state: its own reconciler retries */
	if (!b->belief || !b->belief_ok)
		return 1;
	b->status.checks++;
	/* Pending echoes of our own writes first: the dumps show what they report. */
	r = backend_read_events(b);
	if (r >= 0 && !b->belief_ok) {
		b->resync = false; /* a foreign change: the caller reconciles on our 1 */
		return 1;
	}
	if (r >= 0)
		r = b->ops->prepare(b, &b->params);
	for (int fi = 0; fi < 2 && r >= 0; fi++)
		if (b->params.fam[fi].enabled)
			r = dump_family(b, &b->params, fi, &dumps[fi], &actual[fi]);
	if (r >= 0)
		r = plan_state_matches(b->belief, &b->params, actual) ? 0 : 1;
	for (int fi = 0; fi < 2; fi++)
		actual_dump_done(&dumps[fi]);
	if (r == 0)
		return 0;
	if (r > 0)
		log_v(1, "The kernel differs from what was programmed: a full pass repairs it");
	backend_invalidate(b);
	return r;
}

int backend_reconcile(struct backend *b, const struct lease *const *peers, size_t n_peers)
{
	return backend_reconcile_changed(b, peers, n_peers, NULL, 0);
}

int backend_reconcile_changed(struct backend *b, const struct lease *const *all_peers, size_t n_all,
			      const char *const *changed, size_t n_changed)
{
	_cleanup_free_ const struct lease **copy = NULL;
	_cleanup_free_ struct refusal *refusals = NULL;
	_cleanup_(plan_state_freep) struct plan_state *state = NULL;
	const struct lease *const *peers;
	struct plan plan = {0};
	uint64_t writes_before = nl_counters_writes(nlh_counters(b->nl));
	size_t n_peers = 0, n_refusals = 0;
	bool drift = false;
	int r, first_err = 0, blocking_err = 0;

	b->status.reconciles++;
	r = filter_own(b, all_peers, n_all, &peers, &n_peers, &copy);
	if (r < 0)
		goto fail;
	if (b->ops->reconcile)
		return b->ops->reconcile(b, peers, n_peers);
	if (b->belief && b->belief_ok) {
		state = TAKE_PTR(b->belief);
		/* The belief's parameters are those of the last full pass. */
		b->status.incremental_passes++;
		r = plan_update_changed(&b->params, peers, n_peers, changed, n_changed, &state,
					&plan);
	} else {
		r = plan_full(b, peers, n_peers, &plan, &state);
		drift = b->last_ok && plan.desired_hash == b->last_hash;
	}
	if (r < 0)
		goto fail;

	/* Applied, the plan's state is the belief that notifications are checked
	 * against, also while thousands of writes are under way: reading their
	 * echoes every few hundred ops keeps the socket from overrunning (which
	 * would cost a full pass). A foreign notification drops the belief. */
	b->belief = TAKE_PTR(state);
	b->belief_ok = true;
	for (size_t k = 0; k < plan.n_ops; k++) {
		const struct plan_op *op = &plan.ops[k];
		const struct lease *peer = op->peer >= 0 ? peers[op->peer] : NULL;

		if (k > 0 && k % EVENT_READ_OPS == 0)
			(void)backend_read_events(b);
		r = apply_op(b, op);
		if (drift)
			b->status.drift_found++;
		if (r < 0) {
			b->status.op_errors++;
			if (op->peer >= 0)
				plan_state_mark_missing(b->belief, (size_t)op->peer,
							PLAN_BIT(op->kind, op->family == AF_INET6));
			if (first_err == 0)
				first_err = r;
			/* A peer's entry the kernel refuses is logged once, after the pass. */
			if (op->peer >= 0 && op->action == PLAN_REPLACE && backend_op_refused(r) &&
			    record_refusal(&refusals, &n_refusals, op, r) >= 0)
				continue;
			log_op_failure(op, peer, r);
			if (blocking_err == 0)
				blocking_err = r;
			continue;
		}
		if (drift)
			b->status.drift_repaired++;
		if (op->action == PLAN_DELETE)
			b->status.entries_removed++;
		else
			b->status.entries_added++;
	}
	if (plan.n_ops > 0)
		log_v(1, "Reconciled %zu peers (%zu planned): %zu ops (%zu stale), %zu skipped%s",
		      n_peers, plan.n_planned, plan.n_ops, plan.n_stale, plan.n_skipped,
		      drift ? ", drift repaired" : "");

	b->status.n_desired = plan.n_desired;
	b->status.n_skipped = plan.n_skipped;
	b->status.last_blocking_error = blocking_err;
	if (update_problems(b, refusals, n_refusals) < 0)
		log_warn_errno(-ENOMEM, "Failed to report the skipped and refused peers");
	r = first_err;
	b->last_ok = r >= 0;
	b->last_hash = plan.desired_hash;
	plan_done(&plan);
	if (r < 0) {
		/* The kernel may differ from the belief: the next pass is a full one. */
		backend_invalidate(b);
		b->status.reconcile_failures++;
		b->status.last_error = r;
		return r;
	}
	b->status.last_error = 0;
	return (int)MIN(nl_counters_writes(nlh_counters(b->nl)) - writes_before,
			(uint64_t)INT32_MAX);

fail:
	plan_done(&plan);
	b->status.last_blocking_error = r;
	/* These peers were not planned: the caller's next hint would not name them. */
	backend_invalidate(b);
	b->last_ok = false;
	b->status.reconcile_failures++;
	b->status.last_error = r;
	return r;
}
