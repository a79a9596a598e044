/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/netlink/netlink.c's pure parts: the one libnl error → errno map
 * and the operation counters. The kernel side is exercised by the netns
 * tests (test/netns/test-vxlan.sh and friends).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/netlink/netlink.h"

static void test_errno_map(void **state)
{
	/* libnl's NLE_* values (netlink/errno.h), written out: the test must not include libnl. */
	assert_int_equal(nl_errno(0), 0);
	assert_int_equal(nl_errno(5), 5);
	assert_int_equal(nl_errno(-4), -EAGAIN);   /* NLE_AGAIN */
	assert_int_equal(nl_errno(-5), -ENOMEM);   /* NLE_NOMEM */
	assert_int_equal(nl_errno(-6), -EEXIST);   /* NLE_EXIST */
	assert_int_equal(nl_errno(-7), -EINVAL);   /* NLE_INVAL */
	assert_int_equal(nl_errno(-12), -ENOENT);  /* NLE_OBJ_NOTFOUND */
	assert_int_equal(nl_errno(-16), -EBADMSG); /* NLE_SEQ_MISMATCH */
	assert_int_equal(nl_errno(-28), -EPERM);   /* NLE_PERM */
	assert_int_equal(nl_errno(-31), -ENODEV);  /* NLE_NODEV */
	assert_int_equal(nl_errno(-33), -EAGAIN);  /* NLE_DUMP_INTR */
	assert_int_equal(nl_errno(-1), -EIO);	   /* NLE_FAILURE */
	assert_int_equal(nl_errno(-1000), -EIO);   /* unknown */
	(void)state;
}

static void test_counters(void **state)
{
	struct nl_counters c = {0};

	assert_string_equal(nl_op_name(NL_OP_DUMP), "dump");
	assert_string_equal(nl_op_name(NL_OP_FDB_DEL), "fdb_del");
	assert_string_equal(nl_op_name(_NL_OP_MAX), "unknown");
	for (unsigned k = 0; k < _NL_OP_MAX; k++)
		assert_true(strlen(nl_op_name(k)) > 0 && strcmp(nl_op_name(k), "unknown") != 0);
	c.ops[NL_OP_DUMP] = 100;
	c.ops[NL_OP_GET] = 7;
	assert_int_equal(nl_counters_writes(&c), 0);
	c.ops[NL_OP_ROUTE_REPLACE] = 3;
	c.ops[NL_OP_LINK_ADD] = 1;
	c.ops[NL_OP_NEIGH_DEL] = 2;
	assert_int_equal(nl_counters_writes(&c), 6);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_map),
		cmocka_unit_test(test_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
