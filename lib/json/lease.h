/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A lease: one node's subnet(s), public IP(s) and backend attributes. This
 * is all the backends ever see of a node: the subnet managers (kube/, etcd)
 * turn their objects into leases, the backends turn leases into kernel state.
 *
 * Backend data is decoded once, when a lease is made, from upstream's JSON
 * ({"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}), so reconciling is pure.
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

#define LEASE_NAME_MAX	 254 /* DNS subdomain: 253 chars + NUL */
#define BACKEND_TYPE_MAX 16

struct lease_attrs {
	char backend_type[BACKEND_TYPE_MAX]; /* "vxlan", "host-gw" */
	uint32_t vni;			     /* vxlan: 0 when absent */
	bool has_vtep_mac;
	uint8_t vtep_mac[6]; /* from backend-data */
	bool has_vtep_mac6;
	uint8_t vtep_mac6[6]; /* from backend-v6-data */
};

struct lease {
	char name[LEASE_NAME_MAX];
	bool has_subnet;
	struct ip_net subnet; /* IPv4 lease, masked */
	struct ip_addr public_ip;
	bool has_subnet6;
	struct ip_net subnet6;
	struct ip_addr public_ip6;
	struct lease_attrs attrs;
};

bool lease_equal(const struct lease *a, const struct lease *b);

/* Upstream's backend-data JSON, for vxlan {"VNI":n,"VtepMAC":"mac"}; host-gw: "null". */
int lease_backend_data_parse(const char *json, size_t len, uint32_t *vni, bool *has_mac,
			     uint8_t mac[6], struct errmsg *err);
/* Length written (no NUL), -ENOSPC when buf is too small, -EINVAL when mac is NULL. */
int lease_backend_data_render(uint32_t vni, const uint8_t mac[6], char *buf, size_t size);
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
