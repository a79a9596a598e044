/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl multi-socket on our epoll loop. curl tells us which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION -> loop_add_io) and when to call it back
 * (CURLMOPT_TIMERFUNCTION -> one loop timer); we hand readiness back with
 * curl_multi_socket_action() and reap finished transfers, dispatching each
 * to its owner's done callback. Starting, and cancelling from inside curl,
 * go through the zero-delay kick timer (see the header).
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>

#include "lib/core/log.h"
#include "lib/curl/curl_loop.h"

enum xfer_state {
	XFER_NEW,     /* set up, not started */
	XFER_QUEUED,  /* waiting for the kick to add it to the multi handle */
	XFER_RUNNING, /* in the multi handle */
	XFER_DONE,    /* its done callback is running */
};

struct curl_loop_xfer {
	struct curl_loop *cl;
	struct curl_loop_xfer *prev, *next;
	enum xfer_state state;
	bool cancelled, delivered;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len, max_body;
	unsigned user_timeout_ms;
	curl_loop_data_fn data;
	curl_loop_done_fn done;
	void *userdata;
	struct buf resp;
	int cb_error;
	char errbuf[CURL_ERROR_SIZE];
};

struct curl_loop {
	struct loop *loop;
	CURLM *multi;
	struct loop_source *timer, *kick;
	char *name;
	struct curl_loop_xfer *xfers;
	unsigned in_curl;
};

static void xfer_free(struct curl_loop_xfer *x)
{
	struct curl_loop *cl = x->cl;

	if (x->state == XFER_RUNNING)
		curl_multi_remove_handle(cl->multi, x->easy);
	if (x->prev)
		x->prev->next = x->next;
	else
		cl->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	if (x->body)
		explicit_bzero(x->body, x->body_len); /* may hold a password */
	free(x->body);
	buf_free(&x->resp);
	free(x);
}

/* Hand the outcome to the owner, then free the transfer. */
static void xfer_complete(struct curl_loop_xfer *x, CURLcode cc, int error)
{
	struct curl_loop_result res = {
		.curl_code = cc,
		.error = error,
		.delivered = x->delivered,
		.body = &x->resp,
		.errbuf = x->errbuf,
	};
	curl_off_t retry_after = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
	if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		res.retry_after_usec = (uint64_t)retry_after * USEC_PER_SEC;
	if (!x->resp.data)
		(void)buf_append(&x->resp, "", 0); /* a NUL-terminated "" when it can */
	x->state = XFER_DONE;
	if (x->done)
		x->done(&res, x->userdata);
	xfer_free(x);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct curl_loop_xfer *x = userdata;
	size_t n = size * nmemb;
	long status = 0;
	int r;

	if (x->cancelled)
		return 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 && x->data) {
		x->delivered = true;
		r = x->data(ptr, n, x->userdata);
		if (r < 0) {
			x->cb_error = r;
			return 0;
		}
		return n;
	}
	if (status >= 200 && status < 300) {
		if (x->max_body && x->resp.len + n > x->max_body) {
			x->cb_error = -EFBIG;
			return 0;
		}
	} else if (x->resp.len + n > CURL_LOOP_ERROR_BODY_MAX) {
		return n; /* keep the start of an error body, drop the rest */
	}
	if (buf_append(&x->resp, ptr, n) < 0) {
		x->cb_error = -ENOMEM;
		return 0;
	}
	return n;
}

static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	struct curl_loop_xfer *x = clientp;
	int cnt = 3;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	/* Best effort: not every socket is TCP (unix sockets in tests). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (x->user_timeout_ms)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &x->user_timeout_ms,
				 sizeof(x->user_timeout_ms));
	return CURL_SOCKOPT_OK;
}

/* Set an easy option unless an earlier one failed (needs e and cc in scope). */
#define SET(opt, val)                                       \
	do {                                                \
		if (cc == CURLE_OK)                         \
			cc = curl_easy_setopt(e, opt, val); \
	} while (0)

static CURLcode setup_tls(CURL *e, const struct curl_loop_tls *t)
{
	CURLcode cc = CURLE_OK;

	if (t->tls12_min)
		SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (t->ca_data) {
		struct curl_blob blob = {
			.data = (void *)t->ca_data, .len = t->ca_data_len, .flags = CURL_BLOB_COPY};
		SET(CURLOPT_CAINFO_BLOB, &blob);
	} else if (t->ca_file) {
		SET(CURLOPT_CAINFO, t->ca_file);
	}
	if (t->insecure_skip_verify) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->cert_data) {
		struct curl_blob blob = {.data = (void *)t->cert_data,
					 .len = t->cert_data_len,
					 .flags = CURL_BLOB_COPY};
		SET(CURLOPT_SSLCERT_BLOB, &blob);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	} else if (t->cert_file) {
		SET(CURLOPT_SSLCERT, t->cert_file);
	}
	if (t->key_data) {
		struct curl_blob blob = {.data = (void *)t->key_data,
					 .len = t->key_data_len,
					 .flags = CURL_BLOB_COPY};
		SET(CURLOPT_SSLKEY_BLOB, &blob);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	} else if (t->key_file) {
		SET(CURLOPT_SSLKEY, t->key_file);
	}
	return cc;
}

static CURLcode setup_easy(struct curl_loop_xfer *x, const struct curl_loop_xfer_options *o,
			   const char *url)
{
	CURL *e = x->easy;
	CURLcode cc = CURLE_OK;

	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_USERAGENT, "flanneld/" FLANNEL_VERSION);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_HTTP_VERSION,
	    o->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
	if (o->accept_encoding)
		SET(CURLOPT_ACCEPT_ENCODING, o->accept_encoding);
	if (o->connect_timeout_usec)
		SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_usec / USEC_PER_MSEC));
	SET(CURLOPT_TIMEOUT_MS, (long)(o->timeout_usec / USEC_PER_MSEC));
	if (o->low_speed_time_sec) {
		SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
		SET(CURLOPT_LOW_SPEED_TIME, (long)o->low_speed_time_sec);
	}
	if (o->keepalive_idle_sec) {
		SET(CURLOPT_TCP_KEEPALIVE, 1L);
		SET(CURLOPT_TCP_KEEPIDLE, (long)o->keepalive_idle_sec);
		SET(CURLOPT_TCP_KEEPINTVL, (long)o->keepalive_intvl_sec);
	}
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	SET(CURLOPT_SOCKOPTDATA, x);
	if (o->method && strcmp(o->method, "GET") != 0)
		SET(CURLOPT_CUSTOMREQUEST, o->method);
	if (x->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		SET(CURLOPT_POSTFIELDS, x->body);
	}
	if (cc == CURLE_OK && o->tls)
		cc = setup_tls(e, o->tls);
	return cc;
}
#undef SET

int curl_loop_xfer_new(struct curl_loop *cl, const struct curl_loop_xfer_options *opts,
		       struct curl_loop_xfer **ret)
{
	_cleanup_free_ char *url = NULL;
	struct curl_loop_xfer *x;
	CURLcode cc;

	if (!opts->url)
		return -EINVAL;
	if (asprintf(&url, "%s%s", opts->url, opts->path ?: "") < 0) {
		url = NULL;
		return -ENOMEM;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cl = cl;
	x->next = cl->xfers;
	if (cl->xfers)
		cl->xfers->prev = x;
	cl->xfers = x;
	x->max_body = opts->max_body;
	x->user_timeout_ms = opts->user_timeout_ms;
	x->data = opts->data;
	x->done = opts->done;
	x->userdata = opts->userdata;
	if (opts->body) {
		x->body = malloc(opts->body_len + 1);
		if (!x->body) {
			xfer_free(x);
			return -ENOMEM;
		}
		memcpy(x->body, opts->body, opts->body_len);
		x->body[opts->body_len] = '\0';
		x->body_len = opts->body_len;
	}
	x->easy = curl_easy_init();
	if (!x->easy) {
		xfer_free(x);
		return -ENOMEM;
	}
	cc = setup_easy(x, opts, url);
	if (cc != CURLE_OK) {
		xfer_free(x);
		return log_error_errno(EINVAL, "Failed to set up the %s request %s: %s", cl->name,
				       url, curl_easy_strerror(cc));
	}
	*ret = x;
	return 0;
}

int curl_loop_xfer_header(struct curl_loop_xfer *x, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	struct curl_slist *l;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		s = NULL;
		return -ENOMEM;
	}
	l = curl_slist_append(x->headers, s);
	explicit_bzero(s, strlen(s));
	if (!l)
		return -ENOMEM;
	x->headers = l;
	return 0;
}

int curl_loop_xfer_start(struct curl_loop_xfer *x)
{
	if (x->state != XFER_NEW)
		return -EBUSY;
	if (x->headers && curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK)
		return -ENOMEM;
	x->state = XFER_QUEUED;
	return loop_timer_arm(x->cl->kick, 0);
}

void curl_loop_xfer_cancel(struct curl_loop_xfer *x)
{
	if (!x || x->cancelled)
		return;
	x->cancelled = true;
	if (x->state == XFER_DONE)
		return; /* freed when its done callback returns */
	if (x->state == XFER_RUNNING && x->cl->in_curl)
		(void)loop_timer_arm(x->cl->kick, 0); /* removed by the kick, outside curl */
	else
		xfer_free(x);
}

static void reap(struct curl_loop *cl)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(cl->multi, &left))) {
		struct curl_loop_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		curl_multi_remove_handle(cl->multi, x->easy);
		x->state = XFER_QUEUED; /* out of the multi handle */
		if (x->cancelled)
			xfer_free(x);
		else
			xfer_complete(x, msg->data.result, x->cb_error);
	}
}

static void socket_action(struct curl_loop *cl, curl_socket_t fd, int flags)
{
	int running;

	cl->in_curl++;
	curl_multi_socket_action(cl->multi, fd, flags, &running);
	cl->in_curl--;
	reap(cl);
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
	struct curl_loop *cl = userp;
	struct loop_source *src = socketp;
	_cleanup_free_ char *desc = NULL;
	uint32_t events = 0;
	int r;

	if (what == CURL_POLL_REMOVE) {
		loop_source_free(src);
		curl_multi_assign(cl->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src)
		r = loop_source_set_io_events(src, events);
	else if (asprintf(&desc, "%s connection", cl->name) < 0) {
		desc = NULL;
		r = -ENOMEM;
	} else {
		r = loop_add_io(cl->loop, fd, events, io_cb, cl, desc, &src);
		if (r >= 0)
			curl_multi_assign(cl->multi, fd, src);
	}
	if (r < 0)
		log_error_errno(r, "Failed to watch the %s connection", cl->name);
	return r < 0 ? -1 : 0;
}

static int timer_fn(struct loop_source *s, void *userdata)
{
	socket_action(userdata, CURL_SOCKET_TIMEOUT, 0);
	return 0;
}

static int multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *cl = userp;

	if (timeout_ms < 0)
		return loop_timer_disarm(cl->timer) < 0 ? -1 : 0;
	return loop_timer_arm(cl->timer, (uint64_t)timeout_ms * USEC_PER_MSEC) < 0 ? -1 : 0;
}

/* Add the queued transfers, drop the cancelled ones. A done callback may
 * start or cancel others: the scan starts again from the head after one. */
static int kick_cb(struct loop_source *s, void *userdata)
{
	struct curl_loop *cl = userdata;
	struct curl_loop_xfer *x, *next;
	bool again = true;

	while (again) {
		again = false;
		for (x = cl->xfers; x; x = next) {
			next = x->next;
			if (x->cancelled && x->state != XFER_DONE) {
				xfer_free(x);
				continue;
			}
			if (x->state != XFER_QUEUED)
				continue;
			if (curl_multi_add_handle(cl->multi, x->easy) != CURLM_OK) {
				xfer_complete(x, CURLE_OUT_OF_MEMORY, -ENOMEM);
				again = true;
				break;
			}
			x->state = XFER_RUNNING;
		}
	}
	return 0;
}

static int add_timer(struct curl_loop *cl, loop_timer_fn cb, const char *what,
		     struct loop_source **ret)
{
	_cleanup_free_ char *desc = NULL;
	int r;

	if (asprintf(&desc, "%s %s", cl->name, what) < 0)
		return -ENOMEM;
	r = loop_add_timer(cl->loop, 3600 * USEC_PER_SEC, cb, cl, desc, ret);
	if (r < 0)
		return r;
	return loop_timer_disarm(*ret);
}

int curl_loop_new(struct loop *loop, const char *name, long max_host_connections, bool multiplex,
		  struct curl_loop **ret)
{
	struct curl_loop *cl;
	int r = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->loop = loop;
	cl->name = strdup(name);
	cl->multi = curl_multi_init();
	if (!cl->name || !cl->multi)
		r = -ENOMEM;
	if (r >= 0)
		r = add_timer(cl, timer_fn, "curl timer", &cl->timer);
	if (r >= 0)
		r = add_timer(cl, kick_cb, "request queue", &cl->kick);
	if (r < 0) {
		curl_loop_free(cl);
		return r;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	if (max_host_connections > 0)
		curl_multi_setopt(cl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_connections);
	if (multiplex)
		curl_multi_setopt(cl->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	*ret = cl;
	return 0;
}

struct curl_loop *curl_loop_free(struct curl_loop *cl)
{
	if (!cl)
		return NULL;
	while (cl->xfers)
		xfer_free(cl->xfers);
	if (cl->multi)
		curl_multi_cleanup(cl->multi);
	loop_source_free(cl->timer);
	loop_source_free(cl->kick);
	free(cl->name);
	free(cl);
	return NULL;
}

bool curl_loop_got_response(int curl_code, long status)
{
	/* A write-callback abort on an error response still has that response. */
	return curl_code == CURLE_OK || (curl_code == CURLE_WRITE_ERROR && status >= 300);
}

int curl_loop_errno(int curl_code, long status)
{
	if (curl_loop_got_response(curl_code, status)) {
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

bool curl_loop_retryable(int r)
{
	return r == -EAGAIN || r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -EHOSTUNREACH;
}

const char *curl_loop_strerror(int curl_code)
{
	return curl_easy_strerror((CURLcode)curl_code);
}
