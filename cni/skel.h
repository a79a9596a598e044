/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI protocol shell, like the reference skel library: reads and checks
 * the CNI_* environment and the (bounded) configuration on stdin, checks the
 * configuration's cniVersion against the plugin's, answers VERSION itself,
 * dispatches the other commands to the plugin's handlers and prints errors
 * as spec error JSON on stdout with the spec's codes.
 *
 * All I/O goes through struct cni_io, so unit tests drive a whole plugin
 * invocation with a fake environment, stdin, stdout and delegate exec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "exec.h"

/* Spec error codes (CNI SPEC "Well-known Error Codes"). */
enum {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN_LATER = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_INTERNAL = 999,
};

struct cni_io {
	void *userdata;
	/* NULL when unset. */
	const char *(*getenv)(void *userdata, const char *name);
	/* Reads all of stdin, at most max bytes (-EFBIG beyond); NUL-terminated. */
	int (*read_stdin)(void *userdata, size_t max, char **ret, size_t *ret_len);
	/* Runs a delegate (cni_exec() in the real plugin). */
	int (*exec)(void *userdata, const struct cni_exec_req *req, struct cni_exec_result *ret);
	FILE *out;
	FILE *err;
};

/* One invocation, as checked by the shell. */
struct cni_args {
	const struct cni_io *io;
	const char *command;
	const char *container_id; /* NULL when not required and unset */
	const char *netns;
	const char *ifname;
	const char *path;
	char *config; /* stdin, owned by the shell */
	size_t config_len;
	struct cni_conf conf;
};

/*
 * What a failed command reports. Either code/msg/details, or raw: a
 * delegate's own error JSON, printed unchanged.
 */
struct cni_error {
	unsigned code;
	char msg[256];
	char details[1024];
	char *raw;
	size_t raw_len;
};

int cni_error_set(struct cni_error *e, unsigned code, const char *msg, const char *details_fmt, ...)
	_printf_(4, 5);

typedef int (*cni_cmd_fn)(const struct cni_args *a, struct cni_error *e);

struct cni_plugin {
	const char *about; /* printed on stderr when CNI_COMMAND is unset */
	cni_cmd_fn add, del, check, gc, status;
};

/* Supported spec versions, "0.3.0" ... "1.1.0". */
extern const char *const cni_supported_versions[];
bool cni_version_supported(const char *v);

/* Runs one invocation; returns the process exit code (0 or 1). */
int cni_skel_run(const struct cni_io *io, const struct cni_plugin *plugin);
