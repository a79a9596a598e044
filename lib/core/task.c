/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork() + a pipe: the child runs the function and writes its return value
 * and result in one write of at most PIPE_BUF bytes (atomic), then
 * _exit()s without running atexit handlers or flushing the parent's stdio
 * buffers. The parent watches the pipe's read end on the loop; EOF without
 * a full message means the child died. The child is reaped right after its
 * message (it exits immediately after writing it), or killed and reaped by
 * task_free().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core/task.h"

/* The message: fn's return value, then the result at an offset any type may start at. */
#define RESULT_OFFSET alignof(max_align_t)

struct task {
	pid_t pid;
	int fd;
	struct loop_source *src;
	size_t out_size;
	task_done_fn done;
	void *userdata;
};

static void reap(pid_t pid, bool kill_it)
{
	if (kill_it)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void task_free(struct task *t)
{
	if (!t)
		return;
	loop_source_free(t->src);
	if (t->fd >= 0)
		close(t->fd);
	if (t->pid > 0)
		reap(t->pid, true);
	free(t);
}

static int on_result(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct task *t = userdata;
	alignas(max_align_t) uint8_t msg[PIPE_BUF] = {0};
	size_t want = RESULT_OFFSET + t->out_size;
	ssize_t n;
	int r;

	do
		n = read(fd, msg, want);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)want)
		memcpy(&r, msg, sizeof(int));
	else {
		r = -EIO;
		memset(msg, 0, sizeof(msg));
	}
	/* It exits right after its one write (or already has: EOF). */
	reap(t->pid, false);
	t->pid = 0;
	loop_source_free(t->src);
	t->src = NULL;
	t->done(r, msg + RESULT_OFFSET, t->userdata);
	close(t->fd);
	free(t);
	return 0;
}

int task_start(struct loop *loop, const char *description, task_fn fn, void *arg, size_t out_size,
	       task_done_fn done, void *userdata, struct task **ret)
{
	pid_t parent = getpid();
	struct task *t;
	int p[2], r;

	if (out_size > TASK_RESULT_MAX)
		return -EMSGSIZE;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->out_size = out_size;
	t->done = done;
	t->userdata = userdata;
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		free(t);
		return r;
	}
	t->pid = fork();
	if (t->pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		free(t);
		return r;
	}
	if (t->pid == 0) {
		alignas(max_align_t) uint8_t msg[PIPE_BUF] = {0};

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(p[0]);
		r = fn(arg, msg + RESULT_OFFSET);
		memcpy(msg, &r, sizeof(int));
		_exit(write(p[1], msg, RESULT_OFFSET + out_size) < 0 ? 1 : 0);
	}
	close(p[1]);
	t->fd = p[0];
	r = loop_add_io(loop, t->fd, EPOLLIN, on_result, t, description, &t->src);
	if (r < 0) {
		task_free(t);
		return r;
	}
	*ret = t;
	return 0;
}
