/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extension Backend object of net-conf.json (upstream backend/extension):
 *   {"Type":"extension","PreStartupCommand":"...","PostStartupCommand":"...",
 *    "SubnetAddCommand":"...","SubnetRemoveCommand":"..."}
 * Every command is optional; keys are case-insensitive, null or "" means
 * none. A command must have a program to run (ext_cmd.h). Pure.
 */
#pragma once

#include <stddef.h>

#include "lib/core/errmsg.h"

#define EXT_CONFIG_MAX_LEN (256 * 1024)

enum ext_command {
	EXT_PRE_STARTUP,
	EXT_POST_STARTUP,
	EXT_SUBNET_ADD,
	EXT_SUBNET_REMOVE,
	_EXT_COMMAND_MAX,
};

struct ext_config {
	char *cmd[_EXT_COMMAND_MAX]; /* NULL when not configured */
};

/* "PreStartupCommand", ... */
const char *ext_command_name(enum ext_command c);

/* On error err names the field: "Backend: SubnetAddCommand: expected a string, got number". */
int ext_config_parse(const char *json, size_t len, struct ext_config *ret, struct errmsg *err);
void ext_config_done(struct ext_config *c);
