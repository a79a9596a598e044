/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The health/metrics/status HTTP server of flanneld: libmicrohttpd driven by
 * our epoll loop (no internal thread). Only GET and HEAD; request headers
 * and bodies are bounded by a per-connection memory limit, connections by a
 * count and an idle timeout, so a slow or oversized client cannot stall the
 * loop.
 */
#pragma once

#include <stdint.h>

#include "lib/buf.h"
#include "lib/loop.h"

struct http_server;

/* Fill body and content type; return the HTTP status code. query may be NULL. */
typedef int (*http_handler_fn)(const char *path, const char *query, struct buf *body,
			       const char **content_type, void *userdata);

int http_server_new(struct loop *loop, const char *ip, uint16_t port, http_handler_fn handler,
		    void *userdata, struct http_server **ret);
void http_server_free(struct http_server *s);
