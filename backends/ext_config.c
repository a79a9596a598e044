/* SPDX-License-Identifier: Apache-2.0 */
/* Parser of the extension Backend options (see ext_config.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext_cmd.h"
#include "ext_config.h"
#include "lib/json/json.h"
#include "options.h"

static const char *const command_names[] = {
	[EXT_PRE_STARTUP] = "PreStartupCommand",
	[EXT_POST_STARTUP] = "PostStartupCommand",
	[EXT_SUBNET_ADD] = "SubnetAddCommand",
	[EXT_SUBNET_REMOVE] = "SubnetRemoveCommand",
};

const char *ext_command_name(enum ext_command c)
{
	return (unsigned)c < _EXT_COMMAND_MAX ? command_names[c] : "?";
}

/* The variables are not known yet: a syntax check only. */
static const char *no_vars(const char *name, size_t len, void *userdata)
{
	return NULL;
}

void ext_config_done(struct ext_config *c)
{
	for (int k = 0; k < _EXT_COMMAND_MAX; k++) {
		free(c->cmd[k]);
		c->cmd[k] = NULL;
	}
}

int ext_config_parse(const char *json, size_t len, struct ext_config *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct ext_config c = {{0}};
	int r;

	r = backend_opt_object(json, len, EXT_CONFIG_MAX_LEN, &root, err);
	if (r < 0)
		return r;
	for (int k = 0; k < _EXT_COMMAND_MAX; k++) {
		struct errmsg e = {{0}};
		char **argv = NULL;
		const char *s;
		size_t argc;

		r = backend_opt_str(root, command_names[k], &s, err);
		if (r < 0)
			goto fail;
		if (r == 0 || !*s)
			continue;
		/* Words and the program are only known at run time (after
		 * expansion); what cannot run at all is refused now. */
		r = ext_cmd_split(s, no_vars, NULL, &argv, &argc, &e);
		ext_argv_free(argv);
		if (r == -EINVAL) {
			errmsg_set(err, "Backend: %s: no program to run (only white space)",
				   command_names[k]);
			goto fail;
		}
		if (r < 0) {
			errmsg_set(err, "Backend: %s: %s", command_names[k], e.text);
			goto fail;
		}
		c.cmd[k] = strdup(s);
		if (!c.cmd[k]) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	ext_config_done(&c);
	return r;
}
