/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs short helper programs (iptables-restore, nft) without a shell, with
 * posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve in glibc, so a large
 * daemon does not copy its page tables for every command). stdin is a
 * socketpair written with MSG_NOSIGNAL, so a child that exits before reading
 * everything yields EPIPE instead of killing us with SIGPIPE; stdout and
 * stderr are pipes drained with poll() until EOF or the deadline, after
 * which the child is killed and reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/spawn.h"

extern char **environ;

#define SPAWN_DEFAULT_TIMEOUT_MS 10000u
#define SPAWN_FALLBACK_PATH	 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int find_in(const char *dirs, const char *name, char **ret)
{
	for (const char *p = dirs; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		_cleanup_free_ char *path = NULL;

		if (dl > 0 && asprintf(&path, "%.*s/%s", (int)dl, p, name) < 0)
			return -ENOMEM;
		if (path && is_executable(path)) {
			*ret = TAKE_PTR(path);
			return 0;
		}
		p += dl + (colon ? 1 : 0);
	}
	return -ENOENT;
}

int spawn_find(const char *name, char **ret)
{
	char *p;

	if (!name || !*name)
		return -EINVAL;
	if (strchr(name, '/')) {
		if (!is_executable(name))
			return -ENOENT;
		p = strdup(name);
		if (!p)
			return -ENOMEM;
		*ret = p;
		return 0;
	}
	int r = find_in(getenv("PATH"), name, ret);
	if (r != -ENOENT)
		return r;
	return find_in(SPAWN_FALLBACK_PATH, name, ret);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* First line of the captured stderr, for the error message. */
static void set_err(struct errmsg *err, const char *argv0, const char *what, const char *stderr_buf)
{
	size_t n = strcspn(stderr_buf, "\n");

	if (n > 0)
		errmsg_set(err, "%s: %s: %.*s", argv0, what, (int)n, stderr_buf);
	else
		errmsg_set(err, "%s: %s", argv0, what);
}

struct child {
	pid_t pid;
	int in;	 /* our end of the stdin socketpair, -1 once done */
	int out; /* read end of stdout, -1 at EOF */
	int err; /* read end of stderr, -1 at EOF */
};

/*
 * posix_spawn path with fds[i] (when >= 0) as its descriptor i, an empty
 * signal mask, default dispositions and extra posix_spawn flags.
 */
static int spawn_fds(const char *path, const char *const *argv, char *const *envp, const int fds[3],
		     short flags, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	sigemptyset(&none);
	sigfillset(&all);
	for (int i = 0; i < 3 && r == 0; i++)
		if (fds[i] >= 0)
			r = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (r == 0)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
							    flags);
	if (r == 0)
		r = posix_spawn(ret_pid, path, &fa, &attr, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

static bool env_overridden(const char *entry, const char *const *env)
{
	size_t n = strcspn(entry, "=");

	for (; env && *env; env++)
		if (strncmp(*env, entry, n) == 0 && (*env)[n] == '=')
			return true;
	return false;
}

/* Our environment with env's entries replacing or added (NULL-ended, borrowed strings). */
static int make_env(const char *const *env, char ***ret)
{
	size_t n = 0, m = 0, k = 0;
	char **v;

	while (environ[n])
		n++;
	while (env && env[m])
		m++;
	v = calloc(n + m + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!env_overridden(environ[i], env))
			v[k++] = environ[i];
	for (size_t i = 0; i < m; i++)
		v[k++] = (char *)env[i];
	*ret = v;
	return 0;
}

static int start(const char *path, const char *const *argv, const char *const *env, struct child *c)
{
	_cleanup_free_ char **envp = NULL;
	_cleanup_close_ int in_ours = -1, in_theirs = -1;
	_cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	int sv[2], p[2], r;

	if (env && (r = make_env(env, &envp)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return negative_errno();
	in_ours = sv[0];
	in_theirs = sv[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return negative_errno();
	out_r = p[0];
	out_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return negative_errno();
	err_r = p[0];
	err_w = p[1];
	if (shutdown(in_theirs, SHUT_WR) < 0)
		return negative_errno();

	r = spawn_fds(path, argv, envp ? envp : environ, (const int[3]){in_theirs, out_w, err_w}, 0,
		      &c->pid);
	if (r < 0)
		return r;

	c->in = TAKE_FD(in_ours);
	c->out = TAKE_FD(out_r);
	c->err = TAKE_FD(err_r);
	return 0;
}

static void close_fd(int *fd)
{
	closep(fd);
	*fd = -1;
}

/* Reap the child, killing it first when kill_it; returns the wait status. */
static int reap(pid_t pid, bool kill_it, uint64_t deadline)
{
	int status = 0;

	if (kill_it)
		kill(pid, SIGKILL);
	for (;;) {
		pid_t w = waitpid(pid, &status, kill_it ? 0 : WNOHANG);
		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		if (w == 0 && now_ms() >= deadline) {
			kill_it = true;
			kill(pid, SIGKILL);
			continue;
		}
		if (w == 0) {
			struct timespec ts = {.tv_nsec = 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

int spawn_run(const struct spawn_req *req, int *ret_status, struct errmsg *err)
{
	_cleanup_free_ char *path = NULL;
	struct child c = {.pid = -1, .in = -1, .out = -1, .err = -1};
	char errbuf[1024] = "", chunk[16384];
	size_t errlen = 0, written = 0;
	unsigned timeout = req->timeout_ms ? req->timeout_ms : SPAWN_DEFAULT_TIMEOUT_MS;
	uint64_t deadline = now_ms() + timeout;
	const char *argv0 = req->argv[0];
	int r, status, result = 0;
	bool timed_out = false;

	r = spawn_find(argv0, &path);
	if (r < 0) {
		errmsg_set(err, "%s: %s", argv0,
			   r == -ENOENT ? "executable not found" : strerror(-r));
		return r;
	}
	r = start(path, req->argv, req->env, &c);
	if (r < 0) {
		errmsg_set(err, "%s: failed to start: %s", argv0, strerror(-r));
		return r;
	}
	if (!req->in || req->in_len == 0)
		close_fd(&c.in);

	while (c.out >= 0 || c.err >= 0 || c.in >= 0) {
		struct pollfd pfd[3];
		int n = 0, idx_in = -1, idx_out = -1, idx_err = -1;
		uint64_t now = now_ms();

		if (now >= deadline) {
			timed_out = true;
			break;
		}
		if (c.in >= 0) {
			idx_in = n;
			pfd[n++] = (struct pollfd){.fd = c.in, .events = POLLOUT};
		}
		if (c.out >= 0) {
			idx_out = n;
			pfd[n++] = (struct pollfd){.fd = c.out, .events = POLLIN};
		}
		if (c.err >= 0) {
			idx_err = n;
			pfd[n++] = (struct pollfd){.fd = c.err, .events = POLLIN};
		}
		r = poll(pfd, (nfds_t)n, (int)(deadline - now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			result = negative_errno();
			break;
		}
		if (idx_in >= 0 && pfd[idx_in].revents) {
			ssize_t k = send(c.in, req->in + written, req->in_len - written,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k < 0 && errno != EAGAIN && errno != EINTR)
				close_fd(
					&c.in); /* the child stopped reading: its exit status tells */
			else if (k > 0 && (written += (size_t)k) == req->in_len)
				close_fd(&c.in);
		}
		if (idx_out >= 0 && pfd[idx_out].revents) {
			ssize_t k = read(c.out, chunk, sizeof(chunk));
			if (k > 0 && req->out) {
				r = req->out(chunk, (size_t)k, req->userdata);
				if (r < 0) {
					result = r;
					break;
				}
			} else if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) {
				close_fd(&c.out);
			}
		}
		if (idx_err >= 0 && pfd[idx_err].revents) {
			ssize_t k = read(c.err, chunk, sizeof(chunk));
			if (k > 0 && req->err_out) {
				(void)req->err_out(chunk, (size_t)k, req->userdata);
			} else if (k > 0) {
				size_t keep = MIN((size_t)k, sizeof(errbuf) - 1 - errlen);
				memcpy(errbuf + errlen, chunk, keep);
				errlen += keep;
				errbuf[errlen] = '\0';
			} else if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) {
				close_fd(&c.err);
			}
		}
	}
	close_fd(&c.in);
	close_fd(&c.out);
	close_fd(&c.err);

	status = reap(c.pid, timed_out || result < 0, deadline);
	if (timed_out) {
		errmsg_set(err, "%s: killed after %u ms", argv0, timeout);
		return -ETIMEDOUT;
	}
	if (result < 0) {
		set_err(err, argv0, strerror(-result), errbuf);
		return result;
	}
	if (status < 0) {
		errmsg_set(err, "%s: waitpid: %s", argv0, strerror(errno));
		return -ECHILD;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (ret_status)
		*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (WIFEXITED(status)) {
		char what[32];
		snprintf(what, sizeof(what), "exit status %d", WEXITSTATUS(status));
		set_err(err, argv0, what, errbuf);
	} else {
		set_err(err, argv0, strsignal(WTERMSIG(status)), errbuf);
	}
	return -EPROTO;
}

int spawn_detached(const char *const *argv, const char *const *env_extra, pid_t *ret_pid,
		   struct errmsg *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char **envp = NULL;
	_cleanup_close_ int devnull = -1;
	int r;

	r = spawn_find(argv[0], &path);
	if (r < 0) {
		errmsg_set(err, "%s: not found", argv[0]);
		return r;
	}
	r = make_env(env_extra, &envp);
	if (r < 0)
		return r;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return negative_errno();

	/* stdout to our stderr: a daemon's output belongs in our log */
	r = spawn_fds(path, argv, envp, (const int[3]){devnull, STDERR_FILENO, -1},
		      POSIX_SPAWN_SETSID, ret_pid);
	if (r < 0) {
		errmsg_set(err, "%s: %s", argv[0], strerror(-r));
		return r;
	}
	return 0;
}

int spawn_reap(pid_t pid)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == pid || (w < 0 && errno == ECHILD))
		return 1;
	return 0;
}
