/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A function run in a forked child, with its result delivered on the event
 * loop: for work that waits on other programs (iptables-save of a nat table
 * with kube-proxy's thousands of rules takes a second), so that the loop
 * keeps serving watch events meanwhile. The child has a copy of the
 * parent's memory as it was at the fork; whatever it changes there is lost
 * except the result it returns (at most TASK_RESULT_MAX bytes, written
 * atomically through a pipe). It never touches the parent's sockets or
 * epoll set, dies with the parent (PR_SET_PDEATHSIG) and is reaped here.
 */
#pragma once

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>

#include "lib/core/loop.h"
#include "lib/core/macro.h"

/* A result fits in one atomic pipe write, after the return value (aligned). */
#define TASK_RESULT_MAX (PIPE_BUF - alignof(max_align_t))

/* Runs in the child: fills out (out_size bytes, zeroed, aligned for any type); 0 or -errno. */
typedef int (*task_fn)(void *arg, void *out);
/*
 * Runs on the loop once the child has exited: r is fn's return, or -EIO
 * when the child died without a result (out is then all zeroes).
 */
typedef void (*task_done_fn)(int r, const void *out, void *userdata);

struct task;

/* Fork and run fn(arg, out) in the child; done is called exactly once unless task_free() comes first. */
int task_start(struct loop *loop, const char *description, task_fn fn, void *arg, size_t out_size,
	       task_done_fn done, void *userdata, struct task **ret);
/* Kills a child still running and reaps it; done is not called. NULL is fine. */
void task_free(struct task *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct task *, task_free);
