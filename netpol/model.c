/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's cache of pods, namespaces and policies. See model.h.
 *
 * Five chained hash tables share one small implementation: interned
 * strings, label sets, named-port lists, namespaces, and pods+policies
 * (keyed by namespace object and name). Buckets double when the load
 * reaches 1; chains stay short and pointers stable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpol/model.h"

#define NP_LABELS_MAX 1024
#define NP_PORTS_MAX  1024

struct hnode {
	struct hnode *next;
};

struct htab {
	struct hnode **b;
	size_t cap, n;
};

struct istr {
	struct istr *next;
	uint32_t refs;
	uint32_t hash;
	char s[];
};

struct np_model {
	struct htab strs, labels, ports, nss, pods, policies;
	uint64_t generation;
	size_t bytes;
	const char *local_node; /* interned, a reference held */
};

static uint32_t hash_bytes(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#define HASH_INIT 2166136261u

static uint32_t hash_str(uint32_t h, const char *s)
{
	return hash_bytes(h, s, strlen(s) + 1);
}

static int htab_grow(struct htab *t, uint32_t (*hash)(const struct hnode *))
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct hnode **b = calloc(cap, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct hnode *e = t->b[i], *next;
		for (; e; e = next) {
			size_t j = hash(e) & (cap - 1);
			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(t->b);
	t->b = b;
	t->cap = cap;
	return 0;
}

/* Insert e whose hash is h; -ENOMEM leaves the table as it was (e not inserted). */
static int htab_add(struct htab *t, struct hnode *e, uint32_t h,
		    uint32_t (*hash)(const struct hnode *))
{
	if (t->n >= t->cap) {
		int r = htab_grow(t, hash);
		if (r < 0)
			return r;
	}
	size_t j = h & (t->cap - 1);
	e->next = t->b[j];
	t->b[j] = e;
	t->n++;
	return 0;
}

static void htab_remove(struct htab *t, struct hnode *e, uint32_t h)
{
	struct hnode **pp = &t->b[h & (t->cap - 1)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			return;
		}
}

static struct hnode *htab_bucket(const struct htab *t, uint32_t h)
{
	return t->cap ? t->b[h & (t->cap - 1)] : NULL;
}

/* ---- interned strings ---- */

static uint32_t istr_hash(const struct hnode *n)
{
	return ((const struct istr *)n)->hash;
}

static struct istr *istr_of(const char *s)
{
	return (struct istr *)(s - offsetof(struct istr, s));
}

const char *np_intern(struct np_model *m, const char *s, size_t len)
{
	uint32_t h = hash_bytes(HASH_INIT, s, len);
	struct istr *e;

	for (e = (struct istr *)htab_bucket(&m->strs, h); e; e = e->next)
		if (e->hash == h && strncmp(e->s, s, len) == 0 && e->s[len] == '\0') {
			e->refs++;
			return e->s;
		}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->refs = 1;
	e->hash = h;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	if (htab_add(&m->strs, (struct hnode *)e, h, istr_hash) < 0) {
		free(e);
		return NULL;
	}
	m->bytes += sizeof(*e) + len + 1;
	return e->s;
}

const char *np_intern_find(const struct np_model *m, const char *s)
{
	size_t len = strlen(s);
	uint32_t h = hash_bytes(HASH_INIT, s, len);

	for (struct istr *e = (struct istr *)htab_bucket(&m->strs, h); e; e = e->next)
		if (e->hash == h && strcmp(e->s, s) == 0)
			return e->s;
	return NULL;
}

void np_unintern(struct np_model *m, const char *s)
{
	struct istr *e;

	if (!s)
		return;
	e = istr_of(s);
	if (--e->refs)
		return;
	htab_remove(&m->strs, (struct hnode *)e, e->hash);
	m->bytes -= sizeof(*e) + strlen(e->s) + 1;
	free(e);
}

/* ---- label sets ---- */

static uint32_t labels_hash_node(const struct hnode *n)
{
	return ((const struct np_labels *)n)->hash;
}

struct kvp {
	const char *k, *v;
};

static int cmp_kvp(const void *a, const void *b)
{
	return strcmp(((const struct kvp *)a)->k, ((const struct kvp *)b)->k);
}

static size_t labels_size(uint32_t n)
{
	return sizeof(struct np_labels) + 2 * n * sizeof(const char *);
}

int np_labels_intern(struct np_model *m, const char *const *kv, size_t n,
		     const struct np_labels **ret)
{
	_cleanup_free_ struct kvp *sorted = NULL;
	struct np_labels *l;
	uint32_t h = HASH_INIT;

	if (n > NP_LABELS_MAX)
		return -E2BIG;
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			sorted[i] = (struct kvp){kv[2 * i], kv[2 * i + 1]};
		qsort(sorted, n, sizeof(*sorted), cmp_kvp);
	}
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(sorted[i - 1].k, sorted[i].k) == 0)
			return -EINVAL;
		h = hash_str(hash_str(h, sorted[i].k), sorted[i].v);
	}
	for (l = (struct np_labels *)htab_bucket(&m->labels, h); l; l = l->next) {
		if (l->hash != h || l->n != n)
			continue;
		size_t i = 0;
		for (; i < n; i++)
			if (strcmp(l->kv[2 * i], sorted[i].k) ||
			    strcmp(l->kv[2 * i + 1], sorted[i].v))
				break;
		if (i == n) {
			l->refs++;
			*ret = l;
			return 0;
		}
	}
	l = calloc(1, labels_size(n));
	if (!l)
		return -ENOMEM;
	l->refs = 1;
	l->hash = h;
	for (size_t i = 0; i < n; i++) {
		l->kv[2 * i] = np_intern(m, sorted[i].k, strlen(sorted[i].k));
		l->kv[2 * i + 1] = np_intern(m, sorted[i].v, strlen(sorted[i].v));
		l->n = i + 1;
		if (!l->kv[2 * i] || !l->kv[2 * i + 1]) {
			np_unintern(m, l->kv[2 * i]);
			np_unintern(m, l->kv[2 * i + 1]);
			l->n = i;
			goto oom;
		}
	}
	if (htab_add(&m->labels, (struct hnode *)l, h, labels_hash_node) < 0)
		goto oom;
	m->bytes += labels_size(l->n);
	*ret = l;
	return 0;
oom:
	for (size_t i = 0; i < l->n; i++) {
		np_unintern(m, l->kv[2 * i]);
		np_unintern(m, l->kv[2 * i + 1]);
	}
	free(l);
	return -ENOMEM;
}

void np_labels_unref(struct np_model *m, const struct np_labels *cl)
{
	struct np_labels *l = (struct np_labels *)cl;

	if (!l || --l->refs)
		return;
	htab_remove(&m->labels, (struct hnode *)l, l->hash);
	for (size_t i = 0; i < 2 * l->n; i++)
		np_unintern(m, l->kv[i]);
	m->bytes -= labels_size(l->n);
	free(l);
}

const char *np_labels_get(const struct np_labels *l, const char *key)
{
	size_t lo = 0, hi = l ? l->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->kv[2 * mid], key);
		if (c == 0)
			return l->kv[2 * mid + 1];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- named-port lists ---- */

static uint32_t ports_hash_node(const struct hnode *n)
{
	return ((const struct np_ports *)n)->hash;
}

static int cmp_port(const void *pa, const void *pb)
{
	const struct np_named_port *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

static size_t ports_size(uint32_t n)
{
	return sizeof(struct np_ports) + n * sizeof(struct np_named_port);
}

int np_ports_intern(struct np_model *m, struct np_named_port *p, size_t n,
		    const struct np_ports **ret)
{
	struct np_ports *l;
	uint32_t h = HASH_INIT;

	if (n > NP_PORTS_MAX) {
		for (size_t i = 0; i < n; i++)
			np_unintern(m, p[i].name);
		return -E2BIG;
	}
	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	qsort(p, n, sizeof(*p), cmp_port);
	for (size_t i = 0; i < n; i++) {
		h = hash_str(h, p[i].name);
		h = hash_bytes(h, &p[i].port, sizeof(p[i].port));
		h = hash_bytes(h, &p[i].proto, sizeof(p[i].proto));
	}
	for (l = (struct np_ports *)htab_bucket(&m->ports, h); l; l = l->next) {
		if (l->hash != h || l->n != n)
			continue;
		size_t i = 0;
		for (; i < n; i++)
			if (l->p[i].name != p[i].name || l->p[i].port != p[i].port ||
			    l->p[i].proto != p[i].proto)
				break;
		if (i == n) {
			for (i = 0; i < n; i++)
				np_unintern(m, p[i].name);
			l->refs++;
			*ret = l;
			return 0;
		}
	}
	l = malloc(ports_size(n));
	if (!l) {
		for (size_t i = 0; i < n; i++)
			np_unintern(m, p[i].name);
		return -ENOMEM;
	}
	l->refs = 1;
	l->hash = h;
	l->n = n;
	memcpy(l->p, p, n * sizeof(*p));
	if (htab_add(&m->ports, (struct hnode *)l, h, ports_hash_node) < 0) {
		for (size_t i = 0; i < n; i++)
			np_unintern(m, p[i].name);
		free(l);
		return -ENOMEM;
	}
	m->bytes += ports_size(n);
	*ret = l;
	return 0;
}

void np_ports_unref(struct np_model *m, const struct np_ports *cp)
{
	struct np_ports *l = (struct np_ports *)cp;

	if (!l || --l->refs)
		return;
	htab_remove(&m->ports, (struct hnode *)l, l->hash);
	for (size_t i = 0; i < l->n; i++)
		np_unintern(m, l->p[i].name);
	m->bytes -= ports_size(l->n);
	free(l);
}

void np_pod_in_done(struct np_model *m, struct np_pod_in *in)
{
	np_labels_unref(m, in->labels);
	np_ports_unref(m, in->ports);
	np_unintern(m, in->node);
	in->labels = NULL;
	in->ports = NULL;
	in->node = NULL;
}

/* ---- namespaces ---- */

static uint32_t ns_hash_node(const struct hnode *n)
{
	return hash_str(HASH_INIT, ((const struct np_ns *)n)->name);
}

static struct np_ns *ns_find(const struct np_model *m, const char *name)
{
	uint32_t h = hash_str(HASH_INIT, name);

	for (struct np_ns *ns = (struct np_ns *)htab_bucket(&m->nss, h); ns; ns = ns->hnext)
		if (strcmp(ns->name, name) == 0)
			return ns;
	return NULL;
}

static struct np_ns *ns_get_or_add(struct np_model *m, const char *name)
{
	struct np_ns *ns = ns_find(m, name);
	size_t len = strlen(name);

	if (ns)
		return ns;
	ns = calloc(1, sizeof(*ns) + len + 1);
	if (!ns)
		return NULL;
	memcpy(ns->name, name, len + 1);
	if (htab_add(&m->nss, (struct hnode *)ns, hash_str(HASH_INIT, name), ns_hash_node) < 0) {
		free(ns);
		return NULL;
	}
	m->bytes += sizeof(*ns) + len + 1;
	return ns;
}

/* Drop a namespace nothing refers to any more. */
static void ns_gc(struct np_model *m, struct np_ns *ns)
{
	if (ns->labels || ns->n_pods || ns->n_policies)
		return;
	htab_remove(&m->nss, (struct hnode *)ns, hash_str(HASH_INIT, ns->name));
	m->bytes -= sizeof(*ns) + strlen(ns->name) + 1;
	free(ns);
}

int np_model_ns_set(struct np_model *m, const char *name, const struct np_labels *labels)
{
	struct np_ns *ns = ns_get_or_add(m, name);

	if (!ns) {
		np_labels_unref(m, labels);
		return -ENOMEM;
	}
	if (ns->labels == labels) {
		np_labels_unref(m, labels);
		return 0;
	}
	np_labels_unref(m, ns->labels);
	ns->labels = labels;
	m->generation++;
	return 1;
}

int np_model_ns_del(struct np_model *m, const char *name)
{
	struct np_ns *ns = ns_find(m, name);

	if (!ns || !ns->labels)
		return 0;
	np_labels_unref(m, ns->labels);
	ns->labels = NULL;
	m->generation++;
	ns_gc(m, ns);
	return 1;
}

const struct np_ns *np_model_ns_get(const struct np_model *m, const char *name)
{
	return ns_find(m, name);
}

/* ---- pods ---- */

static uint32_t obj_hash(const struct np_ns *ns, const char *name)
{
	return hash_str(hash_bytes(HASH_INIT, &ns, sizeof(ns)), name);
}

static uint32_t pod_hash_node(const struct hnode *n)
{
	const struct np_pod *p = (const struct np_pod *)n;
	return obj_hash(p->ns, p->name);
}

static struct np_pod *pod_find(const struct np_model *m, const char *nsname, const char *name)
{
	struct np_ns *ns = ns_find(m, nsname);
	uint32_t h;

	if (!ns)
		return NULL;
	h = obj_hash(ns, name);
	for (struct np_pod *p = (struct np_pod *)htab_bucket(&m->pods, h); p; p = p->hnext)
		if (p->ns == ns && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static bool pod_same(const struct np_pod *p, const struct np_pod_in *in)
{
	return p->labels == in->labels && p->ports == in->ports && p->node == in->node &&
	       p->flags == in->flags && memcmp(&p->ip4, &in->ip4, sizeof(p->ip4)) == 0 &&
	       memcmp(&p->ip6, &in->ip6, sizeof(p->ip6)) == 0;
}

int np_model_pod_set(struct np_model *m, struct np_pod_in *in)
{
	struct np_pod *p = pod_find(m, in->ns, in->name);
	struct np_ns *ns;
	size_t len;

	if (p) {
		if (pod_same(p, in)) {
			np_pod_in_done(m, in);
			return 0;
		}
		if (p->node && p->node == m->local_node)
			p->ns->n_local_pods--;
		np_labels_unref(m, p->labels);
		np_ports_unref(m, p->ports);
		np_unintern(m, p->node);
		goto fill;
	}
	ns = ns_get_or_add(m, in->ns);
	if (!ns) {
		np_pod_in_done(m, in);
		return -ENOMEM;
	}
	len = strlen(in->name);
	p = calloc(1, sizeof(*p) + len + 1);
	if (!p) {
		ns_gc(m, ns);
		np_pod_in_done(m, in);
		return -ENOMEM;
	}
	p->ns = ns;
	memcpy(p->name, in->name, len + 1);
	if (htab_add(&m->pods, (struct hnode *)p, obj_hash(ns, p->name), pod_hash_node) < 0) {
		free(p);
		ns_gc(m, ns);
		np_pod_in_done(m, in);
		return -ENOMEM;
	}
	p->ns_next = ns->pods;
	if (ns->pods)
		ns->pods->ns_prev = p;
	ns->pods = p;
	ns->n_pods++;
	m->bytes += sizeof(*p) + len + 1;
fill:
	if (in->node && in->node == m->local_node)
		p->ns->n_local_pods++;
	p->labels = TAKE_PTR(in->labels);
	p->ports = TAKE_PTR(in->ports);
	p->node = TAKE_PTR(in->node);
	p->ip4 = in->ip4;
	p->ip6 = in->ip6;
	p->flags = in->flags;
	m->generation++;
	return 1;
}

int np_model_pod_del(struct np_model *m, const char *nsname, const char *name)
{
	struct np_pod *p = pod_find(m, nsname, name);
	struct np_ns *ns;

	if (!p)
		return 0;
	ns = p->ns;
	htab_remove(&m->pods, (struct hnode *)p, obj_hash(ns, p->name));
	if (p->ns_prev)
		p->ns_prev->ns_next = p->ns_next;
	else
		ns->pods = p->ns_next;
	if (p->ns_next)
		p->ns_next->ns_prev = p->ns_prev;
	ns->n_pods--;
	if (p->node && p->node == m->local_node)
		ns->n_local_pods--;
	np_labels_unref(m, p->labels);
	np_ports_unref(m, p->ports);
	np_unintern(m, p->node);
	m->bytes -= sizeof(*p) + strlen(p->name) + 1;
	free(p);
	ns_gc(m, ns);
	m->generation++;
	return 1;
}

const struct np_pod *np_model_pod_get(const struct np_model *m, const char *ns, const char *name)
{
	return pod_find(m, ns, name);
}

/* ---- policies ---- */

static void peer_done(struct np_peer *p)
{
	np_selector_done(&p->ns_sel);
	np_selector_done(&p->pod_sel);
	free(p->except);
}

static void rule_done(struct np_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++)
		peer_done(&r->peers[i]);
	free(r->peers);
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i].name);
	free(r->ports);
}

void np_policy_drop_rules(struct np_policy *p)
{
	for (int d = 0; d < _NP_DIR_MAX; d++) {
		for (size_t i = 0; i < p->n_rules[d]; i++)
			rule_done(&p->rules[d][i]);
		free(p->rules[d]);
		p->rules[d] = NULL;
		p->n_rules[d] = 0;
	}
}

void np_policy_free(struct np_policy *p)
{
	if (!p)
		return;
	np_policy_drop_rules(p);
	np_selector_done(&p->pod_sel);
	free(p->name);
	free(p->error);
	free(p);
}

static uint32_t policy_hash_node(const struct hnode *n)
{
	const struct np_policy *p = (const struct np_policy *)n;
	return obj_hash(p->ns, p->name);
}

static struct np_policy *policy_find(const struct np_model *m, const char *nsname, const char *name)
{
	struct np_ns *ns = ns_find(m, nsname);
	uint32_t h;

	if (!ns)
		return NULL;
	h = obj_hash(ns, name);
	for (struct np_policy *p = (struct np_policy *)htab_bucket(&m->policies, h); p;
	     p = p->hnext)
		if (p->ns == ns && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void policy_unlink(struct np_model *m, struct np_policy *p)
{
	struct np_ns *ns = p->ns;

	htab_remove(&m->policies, (struct hnode *)p, obj_hash(ns, p->name));
	if (p->ns_prev)
		p->ns_prev->ns_next = p->ns_next;
	else
		ns->policies = p->ns_next;
	if (p->ns_next)
		p->ns_next->ns_prev = p->ns_prev;
	ns->n_policies--;
}

int np_model_policy_set(struct np_model *m, const char *nsname, struct np_policy *p)
{
	struct np_policy *old = policy_find(m, nsname, p->name);
	struct np_ns *ns = old ? old->ns : ns_get_or_add(m, nsname);

	if (!ns) {
		np_policy_free(p);
		return -ENOMEM;
	}
	p->ns = ns;
	if (htab_add(&m->policies, (struct hnode *)p, obj_hash(ns, p->name), policy_hash_node) <
	    0) {
		np_policy_free(p);
		ns_gc(m, ns);
		return -ENOMEM;
	}
	if (old) {
		policy_unlink(m, old);
		np_policy_free(old);
	}
	p->ns_prev = NULL;
	p->ns_next = ns->policies;
	if (ns->policies)
		ns->policies->ns_prev = p;
	ns->policies = p;
	ns->n_policies++;
	m->generation++;
	return 1;
}

int np_model_policy_del(struct np_model *m, const char *nsname, const char *name)
{
	struct np_policy *p = policy_find(m, nsname, name);
	struct np_ns *ns;

	if (!p)
		return 0;
	ns = p->ns;
	policy_unlink(m, p);
	np_policy_free(p);
	ns_gc(m, ns);
	m->generation++;
	return 1;
}

const struct np_policy *np_model_policy_get(const struct np_model *m, const char *ns,
					    const char *name)
{
	return policy_find(m, ns, name);
}

/* ---- the model ---- */

int np_model_new(struct np_model **ret)
{
	struct np_model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

void np_model_free(struct np_model *m)
{
	if (!m)
		return;
	/* Pods and policies first: they hold references to everything else. */
	for (size_t i = 0; i < m->nss.cap; i++) {
		struct np_ns *ns = (struct np_ns *)m->nss.b[i], *next;
		for (; ns; ns = next) {
			next = ns->hnext;
			while (ns->pods) {
				struct np_pod *p = ns->pods;
				ns->pods = p->ns_next;
				np_labels_unref(m, p->labels);
				np_ports_unref(m, p->ports);
				np_unintern(m, p->node);
				free(p);
			}
			while (ns->policies) {
				struct np_policy *p = ns->policies;
				ns->policies = p->ns_next;
				np_policy_free(p);
			}
			np_labels_unref(m, ns->labels);
			free(ns);
		}
	}
	np_unintern(m, m->local_node);
	free(m->nss.b);
	free(m->pods.b);
	free(m->policies.b);
	free(m->labels.b);
	free(m->ports.b);
	free(m->strs.b);
	free(m);
}

int np_model_set_local_node(struct np_model *m, const char *node)
{
	if (m->local_node || m->pods.n)
		return -EBUSY;
	m->local_node = np_intern(m, node, strlen(node));
	return m->local_node ? 0 : -ENOMEM;
}

const char *np_model_local_node(const struct np_model *m)
{
	return m->local_node;
}

uint64_t np_model_generation(const struct np_model *m)
{
	return m->generation;
}

int np_model_foreach_ns(const struct np_model *m, np_ns_fn fn, void *userdata)
{
	for (size_t i = 0; i < m->nss.cap; i++)
		for (struct np_ns *ns = (struct np_ns *)m->nss.b[i]; ns; ns = ns->hnext) {
			int r = fn(ns, userdata);
			if (r)
				return r;
		}
	return 0;
}

size_t np_model_n_pods(const struct np_model *m)
{
	return m->pods.n;
}

size_t np_model_n_policies(const struct np_model *m)
{
	return m->policies.n;
}

size_t np_model_bytes(const struct np_model *m)
{
	return m->bytes + (m->strs.cap + m->labels.cap + m->ports.cap + m->nss.cap + m->pods.cap +
			   m->policies.cap) *
				  sizeof(void *);
}

bool np_selector_match_ns(const struct np_selector *s, const struct np_ns *ns)
{
	if (ns->labels)
		return np_selector_match(s, ns->labels->kv, ns->labels->n);
	/* Not seen yet: it has at least the label the server always sets. */
	const char *kv[2] = {"kubernetes.io/metadata.name", ns->name};
	return np_selector_match(s, kv, 1);
}

bool np_selector_match_pod(const struct np_selector *s, const struct np_pod *p)
{
	return np_selector_match(s, p->labels ? p->labels->kv : NULL, p->labels ? p->labels->n : 0);
}
