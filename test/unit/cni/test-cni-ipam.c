/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/ipam.c: host-local's ranges, allocation order and file
 * format (pure), and the store in a temporary directory: reservations,
 * the last-reserved hint, duplicates, a full range, release, GC, leftovers
 * of a crash, and parallel allocations from several processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cni/ipam.h"
#include "lib/core/fileio.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test-cni-ipam.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct ipam_range range(const char *cidr)
{
	struct ip_net n;
	struct ipam_range r;
	assert_int_equal(ip_net_parse(cidr, &n), 0);
	assert_int_equal(ipam_range_init(&n, &r), 0);
	return r;
}

static const char *fmt(const struct ip_addr *a)
{
	static char text[IP_ADDR_STRLEN];
	return ip_addr_fmt(a, text);
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;
	assert_int_equal(ip_addr_parse(s, &a), 0);
	return a;
}

static void test_range(void **state)
{
	struct ipam_range r = range("198.18.5.1/24");
	assert_string_equal(fmt(&r.start), "198.18.5.1");
	assert_string_equal(fmt(&r.gateway), "198.18.5.1");
	assert_string_equal(fmt(&r.end), "198.18.5.254");
	r = range("2001:db8:42:5::/64");
	assert_string_equal(fmt(&r.start), "2001:db8:42:5::1");
	assert_string_equal(fmt(&r.end), "2001:db8:42:5:ffff:ffff:ffff:ffff");
	struct ip_net n;
	struct ipam_range ignored;
	assert_int_equal(ip_net_parse("198.18.5.0/31", &n), 0);
	assert_int_equal(ipam_range_init(&n, &ignored), -EINVAL);
	assert_int_equal(ip_net_parse("2001:db8::/127", &n), 0);
	assert_int_equal(ipam_range_init(&n, &ignored), -EINVAL);
	r = range("198.18.5.0/24");
	struct ip_addr a = addr("198.18.5.255");
	assert_false(ipam_range_contains(&r, &a));
	a = addr("2001:db8::1");
	assert_false(ipam_range_contains(&r, &a));
}

static void test_order(void **state)
{
	struct ipam_range r = range("198.18.5.0/24");
	struct ipam_iter it;
	struct ip_addr a, last;
	unsigned n = 0;

	/* No hint: from the start, the gateway skipped, every address once. */
	ipam_iter_init(&it, &r, NULL);
	assert_true(ipam_iter_next(&it, &a));
	assert_string_equal(fmt(&a), "198.18.5.2");
	for (n = 1; ipam_iter_next(&it, &a); n++)
		assert_string_not_equal(fmt(&a), "198.18.5.1");
	assert_int_equal(n, 253);
	assert_string_equal(fmt(&a), "198.18.5.254");

	/* After the last reserved one, wrapping around, ending with it. */
	last = addr("198.18.5.200");
	ipam_iter_init(&it, &r, &last);
	assert_true(ipam_iter_next(&it, &a));
	assert_string_equal(fmt(&a), "198.18.5.201");
	for (n = 1; ipam_iter_next(&it, &a); n++)
		if (n == 54)
			assert_string_equal(fmt(&a), "198.18.5.2");
	assert_int_equal(n, 253);
	assert_string_equal(fmt(&a), "198.18.5.200");

	/* At the end: next is the start (the gateway skipped). */
	last = addr("198.18.5.254");
	ipam_iter_init(&it, &r, &last);
	assert_true(ipam_iter_next(&it, &a));
	assert_string_equal(fmt(&a), "198.18.5.2");

	/* A hint outside the range (another subnet before a node's re-lease) is ignored. */
	last = addr("198.18.9.7");
	ipam_iter_init(&it, &r, &last);
	assert_true(ipam_iter_next(&it, &a));
	assert_string_equal(fmt(&a), "198.18.5.2");
}

static void test_entry(void **state)
{
	struct ipam_entry e;
	char buf[64];
	assert_int_equal(ipam_entry_parse("ctr1\r\neth0", 10, &e), 0);
	assert_string_equal(e.id, "ctr1");
	assert_string_equal(e.ifname, "eth0");
	assert_true(ipam_entry_matches(&e, "ctr1", "eth0"));
	assert_false(ipam_entry_matches(&e, "ctr1", "net1"));
	assert_false(ipam_entry_matches(&e, "ctr2", "eth0"));
	/* Whitespace around it, as host-local trims. */
	assert_int_equal(ipam_entry_parse(" ctr1\r\neth0\n", 12, &e), 0);
	assert_string_equal(e.ifname, "eth0");
	/* Legacy: the container ID alone matches any interface. */
	assert_int_equal(ipam_entry_parse("ctr1\n", 5, &e), 0);
	assert_string_equal(e.ifname, "");
	assert_true(ipam_entry_matches(&e, "ctr1", "net1"));

	static const char *const bad[] = {"",
					  "\r\n",
					  "ctr1\r\n x",
					  "ctr1\r\neth/0",
					  "c tr\r\neth0",
					  "-ctr\r\neth0",
					  "ctr1\r\nsixteen-chars-xx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ipam_entry_parse(bad[i], strlen(bad[i]), &e), -EINVAL);
	assert_int_equal(ipam_entry_parse("ctr\0\r\neth0", 10, &e), -EINVAL);

	assert_int_equal(ipam_entry_format("ctr1", "eth0", buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "ctr1\r\neth0", 10);
	assert_int_equal(ipam_entry_format("ctr1", "eth0", buf, 10), -ENAMETOOLONG);

	struct ip_addr a;
	assert_int_equal(ipam_last_parse("198.18.5.7\n", 11, &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.7");
	assert_int_equal(ipam_last_parse("", 0, &a), -EINVAL);
	assert_int_equal(ipam_last_parse("198.18.5.7 x", 12, &a), -EINVAL);
}

static char *read_store(const char *name)
{
	_cleanup_free_ char *path = NULL;
	char *data = NULL;
	size_t len;
	assert_true(asprintf(&path, "%s/cbr0/%s", dir, name) > 0);
	if (read_file_bounded(path, 4096, &data, &len) < 0)
		return NULL;
	return data;
}

static void put_store(const char *name, const char *text)
{
	_cleanup_free_ char *path = NULL;
	assert_true(asprintf(&path, "%s/cbr0/%s", dir, name) > 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void test_store(void **state)
{
	struct ipam_range r = range("198.18.5.0/24");
	struct ip_addr a;
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	assert_int_equal(ipam_store_open(dir, "cbr0", &s), 0);

	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr1", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.2");
	_cleanup_free_ char *content = read_store("198.18.5.2");
	assert_string_equal(content, "ctr1\r\neth0");
	_cleanup_free_ char *last = read_store("last_reserved_ip.0");
	assert_string_equal(last, "198.18.5.2");
	struct stat st;
	_cleanup_free_ char *path = NULL;
	assert_true(asprintf(&path, "%s/cbr0/198.18.5.2", dir) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* Duplicate allocation refused, as host-local does. */
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr1", "eth0", &a), -EEXIST);
	/* Another interface of the same container is another attachment. */
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr1", "net1", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.3");

	/* host-local's reservation of .4 (another mode wrote it) is skipped. */
	put_store("198.18.5.4", "ctr-hl\r\neth0");
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr2", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.5");
	assert_int_equal(ipam_find(&s, "ctr-hl", "eth0", &r, &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.4");
	assert_int_equal(ipam_find(&s, "ctr9", "eth0", &r, &a), -ENOENT);

	/* Release: the next allocation still goes on after the last reserved. */
	assert_int_equal(ipam_release(&s, "ctr1", "eth0"), 1);
	assert_int_equal(ipam_release(&s, "ctr1", "eth0"), 0);
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr3", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.6");

	/* A crash's temporary file goes at the next change; a garbled hint is ignored. */
	put_store(".flannel-tmp-99999", "ctr9\r\neth0");
	put_store("last_reserved_ip.0", "garbage");
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr4", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.2");
	_cleanup_free_ char *tmp = read_store(".flannel-tmp-99999");
	assert_null(tmp);

	/* The hint is rewritten in place: a shorter address leaves nothing of a longer one. */
	put_store("last_reserved_ip.0", "198.18.5.199");
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr5", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.200");
	put_store("last_reserved_ip.0", "198.18.5.254");
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr6", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.7"); /* wrapped: .2-.6 are taken */
	_cleanup_free_ char *hint = read_store("last_reserved_ip.0");
	assert_string_equal(hint, "198.18.5.7");
	_cleanup_free_ char *hint_path = NULL;
	assert_true(asprintf(&hint_path, "%s/cbr0/last_reserved_ip.0", dir) > 0);
	assert_int_equal(stat(hint_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_full(void **state)
{
	struct ipam_range r = range("198.18.5.0/30"); /* .1 gateway, .2 only */
	struct ip_addr a;
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	assert_int_equal(ipam_store_open(dir, "cbr0", &s), 0);
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr1", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "198.18.5.2");
	assert_int_equal(ipam_allocate(&s, 0, &r, "ctr2", "eth0", &a), -ENOSPC);
	/* Dual stack: the IPv6 set has its own hint file. */
	struct ipam_range r6 = range("2001:db8:42:5::/64");
	assert_int_equal(ipam_allocate(&s, 1, &r6, "ctr1", "eth0", &a), 0);
	assert_string_equal(fmt(&a), "2001:db8:42:5::2");
	_cleanup_free_ char *last = read_store("last_reserved_ip.1");
	assert_string_equal(last, "2001:db8:42:5::2");
}

static bool keep_live(const struct ipam_entry *e, void *userdata)
{
	return strcmp(e->id, "live") == 0;
}

static void count_gone(const struct ipam_entry *e, void *userdata)
{
	(*(int *)userdata)++;
	assert_string_equal(e->id, "stale");
}

static void test_gc(void **state)
{
	struct ipam_range r = range("198.18.5.0/24");
	struct ip_addr a;
	int gone = 0;
	_cleanup_ipam_store_ struct ipam_store s = IPAM_STORE_INIT;
	assert_int_equal(ipam_store_open(dir, "cbr0", &s), 0);
	assert_int_equal(ipam_allocate(&s, 0, &r, "live", "eth0", &a), 0);
	assert_int_equal(ipam_allocate(&s, 0, &r, "stale", "eth0", &a), 0);
	/* An empty reservation (host-local crashed while writing it) is stale too. */
	put_store("198.18.5.9", "");
	assert_int_equal(ipam_gc(&s, keep_live, count_gone, &gone), 2);
	assert_int_equal(gone, 1);
	_cleanup_free_ char *live = read_store("198.18.5.2");
	assert_non_null(live);
	_cleanup_free_ char *stale = read_store("198.18.5.3");
	assert_null(stale);
	_cleanup_free_ char *lock = read_store("lock");
	assert_non_null(lock);
}

static void test_parallel(void **state)
{
	struct ipam_range r = range("198.18.5.0/24");
	enum { N = 16 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char id[16];
			struct ip_addr a;
			struct ipam_store s = IPAM_STORE_INIT;
			snprintf(id, sizeof(id), "ctr%d", i);
			int k = ipam_store_open(dir, "cbr0", &s);
			if (k >= 0)
				k = ipam_allocate(&s, 0, &r, id, "eth0", &a);
			ipam_store_close(&s);
			_exit(k < 0 ? 1 : 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* N distinct reservations, .2 .. .N+1, each naming its own container once. */
	bool seen[N] = {};
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "198.18.5.%d", i + 2);
		_cleanup_free_ char *content = read_store(name);
		assert_non_null(content);
		int k;
		assert_int_equal(sscanf(content, "ctr%d", &k), 1);
		assert_true(k >= 0 && k < N && !seen[k]);
		seen[k] = true;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_entry),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
