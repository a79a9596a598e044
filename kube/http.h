/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP client for the API server, on lib/curl/curl_loop.h (libcurl's multi-socket
 * interface driven by the daemon's single epoll loop). Keep-alive connections, TLS verified against the configured CA,
 * TCP keepalive + TCP_USER_TIMEOUT, a bearer token re-read as client-go does,
 * Accept: application/json, User-Agent flanneld/<version>.
 *
 * Requests are asynchronous: bodies of 2xx responses are either collected
 * (bounded) or, with a data callback, streamed (LIST pages, watches); the
 * completion callback gets 0 or a -errno from kube_http_errno() (the shared
 * curl_loop_errno() table refined with Kubernetes' codes):
 *
 *   2xx 0           400/422 -EINVAL     401 -EACCES      403 -EPERM
 *   404 -ENOENT     405 -EOPNOTSUPP     409 -EBUSY       410 -ESTALE (relist)
 *   415 -EPROTO     429/5xx -EAGAIN     other 4xx/1xx/3xx -EPROTO
 *   connect refused -ECONNREFUSED  resolve -EHOSTUNREACH  timeout -ETIMEDOUT
 *   TLS -EPROTO (certificate: -EKEYREJECTED)  dropped/partial -ECONNRESET
 *   write callback abort: the callback's own error   out of memory -ENOMEM
 *
 * Transient failures (-EAGAIN, -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT,
 * -EHOSTUNREACH, and one -EACCES after re-reading the token) are retried up
 * to max_attempts with exponential backoff and jitter (Retry-After honoured).
 * Single-threaded; callbacks run from the loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/config.h"
#include "lib/core/loop.h"

enum kube_verb {
	KUBE_VERB_GET,
	KUBE_VERB_LIST,
	KUBE_VERB_WATCH,
	KUBE_VERB_PATCH,
	_KUBE_VERB_MAX,
};

/* Latency buckets, in seconds (Prometheus "le"), plus +Inf. */
#define KUBE_LATENCY_BUCKETS                                \
	{                                                   \
		0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 \
	}
#define KUBE_N_LATENCY_BUCKETS 9

struct kube_http_stats {
	/* by code class: [0] no HTTP response, [1..5] 1xx..5xx */
	uint64_t requests[_KUBE_VERB_MAX][6];
	/* non-cumulative counts per bucket; the last one is +Inf */
	uint64_t latency[_KUBE_VERB_MAX][KUBE_N_LATENCY_BUCKETS + 1];
	uint64_t latency_sum_usec[_KUBE_VERB_MAX];
};

typedef void (*kube_metric_fn)(enum kube_verb verb, long status, int r, uint64_t latency_usec,
			       void *userdata);

struct kube_http_options {
	uint64_t connect_timeout_usec; /* 0: 10 s */
	uint64_t request_timeout_usec; /* non-stream requests; 0: 60 s */
	bool http2;		       /* offer HTTP/2 over TLS (default: HTTP/1.1) */
	kube_metric_fn metric;	       /* optional, called once per attempt */
	void *metric_userdata;
};

/* 2xx body data; a negative return aborts the transfer with that error. */
typedef int (*kube_data_fn)(const char *data, size_t n, void *userdata);
/* Completion. body: the collected body (non-stream 2xx, or any error body,
 * at most 64 KiB of it), NUL-terminated; borrowed for the call. */
typedef void (*kube_done_fn)(int r, long status, const char *body, size_t len, void *userdata);

struct kube_request_spec {
	enum kube_verb verb;
	const char *method; /* NULL: GET */
	const char *path;   /* "/api/v1/nodes?limit=500", appended to the server URL */
	const char *content_type;
	const char *body;
	size_t body_len;
	bool watch; /* long-lived: no total timeout but timeout_usec, no low-speed limit */
	uint64_t timeout_usec; /* watch: overall cap; 0: none */
	size_t max_body;       /* collected 2xx bodies; 0: 4 MiB */
	unsigned max_attempts; /* 0 or 1: no retry */
	kube_data_fn data;     /* NULL: collect the body */
	kube_done_fn done;
	void *userdata;
};

struct kube_http;
struct kube_request;

int kube_http_new(struct loop *loop, const struct kube_config *config,
		  const struct kube_http_options *opts, struct kube_http **ret);
struct kube_http *kube_http_free(struct kube_http *h); /* cancels everything, no callbacks */

/* Start a request. The spec's strings are copied. *ret (optional) is valid
 * until done has returned or the request is cancelled. */
int kube_http_start(struct kube_http *h, const struct kube_request_spec *spec,
		    struct kube_request **ret);
/* No callback is made after this. NULL is fine. Not from inside its own done. */
void kube_request_cancel(struct kube_request *req);

/* Re-read the token file on the next request (SIGHUP). */
void kube_http_reload_token(struct kube_http *h);
const struct kube_http_stats *kube_http_stats(const struct kube_http *h);

/* HTTP status/CURLcode -> -errno: curl_loop_errno() plus the Kubernetes
 * codes above (pure). Retried: curl_loop_retryable(). */
int kube_http_errno(int curl_code, long http_status);
/* message and code of a Status object body, for logs; "" when not a Status. */
void kube_status_message(const char *body, size_t len, char *buf, size_t size, long *ret_code);

/* The loop the client runs on (for callers' own timers). */
struct loop *kube_http_loop(const struct kube_http *h);
