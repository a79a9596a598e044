/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a helper program (iptables-restore, nft, ...) directly, without a
 * shell: feed it stdin, stream its stdout to a callback, keep the start of
 * its stderr for the error message, and kill it when it overruns a timeout.
 * Synchronous; meant for short commands. The child gets an empty signal
 * mask and default signal dispositions, stdin/stdout/stderr and nothing
 * else (all our fds are O_CLOEXEC). Writing to a child that exits early
 * never raises SIGPIPE.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "lib/core/errmsg.h"

/* Receives stdout in chunks; a negative return kills the child and is returned. */
typedef int (*spawn_out_fn)(const char *data, size_t len, void *userdata);

struct spawn_req {
	const char *const *argv; /* argv[0]: a name looked up in $PATH (plus sbin dirs) or a path */
	const char *in;		 /* stdin contents (may be NULL: empty stdin) */
	size_t in_len;
	spawn_out_fn out; /* NULL: stdout is discarded */
	void *userdata;
	unsigned timeout_ms; /* 0: 10 s */
	/* "K=V" (NULL-ended) added to our environment, replacing the same names; NULL: none. */
	const char *const *env;
	/* Receives stderr in chunks (its return is ignored); NULL: the start of
	 * stderr is kept for the error message instead. */
	spawn_out_fn err_out;
};

/*
 * Find an executable: a name containing '/' is taken as is, otherwise it is
 * looked up in $PATH and then in the sbin/bin directories (daemons often
 * run with a PATH lacking /usr/sbin). -ENOENT when not found.
 */
int spawn_find(const char *name, char **ret);

/*
 * Run req. Returns 0 when the program ran and exited with status 0, and
 * otherwise: -ENOENT (not found), -ETIMEDOUT (killed after the timeout),
 * -EPROTO (non-zero exit or killed by a signal; *ret_status set when
 * non-NULL: exit status, or 128 + signal), or the callback's error. err
 * gets "<argv0>: <first stderr line or reason>".
 */
int spawn_run(const struct spawn_req *req, int *ret_status, struct errmsg *err);

/*
 * Start a long-running program (a daemon flanneld supervises, e.g.
 * wireguard-go) and return at once: its own session, so that a signal to
 * our process group does not reach it and it outlives us; stdin /dev/null,
 * stdout and stderr ours; our environment with env_extra ("K=V", NULL-ended,
 * may be NULL). The caller reaps it with spawn_reap().
 */
int spawn_detached(const char *const *argv, const char *const *env_extra, pid_t *ret_pid,
		   struct errmsg *err);
/* 1 when our child pid has exited (and is reaped) or is not our child, 0 while it runs. */
int spawn_reap(pid_t pid);
