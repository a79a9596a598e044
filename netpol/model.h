/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy engine's cache: only what policy needs of Pods,
 * Namespaces and NetworkPolicies, never whole objects.
 *
 * Strings that repeat across pods are interned and refcounted: label sets
 * (pods of one Deployment share one), named-port lists, node names. A pod
 * costs one allocation (its name inline) plus its slot in the hash table;
 * everything else is shared. Namespaces exist in the model as soon as a pod
 * or a policy names them (labels unknown until the Namespace object is
 * seen), and go away when nothing refers to them.
 *
 * Every object lives in a chained hash table keyed by "<ns>/<name>"
 * (namespaces by name); each namespace lists its pods and its policies so
 * that selectors only look at the namespaces they can match. The model
 * counts changes in `generation` and keeps nothing about nftables.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"
#include "netpol/selector.h"

/* Protocols as IP protocol numbers (what nft's meta l4proto compares). */
#define NP_PROTO_TCP  6
#define NP_PROTO_UDP  17
#define NP_PROTO_SCTP 132

/* An interned, refcounted, sorted label set: kv[2i] key, kv[2i+1] value. */
struct np_labels {
	struct np_labels *next;
	uint32_t refs;
	uint32_t hash;
	uint32_t n;
	const char *kv[];
};

/* A container port with a name (unnamed ones never matter to policy). */
struct np_named_port {
	const char *name; /* interned */
	uint16_t port;
	uint8_t proto;
};

struct np_ports {
	struct np_ports *next;
	uint32_t refs;
	uint32_t hash;
	uint32_t n;
	struct np_named_port p[];
};

enum {
	NP_POD_HAS_IP4 = 1 << 0,
	NP_POD_HAS_IP6 = 1 << 1,
	NP_POD_HOST_NETWORK = 1 << 2,
	NP_POD_FINISHED = 1 << 3, /* phase Succeeded/Failed: its IPs may belong to others now */
};

struct np_ns;

struct np_pod {
	struct np_pod *hnext;
	struct np_pod *ns_prev, *ns_next;
	struct np_ns *ns;
	const struct np_labels *labels;
	const struct np_ports *ports; /* NULL: no named ports */
	const char *node;	      /* interned, NULL when unscheduled */
	struct in_addr ip4;
	struct in6_addr ip6;
	uint8_t flags;
	char name[];
};

struct np_policy;

struct np_ns {
	struct np_ns *hnext;
	const struct np_labels *labels; /* NULL until the Namespace object is seen */
	struct np_pod *pods;		/* list through ns_next */
	struct np_policy *policies;	/* list through ns_next */
	uint32_t n_pods;
	uint32_t n_local_pods; /* on the model's local node (np_model_set_local_node) */
	uint32_t n_policies;
	char name[];
};

/* NetworkPolicyPort */
struct np_port {
	uint8_t proto;
	bool has_port;
	uint16_t port, end_port; /* end_port == port when no endPort */
	char *name;		 /* named port, or NULL */
};

enum np_peer_kind {
	NP_PEER_PODS,	 /* podSelector and/or namespaceSelector */
	NP_PEER_IPBLOCK, /* ipBlock */
};

struct np_peer {
	enum np_peer_kind kind;
	bool has_ns_sel, has_pod_sel;
	struct np_selector ns_sel, pod_sel;
	struct ip_net cidr; /* masked */
	struct ip_net *except;
	size_t n_except;
};

struct np_rule {
	struct np_peer *peers; /* n_peers == 0: every peer */
	size_t n_peers;
	struct np_port *ports; /* n_ports == 0: every port and protocol */
	size_t n_ports;
};

enum np_dir {
	NP_INGRESS,
	NP_EGRESS,
	_NP_DIR_MAX,
};

struct np_policy {
	struct np_policy *hnext;
	struct np_policy *ns_prev, *ns_next;
	struct np_ns *ns;
	char *name;
	/* Not understood: error names the field; selects the pods of pod_sel (all
	 * of the namespace when the selector itself was bad) for both directions
	 * unless policyTypes was read, and allows nothing. */
	char *error;
	bool types[_NP_DIR_MAX]; /* stored spec.policyTypes */
	struct np_selector pod_sel;
	struct np_rule *rules[_NP_DIR_MAX];
	size_t n_rules[_NP_DIR_MAX];
};

struct np_model;

int np_model_new(struct np_model **ret);
void np_model_free(struct np_model *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct np_model *, np_model_free);

/*
 * The node whose pods are "local": namespaces count them, so the compiler
 * looks only at namespaces holding some. Set once, before any pod.
 */
int np_model_set_local_node(struct np_model *m, const char *node);
/* Its interned name (compare pod->node by pointer), NULL before it is set. */
const char *np_model_local_node(const struct np_model *m);

/* Moves on every change that can change what is enforced. */
uint64_t np_model_generation(const struct np_model *m);

/* Interning (the refs belong to the caller until handed to the model). */
const char *np_intern(struct np_model *m, const char *s, size_t len);
void np_unintern(struct np_model *m, const char *s);
/* The interned copy of s if there is one (no reference taken), else NULL. */
const char *np_intern_find(const struct np_model *m, const char *s);
/* kv: n pairs, any order, borrowed; duplicate keys -EINVAL. */
int np_labels_intern(struct np_model *m, const char *const *kv, size_t n,
		     const struct np_labels **ret);
void np_labels_unref(struct np_model *m, const struct np_labels *l);
/* p: borrowed, names interned by the caller (their refs move into the list). */
int np_ports_intern(struct np_model *m, struct np_named_port *p, size_t n,
		    const struct np_ports **ret);
void np_ports_unref(struct np_model *m, const struct np_ports *p);
const char *np_labels_get(const struct np_labels *l, const char *key);

/* A pod as parsed; pointers carry references that np_model_pod_set() takes. */
struct np_pod_in {
	char ns[254], name[254];
	const struct np_labels *labels;
	const struct np_ports *ports;
	const char *node;
	struct in_addr ip4;
	struct in6_addr ip6;
	uint8_t flags;
};
void np_pod_in_done(struct np_model *m, struct np_pod_in *in);

/* Upsert; takes in's references. Returns 1 when something changed, 0 when not. */
int np_model_pod_set(struct np_model *m, struct np_pod_in *in);
int np_model_pod_del(struct np_model *m, const char *ns, const char *name);
const struct np_pod *np_model_pod_get(const struct np_model *m, const char *ns, const char *name);

/* Namespace labels; takes labels' reference. */
int np_model_ns_set(struct np_model *m, const char *name, const struct np_labels *labels);
int np_model_ns_del(struct np_model *m, const char *name);
const struct np_ns *np_model_ns_get(const struct np_model *m, const char *name);

/* Takes ownership of p (allocated by np_policy_parse). */
int np_model_policy_set(struct np_model *m, const char *ns, struct np_policy *p);
int np_model_policy_del(struct np_model *m, const char *ns, const char *name);
const struct np_policy *np_model_policy_get(const struct np_model *m, const char *ns,
					    const char *name);
void np_policy_free(struct np_policy *p);
void np_policy_drop_rules(struct np_policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct np_policy *, np_policy_free);

/* Iteration, in no particular order. */
typedef int (*np_ns_fn)(const struct np_ns *ns, void *userdata);
int np_model_foreach_ns(const struct np_model *m, np_ns_fn fn, void *userdata);
size_t np_model_n_pods(const struct np_model *m);
size_t np_model_n_policies(const struct np_model *m);

/* Heap bytes held by the model (allocations as requested, without malloc's overhead). */
size_t np_model_bytes(const struct np_model *m);

/* The labels a selector sees: the namespace's, or the one a server always sets. */
bool np_selector_match_ns(const struct np_selector *s, const struct np_ns *ns);
bool np_selector_match_pod(const struct np_selector *s, const struct np_pod *p);
