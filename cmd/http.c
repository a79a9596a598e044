/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deliberately small HTTP/1.1 server on the daemon's loop, for /healthz,
 * /readyz, /metrics and /status: one request per connection, answered from
 * memory, then closed. Everything about a client is bounded: at most
 * HTTP_MAX_CONNECTIONS at once (more are closed at accept), the request head
 * must fit in HTTP_MAX_HEAD bytes (431 otherwise), and a connection lives at
 * most HTTP_DEADLINE_USEC (slow clients are dropped), so no client can stall
 * the loop or grow our memory. A library server (libmicrohttpd) would pull in
 * GnuTLS and p11-kit for nothing we use, about 1.5 MiB of resident memory.
 */
#include "http.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lib/core/log.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_MAX_HEAD	     8192
#define HTTP_DEADLINE_USEC   (10 * USEC_PER_SEC)

struct http_conn {
	struct http_server *server;
	int fd;
	struct loop_source *io, *deadline;
	char head[HTTP_MAX_HEAD];
	size_t head_len;
	struct buf out;
	size_t out_off;
	struct http_conn *next;
};

struct http_server {
	struct loop *loop;
	int fd;
	struct loop_source *io;
	http_handler_fn handler;
	void *userdata;
	struct http_conn *conns;
	unsigned n_conns;
};

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

/* Pure: the request line of a complete head ("GET /x?format=json HTTP/1.1\r\n..."). */
int http_parse_request(const char *head, size_t len, struct http_request *ret)
{
	const char *eol = memchr(head, '\n', len), *sp1, *sp2, *q;
	size_t line;

	*ret = (struct http_request){0};
	if (!eol)
		return -EBADMSG;
	line = (size_t)(eol - head);
	if (line > 0 && head[line - 1] == '\r')
		line--;
	sp1 = memchr(head, ' ', line);
	if (!sp1 || sp1 == head || (size_t)(sp1 - head) >= sizeof(ret->method))
		return -EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - head));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return -EBADMSG;
	if ((size_t)(head + line - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -EPROTONOSUPPORT;
	if (sp2[8] != '0' && sp2[8] != '1')
		return -EPROTONOSUPPORT;

	memcpy(ret->method, head, (size_t)(sp1 - head));
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - (sp1 + 1)));
	if ((size_t)((q ? q : sp2) - (sp1 + 1)) >= sizeof(ret->path))
		return -ENAMETOOLONG;
	memcpy(ret->path, sp1 + 1, (size_t)((q ? q : sp2) - (sp1 + 1)));
	if (q) {
		/* Only format=<word> is meaningful to us; other parameters are ignored. */
		for (const char *p = q + 1; p < sp2;) {
			const char *amp = memchr(p, '&', (size_t)(sp2 - p));
			const char *end = amp ? amp : sp2;

			if ((size_t)(end - p) > 7 && memcmp(p, "format=", 7) == 0 &&
			    (size_t)(end - p - 7) < sizeof(ret->format))
				memcpy(ret->format, p + 7, (size_t)(end - p - 7));
			p = end + 1;
		}
	}
	return 0;
}

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->server;

	for (struct http_conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->n_conns--;
	loop_source_free(c->io);
	loop_source_free(c->deadline);
	close(c->fd);
	buf_free(&c->out);
	free(c);
}

static int conn_write(struct http_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return loop_source_set_io_events(c->io, EPOLLOUT);
			conn_free(c);
			return 0;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	conn_free(c);
	return 0;
}

static int conn_respond(struct http_conn *c, int status, const char *content_type,
			const struct buf *body, bool head_only)
{
	int r;

	r = buf_printf(&c->out,
		       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		       "%sConnection: close\r\n\r\n",
		       status, reason_phrase(status), content_type, body->len,
		       status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (r >= 0 && !head_only && body->len)
		r = buf_append(&c->out, body->data, body->len);
	if (r < 0) {
		conn_free(c);
		return r;
	}
	return conn_write(c);
}

static int conn_handle(struct http_conn *c)
{
	struct http_server *s = c->server;
	_cleanup_buf_ struct buf body = BUF_INIT;
	const char *content_type = "text/plain; charset=utf-8";
	struct http_request req;
	int status, r;

	r = http_parse_request(c->head, c->head_len, &req);
	if (r == -EPROTONOSUPPORT) {
		status = 505;
		buf_puts(&body, "HTTP version not supported\n");
	} else if (r < 0) {
		status = 400;
		buf_puts(&body, "bad request\n");
	} else if (strcmp(req.method, "GET") != 0 && strcmp(req.method, "HEAD") != 0) {
		status = 405;
		buf_puts(&body, "method not allowed\n");
	} else {
		status = s->handler(req.path, req.format[0] ? req.format : NULL, &body,
				    &content_type, s->userdata);
	}
	return conn_respond(c, status, content_type, &body, r >= 0 && !strcmp(req.method, "HEAD"));
}

static int on_conn_io(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	struct http_conn *c = userdata;
	ssize_t n;

	if (c->out.len)
		return conn_write(c);

	n = recv(fd, c->head + c->head_len, sizeof(c->head) - c->head_len - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_free(c);
		return 0;
	}
	c->head_len += (size_t)n;
	c->head[c->head_len] = '\0';
	if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n"))
		return conn_handle(c);
	if (c->head_len == sizeof(c->head) - 1) {
		struct buf body = BUF_INIT;
		int r;

		buf_puts(&body, "request header too large\n");
		r = conn_respond(c, 431, "text/plain; charset=utf-8", &body, false);
		buf_free(&body);
		return r;
	}
	return 0;
}

static int on_conn_deadline(struct loop_source *src, void *userdata)
{
	conn_free(userdata);
	return 0;
}

static int on_accept(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	struct http_server *s = userdata;

	for (;;) {
		_cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_conn *c;
		int r;

		if (cfd < 0)
			return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED
				       ? 0
				       : negative_errno();
		if (s->n_conns >= HTTP_MAX_CONNECTIONS)
			continue; /* closed by the cleanup attribute */
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->server = s;
		c->fd = TAKE_FD(cfd);
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
		r = loop_add_io(s->loop, c->fd, EPOLLIN, on_conn_io, c, "http connection", &c->io);
		if (r >= 0)
			r = loop_add_timer(s->loop, HTTP_DEADLINE_USEC, on_conn_deadline, c,
					   "http connection deadline", &c->deadline);
		if (r < 0) {
			conn_free(c);
			return r;
		}
	}
}

int http_server_new(struct loop *loop, const char *ip, uint16_t port, http_handler_fn handler,
		    void *userdata, struct http_server **ret)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr = {0};
	socklen_t len;
	_cleanup_close_ int fd = -1;
	struct http_server *s;
	int one = 1, r;

	if (inet_pton(AF_INET, ip, &addr.in.sin_addr) == 1) {
		addr.in.sin_family = AF_INET;
		addr.in.sin_port = htons(port);
		len = sizeof(addr.in);
	} else if (inet_pton(AF_INET6, ip, &addr.in6.sin6_addr) == 1) {
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = htons(port);
		len = sizeof(addr.in6);
	} else {
		log_error("--healthz-ip: invalid IP address \"%s\"", ip);
		return -EINVAL;
	}

	fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(negative_errno(), "Failed to create the health socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr.sa, len) < 0 || listen(fd, HTTP_MAX_CONNECTIONS) < 0)
		return log_error_errno(negative_errno(), "Failed to listen on %s:%u for /healthz",
				       ip, port);

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->handler = handler;
	s->userdata = userdata;
	s->fd = TAKE_FD(fd);
	r = loop_add_io(loop, s->fd, EPOLLIN, on_accept, s, "http server", &s->io);
	if (r < 0) {
		http_server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	loop_source_free(s->io);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
