/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded reads and atomic writes. Every file we read may be hostile or
 * corrupt, so reads stop one byte past the cap and fail with -EFBIG instead of
 * growing without bound. Files that other processes read (subnet.env, the
 * CNI state and conflist, the installed plugin binary) are written as a temp
 * file ".<name>.XXXXXX" in the destination directory, fchmod'ed to the exact
 * mode (umask does not apply), fsync'ed and renamed over the target, after
 * which the directory is fsync'ed: a reader sees the old or the new file,
 * never a torn one, even across a crash. Every fd is O_CLOEXEC.
 */
#include "lib/core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/macro.h"

/* read(2), again after EINTR: bytes read (0 at EOF) or -errno. */
static ssize_t read_retry(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(fd, buf, n);

		if (k >= 0)
			return k;
		if (errno != EINTR)
			return negative_errno();
	}
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, cap = 0;

	if (max >= SIZE_MAX - 1)
		return -EINVAL;

	for (;;) {
		/* Always leave room for one byte past max (to detect EFBIG) and the NUL. */
		if (cap - len < 2) {
			size_t ncap = cap ? cap * 2 : 4096;
			/* len <= max here, so max + 2 still leaves the two bytes */
			if (ncap > max + 2)
				ncap = max + 2;
			char *p = realloc(data, ncap);
			if (!p)
				return -ENOMEM;
			data = p;
			cap = ncap;
		}

		ssize_t n = read_retry(fd, data + len, cap - len - 1);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}

	if (!data) {
		data = malloc(1);
		if (!data)
			return -ENOMEM;
	}
	data[len] = '\0';
	*ret = TAKE_PTR(data);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	return read_fd_bounded(fd, max, ret, ret_len);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * An atomic replacement in progress: the temp file's fd and path, and the
 * directory the rename happens in.
 */
struct atomic_file {
	int fd;
	char *tmp;
	char *dir;
	const char *target;
};

static void atomic_file_done(struct atomic_file *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->dir);
	*a = (struct atomic_file){.fd = -1};
}

static int atomic_file_open(const char *path, mode_t mode, struct atomic_file *ret)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL;
	const char *slash, *base;
	int fd;

	if (!path || !*path)
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EISDIR;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	*ret = (struct atomic_file){
		.fd = fd, .tmp = TAKE_PTR(tmp), .dir = TAKE_PTR(dir), .target = path};
	if (fchmod(ret->fd, mode & 07777) < 0) {
		int r = negative_errno();
		atomic_file_done(ret);
		return r;
	}
	return 0;
}

/* (fsync,) close and rename the temp file over the target, then (fsync the directory). */
static int atomic_file_commit(struct atomic_file *a, bool durable)
{
	_cleanup_close_ int dfd = -1;
	int fd;

	if (durable && fsync(a->fd) < 0)
		return negative_errno();
	fd = TAKE_FD(a->fd);
	if (close(fd) < 0)
		return negative_errno();
	if (rename(a->tmp, a->target) < 0)
		return negative_errno();
	free(a->tmp);
	a->tmp = NULL;
	if (!durable)
		return 0;

	dfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return negative_errno();
	return fsync(dfd) < 0 ? negative_errno() : 0;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
	_cleanup_(atomic_file_done) struct atomic_file a = {.fd = -1};
	int r;

	r = atomic_file_open(path, mode, &a);
	if (r < 0)
		return r;
	r = write_all(a.fd, data, len);
	if (r < 0)
		return r;
	return atomic_file_commit(&a, durable);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, false);
}

int copy_file_atomic(const char *src, const char *dst, mode_t mode)
{
	_cleanup_(atomic_file_done) struct atomic_file a = {.fd = -1};
	_cleanup_close_ int in = -1;
	char chunk[65536];
	int r;

	in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return negative_errno();

	r = atomic_file_open(dst, mode, &a);
	if (r < 0)
		return r;

	for (;;) {
		ssize_t n = read_retry(in, chunk, sizeof(chunk));
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		r = write_all(a.fd, chunk, (size_t)n);
		if (r < 0)
			return r;
	}
	return atomic_file_commit(&a, true);
}

static int mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return negative_errno();
	if (stat(path, &st) < 0)
		return negative_errno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;
	size_t len;

	if (!path || !*path)
		return -EINVAL;
	/* Mostly it exists: one system call instead of two per component. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';

	/* Create each parent in turn; "/" and repeated slashes are skipped. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		int r = mkdir_one(p, mode);
		*s = '/';
		if (r < 0)
			return r;
	}
	return mkdir_one(p, mode);
}
