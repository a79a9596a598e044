/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of backends/ext_cmd.c (the extension backend's command
 * splitting and $VAR expansion, Go's strings.Fields + os.Expand) and of
 * backends/ext_config.c (its Backend options, errors naming the field).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ext_cmd.h"
#include "backends/ext_config.h"

/* Variables: A=alpha, EMPTY="", SP="a b", DOLLAR=$X, 1=one, @=at, K=1000 k; the rest unset. */
static const char *lookup(const char *name, size_t len, void *userdata)
{
	static const char *const vars[] = {"A=alpha",
					   "EMPTY=",
					   "SP=a b",
					   "DOLLAR=$X",
					   "1=one",
					   "@=at",
					   "SUBNET=198.18.1.0/24"};

	static char k1000[1001];

	(void)userdata;
	if (len == 1 && name[0] == 'K') {
		memset(k1000, 'k', 1000);
		return k1000;
	}
	for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++)
		if (strncmp(vars[k], name, len) == 0 && vars[k][len] == '=')
			return vars[k] + len + 1;
	return NULL;
}

static void expect_expand(const char *in, const char *want)
{
	char *out = NULL;

	assert_int_equal(ext_cmd_expand(in, strlen(in), lookup, NULL, &out), 0);
	if (strcmp(out, want) != 0)
		fail_msg("expand(\"%s\") = \"%s\", want \"%s\"", in, out, want);
	free(out);
}

static void test_expand(void **state)
{
	(void)state;
	expect_expand("", "");
	expect_expand("plain", "plain");
	expect_expand("$A", "alpha");
	expect_expand("${A}", "alpha");
	expect_expand("x$A.y", "xalpha.y");
	expect_expand("x${A}y", "xalphay");
	expect_expand("$Ay", "");      /* the name is "Ay", unset */
	expect_expand("$UNSET-", "-"); /* unset: nothing */
	expect_expand("$EMPTY|", "|");
	expect_expand("$SP", "a b");	/* a value with spaces stays one word */
	expect_expand("$DOLLAR", "$X"); /* no second expansion */
	expect_expand("$", "$");	/* a trailing dollar stays */
	expect_expand("a$", "a$");
	expect_expand("$/x", "$/x"); /* no name: the dollar stays */
	expect_expand("$ ", "$ ");
	expect_expand("${}x", "x");   /* bad syntax, eaten */
	expect_expand("${Ax", "Ax");  /* unterminated: the "${" goes */
	expect_expand("$1x", "onex"); /* a digit is a name by itself */
	expect_expand("${1}", "one");
	expect_expand("$@", "at");
	expect_expand("${@}", "at");
	expect_expand("$$", "");     /* "$" is a special name, unset */
	expect_expand("${A B}", ""); /* braces take anything up to '}' */
	expect_expand("${SUBNET}", "198.18.1.0/24");
	expect_expand("a\xc3\xa9$A", "a\xc3\xa9"
				     "alpha");
}

static char **split(const char *cmd, size_t *argc, int *r)
{
	struct errmsg err = {{0}};
	char **argv = NULL;

	*r = ext_cmd_split(cmd, lookup, NULL, &argv, argc, &err);
	return argv;
}

static void test_split(void **state)
{
	size_t argc = 0;
	char **argv;
	int r;

	(void)state;
	argv = split("  /sbin/ip  route\treplace $SUBNET via ${A}\n", &argc, &r);
	assert_int_equal(r, 0);
	assert_int_equal(argc, 6);
	assert_string_equal(argv[0], "/sbin/ip");
	assert_string_equal(argv[1], "route");
	assert_string_equal(argv[2], "replace");
	assert_string_equal(argv[3], "198.18.1.0/24");
	assert_string_equal(argv[4], "via");
	assert_string_equal(argv[5], "alpha");
	assert_null(argv[6]);
	ext_argv_free(argv);

	/* Split first, then expand: a value with spaces is one argument. */
	argv = split("echo $SP 'q r'", &argc, &r);
	assert_int_equal(r, 0);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[1], "a b");
	assert_string_equal(argv[2], "'q"); /* no quoting, as upstream */
	assert_string_equal(argv[3], "r'");
	ext_argv_free(argv);

	/* An unset variable leaves an empty argument, not none. */
	argv = split("prog $UNSET x", &argc, &r);
	assert_int_equal(r, 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[1], "");
	ext_argv_free(argv);

	/* Unicode white space separates too (Go's unicode.IsSpace). */
	argv = split("a\xc2\xa0"
		     "b\xe2\x80\x83"
		     "c\xe3\x80\x80"
		     "d\xc2\x85"
		     "e\xe2\x80\xa8"
		     "f",
		     &argc, &r);
	assert_int_equal(r, 0);
	assert_int_equal(argc, 6);
	assert_string_equal(argv[5], "f");
	ext_argv_free(argv);
	/* ... but not other multi-byte characters. */
	argv = split("a\xe2\x80\x8b"
		     "b",
		     &argc, &r); /* U+200B is not white space */
	assert_int_equal(r, 0);
	assert_int_equal(argc, 1);
	ext_argv_free(argv);

	argv = split("", &argc, &r);
	assert_int_equal(r, -EINVAL);
	assert_null(argv);
	argv = split(" \t\n", &argc, &r);
	assert_int_equal(r, -EINVAL);
}

static void test_limits(void **state)
{
	size_t n = EXT_CMD_MAX_LEN + 1, argc;
	char *big = malloc(n + 1);
	char **argv = NULL;
	struct errmsg err = {{0}};
	int r;

	(void)state;
	memset(big, 'x', n);
	big[n] = '\0';
	assert_int_equal(ext_cmd_split(big, lookup, NULL, &argv, &argc, &err), -E2BIG);
	assert_non_null(strstr(err.text, "longer than"));
	/* A word that grows past the limit through expansion. */
	big[0] = '\0';
	for (size_t k = 0; k < EXT_CMD_MAX_WORD / 1000 + 1; k++)
		strcat(big, "$K");
	r = ext_cmd_split(big, lookup, NULL, &argv, &argc, &err);
	assert_int_equal(r, -E2BIG);
	assert_non_null(strstr(err.text, "word 1"));
	free(big);
}

static int parse(const char *json, struct ext_config *c, struct errmsg *err)
{
	memset(err, 0, sizeof(*err));
	return ext_config_parse(json, strlen(json), c, err);
}

static void test_config(void **state)
{
	struct ext_config c;
	struct errmsg err;

	(void)state;
	assert_int_equal(parse("{\"Type\":\"extension\"}", &c, &err), 0);
	for (int k = 0; k < _EXT_COMMAND_MAX; k++)
		assert_null(c.cmd[k]);
	ext_config_done(&c);

	/* Keys are case-insensitive; "" and null mean none. */
	assert_int_equal(
		parse("{\"prestartupcommand\":\"/bin/echo hi\",\"PostStartupCommand\":null,"
		      "\"SUBNETADDCOMMAND\":\"/bin/true $SUBNET\",\"SubnetRemoveCommand\":\"\"}",
		      &c, &err),
		0);
	assert_string_equal(c.cmd[EXT_PRE_STARTUP], "/bin/echo hi");
	assert_null(c.cmd[EXT_POST_STARTUP]);
	assert_string_equal(c.cmd[EXT_SUBNET_ADD], "/bin/true $SUBNET");
	assert_null(c.cmd[EXT_SUBNET_REMOVE]);
	ext_config_done(&c);

	assert_int_equal(parse("{\"SubnetAddCommand\":5}", &c, &err), -EINVAL);
	assert_string_equal(err.text, "Backend: SubnetAddCommand: expected a string, got number");
	assert_int_equal(parse("{\"PreStartupCommand\":\"  \\t \"}", &c, &err), -EINVAL);
	assert_string_equal(err.text,
			    "Backend: PreStartupCommand: no program to run (only white space)");
	assert_int_equal(parse("{\"SubnetRemoveCommand\":[\"ip\"]}", &c, &err), -EINVAL);
	assert_string_equal(err.text, "Backend: SubnetRemoveCommand: expected a string, got array");
	assert_int_equal(parse("[]", &c, &err), -EINVAL);
	assert_string_equal(err.text, "Backend: expected an object, got array");
	assert_true(parse("{", &c, &err) < 0);
	assert_non_null(strstr(err.text, "Backend: invalid JSON"));
	assert_string_equal(ext_command_name(EXT_SUBNET_REMOVE), "SubnetRemoveCommand");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
