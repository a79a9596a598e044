/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The health/metrics/status HTTP server of flanneld, on the daemon's epoll
 * loop: GET and HEAD only, one request per connection, every client bounded
 * in count, head size and lifetime (see http.c), so none can stall the loop.
 */
#pragma once

#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/loop.h"

struct http_server;

/* Fill body and content type; return the HTTP status code. format: the
 * ?format= query parameter, or NULL. */
typedef int (*http_handler_fn)(const char *path, const char *format, struct buf *body,
			       const char **content_type, void *userdata);

int http_server_new(struct loop *loop, const char *ip, uint16_t port, http_handler_fn handler,
		    void *userdata, struct http_server **ret);
/* The bound port (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);
void http_server_free(struct http_server *s);

struct http_request {
	char method[16];
	char path[256];
	char format[16]; /* the format= query parameter, "" when absent */
};

/*
 * Pure: parse the request line of a head. -EBADMSG when malformed,
 * -EPROTONOSUPPORT when not HTTP/1.0 or 1.1, -ENAMETOOLONG for a long path.
 */
int http_parse_request(const char *head, size_t len, struct http_request *ret);
