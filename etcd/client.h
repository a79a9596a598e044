/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd v3 client over the JSON gateway (POST /v3/...), on the daemon's loop
 * through libcurl's multi-socket interface. Single-threaded; callbacks run
 * from the loop.
 *
 *   - endpoints: a comma-separated list (--etcd-endpoints); a request goes
 *     to the current endpoint and fails over to the next one on transport
 *     errors and on "unavailable" answers, with a short backoff once every
 *     endpoint has been tried;
 *   - TLS client certificate only when both cert and key are set (as
 *     upstream; the CA is used with them), otherwise plain HTTP with a
 *     warning; TLS 1.2 minimum;
 *   - username/password: a token from /v3/auth/authenticate, sent in the
 *     Authorization header and renewed once when etcd rejects it;
 *   - streams (the watch): the body is handed over as it arrives, no
 *     request timeout, TCP keepalive to notice a dead peer.
 *
 * Errors: etcd's gRPC code (etcd_grpc_errno()) when the body has one, else
 * curl_loop_errno(): the HTTP status (401 -EACCES, 403 -EPERM, 404 -ENOENT,
 * 400 -EINVAL, 5xx -EAGAIN, other -EPROTO), else the transport (refused
 * -ECONNREFUSED, timeout -ETIMEDOUT, reset -ECONNRESET, resolve -EHOSTUNREACH,
 * TLS -EPROTO / -EKEYREJECTED). Transient ones (curl_loop_retryable()) fail
 * over to the next endpoint.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/loop.h"

#define ETCD_MAX_ENDPOINTS 16

struct etcd_client;
struct etcd_request;

struct etcd_client_config {
	const char *endpoints; /* "http://127.0.0.1:2379,https://10.0.0.2:2379" */
	const char *ca_file, *cert_file, *key_file;
	const char *username, *password; /* password copied and wiped on free */
	uint64_t connect_timeout_usec;	 /* 0: 5 s */
	uint64_t request_timeout_usec;	 /* non-stream requests; 0: 15 s */
	size_t max_body;		 /* non-stream responses; 0: 64 MiB */
};

/*
 * Completion. r: 0 or -errno. body/len: the response body (on error the
 * error body), NUL-terminated, borrowed for the call. error: on failure a
 * one-line reason (etcd's message or the transport error), else NULL.
 */
typedef void (*etcd_done_fn)(int r, const char *body, size_t len, const char *error,
			     void *userdata);
/* Stream data; a negative return aborts the stream with that error. */
typedef int (*etcd_data_fn)(const char *data, size_t n, void *userdata);

int etcd_client_new(struct loop *loop, const struct etcd_client_config *config,
		    struct etcd_client **ret);
struct etcd_client *etcd_client_free(struct etcd_client *c);

/* POST body (JSON) to path ("/v3/kv/range"). The request is owned by the
 * client: it is freed after done runs, or by etcd_request_cancel() (then
 * done is not called). ret may be NULL. */
int etcd_client_post(struct etcd_client *c, const char *path, const char *body, size_t len,
		     etcd_done_fn done, void *userdata, struct etcd_request **ret);
/* Same for a streaming response (the watch): data gets the body as it comes,
 * done is called when the stream ends (0 when the server closed it). */
int etcd_client_stream(struct etcd_client *c, const char *path, const char *body, size_t len,
		       etcd_data_fn data, etcd_done_fn done, void *userdata,
		       struct etcd_request **ret);
void etcd_request_cancel(struct etcd_request *req);

/* Forget the auth token (etcd said it is invalid somewhere the client cannot
 * see, e.g. in a watch cancelation): the next request authenticates again. */
void etcd_client_drop_token(struct etcd_client *c);

/* The endpoint requests currently go to. */
const char *etcd_client_endpoint(const struct etcd_client *c);
unsigned etcd_client_endpoint_count(const struct etcd_client *c);

/* Split and validate a --etcd-endpoints value (pure). Each endpoint must be
 * http:// or https://; trailing '/' dropped. Returns the count or -EINVAL. */
int etcd_endpoints_parse(const char *s, char *ret[static ETCD_MAX_ENDPOINTS]);
