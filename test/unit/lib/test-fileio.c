/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/fileio.c, in a private mkdtemp directory: exact modes
 * whatever the umask, no temp file left behind, bounded reads, mkdir_p.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/fileio.h"
#include "lib/core/macro.h"

struct tmpdir {
	char path[64];
};

static int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		if (!d)
			return -1;
		while ((de = readdir(d))) {
			char sub[512];
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
		return rmdir(path);
	}
	return unlink(path);
}

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/test-fileio.XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmpdir *t = *state;

	rm_rf(t->path);
	free(t);
	return 0;
}

/* Number of directory entries other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic_mode(void **state)
{
	struct tmpdir *t = *state;
	char path[128];
	struct stat st;
	_cleanup_free_ char *data = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/subnet.env", t->path);

	/* a hostile umask must not change the mode */
	mode_t old = umask(0077);
	assert_int_equal(write_file_atomic(path, "A=1\n", 4, 0644), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_entries(t->path), 1);

	/* replacing keeps a single file, with the new contents and mode */
	old = umask(0);
	assert_int_equal(write_file_atomic(path, "B=22\n", 5, 0600), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(read_file_bounded(path, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "B=22\n");
	assert_int_equal(count_entries(t->path), 1);

	/* relative path in the cwd */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->path), 0);
	assert_int_equal(write_file_atomic("rel", "", 0, 0640), 0);
	assert_int_equal(stat("rel", &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(count_entries(t->path), 2);
}

static void test_write_atomic_failure(void **state)
{
	struct tmpdir *t = *state;
	char path[128];

	/* no such directory */
	snprintf(path, sizeof(path), "%s/missing/file", t->path);
	assert_int_equal(write_file_atomic(path, "x", 1, 0644), -ENOENT);

	/* the target is a directory: rename fails, the temp file is removed */
	snprintf(path, sizeof(path), "%s/dir", t->path);
	assert_int_equal(mkdir(path, 0755), 0);
	int r = write_file_atomic(path, "x", 1, 0644);
	assert_true(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
	assert_int_equal(count_entries(t->path), 1);

	snprintf(path, sizeof(path), "%s/", t->path);
	assert_int_equal(write_file_atomic(path, "x", 1, 0644), -EISDIR);
	assert_int_equal(write_file_atomic("", "x", 1, 0644), -EINVAL);
}

static void test_read_bounded(void **state)
{
	struct tmpdir *t = *state;
	char path[128];
	char *data = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/f", t->path);
	assert_int_equal(write_file_atomic(path, "0123456789", 10, 0644), 0);

	assert_int_equal(read_file_bounded(path, 10, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	data = NULL;

	assert_int_equal(read_file_bounded(path, 9, &data, &len), -EFBIG);
	assert_null(data);
	assert_int_equal(read_file_bounded(path, 0, &data, &len), -EFBIG);

	/* bigger than the first read chunk */
	size_t big = 3 * 4096 + 17;
	_cleanup_free_ char *blob = malloc(big);
	assert_non_null(blob);
	for (size_t i = 0; i < big; i++)
		blob[i] = (char)('a' + i % 26);
	assert_int_equal(write_file_atomic(path, blob, big, 0644), 0);
	assert_int_equal(read_file_bounded(path, big, &data, &len), 0);
	assert_int_equal(len, big);
	assert_memory_equal(data, blob, big);
	assert_int_equal(data[big], '\0');
	free(data);
	data = NULL;
	assert_int_equal(read_file_bounded(path, big - 1, &data, &len), -EFBIG);

	/* empty file */
	assert_int_equal(write_file_atomic(path, "", 0, 0644), 0);
	assert_int_equal(read_file_bounded(path, 0, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);

	snprintf(path, sizeof(path), "%s/none", t->path);
	assert_int_equal(read_file_bounded(path, 10, &data, &len), -ENOENT);

	/* a pipe: read until EOF */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	close(p[1]);
	assert_int_equal(read_fd_bounded(p[0], 3, &data, &len), 0);
	assert_string_equal(data, "abc");
	free(data);
	close(p[0]);
}

static void test_mkdir_p(void **state)
{
	struct tmpdir *t = *state;
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b//c/", t->path);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", t->path);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* existing is fine */
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(mkdir_p("/", 0755), 0);

	/* a file in the way */
	snprintf(path, sizeof(path), "%s/a/file", t->path);
	assert_int_equal(write_file_atomic(path, "x", 1, 0644), 0);
	assert_int_equal(mkdir_p(path, 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/a/file/sub", t->path);
	assert_int_equal(mkdir_p(path, 0755), -ENOTDIR);
	assert_int_equal(mkdir_p("", 0755), -EINVAL);
}

static void test_copy_atomic(void **state)
{
	struct tmpdir *t = *state;
	char src[128], dst[128];
	struct stat st;
	char *data = NULL;
	size_t len;

	snprintf(src, sizeof(src), "%s/src", t->path);
	snprintf(dst, sizeof(dst), "%s/dst", t->path);
	/* larger than the copy chunk */
	size_t big = 200000;
	_cleanup_free_ char *blob = malloc(big);
	assert_non_null(blob);
	for (size_t i = 0; i < big; i++)
		blob[i] = (char)(i * 7);
	assert_int_equal(write_file_atomic(src, blob, big, 0600), 0);

	mode_t old = umask(0077);
	assert_int_equal(copy_file_atomic(src, dst, 0755), 0);
	umask(old);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(read_file_bounded(dst, big, &data, &len), 0);
	assert_int_equal(len, big);
	assert_memory_equal(data, blob, big);
	free(data);
	assert_int_equal(count_entries(t->path), 2);

	snprintf(src, sizeof(src), "%s/none", t->path);
	assert_int_equal(copy_file_atomic(src, dst, 0755), -ENOENT);
	assert_int_equal(count_entries(t->path), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_atomic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
