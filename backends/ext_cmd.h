/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extension backend's command strings (upstream backend/extension):
 * no shell. A command is split into words on whitespace (Go's
 * strings.Fields: runs of Unicode white space, no quoting, no escapes),
 * then $NAME and ${NAME} are expanded in each word (Go's os.Expand, so a
 * value containing spaces stays one word): NAME is a run of letters,
 * digits and '_', or one of the special characters *#$@!?- or a digit;
 * ${...} takes everything up to the first '}'; an unset name expands to
 * nothing; "${}" and an unterminated "${" vanish; a '$' followed by
 * nothing of that (the end, a space, '/', ...) stays. The first word is
 * the program, run directly.
 * Pure: variables come from a callback.
 */
#pragma once

#include <stddef.h>

#include "lib/core/errmsg.h"

#define EXT_CMD_MAX_LEN	 (64 * 1024) /* a command string */
#define EXT_CMD_MAX_WORD (64 * 1024) /* a word after expansion */

/* A variable's value, or NULL when it is unset. name is not NUL-terminated. */
typedef const char *(*ext_lookup_fn)(const char *name, size_t len, void *userdata);

/*
 * Expand word[0..len) into a new string (*ret, the caller frees it).
 * -E2BIG when the result would exceed EXT_CMD_MAX_WORD.
 */
int ext_cmd_expand(const char *word, size_t len, ext_lookup_fn lookup, void *userdata, char **ret);

/*
 * Split cmd into words and expand each: a NULL-ended argv (ext_argv_free)
 * with *ret_argc >= 1. -EINVAL when cmd has no word (err says so), -E2BIG
 * when it is longer than EXT_CMD_MAX_LEN or a word grows past
 * EXT_CMD_MAX_WORD. err is a message without the field name.
 */
int ext_cmd_split(const char *cmd, ext_lookup_fn lookup, void *userdata, char ***ret_argv,
		  size_t *ret_argc, struct errmsg *err);
void ext_argv_free(char **argv);
