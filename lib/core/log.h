/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging in klog's line format, to stderr:
 *
 *   I1128 22:05:01.123456    1234 file.c:42] message
 *
 * Severity letters I, W, E, F. Details are logged with log_v(N, ...) and only
 * shown when the verbosity (-v) is at least N. Log once, where the context is:
 * the *_errno helpers log and return the negative errno so that callers can
 * write `return log_error_errno(r, "...")`. Secrets (tokens, passwords) are
 * never passed to these functions.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "lib/core/macro.h"

extern int log_verbosity;

void log_set_verbosity(int v);
/* Redirect output (tests); NULL restores stderr. */
void log_set_stream(FILE *f);

/* Called with every warning and error message (without the klog header), after it
 * was written: the daemon keeps the last ones for its status view. */
typedef void (*log_hook_fn)(char severity, const char *message, void *userdata);
void log_set_hook(log_hook_fn fn, void *userdata);

void log_internal(char severity, const char *file, int line, const char *fmt, ...) _printf_(4, 5);
/* Appends ": <strerror(|err|)>" and returns -|err| (or -EIO when err is 0). */
int log_internal_errno(char severity, const char *file, int line, int err, const char *fmt, ...)
	_printf_(5, 6);

#define log_info(...)  log_internal('I', __FILE_NAME__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_internal('W', __FILE_NAME__, __LINE__, __VA_ARGS__)
#define log_error(...) log_internal('E', __FILE_NAME__, __LINE__, __VA_ARGS__)
#define log_v(level, ...)                                                        \
	do {                                                                     \
		if (_unlikely_(log_verbosity >= (level)))                        \
			log_internal('I', __FILE_NAME__, __LINE__, __VA_ARGS__); \
	} while (0)

#define log_warn_errno(err, ...) \
	log_internal_errno('W', __FILE_NAME__, __LINE__, (err), __VA_ARGS__)
#define log_error_errno(err, ...) \
	log_internal_errno('E', __FILE_NAME__, __LINE__, (err), __VA_ARGS__)
