/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/loop.c: fd, timer and signal sources, callbacks that
 * free sources during dispatch (run under ASan to catch use-after-free),
 * error reporting and loop_exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/core/log.h"
#include "lib/core/loop.h"

#define MSEC 1000ULL

struct counter {
	int calls;
	char order[16];
	struct loop_source *other; /* freed by the callback when set */
	bool free_self;
	int rearm; /* timer: re-arm this many times, then loop_exit(42) */
	int ret;
};

static int io_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct counter *c = userdata;
	char buf[16];

	assert_true(revents & EPOLLIN);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	c->calls++;
	if (c->other) {
		loop_source_free(c->other);
		c->other = NULL;
	}
	if (c->free_self)
		loop_source_free(s);
	return c->ret;
}

static void test_io(void **state)
{
	struct loop *l = NULL;
	struct loop_source *s = NULL;
	struct counter c = {0};
	int p[2];

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(loop_add_io(l, p[0], EPOLLIN, io_cb, &c, "pipe", &s), 0);
	assert_ptr_equal(loop_source_loop(s), l);

	/* nothing to read: times out, nothing dispatched */
	assert_false(loop_has_pending(l));
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(c.calls, 0);

	/* data waiting is seen without being dispatched, and dispatched later */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_true(loop_has_pending(l));
	assert_true(loop_has_pending(l));
	assert_int_equal(c.calls, 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(c.calls, 1);
	assert_false(loop_has_pending(l));

	/* with no events wanted, data does not wake the loop */
	assert_int_equal(loop_source_set_io_events(s, 0), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(loop_source_set_io_events(s, EPOLLIN), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(c.calls, 2);

	/* the same fd twice is refused by epoll */
	assert_int_equal(loop_add_io(l, p[0], EPOLLIN, io_cb, &c, "dup", NULL), -EEXIST);
	assert_int_equal(loop_add_io(l, -1, EPOLLIN, io_cb, &c, "bad", NULL), -EINVAL);

	loop_source_free(s);
	assert_int_equal(write(p[1], "z", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(c.calls, 2);

	loop_free(l);
	close(p[0]);
	close(p[1]);
	(void)state;
}

static int timer_cb(struct loop_source *s, void *userdata)
{
	struct counter *c = userdata;
	size_t n = strlen(c->order);

	c->calls++;
	assert_false(loop_timer_armed(s));
	if (n + 1 < sizeof(c->order))
		c->order[n] = (char)('a' + c->rearm);
	if (c->rearm > 0) {
		c->rearm--;
		assert_int_equal(loop_timer_arm(s, 1 * MSEC), 0);
		assert_true(loop_timer_armed(s));
	} else if (c->rearm == 0) {
		loop_exit(loop_source_loop(s), 42);
	}
	if (c->free_self)
		loop_source_free(s);
	return c->ret;
}

/* Tags of the timers in the order they fired. */
static char fired[8];

static int tag_cb(struct loop_source *s, void *userdata)
{
	size_t n = strlen(fired);

	(void)s;
	if (n + 1 < sizeof(fired))
		fired[n] = *(const char *)userdata;
	return 0;
}

static void test_timers(void **state)
{
	struct loop *l = NULL;
	struct loop_source *a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(loop_new(&l), 0);

	/* fire in deadline order, not creation order */
	memset(fired, 0, sizeof(fired));
	assert_int_equal(loop_add_timer(l, 60 * MSEC, tag_cb, "A", "timer A", &a), 0);
	assert_int_equal(loop_add_timer(l, 1 * MSEC, tag_cb, "B", "timer B", &b), 0);
	assert_int_equal(loop_add_timer(l, 30 * MSEC, tag_cb, "C", "timer C", &c), 0);
	assert_true(loop_timer_armed(a));
	while (strlen(fired) < 3)
		assert_true(loop_run_once(l, UINT64_MAX) >= 0);
	assert_string_equal(fired, "BCA");
	assert_false(loop_timer_armed(a));

	/* a disarmed timer does not fire; re-armed it does */
	memset(fired, 0, sizeof(fired));
	assert_int_equal(loop_timer_arm(a, 1 * MSEC), 0);
	assert_int_equal(loop_timer_disarm(a), 0);
	assert_false(loop_timer_armed(a));
	assert_int_equal(loop_run_once(l, 20 * MSEC), 0);
	assert_string_equal(fired, "");

	/* disarmed after expiring but before dispatch: still not run */
	assert_int_equal(loop_timer_arm(a, 0), 0);
	usleep(5 * MSEC);
	assert_int_equal(loop_timer_disarm(a), 0);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_string_equal(fired, "");

	/* 0: on the next iteration */
	assert_int_equal(loop_timer_arm(a, 0), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_string_equal(fired, "A");

	/* io functions refuse timers and vice versa */
	assert_int_equal(loop_source_set_io_events(a, EPOLLIN), -EINVAL);

	loop_free(l);
	(void)state;
}

static void test_rearm_and_exit(void **state)
{
	struct loop *l = NULL;
	struct counter c = {.rearm = 4};

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_add_timer(l, 0, timer_cb, &c, "periodic", NULL), 0);
	assert_false(loop_exiting(l));
	assert_int_equal(loop_run(l), 42);
	assert_true(loop_exiting(l));
	assert_int_equal(c.calls, 5);
	assert_string_equal(c.order, "edcba");
	loop_free(l);
	(void)state;
}

static int sig_cb(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct counter *c = userdata;

	assert_int_equal(si->ssi_signo, SIGUSR1);
	c->calls++;
	if (c->free_self)
		loop_source_free(s);
	return 0;
}

static bool blocked(int signo)
{
	sigset_t cur;

	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, signo) == 1;
}

static void test_signal(void **state)
{
	struct loop *l = NULL;
	struct loop_source *s = NULL;
	struct counter c = {0};

	assert_int_equal(loop_new(&l), 0);
	assert_false(blocked(SIGUSR1));
	assert_int_equal(loop_add_signal(l, SIGUSR1, sig_cb, &c, &s), 0);
	assert_true(blocked(SIGUSR1));
	assert_int_equal(loop_add_signal(l, SIGUSR1, sig_cb, &c, NULL), -EBUSY);
	assert_int_equal(loop_add_signal(l, 0, sig_cb, &c, NULL), -EINVAL);

	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(c.calls, 1);

	/* a second signal source shares the signalfd */
	struct loop_source *s2 = NULL;
	struct counter c2 = {0};
	assert_int_equal(loop_add_signal(l, SIGUSR2, sig_cb, &c2, &s2), 0);
	loop_source_free(s2);
	assert_false(blocked(SIGUSR2));

	/* the callback frees its own source: the signal is unblocked again */
	c.free_self = true;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(c.calls, 2);
	assert_false(blocked(SIGUSR1));

	loop_free(l);
	(void)state;
}

static void test_free_during_dispatch(void **state)
{
	struct loop *l = NULL;
	struct loop_source *s1 = NULL, *s2 = NULL, *t = NULL;
	struct counter c1 = {0}, c2 = {0}, ct = {.rearm = -1};
	int p1[2], p2[2];

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe2(p1, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(p2, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(loop_add_io(l, p1[0], EPOLLIN, io_cb, &c1, "pipe 1", &s1), 0);
	assert_int_equal(loop_add_io(l, p2[0], EPOLLIN, io_cb, &c2, "pipe 2", &s2), 0);

	/* Both ready in the same batch; whichever runs first frees itself and
	 * the other, which must then not be dispatched. */
	c1.free_self = c2.free_self = true;
	c1.other = s2;
	c2.other = s1;
	assert_int_equal(write(p1[1], "1", 1), 1);
	assert_int_equal(write(p2[1], "2", 1), 1);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(c1.calls + c2.calls, 1);
	assert_int_equal(loop_run_once(l, 0), 0);

	/* a timer freeing itself */
	ct.free_self = true;
	assert_int_equal(loop_add_timer(l, 0, timer_cb, &ct, "one-shot", &t), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	assert_int_equal(ct.calls, 1);
	assert_int_equal(loop_run_once(l, 0), 0);

	/* sources still registered are freed by loop_free */
	assert_int_equal(loop_add_timer(l, 1000 * MSEC, timer_cb, &ct, "left over", NULL), 0);
	loop_free(l);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	(void)state;
}

static void test_callback_error_logged(void **state)
{
	struct loop *l = NULL;
	struct counter c = {.rearm = -1, .ret = -EPROTO};
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	assert_non_null(f);
	log_set_stream(f);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_add_timer(l, 0, timer_cb, &c, "node watch resync", NULL), 0);
	assert_int_equal(loop_run_once(l, 1000 * MSEC), 1);
	/* the loop keeps going after a failed callback */
	assert_int_equal(loop_run_once(l, 0), 0);
	loop_free(l);
	log_set_stream(NULL);
	fclose(f);

	assert_non_null(strstr(out, "node watch resync"));
	assert_non_null(strstr(out, strerror(EPROTO)));
	assert_int_equal(out[0], 'E');
	/* logged exactly once */
	assert_ptr_equal(strchr(out, '\n'), out + outlen - 1);
	free(out);
	(void)state;
}

static void test_clocks(void **state)
{
	uint64_t a = now_monotonic_usec();
	usleep(2 * MSEC);
	uint64_t b = now_monotonic_usec();

	assert_true(b >= a + 2 * MSEC);
	/* after 2020-01-01 */
	assert_true(now_realtime_usec() > 1577836800ULL * 1000000ULL);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_rearm_and_exit),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_free_during_dispatch),
		cmocka_unit_test(test_callback_error_logged),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
