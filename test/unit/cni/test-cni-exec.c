/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/exec.c with small shell-script "plugins" in a temporary
 * CNI_PATH: lookup, stdin/stdout plumbing, CNI_COMMAND override, exit
 * status, a delegate that never reads stdin, the output cap and the timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cni/exec.h"
#include "lib/core/fileio.h"
#include "lib/core/macro.h"

static char dir[64];
static char path[160]; /* CNI_PATH: a missing directory, then ours */

static void plugin(const char *name, const char *script)
{
	_cleanup_free_ char *p = NULL, *text = NULL;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	assert_true(asprintf(&text, "#!/bin/sh\n%s\n", script) > 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0755), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test-cni-exec.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "/nonexistent/test-cni-exec::%s", dir);
	plugin("echo", "echo \"$CNI_COMMAND $CNI_IFNAME\"; cat");
	plugin("fail", "echo '{\"code\":7,\"msg\":\"no\"}'; exit 3");
	plugin("deaf", "echo early");
	plugin("flood", "yes 0123456789abcdef");
	plugin("slow", "exec sleep 30");
	_cleanup_free_ char *noexec = NULL;
	assert_true(asprintf(&noexec, "%s/noexec", dir) > 0);
	assert_int_equal(write_file_atomic(noexec, "#!/bin/sh\n", 10, 0644), 0);
	return 0;
}

static int teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_find(void **state)
{
	_cleanup_free_ char *p = NULL;
	assert_int_equal(cni_exec_find(path, "echo", &p), 0);
	assert_true(strncmp(p, dir, strlen(dir)) == 0);
	assert_int_equal(cni_exec_find(path, "missing", &p), -ENOENT);
	assert_int_equal(cni_exec_find(path, "noexec", &p), -ENOENT);
	assert_int_equal(cni_exec_find(path, "../bin/sh", &p), -EINVAL);
	assert_int_equal(cni_exec_find(path, "", &p), -EINVAL);
	assert_int_equal(cni_exec_find(NULL, "echo", &p), -ENOENT);
	(void)state;
}

static void test_run(void **state)
{
	char *env[] = {"CNI_COMMAND=ADD", "CNI_IFNAME=eth0", "PATH=/usr/bin:/bin", NULL};
	struct cni_exec_req req = {.cni_path = path, .type = "echo", .command = "DEL", .env = env};
	struct cni_exec_result res = {};

	/* A large stdin goes through while the output is read concurrently. */
	size_t big = 3 * 100000;
	_cleanup_free_ char *in = malloc(big);
	assert_non_null(in);
	for (size_t i = 0; i < big; i++)
		in[i] = (char)('a' + i % 26);
	req.config = in;
	req.config_len = big;
	assert_int_equal(cni_exec(&req, &res), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.out_len, strlen("DEL eth0\n") + big);
	assert_true(strncmp(res.out, "DEL eth0\n", 9) == 0);
	assert_memory_equal(res.out + 9, in, big);
	cni_exec_result_done(&res);

	req.type = "fail";
	req.config = "{}";
	req.config_len = 2;
	assert_int_equal(cni_exec(&req, &res), 0);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "{\"code\":7,\"msg\":\"no\"}\n");
	cni_exec_result_done(&res);

	/* Exits without reading its stdin: no SIGPIPE for us. */
	req.type = "deaf";
	req.config = in;
	req.config_len = big;
	assert_int_equal(cni_exec(&req, &res), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "early\n");
	cni_exec_result_done(&res);

	req.type = "missing";
	assert_int_equal(cni_exec(&req, &res), -ENOENT);
	(void)state;
}

static void test_limits(void **state)
{
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct cni_exec_req req = {.cni_path = path, .type = "flood", .command = "ADD", .env = env};
	struct cni_exec_result res = {};
	assert_int_equal(cni_exec(&req, &res), -EFBIG);
	assert_null(res.out);

	req.type = "slow";
	req.timeout_sec = 1;
	assert_int_equal(cni_exec(&req, &res), -ETIMEDOUT);
	assert_null(res.out);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
