/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WireGuard userspace API: rendering "set" requests, parsing "get"
 * replies, and one blocking, time-bounded connection per request.
 *
 * Replies are untrusted text (another process owns the socket): every line
 * must be "key=value" with a known value syntax where we read it; unknown
 * keys are skipped, so a newer wireguard-go's extra keys do not break us.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/hex.h"
#include "lib/core/macro.h"
#include "wg_uapi.h"

static int put_hex(struct buf *out, const char *key, const uint8_t *k)
{
	char hex[2 * WG_KEY_LEN + 1];

	for (int i = 0; i < WG_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	return buf_printf(out, "%s=%s\n", key, hex);
}

static int put_endpoint(struct buf *out, const struct ip_addr *a, uint16_t port)
{
	char s[IP_ADDR_STRLEN];

	if (a->family == AF_INET6)
		return buf_printf(out, "endpoint=[%s]:%u\n", ip_addr_fmt(a, s), port);
	return buf_printf(out, "endpoint=%s:%u\n", ip_addr_fmt(a, s), port);
}

int wg_uapi_render_set(const struct wg_change *c, struct buf *out)
{
	const struct wg_peer *p = c->peer;
	char s[IP_NET_STRLEN];
	int r;

	r = buf_puts(out, "set=1\n");
	if (r >= 0 && c->set_private_key)
		r = put_hex(out, "private_key", c->private_key);
	if (r >= 0 && c->set_listen_port)
		r = buf_printf(out, "listen_port=%u\n", c->listen_port);
	if (r >= 0 && p) {
		r = put_hex(out, "public_key", p->key);
		if (r >= 0 && c->remove)
			r = buf_puts(out, "remove=true\n");
		else if (r >= 0) {
			static const uint8_t none[WG_KEY_LEN];
			r = put_hex(out, "preshared_key", c->psk ? c->psk : none);
			if (r >= 0 && p->endpoint.family)
				r = put_endpoint(out, &p->endpoint, p->port);
			if (r >= 0)
				r = buf_printf(out, "persistent_keepalive_interval=%u\n",
					       p->keepalive);
			if (r >= 0)
				r = buf_puts(out, "replace_allowed_ips=true\n");
			for (unsigned k = 0; r >= 0 && k < p->n_allowed; k++)
				r = buf_printf(out, "allowed_ip=%s\n",
					       ip_net_fmt(&p->allowed[k], s));
		}
	}
	if (r >= 0)
		r = buf_puts(out, "\n");
	return r < 0 ? r : 0;
}

static int parse_key(const char *v, uint8_t k[static WG_KEY_LEN])
{
	if (strlen(v) != 2 * WG_KEY_LEN)
		return -EINVAL;
	for (int i = 0; i < WG_KEY_LEN; i++) {
		int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *ret)
{
	unsigned long n = 0;

	if (!*v || strlen(v) > 20)
		return -EINVAL;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (n > (max - (unsigned long)(*p - '0')) / 10)
			return -ERANGE;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	*ret = n;
	return 0;
}

/* "1.2.3.4:51820" or "[2001:db8::1]:51820". */
static int parse_endpoint(char *v, struct ip_addr *ret, uint16_t *port)
{
	char *colon = strrchr(v, ':');
	unsigned long n;
	int r;

	if (!colon)
		return -EINVAL;
	*colon = '\0';
	r = parse_uint(colon + 1, 65535, &n);
	if (r < 0)
		return r;
	if (v[0] == '[') {
		size_t len = strlen(v);
		if (len < 3 || v[len - 1] != ']')
			return -EINVAL;
		v[len - 1] = '\0';
		r = ip_addr_parse_family(AF_INET6, v + 1, ret);
	} else
		r = ip_addr_parse_family(AF_INET, v, ret);
	if (r < 0)
		return r;
	*port = (uint16_t)n;
	return 0;
}

static int push_peer(struct wg_device *d, size_t *cap)
{
	if (d->n_peers == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		struct wg_peer *v = reallocarray(d->peers, n, sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->peers = v;
		*cap = n;
	}
	memset(&d->peers[d->n_peers++], 0, sizeof(struct wg_peer));
	return 0;
}

/* One "key=value" line of a get reply; *errno_out set by the errno line. */
static int get_line(struct wg_device *d, size_t *cap, char *line, bool *done, int *reply_errno)
{
	struct wg_peer *p = d->n_peers ? &d->peers[d->n_peers - 1] : NULL;
	char *v = strchr(line, '=');
	unsigned long n;
	struct ip_net net;
	int r;

	if (!v)
		return -EBADMSG;
	*v++ = '\0';
	if (strcmp(line, "errno") == 0) {
		bool neg = v[0] == '-';
		r = parse_uint(v + neg, 4095, &n);
		if (r < 0)
			return -EBADMSG;
		*reply_errno = neg ? -(int)n : (int)n;
		*done = true;
		return 0;
	}
	if (strcmp(line, "private_key") == 0) {
		if (parse_key(v, d->private_key) < 0)
			return -EBADMSG;
		d->has_private_key = true;
	} else if (strcmp(line, "listen_port") == 0) {
		if (parse_uint(v, 65535, &n) < 0)
			return -EBADMSG;
		d->listen_port = (uint16_t)n;
	} else if (strcmp(line, "public_key") == 0) {
		r = push_peer(d, cap);
		if (r < 0)
			return r;
		if (parse_key(v, d->peers[d->n_peers - 1].key) < 0)
			return -EBADMSG;
	} else if (!p) {
		return 0; /* another device key (fwmark, ...) */
	} else if (strcmp(line, "preshared_key") == 0) {
		uint8_t psk[WG_KEY_LEN];
		if (parse_key(v, psk) < 0)
			return -EBADMSG;
		p->psk_tag = wg_psk_tag(psk);
	} else if (strcmp(line, "endpoint") == 0) {
		if (parse_endpoint(v, &p->endpoint, &p->port) < 0)
			return -EBADMSG;
	} else if (strcmp(line, "persistent_keepalive_interval") == 0) {
		if (parse_uint(v, 65535, &n) < 0)
			return -EBADMSG;
		p->keepalive = (uint16_t)n;
	} else if (strcmp(line, "allowed_ip") == 0) {
		if (ip_net_parse(v, &net) < 0)
			return -EBADMSG;
		if (p->n_allowed < WG_ALLOWED_MAX)
			p->allowed[p->n_allowed++] = net;
		else
			p->more_allowed = true;
	}
	return 0;
}

int wg_uapi_parse_get(const char *text, size_t len, struct wg_device *ret, struct errmsg *err)
{
	struct wg_device d = {0};
	size_t cap = 0, line_no = 0;
	bool done = false;
	int reply_errno = 0, r = 0;
	const char *p = text, *end = text + len;

	while (p < end && !done) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[256];
		size_t n;

		line_no++;
		if (!nl || (size_t)(nl - p) >= sizeof(line) || nl == p) {
			r = -EBADMSG;
			break;
		}
		n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		if (memchr(line, '\0', n)) {
			r = -EBADMSG;
			break;
		}
		r = get_line(&d, &cap, line, &done, &reply_errno);
		if (r < 0)
			break;
		p = nl + 1;
	}
	if (r >= 0 && !done)
		r = -EBADMSG;
	if (r == -EBADMSG)
		errmsg_set(err, "malformed reply at line %zu", line_no);
	if (r >= 0 && reply_errno != 0) {
		errmsg_set(err, "errno=%d", reply_errno);
		r = reply_errno < 0 ? reply_errno : -reply_errno;
	}
	if (r < 0) {
		wg_device_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int wg_uapi_parse_errno(const char *text, size_t len)
{
	struct wg_device d = {0};
	int r = wg_uapi_parse_get(text, len, &d, NULL);

	wg_device_done(&d);
	return r;
}

int wg_uapi_path(const char *dev, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.sock", WG_UAPI_DIR, dev);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Send req, read until the reply's terminating empty line. */
static int transact(const char *path, const struct buf *req, struct buf *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	uint64_t deadline = now_ms() + WG_UAPI_TIMEOUT_MS;
	size_t off = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = off < req->len ? POLLOUT : POLLIN};
		uint64_t now = now_ms();
		char chunk[4096];
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (off < req->len) {
			n = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			if (n > 0)
				off += (size_t)n;
			continue;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET; /* closed before the end of the reply */
		if (buf_append(reply, chunk, (size_t)n) < 0)
			return -ENOMEM;
		if (reply->len > WG_UAPI_REPLY_MAX)
			return -EMSGSIZE;
		if (reply->len >= 2 && memcmp(reply->data + reply->len - 2, "\n\n", 2) == 0)
			return 0;
	}
}

int wg_uapi_get(const char *path, struct wg_device *ret, struct errmsg *err)
{
	_cleanup_buf_ struct buf req = BUF_INIT, reply = BUF_INIT;
	int r;

	r = buf_puts(&req, "get=1\n\n");
	if (r < 0)
		return r;
	r = transact(path, &req, &reply);
	if (r < 0) {
		errmsg_set(err, "%s: %s", path, strerror(-r));
		return r;
	}
	return wg_uapi_parse_get(reply.data, reply.len, ret, err);
}

int wg_uapi_set(const char *path, const struct wg_change *c, struct errmsg *err)
{
	_cleanup_buf_ struct buf req = BUF_INIT, reply = BUF_INIT;
	int r;

	r = wg_uapi_render_set(c, &req);
	if (r < 0)
		return r;
	r = transact(path, &req, &reply);
	if (r < 0) {
		errmsg_set(err, "%s: %s", path, strerror(-r));
		return r;
	}
	r = wg_uapi_parse_errno(reply.data, reply.len);
	if (r < 0)
		errmsg_set(err, "%s: set failed: %s", path, strerror(-r));
	return r;
}
