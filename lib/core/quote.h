/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quoting of untrusted values for error messages and logs, in the style of
 * Go's %q: the value in double quotes, with '"', '\\' and every byte that
 * is not printable ASCII escaped, so that a hostile value can neither break
 * a log line nor hide what it is. Long values are cut and end in "...".
 */
#pragma once

#include <stddef.h>

/* Buffer size that holds any quoted value (the cut happens before it fills up). */
#define QUOTE_BUF_SIZE 160

/* Quote s[0..len) into buf (size > 8) and return buf. Never fails. */
const char *quote_mem(const char *s, size_t len, char *buf, size_t size);
/* Same for a NUL-terminated string; NULL quotes as "". */
const char *quote_str(const char *s, char *buf, size_t size);
