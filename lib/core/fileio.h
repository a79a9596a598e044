/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File helpers: bounded reads (every file we read is untrusted input) and
 * atomic writes (temp file in the same directory, fsync, rename, fsync of the
 * directory) for files other processes read: subnet.env, CNI state, conflist.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Read a whole file of at most max bytes; NUL-terminated. -EFBIG when larger. */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len);
/* Same for an open fd (read until EOF). */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);
/* Write path atomically with exactly this mode (umask does not apply). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Same without the fsyncs: all or nothing if this process dies, not across a power loss. */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* Create a directory and its parents; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);
/* Copy a file atomically (used by the CNI installer). */
int copy_file_atomic(const char *src, const char *dst, mode_t mode);
