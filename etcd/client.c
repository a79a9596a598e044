/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd JSON-gateway client: libcurl multi-socket on our epoll loop, as
 * in curl's ephiperfifo example. curl says which sockets to watch and when
 * to call it back; we hand readiness back with curl_multi_socket_action()
 * and reap finished transfers.
 *
 * curl forbids adding or removing handles from inside its callbacks, and
 * our callbacks run inside curl's write callback (a watch event makes the
 * manager send a request). So a request only gets queued and a zero-delay
 * "kick" timer adds it; a cancel from inside curl is deferred the same way.
 *
 * Each attempt of a request gets a fresh easy handle for the endpoint of
 * the moment (the multi handle keeps the connections). Authentication, when
 * configured, is one request in front of the others: requests wait for the
 * token, and a request rejected as unauthenticated waits for a new one, once.
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>

#include "etcd/client.h"
#include "etcd/proto.h"
#include "lib/backoff.h"
#include "lib/buf.h"
#include "lib/errmsg.h"
#include "lib/log.h"
#include "lib/macro.h"

#define ERROR_BODY_MAX	 (64 * 1024)
#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define RETRY_BASE_USEC	 (200 * USEC_PER_MSEC)
#define RETRY_MAX_USEC	 (2 * USEC_PER_SEC)

enum req_state {
	REQ_QUEUED,    /* waiting for the kick to be added to the multi handle */
	REQ_WAIT_AUTH, /* waiting for a token */
	REQ_RUNNING,
	REQ_RETRY_WAIT,
};

struct etcd_request {
	struct etcd_client *client;
	struct etcd_request *prev, *next;
	enum req_state state;
	CURL *easy;
	struct curl_slist *headers;
	char *path, *body;
	size_t body_len;
	bool stream, is_auth;
	etcd_data_fn data;
	etcd_done_fn done;
	void *userdata;
	struct buf resp;
	int cb_error;
	bool cancelled, delivered, auth_retried;
	unsigned attempt, max_attempts, endpoint;
	struct backoff backoff;
	struct loop_source *retry_timer;
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd_client {
	struct loop *loop;
	CURLM *multi;
	struct loop_source *timer, *kick;
	char *endpoints[ETCD_MAX_ENDPOINTS];
	unsigned n_endpoints, current;
	char *ca_file, *cert_file, *key_file;
	bool tls;
	char *username, *password;
	char *token;
	struct etcd_request *auth_req;
	uint64_t connect_timeout_usec, request_timeout_usec;
	size_t max_body;
	struct etcd_request *requests;
	unsigned in_curl;
};

int etcd_endpoints_parse(const char *s, char *ret[static ETCD_MAX_ENDPOINTS])
{
	_cleanup_free_ char *copy = strdup(s ?: "");
	char *save = NULL, *tok;
	int n = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len;

		while (*tok == ' ')
			tok++;
		len = strlen(tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '/'))
			tok[--len] = '\0';
		if (len == 0)
			continue;
		if ((strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0) ||
		    strlen(tok) <= (tok[4] == 's' ? 8u : 7u) || strpbrk(tok, " \t\r\n") ||
		    n == ETCD_MAX_ENDPOINTS) {
			for (int i = 0; i < n; i++)
				free(ret[i]);
			return -EINVAL;
		}
		ret[n] = strdup(tok);
		if (!ret[n]) {
			for (int i = 0; i < n; i++)
				free(ret[i]);
			return -ENOMEM;
		}
		n++;
	}
	return n > 0 ? n : -EINVAL;
}

int etcd_http_errno(int curl_code, long status)
{
	if (curl_code == CURLE_OK || (curl_code == CURLE_WRITE_ERROR && status >= 300)) {
		if (status >= 200 && status < 300)
			return 0;
		switch (status) {
		case 400:
			return -EINVAL;
		case 401:
			return -EACCES;
		case 403:
			return -EPERM;
		case 404:
			return -ENOENT;
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
		return -EKEYREJECTED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

bool etcd_errno_retryable(int r)
{
	return r == -EAGAIN || r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -EHOSTUNREACH;
}

static int kick_arm(struct etcd_client *c)
{
	return loop_timer_arm(c->kick, 0);
}

static void easy_reset(struct etcd_request *req)
{
	if (req->easy) {
		if (req->state == REQ_RUNNING)
			curl_multi_remove_handle(req->client->multi, req->easy);
		curl_easy_cleanup(req->easy);
		req->easy = NULL;
	}
	curl_slist_free_all(req->headers);
	req->headers = NULL;
}

static void request_free(struct etcd_request *req)
{
	struct etcd_client *c;

	if (!req)
		return;
	c = req->client;
	easy_reset(req);
	if (req->prev)
		req->prev->next = req->next;
	else
		c->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	if (c->auth_req == req)
		c->auth_req = NULL;
	loop_source_free(req->retry_timer);
	free(req->path);
	if (req->body)
		explicit_bzero(req->body, req->body_len); /* may hold the password */
	free(req->body);
	buf_free(&req->resp);
	free(req);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct etcd_request *req = userdata;
	size_t n = size * nmemb;
	long status = 0;
	int r;

	if (req->cancelled)
		return 0;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 && req->stream) {
		req->delivered = true;
		r = req->data(ptr, n, req->userdata);
		if (r < 0) {
			req->cb_error = r;
			return 0;
		}
		return n;
	}
	if (status >= 200 && status < 300) {
		if (req->resp.len + n > req->client->max_body) {
			req->cb_error = -EFBIG;
			return 0;
		}
	} else if (req->resp.len + n > ERROR_BODY_MAX) {
		return n; /* keep the start of an error body */
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
	unsigned user_timeout_ms = 30 * 1000;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
			 sizeof(user_timeout_ms));
	return CURL_SOCKOPT_OK;
}

static int setup_attempt(struct etcd_request *req)
{
	struct etcd_client *c = req->client;
	_cleanup_free_ char *url = NULL, *auth = NULL;
	struct curl_slist *l = NULL, *t;
	CURLcode cc = CURLE_OK;
	CURL *e;

	easy_reset(req);
	req->endpoint = c->current;
	if (asprintf(&url, "%s%s", c->endpoints[req->endpoint], req->path) < 0) {
		url = NULL;
		return -ENOMEM;
	}
	e = req->easy = curl_easy_init();
	if (!e)
		return -ENOMEM;

	t = curl_slist_append(l, "Content-Type: application/json");
	if (t)
		l = t;
	t = t ? curl_slist_append(l, "Expect:") : NULL;
	if (t)
		l = t;
	if (t && c->token && !req->is_auth) {
		if (asprintf(&auth, "Authorization: %s", c->token) < 0) {
			auth = NULL;
			t = NULL;
		} else {
			t = curl_slist_append(l, auth);
			if (t)
				l = t;
			explicit_bzero(auth, strlen(auth));
		}
	}
	req->headers = l;
	if (!t)
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
	SET(CURLOPT_HTTPHEADER, l);
	SET(CURLOPT_USERAGENT, "flanneld/" FLANNEL_VERSION);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(c->connect_timeout_usec / USEC_PER_MSEC));
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 15L);
	SET(CURLOPT_TCP_KEEPINTVL, 5L);
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	SET(CURLOPT_POSTFIELDS, req->body);
	if (!req->stream)
		SET(CURLOPT_TIMEOUT_MS, (long)(c->request_timeout_usec / USEC_PER_MSEC));
	if (c->tls) {
		SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		SET(CURLOPT_SSLCERT, c->cert_file);
		SET(CURLOPT_SSLKEY, c->key_file);
		if (c->ca_file)
			SET(CURLOPT_CAINFO, c->ca_file);
	}
#undef SET
	if (cc != CURLE_OK)
		return log_error_errno(EINVAL, "Failed to set up etcd request %s: %s", req->path,
				       curl_easy_strerror(cc));
	return 0;
}

static void auth_start(struct etcd_client *c);

/* Put the request on its way: wait for a token when one is needed, else
 * prepare a fresh handle and let the kick add it. */
static int request_dispatch(struct etcd_request *req)
{
	struct etcd_client *c = req->client;
	int r;

	if (c->username && !c->token && !req->is_auth) {
		req->state = REQ_WAIT_AUTH;
		auth_start(c);
		return 0;
	}
	r = setup_attempt(req);
	if (r < 0)
		return r;
	req->state = REQ_QUEUED;
	return kick_arm(c);
}

static void request_complete(struct etcd_request *req, int r, const char *error)
{
	etcd_done_fn done = req->done;
	void *ud = req->userdata;
	_cleanup_buf_ struct buf body = req->resp;

	req->resp = (struct buf)BUF_INIT;
	request_free(req);
	if (done)
		done(r, body.data ?: "", body.len, error, ud);
}

static int retry_timer_cb(struct loop_source *s, void *userdata)
{
	struct etcd_request *req = userdata;
	int r;

	r = request_dispatch(req);
	if (r < 0)
		request_complete(req, r, "failed to set up the request");
	return 0;
}

/* A plain-text error body (etcd answers some gateway errors so): its first
 * line, printable ASCII only, as the message. */
static void text_message(const char *body, size_t len, char *msg, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && body[i] != '\n' && n + 1 < size; i++)
		msg[n++] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : '?';
	msg[n] = '\0';
}

static void finish(struct etcd_request *req, CURLcode cc)
{
	struct etcd_client *c = req->client;
	char msg[256] = "";
	long status = 0;
	int code = -1, r;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(c->multi, req->easy);
	req->state = REQ_QUEUED; /* out of the multi handle */
	if (req->cancelled) {
		request_free(req);
		return;
	}

	r = req->cb_error;
	if (!r) {
		r = etcd_http_errno(cc, status);
		if (r < 0 && status >= 300) {
			etcd_parse_error(req->resp.data, req->resp.len, msg, sizeof(msg), &code);
			if (code > 0)
				r = etcd_grpc_errno(code);
		}
	}
	if (r < 0 && !msg[0] && status >= 300 && req->resp.len > 0)
		text_message(req->resp.data, req->resp.len, msg, sizeof(msg));
	if (r < 0 && !msg[0])
		snprintf(msg, sizeof(msg), "%s",
			 req->errbuf[0] ? req->errbuf
					: (status >= 300 ? "HTTP error" : curl_easy_strerror(cc)));
	if (r < 0)
		log_v(2, "etcd %s%s: %s (HTTP %ld, %s)", c->endpoints[req->endpoint], req->path,
		      strerror(-r), status, msg);

	if (r == -EACCES && c->username && !req->is_auth && !req->auth_retried) {
		/* token expired or revoked: fetch a new one, once */
		req->auth_retried = true;
		etcd_client_drop_token(c);
		buf_reset(&req->resp);
		req->errbuf[0] = '\0';
		if (request_dispatch(req) >= 0)
			return;
	}
	if (etcd_errno_retryable(r) && !req->delivered && !req->cb_error &&
	    req->attempt + 1 < req->max_attempts) {
		uint64_t delay = 0;

		req->attempt++;
		if (req->endpoint == c->current && c->n_endpoints > 1) {
			c->current = (c->current + 1) % c->n_endpoints;
			log_warn("etcd endpoint %s failed (%s), trying %s",
				 c->endpoints[req->endpoint], msg, c->endpoints[c->current]);
		}
		if (req->attempt % c->n_endpoints == 0)
			delay = backoff_next(&req->backoff, random_u32());
		buf_reset(&req->resp);
		req->errbuf[0] = '\0';
		easy_reset(req);
		req->state = REQ_RETRY_WAIT;
		if (req->retry_timer ? loop_timer_arm(req->retry_timer, delay) >= 0
				     : loop_add_timer(c->loop, delay, retry_timer_cb, req,
						      "etcd retry", &req->retry_timer) >= 0)
			return;
	}
	if (r < 0 && etcd_errno_retryable(r) && req->endpoint == c->current && c->n_endpoints > 1)
		c->current = (c->current + 1) % c->n_endpoints;
	request_complete(req, r, r < 0 ? msg : NULL);
}

static void auth_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_client *c = userdata;
	struct etcd_request *req;
	struct errmsg err = {};
	char *token = NULL;

	if (r >= 0) {
		r = etcd_parse_auth(body, len, &token, &err);
		if (r < 0)
			error = err.text;
	}
	if (r < 0)
		log_error_errno(r, "Failed to authenticate to etcd as \"%s\": %s", c->username,
				error ?: "");
	free(c->token);
	c->token = token;
	/* Callbacks may start or cancel other requests: rescan from the head each time. */
	for (;;) {
		for (req = c->requests; req; req = req->next)
			if (req->state == REQ_WAIT_AUTH && !req->cancelled)
				break;
		if (!req)
			break;
		if (r < 0) {
			request_complete(req, r, error ?: "authentication failed");
			continue;
		}
		int q = request_dispatch(req);
		if (q < 0)
			request_complete(req, q, "failed to set up the request");
	}
}

static int request_new(struct etcd_client *c, const char *path, const char *body, size_t len,
		       struct etcd_request **ret);

static void auth_start(struct etcd_client *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct etcd_request *req;
	int r;

	if (c->auth_req)
		return;
	r = etcd_body_auth(c->username, c->password, &b);
	if (r >= 0)
		r = request_new(c, "/v3/auth/authenticate", b.data, b.len, &req);
	if (b.data)
		explicit_bzero(b.data, b.len);
	if (r >= 0) {
		req->is_auth = true;
		req->done = auth_done;
		req->userdata = c;
		c->auth_req = req;
		r = request_dispatch(req);
		if (r < 0)
			request_free(req);
	}
	if (r < 0)
		auth_done(r, NULL, 0, "failed to start authentication", c);
}

static void reap(struct etcd_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left))) {
		struct etcd_request *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		if (req)
			finish(req, msg->data.result);
	}
}

static void socket_action(struct etcd_client *c, curl_socket_t fd, int flags)
{
	int running;

	c->in_curl++;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	c->in_curl--;
	reap(c);
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
	struct etcd_client *c = userp;
	struct loop_source *src = socketp;
	uint32_t events = 0;
	int r;

	if (what == CURL_POLL_REMOVE) {
		loop_source_free(src);
		curl_multi_assign(c->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src)
		r = loop_source_set_io_events(src, events);
	else {
		r = loop_add_io(c->loop, fd, events, io_cb, c, "etcd connection", &src);
		if (r >= 0)
			curl_multi_assign(c->multi, fd, src);
	}
	if (r < 0)
		log_error_errno(r, "Failed to watch the etcd connection");
	return r < 0 ? -1 : 0;
}

static int timer_fn(struct loop_source *s, void *userdata)
{
	socket_action(userdata, CURL_SOCKET_TIMEOUT, 0);
	return 0;
}

static int multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct etcd_client *c = userp;

	if (timeout_ms < 0)
		return loop_timer_disarm(c->timer) < 0 ? -1 : 0;
	return loop_timer_arm(c->timer, (uint64_t)timeout_ms * USEC_PER_MSEC) < 0 ? -1 : 0;
}

static int kick_cb(struct loop_source *s, void *userdata)
{
	struct etcd_client *c = userdata;
	struct etcd_request *req, *next;

	for (req = c->requests; req; req = next) {
		next = req->next;
		if (req->cancelled && req->state != REQ_RUNNING) {
			request_free(req);
			continue;
		}
		if (req->cancelled) {
			req->state = REQ_QUEUED;
			curl_multi_remove_handle(c->multi, req->easy);
			request_free(req);
			continue;
		}
		if (req->state != REQ_QUEUED || !req->easy)
			continue;
		if (curl_multi_add_handle(c->multi, req->easy) != CURLM_OK) {
			request_complete(req, -ENOMEM, "failed to start the request");
			continue;
		}
		req->state = REQ_RUNNING;
	}
	return 0;
}

static int request_new(struct etcd_client *c, const char *path, const char *body, size_t len,
		       struct etcd_request **ret)
{
	struct etcd_request *req;

	if (!path || path[0] != '/')
		return -EINVAL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->client = c;
	req->state = REQ_RETRY_WAIT; /* not dispatched yet */
	req->next = c->requests;
	if (c->requests)
		c->requests->prev = req;
	c->requests = req;
	req->max_attempts = MAX(3u, 2 * c->n_endpoints);
	backoff_init(&req->backoff, RETRY_BASE_USEC, RETRY_MAX_USEC);
	req->path = strdup(path);
	req->body = malloc(len + 1);
	if (!req->path || !req->body) {
		request_free(req);
		return -ENOMEM;
	}
	memcpy(req->body, body, len);
	req->body[len] = '\0';
	req->body_len = len;
	*ret = req;
	return 0;
}

static int start(struct etcd_client *c, const char *path, const char *body, size_t len, bool stream,
		 etcd_data_fn data, etcd_done_fn done, void *userdata, struct etcd_request **ret)
{
	struct etcd_request *req;
	int r;

	r = request_new(c, path, body, len, &req);
	if (r < 0)
		return r;
	req->stream = stream;
	req->data = data;
	req->done = done;
	req->userdata = userdata;
	r = request_dispatch(req);
	if (r < 0) {
		request_free(req);
		return r;
	}
	if (ret)
		*ret = req;
	return 0;
}

int etcd_client_post(struct etcd_client *c, const char *path, const char *body, size_t len,
		     etcd_done_fn done, void *userdata, struct etcd_request **ret)
{
	return start(c, path, body, len, false, NULL, done, userdata, ret);
}

int etcd_client_stream(struct etcd_client *c, const char *path, const char *body, size_t len,
		       etcd_data_fn data, etcd_done_fn done, void *userdata,
		       struct etcd_request **ret)
{
	if (!data)
		return -EINVAL;
	return start(c, path, body, len, true, data, done, userdata, ret);
}

void etcd_request_cancel(struct etcd_request *req)
{
	if (!req || req->cancelled)
		return;
	req->cancelled = true;
	if (req->client->in_curl && req->state == REQ_RUNNING)
		(void)kick_arm(req->client); /* removed by the kick, outside curl */
	else
		request_free(req);
}

void etcd_client_drop_token(struct etcd_client *c)
{
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	c->token = NULL;
}

const char *etcd_client_endpoint(const struct etcd_client *c)
{
	return c->endpoints[c->current];
}

unsigned etcd_client_endpoint_count(const struct etcd_client *c)
{
	return c->n_endpoints;
}

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s || !s[0])
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int etcd_client_new(struct loop *loop, const struct etcd_client_config *config,
		    struct etcd_client **ret)
{
	struct etcd_client *c;
	int n, r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	n = etcd_endpoints_parse(config->endpoints, c->endpoints);
	if (n < 0) {
		free(c);
		return n;
	}
	c->n_endpoints = (unsigned)n;
	c->connect_timeout_usec = config->connect_timeout_usec ?: 5 * USEC_PER_SEC;
	c->request_timeout_usec = config->request_timeout_usec ?: 15 * USEC_PER_SEC;
	c->max_body = config->max_body ?: DEFAULT_MAX_BODY;
	r = dup_opt(config->ca_file, &c->ca_file);
	if (r >= 0)
		r = dup_opt(config->cert_file, &c->cert_file);
	if (r >= 0)
		r = dup_opt(config->key_file, &c->key_file);
	if (r >= 0)
		r = dup_opt(config->username, &c->username);
	if (r >= 0)
		r = dup_opt(config->password, &c->password);
	if (r >= 0 && c->username && !c->password) {
		c->password = strdup("");
		if (!c->password)
			r = -ENOMEM;
	}
	c->tls = c->cert_file && c->key_file;
	if (r >= 0) {
		c->multi = curl_multi_init();
		if (!c->multi)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = loop_add_timer(loop, 3600 * USEC_PER_SEC, timer_fn, c, "etcd curl timer",
				   &c->timer);
	if (r >= 0)
		r = loop_timer_disarm(c->timer);
	if (r >= 0)
		r = loop_add_timer(loop, 3600 * USEC_PER_SEC, kick_cb, c, "etcd request queue",
				   &c->kick);
	if (r >= 0)
		r = loop_timer_disarm(c->kick);
	if (r < 0) {
		etcd_client_free(c);
		return r;
	}
	if (!c->tls)
		log_warn("no certificate provided: connecting to etcd with http. This is insecure");
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	*ret = c;
	return 0;
}

struct etcd_client *etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return NULL;
	while (c->requests)
		request_free(c->requests);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	loop_source_free(c->timer);
	loop_source_free(c->kick);
	for (unsigned i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->username);
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c);
	return NULL;
}
