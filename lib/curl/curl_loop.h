/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl's multi-socket interface driven by the daemon's single epoll loop
 * (lib/core/loop.h), as in curl's ephiperfifo example: the HTTP engine under both
 * the Kubernetes client (kube/http.c) and the etcd client (etcd/client.c).
 * They keep their own policy (authentication, status codes, retries,
 * endpoints); this module owns the sockets, timers and easy handles.
 *
 * One transfer (struct curl_loop_xfer) is one HTTP request/response on its
 * own easy handle, with the options both clients share (user agent,
 * NOSIGNAL, http/https only, connect and total timeouts, low-speed abort,
 * TCP keepalive + TCP_KEEPCNT 3 + TCP_USER_TIMEOUT, TLS files or PEM blobs).
 * The body of a 2xx response is either collected (at most max_body bytes,
 * beyond that the transfer fails with -EFBIG) or streamed to a data
 * callback; any other response's body is collected up to 64 KiB, the rest
 * dropped. A transfer keeps copies of everything it sends (URL, headers,
 * request body, wiped when freed), so its owner may go away at any time.
 *
 * curl forbids adding or removing handles from inside its own callbacks, and
 * the data callbacks run inside curl's write callback (a watch event can make
 * the daemon start a request). So starting a transfer only queues it and arms
 * a zero-delay "kick" timer that adds it; a cancel from inside curl is
 * deferred to the kick the same way. Single-threaded; callbacks run from the
 * loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/loop.h"
#include "lib/core/macro.h"

#define CURL_LOOP_ERROR_BODY_MAX (64 * 1024)

struct curl_loop;
struct curl_loop_xfer;

struct curl_loop_tls {
	const char *ca_file, *cert_file, *key_file;
	const char *ca_data, *cert_data, *key_data; /* PEM; preferred over the files */
	size_t ca_data_len, cert_data_len, key_data_len;
	bool insecure_skip_verify;
	bool tls12_min; /* refuse TLS < 1.2 */
};

/* 2xx body data; a negative return aborts the transfer with that error. */
typedef int (*curl_loop_data_fn)(const char *data, size_t n, void *userdata);

struct curl_loop_result {
	int curl_code; /* CURLcode */
	long status;   /* HTTP status; 0 when there was no response */
	/* The data callback's error, -EFBIG (2xx body over max_body), -ENOMEM; else 0. */
	int error;
	bool delivered; /* the data callback got some of the body */
	/* The collected body (see above), NUL-terminated; the callee may take it. */
	struct buf *body;
	const char *errbuf;	   /* curl's message about the failure; "" when none */
	uint64_t retry_after_usec; /* a Retry-After header's delay; 0 when none */
};

/* Completion: called once per started transfer unless it was cancelled. The
 * transfer is freed when this returns; do not cancel it from here. */
typedef void (*curl_loop_done_fn)(const struct curl_loop_result *res, void *userdata);

struct curl_loop_xfer_options {
	const char *url;
	const char *path;   /* appended to url when set ("/api/v1/nodes") */
	const char *method; /* NULL: GET, or POST when there is a body */
	const char *body;   /* copied; NULL: none */
	size_t body_len;
	bool http2;			 /* offer HTTP/2 over TLS (else HTTP/1.1) */
	const char *accept_encoding;	 /* NULL: none */
	uint64_t connect_timeout_usec;	 /* 0: curl's default */
	uint64_t timeout_usec;		 /* the whole transfer; 0: none */
	unsigned low_speed_time_sec;	 /* abort below 1 byte/s for this long; 0: never */
	unsigned keepalive_idle_sec;	 /* TCP keepalive; 0: off */
	unsigned keepalive_intvl_sec;	 /* between the (3) probes */
	unsigned user_timeout_ms;	 /* TCP_USER_TIMEOUT; 0: the kernel's */
	const struct curl_loop_tls *tls; /* NULL: curl's defaults */
	size_t max_body;		 /* collected 2xx body; 0: unlimited */
	curl_loop_data_fn data;		 /* NULL: collect the 2xx body */
	curl_loop_done_fn done;
	void *userdata; /* for data and done */
};

/* name ("kube-api", "etcd") goes into the loop sources' descriptions and logs. */
int curl_loop_new(struct loop *loop, const char *name, long max_host_connections, bool multiplex,
		  struct curl_loop **ret);
/* Frees the transfers still there, without callbacks. NULL ok. */
struct curl_loop *curl_loop_free(struct curl_loop *cl);

/* A transfer with its easy handle set up, not started. -EINVAL on an option
 * curl refuses (logged). */
int curl_loop_xfer_new(struct curl_loop *cl, const struct curl_loop_xfer_options *opts,
		       struct curl_loop_xfer **ret);
/* Add a request header "Name: value"; the formatted text is wiped after use
 * (it may carry a credential). Before curl_loop_xfer_start() only. */
int curl_loop_xfer_header(struct curl_loop_xfer *x, const char *fmt, ...) _printf_(2, 3);
/* Queue it; it goes on its way from the loop. On failure the transfer is
 * still the caller's to cancel. */
int curl_loop_xfer_start(struct curl_loop_xfer *x);
/* Free a transfer in any state; its callbacks are not called after this.
 * NULL ok. */
void curl_loop_xfer_cancel(struct curl_loop_xfer *x);

/* Whether (curl_code, status) is a complete HTTP response whose status
 * decides the outcome, rather than a transport failure. */
bool curl_loop_got_response(int curl_code, long status);
/*
 * The shared HTTP status/CURLcode -> -errno table (pure):
 *   2xx 0   400 -EINVAL   401 -EACCES   403 -EPERM   404 -ENOENT
 *   5xx -EAGAIN   other -EPROTO
 *   connect refused -ECONNREFUSED  resolve -EHOSTUNREACH  timeout -ETIMEDOUT
 *   TLS -EPROTO (certificate: -EKEYREJECTED)  dropped/partial -ECONNRESET
 *   out of memory -ENOMEM  file size -EFBIG  bad URL -EINVAL  other -EIO
 * Callers refine the status part (see curl_loop_got_response()).
 */
int curl_loop_errno(int curl_code, long status);
/* Transient failures worth another attempt. */
bool curl_loop_retryable(int r);
const char *curl_loop_strerror(int curl_code);
