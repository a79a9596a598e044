/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases and the peer table.
 *
 * Backend data is upstream's per-backend JSON annotation value
 * ({"VNI":1,"VtepMAC":"0a:58:0a:f4:01:00"} for vxlan, null for host-gw).
 * Keys match case-insensitively like Go's encoding/json; other keys (other
 * backends' attributes) are ignored.
 *
 * struct lease_set is an open-addressing hash table (linear probing,
 * backward-shift deletion, so no tombstones) of leases (lease_dup: one
 * allocation each, name included) keyed by node name. It stays O(1) per
 * upsert at the cluster sizes flannel sees (thousands of nodes) and keeps
 * lease pointers stable across upserts of other names (a change of a lease
 * replaces its copy). Beside it, an array of the same pointers is kept sorted by
 * name (binary search + memmove per insert or removal; the API server and
 * etcd list in name order, so an initial list only appends), so the
 * reconciler gets its sorted view of 5000 peers without sorting on every
 * event. The generation counter moves only on a real change, so the daemon
 * can skip a reconcile when a watch event repeats what it knows.
 *
 * The change journal is a ring of the names of the last LEASE_SET_JOURNAL
 * changes, one per generation (strdup'd, replaced as the ring wraps), so
 * that a watch event costs the reconciler one peer, not a comparison of all
 * of them: the consumer remembers the generation it last saw and asks for
 * the names since. Reading never changes the set (the managers hand it out
 * const) and any number of consumers can read it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/base64.h"
#include "lib/core/buf.h"
#include "lib/core/hex.h"
#include "lib/core/loop.h"
#include "lib/core/macro.h"
#include "lib/core/quote.h"
#include "lib/json/json.h"
#include "lib/json/lease.h"

#define BACKEND_DATA_MAX_SIZE  4096
#define BACKEND_DATA_MAX_DEPTH 16
#define LEASE_SET_MIN_CAP      16

static bool net_equal_if(bool has_a, const struct ip_net *a, bool has_b, const struct ip_net *b)
{
	if (has_a != has_b)
		return false;
	return !has_a || ip_net_equal(a, b);
}

static bool attrs_equal(const struct lease_attrs *a, const struct lease_attrs *b)
{
	return strncmp(a->backend_type, b->backend_type, sizeof(a->backend_type)) == 0 &&
	       a->vni == b->vni && a->has_vtep_mac == b->has_vtep_mac &&
	       (!a->has_vtep_mac || memcmp(a->vtep_mac, b->vtep_mac, 6) == 0) &&
	       a->has_vtep_mac6 == b->has_vtep_mac6 &&
	       (!a->has_vtep_mac6 || memcmp(a->vtep_mac6, b->vtep_mac6, 6) == 0) &&
	       a->has_wg_key == b->has_wg_key &&
	       (!a->has_wg_key || memcmp(a->wg_key, b->wg_key, WG_KEY_LEN) == 0) &&
	       a->wg_port == b->wg_port && a->has_wg_key6 == b->has_wg_key6 &&
	       (!a->has_wg_key6 || memcmp(a->wg_key6, b->wg_key6, WG_KEY_LEN) == 0) &&
	       a->wg_port6 == b->wg_port6;
}

/*
 * The string fields of struct lease: lease_dup() copies them after the
 * struct, lease_equal() compares them.
 */
static const size_t string_fields[] = {
	offsetof(struct lease, name),
	offsetof(struct lease, attrs.ext_data),
};

static const char *str_get(const struct lease *l, size_t k)
{
	return *(const char *const *)((const char *)l + string_fields[k]);
}

static void str_set(struct lease *l, size_t k, const char *s)
{
	*(const char **)((char *)l + string_fields[k]) = s;
}

bool lease_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, LEASE_NAME_MAX);
	return len > 0 && len < LEASE_NAME_MAX;
}

int lease_dup(const struct lease *l, struct lease **ret)
{
	size_t len[ARRAY_SIZE(string_fields)], size = sizeof(*l);
	struct lease *c;
	char *p;

	if (!lease_name_valid(l->name))
		return -EINVAL;
	for (size_t k = 0; k < ARRAY_SIZE(string_fields); k++) {
		const char *s = str_get(l, k);

		len[k] = s ? strlen(s) + 1 : 0;
		size += len[k];
	}
	c = malloc(size);
	if (!c)
		return -ENOMEM;
	*c = *l;
	c->self = c;
	c->refs = 1;
	p = (char *)(c + 1);
	for (size_t k = 0; k < ARRAY_SIZE(string_fields); k++) {
		if (!len[k])
			continue;
		memcpy(p, str_get(l, k), len[k]);
		str_set(c, k, p);
		p += len[k];
	}
	*ret = c;
	return 0;
}

int lease_share(const struct lease *l, struct lease **ret)
{
	if (l->self != l)
		return lease_dup(l, ret);
	/* Shared copies are immutable but for this count. */
	((struct lease *)l)->refs++;
	*ret = (struct lease *)l;
	return 0;
}

void lease_free(struct lease *l)
{
	if (l && --l->refs == 0)
		free(l);
}

int lease_replace(struct lease **dst, const struct lease *src)
{
	struct lease *c;
	int r = lease_dup(src, &c);

	if (r < 0)
		return r;
	lease_free(*dst);
	*dst = c;
	return 0;
}

bool lease_equal(const struct lease *a, const struct lease *b)
{
	if (a == b)
		return true;
	for (size_t k = 0; k < ARRAY_SIZE(string_fields); k++) {
		const char *x = str_get(a, k), *y = str_get(b, k);

		if (x != y && (!x || !y || strcmp(x, y) != 0))
			return false;
	}
	return net_equal_if(a->has_subnet, &a->subnet, b->has_subnet, &b->subnet) &&
	       ip_addr_equal(&a->public_ip, &b->public_ip) &&
	       net_equal_if(a->has_subnet6, &a->subnet6, b->has_subnet6, &b->subnet6) &&
	       ip_addr_equal(&a->public_ip6, &b->public_ip6) && attrs_equal(&a->attrs, &b->attrs);
}

int mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	char sep;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != sep))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}

const char *mac_fmt(const uint8_t mac[6], char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static int data_key(const cJSON *item, struct lease_backend_data *d, struct errmsg *err)
{
	_cleanup_free_ char *raw = NULL;
	char q[QUOTE_BUF_SIZE];
	size_t n = 0;
	const char *s;

	if (json_as_str(item, &s) < 0) {
		errmsg_set(err, "PublicKey: expected a string, got %s", json_type_name(item));
		return -EINVAL;
	}
	if (base64_decode(s, strlen(s), BASE64_STRICT, &raw, &n) < 0 || n != WG_KEY_LEN) {
		errmsg_set(err, "PublicKey: not a base64 %d-byte key: %s", WG_KEY_LEN,
			   quote_str(s, q, sizeof(q)));
		return -EINVAL;
	}
	memcpy(d->key, raw, WG_KEY_LEN);
	d->has_key = true;
	return 0;
}

int lease_backend_data_parse(const char *json, size_t len, struct lease_backend_data *ret,
			     struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct lease_backend_data d = {0};
	char q[QUOTE_BUF_SIZE];
	const cJSON *item;
	uint32_t port;
	const char *s;
	int r;

	r = json_parse(json, len, BACKEND_DATA_MAX_SIZE, BACKEND_DATA_MAX_DEPTH, &root);
	if (r == -EMSGSIZE) {
		errmsg_set(err, "larger than %d bytes", BACKEND_DATA_MAX_SIZE);
		return r;
	}
	if (r < 0) {
		errmsg_set(err, "invalid JSON %s", quote_mem(json, len, q, sizeof(q)));
		return r;
	}
	if (cJSON_IsObject(root)) {
		item = json_item_ci(root, "VNI");
		if (item && !cJSON_IsNull(item)) {
			if (!cJSON_IsNumber(item)) {
				errmsg_set(err, "VNI: expected a number, got %s",
					   json_type_name(item));
				return -EINVAL;
			}
			if (json_as_u32(item, &d.vni) < 0) {
				errmsg_set(err, "VNI: invalid value %.15g", item->valuedouble);
				return -EINVAL;
			}
		}
		item = json_item_ci(root, "VtepMAC");
		if (item && !cJSON_IsNull(item)) {
			if (json_as_str(item, &s) < 0) {
				errmsg_set(err, "VtepMAC: expected a string, got %s",
					   json_type_name(item));
				return -EINVAL;
			}
			if (mac_parse(s, d.mac) < 0) {
				errmsg_set(err, "VtepMAC: invalid MAC address %s",
					   quote_str(s, q, sizeof(q)));
				return -EINVAL;
			}
			d.has_mac = true;
		}
		item = json_item_ci(root, "PublicKey");
		if (item && !cJSON_IsNull(item)) {
			r = data_key(item, &d, err);
			if (r < 0)
				return r;
		}
		item = json_item_ci(root, "Port");
		if (item && !cJSON_IsNull(item)) {
			if (!cJSON_IsNumber(item) || json_as_u32(item, &port) < 0 || port > 65535) {
				errmsg_set(err, "Port: expected a port number, got %s",
					   json_type_name(item));
				return -EINVAL;
			}
			d.port = (uint16_t)port;
		}
	} else if (!cJSON_IsNull(root)) {
		errmsg_set(err, "expected an object or null, got %s", json_type_name(root));
		return -EINVAL;
	}
	*ret = d;
	return 0;
}

void lease_attrs_get_data(const struct lease_attrs *a, bool v6, struct lease_backend_data *ret)
{
	*ret = (struct lease_backend_data){
		.vni = a->vni,
		.has_mac = v6 ? a->has_vtep_mac6 : a->has_vtep_mac,
		.has_key = v6 ? a->has_wg_key6 : a->has_wg_key,
		.port = v6 ? a->wg_port6 : a->wg_port,
	};
	memcpy(ret->mac, v6 ? a->vtep_mac6 : a->vtep_mac, 6);
	memcpy(ret->key, v6 ? a->wg_key6 : a->wg_key, WG_KEY_LEN);
}

void lease_attrs_set_data(struct lease_attrs *a, bool v6, const struct lease_backend_data *d)
{
	/* The VNI is one per lease: backend-v6-data's only when there is no other. */
	if (!v6 || !a->vni)
		a->vni = d->vni;
	if (v6) {
		a->has_vtep_mac6 = d->has_mac;
		memcpy(a->vtep_mac6, d->mac, 6);
		a->has_wg_key6 = d->has_key;
		memcpy(a->wg_key6, d->key, WG_KEY_LEN);
		a->wg_port6 = d->port;
	} else {
		a->has_vtep_mac = d->has_mac;
		memcpy(a->vtep_mac, d->mac, 6);
		a->has_wg_key = d->has_key;
		memcpy(a->wg_key, d->key, WG_KEY_LEN);
		a->wg_port = d->port;
	}
}

bool lease_type_has_data(const char *t)
{
	return strcmp(t, "vxlan") == 0 || strcmp(t, "wireguard") == 0;
}

bool lease_attrs_has_data(const struct lease_attrs *a, bool v6)
{
	if (strcmp(a->backend_type, "vxlan") == 0)
		return v6 ? a->has_vtep_mac6 : a->has_vtep_mac;
	if (strcmp(a->backend_type, "wireguard") == 0)
		return v6 ? a->has_wg_key6 : a->has_wg_key;
	if (strcmp(a->backend_type, "extension") == 0)
		return !v6 && a->ext_data;
	return false;
}

int lease_ext_data_check(const char *json, size_t len, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	char q[QUOTE_BUF_SIZE];
	int r;

	r = json_parse(json, len, LEASE_EXT_DATA_MAX, 1, &root);
	if (r == -EMSGSIZE) {
		errmsg_set(err, "larger than %d bytes", LEASE_EXT_DATA_MAX);
		return r;
	}
	if (r < 0) {
		errmsg_set(err, "invalid JSON %s", quote_mem(json, len, q, sizeof(q)));
		return r;
	}
	if (!cJSON_IsString(root) && !cJSON_IsNull(root)) {
		errmsg_set(err, "expected a string or null, got %s", json_type_name(root));
		return -EINVAL;
	}
	return 0;
}

int lease_backend_data_render(const struct lease_attrs *a, bool v6, char *buf, size_t size)
{
	_cleanup_buf_ struct buf key = BUF_INIT;
	char m[18];
	int n;

	if (lease_type_has_data(a->backend_type) && !lease_attrs_has_data(a, v6))
		return -EINVAL;
	if (strcmp(a->backend_type, "vxlan") == 0)
		n = snprintf(buf, size, "{\"VNI\":%u,\"VtepMAC\":\"%s\"}", (unsigned)a->vni,
			     mac_fmt(v6 ? a->vtep_mac6 : a->vtep_mac, m));
	else if (strcmp(a->backend_type, "wireguard") == 0) {
		if (base64_encode(v6 ? a->wg_key6 : a->wg_key, WG_KEY_LEN, &key) < 0)
			return -ENOMEM;
		n = snprintf(buf, size, "{\"PublicKey\":\"%.*s\",\"Port\":%u}", (int)key.len,
			     key.data, (unsigned)(v6 ? a->wg_port6 : a->wg_port));
	} else if (strcmp(a->backend_type, "extension") == 0 && !v6 && a->ext_data)
		n = snprintf(buf, size, "%s", a->ext_data);
	else
		n = snprintf(buf, size, "null");
	if (n < 0)
		return -EIO;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}

struct lease_set {
	struct lease **slots; /* cap entries, NULL when empty */
	size_t cap;	      /* power of two */
	size_t n;
	struct lease **sorted; /* the n leases by name */
	size_t sorted_cap;
	uint64_t generation;
	char *journal[LEASE_SET_JOURNAL]; /* name of generation g at g % LEASE_SET_JOURNAL */
	uint64_t journal_usec[LEASE_SET_JOURNAL]; /* when (CLOCK_MONOTONIC) */
	uint64_t journal_floor;			  /* complete for the generations after this one */
};

/* FNV-1a, 64 bit. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int lease_set_new(struct lease_set **ret)
{
	struct lease_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->slots = calloc(LEASE_SET_MIN_CAP, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -ENOMEM;
	}
	s->cap = LEASE_SET_MIN_CAP;
	*ret = s;
	return 0;
}

void lease_set_free(struct lease_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		lease_free(s->slots[i]);
	free(s->slots);
	free(s->sorted);
	for (size_t k = 0; k < LEASE_SET_JOURNAL; k++)
		free(s->journal[k]);
	free(s);
}

/* A change: the next generation, with its name in the journal. */
static void changed(struct lease_set *s, const char *name)
{
	char **slot;

	s->generation++;
	slot = &s->journal[s->generation % LEASE_SET_JOURNAL];
	s->journal_usec[s->generation % LEASE_SET_JOURNAL] = now_monotonic_usec();
	free(*slot);
	*slot = strdup(name);
	if (!*slot)
		s->journal_floor = s->generation; /* the journal cannot name this one */
}

/* Slot holding name, or the empty slot where it would go. */
static size_t find_slot(struct lease **slots, size_t cap, const char *name)
{
	size_t mask = cap - 1;
	size_t i = name_hash(name) & mask;

	while (slots[i] && strcmp(slots[i]->name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

static int grow(struct lease_set *s)
{
	size_t cap = s->cap * 2;
	struct lease **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			slots[find_slot(slots, cap, s->slots[i]->name)] = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

/* Index of name in s->sorted, or where it would be inserted. */
static size_t sorted_position(const struct lease_set *s, const char *name)
{
	size_t lo = 0, hi = s->n;

	/* Appending in name order is the common case: check the end first. */
	if (hi > 0 && strcmp(s->sorted[hi - 1]->name, name) < 0)
		return hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->sorted[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lease_set_upsert(struct lease_set *s, const struct lease *l)
{
	struct lease *copy;
	size_t i, pos;
	int r;

	if (!lease_name_valid(l->name))
		return -EINVAL;
	i = find_slot(s->slots, s->cap, l->name);
	if (s->slots[i]) {
		if (lease_equal(s->slots[i], l))
			return 0;
		r = lease_dup(l, &copy);
		if (r < 0)
			return r;
		s->sorted[sorted_position(s, l->name)] = copy;
		lease_free(s->slots[i]);
		s->slots[i] = copy;
		changed(s, copy->name);
		return 1;
	}
	/* Keep the load factor at or below 1/2. */
	if ((s->n + 1) * 2 > s->cap) {
		r = grow(s);
		if (r < 0)
			return r;
		i = find_slot(s->slots, s->cap, l->name);
	}
	if (s->n == s->sorted_cap) {
		size_t cap = s->sorted_cap ? s->sorted_cap * 2 : LEASE_SET_MIN_CAP;
		struct lease **sorted = reallocarray(s->sorted, cap, sizeof(*sorted));

		if (!sorted)
			return -ENOMEM;
		s->sorted = sorted;
		s->sorted_cap = cap;
	}
	r = lease_dup(l, &copy);
	if (r < 0)
		return r;
	pos = sorted_position(s, copy->name);
	memmove(&s->sorted[pos + 1], &s->sorted[pos], (s->n - pos) * sizeof(*s->sorted));
	s->sorted[pos] = copy;
	s->slots[i] = copy;
	s->n++;
	changed(s, copy->name);
	return 1;
}

int lease_set_remove(struct lease_set *s, const char *name)
{
	size_t mask = s->cap - 1;
	size_t i, j, pos;

	if (!name || !name[0])
		return 0;
	i = find_slot(s->slots, s->cap, name);
	if (!s->slots[i])
		return 0;
	pos = sorted_position(s, name);
	memmove(&s->sorted[pos], &s->sorted[pos + 1], (s->n - pos - 1) * sizeof(*s->sorted));
	changed(s, s->slots[i]->name);
	lease_free(s->slots[i]);
	s->slots[i] = NULL;
	s->n--;

	/* Backward shift: move later members of the probe run into the hole. */
	for (j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
		size_t home = name_hash(s->slots[j]->name) & mask;

		/* Entry j may move to i if its home is not in the cyclic range (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			s->slots[j] = NULL;
			i = j;
		}
	}
	return 1;
}

const struct lease *lease_set_find(const struct lease_set *s, const char *name)
{
	if (!name)
		return NULL;
	return s->slots[find_slot(s->slots, s->cap, name)];
}

size_t lease_set_size(const struct lease_set *s)
{
	return s->n;
}

uint64_t lease_set_generation(const struct lease_set *s)
{
	return s->generation;
}

const struct lease *const *lease_set_sorted(const struct lease_set *s, size_t *ret_n)
{
	*ret_n = s->n;
	return (const struct lease *const *)s->sorted;
}

int lease_set_snapshot(const struct lease_set *s, const struct lease ***ret, size_t *ret_n)
{
	const struct lease **v = calloc(s->n ? s->n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (s->n)
		memcpy(v, s->sorted, s->n * sizeof(*v));
	*ret = v;
	*ret_n = s->n;
	return 0;
}

int lease_set_changes_since(const struct lease_set *s, uint64_t since, const char **names,
			    size_t cap)
{
	size_t n = 0;

	if (since > s->generation || since < s->journal_floor ||
	    s->generation - since > LEASE_SET_JOURNAL)
		return -ERANGE;
	if (s->generation - since > cap)
		return -ENOBUFS;
	for (uint64_t g = since + 1; g <= s->generation; g++)
		names[n++] = s->journal[g % LEASE_SET_JOURNAL];
	return (int)n;
}

uint64_t lease_set_change_usec(const struct lease_set *s, uint64_t g)
{
	if (g == 0 || g > s->generation || g <= s->journal_floor ||
	    s->generation - g >= LEASE_SET_JOURNAL)
		return 0;
	return s->journal_usec[g % LEASE_SET_JOURNAL];
}
