/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/task.c: the child's result reaches the loop, the
 * child's changes to memory stay in the child, a child that dies without a
 * result reports -EIO, and task_free() kills and reaps a running child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core/task.h"

struct done_rec {
	int calls;
	int r;
	char text[32];
	struct loop *loop;
};

static int counter;

static int child_ok(void *arg, void *out)
{
	counter = 99; /* the child's copy only */
	strcpy(out, arg);
	return 7;
}

static int child_dies(void *arg, void *out)
{
	_exit(3);
}

static int child_sleeps(void *arg, void *out)
{
	pause();
	return 0;
}

static void on_done(int r, const void *out, void *userdata)
{
	struct done_rec *d = userdata;

	d->calls++;
	d->r = r;
	memcpy(d->text, out, sizeof(d->text));
	loop_exit(d->loop, 0);
}

static void test_result(void **state)
{
	struct loop *l = NULL;
	struct task *t = NULL;
	struct done_rec d = {0};

	assert_int_equal(loop_new(&l), 0);
	d.loop = l;
	counter = 1;
	assert_int_equal(task_start(l, "test", child_ok, "hello", sizeof(d.text), on_done, &d, &t),
			 0);
	assert_non_null(t);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.r, 7);
	assert_string_equal(d.text, "hello");
	assert_int_equal(counter, 1);
	/* reaped: no child left */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	loop_free(l);
	(void)state;
}

static void test_child_dies(void **state)
{
	struct loop *l = NULL;
	struct task *t = NULL;
	struct done_rec d = {0};

	assert_int_equal(loop_new(&l), 0);
	d.loop = l;
	assert_int_equal(task_start(l, "test", child_dies, NULL, sizeof(d.text), on_done, &d, &t),
			 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.r, -EIO);
	assert_int_equal(d.text[0], 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	loop_free(l);
	(void)state;
}

static void test_free_kills(void **state)
{
	struct loop *l = NULL;
	struct task *t = NULL;
	struct done_rec d = {0};

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(task_start(l, "test", child_sleeps, NULL, 4, on_done, &d, &t), 0);
	assert_int_equal(loop_run_once(l, 20 * 1000), 0);
	task_free(t);
	assert_int_equal(d.calls, 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(task_start(l, "test", child_ok, "x", TASK_RESULT_MAX + 1, on_done, &d, &t),
			 -EMSGSIZE);
	loop_free(l);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_child_dies),
		cmocka_unit_test(test_free_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
