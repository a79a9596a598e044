/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A lease: one node's subnet(s), public IP(s) and backend attributes. This
 * is all the backends ever see of a node: the subnet managers (kube/, etcd)
 * turn their objects into leases, the backends turn leases into kernel state.
 *
 * Backend data is decoded once, when a lease is made, from upstream's JSON
 * ({"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}), so reconciling is pure.
 *
 * A lease's variable-length fields (its name) are strings held by pointer,
 * so that 5000 of them cost their length, not their maximum. A lease filled
 * in field by field (a parser's result, a lease on the stack) borrows them
 * from its source; lease_dup() makes a lease that owns them, in one
 * allocation with the struct, released by lease_free(). Assigning a struct
 * lease copies the pointers, never the strings: to keep a lease beyond the
 * life of its source, duplicate it. A new string field is declared in
 * struct lease (const char *, NULL when absent) and named in lease.c's
 * table of string fields; lease_dup(), lease_equal() and lease_free() then
 * handle it.
 *
 * struct lease_set is the peer table: a hash by name, with a generation
 * counter bumped on every real change so the daemon can coalesce reconciles,
 * and a bounded journal of the names that changed, so that the reconciler
 * visits only those.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"
#include "lib/core/macro.h"

#define LEASE_NAME_MAX	 254 /* a name's size limit: DNS subdomain, 253 chars + NUL */
#define BACKEND_TYPE_MAX 16
#define WG_KEY_LEN	 32 /* a Curve25519 key */

struct lease_attrs {
	char backend_type[BACKEND_TYPE_MAX]; /* "vxlan", "host-gw" */
	uint32_t vni;			     /* vxlan: 0 when absent */
	bool has_vtep_mac;
	uint8_t vtep_mac[6]; /* from backend-data */
	bool has_vtep_mac6;
	uint8_t vtep_mac6[6]; /* from backend-v6-data */
	/* wireguard: the PublicKey and Port of backend-data / backend-v6-data */
	bool has_wg_key;
	uint8_t wg_key[WG_KEY_LEN];
	uint16_t wg_port; /* 0 when absent: the peer uses our own listen port */
	bool has_wg_key6;
	uint8_t wg_key6[WG_KEY_LEN];
	uint16_t wg_port6;
	/* extension: backend-data as published, a JSON string or null (NULL: none);
	 * one of the lease's strings (lease_dup copies it) */
	const char *ext_data;
};

/* The largest extension backend-data accepted (JSON text). */
#define LEASE_EXT_DATA_MAX (128 * 1024)

struct lease {
	const char *name; /* the node (kube) or subnet key (etcd): 1..253 chars */
	/* lease_dup's bookkeeping, not data: ignored by lease_equal, never set by hand. */
	const struct lease *self; /* itself in a lease_dup copy, else not */
	uint32_t refs;		  /* of a lease_dup copy: lease_share + 1 */
	bool has_subnet;
	bool has_subnet6;
	struct ip_net subnet; /* IPv4 lease, masked */
	struct ip_addr public_ip;
	struct ip_net subnet6;
	struct ip_addr public_ip6;
	struct lease_attrs attrs;
};

/* Is name a lease's name: 1..LEASE_NAME_MAX-1 characters? */
bool lease_name_valid(const char *name);
/*
 * A copy of l that owns its strings: one allocation, freed by lease_free().
 * -EINVAL when l's name is not valid (lease_name_valid), -ENOMEM.
 * A copy is never changed after it is made (only its reference count is).
 */
int lease_dup(const struct lease *l, struct lease **ret);
/*
 * A lease equal to l for as long as the caller wants: l itself, counted,
 * when it is a lease_dup copy (a lease set's: the set may drop it
 * meanwhile), else lease_dup(l). Released by lease_free().
 */
int lease_share(const struct lease *l, struct lease **ret);
/* Drop a lease_dup copy or a reference to it (lease_share); the last one frees it. */
void lease_free(struct lease *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lease *, lease_free)
/* *dst becomes a copy of src (lease_dup), the old one freed; *dst untouched on error. */
int lease_replace(struct lease **dst, const struct lease *src);
/* Every field and string equal (two NULL strings are equal). */
bool lease_equal(const struct lease *a, const struct lease *b);

/* One backend-data value, whatever the backend type. */
struct lease_backend_data {
	uint32_t vni; /* vxlan: 0 when absent */
	bool has_mac;
	uint8_t mac[6];
	bool has_key; /* wireguard */
	uint8_t key[WG_KEY_LEN];
	uint16_t port;
};

/*
 * Upstream's backend-data JSON: vxlan {"VNI":n,"VtepMAC":"mac"}, wireguard
 * {"PublicKey":"<base64>","Port":n}, host-gw "null". Every key is optional;
 * one of another type is ignored.
 */
int lease_backend_data_parse(const char *json, size_t len, struct lease_backend_data *ret,
			     struct errmsg *err);
/* The family's (v6: backend-v6-data) part of attrs as backend data, and back. */
void lease_attrs_get_data(const struct lease_attrs *a, bool v6, struct lease_backend_data *ret);
void lease_attrs_set_data(struct lease_attrs *a, bool v6, const struct lease_backend_data *d);
/* Does a lease of this type publish backend data (vxlan, wireguard)? */
bool lease_type_has_data(const char *backend_type);
/*
 * extension's backend-data (the peer's PreStartupCommand output): a JSON
 * string, or null; up to LEASE_EXT_DATA_MAX bytes. Kept as published
 * (attrs.ext_data) for the extension backend.
 */
int lease_ext_data_check(const char *json, size_t len, struct errmsg *err);
/* Does attrs hold what its type publishes for the family (VtepMAC, PublicKey, extension data)? */
bool lease_attrs_has_data(const struct lease_attrs *a, bool v6);
/*
 * The family's backend-data JSON for attrs' type: "null" for a type without
 * data. Length written (no NUL), -ENOSPC when buf is too small, -EINVAL when
 * the data is missing (lease_attrs_has_data).
 */
int lease_backend_data_render(const struct lease_attrs *a, bool v6, char *buf, size_t size);
/* "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", either case; mac untouched on -EINVAL. */
int mac_parse(const char *s, uint8_t mac[6]);
const char *mac_fmt(const uint8_t mac[6], char buf[static 18]);

struct lease_set;

int lease_set_new(struct lease_set **ret);
void lease_set_free(struct lease_set *s);
/* Insert or replace by name. Returns 1 when something changed, 0 when equal, <0 on error. */
int lease_set_upsert(struct lease_set *s, const struct lease *l);
/* Returns 1 when removed, 0 when absent. */
int lease_set_remove(struct lease_set *s, const char *name);
const struct lease *lease_set_find(const struct lease_set *s, const char *name);
size_t lease_set_size(const struct lease_set *s);
uint64_t lease_set_generation(const struct lease_set *s);
/* The leases sorted by name; borrowed, valid until the next change of the set. */
const struct lease *const *lease_set_sorted(const struct lease_set *s, size_t *ret_n);
/* A copy of that array (the leases themselves stay borrowed); the caller frees it. */
int lease_set_snapshot(const struct lease_set *s, const struct lease ***ret, size_t *ret_n);

/* The change journal remembers this many changes (generations). */
#define LEASE_SET_JOURNAL 256

/*
 * The change journal: the names upserted with a change or removed in the
 * generations after since, up to lease_set_generation(), oldest first (a
 * name may repeat), into names[0..cap). The names are borrowed, valid until
 * the next change of the set. Returns their count; -ERANGE when the journal
 * no longer reaches back to since (more than LEASE_SET_JOURNAL changes, or a
 * generation this set never had): the consumer then compares everything;
 * -ENOBUFS when cap is too small (LEASE_SET_JOURNAL always suffices).
 */
int lease_set_changes_since(const struct lease_set *s, uint64_t since, const char **names,
			    size_t cap);
/*
 * When generation g (> 0) was made (CLOCK_MONOTONIC usec): the moment its
 * watch event or etcd change was applied. 0 when the journal no longer holds it.
 */
uint64_t lease_set_change_usec(const struct lease_set *s, uint64_t g);
