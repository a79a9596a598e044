/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the health server's request-line parser (cmd/http.c):
 * any bytes a client sends must parse or be refused without reading past
 * the input, and an accepted request must have a NUL-terminated method,
 * a path starting with '/' and no query in the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r;
	/* An exact-size copy, so ASan catches any read past the input. */
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (http_parse_request(copy, size, &r) == 0) {
		if (memchr(r.method, '\0', sizeof(r.method)) == NULL || r.path[0] != '/' ||
		    strchr(r.path, '?') || memchr(r.format, '\0', sizeof(r.format)) == NULL)
			abort();
	}
	free(copy);
	return 0;
}
