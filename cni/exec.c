/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork + execve of a delegate plugin. The parent feeds stdin through a
 * socketpair (send() with MSG_NOSIGNAL: a delegate that exits without
 * reading must not kill us with SIGPIPE), reads stdout from a pipe, and
 * waits for the child with a pidfd, all in one poll() loop bounded by the
 * deadline. No threads, no signal handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "lib/core/buf.h"
#include "lib/core/macro.h"

extern char **environ;

int cni_exec_find(const char *cni_path, const char *type, char **ret)
{
	if (!type || type[0] == '\0' || strchr(type, '/') || strcmp(type, ".") == 0 ||
	    strcmp(type, "..") == 0)
		return -EINVAL;
	for (const char *p = cni_path ? cni_path : ""; *p;) {
		size_t n = strcspn(p, ":");
		if (n > 0) {
			_cleanup_free_ char *path = NULL;
			struct stat st;
			if (asprintf(&path, "%.*s/%s", (int)n, p, type) < 0)
				return -ENOMEM;
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0) {
				*ret = TAKE_PTR(path);
				return 0;
			}
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

/* The base environment with CNI_COMMAND=<command>; the strings are borrowed but "CNI_COMMAND=". */
static int make_env(char *const *base, const char *command, char ***ret, char **ret_cmd)
{
	size_t n = 0;
	while (base && base[n])
		n++;
	_cleanup_free_ char **env = calloc(n + 2, sizeof(char *));
	_cleanup_free_ char *cmd = NULL;
	if (!env || asprintf(&cmd, "CNI_COMMAND=%s", command) < 0)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(base[i], "CNI_COMMAND=", 12) != 0)
			env[k++] = base[i];
	env[k++] = cmd;
	env[k] = NULL;
	*ret = TAKE_PTR(env);
	*ret_cmd = TAKE_PTR(cmd);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_noreturn_ static void child(const char *path, int in, int out, char **env)
{
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	char *argv[] = {(char *)path, NULL};
	execve(path, argv, env);
	_exit(127);
}

/* Kills and reaps the child. */
static void reap(pid_t pid, bool kill_it)
{
	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int cni_exec(const struct cni_exec_req *req, struct cni_exec_result *ret)
{
	_cleanup_free_ char *path = NULL, *cmd = NULL;
	_cleanup_free_ char **env = NULL;
	_cleanup_close_ int in_parent = -1, in_child = -1, out_parent = -1, out_child = -1;
	_cleanup_close_ int pidfd = -1;
	_cleanup_buf_ struct buf out = BUF_INIT;
	int r;

	r = cni_exec_find(req->cni_path, req->type, &path);
	if (r < 0)
		return r;
	r = make_env(req->env ? req->env : environ, req->command, &env, &cmd);
	if (r < 0)
		return r;

	int sv[2], pv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return negative_errno();
	in_parent = sv[0];
	in_child = sv[1];
	if (pipe2(pv, O_CLOEXEC) < 0)
		return negative_errno();
	out_parent = pv[0];
	out_child = pv[1];

	pid_t pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0)
		child(path, in_child, out_child, env);
	close(TAKE_FD(in_child));
	close(TAKE_FD(out_child));

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = negative_errno();
		reap(pid, true);
		return r;
	}
	if (fcntl(in_parent, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(out_parent, F_SETFL, O_NONBLOCK) < 0) {
		r = negative_errno();
		reap(pid, true);
		return r;
	}

	unsigned timeout = req->timeout_sec ? req->timeout_sec : CNI_EXEC_TIMEOUT_SEC;
	long long deadline = now_ms() + (long long)timeout * 1000;
	size_t written = 0;
	bool exited = false;
	if (req->config_len == 0)
		shutdown(in_parent, SHUT_WR);

	while (out_parent >= 0 || !exited) {
		struct pollfd pfd[3] = {
			{.fd = out_parent, .events = POLLIN},
			{.fd = exited ? -1 : pidfd, .events = POLLIN},
			{.fd = written < req->config_len ? in_parent : -1, .events = POLLOUT},
		};
		long long left = deadline - now_ms();
		if (left <= 0) {
			reap(pid, true);
			return -ETIMEDOUT;
		}
		if (poll(pfd, 3, (int)MIN(left, 60000LL)) < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			reap(pid, true);
			return r;
		}
		if (pfd[2].revents) {
			ssize_t n = send(in_parent, req->config + written,
					 req->config_len - written, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				written = req->config_len; /* the child stopped reading: fine */
			else if (n > 0)
				written += (size_t)n;
			if (written == req->config_len)
				shutdown(in_parent, SHUT_WR);
		}
		if (pfd[0].revents) {
			char chunk[16384];
			ssize_t n = read(out_parent, chunk, sizeof(chunk));
			if (n == 0) {
				close(TAKE_FD(out_parent));
			} else if (n > 0) {
				if (out.len + (size_t)n > CNI_EXEC_MAX_OUTPUT) {
					reap(pid, true);
					return -EFBIG;
				}
				r = buf_append(&out, chunk, (size_t)n);
				if (r < 0) {
					reap(pid, true);
					return r;
				}
			} else if (errno != EAGAIN && errno != EINTR) {
				r = negative_errno();
				reap(pid, true);
				return r;
			}
		}
		if (pfd[1].revents)
			exited = true;
	}

	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ret->out_len = 0;
	ret->out = out.data ? buf_steal(&out, &ret->out_len) : strdup("");
	return ret->out ? 0 : -ENOMEM;
}

void cni_exec_result_done(struct cni_exec_result *r)
{
	free(r->out);
	r->out = NULL;
	r->out_len = 0;
}
