/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: the recorded kube-apiserver exchanges, kept in the tree at
 * $SRC_DIR/test/apiserver/kube-wire (copies of the project's shared
 * recordings, also replayed against the test API server). wire_response_body() returns the
 * response body of an NN-name.http file (everything after the blank line
 * following "### response").
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/fileio.h"

static __attribute__((noinline, unused)) char *wire_read(const char *name, size_t *len)
{
	const char *src = getenv("SRC_DIR");
	char path[4096];
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/test/apiserver/kube-wire/%s", src ? src : ".", name);
	if (read_file_bounded(path, 16 * 1024 * 1024, &data, len) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	return data;
}

static __attribute__((noinline, unused)) char *wire_response_body(const char *name, size_t *len)
{
	size_t n;
	char *data = wire_read(name, &n);
	char *resp = strstr(data, "\n### response\n");
	char *body = resp ? strstr(resp, "\n\n") : NULL;

	if (!body) {
		fprintf(stderr, "%s: no response body\n", name);
		abort();
	}
	body += 2;
	*len = n - (size_t)(body - data);
	memmove(data, body, *len + 1);
	return data;
}
