/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of backends/vxlan_config.c (Backend options, upstream
 * defaults, case-insensitive keys, errors naming the field) and of the pure
 * device compatibility check of backends/vxlan_dev.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "backends/vxlan_config.h"
#include "backends/vxlan_dev.h"

static int parse(const char *json, struct vxlan_config *c, struct errmsg *err)
{
	memset(err, 0, sizeof(*err));
	return vxlan_config_parse(json, strlen(json), c, err);
}

static void test_defaults(void **state)
{
	struct vxlan_config c;
	struct errmsg err;

	assert_int_equal(parse("{\"Type\":\"vxlan\"}", &c, &err), 0);
	assert_int_equal(c.vni, 1);
	assert_int_equal(c.port, 0);
	assert_int_equal(c.mtu, 0);
	assert_false(c.gbp);
	assert_false(c.direct_routing);
	assert_false(c.learning);
	/* null keeps the default, like Go's encoding/json */
	assert_int_equal(parse("{\"VNI\":null,\"GBP\":null}", &c, &err), 0);
	assert_int_equal(c.vni, 1);
	(void)state;
}

static void test_all_options_case_insensitive(void **state)
{
	struct vxlan_config c;
	struct errmsg err;

	assert_int_equal(parse("{\"type\":\"vxlan\",\"vni\":4096,\"PORT\":4789,\"gbp\":true,"
			       "\"directrouting\":true,\"Mtu\":9001,\"learning\":true,"
			       "\"MacPrefix\":\"0E-2A\",\"Name\":\"x\"}",
			       &c, &err),
			 0);
	assert_int_equal(c.vni, 4096);
	assert_int_equal(c.port, 4789);
	assert_int_equal(c.mtu, 9001);
	assert_true(c.gbp);
	assert_true(c.direct_routing);
	assert_true(c.learning);
	assert_int_equal(parse("{\"VNI\":16777215,\"Port\":65535}", &c, &err), 0);
	assert_int_equal(c.vni, 16777215);
	assert_int_equal(c.port, 65535);
	(void)state;
}

static void test_errors(void **state)
{
	static const struct {
		const char *json;
		int r;
		const char *msg;
	} cases[] = {
		{"{\"VNI\":\"1\"}", -EINVAL, "Backend: VNI: expected an integer, got string"},
		{"{\"VNI\":1.5}", -EINVAL, "Backend: VNI: expected an integer, got 1.5"},
		{"{\"VNI\":0}", -ERANGE, "Backend: VNI: 0 is out of range 1..16777215"},
		{"{\"VNI\":16777216}", -ERANGE,
		 "Backend: VNI: 16777216 is out of range 1..16777215"},
		{"{\"VNI\":-1}", -ERANGE, "Backend: VNI: -1 is out of range 1..16777215"},
		{"{\"Port\":65536}", -ERANGE, "Backend: Port: 65536 is out of range 0..65535"},
		{"{\"Port\":true}", -EINVAL, "Backend: Port: expected an integer, got bool"},
		{"{\"MTU\":100}", -ERANGE, "Backend: MTU: 100 is too small (minimum 118)"},
		{"{\"MTU\":[1]}", -EINVAL, "Backend: MTU: expected an integer, got array"},
		{"{\"GBP\":\"yes\"}", -EINVAL, "Backend: GBP: expected a boolean, got string"},
		{"{\"DirectRouting\":1}", -EINVAL,
		 "Backend: DirectRouting: expected a boolean, got number"},
		{"{\"Learning\":{}}", -EINVAL, "Backend: Learning: expected a boolean, got object"},
		{"[1]", -EINVAL, "Backend: expected an object, got array"},
		{"{\"VNI\":1", -EBADMSG, NULL},
		{"{} x", -EBADMSG, NULL},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct vxlan_config c = {.vni = 77};
		struct errmsg err;

		assert_int_equal(parse(cases[k].json, &c, &err), cases[k].r);
		assert_int_equal(c.vni, 77); /* untouched on failure */
		if (cases[k].msg)
			assert_string_equal(err.text, cases[k].msg);
		else
			assert_non_null(strstr(err.text, "Backend: invalid JSON"));
	}
	(void)state;
}

static void test_dev_name(void **state)
{
	char name[IFNAMSIZ];

	assert_int_equal(vxlan_dev_name(1, false, name), 0);
	assert_string_equal(name, "flannel.1");
	assert_int_equal(vxlan_dev_name(9999999, false, name), 0);
	assert_string_equal(name, "flannel.9999999");
	assert_int_equal(vxlan_dev_name(10000000, false, name), -ENAMETOOLONG);
	assert_int_equal(vxlan_dev_name(4096, true, name), 0);
	assert_string_equal(name, "flannel-v6.4096");
	/* never truncated: flannel-v6.16777215 would become flannel-v6.1677 */
	assert_int_equal(vxlan_dev_name(16777215, true, name), -ENAMETOOLONG);
	(void)state;
}

static void test_dev_compat(void **state)
{
	struct vxlan_dev_spec want = {.vni = 1, .underlay_ifindex = 2};
	struct vxlan_link have = {.vni = 1, .port = 8472, .underlay_ifindex = 2};
	char buf[128];

	assert_int_equal(ip_addr_parse("203.0.113.1", &want.local), 0);
	have.local = want.local;
	assert_null(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)));

	/* MAC and MTU are fixed in place, not reasons to recreate. */
	have.mtu = 1400;
	have.mac[0] = 0xaa;
	assert_null(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)));

	have.vni = 2;
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)), "VNI 2 != 1");
	have.vni = 1;
	have.port = 4789;
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)),
			    "port 4789 != 8472");
	want.port = 4789;
	assert_null(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)));
	have.learning = true;
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)),
			    "learning on != off");
	have.learning = false;
	have.gbp = true;
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)),
			    "GBP on != off");
	have.gbp = false;
	have.underlay_ifindex = 3;
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)),
			    "underlay ifindex 3 != 2");
	have.underlay_ifindex = 0; /* unknown: not compared */
	assert_null(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)));
	assert_int_equal(ip_addr_parse("203.0.113.9", &have.local), 0);
	assert_string_equal(vxlan_dev_incompatible(&have, &want, buf, sizeof(buf)),
			    "local address 203.0.113.9 != 203.0.113.1");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options_case_insensitive),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dev_name),
		cmocka_unit_test(test_dev_compat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
