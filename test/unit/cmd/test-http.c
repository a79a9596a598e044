/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The health server: request-line parsing, and a live server on loopback
 * driven by the event loop answering real sockets (status lines, HEAD,
 * 405/400/431/505, the connection cap).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cmd/http.h"
#include "lib/core/macro.h"

/* Exactly what the server reads before giving up on a head (HTTP_MAX_HEAD - 1). */
#define HTTP_TEST_BIG 8191

static void test_parse(void **state)
{
	struct http_request r;
	static const char bad[][64] = {
		"",
		"GET\r\n",
		"GET /x\r\n",
		" /x HTTP/1.1\r\n",
		"GET x HTTP/1.1\r\n",
		"GET  /x HTTP/1.1\r\n",
		"GET /x HTTP/1.1",
	};

	assert_int_equal(http_parse_request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 36, &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/healthz");
	assert_string_equal(r.format, "");

	const char *q = "GET /status?x=1&format=json&y HTTP/1.0\n\n";
	assert_int_equal(http_parse_request(q, strlen(q), &r), 0);
	assert_string_equal(r.path, "/status");
	assert_string_equal(r.format, "json");

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(http_parse_request(bad[i], strlen(bad[i]), &r), -EBADMSG);
	q = "GET / HTTP/2.0\r\n\r\n";
	assert_int_equal(http_parse_request(q, strlen(q), &r), -EPROTONOSUPPORT);
	q = "GET / SPDY/1.1\r\n\r\n";
	assert_int_equal(http_parse_request(q, strlen(q), &r), -EPROTONOSUPPORT);

	char longpath[600] = "GET /";
	memset(longpath + 5, 'a', 400);
	strcpy(longpath + 405, " HTTP/1.1\r\n\r\n");
	assert_int_equal(http_parse_request(longpath, strlen(longpath), &r), -ENAMETOOLONG);
}

static int handler(const char *path, const char *format, struct buf *body,
		   const char **content_type, void *userdata)
{
	if (strcmp(path, "/healthz") != 0) {
		buf_puts(body, "404 page not found\n");
		return 404;
	}
	if (format) {
		*content_type = "application/json";
		buf_printf(body, "{\"format\":\"%s\"}", format);
	} else {
		buf_puts(body, "flanneld is running");
	}
	return 200;
}

struct fixture {
	struct loop *loop;
	struct http_server *server;
	uint16_t port;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(loop_new(&f->loop), 0);
	assert_int_equal(http_server_new(f->loop, "127.0.0.1", 0, handler, NULL, &f->server), 0);
	f->port = http_server_port(f->server);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_free(f->server);
	loop_free(f->loop);
	free(f);
	return 0;
}

static int client(const struct fixture *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send data (may be NULL), run the loop until the server closes, return the answer. */
static char *exchange(struct fixture *f, int fd, const char *data, size_t len)
{
	static char answer[16384];
	size_t got = 0;

	if (data)
		assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	for (int i = 0; i < 200; i++) {
		ssize_t n;

		loop_run_once(f->loop, 10 * USEC_PER_MSEC);
		n = recv(fd, answer + got, sizeof(answer) - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	answer[got] = '\0';
	close(fd);
	return answer;
}

static void test_get(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char *a = exchange(f, client(f), req, strlen(req));

	assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(a, "Content-Length: 19\r\n"));
	assert_non_null(strstr(a, "Connection: close\r\n"));
	assert_non_null(strstr(a, "\r\n\r\nflanneld is running"));

	req = "GET /healthz?format=json HTTP/1.0\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(a, "{\"format\":\"json\"}"));

	req = "HEAD /healthz HTTP/1.1\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "Content-Length: 19\r\n"));
	assert_null(strstr(a, "flanneld is running"));

	req = "GET /nope HTTP/1.1\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "HTTP/1.1 404 Not Found\r\n"));
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	const char *req = "POST /healthz HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	char *a = exchange(f, client(f), req, strlen(req));
	char big[HTTP_TEST_BIG];

	assert_non_null(strstr(a, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(a, "Allow: GET, HEAD\r\n"));

	req = "garbage\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "HTTP/1.1 400 Bad Request\r\n"));

	req = "GET / HTTP/3\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "HTTP/1.1 505 "));

	/* A head that never ends within the limit. */
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'x', sizeof(big) - 19);
	a = exchange(f, client(f), big, sizeof(big));
	assert_non_null(strstr(a, "HTTP/1.1 431 "));

	/* A client that closes without a request does not disturb the next one. */
	a = exchange(f, client(f), NULL, 0);
	assert_string_equal(a, "");
	req = "GET /healthz HTTP/1.1\r\n\r\n";
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "200 OK"));
}

static void test_connection_cap(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /healthz HTTP/1.1\r\n\r\n";
	int idle[16], extra;
	char *a;

	/* 16 idle clients hold every slot; the 17th is closed at once. */
	for (size_t i = 0; i < ARRAY_SIZE(idle); i++)
		idle[i] = client(f);
	extra = client(f);
	a = exchange(f, extra, NULL, 0);
	assert_string_equal(a, "");
	for (size_t i = 0; i < ARRAY_SIZE(idle); i++)
		close(idle[i]);
	/* Their slots come back once the server sees them closed. */
	for (int i = 0; i < 10; i++)
		loop_run_once(f->loop, 10 * USEC_PER_MSEC);
	a = exchange(f, client(f), req, strlen(req));
	assert_non_null(strstr(a, "200 OK"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
