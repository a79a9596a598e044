/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WireGuard over generic netlink: encoder, decoder, socket. The layout is
 * that of <linux/wireguard.h>: WGDEVICE_A_PEERS is a nested list of peers
 * (each a nested attribute of type 0), a peer's WGPEER_A_ALLOWEDIPS a nested
 * list of allowed IPs (type 0). Nests carry NLA_F_NESTED, which the kernel's
 * strict parsing requires.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/core/macro.h"
#include "wg_genl.h"

#define GENL_HDRLEN_ALL (NLMSG_HDRLEN + GENL_HDRLEN)
#define RECV_TIMEOUT_MS 3000

/* ---- encoding ---- */

static int put(struct buf *b, const void *data, size_t n)
{
	static const uint8_t zero[4];
	int r = buf_append(b, data, n);

	if (r >= 0 && NLA_ALIGN(n) > n)
		r = buf_append(b, zero, NLA_ALIGN(n) - n);
	return r;
}

static int attr(struct buf *b, uint16_t type, const void *data, size_t n)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};
	int r;

	if (NLA_HDRLEN + n > UINT16_MAX)
		return -EMSGSIZE;
	r = buf_append(b, &a, sizeof(a));
	return r < 0 ? r : put(b, data, n);
}

static int attr_u16(struct buf *b, uint16_t type, uint16_t v)
{
	return attr(b, type, &v, sizeof(v));
}

static int attr_u32(struct buf *b, uint16_t type, uint32_t v)
{
	return attr(b, type, &v, sizeof(v));
}

/* Open a nest: returns its offset, closed by nest_end. */
static int nest_start(struct buf *b, uint16_t type, size_t *off)
{
	struct nlattr a = {.nla_len = NLA_HDRLEN, .nla_type = type | NLA_F_NESTED};

	*off = b->len;
	return buf_append(b, &a, sizeof(a));
}

static int nest_end(struct buf *b, size_t off)
{
	struct nlattr *a = (struct nlattr *)(b->data + off);

	if (b->len - off > UINT16_MAX)
		return -EMSGSIZE;
	a->nla_len = (uint16_t)(b->len - off);
	return 0;
}

static int msg_start(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd,
		     uint8_t version)
{
	struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};
	struct genlmsghdr g = {.cmd = cmd, .version = version};
	int r;

	buf_reset(b);
	r = buf_append(b, &h, sizeof(h));
	return r < 0 ? r : buf_append(b, &g, sizeof(g));
}

static int msg_end(struct buf *b)
{
	if (b->len > UINT32_MAX)
		return -EMSGSIZE;
	((struct nlmsghdr *)b->data)->nlmsg_len = (uint32_t)b->len;
	return 0;
}

static int put_ifname(struct buf *b, const char *ifname)
{
	size_t n = strlen(ifname);

	if (n == 0 || n >= IFNAMSIZ)
		return -EINVAL;
	return attr(b, WGDEVICE_A_IFNAME, ifname, n + 1);
}

int wg_genl_family_request(uint32_t seq, struct buf *out)
{
	int r = msg_start(out, GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY, 1);

	if (r >= 0)
		r = attr(out, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME, sizeof(WG_GENL_NAME));
	return r < 0 ? r : msg_end(out);
}

int wg_genl_get_request(uint16_t family, uint32_t seq, const char *ifname, struct buf *out)
{
	int r = msg_start(out, family, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, seq,
			  WG_CMD_GET_DEVICE, WG_GENL_VERSION);

	if (r >= 0)
		r = put_ifname(out, ifname);
	return r < 0 ? r : msg_end(out);
}

static int put_endpoint(struct buf *b, const struct wg_peer *p)
{
	if (p->endpoint.family == AF_INET) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->port)};
		sa.sin_addr = p->endpoint.in;
		return attr(b, WGPEER_A_ENDPOINT, &sa, sizeof(sa));
	}
	if (p->endpoint.family == AF_INET6) {
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(p->port)};
		sa.sin6_addr = p->endpoint.in6;
		return attr(b, WGPEER_A_ENDPOINT, &sa, sizeof(sa));
	}
	return 0;
}

static int put_allowed(struct buf *b, const struct ip_net *n)
{
	size_t off;
	int r = nest_start(b, 0, &off);

	if (r >= 0)
		r = attr_u16(b, WGALLOWEDIP_A_FAMILY, (uint16_t)n->addr.family);
	if (r >= 0)
		r = attr(b, WGALLOWEDIP_A_IPADDR, n->addr.bytes,
			 n->addr.family == AF_INET ? 4 : 16);
	if (r >= 0)
		r = attr(b, WGALLOWEDIP_A_CIDR_MASK, &n->prefixlen, 1);
	return r < 0 ? r : nest_end(b, off);
}

static int put_peer(struct buf *b, const struct wg_peer *p, bool remove, const uint8_t *psk)
{
	static const uint8_t none[WG_KEY_LEN];
	size_t off, aoff;
	int r = nest_start(b, 0, &off);

	if (r >= 0)
		r = attr(b, WGPEER_A_PUBLIC_KEY, p->key, WG_KEY_LEN);
	if (r >= 0)
		r = attr_u32(b, WGPEER_A_FLAGS,
			     remove ? WGPEER_F_REMOVE_ME : WGPEER_F_REPLACE_ALLOWEDIPS);
	if (r < 0 || remove)
		return r < 0 ? r : nest_end(b, off);
	r = attr(b, WGPEER_A_PRESHARED_KEY, psk ? psk : none, WG_KEY_LEN);
	if (r >= 0)
		r = put_endpoint(b, p);
	if (r >= 0)
		r = attr_u16(b, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive);
	if (r >= 0)
		r = nest_start(b, WGPEER_A_ALLOWEDIPS, &aoff);
	for (unsigned k = 0; r >= 0 && k < p->n_allowed; k++)
		r = put_allowed(b, &p->allowed[k]);
	if (r >= 0)
		r = nest_end(b, aoff);
	return r < 0 ? r : nest_end(b, off);
}

int wg_genl_set_request(uint16_t family, uint32_t seq, const char *ifname,
			const struct wg_change *c, struct buf *out)
{
	size_t off;
	int r = msg_start(out, family, NLM_F_REQUEST | NLM_F_ACK, seq, WG_CMD_SET_DEVICE,
			  WG_GENL_VERSION);

	if (r >= 0)
		r = put_ifname(out, ifname);
	if (r >= 0 && c->set_private_key)
		r = attr(out, WGDEVICE_A_PRIVATE_KEY, c->private_key, WG_KEY_LEN);
	if (r >= 0 && c->set_listen_port)
		r = attr_u16(out, WGDEVICE_A_LISTEN_PORT, c->listen_port);
	if (r >= 0 && c->peer) {
		r = nest_start(out, WGDEVICE_A_PEERS, &off);
		if (r >= 0)
			r = put_peer(out, c->peer, c->remove, c->psk);
		if (r >= 0)
			r = nest_end(out, off);
	}
	return r < 0 ? r : msg_end(out);
}

/* ---- decoding ---- */

/* Iterate the attributes in [data, data+len): tb[type] = the last of each type. */
static int parse_attrs(const uint8_t *data, size_t len, const struct nlattr **tb, size_t max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)data;
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		if (type <= max)
			tb[type] = a;
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			return 0;
		data += NLA_ALIGN(a->nla_len);
		len -= NLA_ALIGN(a->nla_len);
	}
	return len == 0 ? 0 : -EBADMSG;
}

static const uint8_t *payload(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t payload_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static bool get_exact(const struct nlattr *a, void *ret, size_t n)
{
	if (!a || payload_len(a) != n)
		return false;
	memcpy(ret, payload(a), n);
	return true;
}

static int parse_allowed(const struct nlattr *nest, struct wg_peer *p)
{
	const uint8_t *d = payload(nest);
	size_t len = payload_len(nest);

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)d, *tb[WGALLOWEDIP_A_MAX + 1];
		struct ip_net n = {0};
		uint16_t family;
		size_t alen;
		int r;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		r = parse_attrs(payload(a), payload_len(a), tb, WGALLOWEDIP_A_MAX);
		if (r < 0)
			return r;
		if (!get_exact(tb[WGALLOWEDIP_A_FAMILY], &family, 2) ||
		    (family != AF_INET && family != AF_INET6) ||
		    !get_exact(tb[WGALLOWEDIP_A_CIDR_MASK], &n.prefixlen, 1))
			return -EBADMSG;
		alen = family == AF_INET ? 4 : 16;
		if (!get_exact(tb[WGALLOWEDIP_A_IPADDR], n.addr.bytes, alen) ||
		    n.prefixlen > alen * 8)
			return -EBADMSG;
		n.addr.family = family;
		if (p->n_allowed < WG_ALLOWED_MAX)
			p->allowed[p->n_allowed++] = n;
		else
			p->more_allowed = true;
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		d += NLA_ALIGN(a->nla_len);
		len -= NLA_ALIGN(a->nla_len);
	}
	return 0;
}

static int parse_endpoint(const struct nlattr *a, struct wg_peer *p)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (payload_len(a) == sizeof(sin)) {
		memcpy(&sin, payload(a), sizeof(sin));
		if (sin.sin_family != AF_INET)
			return -EBADMSG;
		ip_addr_from_in(&p->endpoint, sin.sin_addr);
		p->port = ntohs(sin.sin_port);
		return 0;
	}
	if (payload_len(a) == sizeof(sin6)) {
		memcpy(&sin6, payload(a), sizeof(sin6));
		if (sin6.sin6_family != AF_INET6)
			return -EBADMSG;
		ip_addr_from_in6(&p->endpoint, &sin6.sin6_addr);
		p->port = ntohs(sin6.sin6_port);
		return 0;
	}
	return -EBADMSG;
}

static int add_peer(struct wg_device *d, const uint8_t *key, struct wg_peer **ret)
{
	struct wg_peer *v;

	/* A peer continued from the previous message: same key, more allowed IPs. */
	if (d->n_peers > 0 && memcmp(d->peers[d->n_peers - 1].key, key, WG_KEY_LEN) == 0) {
		*ret = &d->peers[d->n_peers - 1];
		return 0;
	}
	v = reallocarray(d->peers, d->n_peers + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->peers = v;
	*ret = &v[d->n_peers++];
	memset(*ret, 0, sizeof(**ret));
	memcpy((*ret)->key, key, WG_KEY_LEN);
	return 0;
}

static int parse_peers(const struct nlattr *nest, struct wg_device *d)
{
	const uint8_t *data = payload(nest);
	size_t len = payload_len(nest);

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)data, *tb[WGPEER_A_MAX + 1];
		uint8_t key[WG_KEY_LEN];
		uint16_t ka;
		struct wg_peer *p;
		int r;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		r = parse_attrs(payload(a), payload_len(a), tb, WGPEER_A_MAX);
		if (r < 0)
			return r;
		if (!get_exact(tb[WGPEER_A_PUBLIC_KEY], key, WG_KEY_LEN))
			return -EBADMSG;
		r = add_peer(d, key, &p);
		if (r < 0)
			return r;
		if (tb[WGPEER_A_PRESHARED_KEY]) {
			uint8_t psk[WG_KEY_LEN];
			if (!get_exact(tb[WGPEER_A_PRESHARED_KEY], psk, WG_KEY_LEN))
				return -EBADMSG;
			p->psk_tag = wg_psk_tag(psk);
		}
		if (tb[WGPEER_A_ENDPOINT] && parse_endpoint(tb[WGPEER_A_ENDPOINT], p) < 0)
			return -EBADMSG;
		if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) {
			if (!get_exact(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL], &ka, 2))
				return -EBADMSG;
			p->keepalive = ka;
		}
		if (tb[WGPEER_A_ALLOWEDIPS]) {
			r = parse_allowed(tb[WGPEER_A_ALLOWEDIPS], p);
			if (r < 0)
				return r;
		}
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		data += NLA_ALIGN(a->nla_len);
		len -= NLA_ALIGN(a->nla_len);
	}
	return 0;
}

static int parse_device(const uint8_t *data, size_t len, struct wg_device *d)
{
	const struct nlattr *tb[WGDEVICE_A_MAX + 1];
	int r;

	if (len < GENL_HDRLEN)
		return -EBADMSG;
	r = parse_attrs(data + GENL_HDRLEN, len - GENL_HDRLEN, tb, WGDEVICE_A_MAX);
	if (r < 0)
		return r;
	if (tb[WGDEVICE_A_PRIVATE_KEY]) {
		if (!get_exact(tb[WGDEVICE_A_PRIVATE_KEY], d->private_key, WG_KEY_LEN))
			return -EBADMSG;
		d->has_private_key = true;
	}
	if (tb[WGDEVICE_A_LISTEN_PORT] &&
	    !get_exact(tb[WGDEVICE_A_LISTEN_PORT], &d->listen_port, 2))
		return -EBADMSG;
	return tb[WGDEVICE_A_PEERS] ? parse_peers(tb[WGDEVICE_A_PEERS], d) : 0;
}

int wg_genl_parse_reply(const void *data, size_t len, uint32_t seq, struct wg_device *dev)
{
	const uint8_t *p = data;

	while (len >= NLMSG_HDRLEN) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)p;
		const uint8_t *body = p + NLMSG_HDRLEN;
		size_t blen;
		int r, code;

		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
			return -EBADMSG;
		blen = h->nlmsg_len - NLMSG_HDRLEN;
		if (h->nlmsg_seq != seq)
			goto next; /* a late reply to an earlier request */
		if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
			if (blen < sizeof(int))
				return -EBADMSG;
			memcpy(&code, body, sizeof(code));
			if (code > 0 || code < -4095)
				return -EBADMSG;
			return code < 0 ? code : 1;
		}
		if (h->nlmsg_type >= NLMSG_MIN_TYPE) {
			r = parse_device(body, blen, dev);
			if (r < 0)
				return r;
		}
	next:
		if ((size_t)NLMSG_ALIGN(h->nlmsg_len) >= len)
			break;
		p += NLMSG_ALIGN(h->nlmsg_len);
		len -= NLMSG_ALIGN(h->nlmsg_len);
	}
	return 0;
}

int wg_genl_family_parse(const void *data, size_t len, uint16_t *ret_id)
{
	const struct nlmsghdr *h = data;
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	int code, r;

	if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
			return -EBADMSG;
		memcpy(&code, (const uint8_t *)data + NLMSG_HDRLEN, sizeof(code));
		return code < 0 ? code : -EBADMSG;
	}
	if (h->nlmsg_type != GENL_ID_CTRL || h->nlmsg_len < GENL_HDRLEN_ALL)
		return -EBADMSG;
	r = parse_attrs((const uint8_t *)data + GENL_HDRLEN_ALL, h->nlmsg_len - GENL_HDRLEN_ALL, tb,
			CTRL_ATTR_MAX);
	if (r < 0)
		return r;
	if (!get_exact(tb[CTRL_ATTR_FAMILY_ID], ret_id, 2))
		return -EBADMSG;
	return 0;
}

/* ---- the socket ---- */

struct wg_genl {
	int fd;
	uint16_t family;
	uint32_t seq;
};

static int exchange(struct wg_genl *g, const struct buf *req, uint32_t seq, struct wg_device *dev,
		    uint16_t *family)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	_cleanup_free_ uint8_t *rx = NULL;
	const size_t rx_size = 32768;

	if (sendto(g->fd, req->data, req->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	rx = malloc(rx_size);
	if (!rx)
		return -ENOMEM;
	for (;;) {
		struct pollfd pfd = {.fd = g->fd, .events = POLLIN};
		ssize_t n;
		int r;

		r = poll(&pfd, 1, RECV_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(g->fd, rx, rx_size, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (family)
			return wg_genl_family_parse(rx, (size_t)n, family);
		r = wg_genl_parse_reply(rx, (size_t)n, seq, dev);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

int wg_genl_open(struct wg_genl **ret)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct wg_genl *g;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		wg_genl_close(g);
		return r;
	}
	r = wg_genl_family_request(++g->seq, &req);
	if (r >= 0)
		r = exchange(g, &req, g->seq, NULL, &g->family);
	if (r < 0) {
		wg_genl_close(g);
		return r;
	}
	*ret = g;
	return 0;
}

void wg_genl_close(struct wg_genl *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	free(g);
}

int wg_genl_get(struct wg_genl *g, const char *ifname, struct wg_device *ret)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	struct wg_device d = {0};
	int r;

	r = wg_genl_get_request(g->family, ++g->seq, ifname, &req);
	if (r >= 0)
		r = exchange(g, &req, g->seq, &d, NULL);
	if (r < 0) {
		wg_device_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int wg_genl_set(struct wg_genl *g, const char *ifname, const struct wg_change *c)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	struct wg_device d = {0};
	int r;

	r = wg_genl_set_request(g->family, ++g->seq, ifname, c, &req);
	if (r >= 0)
		r = exchange(g, &req, g->seq, &d, NULL);
	wg_device_done(&d);
	return r;
}
