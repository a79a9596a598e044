/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl multi-socket on our epoll loop. curl tells us which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION -> loop_add_io) and when to call it back
 * (CURLMOPT_TIMERFUNCTION -> one loop timer); we hand readiness back with
 * curl_multi_socket_action() and reap finished transfers.
 *
 * curl forbids adding or removing handles from inside its own callbacks,
 * and our data callbacks run inside curl's write callback (a watch event can
 * make the daemon publish, which starts a PATCH). So starting a request only
 * queues it and arms a zero-delay "kick" timer that adds it; a cancel from
 * inside curl is deferred to the kick the same way.
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>

#include "kube/http.h"
#include "kube/token.h"
#include "lib/backoff.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/macro.h"

#define ERROR_BODY_MAX	 (64 * 1024)
#define DEFAULT_MAX_BODY (4 * 1024 * 1024)
#define RETRY_BASE_USEC	 (500 * USEC_PER_MSEC)
#define RETRY_MAX_USEC	 (10 * USEC_PER_SEC)

struct kube_request {
	struct kube_http *http;
	struct kube_request *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *path, *method, *content_type, *body;
	size_t body_len;
	struct kube_request_spec spec; /* strings point to the copies above */
	struct buf resp;
	int cb_error;
	bool cancelled, in_multi, pending_add, delivered, retried_401;
	unsigned attempt;
	struct backoff backoff;
	struct loop_source *retry_timer;
	uint64_t start_usec;
	char errbuf[CURL_ERROR_SIZE];
};

struct kube_http {
	struct loop *loop;
	CURLM *multi;
	struct loop_source *timer, *kick;
	struct kube_token token;
	struct kube_config cfg; /* copy of what curl needs */
	struct kube_http_options opts;
	struct kube_http_stats stats;
	struct kube_request *requests;
	unsigned in_curl;
};

static const double latency_buckets[KUBE_N_LATENCY_BUCKETS] = KUBE_LATENCY_BUCKETS;

int kube_http_errno(int curl_code, long status)
{
	if (curl_code == CURLE_OK || (curl_code == CURLE_WRITE_ERROR && status >= 300)) {
		if (status >= 200 && status < 300)
			return 0;
		switch (status) {
		case 400:
		case 422:
			return -EINVAL;
		case 401:
			return -EACCES;
		case 403:
			return -EPERM;
		case 404:
			return -ENOENT;
		case 405:
			return -EOPNOTSUPP;
		case 409:
			return -EBUSY;
		case 410:
			return -ESTALE;
		case 429:
			return -EAGAIN;
		default:
			return status >= 500 && status < 600 ? -EAGAIN : -EPROTO;
		}
	}
	switch (curl_code) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return -EKEYREJECTED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

bool kube_http_retryable(int r)
{
	return r == -EAGAIN || r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -EHOSTUNREACH;
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
	if (!body || json_parse(body, len, ERROR_BODY_MAX, 16, &root) < 0)
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
	if (req->in_multi)
		curl_multi_remove_handle(req->http->multi, req->easy);
	request_unlink(req);
	loop_source_free(req->retry_timer);
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	free(req->path);
	free(req->method);
	free(req->content_type);
	free(req->body);
	buf_free(&req->resp);
	free(req);
}

static int kick_arm(struct kube_http *h)
{
	return loop_timer_arm(h->kick, 0);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kube_request *req = userdata;
	size_t n = size * nmemb;
	long status = 0;
	int r;

	if (req->cancelled)
		return 0;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 && req->spec.data) {
		req->delivered = true;
		r = req->spec.data(ptr, n, req->spec.userdata);
		if (r < 0) {
			req->cb_error = r;
			return 0;
		}
		return n;
	}
	if (status >= 200 && status < 300) {
		if (req->resp.len + n > req->spec.max_body) {
			req->cb_error = -EFBIG;
			return 0;
		}
	} else if (req->resp.len + n > ERROR_BODY_MAX) {
		return n; /* keep the start of an error body, drop the rest */
	}
	if (buf_append(&req->resp, ptr, n) < 0) {
		req->cb_error = -ENOMEM;
		return 0;
	}
	return n;
}

static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3;
	unsigned user_timeout_ms = 60 * 1000;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	/* Best effort: not every socket is TCP (unix sockets in tests). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
			 sizeof(user_timeout_ms));
	return CURL_SOCKOPT_OK;
}

static int setup_headers(struct kube_request *req)
{
	struct kube_http *h = req->http;
	struct curl_slist *l = NULL, *t;
	const char *tok;
	_cleanup_free_ char *auth = NULL, *ct = NULL;

	curl_slist_free_all(req->headers);
	req->headers = NULL;

#define ADD(s)                                  \
	do {                                    \
		t = curl_slist_append(l, (s));  \
		if (!t) {                       \
			curl_slist_free_all(l); \
			return -ENOMEM;         \
		}                               \
		l = t;                          \
	} while (0)

	ADD("Accept: application/json");
	ADD("Expect:");
	tok = kube_token_get(&h->token, now_monotonic_usec());
	if (tok) {
		if (asprintf(&auth, "Authorization: Bearer %s", tok) < 0) {
			auth = NULL;
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		ADD(auth);
		explicit_bzero(auth, strlen(auth));
	}
	if (req->content_type) {
		if (asprintf(&ct, "Content-Type: %s", req->content_type) < 0) {
			ct = NULL;
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		ADD(ct);
	}
#undef ADD
	req->headers = l;
	return curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, l) == CURLE_OK ? 0 : -ENOMEM;
}

static int setup_easy(struct kube_request *req)
{
	struct kube_http *h = req->http;
	const struct kube_config *c = &h->cfg;
	_cleanup_free_ char *url = NULL;
	CURL *e;
	CURLcode cc = CURLE_OK;

	if (asprintf(&url, "%s%s", c->server, req->path) < 0)
		return -ENOMEM;
	e = req->easy = curl_easy_init();
	if (!e)
		return -ENOMEM;

#define SET(opt, val)                                       \
	do {                                                \
		if (cc == CURLE_OK)                         \
			cc = curl_easy_setopt(e, opt, val); \
	} while (0)

	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, req);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, req);
	SET(CURLOPT_USERAGENT, "flanneld/" FLANNEL_VERSION);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_HTTP_VERSION,
	    h->opts.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_ACCEPT_ENCODING, "gzip");
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(h->opts.connect_timeout_usec / USEC_PER_MSEC));
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 10L);
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	if (req->spec.watch) {
		SET(CURLOPT_TIMEOUT_MS, (long)(req->spec.timeout_usec / USEC_PER_MSEC));
	} else {
		SET(CURLOPT_TIMEOUT_MS, (long)(h->opts.request_timeout_usec / USEC_PER_MSEC));
		SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
		SET(CURLOPT_LOW_SPEED_TIME, 30L);
	}
	if (c->ca_data) {
		struct curl_blob blob = {
			.data = c->ca_data, .len = c->ca_data_len, .flags = CURL_BLOB_COPY};
		SET(CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->ca_file) {
		SET(CURLOPT_CAINFO, c->ca_file);
	}
	if (c->insecure_skip_tls_verify) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_data) {
		struct curl_blob blob = {
			.data = c->cert_data, .len = c->cert_data_len, .flags = CURL_BLOB_COPY};
		SET(CURLOPT_SSLCERT_BLOB, &blob);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		SET(CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_data) {
		struct curl_blob blob = {
			.data = c->key_data, .len = c->key_data_len, .flags = CURL_BLOB_COPY};
		SET(CURLOPT_SSLKEY_BLOB, &blob);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file) {
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	if (req->method && strcmp(req->method, "GET") != 0)
		SET(CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body);
	}
#undef SET
	if (cc != CURLE_OK)
		return log_error_errno(EINVAL, "Failed to set up request %s: %s", req->path,
				       curl_easy_strerror(cc));
	return 0;
}

static void finish(struct kube_request *req, CURLcode cc);

static int retry_timer_cb(struct loop_source *s, void *userdata)
{
	struct kube_request *req = userdata;
	int r;

	r = setup_headers(req);
	if (r < 0) {
		kube_done_fn done = req->spec.done;
		void *ud = req->spec.userdata;
		request_free(req);
		if (done)
			done(r, 0, NULL, 0, ud);
		return 0;
	}
	req->pending_add = true;
	return kick_arm(req->http);
}

static int schedule_retry(struct kube_request *req, int r)
{
	struct kube_http *h = req->http;
	uint64_t delay = backoff_next(&req->backoff, random_u32());
	curl_off_t retry_after = 0;

	if (r == -EAGAIN &&
	    curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		delay = MIN((uint64_t)retry_after, 60) * USEC_PER_SEC;
	if (r == -EACCES)
		delay = 0; /* the token was just invalidated: retry with the re-read one now */
	buf_reset(&req->resp);
	req->cb_error = 0;
	req->errbuf[0] = '\0';
	if (!req->retry_timer)
		return loop_add_timer(h->loop, delay, retry_timer_cb, req, "kube-api retry",
				      &req->retry_timer);
	return loop_timer_arm(req->retry_timer, delay);
}

static void finish(struct kube_request *req, CURLcode cc)
{
	struct kube_http *h = req->http;
	long status = 0;
	int r;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(h->multi, req->easy);
	req->in_multi = false;
	if (req->cancelled) {
		request_free(req);
		return;
	}

	r = req->cb_error ?: kube_http_errno(cc, status);
	record(h, req, status, r);
	if (r < 0)
		log_v(2, "%s %s: %s (HTTP %ld, %s)", req->method ?: "GET", req->path, strerror(-r),
		      status, req->errbuf[0] ? req->errbuf : curl_easy_strerror(cc));
	if (status == 401)
		kube_token_invalidate(&h->token);

	if (!req->delivered && !req->cb_error && req->attempt + 1 < req->spec.max_attempts &&
	    (kube_http_retryable(r) || (r == -EACCES && !req->retried_401))) {
		if (r == -EACCES)
			req->retried_401 = true;
		req->attempt++;
		req->start_usec = now_monotonic_usec();
		if (schedule_retry(req, r) >= 0)
			return;
	}

	kube_done_fn done = req->spec.done;
	void *ud = req->spec.userdata;
	_cleanup_buf_ struct buf body = req->resp;
	req->resp = (struct buf)BUF_INIT;
	request_free(req);
	if (done)
		done(r, status, body.data ?: "", body.len, ud);
}

static void reap(struct kube_http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct kube_request *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		if (req)
			finish(req, msg->data.result);
	}
}

static void socket_action(struct kube_http *h, curl_socket_t fd, int flags)
{
	int running;

	h->in_curl++;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	h->in_curl--;
	reap(h);
}

static int io_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	int flags = 0;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	socket_action(userdata, fd, flags);
	return 0;
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct kube_http *h = userp;
	struct loop_source *src = socketp;
	uint32_t events = 0;
	int r;

	if (what == CURL_POLL_REMOVE) {
		loop_source_free(src);
		curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src)
		r = loop_source_set_io_events(src, events);
	else {
		r = loop_add_io(h->loop, fd, events, io_cb, h, "kube-api connection", &src);
		if (r >= 0)
			curl_multi_assign(h->multi, fd, src);
	}
	if (r < 0)
		log_error_errno(r, "Failed to watch the API server connection");
	return r < 0 ? -1 : 0;
}

static int timer_fn(struct loop_source *s, void *userdata)
{
	socket_action(userdata, CURL_SOCKET_TIMEOUT, 0);
	return 0;
}

static int multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct kube_http *h = userp;

	if (timeout_ms < 0)
		return loop_timer_disarm(h->timer) < 0 ? -1 : 0;
	return loop_timer_arm(h->timer, (uint64_t)timeout_ms * USEC_PER_MSEC) < 0 ? -1 : 0;
}

static int kick_cb(struct loop_source *s, void *userdata)
{
	struct kube_http *h = userdata;
	struct kube_request *req, *next;

	for (req = h->requests; req; req = next) {
		next = req->next;
		if (req->cancelled) {
			request_free(req);
			continue;
		}
		if (!req->pending_add)
			continue;
		req->pending_add = false;
		req->start_usec = now_monotonic_usec();
		if (curl_multi_add_handle(h->multi, req->easy) != CURLM_OK) {
			kube_done_fn done = req->spec.done;
			void *ud = req->spec.userdata;
			request_free(req);
			if (done)
				done(-ENOMEM, 0, NULL, 0, ud);
			continue;
		}
		req->in_multi = true;
	}
	return 0;
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
	r = setup_easy(req);
	if (r >= 0)
		r = setup_headers(req);
	if (r >= 0)
		r = kick_arm(h);
	if (r < 0) {
		request_free(req);
		return r;
	}
	req->pending_add = true;
	req->start_usec = now_monotonic_usec();
	if (ret)
		*ret = req;
	return 0;
}

void kube_request_cancel(struct kube_request *req)
{
	if (!req || req->cancelled)
		return;
	req->cancelled = true;
	if (req->http->in_curl && req->in_multi)
		(void)kick_arm(req->http); /* removed by the kick, outside curl */
	else
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
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
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
	if (r >= 0) {
		h->multi = curl_multi_init();
		if (!h->multi)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = loop_add_timer(loop, 3600 * USEC_PER_SEC, timer_fn, h, "kube-api curl timer",
				   &h->timer);
	if (r >= 0)
		r = loop_timer_disarm(h->timer);
	if (r >= 0)
		r = loop_add_timer(loop, 3600 * USEC_PER_SEC, kick_cb, h, "kube-api request queue",
				   &h->kick);
	if (r >= 0)
		r = loop_timer_disarm(h->kick);
	if (r < 0) {
		kube_http_free(h);
		return r;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	if (h->opts.http2)
		curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	*ret = h;
	return 0;
}

struct kube_http *kube_http_free(struct kube_http *h)
{
	if (!h)
		return NULL;
	while (h->requests)
		request_free(h->requests);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	loop_source_free(h->timer);
	loop_source_free(h->kick);
	kube_token_done(&h->token);
	kube_config_done(&h->cfg);
	free(h);
	return NULL;
}

struct loop *kube_http_loop(const struct kube_http *h)
{
	return h->loop;
}
