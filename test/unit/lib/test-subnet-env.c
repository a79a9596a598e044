/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subnet.env: golden render text (v4, v6, dual stack), parsing of the
 * golden files and of what upstream's readers accept, round trips, and an
 * error naming its line for every kind of malformed line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/core/subnet_env.h"

static const char golden_v4[] = "FLANNEL_NETWORK=10.244.0.0/16\n"
				"FLANNEL_SUBNET=10.244.1.1/24\n"
				"FLANNEL_MTU=1450\n"
				"FLANNEL_IPMASQ=true\n";

static const char golden_v6[] = "FLANNEL_IPV6_NETWORK=2001:db8:42::/56\n"
				"FLANNEL_IPV6_SUBNET=2001:db8:42::1/64\n"
				"FLANNEL_MTU=1450\n"
				"FLANNEL_IPMASQ=false\n";

static const char golden_dual[] = "FLANNEL_NETWORK=10.42.0.0/16\n"
				  "FLANNEL_SUBNET=10.42.3.1/24\n"
				  "FLANNEL_IPV6_NETWORK=2001:db8:10:200::/56\n"
				  "FLANNEL_IPV6_SUBNET=2001:db8:10:203::1/64\n"
				  "FLANNEL_MTU=8950\n"
				  "FLANNEL_IPMASQ=true\n";

static struct ip_net net(const char *s)
{
	struct ip_net n;

	assert_int_equal(ip_net_parse(s, &n), 0);
	return n;
}

static struct subnet_env env_v4(void)
{
	return (struct subnet_env){
		.has_network = true,
		.network = net("10.244.0.0/16"),
		.has_subnet = true,
		.subnet = net("10.244.1.1/24"),
		.has_mtu = true,
		.mtu = 1450,
		.has_ipmasq = true,
		.ipmasq = true,
	};
}

static struct subnet_env env_v6(void)
{
	return (struct subnet_env){
		.has_ipv6_network = true,
		.ipv6_network = net("2001:db8:42::/56"),
		.has_ipv6_subnet = true,
		.ipv6_subnet = net("2001:db8:42::1/64"),
		.has_mtu = true,
		.mtu = 1450,
		.has_ipmasq = true,
		.ipmasq = false,
	};
}

static struct subnet_env env_dual(void)
{
	return (struct subnet_env){
		.has_network = true,
		.network = net("10.42.0.0/16"),
		.has_subnet = true,
		.subnet = net("10.42.3.1/24"),
		.has_ipv6_network = true,
		.ipv6_network = net("2001:db8:10:200::/56"),
		.has_ipv6_subnet = true,
		.ipv6_subnet = net("2001:db8:10:203::1/64"),
		.has_mtu = true,
		.mtu = 8950,
		.has_ipmasq = true,
		.ipmasq = true,
	};
}

static void assert_env_equal(const struct subnet_env *a, const struct subnet_env *b)
{
	assert_int_equal(a->has_network, b->has_network);
	if (a->has_network)
		assert_true(ip_net_equal(&a->network, &b->network));
	assert_int_equal(a->has_subnet, b->has_subnet);
	if (a->has_subnet)
		assert_true(ip_net_equal(&a->subnet, &b->subnet));
	assert_int_equal(a->has_ipv6_network, b->has_ipv6_network);
	if (a->has_ipv6_network)
		assert_true(ip_net_equal(&a->ipv6_network, &b->ipv6_network));
	assert_int_equal(a->has_ipv6_subnet, b->has_ipv6_subnet);
	if (a->has_ipv6_subnet)
		assert_true(ip_net_equal(&a->ipv6_subnet, &b->ipv6_subnet));
	assert_int_equal(a->has_mtu, b->has_mtu);
	assert_int_equal(a->mtu, b->mtu);
	assert_int_equal(a->has_ipmasq, b->has_ipmasq);
	assert_int_equal(a->ipmasq, b->ipmasq);
}

static void expect_render(const struct subnet_env *e, const char *golden)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	assert_int_equal(subnet_env_render(e, &b), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, golden);
	assert_int_equal(b.len, strlen(golden));
}

static int parse(const char *s, struct subnet_env *e, struct errmsg *err)
{
	*err = (struct errmsg){0};
	return subnet_env_parse(s, strlen(s), e, err);
}

static void test_render_golden(void **state)
{
	struct subnet_env v4 = env_v4(), v6 = env_v6(), dual = env_dual();

	expect_render(&v4, golden_v4);
	expect_render(&v6, golden_v6);
	expect_render(&dual, golden_dual);
}

static void test_parse_golden(void **state)
{
	struct subnet_env e, want;
	struct errmsg err;

	assert_int_equal(parse(golden_v4, &e, &err), 0);
	want = env_v4();
	assert_env_equal(&e, &want);
	assert_int_equal(parse(golden_v6, &e, &err), 0);
	want = env_v6();
	assert_env_equal(&e, &want);
	assert_int_equal(parse(golden_dual, &e, &err), 0);
	want = env_dual();
	assert_env_equal(&e, &want);
}

static void roundtrip(const struct subnet_env *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct subnet_env back;
	struct errmsg err;

	assert_int_equal(subnet_env_render(e, &b), 0);
	assert_int_equal(subnet_env_parse(b.data, b.len, &back, &err), 0);
	assert_env_equal(&back, e);
}

static void test_roundtrip(void **state)
{
	struct subnet_env e = env_v4();

	roundtrip(&e);
	e = env_v6();
	roundtrip(&e);
	e = env_dual();
	roundtrip(&e);
	/* Mixed families and extreme values. */
	e = (struct subnet_env){
		.has_network = true,
		.network = net("0.0.0.0/0"),
		.has_ipv6_subnet = true,
		.ipv6_subnet = net("::1/128"),
		.has_mtu = true,
		.mtu = UINT32_MAX,
		.has_ipmasq = true,
	};
	roundtrip(&e);
}

static void test_parse_lenient_forms(void **state)
{
	struct subnet_env e, want = env_v4();
	struct errmsg err;

	/* CRLF, comments, blank lines, export, spaces around '=', quotes, foreign keys. */
	assert_int_equal(parse("# written by hand\r\n"
			       "\r\n"
			       "export FLANNEL_NETWORK = \"10.244.0.0/16\"\r\n"
			       "  FLANNEL_SUBNET='10.244.1.1/24'  \r\n"
			       "OTHER_VARIABLE=whatever\n"
			       "FLANNEL_MTU=1450\n"
			       "FLANNEL_IPMASQ=true",
			       &e, &err),
			 0);
	assert_env_equal(&e, &want);

	/* Comma lists (upstream's multi-network form): the first valid value is taken. */
	assert_int_equal(parse("FLANNEL_NETWORK=bogus,10.244.7.0/16,10.245.0.0/16\n"
			       "FLANNEL_SUBNET=10.244.1.1/24,10.245.1.1/24\n"
			       "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
			       &e, &err),
			 0);
	/* FLANNEL_NETWORK is read as a network: masked. FLANNEL_SUBNET keeps the gateway. */
	assert_env_equal(&e, &want);

	/* An IPv6 entry in the IPv4 list is skipped. */
	assert_int_equal(
		parse("FLANNEL_NETWORK=2001:db8::/32, 10.244.0.0/16\n"
		      "FLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
		      &e, &err),
		0);
	assert_env_equal(&e, &want);
}

static void expect_error(const char *text, int code, const char *msg)
{
	struct subnet_env e = {.mtu = 4242};
	struct errmsg err;

	assert_int_equal(parse(text, &e, &err), code);
	assert_string_equal(err.text, msg);
	/* Nothing is written on failure. */
	assert_int_equal(e.mtu, 4242);
}

static void test_malformed_lines(void **state)
{
	expect_error("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET\n", -EINVAL,
		     "line 2: expected KEY=VALUE, got \"FLANNEL_SUBNET\"");
	expect_error("\n\n# c\n=1450\n", -EINVAL, "line 4: invalid variable name \"\"");
	expect_error("FLANNEL-MTU=1450\n", -EINVAL,
		     "line 1: invalid variable name \"FLANNEL-MTU\"");
	expect_error("1FLANNEL=1\n", -EINVAL, "line 1: invalid variable name \"1FLANNEL\"");
	expect_error("FLANNEL_NETWORK=10.244.0.0/33\n", -EINVAL,
		     "line 1: FLANNEL_NETWORK: expected an IPv4 CIDR, got \"10.244.0.0/33\"");
	expect_error("FLANNEL_NETWORK=\n", -EINVAL,
		     "line 1: FLANNEL_NETWORK: expected an IPv4 CIDR, got \"\"");
	expect_error("FLANNEL_MTU=1\nFLANNEL_SUBNET=2001:db8::1/64\n", -EINVAL,
		     "line 2: FLANNEL_SUBNET: expected an IPv4 CIDR, got \"2001:db8::1/64\"");
	expect_error("FLANNEL_IPV6_NETWORK=10.0.0.0/8\n", -EINVAL,
		     "line 1: FLANNEL_IPV6_NETWORK: expected an IPv6 CIDR, got \"10.0.0.0/8\"");
	expect_error("FLANNEL_IPV6_SUBNET=x\n", -EINVAL,
		     "line 1: FLANNEL_IPV6_SUBNET: expected an IPv6 CIDR, got \"x\"");
	expect_error("FLANNEL_MTU=-1\n", -EINVAL,
		     "line 1: FLANNEL_MTU: expected an unsigned 32-bit integer, got \"-1\"");
	expect_error(
		"FLANNEL_MTU=4294967296\n", -EINVAL,
		"line 1: FLANNEL_MTU: expected an unsigned 32-bit integer, got \"4294967296\"");
	expect_error("FLANNEL_MTU=14 50\n", -EINVAL,
		     "line 1: FLANNEL_MTU: expected an unsigned 32-bit integer, got \"14 50\"");
	expect_error("FLANNEL_IPMASQ=yes\n", -EINVAL,
		     "line 1: FLANNEL_IPMASQ: expected true or false, got \"yes\"");
	expect_error("FLANNEL_IPMASQ=True\n", -EINVAL,
		     "line 1: FLANNEL_IPMASQ: expected true or false, got \"True\"");
	expect_error("FLANNEL_MTU=1450\nFLANNEL_MTU=1400\n", -EINVAL,
		     "line 2: duplicate FLANNEL_MTU");
	expect_error(
		"FLANNEL_MTU=1450\x1b[2J\n", -EINVAL,
		"line 1: FLANNEL_MTU: expected an unsigned 32-bit integer, got \"1450\\x1b[2J\"");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\0x\n";
	struct subnet_env e;
	struct errmsg err;

	assert_int_equal(subnet_env_parse(text, sizeof(text) - 1, &e, &err), -EINVAL);
	assert_string_equal(err.text, "line 2: contains a NUL byte");
}

static void test_missing_keys(void **state)
{
	expect_error("", -EINVAL,
		     "missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, "
		     "FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ");
	expect_error("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n", -EINVAL,
		     "missing FLANNEL_MTU, FLANNEL_IPMASQ");
	expect_error("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n",
		     -EINVAL, "missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET");
	expect_error("FLANNEL_IPV6_SUBNET=2001:db8::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n",
		     -EINVAL, "missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK");
	expect_error("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
		     "FLANNEL_MTU=1450\n",
		     -EINVAL, "missing FLANNEL_IPMASQ");
}

static void test_size_cap(void **state)
{
	size_t len = SUBNET_ENV_MAX_SIZE + 1;
	_cleanup_free_ char *text = malloc(len);
	struct subnet_env e;
	struct errmsg err;

	assert_non_null(text);
	memset(text, '\n', len);
	assert_int_equal(subnet_env_parse(text, len, &e, &err), -EMSGSIZE);
	assert_string_equal(err.text, "larger than 4096 bytes");
	/* At the cap: only the missing keys are reported. */
	memcpy(text, golden_v4, strlen(golden_v4));
	assert_int_equal(subnet_env_parse(text, len - 1, &e, &err), 0);
}

static void test_write_read(void **state)
{
	char dir[] = "/tmp/test-subnet-env-XXXXXX";
	_cleanup_free_ char *path = NULL, *sub = NULL;
	struct subnet_env e = env_dual(), back;
	struct errmsg err;
	struct stat st;
	mode_t old;
	FILE *f;
	char buf[512];
	size_t n;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&sub, "%s/run/flannel", dir) > 0);
	assert_true(asprintf(&path, "%s/subnet.env", sub) > 0);

	assert_int_equal(subnet_env_read(path, &back, &err), -ENOENT);

	/* The directory is made like os.MkdirAll(dir, 0755): subject to the umask. */
	old = umask(022);
	assert_int_equal(subnet_env_write(path, &e), 0);
	/* The file is 0644 whatever the umask. */
	umask(077);
	assert_int_equal(subnet_env_write(path, &e), 0);
	umask(old);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, golden_dual);

	assert_int_equal(subnet_env_read(path, &back, &err), 0);
	assert_env_equal(&back, &e);

	/* Rewriting replaces the content. */
	e = env_v4();
	assert_int_equal(subnet_env_write(path, &e), 0);
	assert_int_equal(subnet_env_read(path, &back, &err), 0);
	assert_env_equal(&back, &e);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	snprintf(buf, sizeof(buf), "%s/run", dir);
	assert_int_equal(rmdir(buf), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_read_too_big(void **state)
{
	char path[] = "/tmp/test-subnet-env-big-XXXXXX";
	char block[1024];
	struct subnet_env e;
	struct errmsg err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	memset(block, '#', sizeof(block));
	for (int i = 0; i < 5; i++)
		assert_int_equal(write(fd, block, sizeof(block)), sizeof(block));
	close(fd);
	assert_int_equal(subnet_env_read(path, &e, &err), -EFBIG);
	assert_string_equal(err.text, "larger than 4096 bytes");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_golden),	cmocka_unit_test(test_parse_golden),
		cmocka_unit_test(test_roundtrip),	cmocka_unit_test(test_parse_lenient_forms),
		cmocka_unit_test(test_malformed_lines), cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_missing_keys),	cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_write_read),	cmocka_unit_test(test_read_too_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
