/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases: equality, upstream's backend-data JSON, MAC parse/format, and the
 * lease_set peer table (10000 names, generation semantics, removal with
 * backward shift, sorted snapshots).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/core/loop.h"
#include "lib/json/lease.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct lease_set *, lease_set_free)

static struct lease make_lease(const char *name, unsigned idx)
{
	struct lease l = {0};
	char s[64];

	l.name = name;
	snprintf(s, sizeof(s), "198.18.%u.%u/24", (idx >> 8) & 0xff, idx & 0xff);
	assert_int_equal(ip_net_parse(s, &l.subnet), 0);
	ip_net_mask(&l.subnet);
	l.has_subnet = true;
	snprintf(s, sizeof(s), "203.0.113.%u", idx & 0xff);
	assert_int_equal(ip_addr_parse(s, &l.public_ip), 0);
	snprintf(l.attrs.backend_type, sizeof(l.attrs.backend_type), "vxlan");
	l.attrs.vni = 1;
	l.attrs.has_vtep_mac = true;
	l.attrs.vtep_mac[0] = 0x0a;
	l.attrs.vtep_mac[4] = (uint8_t)(idx >> 8);
	l.attrs.vtep_mac[5] = (uint8_t)idx;
	return l;
}

static void test_lease_equal(void **state)
{
	struct lease a = make_lease("node-a", 1), b = a;

	assert_true(lease_equal(&a, &b));
	b.attrs.vni = 2;
	assert_false(lease_equal(&a, &b));
	b = a;
	b.attrs.vtep_mac[5] ^= 1;
	assert_false(lease_equal(&a, &b));
	b = a;
	b.public_ip.bytes[3] ^= 1;
	assert_false(lease_equal(&a, &b));
	b = a;
	b.has_subnet = false;
	assert_false(lease_equal(&a, &b));
	b = a;
	b.name = "Node-a";
	assert_false(lease_equal(&a, &b));
	/* Names are compared by content, not by pointer. */
	char other[] = "node-a";
	b = a;
	b.name = other;
	assert_true(lease_equal(&a, &b));
	b = a;
	snprintf(b.attrs.backend_type, sizeof(b.attrs.backend_type), "host-gw");
	assert_false(lease_equal(&a, &b));
	b = a;
	b.has_subnet6 = true;
	assert_int_equal(ip_net_parse("2001:db8:1::/64", &b.subnet6), 0);
	assert_false(lease_equal(&a, &b));
	a.has_subnet6 = true;
	a.subnet6 = b.subnet6;
	assert_true(lease_equal(&a, &b));
	b.attrs.has_vtep_mac6 = true;
	assert_false(lease_equal(&a, &b));
	/* A MAC that is not set does not count, whatever its bytes. */
	b = a;
	a.attrs.has_vtep_mac = b.attrs.has_vtep_mac = false;
	b.attrs.vtep_mac[0] = 0xff;
	assert_true(lease_equal(&a, &b));
}

static void test_mac(void **state)
{
	uint8_t m[6];
	char buf[18];

	assert_int_equal(mac_parse("0a:58:0A:F4:01:ff", m), 0);
	assert_memory_equal(m, ((uint8_t[]){0x0a, 0x58, 0x0a, 0xf4, 0x01, 0xff}), 6);
	assert_string_equal(mac_fmt(m, buf), "0a:58:0a:f4:01:ff");
	assert_int_equal(mac_parse("0a-58-0a-f4-01-fe", m), 0);
	assert_string_equal(mac_fmt(m, buf), "0a:58:0a:f4:01:fe");

	memset(m, 0x11, sizeof(m));
	assert_int_equal(mac_parse("0a:58:0a:f4:01", m), -EINVAL);
	assert_int_equal(mac_parse("0a:58:0a:f4:01:ff:00", m), -EINVAL);
	assert_int_equal(mac_parse("0a:58-0a:f4:01:ff", m), -EINVAL);
	assert_int_equal(mac_parse("0g:58:0a:f4:01:ff", m), -EINVAL);
	assert_int_equal(mac_parse(" a:58:0a:f4:01:ff", m), -EINVAL);
	assert_int_equal(mac_parse("0a5:8:0a:f4:01:ff", m), -EINVAL);
	assert_int_equal(mac_parse("0a.58.0a.f4.01.ff", m), -EINVAL);
	assert_int_equal(mac_parse("", m), -EINVAL);
	assert_int_equal(mac_parse(NULL, m), -EINVAL);
	/* Not clobbered on failure. */
	assert_int_equal(m[0], 0x11);
}

/* wg genkey | wg pubkey, as upstream publishes it. */
#define WG_PUB	"HiAJeSc9ea9nT3LgByq0FRQZ8tB+g4+vqMNhbvH6rQ0="
#define WG_DATA "{\"PublicKey\":\"" WG_PUB "\",\"Port\":51820}"

static int bd_parse(const char *json, uint32_t *vni, bool *has_mac, uint8_t mac[6],
		    struct errmsg *err)
{
	struct lease_backend_data d;
	int r;

	*err = (struct errmsg){0};
	r = lease_backend_data_parse(json, strlen(json), &d, err);
	if (r < 0)
		return r;
	*vni = d.vni;
	*has_mac = d.has_mac;
	memcpy(mac, d.mac, 6);
	return 0;
}

static void test_backend_data_parse(void **state)
{
	uint32_t vni = 99;
	bool has_mac = true;
	uint8_t mac[6];
	struct errmsg err;

	assert_int_equal(bd_parse("{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:01:00\"}", &vni, &has_mac,
				  mac, &err),
			 0);
	assert_int_equal(vni, 1);
	assert_true(has_mac);
	assert_memory_equal(mac, ((uint8_t[]){0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x00}), 6);

	/* host-gw */
	assert_int_equal(bd_parse("null", &vni, &has_mac, mac, &err), 0);
	assert_int_equal(vni, 0);
	assert_false(has_mac);

	/* Case-insensitive keys, unknown keys ignored, absent values are zero. */
	assert_int_equal(bd_parse(" {\"vni\":4096,\"vtepmac\":\"AA:BB:CC:DD:EE:FF\",\"x\":[1]} ",
				  &vni, &has_mac, mac, &err),
			 0);
	assert_int_equal(vni, 4096);
	assert_true(has_mac);
	assert_int_equal(mac[0], 0xaa);
	assert_int_equal(bd_parse("{}", &vni, &has_mac, mac, &err), 0);
	assert_int_equal(vni, 0);
	assert_false(has_mac);
	assert_int_equal(bd_parse("{\"VNI\":7,\"VtepMAC\":null}", &vni, &has_mac, mac, &err), 0);
	assert_int_equal(vni, 7);
	assert_false(has_mac);
	/* wireguard data has no vxlan keys. */
	assert_int_equal(bd_parse("{\"PublicKey\":\"" WG_PUB "\"}", &vni, &has_mac, mac, &err), 0);
	assert_int_equal(vni, 0);
	assert_false(has_mac);
}

static int wg_parse(const char *json, struct lease_backend_data *d, struct errmsg *err)
{
	return lease_backend_data_parse(json, strlen(json), d, err);
}

static void test_backend_data_wireguard(void **state)
{
	struct lease_backend_data d;
	struct lease_attrs a = {.backend_type = "wireguard"};
	struct errmsg err = {0};
	char buf[128];

	assert_int_equal(lease_backend_data_parse(WG_DATA, strlen(WG_DATA), &d, &err), 0);
	assert_true(d.has_key);
	assert_int_equal(d.key[0], 0x1e);
	assert_int_equal(d.port, 51820);
	assert_false(d.has_mac);
	/* Round trip through the attributes of each family. */
	lease_attrs_set_data(&a, true, &d);
	assert_true(a.has_wg_key6);
	assert_false(a.has_wg_key);
	assert_false(lease_attrs_has_data(&a, false));
	assert_true(lease_attrs_has_data(&a, true));
	assert_int_equal(lease_backend_data_render(&a, false, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(lease_backend_data_render(&a, true, buf, sizeof(buf)),
			 (int)strlen(WG_DATA));
	assert_string_equal(buf, WG_DATA);
	/* No Port (before upstream PR #2200): 0, the peer dials our own port. */
	assert_int_equal(wg_parse("{\"publickey\":\"" WG_PUB "\"}", &d, &err), 0);
	assert_int_equal(d.port, 0);

	assert_int_equal(wg_parse("{\"PublicKey\":\"abc=\"}", &d, &err), -EINVAL);
	assert_string_equal(err.text, "PublicKey: not a base64 32-byte key: \"abc=\"");
	assert_int_equal(wg_parse("{\"PublicKey\":1}", &d, &err), -EINVAL);
	assert_string_equal(err.text, "PublicKey: expected a string, got number");
	assert_int_equal(wg_parse("{\"Port\":65536}", &d, &err), -EINVAL);
	assert_string_equal(err.text, "Port: expected a port number, got number");
	assert_int_equal(wg_parse("{\"Port\":\"1\"}", &d, &err), -EINVAL);
	/* host-gw publishes null. */
	strcpy(a.backend_type, "host-gw");
	assert_int_equal(lease_backend_data_render(&a, false, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "null");
}

static void expect_bd_error(const char *json, int code, const char *msg)
{
	uint32_t vni = 5;
	bool has_mac = true;
	uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
	struct errmsg err;

	assert_int_equal(bd_parse(json, &vni, &has_mac, mac, &err), code);
	assert_string_equal(err.text, msg);
	assert_int_equal(vni, 5);
	assert_true(has_mac);
	assert_int_equal(mac[0], 1);
}

static void test_backend_data_errors(void **state)
{
	expect_bd_error("{\"VNI\":\"1\"}", -EINVAL, "VNI: expected a number, got string");
	expect_bd_error("{\"VNI\":-1}", -EINVAL, "VNI: invalid value -1");
	expect_bd_error("{\"VNI\":4294967296}", -EINVAL, "VNI: invalid value 4294967296");
	expect_bd_error("{\"VNI\":1.5}", -EINVAL, "VNI: invalid value 1.5");
	expect_bd_error("{\"VtepMAC\":1}", -EINVAL, "VtepMAC: expected a string, got number");
	expect_bd_error("{\"VtepMAC\":\"\"}", -EINVAL, "VtepMAC: invalid MAC address \"\"");
	expect_bd_error("{\"VtepMAC\":\"0a:58:0a:f4:01\"}", -EINVAL,
			"VtepMAC: invalid MAC address \"0a:58:0a:f4:01\"");
	expect_bd_error("[1]", -EINVAL, "expected an object or null, got array");
	expect_bd_error("\"x\"", -EINVAL, "expected an object or null, got string");
	expect_bd_error("{\"VNI\":1", -EBADMSG, "invalid JSON \"{\\\"VNI\\\":1\"");
	expect_bd_error("", -EBADMSG, "invalid JSON \"\"");
}

static int vxlan_render(uint32_t vni, const uint8_t *mac, char *buf, size_t size)
{
	struct lease_attrs a = {.backend_type = "vxlan", .vni = vni, .has_vtep_mac = mac != NULL};

	if (mac)
		memcpy(a.vtep_mac, mac, 6);
	return lease_backend_data_render(&a, false, buf, size);
}

static void test_backend_data_render(void **state)
{
	uint8_t mac[6] = {0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x00};
	char buf[64];
	uint32_t vni;
	bool has_mac;
	uint8_t back[6];
	struct errmsg err;
	int n;

	n = vxlan_render(1, mac, buf, sizeof(buf));
	assert_string_equal(buf, "{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:01:00\"}");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(bd_parse(buf, &vni, &has_mac, back, &err), 0);
	assert_int_equal(vni, 1);
	assert_memory_equal(back, mac, 6);

	n = vxlan_render(UINT32_MAX, mac, buf, sizeof(buf));
	assert_string_equal(buf, "{\"VNI\":4294967295,\"VtepMAC\":\"0a:58:0a:f4:01:00\"}");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(bd_parse(buf, &vni, &has_mac, back, &err), 0);
	assert_int_equal(vni, UINT32_MAX);

	/* Exactly fits, then one byte short. */
	assert_int_equal(vxlan_render(1, mac, buf, 40), 39);
	assert_int_equal(vxlan_render(1, mac, buf, 39), -ENOSPC);
	assert_int_equal(vxlan_render(1, NULL, buf, sizeof(buf)), -EINVAL);
}

/* A duplicate owns its strings: the source may change or go away. */
static void test_lease_dup(void **state)
{
	_cleanup_(lease_freep) struct lease *d = NULL, *e = NULL;
	char name[] = "node-a";
	struct lease a = make_lease(name, 1), bad = a;

	assert_int_equal(lease_dup(&a, &d), 0);
	assert_ptr_not_equal(d->name, a.name);
	assert_true(lease_equal(d, &a));
	name[0] = 'N';
	assert_string_equal(d->name, "node-a");
	assert_false(lease_equal(d, &a));
	assert_int_equal(d->attrs.vtep_mac[5], 1);

	/* A copy of a copy, then replaced: *dst takes the new one. */
	assert_int_equal(lease_dup(d, &e), 0);
	assert_true(lease_equal(d, e));
	assert_int_equal(lease_replace(&e, &a), 0);
	assert_string_equal(e->name, "Node-a");
	assert_true(lease_equal(e, &a));

	/* An invalid name is refused and leaves *dst alone. */
	bad.name = "";
	assert_int_equal(lease_dup(&bad, &d), -EINVAL);
	assert_int_equal(lease_replace(&e, &bad), -EINVAL);
	assert_string_equal(e->name, "Node-a");
	bad.name = NULL;
	assert_int_equal(lease_replace(&e, &bad), -EINVAL);
	assert_false(lease_name_valid(NULL));
	lease_free(NULL);
	(void)state;
}

/* A share of a copy is that copy, counted; of anything else, a new copy. */
static void test_lease_share(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	_cleanup_(lease_freep) struct lease *d = NULL, *sh = NULL, *sh2 = NULL, *sh3 = NULL;
	struct lease a = make_lease("node-a", 1), copy;

	assert_int_equal(lease_dup(&a, &d), 0);
	assert_int_equal(lease_share(d, &sh), 0);
	assert_ptr_equal(sh, d);
	/* A struct copy of a lease_dup copy is not one: shared by copying. */
	copy = *d;
	assert_int_equal(lease_share(&copy, &sh2), 0);
	assert_ptr_not_equal(sh2, &copy);
	assert_ptr_not_equal(sh2, d);
	assert_true(lease_equal(sh2, d));
	lease_free(TAKE_PTR(d));
	assert_string_equal(sh->name, "node-a"); /* still held by the share */

	/* A lease set's copy outlives its removal and its replacement while shared. */
	assert_int_equal(lease_set_new(&s), 0);
	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_int_equal(lease_share(lease_set_find(s, "node-a"), &sh3), 0);
	assert_ptr_equal(sh3, lease_set_find(s, "node-a"));
	a.attrs.vni = 9;
	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_ptr_not_equal(sh3, lease_set_find(s, "node-a"));
	assert_int_equal(sh3->attrs.vni, 1);
	assert_int_equal(lease_set_remove(s, "node-a"), 1);
	assert_int_equal(sh3->attrs.vni, 1);
	assert_string_equal(sh3->name, "node-a");
	(void)state;
}

static void test_set_basic(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	struct lease a = make_lease("node-a", 1), b = make_lease("node-b", 2);
	const struct lease *found;
	uint64_t gen;
	size_t n;

	assert_int_equal(lease_set_new(&s), 0);
	assert_int_equal(lease_set_size(s), 0);
	gen = lease_set_generation(s);
	assert_null(lease_set_find(s, "node-a"));

	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_int_equal(lease_set_generation(s), gen + 1);
	/* The same lease again is no change. */
	assert_int_equal(lease_set_upsert(s, &a), 0);
	assert_int_equal(lease_set_generation(s), gen + 1);
	assert_int_equal(lease_set_upsert(s, &b), 1);
	assert_int_equal(lease_set_size(s), 2);
	assert_int_equal(lease_set_generation(s), gen + 2);

	found = lease_set_find(s, "node-a");
	assert_non_null(found);
	assert_true(lease_equal(found, &a));
	assert_ptr_not_equal(found, &a);

	/* A real change replaces that lease's copy; the others' pointers stay valid. */
	found = lease_set_find(s, "node-b");
	a.attrs.vni = 2;
	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_int_equal(lease_set_generation(s), gen + 3);
	assert_ptr_equal(lease_set_find(s, "node-b"), found);
	assert_int_equal(lease_set_find(s, "node-a")->attrs.vni, 2);
	assert_ptr_equal(lease_set_sorted(s, &n)[0], lease_set_find(s, "node-a"));
	assert_int_equal(n, 2);

	assert_int_equal(lease_set_remove(s, "node-zzz"), 0);
	assert_int_equal(lease_set_generation(s), gen + 3);
	assert_int_equal(lease_set_remove(s, "node-a"), 1);
	assert_int_equal(lease_set_generation(s), gen + 4);
	assert_int_equal(lease_set_remove(s, "node-a"), 0);
	assert_null(lease_set_find(s, "node-a"));
	assert_non_null(lease_set_find(s, "node-b"));
	assert_int_equal(lease_set_size(s), 1);
}

static void test_set_invalid_name(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	struct lease l = make_lease("x", 1);
	char name[LEASE_NAME_MAX + 1];

	assert_int_equal(lease_set_new(&s), 0);
	l.name = NULL;
	assert_int_equal(lease_set_upsert(s, &l), -EINVAL);
	l.name = "";
	assert_int_equal(lease_set_upsert(s, &l), -EINVAL);
	memset(name, 'a', sizeof(name));
	name[LEASE_NAME_MAX] = '\0'; /* one too long */
	l.name = name;
	assert_int_equal(lease_set_upsert(s, &l), -EINVAL);
	name[LEASE_NAME_MAX - 1] = '\0'; /* the longest name */
	assert_int_equal(lease_set_upsert(s, &l), 1);
	assert_int_equal(strlen(lease_set_find(s, name)->name), LEASE_NAME_MAX - 1);
	assert_int_equal(lease_set_size(s), 1);
	assert_int_equal(lease_set_generation(s), 1);
	assert_int_equal(lease_set_remove(s, ""), 0);
}

#define MANY 10000

static void test_set_many(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	_cleanup_free_ const struct lease **snap = NULL;
	const struct lease *l;
	size_t n, i;
	char name[32];

	assert_int_equal(lease_set_new(&s), 0);
	/* Insert in an order that is not the name order. */
	for (unsigned k = 0; k < MANY; k++) {
		unsigned idx = (k * 7919u) % MANY;
		struct lease x;

		snprintf(name, sizeof(name), "node-%05u", idx);
		x = make_lease(name, idx);
		assert_int_equal(lease_set_upsert(s, &x), 1);
	}
	assert_int_equal(lease_set_size(s), MANY);
	assert_int_equal(lease_set_generation(s), MANY);

	for (unsigned idx = 0; idx < MANY; idx++) {
		struct lease x;

		snprintf(name, sizeof(name), "node-%05u", idx);
		x = make_lease(name, idx);
		l = lease_set_find(s, name);
		assert_non_null(l);
		assert_true(lease_equal(l, &x));
		assert_int_equal(lease_set_upsert(s, &x), 0);
	}
	assert_int_equal(lease_set_generation(s), MANY);

	assert_int_equal(lease_set_snapshot(s, &snap, &n), 0);
	assert_int_equal(n, MANY);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "node-%05zu", i);
		assert_string_equal(snap[i]->name, name);
	}

	/* Remove every odd one: the others must all still be found. */
	for (unsigned idx = 1; idx < MANY; idx += 2) {
		snprintf(name, sizeof(name), "node-%05u", idx);
		assert_int_equal(lease_set_remove(s, name), 1);
	}
	assert_int_equal(lease_set_size(s), MANY / 2);
	assert_int_equal(lease_set_generation(s), MANY + MANY / 2);
	for (unsigned idx = 0; idx < MANY; idx++) {
		snprintf(name, sizeof(name), "node-%05u", idx);
		l = lease_set_find(s, name);
		if (idx % 2)
			assert_null(l);
		else
			assert_non_null(l);
	}

	/* The sorted view follows removals. */
	{
		const struct lease *const *sorted = lease_set_sorted(s, &n);

		assert_int_equal(n, MANY / 2);
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "node-%05zu", 2 * i);
			assert_string_equal(sorted[i]->name, name);
		}
	}
}

/* Insertions in any order, interleaved with removals, keep the sorted view sorted. */
static void test_set_sorted_random_order(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	const struct lease *const *sorted;
	char name[32];
	unsigned x = 12345;
	size_t n;

	assert_int_equal(lease_set_new(&s), 0);
	for (unsigned k = 0; k < 4000; k++) {
		struct lease l;

		x = x * 1103515245 + 12345;
		snprintf(name, sizeof(name), "n-%u", (x >> 8) % 1500);
		l = make_lease(name, k);
		if (k % 3 == 2)
			lease_set_remove(s, name);
		else
			assert_true(lease_set_upsert(s, &l) >= 0);
	}
	sorted = lease_set_sorted(s, &n);
	assert_int_equal(n, lease_set_size(s));
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(lease_set_find(s, sorted[i]->name), sorted[i]);
		if (i > 0)
			assert_true(strcmp(sorted[i - 1]->name, sorted[i]->name) < 0);
	}
}

static void test_set_empty_snapshot(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	_cleanup_free_ const struct lease **snap = NULL;
	size_t n = 7;

	assert_int_equal(lease_set_new(&s), 0);
	assert_int_equal(lease_set_snapshot(s, &snap, &n), 0);
	assert_int_equal(n, 0);
	lease_set_sorted(s, &n);
	assert_int_equal(n, 0);
	lease_set_free(NULL);
}

/* The change journal: names of real changes since a generation, oldest first, bounded. */
static void test_set_journal(void **state)
{
	_cleanup_(lease_set_freep) struct lease_set *s = NULL;
	struct lease a = make_lease("node-a", 1), b = make_lease("node-b", 2);
	const char *names[LEASE_SET_JOURNAL];
	uint64_t g0, g1;
	char name[32];

	assert_int_equal(lease_set_new(&s), 0);
	g0 = lease_set_generation(s);
	assert_int_equal(lease_set_changes_since(s, g0, names, ARRAY_SIZE(names)), 0);
	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_int_equal(lease_set_upsert(s, &b), 1);
	assert_int_equal(lease_set_upsert(s, &a), 0); /* no change, no entry */
	a.public_ip.bytes[3] = 77;
	assert_int_equal(lease_set_upsert(s, &a), 1);
	assert_int_equal(lease_set_remove(s, "node-b"), 1);
	assert_int_equal(lease_set_remove(s, "node-b"), 0);
	assert_int_equal(lease_set_changes_since(s, g0, names, ARRAY_SIZE(names)), 4);
	assert_string_equal(names[0], "node-a");
	assert_string_equal(names[1], "node-b");
	assert_string_equal(names[2], "node-a");
	assert_string_equal(names[3], "node-b");
	g1 = lease_set_generation(s);
	assert_int_equal(lease_set_changes_since(s, g1 - 1, names, ARRAY_SIZE(names)), 1);
	assert_string_equal(names[0], "node-b");
	assert_int_equal(lease_set_changes_since(s, g1, names, ARRAY_SIZE(names)), 0);
	/* Each change has its time, ordered; none for generation 0 or the future. */
	assert_int_not_equal(lease_set_change_usec(s, g0 + 1), 0);
	assert_true(lease_set_change_usec(s, g1) >= lease_set_change_usec(s, g0 + 1));
	assert_true(lease_set_change_usec(s, g1) <= now_monotonic_usec());
	assert_int_equal(lease_set_change_usec(s, 0), 0);
	assert_int_equal(lease_set_change_usec(s, g1 + 1), 0);
	/* Too small a buffer, a generation from the future. */
	assert_int_equal(lease_set_changes_since(s, g0, names, 3), -ENOBUFS);
	assert_int_equal(lease_set_changes_since(s, g1 + 1, names, ARRAY_SIZE(names)), -ERANGE);

	/* Exactly LEASE_SET_JOURNAL changes are still named; one more is not. */
	for (unsigned k = 0; k < LEASE_SET_JOURNAL; k++) {
		struct lease x;
		snprintf(name, sizeof(name), "n%04u", k);
		x = make_lease(name, k + 10);
		assert_int_equal(lease_set_upsert(s, &x), 1);
	}
	assert_int_equal(lease_set_changes_since(s, g1, names, ARRAY_SIZE(names)),
			 LEASE_SET_JOURNAL);
	assert_string_equal(names[0], "n0000");
	assert_string_equal(names[LEASE_SET_JOURNAL - 1], "n0255");
	assert_int_equal(lease_set_remove(s, "n0000"), 1);
	assert_int_equal(lease_set_changes_since(s, g1, names, ARRAY_SIZE(names)), -ERANGE);
	assert_int_equal(lease_set_change_usec(s, g1 + 1), 0); /* overwritten */
	assert_int_not_equal(lease_set_change_usec(s, g1 + 2), 0);
	assert_int_equal(lease_set_changes_since(s, g1 + 1, names, ARRAY_SIZE(names)),
			 LEASE_SET_JOURNAL);
	assert_string_equal(names[LEASE_SET_JOURNAL - 1], "n0000");
	(void)state;
}

/* extension: a JSON string or null, kept as published, rendered back as it is. */
static void test_ext_data(void **state)
{
	struct lease_attrs a = {.backend_type = "extension"};
	struct errmsg err = {{0}};
	char buf[64];

	assert_int_equal(lease_ext_data_check("\"abc\"", 5, &err), 0);
	assert_int_equal(lease_ext_data_check("null", 4, &err), 0);
	assert_int_equal(lease_ext_data_check("{\"VNI\":1}", 9, &err), -EINVAL);
	assert_string_equal(err.text, "expected a string or null, got object");
	assert_true(lease_ext_data_check("\"abc", 4, &err) < 0);
	assert_non_null(strstr(err.text, "invalid JSON"));
	assert_false(lease_attrs_has_data(&a, false));
	assert_int_equal(lease_backend_data_render(&a, false, buf, sizeof(buf)), 4); /* null */
	a.ext_data = "\"k\\\"ey\"";
	assert_true(lease_attrs_has_data(&a, false));
	assert_false(lease_attrs_has_data(&a, true));
	assert_int_equal(lease_backend_data_render(&a, false, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "\"k\\\"ey\"");
	assert_int_equal(lease_backend_data_render(&a, true, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "null");
	assert_int_equal(lease_backend_data_render(&a, false, buf, 4), -ENOSPC);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_equal),
		cmocka_unit_test(test_lease_dup),
		cmocka_unit_test(test_lease_share),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_backend_data_parse),
		cmocka_unit_test(test_backend_data_errors),
		cmocka_unit_test(test_backend_data_render),
		cmocka_unit_test(test_backend_data_wireguard),
		cmocka_unit_test(test_set_basic),
		cmocka_unit_test(test_set_invalid_name),
		cmocka_unit_test(test_set_many),
		cmocka_unit_test(test_set_empty_snapshot),
		cmocka_unit_test(test_set_sorted_random_order),
		cmocka_unit_test(test_set_journal),
		cmocka_unit_test(test_ext_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
