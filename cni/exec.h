/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a delegate plugin: find <type> in CNI_PATH, execute it with our
 * environment (CNI_COMMAND replaced by the command asked for) and the
 * configuration on its stdin, collect its stdout (bounded) and exit status,
 * with a timeout after which it is killed. Its stderr is ours.
 */
#pragma once

#include <stddef.h>

#define CNI_EXEC_MAX_OUTPUT  (1024 * 1024)
#define CNI_EXEC_TIMEOUT_SEC 120

struct cni_exec_req {
	const char *cni_path; /* CNI_PATH: directories separated by ':' */
	const char *type;     /* plugin name, a plain file name */
	const char *command;  /* ADD, DEL, CHECK, GC, STATUS */
	const char *config;   /* stdin of the delegate */
	size_t config_len;
	char *const *env;     /* base environment; NULL means environ */
	unsigned timeout_sec; /* 0 means CNI_EXEC_TIMEOUT_SEC */
};

struct cni_exec_result {
	int status; /* exit code; 128 + signal number when killed by a signal */
	char *out;  /* stdout, NUL-terminated */
	size_t out_len;
};

/*
 * Full path of the plugin in ret: -EINVAL for a type that is not a plain
 * name, -ENOENT when no directory of cni_path has an executable of that name.
 */
int cni_exec_find(const char *cni_path, const char *type, char **ret);
/*
 * 0 when the plugin ran (whatever its exit status), -ENOENT when not found,
 * -ETIMEDOUT when killed after the timeout, -EFBIG when its output exceeded
 * CNI_EXEC_MAX_OUTPUT (it is killed too), other -errno from the system.
 */
int cni_exec(const struct cni_exec_req *req, struct cni_exec_result *ret);
void cni_exec_result_done(struct cni_exec_result *r);
