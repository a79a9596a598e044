/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fixed-size error message filled by parsers of untrusted input, so that
 * the caller can log one line naming the file, the field and the value, e.g.
 *   net-conf.json: Network: invalid CIDR "10.244.0.0/33"
 * Parsers return -errno and fill the message; callers add the file name.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>

#include "lib/core/macro.h"

struct errmsg {
	char text[512];
};

static inline _printf_(2, 3) int errmsg_set(struct errmsg *e, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->text, sizeof(e->text), fmt, ap);
		va_end(ap);
	}
	return 0;
}
