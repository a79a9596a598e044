/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/conf.c: defaults, accepted shapes, and one clear error
 * per malformed field (-EBADMSG for undecodable JSON, -EINVAL otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cni/conf.h"

static void test_defaults(void **state)
{
	const char *text = "{\"name\":\"cbr0\",\"type\":\"flannel\"}";
	struct cni_conf c;
	struct errmsg err = {};
	assert_int_equal(cni_conf_parse(text, strlen(text), &c, &err), 0);
	assert_string_equal(c.name, "cbr0");
	assert_string_equal(c.type, "flannel");
	assert_string_equal(c.cni_version, "");
	assert_string_equal(c.subnet_file, "/run/flannel/subnet.env");
	assert_string_equal(c.data_dir, "/var/lib/cni/flannel");
	assert_null(c.delegate);
	assert_null(c.ipam);
	assert_null(c.runtime_config);
	assert_null(c.prev_result);
	assert_null(c.valid_attachments);
	assert_int_equal(c.mode, CNI_MODE_DELEGATE);
	cni_conf_done(&c);
	(void)state;
}

static void test_full(void **state)
{
	const char *text =
		"{\"name\":\"n-1.x_y\",\"cniVersion\":\"1.1.0\",\"subnetFile\":\"/s.env\","
		"\"dataDir\":\"/d\",\"delegate\":{\"a\":1},\"ipam\":{},\"runtimeConfig\":null,"
		"\"prevResult\":{\"ips\":[]},\"cni.dev/valid-attachments\":[],\"other\":[1]}";
	struct cni_conf c;
	struct errmsg err = {};
	assert_int_equal(cni_conf_parse(text, strlen(text), &c, &err), 0);
	assert_string_equal(c.cni_version, "1.1.0");
	assert_string_equal(c.subnet_file, "/s.env");
	assert_string_equal(c.data_dir, "/d");
	assert_int_equal(cni_json_size(c.delegate), 1);
	assert_non_null(c.ipam);
	assert_null(c.runtime_config); /* null is absent */
	assert_non_null(c.prev_result);
	assert_non_null(c.valid_attachments);
	assert_int_equal(c.mode, CNI_MODE_DELEGATE);
	cni_conf_done(&c);

	const char *builtin = "{\"name\":\"cbr0\",\"mode\":\"builtin\"}";
	assert_int_equal(cni_conf_parse(builtin, strlen(builtin), &c, &err), 0);
	assert_int_equal(c.mode, CNI_MODE_BUILTIN);
	cni_conf_done(&c);
	(void)state;
}

static void rejects(const char *text, int expect, const char *msg)
{
	struct cni_conf c = {};
	struct errmsg err = {};
	assert_int_equal(cni_conf_parse(text, strlen(text), &c, &err), expect);
	assert_null(c.root);
	if (!strstr(err.text, msg))
		fail_msg("%s: error \"%s\" lacks \"%s\"", text, err.text, msg);
}

static void test_errors(void **state)
{
	rejects("", -EBADMSG, "error parsing network configuration: offset 0");
	rejects("{\"name\":", -EBADMSG, "unexpected end of input");
	rejects("{\"name\":\"a\",\"name\":\"b\"}", -EBADMSG, "duplicate key \"name\"");
	rejects("[]", -EINVAL, "must be a JSON object, not array");
	rejects("{}", -EINVAL, "missing network name");
	rejects("{\"name\":7}", -EINVAL, "name: must be a string");
	rejects("{\"name\":\"a/b\"}", -EINVAL, "invalid characters in network name \"a/b\"");
	rejects("{\"name\":\"-a\"}", -EINVAL, "invalid characters");
	rejects("{\"name\":\"a\\u0000b\"}", -EINVAL, "name: must be a string");
	rejects("{\"name\":\"n\",\"cniVersion\":1}", -EINVAL, "cniVersion: must be a string");
	rejects("{\"name\":\"n\",\"type\":[]}", -EINVAL, "type: must be a string");
	rejects("{\"name\":\"n\",\"subnetFile\":\"\"}", -EINVAL, "subnetFile: must be a non-empty");
	rejects("{\"name\":\"n\",\"dataDir\":false}", -EINVAL, "dataDir: must be a non-empty");
	rejects("{\"name\":\"n\",\"delegate\":[]}", -EINVAL,
		"delegate: must be an object, not array");
	rejects("{\"name\":\"n\",\"ipam\":\"x\"}", -EINVAL, "ipam: must be an object, not string");
	rejects("{\"name\":\"n\",\"runtimeConfig\":1}", -EINVAL,
		"runtimeConfig: must be an object");
	rejects("{\"name\":\"n\",\"prevResult\":true}", -EINVAL, "prevResult: must be an object");
	rejects("{\"name\":\"n\",\"mode\":\"Builtin\"}", -EINVAL,
		"mode: must be \"delegate\" or \"builtin\"");
	rejects("{\"name\":\"n\",\"mode\":true}", -EINVAL, "mode: must be");
	rejects("{\"name\":\"n\",\"cni.dev/valid-attachments\":{}}", -EINVAL,
		"cni.dev/valid-attachments: must be an array");
	(void)state;
}

static void test_ids(void **state)
{
	assert_true(cni_conf_valid_id("a"));
	assert_true(cni_conf_valid_id("0abc-DEF_1.2"));
	assert_false(cni_conf_valid_id(""));
	assert_false(cni_conf_valid_id(".."));
	assert_false(cni_conf_valid_id("_a"));
	assert_false(cni_conf_valid_id("a b"));
	assert_false(cni_conf_valid_id("a/b"));
	assert_false(cni_conf_valid_id(NULL));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
