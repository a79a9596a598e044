/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contents of our nftables table `inet flannel-netpol`, as data: what
 * the compiler wants, what was last applied, or what the kernel holds. The
 * planner diffs two of them into one `nft -f` transaction.
 *
 *   sets    s<hash>-4 / s<hash>-6   pod addresses matched by one peer
 *                                   selector (namespace selector x pod selector)
 *           n<hash>-4 / n<hash>-6   (pod address . port) of one named port
 *                                   (name, protocol)
 *   chains  p<hash>                 one direction of one policy: "accept" rules
 *           c<hash>                 one local pod's verdict: jump to each policy
 *                                   chain selecting it, then drop
 *   maps    i4 i6 / e4 e6           local pod address -> jump c<hash>, for pods
 *                                   isolated for ingress / egress
 *
 * Chains are content-addressed (their name is a hash of their rules), so a
 * chain that exists is right, pods with the same policies share a chain, and
 * a change never rewrites a chain in place: it adds the new one, points the
 * map at it and deletes the old one, in one transaction. Sets are named
 * after what they select, so their elements are what changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_TABLE     "flannel-netpol"
#define NP_NAME_LEN  24
#define NP_CHAIN_IN  "ingress"
#define NP_CHAIN_OUT "egress"

enum np_set_type {
	NP_SET_ADDR4,	  /* ipv4_addr */
	NP_SET_ADDR6,	  /* ipv6_addr */
	NP_SET_ADDRPORT4, /* ipv4_addr . inet_service */
	NP_SET_ADDRPORT6, /* ipv6_addr . inet_service */
};

/* A set element or a map key: address bytes (4 or 16 used) and port. Compared with memcmp. */
struct np_elem {
	uint8_t addr[16];
	uint16_t port;
	char chain[NP_NAME_LEN]; /* maps only: the verdict's jump target */
};

struct np_set {
	char name[NP_NAME_LEN];
	enum np_set_type type;
	struct np_elem *e; /* sorted by (addr, port), unique */
	size_t n, cap;
};

struct np_chain {
	char name[NP_NAME_LEN];
	char *body; /* rule texts, one per line (the part after "add rule inet T C ") */
};

enum np_map_id {
	NP_MAP_I4,
	NP_MAP_I6,
	NP_MAP_E4,
	NP_MAP_E6,
	_NP_MAP_MAX,
};

struct np_state {
	bool has_table; /* the table and its fixed parts (base chains, maps) exist */
	struct np_set *sets;
	size_t n_sets, cap_sets;
	struct np_chain *chains;
	size_t n_chains, cap_chains;
	struct np_set maps[_NP_MAP_MAX]; /* elements with .chain */
	bool sorted;
};

void np_state_done(struct np_state *s);
const char *np_map_name(enum np_map_id id);
bool np_set_type_v6(enum np_set_type t);

/* Add a set (or return the existing one of that name). NULL on OOM. */
struct np_set *np_state_add_set(struct np_state *s, const char *name, enum np_set_type type);
int np_set_add(struct np_set *set, const struct np_elem *e);
/* Add a chain unless one of that name exists; takes body (malloc'ed). */
int np_state_add_chain(struct np_state *s, const char *name, char *body);
/* Sort and deduplicate everything (sets and chains by name, elements by key). */
void np_state_sort(struct np_state *s);
const struct np_set *np_state_find_set(const struct np_state *s, const char *name);
const struct np_chain *np_state_find_chain(const struct np_state *s, const char *name);

/* 64-bit FNV-1a as 16 hex digits with a prefix: name of a content-addressed object. */
void np_hash_name(char out[static NP_NAME_LEN], char prefix, const char *data, size_t len,
		  const char *suffix);
