/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/spawn.c with real programs from coreutils: stdin is
 * delivered and stdout streamed, exit statuses and stderr reported, missing
 * programs found missing, overruns killed, and a child that ignores its
 * stdin does not kill us with SIGPIPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/buf.h"
#include "lib/core/spawn.h"

static int collect(const char *data, size_t len, void *userdata)
{
	return buf_append(userdata, data, len);
}

static void test_stdin_stdout(void **state)
{
	const char *argv[] = {"cat", NULL};
	_cleanup_buf_ struct buf out = BUF_INIT, in = BUF_INIT;
	struct errmsg err = {""};

	/* larger than a pipe buffer in both directions */
	for (int i = 0; i < 20000; i++)
		assert_int_equal(buf_printf(&in, "line %d\n", i), 0);
	struct spawn_req req = {
		.argv = argv, .in = in.data, .in_len = in.len, .out = collect, .userdata = &out};
	assert_int_equal(spawn_run(&req, NULL, &err), 0);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.data, in.data, in.len);
	(void)state;
}

static void test_exit_status(void **state)
{
	const char *argv[] = {"sh", "-c", "echo 'first problem' >&2; echo second >&2; exit 3",
			      NULL};
	struct spawn_req req = {.argv = argv};
	struct errmsg err = {""};
	int status = 0;

	assert_int_equal(spawn_run(&req, &status, &err), -EPROTO);
	assert_int_equal(status, 3);
	assert_string_equal(err.text, "sh: exit status 3: first problem");

	const char *kill_argv[] = {"sh", "-c", "kill -9 $$", NULL};
	req.argv = kill_argv;
	assert_int_equal(spawn_run(&req, &status, &err), -EPROTO);
	assert_int_equal(status, 128 + 9);
	(void)state;
}

static void test_not_found(void **state)
{
	const char *argv[] = {"flannel-no-such-program", NULL};
	const char *argv2[] = {"/nonexistent/prog", NULL};
	struct spawn_req req = {.argv = argv};
	struct errmsg err = {""};
	char *p = NULL;

	assert_int_equal(spawn_run(&req, NULL, &err), -ENOENT);
	assert_string_equal(err.text, "flannel-no-such-program: executable not found");
	req.argv = argv2;
	assert_int_equal(spawn_run(&req, NULL, &err), -ENOENT);
	assert_int_equal(spawn_find("sh", &p), 0);
	assert_non_null(strchr(p, '/'));
	free(p);
	(void)state;
}

static void test_timeout(void **state)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct spawn_req req = {.argv = argv, .timeout_ms = 200};
	struct errmsg err = {""};

	assert_int_equal(spawn_run(&req, NULL, &err), -ETIMEDOUT);
	assert_string_equal(err.text, "sleep: killed after 200 ms");
	(void)state;
}

static void test_no_sigpipe(void **state)
{
	const char *argv[] = {"true", NULL};
	size_t len = 4 * 1024 * 1024;
	char *in = calloc(1, len);
	struct errmsg err = {""};

	assert_non_null(in);
	struct spawn_req req = {.argv = argv, .in = in, .in_len = len};
	/* the child exits without reading: we survive and report its status */
	assert_int_equal(spawn_run(&req, NULL, &err), 0);
	free(in);
	(void)state;
}

static int stop_early(const char *data, size_t len, void *userdata)
{
	return -ECANCELED;
}

static void test_callback_error(void **state)
{
	const char *argv[] = {"yes", NULL};
	struct spawn_req req = {.argv = argv, .out = stop_early};
	struct errmsg err = {""};

	assert_int_equal(spawn_run(&req, NULL, &err), -ECANCELED);
	(void)state;
}

/* Extra variables replace ours of the same name and add new ones; stderr to a callback. */
static void test_env_and_stderr(void **state)
{
	const char *argv[] = {"sh", "-c",
			      "echo \"$HOME|$FLANNEL_TEST_X|${FLANNEL_TEST_UNSET-unset}\"; "
			      "echo to-stderr >&2; env | grep -c '^HOME='; exit 4",
			      NULL};
	const char *env[] = {"HOME=/flannel-test", "FLANNEL_TEST_X=a b", NULL};
	_cleanup_buf_ struct buf out = BUF_INIT, errb = BUF_INIT;
	struct errmsg err = {""};
	int status = 0;

	setenv("HOME", "/original", 1);
	unsetenv("FLANNEL_TEST_UNSET");
	struct spawn_req req = {.argv = argv, .out = collect, .userdata = &out, .env = env};
	assert_int_equal(spawn_run(&req, &status, &err), -EPROTO);
	assert_int_equal(status, 4);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_string_equal(out.data, "/flannel-test|a b|unset\n1\n");
	assert_string_equal(err.text, "sh: exit status 4: to-stderr");

	/* With err_out, stderr goes to the callback and not into the message. */
	out.len = 0;
	req.err_out = collect;
	req.userdata = &errb;
	req.out = NULL;
	assert_int_equal(spawn_run(&req, &status, &err), -EPROTO);
	assert_int_equal(buf_append(&errb, "", 1), 0);
	assert_string_equal(errb.data, "to-stderr\n");
	assert_string_equal(err.text, "sh: exit status 4");
	assert_string_equal(getenv("HOME"), "/original"); /* ours untouched */
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_stdout),   cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_not_found),      cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_no_sigpipe),     cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_env_and_stderr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
