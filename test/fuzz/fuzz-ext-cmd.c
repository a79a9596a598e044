/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extension backend's command strings and Backend object: the input is
 * split at its first NUL into a command (split and expanded with a few
 * variables, one of them the rest of the input) and, whole, a Backend
 * object for ext_config_parse(). Invariants: a split yields at least one
 * word, none longer than EXT_CMD_MAX_WORD and none holding white space
 * unless a variable brought it; a failed parse names the Backend.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ext_cmd.h"
#include "backends/ext_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *value;

static const char *lookup(const char *name, size_t len, void *userdata)
{
	(void)userdata;
	if (len == 1 && name[0] == 'V')
		return value;
	if (len == 6 && memcmp(name, "SUBNET", 6) == 0)
		return "198.18.1.0/24";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *nul;
	struct ext_config c;
	struct errmsg err = {{0}};
	char **argv = NULL;
	size_t argc = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nul = memchr(data, '\0', size);
	value = nul ? s + (nul - (const char *)data) + 1 : "";
	if (ext_cmd_split(s, lookup, NULL, &argv, &argc, &err) == 0) {
		if (argc < 1 || argv[argc] != NULL)
			abort();
		for (size_t k = 0; k < argc; k++)
			if (strlen(argv[k]) > EXT_CMD_MAX_WORD ||
			    (!strchr(s, '$') && strpbrk(argv[k], " \t\n\v\f\r")))
				abort();
		ext_argv_free(argv);
	} else if (memchr(err.text, '\0', sizeof(err.text)) == NULL || !err.text[0]) {
		abort();
	}

	memset(&err, 0, sizeof(err));
	if (ext_config_parse((const char *)data, size, &c, &err) < 0) {
		if (memchr(err.text, '\0', sizeof(err.text)) == NULL ||
		    strncmp(err.text, "Backend: ", 9) != 0)
			abort();
	} else {
		for (int k = 0; k < _EXT_COMMAND_MAX; k++)
			if (c.cmd[k] && !c.cmd[k][0])
				abort();
		ext_config_done(&c);
	}
	free(s);
	return 0;
}
