/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd in "external epoll" mode: MHD owns an epoll fd of its own
 * which we watch from the daemon's loop; when it is readable, or when MHD's
 * next timeout expires, MHD_run() does all the pending work without blocking.
 * The handler is synchronous: answers are rendered from in-memory state.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/epoll.h>

#include "lib/log.h"

#define HTTP_MAX_CONNECTIONS	    16
#define HTTP_CONNECTION_TIMEOUT_SEC 10
#define HTTP_CONNECTION_MEMORY	    (32 * 1024)

struct http_server {
	struct MHD_Daemon *mhd;
	struct loop_source *io;
	struct loop_source *timer;
	http_handler_fn handler;
	void *userdata;
};

static void http_arm_timer(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		loop_timer_arm(s->timer, (uint64_t)ms * USEC_PER_MSEC);
	else
		loop_timer_disarm(s->timer);
}

static int http_run(struct http_server *s)
{
	if (MHD_run(s->mhd) != MHD_YES)
		return -EIO;
	http_arm_timer(s);
	return 0;
}

static int on_io(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	return http_run(userdata);
}

static int on_timer(struct loop_source *src, void *userdata)
{
	return http_run(userdata);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	_cleanup_buf_ struct buf body = BUF_INIT;
	const char *content_type = "text/plain; charset=utf-8";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *query;
	int status;

	/* A request with a body is answered once the body is complete (and dropped). */
	if (*con_cls == NULL) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		buf_puts(&body, "method not allowed\n");
	} else {
		query = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
		status = s->handler(url, query, &body, &content_type, s->userdata);
	}

	resp = MHD_create_response_from_buffer(body.len, body.data ? body.data : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	log_error("libmicrohttpd: %s:%u: %s", file, line, reason ? reason : "internal error");
	abort();
}

int http_server_new(struct loop *loop, const char *ip, uint16_t port, http_handler_fn handler,
		    void *userdata, struct http_server **ret)
{
	struct sockaddr_storage ss = {0};
	struct http_server *s;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int r;

	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		flags |= MHD_USE_IPv6;
	} else {
		log_error("--healthz-ip: invalid IP address \"%s\"", ip);
		return -EINVAL;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->handler = handler;
	s->userdata = userdata;

	MHD_set_panic_func(on_panic, NULL);
	s->mhd = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_SEC,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!s->mhd) {
		free(s);
		log_error("failed to listen on %s:%u for /healthz", ip, port);
		return -EADDRNOTAVAIL;
	}

	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = loop_add_io(loop, info->epoll_fd, EPOLLIN, on_io, s, "http server", &s->io);
	if (r >= 0)
		r = loop_add_timer(loop, 0, on_timer, s, "http server timeout", &s->timer);
	if (r < 0) {
		http_server_free(s);
		return r;
	}
	http_arm_timer(s);
	*ret = s;
	return 0;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	loop_source_free(s->io);
	loop_source_free(s->timer);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	free(s);
}
