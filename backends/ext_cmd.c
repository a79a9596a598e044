/* SPDX-License-Identifier: Apache-2.0 */
/* Splitting and expanding the extension backend's commands (see ext_cmd.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ext_cmd.h"
#include "lib/core/macro.h"

/* Bytes of the white-space rune at s[0..n) (Go's unicode.IsSpace), 0 when none. */
static size_t space_len(const unsigned char *s, size_t n)
{
	if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2; /* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3; /* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf) && s[2] >= 0x80)
		return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3; /* U+205F */
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

static bool is_special(char c)
{
	return strchr("*#$@!?-", c) != NULL || (c >= '0' && c <= '9');
}

static bool is_name_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/*
 * The name after a '$' at s[0..n) (n >= 1), its length, and how many bytes
 * it takes (width). Length 0 with width > 0: bad syntax, eaten; both 0: no
 * name, the '$' stays.
 */
static void shell_name(const char *s, size_t n, const char **name, size_t *name_len, size_t *width)
{
	size_t i;

	*name = s;
	*name_len = 0;
	*width = 0;
	if (s[0] == '{') {
		if (n > 2 && is_special(s[1]) && s[2] == '}') {
			*name = s + 1;
			*name_len = 1;
			*width = 3;
			return;
		}
		for (i = 1; i < n; i++)
			if (s[i] == '}') {
				*name = s + 1;
				*name_len = i - 1;
				*width = i == 1 ? 2 : i + 1;
				return;
			}
		*width = 1; /* an unterminated "${": the brace goes */
		return;
	}
	if (is_special(s[0])) {
		*name_len = 1;
		*width = 1;
		return;
	}
	for (i = 0; i < n && is_name_char(s[i]); i++)
		;
	*name_len = i;
	*width = i;
}

struct out {
	char *p;
	size_t len, cap;
};

static int out_add(struct out *o, const char *s, size_t n)
{
	if (n > EXT_CMD_MAX_WORD - o->len)
		return -E2BIG;
	if (o->len + n + 1 > o->cap) {
		size_t cap = MAX(o->cap * 2, o->len + n + 1);
		char *p = realloc(o->p, MIN(cap, (size_t)EXT_CMD_MAX_WORD + 1));
		if (!p)
			return -ENOMEM;
		o->p = p;
		o->cap = MIN(cap, (size_t)EXT_CMD_MAX_WORD + 1);
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	return 0;
}

int ext_cmd_expand(const char *word, size_t len, ext_lookup_fn lookup, void *userdata, char **ret)
{
	struct out o = {0};
	size_t i = 0;
	int r = out_add(&o, "", 0);

	for (size_t j = 0; j < len && r >= 0; j++) {
		const char *name, *v;
		size_t name_len, w;

		if (word[j] != '$' || j + 1 >= len)
			continue;
		r = out_add(&o, word + i, j - i);
		if (r < 0)
			break;
		shell_name(word + j + 1, len - j - 1, &name, &name_len, &w);
		if (name_len > 0) {
			v = lookup(name, name_len, userdata);
			if (v)
				r = out_add(&o, v, strlen(v));
		} else if (w == 0) {
			r = out_add(&o, "$", 1);
		}
		j += w;
		i = j + 1;
	}
	if (r >= 0 && i < len)
		r = out_add(&o, word + i, len - i);
	if (r < 0) {
		free(o.p);
		return r;
	}
	*ret = o.p;
	return 0;
}

void ext_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int ext_cmd_split(const char *cmd, ext_lookup_fn lookup, void *userdata, char ***ret_argv,
		  size_t *ret_argc, struct errmsg *err)
{
	const unsigned char *s = (const unsigned char *)cmd;
	size_t n = strlen(cmd), argc = 0, cap = 0;
	char **argv = NULL;
	int r = 0;

	if (n > EXT_CMD_MAX_LEN) {
		errmsg_set(err, "longer than %d bytes", EXT_CMD_MAX_LEN);
		return -E2BIG;
	}
	for (size_t i = 0; i < n;) {
		size_t sp = space_len(s + i, n - i), start;
		char **nv;

		if (sp > 0) {
			i += sp;
			continue;
		}
		start = i;
		while (i < n && space_len(s + i, n - i) == 0)
			i++;
		if (argc + 2 > cap) {
			cap = MAX(cap * 2, 8u);
			nv = realloc(argv, cap * sizeof(*argv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			argv = nv;
		}
		argv[argc + 1] = NULL;
		r = ext_cmd_expand(cmd + start, i - start, lookup, userdata, &argv[argc]);
		if (r < 0) {
			argv[argc] = NULL;
			if (r == -E2BIG)
				errmsg_set(err, "word %zu is longer than %d bytes once expanded",
					   argc + 1, EXT_CMD_MAX_WORD);
			break;
		}
		argc++;
	}
	if (r >= 0 && argc == 0) {
		errmsg_set(err, "no program to run");
		r = -EINVAL;
	}
	if (r < 0) {
		ext_argv_free(argv);
		return r;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	return 0;
}
