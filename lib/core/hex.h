/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The value of one hexadecimal digit, for the parsers that read them (MAC
 * addresses in lib/json/lease.c, YAML escapes in kube/yaml.c, JSON \u escapes in
 * cni/json.c). Header-only and libc-free, so the static CNI plugin can use
 * it too.
 */
#pragma once

/* 0..15, or -1 when c is not a hex digit. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
