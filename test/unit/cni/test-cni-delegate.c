/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/delegate.c: the delegate configuration built from the
 * plugin configuration and subnet.env, compared byte for byte with golden
 * JSON (keys sorted, as upstream's Go marshalling), upstream's validation
 * messages, and the per-container state files (modes, atomic, GC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cni/delegate.h"
#include "lib/core/fileio.h"

static void env_v4(struct subnet_env *e, bool ipmasq, uint32_t mtu)
{
	*e = (struct subnet_env){.has_mtu = true, .mtu = mtu, .has_ipmasq = true, .ipmasq = ipmasq};
	e->has_network = ip_net_parse("10.1.0.0/16", &e->network) == 0;
	e->has_subnet = ip_net_parse("10.1.17.1/24", &e->subnet) == 0;
}

static void env_v6(struct subnet_env *e)
{
	e->has_ipv6_network = ip_net_parse("2001:db8:42::/56", &e->ipv6_network) == 0;
	e->has_ipv6_subnet = ip_net_parse("2001:db8:42:1::1/64", &e->ipv6_subnet) == 0;
}

/* Builds from conf text and env; returns the printed delegate, or NULL with err filled. */
static char *build(const char *conf_text, const struct subnet_env *e, int expect,
		   struct errmsg *err)
{
	struct cni_conf c;
	_cleanup_cni_json_ struct cni_json *d = NULL;
	struct errmsg perr = {};
	if (cni_conf_parse(conf_text, strlen(conf_text), &c, &perr) < 0)
		fail_msg("conf parse: %s", perr.text);
	int r = cni_delegate_build(&c, e, &d, err);
	cni_conf_done(&c);
	assert_int_equal(r, expect);
	if (r < 0)
		return NULL;
	struct buf b = BUF_INIT;
	assert_int_equal(cni_json_print(d, &b), 0);
	return buf_steal(&b, NULL);
}

static void golden(const char *conf_text, const struct subnet_env *e, const char *expect)
{
	struct errmsg err = {};
	_cleanup_free_ char *got = build(conf_text, e, 0, &err);
	assert_string_equal(got, expect);
}

static void test_ipv4_upstream_golden(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1472);
	/* flannel-io/cni-plugin's unit-test golden, in Go's sorted key order. */
	golden("{\"name\":\"cni-flannel\",\"type\":\"flannel\"}", &e,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"isGateway\":true,"
	       "\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	(void)state;
}

static void test_manifest_conflist(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1450);
	/* What the runtime passes for kube-flannel.yml's conflist. */
	golden("{\"cniVersion\":\"0.3.1\",\"name\":\"cbr0\",\"type\":\"flannel\","
	       "\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true}}",
	       &e,
	       "{\"cniVersion\":\"0.3.1\",\"hairpinMode\":true,\"ipMasq\":false,\"ipam\":{\"ranges\":"
	       "[[{\"subnet\":\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":"
	       "\"host-local\"},\"isDefaultGateway\":true,\"isGateway\":true,\"mtu\":1450,\"name\":"
	       "\"cbr0\",\"type\":\"bridge\"}");
	(void)state;
}

static void test_ipv6_only(void **state)
{
	struct subnet_env e = {.has_mtu = true, .mtu = 1430, .has_ipmasq = true};
	env_v6(&e);
	golden("{\"name\":\"n6\",\"cniVersion\":\"1.0.0\"}", &e,
	       "{\"cniVersion\":\"1.0.0\",\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":"
	       "\"2001:db8:42:1::/64\"}]],\"routes\":[{\"dst\":\"2001:db8:42::/56\"}],\"type\":"
	       "\"host-local\"},\"isGateway\":true,\"mtu\":1430,\"name\":\"n6\",\"type\":\"bridge\"}");
	(void)state;
}

static void test_dual_stack(void **state)
{
	struct subnet_env e;
	env_v4(&e, false, 1450);
	env_v6(&e);
	/* ipMasq: flanneld does not masquerade (IPMASQ=false), so the bridge must. */
	golden("{\"name\":\"dual\",\"cniVersion\":\"1.0.0\"}", &e,
	       "{\"cniVersion\":\"1.0.0\",\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":"
	       "\"10.1.17.0/24\"}],[{\"subnet\":\"2001:db8:42:1::/64\"}]],\"routes\":[{\"dst\":"
	       "\"10.1.0.0/16\"},{\"dst\":\"2001:db8:42::/56\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1450,\"name\":\"dual\",\"type\":\"bridge\"}");
	(void)state;
}

static void test_user_values_win(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1450);
	/* mtu, ipMasq, isGateway, bridge and arbitrary nested values from the user stay. */
	golden("{\"name\":\"n\",\"delegate\":{\"mtu\":1400,\"ipMasq\":true,\"isGateway\":false,"
	       "\"bridge\":\"mynet0\",\"x\":{\"b\":[1.5e3,null,\"\\u00e9\"],\"a\":{}}}}",
	       &e,
	       "{\"bridge\":\"mynet0\",\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":"
	       "\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":false,\"mtu\":1400,\"name\":\"n\",\"type\":\"bridge\",\"x\":{\"a\":{},"
	       "\"b\":[1.5e3,null,\"\xc3\xa9\"]}}");
	(void)state;
}

static void test_other_type(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1450);
	/* isGateway is a bridge option only. */
	golden("{\"name\":\"n\",\"delegate\":{\"type\":\"ipvlan\",\"master\":\"eth0\"}}", &e,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"master\":\"eth0\","
	       "\"mtu\":1450,\"name\":\"n\",\"type\":\"ipvlan\"}");
	(void)state;
}

static void test_user_ipam(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1450);
	/* ipam: type and other keys kept, ranges replaced, user routes first. */
	golden("{\"name\":\"n\",\"ipam\":{\"type\":\"static-ish\",\"dataDir\":\"/x\","
	       "\"ranges\":[[{\"subnet\":\"1.2.3.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.17.254\"}]}}",
	       &e,
	       "{\"ipMasq\":false,\"ipam\":{\"dataDir\":\"/x\",\"ranges\":[[{\"subnet\":"
	       "\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.17.254\"},"
	       "{\"dst\":\"10.1.0.0/16\"}],\"type\":\"static-ish\"},\"isGateway\":true,\"mtu\":1450,"
	       "\"name\":\"n\",\"type\":\"bridge\"}");
	/* ipam without type gets host-local. */
	golden("{\"name\":\"n\",\"ipam\":{\"dataDir\":\"/x\"}}", &e,
	       "{\"ipMasq\":false,\"ipam\":{\"dataDir\":\"/x\",\"ranges\":[[{\"subnet\":"
	       "\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1450,\"name\":\"n\",\"type\":\"bridge\"}");
	(void)state;
}

static void test_runtime_config(void **state)
{
	struct subnet_env e;
	env_v4(&e, true, 1450);
	golden("{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"runtimeConfig\":{\"portMappings\":"
	       "[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]}}",
	       &e,
	       "{\"cniVersion\":\"1.0.0\",\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":"
	       "\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1450,\"name\":\"n\",\"runtimeConfig\":{\"portMappings\":"
	       "[{\"containerPort\":80,\"hostPort\":8080,\"protocol\":\"tcp\"}]},\"type\":\"bridge\"}");
	(void)state;
}

static void build_fails(const char *conf_text, const char *msg)
{
	struct subnet_env e;
	struct errmsg err = {};
	env_v4(&e, true, 1450);
	assert_null(build(conf_text, &e, -EINVAL, &err));
	assert_string_equal(err.text, msg);
}

static void test_rejects(void **state)
{
	build_fails("{\"name\":\"n\",\"delegate\":{\"type\":1}}",
		    "'delegate' dictionary, if present, must have (string) 'type' field");
	build_fails("{\"name\":\"n\",\"delegate\":{\"type\":null}}",
		    "'delegate' dictionary, if present, must have (string) 'type' field");
	build_fails("{\"name\":\"n\",\"delegate\":{\"name\":\"x\"}}",
		    "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
	build_fails("{\"name\":\"n\",\"delegate\":{\"ipam\":{}}}",
		    "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
	build_fails("{\"name\":\"n\",\"ipam\":{\"routes\":{}}}",
		    "failed to assemble Delegate IPAM: ipam.routes: must be an array");
	build_fails("{\"name\":\"n\",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/33\"}]}}",
		    "failed to assemble Delegate IPAM: ipam.routes[0]: \"dst\" must be a CIDR");
	build_fails(
		"{\"name\":\"n\",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":5}]}}",
		"failed to assemble Delegate IPAM: ipam.routes[0]: \"gw\" must be an IP address");
	(void)state;
}

static void test_env_check(void **state)
{
	struct subnet_env e = {};
	struct errmsg err = {};
	assert_int_equal(cni_delegate_check_env(&e, "/run/flannel/subnet.env", &err), -EINVAL);
	assert_string_equal(err.text, "/run/flannel/subnet.env is missing FLANNEL_NETWORK, "
				      "FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, "
				      "FLANNEL_MTU, FLANNEL_IPMASQ");
	env_v4(&e, true, 1450);
	e.has_mtu = false;
	assert_int_equal(cni_delegate_check_env(&e, "f", &err), -EINVAL);
	assert_string_equal(err.text, "f is missing FLANNEL_MTU");
	env_v4(&e, true, 1450);
	assert_int_equal(cni_delegate_check_env(&e, "f", &err), 0);
	(void)state;
}

static void test_state(void **state)
{
	char tmp[] = "/tmp/test-cni-delegate.XXXXXX";
	assert_non_null(mkdtemp(tmp));
	_cleanup_free_ char *dir = NULL, *data = NULL;
	assert_true(asprintf(&dir, "%s/a/flannel", tmp) > 0);
	struct stat st;
	size_t len;

	assert_int_equal(cni_state_load(dir, "ctr1", &data, &len), -ENOENT);
	assert_int_equal(cni_state_save(dir, "ctr1", "{\"type\":\"bridge\"}", 17), 0);
	assert_int_equal(cni_state_save(dir, "ctr2", "{}", 2), 0);
	assert_int_equal(cni_state_save(dir, "ctr3", "{}", 2), 0);
	assert_int_equal(cni_state_save(dir, "../evil", "{}", 2), -EINVAL);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	_cleanup_free_ char *file = NULL;
	assert_true(asprintf(&file, "%s/ctr1", dir) > 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(cni_state_load(dir, "ctr1", &data, &len), 0);
	assert_int_equal(len, 17);
	assert_string_equal(data, "{\"type\":\"bridge\"}");

	/* GC keeps listed containers and files that are not ours. */
	_cleanup_free_ char *foreign = NULL;
	assert_true(asprintf(&foreign, "%s/.tmp-x", dir) > 0);
	assert_int_equal(write_file_atomic(foreign, "x", 1, 0600), 0);
	_cleanup_cni_json_ struct cni_json *keep = NULL;
	const char *k = "[{\"containerID\":\"ctr2\",\"ifname\":\"eth0\"}]";
	assert_int_equal(cni_json_parse(k, strlen(k), &keep, NULL), 0);
	assert_int_equal(cni_state_gc(dir, keep), 2);
	free(data);
	data = NULL;
	assert_int_equal(cni_state_load(dir, "ctr1", &data, &len), -ENOENT);
	assert_int_equal(cni_state_load(dir, "ctr3", &data, &len), -ENOENT);
	assert_int_equal(cni_state_load(dir, "ctr2", &data, &len), 0);
	assert_int_equal(stat(foreign, &st), 0);

	assert_int_equal(cni_state_remove(dir, "ctr2"), 0);
	assert_int_equal(cni_state_remove(dir, "ctr2"), 0); /* twice is fine */
	assert_int_equal(cni_state_gc("/nonexistent/test-cni-delegate", NULL), 0);

	unlink(foreign);
	rmdir(dir);
	_cleanup_free_ char *parent = NULL;
	assert_true(asprintf(&parent, "%s/a", tmp) > 0);
	rmdir(parent);
	assert_int_equal(rmdir(tmp), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_upstream_golden),
		cmocka_unit_test(test_manifest_conflist),
		cmocka_unit_test(test_ipv6_only),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_user_values_win),
		cmocka_unit_test(test_other_type),
		cmocka_unit_test(test_user_ipam),
		cmocka_unit_test(test_runtime_config),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_env_check),
		cmocka_unit_test(test_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
