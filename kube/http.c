/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server's policy on top of lib/curl/curl_loop.h (which runs libcurl on
 * the epoll loop): kube's TLS settings and headers, the bearer token (re-read,
 * and one retry after a 401), the status -> errno table, retries with
 * backoff, and per-verb metrics. Each attempt is one curl_loop transfer; a
 * request between attempts waits on its retry timer.
 */
#include <string.h>

#include "kube/http.h"
#include "kube/token.h"
#include "lib/core/backoff.h"
#include "lib/core/buf.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/curl/curl_loop.h"
#include "lib/json/json.h"

#define DEFAULT_MAX_BODY (4 * 1024 * 1024)
#define RETRY_BASE_USEC	 (500 * USEC_PER_MSEC)
#define RETRY_MAX_USEC	 (10 * USEC_PER_SEC)

struct kube_request {
	struct kube_http *http;
	struct kube_request *prev, *next;
	struct curl_loop_xfer *xfer; /* the attempt under way; NULL between attempts */
	char *path, *method, *content_type, *body;
	size_t body_len;
	struct kube_request_spec spec; /* strings point to the copies above */
	bool retried_401;
	unsigned attempt;
	struct backoff backoff;
	struct loop_source *retry_timer;
	uint64_t start_usec;
};

struct kube_http {
	struct loop *loop;
	struct curl_loop *curl;
	struct kube_token token;
	struct kube_config cfg; /* copy of what curl needs */
	struct kube_http_options opts;
	struct kube_http_stats stats;
	struct kube_request *requests;
};

static const double latency_buckets[KUBE_N_LATENCY_BUCKETS] = KUBE_LATENCY_BUCKETS;

/* Kubernetes' own status codes on top of the shared table. */
int kube_http_errno(int curl_code, long status)
{
	if (curl_loop_got_response(curl_code, status)) {
		switch (status) {
		case 422:
			return -EINVAL;
		case 405:
			return -EOPNOTSUPP;
		case 409:
			return -EBUSY;
		case 410:
			return -ESTALE;
		case 429:
			return -EAGAIN;
		default:
			break;
		}
	}
	return curl_loop_errno(curl_code, status);
}

void kube_status_message(const char *body, size_t len, char *buf, size_t size, long *ret_code)
{
	_cleanup_json_ cJSON *root = NULL;
	const char *kind, *msg;
	int64_t code;

	if (size > 0)
		buf[0] = '\0';
	if (ret_code)
		*ret_code = 0;
	if (!body || json_parse(body, len, CURL_LOOP_ERROR_BODY_MAX, 16, &root) < 0)
		return;
	if (json_get_str(root, "kind", &kind) < 0 || strcmp(kind, "Status") != 0)
		return;
	if (json_get_str(root, "message", &msg) >= 0 && size > 0)
		snprintf(buf, size, "%s", msg);
	if (ret_code && json_get_int64(root, "code", &code) >= 0)
		*ret_code = (long)code;
}

static void record(struct kube_http *h, const struct kube_request *req, long status, int r)
{
	uint64_t lat = now_monotonic_usec() - req->start_usec;
	enum kube_verb v = req->spec.verb;
	unsigned cls = status >= 100 && status < 600 ? (unsigned)(status / 100) : 0;
	unsigned b = 0;

	h->stats.requests[v][cls]++;
	while (b < KUBE_N_LATENCY_BUCKETS && (double)lat / 1e6 > latency_buckets[b])
		b++;
	h->stats.latency[v][b]++;
	h->stats.latency_sum_usec[v] += lat;
	if (h->opts.metric)
		h->opts.metric(v, status, r, lat, h->opts.metric_userdata);
}

static void request_unlink(struct kube_request *req)
{
	struct kube_http *h = req->http;

	if (req->prev)
		req->prev->next = req->next;
	else
		h->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

static void request_free(struct kube_request *req)
{
	if (!req)
		return;
	curl_loop_xfer_cancel(req->xfer);
	request_unlink(req);
	loop_source_free(req->retry_timer);
	free(req->path);
	free(req->method);
	free(req->content_type);
	free(req->body);
	free(req);
}

static int request_data(const char *data, size_t n, void *userdata)
{
	struct kube_request *req = userdata;

	return req->spec.data(data, n, req->spec.userdata);
}

static void finish(const struct curl_loop_result *res, void *userdata);

/* One attempt: a transfer with the current token. */
static int attempt_start(struct kube_request *req)
{
	struct kube_http *h = req->http;
	const struct kube_config *c = &h->cfg;
	const struct curl_loop_tls tls = {
		.ca_file = c->ca_file,
		.ca_data = c->ca_data,
		.ca_data_len = c->ca_data_len,
		.cert_file = c->cert_file,
		.cert_data = c->cert_data,
		.cert_data_len = c->cert_data_len,
		.key_file = c->key_file,
		.key_data = c->key_data,
		.key_data_len = c->key_data_len,
		.insecure_skip_verify = c->insecure_skip_tls_verify,
	};
	const struct curl_loop_xfer_options o = {
		.url = c->server,
		.path = req->path,
		.method = req->method,
		.body = req->body,
		.body_len = req->body_len,
		.http2 = h->opts.http2,
		.accept_encoding = "gzip",
		.connect_timeout_usec = h->opts.connect_timeout_usec,
		.timeout_usec =
			req->spec.watch ? req->spec.timeout_usec : h->opts.request_timeout_usec,
		.low_speed_time_sec = req->spec.watch ? 0 : 30,
		.keepalive_idle_sec = 30,
		.keepalive_intvl_sec = 10,
		.user_timeout_ms = 60 * 1000,
		.tls = &tls,
		.max_body = req->spec.max_body,
		.data = req->spec.data ? request_data : NULL,
		.done = finish,
		.userdata = req,
	};
	struct curl_loop_xfer *x;
	const char *tok;
	int r;

	r = curl_loop_xfer_new(h->curl, &o, &x);
	if (r < 0)
		return r;
	r = curl_loop_xfer_header(x, "Accept: application/json");
	if (r >= 0)
		r = curl_loop_xfer_header(x, "Expect:");
	tok = kube_token_get(&h->token, now_monotonic_usec());
	if (r >= 0 && tok)
		r = curl_loop_xfer_header(x, "Authorization: Bearer %s", tok);
	if (r >= 0 && req->content_type)
		r = curl_loop_xfer_header(x, "Content-Type: %s", req->content_type);
	if (r >= 0)
		r = curl_loop_xfer_start(x);
	if (r < 0) {
		curl_loop_xfer_cancel(x);
		return r;
	}
	req->xfer = x;
	req->start_usec = now_monotonic_usec();
	return 0;
}

static int retry_timer_cb(struct loop_source *s, void *userdata)
{
	struct kube_request *req = userdata;
	int r;

	r = attempt_start(req);
	if (r < 0) {
		kube_done_fn done = req->spec.done;
		void *ud = req->spec.userdata;
		request_free(req);
		if (done)
			done(r, 0, NULL, 0, ud);
	}
	return 0;
}

static int schedule_retry(struct kube_request *req, int r, uint64_t retry_after_usec)
{
	struct kube_http *h = req->http;
	uint64_t delay = backoff_next(&req->backoff, random_u32());

	if (r == -EAGAIN && retry_after_usec > 0)
		delay = MIN(retry_after_usec, 60 * USEC_PER_SEC);
	if (r == -EACCES)
		delay = 0; /* the token was just invalidated: retry with the re-read one now */
	if (!req->retry_timer)
		return loop_add_timer(h->loop, delay, retry_timer_cb, req, "kube-api retry",
				      &req->retry_timer);
	return loop_timer_arm(req->retry_timer, delay);
}

static void finish(const struct curl_loop_result *res, void *userdata)
{
	struct kube_request *req = userdata;
	struct kube_http *h = req->http;
	long status = res->status;
	int r;

	req->xfer = NULL; /* freed by curl_loop when this returns */
	r = res->error ?: kube_http_errno(res->curl_code, status);
	record(h, req, status, r);
	if (r < 0)
		log_v(2, "%s %s: %s (HTTP %ld, %s)", req->method ?: "GET", req->path, strerror(-r),
		      status, res->errbuf[0] ? res->errbuf : curl_loop_strerror(res->curl_code));
	if (status == 401)
		kube_token_invalidate(&h->token);

	if (!res->delivered && !res->error && req->attempt + 1 < req->spec.max_attempts &&
	    (curl_loop_retryable(r) || (r == -EACCES && !req->retried_401))) {
		if (r == -EACCES)
			req->retried_401 = true;
		req->attempt++;
		if (schedule_retry(req, r, res->retry_after_usec) >= 0)
			return;
	}

	kube_done_fn done = req->spec.done;
	void *ud = req->spec.userdata;
	_cleanup_buf_ struct buf body = *res->body;
	*res->body = (struct buf)BUF_INIT;
	request_free(req);
	if (done)
		done(r, status, body.data ?: "", body.len, ud);
}

int kube_http_start(struct kube_http *h, const struct kube_request_spec *spec,
		    struct kube_request **ret)
{
	struct kube_request *req;
	int r;

	if (!spec->path || spec->path[0] != '/')
		return -EINVAL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->http = h;
	req->spec = *spec;
	if (!req->spec.max_body)
		req->spec.max_body = DEFAULT_MAX_BODY;
	req->next = h->requests;
	if (h->requests)
		h->requests->prev = req;
	h->requests = req;
	backoff_init(&req->backoff, RETRY_BASE_USEC, RETRY_MAX_USEC);

	req->path = strdup(spec->path);
	req->method = spec->method ? strdup(spec->method) : NULL;
	req->content_type = spec->content_type ? strdup(spec->content_type) : NULL;
	if (spec->body) {
		req->body = malloc(spec->body_len + 1);
		if (req->body) {
			memcpy(req->body, spec->body, spec->body_len);
			req->body[spec->body_len] = '\0';
		}
		req->body_len = spec->body_len;
	}
	if (!req->path || (spec->method && !req->method) ||
	    (spec->content_type && !req->content_type) || (spec->body && !req->body)) {
		request_free(req);
		return -ENOMEM;
	}
	r = attempt_start(req);
	if (r < 0) {
		request_free(req);
		return r;
	}
	if (ret)
		*ret = req;
	return 0;
}

/* The transfer stops at once (curl_loop defers what it must); no callback after this. */
void kube_request_cancel(struct kube_request *req)
{
	request_free(req);
}

void kube_http_reload_token(struct kube_http *h)
{
	kube_token_invalidate(&h->token);
}

const struct kube_http_stats *kube_http_stats(const struct kube_http *h)
{
	return &h->stats;
}

static int dup_blob(const char *src, size_t len, char **dst, size_t *dst_len)
{
	if (!src)
		return 0;
	*dst = malloc(len + 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	(*dst)[len] = '\0';
	*dst_len = len;
	return 0;
}

static int dup_str(const char *src, char **dst)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int kube_http_new(struct loop *loop, const struct kube_config *config,
		  const struct kube_http_options *opts, struct kube_http **ret)
{
	struct kube_http *h;
	int r;

	if (!config->server)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	if (opts)
		h->opts = *opts;
	if (!h->opts.connect_timeout_usec)
		h->opts.connect_timeout_usec = 10 * USEC_PER_SEC;
	if (!h->opts.request_timeout_usec)
		h->opts.request_timeout_usec = 60 * USEC_PER_SEC;
	h->cfg.insecure_skip_tls_verify = config->insecure_skip_tls_verify;

	r = dup_str(config->server, &h->cfg.server);
	if (r >= 0)
		r = dup_str(config->ca_file, &h->cfg.ca_file);
	if (r >= 0)
		r = dup_str(config->cert_file, &h->cfg.cert_file);
	if (r >= 0)
		r = dup_str(config->key_file, &h->cfg.key_file);
	if (r >= 0)
		r = dup_blob(config->ca_data, config->ca_data_len, &h->cfg.ca_data,
			     &h->cfg.ca_data_len);
	if (r >= 0)
		r = dup_blob(config->cert_data, config->cert_data_len, &h->cfg.cert_data,
			     &h->cfg.cert_data_len);
	if (r >= 0)
		r = dup_blob(config->key_data, config->key_data_len, &h->cfg.key_data,
			     &h->cfg.key_data_len);
	if (r >= 0)
		r = kube_token_init(&h->token, config->token, config->token_file);
	if (r >= 0)
		r = curl_loop_new(loop, "kube-api", 4, h->opts.http2, &h->curl);
	if (r < 0) {
		kube_http_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

struct kube_http *kube_http_free(struct kube_http *h)
{
	if (!h)
		return NULL;
	while (h->requests)
		request_free(h->requests);
	h->curl = curl_loop_free(h->curl);
	kube_token_done(&h->token);
	kube_config_done(&h->cfg);
	free(h);
	return NULL;
}

struct loop *kube_http_loop(const struct kube_http *h)
{
	return h->loop;
}
