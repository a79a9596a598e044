/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/curl/curl_loop.c: the shared status/CURLcode -> errno table,
 * and real transfers on the event loop against a tiny HTTP/1.1 server that
 * runs on the same loop (127.0.0.1, an ephemeral port): collected and
 * streamed bodies, the body cap, error bodies, request method/body/headers,
 * a data callback aborting, and cancellation with no callback after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/core/buf.h"
#include "lib/core/loop.h"
#include "lib/curl/curl_loop.h"

/* ---- a one-request-per-connection HTTP server on the loop ---- */

struct conn {
	struct loop_source *src;
	int fd;
	struct buf in;
};

struct server {
	struct loop *loop;
	int fd;
	struct loop_source *src;
	char url[64];
	int requests;
};

static void respond(struct conn *c)
{
	const char *req = c->in.data, *path = strchr(req, ' ') + 1;
	const char *body = strstr(req, "\r\n\r\n") + 4;
	struct buf out = BUF_INIT;
	const char *status = "200 OK";
	struct buf payload = BUF_INIT;

	if (strncmp(path, "/ok ", 4) == 0) {
		buf_puts(&payload, "hello");
	} else if (strncmp(path, "/big ", 5) == 0) {
		for (int i = 0; i < 100; i++)
			buf_puts(&payload, "x");
	} else if (strncmp(path, "/echo ", 6) == 0) {
		/* method, the X-Test header, the request body */
		const char *h = strstr(req, "\r\nX-Test: ");
		buf_printf(&payload, "%.*s|%.*s|%s", (int)(strchr(req, ' ') - req), req,
			   h ? (int)strcspn(h + 10, "\r") : 0, h ? h + 10 : "", body);
	} else if (strncmp(path, "/missing ", 9) == 0) {
		status = "404 Not Found";
		for (int i = 0; i < CURL_LOOP_ERROR_BODY_MAX / 8 + 10; i++)
			buf_puts(&payload, "missing!");
	} else {
		status = "500 Internal Server Error";
		buf_puts(&payload, "?");
	}
	buf_printf(&out, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
		   payload.len);
	buf_append(&out, payload.data, payload.len);
	for (size_t off = 0; off < out.len;) {
		ssize_t n = write(c->fd, out.data + off, out.len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	buf_free(&out);
	buf_free(&payload);
}

static int conn_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	const char *end, *cl;

	if (n > 0) {
		buf_append(&c->in, tmp, (size_t)n);
		end = strstr(c->in.data, "\r\n\r\n");
		if (!end)
			return 0;
		cl = strcasestr(c->in.data, "\r\nContent-Length: ");
		if (cl && cl < end && c->in.len < (size_t)(end + 4 - c->in.data) + atoi(cl + 18))
			return 0;
		respond(c);
	}
	loop_source_free(c->src);
	close(c->fd);
	buf_free(&c->in);
	free(c);
	return 0;
}

static int accept_cb(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct server *srv = userdata;
	struct conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->fd >= 0);
	srv->requests++;
	assert_int_equal(loop_add_io(srv->loop, c->fd, EPOLLIN, conn_cb, c, "test conn", &c->src),
			 0);
	return 0;
}

static void server_start(struct loop *l, struct server *srv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	srv->loop = l;
	srv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(srv->fd >= 0);
	assert_int_equal(bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv->fd, 16), 0);
	assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(loop_add_io(l, srv->fd, EPOLLIN, accept_cb, srv, "test server", &srv->src),
			 0);
}

static void server_stop(struct server *srv)
{
	loop_source_free(srv->src);
	close(srv->fd);
}

/* ---- client side ---- */

struct outcome {
	int calls;
	struct curl_loop_result res;
	struct buf body;   /* taken from the result */
	struct buf stream; /* what the data callback got */
	int data_ret;	   /* what the data callback returns */
	struct curl_loop_xfer *self;
};

static void done_cb(const struct curl_loop_result *res, void *userdata)
{
	struct outcome *o = userdata;

	o->calls++;
	o->res = *res;
	o->res.body = NULL;
	o->res.errbuf = NULL;
	o->body = *res->body;
	*res->body = (struct buf)BUF_INIT;
}

static int data_cb(const char *data, size_t n, void *userdata)
{
	struct outcome *o = userdata;

	buf_append(&o->stream, data, n);
	return o->data_ret;
}

/* Cancels its own transfer from inside curl's write callback. */
static int cancel_cb(const char *data, size_t n, void *userdata)
{
	struct outcome *o = userdata;

	buf_append(&o->stream, data, n);
	curl_loop_xfer_cancel(o->self);
	return 0;
}

static void run_until_done(struct loop *l, const struct outcome *o)
{
	uint64_t deadline = now_monotonic_usec() + 10 * USEC_PER_SEC;

	while (o->calls == 0 && now_monotonic_usec() < deadline)
		assert_true(loop_run_once(l, 100 * USEC_PER_MSEC) >= 0);
	assert_int_equal(o->calls, 1);
}

static void start(struct curl_loop *cl, const struct server *srv, const char *path,
		  struct curl_loop_xfer_options *opts, struct outcome *o)
{
	struct curl_loop_xfer *x;

	opts->url = srv->url;
	opts->path = path;
	opts->done = done_cb;
	opts->userdata = o;
	opts->connect_timeout_usec = 5 * USEC_PER_SEC;
	opts->timeout_usec = 10 * USEC_PER_SEC;
	assert_int_equal(curl_loop_xfer_new(cl, opts, &x), 0);
	assert_int_equal(curl_loop_xfer_header(x, "X-Test: %d", 42), 0);
	assert_int_equal(curl_loop_xfer_start(x), 0);
}

struct fixture {
	struct loop *loop;
	struct curl_loop *cl;
	struct server srv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(loop_new(&f->loop), 0);
	assert_int_equal(curl_loop_new(f->loop, "test", 4, false, &f->cl), 0);
	server_start(f->loop, &f->srv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	curl_loop_free(f->cl);
	server_stop(&f->srv);
	loop_free(f->loop);
	free(f);
	return 0;
}

static void outcome_done(struct outcome *o)
{
	buf_free(&o->body);
	buf_free(&o->stream);
}

static void test_errno_table(void **state)
{
	assert_int_equal(curl_loop_errno(CURLE_OK, 200), 0);
	assert_int_equal(curl_loop_errno(CURLE_OK, 204), 0);
	assert_int_equal(curl_loop_errno(CURLE_OK, 400), -EINVAL);
	assert_int_equal(curl_loop_errno(CURLE_OK, 401), -EACCES);
	assert_int_equal(curl_loop_errno(CURLE_OK, 403), -EPERM);
	assert_int_equal(curl_loop_errno(CURLE_OK, 404), -ENOENT);
	assert_int_equal(curl_loop_errno(CURLE_OK, 503), -EAGAIN);
	assert_int_equal(curl_loop_errno(CURLE_OK, 418), -EPROTO);
	assert_int_equal(curl_loop_errno(CURLE_OK, 302), -EPROTO);
	assert_int_equal(curl_loop_errno(CURLE_WRITE_ERROR, 404), -ENOENT);
	assert_int_equal(curl_loop_errno(CURLE_COULDNT_CONNECT, 0), -ECONNREFUSED);
	assert_int_equal(curl_loop_errno(CURLE_COULDNT_RESOLVE_HOST, 0), -EHOSTUNREACH);
	assert_int_equal(curl_loop_errno(CURLE_OPERATION_TIMEDOUT, 0), -ETIMEDOUT);
	assert_int_equal(curl_loop_errno(CURLE_PEER_FAILED_VERIFICATION, 0), -EKEYREJECTED);
	assert_int_equal(curl_loop_errno(CURLE_SSL_CONNECT_ERROR, 0), -EPROTO);
	assert_int_equal(curl_loop_errno(CURLE_PARTIAL_FILE, 200), -ECONNRESET);
	assert_int_equal(curl_loop_errno(CURLE_OUT_OF_MEMORY, 0), -ENOMEM);
	assert_int_equal(curl_loop_errno(CURLE_URL_MALFORMAT, 0), -EINVAL);
	assert_int_equal(curl_loop_errno(CURLE_UNKNOWN_OPTION, 0), -EIO);
	assert_true(curl_loop_got_response(CURLE_OK, 500));
	assert_true(curl_loop_got_response(CURLE_WRITE_ERROR, 410));
	assert_false(curl_loop_got_response(CURLE_WRITE_ERROR, 200));
	assert_false(curl_loop_got_response(CURLE_RECV_ERROR, 200));

	assert_true(curl_loop_retryable(-ECONNREFUSED));
	assert_true(curl_loop_retryable(-EAGAIN));
	assert_true(curl_loop_retryable(-ECONNRESET));
	assert_true(curl_loop_retryable(-ETIMEDOUT));
	assert_true(curl_loop_retryable(-EHOSTUNREACH));
	assert_false(curl_loop_retryable(-EACCES));
	assert_false(curl_loop_retryable(-ENOENT));
	assert_false(curl_loop_retryable(-EPERM));
	assert_false(curl_loop_retryable(-ESTALE));
	(void)state;
}

static void test_collect(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {.max_body = 64};
	struct outcome o = {};

	start(f->cl, &f->srv, "/ok", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.curl_code, CURLE_OK);
	assert_int_equal(o.res.status, 200);
	assert_int_equal(o.res.error, 0);
	assert_false(o.res.delivered);
	assert_string_equal(o.body.data, "hello");
	outcome_done(&o);
}

static void test_body_cap(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {.max_body = 10};
	struct outcome o = {};

	start(f->cl, &f->srv, "/big", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.error, -EFBIG);
	assert_int_equal(o.res.curl_code, CURLE_WRITE_ERROR);
	assert_true(o.body.len <= 10);
	outcome_done(&o);
}

static void test_method_body_headers(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {
		.method = "PATCH", .body = "{\"a\":1}xyz", .body_len = 7};
	struct outcome o = {};

	start(f->cl, &f->srv, "/echo", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.status, 200);
	assert_string_equal(o.body.data, "PATCH|42|{\"a\":1}");
	outcome_done(&o);

	/* a body without a method is a POST */
	opts = (struct curl_loop_xfer_options){.body = "k=v", .body_len = 3};
	o = (struct outcome){};
	start(f->cl, &f->srv, "/echo", &opts, &o);
	run_until_done(f->loop, &o);
	assert_string_equal(o.body.data, "POST|42|k=v");
	outcome_done(&o);
}

static void test_error_body(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {.max_body = 16};
	struct outcome o = {};

	/* error bodies ignore max_body and keep their start, at most 64 KiB */
	start(f->cl, &f->srv, "/missing", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.curl_code, CURLE_OK);
	assert_int_equal(o.res.status, 404);
	assert_int_equal(o.res.error, 0);
	assert_true(o.body.len > 16 && o.body.len <= CURL_LOOP_ERROR_BODY_MAX);
	assert_memory_equal(o.body.data, "missing!missing!", 16);
	assert_int_equal(curl_loop_errno(o.res.curl_code, o.res.status), -ENOENT);
	outcome_done(&o);
}

static void test_stream(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {.data = data_cb, .max_body = 10};
	struct outcome o = {};

	/* streamed bodies are not capped by max_body */
	start(f->cl, &f->srv, "/big", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.error, 0);
	assert_true(o.res.delivered);
	assert_int_equal(o.stream.len, 100);
	assert_int_equal(o.body.len, 0);
	outcome_done(&o);

	/* the data callback's error ends the transfer and is reported */
	o = (struct outcome){.data_ret = -EPIPE};
	start(f->cl, &f->srv, "/big", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.error, -EPIPE);
	assert_true(o.res.delivered);
	outcome_done(&o);

	/* non-2xx bodies are collected, not streamed */
	o = (struct outcome){};
	start(f->cl, &f->srv, "/nothing", &opts, &o);
	run_until_done(f->loop, &o);
	assert_int_equal(o.res.status, 500);
	assert_false(o.res.delivered);
	assert_int_equal(o.stream.len, 0);
	assert_string_equal(o.body.data, "?");
	outcome_done(&o);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct curl_loop_xfer_options opts = {.url = f->srv.url};
	struct curl_loop_xfer *x;
	struct outcome o = {}, other = {};
	char url[128];

	/* before it starts */
	assert_int_equal(curl_loop_xfer_new(f->cl, &opts, &x), 0);
	curl_loop_xfer_cancel(x);
	curl_loop_xfer_cancel(NULL);

	/* queued, then cancelled: no callback, while another one completes */
	opts = (struct curl_loop_xfer_options){.url = f->srv.url, .done = done_cb, .userdata = &o};
	assert_int_equal(curl_loop_xfer_new(f->cl, &opts, &x), 0);
	assert_int_equal(curl_loop_xfer_start(x), 0);
	curl_loop_xfer_cancel(x);
	opts = (struct curl_loop_xfer_options){};
	start(f->cl, &f->srv, "/ok", &opts, &other);
	run_until_done(f->loop, &other);
	assert_int_equal(o.calls, 0);
	outcome_done(&other);

	/* from inside curl (its own data callback): deferred, still no callback */
	o = (struct outcome){};
	other = (struct outcome){};
	snprintf(url, sizeof(url), "%s/big", f->srv.url);
	opts = (struct curl_loop_xfer_options){
		.url = url, .data = cancel_cb, .done = done_cb, .userdata = &o};
	assert_int_equal(curl_loop_xfer_new(f->cl, &opts, &o.self), 0);
	assert_int_equal(curl_loop_xfer_start(o.self), 0);
	opts = (struct curl_loop_xfer_options){};
	start(f->cl, &f->srv, "/ok", &opts, &other);
	run_until_done(f->loop, &other);
	for (int i = 0; i < 5; i++)
		assert_true(loop_run_once(f->loop, 10 * USEC_PER_MSEC) >= 0);
	assert_int_equal(o.calls, 0);
	assert_true(o.stream.len > 0);
	outcome_done(&o);
	outcome_done(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_table),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_body_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
