/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/core/log.c: the exact klog line layout, verbosity gating,
 * the *_errno helpers' suffix and return value, and errno preservation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/log.h"

struct capture {
	FILE *f;
	char *out;
	size_t len;
};

static void capture_start(struct capture *c)
{
	*c = (struct capture){0};
	c->f = open_memstream(&c->out, &c->len);
	assert_non_null(c->f);
	log_set_stream(c->f);
}

static char *capture_end(struct capture *c)
{
	log_set_stream(NULL);
	fclose(c->f);
	return c->out;
}

static void assert_matches(const char *s, const char *pattern)
{
	regex_t re;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
	if (regexec(&re, s, 0, NULL, 0) != 0)
		fail_msg("\"%s\" does not match /%s/", s, pattern);
	regfree(&re);
}

static void test_format(void **state)
{
	struct capture c;
	char pid[16], pattern[256];

	capture_start(&c);
	log_info("hello %s %d", "world", 7);
	int line = __LINE__ - 1;
	_cleanup_free_ char *out = capture_end(&c);

	snprintf(pid, sizeof(pid), "%7d", (int)getpid());
	snprintf(pattern, sizeof(pattern),
		 "^I[01][0-9][0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{6} %s "
		 "test-log\\.c:%d\\] hello world 7\n$",
		 pid, line);
	assert_matches(out, pattern);
	(void)state;
}

static void test_severities_and_verbosity(void **state)
{
	struct capture c;

	log_set_verbosity(1);
	capture_start(&c);
	log_warn("w");
	log_error("e");
	log_v(1, "shown");
	log_v(2, "hidden");
	_cleanup_free_ char *out = capture_end(&c);
	log_set_verbosity(0);

	assert_matches(out, "^W[0-9]{4} .*\\] w\nE[0-9]{4} .*\\] e\nI[0-9]{4} .*\\] shown\n$");
	assert_null(strstr(out, "hidden"));
	(void)state;
}

static void test_errno_helpers(void **state)
{
	struct capture c;
	int r1, r2, r3;

	capture_start(&c);
	errno = EAGAIN;
	r1 = log_error_errno(-ENOENT, "Failed to open %s", "/run/flannel/subnet.env");
	assert_int_equal(errno, EAGAIN);
	r2 = log_warn_errno(EACCES, "positive works too");
	r3 = log_warn_errno(0, "zero means EIO, with %%m: %m");
	_cleanup_free_ char *out = capture_end(&c);

	assert_int_equal(r1, -ENOENT);
	assert_int_equal(r2, -EACCES);
	assert_int_equal(r3, -EIO);

	char want[512];
	snprintf(want, sizeof(want), "] Failed to open /run/flannel/subnet.env: %s\n",
		 strerror(ENOENT));
	assert_non_null(strstr(out, want));
	assert_true(out[0] == 'E');
	snprintf(want, sizeof(want), "] positive works too: %s\n", strerror(EACCES));
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "] zero means EIO, with %%m: %s: %s\n", strerror(EIO),
		 strerror(EIO));
	assert_non_null(strstr(out, want));
	(void)state;
}

static void test_long_and_multiline(void **state)
{
	struct capture c;
	size_t n = 5000;
	_cleanup_free_ char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';

	capture_start(&c);
	log_info("%s", big);
	log_info("trailing newline\n");
	log_error_errno(-EINVAL, "%s", big);
	_cleanup_free_ char *out = capture_end(&c);

	/* three lines, the long ones complete */
	char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	assert_non_null(strstr(l1, big));
	assert_int_equal(strchr(l1, '\n') - strstr(l1, big), (long)n);
	assert_non_null(strstr(l2, "] trailing newline\n"));
	assert_true(strchr(l2, '\n') + 1 == l3);
	assert_non_null(strstr(l3, big));
	assert_int_equal(strchr(l3, '\n')[1], '\0');
	assert_non_null(strstr(l3, strerror(EINVAL)));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_severities_and_verbosity),
		cmocka_unit_test(test_errno_helpers),
		cmocka_unit_test(test_long_and_multiline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
