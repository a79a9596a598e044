/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd JSON-gateway client's policy on top of lib/curl/curl_loop.h (which runs
 * libcurl on the epoll loop): endpoints and failover, TLS files, the auth
 * token, etcd's error bodies, retries.
 *
 * Each attempt of a request gets a fresh easy handle for the endpoint of
 * the moment (the multi handle keeps the connections). Authentication, when
 * configured, is one request in front of the others: requests wait for the
 * token, and a request rejected as unauthenticated waits for a new one, once.
 */
#include <string.h>

#include "etcd/client.h"
#include "etcd/proto.h"
#include "lib/core/backoff.h"
#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/curl/curl_loop.h"

#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define RETRY_BASE_USEC	 (200 * USEC_PER_MSEC)
#define RETRY_MAX_USEC	 (2 * USEC_PER_SEC)

struct etcd_request {
	struct etcd_client *client;
	struct etcd_request *prev, *next;
	struct curl_loop_xfer *xfer; /* the attempt under way; NULL between attempts */
	bool wait_auth;		     /* waiting for a token */
	char *path, *body;
	size_t body_len;
	bool is_auth;
	etcd_data_fn data; /* NULL: not a stream */
	etcd_done_fn done;
	void *userdata;
	bool auth_retried;
	unsigned attempt, max_attempts, endpoint;
	struct backoff backoff;
	struct loop_source *retry_timer;
};

struct etcd_client {
	struct loop *loop;
	struct curl_loop *curl;
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

static void request_free(struct etcd_request *req)
{
	struct etcd_client *c;

	if (!req)
		return;
	c = req->client;
	curl_loop_xfer_cancel(req->xfer);
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
	free(req);
}

static int request_data(const char *data, size_t n, void *userdata)
{
	struct etcd_request *req = userdata;

	return req->data(data, n, req->userdata);
}

static void finish(const struct curl_loop_result *res, void *userdata);

/* One attempt: a transfer to the endpoint of the moment. */
static int attempt_start(struct etcd_request *req)
{
	struct etcd_client *c = req->client;
	const struct curl_loop_tls tls = {
		.ca_file = c->ca_file,
		.cert_file = c->cert_file,
		.key_file = c->key_file,
		.tls12_min = true,
	};
	const struct curl_loop_xfer_options o = {
		.url = c->endpoints[c->current],
		.path = req->path,
		.body = req->body,
		.body_len = req->body_len,
		.connect_timeout_usec = c->connect_timeout_usec,
		.timeout_usec = req->data ? 0 : c->request_timeout_usec,
		.keepalive_idle_sec = 15,
		.keepalive_intvl_sec = 5,
		.user_timeout_ms = 30 * 1000,
		.tls = c->tls ? &tls : NULL,
		.max_body = c->max_body,
		.data = req->data ? request_data : NULL,
		.done = finish,
		.userdata = req,
	};
	struct curl_loop_xfer *x;
	int r;

	req->endpoint = c->current;
	r = curl_loop_xfer_new(c->curl, &o, &x);
	if (r < 0)
		return r;
	r = curl_loop_xfer_header(x, "Content-Type: application/json");
	if (r >= 0)
		r = curl_loop_xfer_header(x, "Expect:");
	if (r >= 0 && c->token && !req->is_auth)
		r = curl_loop_xfer_header(x, "Authorization: %s", c->token);
	if (r >= 0)
		r = curl_loop_xfer_start(x);
	if (r < 0) {
		curl_loop_xfer_cancel(x);
		return r;
	}
	req->xfer = x;
	return 0;
}

static void auth_start(struct etcd_client *c);

/* Put the request on its way: wait for a token when one is needed, else
 * start an attempt. */
static int request_dispatch(struct etcd_request *req)
{
	struct etcd_client *c = req->client;

	req->wait_auth = c->username && !c->token && !req->is_auth;
	if (req->wait_auth) {
		auth_start(c);
		return 0;
	}
	return attempt_start(req);
}

/* body: the response body, taken (NULL: none). */
static void request_complete(struct etcd_request *req, int r, const char *error, struct buf *body)
{
	etcd_done_fn done = req->done;
	void *ud = req->userdata;
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (body) {
		b = *body;
		*body = (struct buf)BUF_INIT;
	}
	request_free(req);
	if (done)
		done(r, b.data ?: "", b.len, error, ud);
}

static int retry_timer_cb(struct loop_source *s, void *userdata)
{
	struct etcd_request *req = userdata;
	int r;

	r = request_dispatch(req);
	if (r < 0)
		request_complete(req, r, "failed to set up the request", NULL);
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

static void finish(const struct curl_loop_result *res, void *userdata)
{
	struct etcd_request *req = userdata;
	struct etcd_client *c = req->client;
	const struct buf *body = res->body;
	long status = res->status;
	char msg[256] = "";
	int code = -1, r;

	req->xfer = NULL; /* freed by curl_loop when this returns */
	r = res->error;
	if (!r) {
		r = curl_loop_errno(res->curl_code, status);
		if (r < 0 && status >= 300) {
			etcd_parse_error(body->data, body->len, msg, sizeof(msg), &code);
			if (code > 0)
				r = etcd_grpc_errno(code);
		}
	}
	if (r < 0 && !msg[0] && status >= 300 && body->len > 0)
		text_message(body->data, body->len, msg, sizeof(msg));
	if (r < 0 && !msg[0])
		snprintf(msg, sizeof(msg), "%s",
			 res->errbuf[0] ? res->errbuf
					: (status >= 300 ? "HTTP error"
							 : curl_loop_strerror(res->curl_code)));
	if (r < 0)
		log_v(2, "etcd %s%s: %s (HTTP %ld, %s)", c->endpoints[req->endpoint], req->path,
		      strerror(-r), status, msg);

	if (r == -EACCES && c->username && !req->is_auth && !req->auth_retried) {
		/* token expired or revoked: fetch a new one, once */
		req->auth_retried = true;
		etcd_client_drop_token(c);
		if (request_dispatch(req) >= 0)
			return;
	}
	if (curl_loop_retryable(r) && !res->delivered && !res->error &&
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
		if (req->retry_timer ? loop_timer_arm(req->retry_timer, delay) >= 0
				     : loop_add_timer(c->loop, delay, retry_timer_cb, req,
						      "etcd retry", &req->retry_timer) >= 0)
			return;
	}
	if (r < 0 && curl_loop_retryable(r) && req->endpoint == c->current && c->n_endpoints > 1)
		c->current = (c->current + 1) % c->n_endpoints;
	request_complete(req, r, r < 0 ? msg : NULL, res->body);
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
			if (req->wait_auth)
				break;
		if (!req)
			break;
		if (r < 0) {
			request_complete(req, r, error ?: "authentication failed", NULL);
			continue;
		}
		int q = request_dispatch(req);
		if (q < 0)
			request_complete(req, q, "failed to set up the request", NULL);
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

static int start(struct etcd_client *c, const char *path, const char *body, size_t len,
		 etcd_data_fn data, etcd_done_fn done, void *userdata, struct etcd_request **ret)
{
	struct etcd_request *req;
	int r;

	r = request_new(c, path, body, len, &req);
	if (r < 0)
		return r;
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
	return start(c, path, body, len, NULL, done, userdata, ret);
}

int etcd_client_stream(struct etcd_client *c, const char *path, const char *body, size_t len,
		       etcd_data_fn data, etcd_done_fn done, void *userdata,
		       struct etcd_request **ret)
{
	if (!data)
		return -EINVAL;
	return start(c, path, body, len, data, done, userdata, ret);
}

/* The transfer stops at once (curl_loop defers what it must); no callback after this. */
void etcd_request_cancel(struct etcd_request *req)
{
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
	if (r >= 0)
		r = curl_loop_new(loop, "etcd", 4, false, &c->curl);
	if (r < 0) {
		etcd_client_free(c);
		return r;
	}
	if (!c->tls)
		log_warn("no certificate provided: connecting to etcd with http. This is insecure");
	*ret = c;
	return 0;
}

struct etcd_client *etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return NULL;
	while (c->requests)
		request_free(c->requests);
	c->curl = curl_loop_free(c->curl);
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
