/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink messages (pure builders and parsers) and the socket shell; see
 * rtnl.h. Requests carry sequence number 0 until the socket shell stamps them,
 * so a builder's output is fully determined by its arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/core/log.h"
#include "rtnl.h"

#define ALIGN4(n) (((n) + 3u) & ~3u)

static void msg_start(struct rtnl_msg *m, uint16_t type, uint16_t flags, const void *hdr,
		      size_t hdr_len)
{
	memset(m, 0, sizeof(*m));
	m->hdr.nlmsg_type = type;
	m->hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	m->hdr.nlmsg_len = NLMSG_LENGTH(hdr_len);
	memcpy(m->buf + NLMSG_HDRLEN, hdr, hdr_len);
}

static void put(struct rtnl_msg *m, const void *data, size_t len)
{
	size_t at = m->hdr.nlmsg_len;
	if (m->err < 0 || at + ALIGN4(len) > sizeof(m->buf)) {
		m->err = -EMSGSIZE;
		return;
	}
	memcpy(m->buf + at, data, len);
	memset(m->buf + at + len, 0, ALIGN4(len) - len);
	m->hdr.nlmsg_len = at + ALIGN4(len);
}

static void put_attr(struct rtnl_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = {.nla_len = NLA_HDRLEN + len, .nla_type = type};
	put(m, &a, sizeof(a));
	if (len > 0)
		put(m, data, len);
}

static void put_u32(struct rtnl_msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_str(struct rtnl_msg *m, uint16_t type, const char *s)
{
	put_attr(m, type, s, strlen(s) + 1);
}

/* Nested attributes carry NLA_F_NESTED only where iproute2 sets it (VETH_INFO_PEER must not). */
static void nest_begin(struct rtnl_msg *m, uint16_t type)
{
	if (m->depth >= sizeof(m->nest) / sizeof(m->nest[0])) {
		m->err = -EMSGSIZE;
		return;
	}
	m->nest[m->depth++] = m->hdr.nlmsg_len;
	put_attr(m, type, NULL, 0);
}

static void nest_end(struct rtnl_msg *m)
{
	if (m->err < 0 || m->depth == 0)
		return;
	size_t at = m->nest[--m->depth];
	struct nlattr *a = (struct nlattr *)(m->buf + at);
	a->nla_len = m->hdr.nlmsg_len - at;
}

/* A link name must fit IFNAMSIZ with its NUL. */
static bool ifname_ok(const char *name)
{
	return name && name[0] && strlen(name) < IFNAMSIZ;
}

int rtnl_build_bridge(struct rtnl_msg *m, const char *name, uint32_t mtu, const uint8_t *mac)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	if (!ifname_ok(name))
		return -EINVAL;
	msg_start(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	put_str(m, IFLA_IFNAME, name);
	if (mtu)
		put_u32(m, IFLA_MTU, mtu);
	if (mac)
		put_attr(m, IFLA_ADDRESS, mac, 6);
	nest_begin(m, IFLA_LINKINFO);
	put_str(m, IFLA_INFO_KIND, "bridge");
	nest_end(m);
	return m->err;
}

int rtnl_build_veth(struct rtnl_msg *m, const char *name, uint32_t mtu, int master,
		    const char *peer, int peer_netns_fd)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	if (!ifname_ok(name) || !ifname_ok(peer))
		return -EINVAL;
	msg_start(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, &ifi, sizeof(ifi));
	put_str(m, IFLA_IFNAME, name);
	if (mtu)
		put_u32(m, IFLA_MTU, mtu);
	if (master > 0)
		put_u32(m, IFLA_MASTER, master);
	nest_begin(m, IFLA_LINKINFO);
	put_str(m, IFLA_INFO_KIND, "veth");
	nest_begin(m, IFLA_INFO_DATA);
	nest_begin(m, VETH_INFO_PEER);
	/* Not up: the peer is opened before the pair is linked, which fails (ENOTCONN). */
	put(m, &(struct ifinfomsg){.ifi_family = AF_UNSPEC}, sizeof(ifi));
	put_str(m, IFLA_IFNAME, peer);
	if (mtu)
		put_u32(m, IFLA_MTU, mtu);
	if (peer_netns_fd >= 0)
		put_u32(m, IFLA_NET_NS_FD, peer_netns_fd);
	nest_end(m);
	nest_end(m);
	nest_end(m);
	return m->err;
}

int rtnl_build_link_up(struct rtnl_msg *m, int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = ifindex,
				.ifi_flags = IFF_UP,
				.ifi_change = IFF_UP};
	msg_start(m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return m->err;
}

int rtnl_build_hairpin(struct rtnl_msg *m, const char *name, bool on)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	uint8_t mode = on;
	if (!ifname_ok(name))
		return -EINVAL;
	msg_start(m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	put_str(m, IFLA_IFNAME, name);
	nest_begin(m, IFLA_LINKINFO);
	put_str(m, IFLA_INFO_SLAVE_KIND, "bridge");
	nest_begin(m, IFLA_INFO_SLAVE_DATA);
	put_attr(m, IFLA_BRPORT_MODE, &mode, sizeof(mode));
	nest_end(m);
	nest_end(m);
	return m->err;
}

static int build_link_by(struct rtnl_msg *m, uint16_t type, int ifindex, const char *name)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	if (ifindex <= 0 && !ifname_ok(name))
		return -EINVAL;
	msg_start(m, type, 0, &ifi, sizeof(ifi));
	if (ifindex <= 0)
		put_str(m, IFLA_IFNAME, name);
	return m->err;
}

int rtnl_build_getlink(struct rtnl_msg *m, int ifindex, const char *name)
{
	return build_link_by(m, RTM_GETLINK, ifindex, name);
}

int rtnl_build_dellink(struct rtnl_msg *m, int ifindex, const char *name)
{
	return build_link_by(m, RTM_DELLINK, ifindex, name);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int rtnl_build_addr(struct rtnl_msg *m, int ifindex, const struct ip_net *a)
{
	int family = a->addr.family;
	size_t len = addr_len(family);
	struct ifaddrmsg ifa = {
		.ifa_family = family,
		.ifa_prefixlen = a->prefixlen,
		.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0,
		.ifa_index = ifindex,
	};
	if (len == 0 || a->prefixlen > ip_family_bits(family))
		return -EINVAL;
	msg_start(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	put_attr(m, IFA_LOCAL, a->addr.bytes, len);
	put_attr(m, IFA_ADDRESS, a->addr.bytes, len);
	if (family == AF_INET && a->prefixlen < 31) {
		struct ip_addr brd;
		ip_net_last_addr(a, &brd);
		put_attr(m, IFA_BROADCAST, brd.bytes, len);
	}
	return m->err;
}

int rtnl_build_route(struct rtnl_msg *m, int ifindex, const struct ip_net *dst,
		     const struct ip_addr *gw)
{
	int family = dst->addr.family;
	size_t len = addr_len(family);
	struct rtmsg rt = {
		.rtm_family = family,
		.rtm_dst_len = dst->prefixlen,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};
	if (len == 0 || dst->prefixlen > ip_family_bits(family) ||
	    (gw && ip_addr_is_set(gw) && gw->family != family))
		return -EINVAL;
	msg_start(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	if (dst->prefixlen > 0) {
		struct ip_net masked = *dst;
		ip_net_mask(&masked);
		put_attr(m, RTA_DST, masked.addr.bytes, len);
	}
	if (gw && ip_addr_is_set(gw))
		put_attr(m, RTA_GATEWAY, gw->bytes, len);
	put_u32(m, RTA_OIF, ifindex);
	return m->err;
}

int rtnl_build_dump(struct rtnl_msg *m, uint16_t type, int family)
{
	/* rtmsg is the larger header; its first byte is the family for every type. */
	struct rtmsg rt = {.rtm_family = family};
	if (type != RTM_GETADDR && type != RTM_GETROUTE)
		return -EINVAL;
	msg_start(m, type, NLM_F_DUMP, &rt,
		  type == RTM_GETADDR ? sizeof(struct ifaddrmsg) : sizeof(struct rtmsg));
	m->hdr.nlmsg_flags &= ~NLM_F_ACK;
	return m->err;
}

/* Attribute walk over [data, data + len): -EBADMSG on a malformed attribute. */
#define for_each_attr(a, data, len)                                                          \
	for (const struct nlattr *a = (const void *)(data),                                  \
				 *a##_end = (const void *)((const uint8_t *)(data) + (len)); \
	     (const uint8_t *)a + NLA_HDRLEN <= (const uint8_t *)a##_end &&                  \
	     a->nla_len >= NLA_HDRLEN &&                                                     \
	     (const uint8_t *)a + a->nla_len <= (const uint8_t *)a##_end;                    \
	     a = (const void *)((const uint8_t *)a + NLA_ALIGN(a->nla_len)))

#define ATTR_DATA(a) ((const uint8_t *)(a) + NLA_HDRLEN)
#define ATTR_LEN(a)  ((size_t)(a)->nla_len - NLA_HDRLEN)

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	size_t n = strnlen((const char *)ATTR_DATA(a), ATTR_LEN(a));
	if (n >= size)
		n = size - 1;
	memcpy(dst, ATTR_DATA(a), n);
	dst[n] = '\0';
}

static bool get_u32(const struct nlattr *a, uint32_t *ret)
{
	if (ATTR_LEN(a) < 4)
		return false;
	memcpy(ret, ATTR_DATA(a), 4);
	return true;
}

/* The payload of h after a fixed header of hdr_len bytes. */
static int payload(const struct nlmsghdr *h, size_t hdr_len, const uint8_t **attrs,
		   size_t *attrs_len)
{
	if (h->nlmsg_len < NLMSG_LENGTH(hdr_len))
		return -EBADMSG;
	*attrs = (const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr_len);
	*attrs_len = h->nlmsg_len > NLMSG_LENGTH(NLMSG_ALIGN(hdr_len))
			     ? h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(hdr_len))
			     : 0;
	return 0;
}

int rtnl_parse_link(const struct nlmsghdr *h, struct rtnl_link *ret)
{
	const uint8_t *attrs;
	size_t len;
	uint32_t v;
	if (h->nlmsg_type != RTM_NEWLINK || payload(h, sizeof(struct ifinfomsg), &attrs, &len) < 0)
		return -EBADMSG;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	*ret = (struct rtnl_link){.ifindex = ifi->ifi_index, .flags = ifi->ifi_flags};
	for_each_attr(a, attrs, len)
	{
		switch (a->nla_type & NLA_TYPE_MASK) {
		case IFLA_IFNAME:
			copy_str(ret->name, sizeof(ret->name), a);
			break;
		case IFLA_MTU:
			if (get_u32(a, &v))
				ret->mtu = v;
			break;
		case IFLA_MASTER:
			if (get_u32(a, &v))
				ret->master = (int)v;
			break;
		case IFLA_LINK:
			if (get_u32(a, &v))
				ret->link = (int)v;
			break;
		case IFLA_ADDRESS:
			if (ATTR_LEN(a) == 6) {
				memcpy(ret->mac, ATTR_DATA(a), 6);
				ret->has_mac = true;
			}
			break;
		case IFLA_LINKINFO:
			for_each_attr(i, ATTR_DATA(a), ATTR_LEN(a))
			{
				if ((i->nla_type & NLA_TYPE_MASK) == IFLA_INFO_KIND)
					copy_str(ret->kind, sizeof(ret->kind), i);
			}
			break;
		case IFLA_PROTINFO:
			for_each_attr(p, ATTR_DATA(a), ATTR_LEN(a))
			{
				if ((p->nla_type & NLA_TYPE_MASK) == IFLA_BRPORT_MODE &&
				    ATTR_LEN(p) >= 1)
					ret->hairpin = ATTR_DATA(p)[0];
			}
			break;
		}
	}
	return 0;
}

static bool get_ip(const struct nlattr *a, int family, struct ip_addr *ret)
{
	size_t len = addr_len(family);
	if (len == 0 || ATTR_LEN(a) != len)
		return false;
	*ret = (struct ip_addr){.family = family};
	memcpy(ret->bytes, ATTR_DATA(a), len);
	return true;
}

int rtnl_parse_addr(const struct nlmsghdr *h, struct rtnl_addr *ret)
{
	const uint8_t *attrs;
	size_t len;
	struct ip_addr local = {}, address = {};
	if (h->nlmsg_type != RTM_NEWADDR || payload(h, sizeof(struct ifaddrmsg), &attrs, &len) < 0)
		return -EBADMSG;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if (ifa->ifa_prefixlen > ip_family_bits(ifa->ifa_family))
		return -EBADMSG;
	for_each_attr(a, attrs, len)
	{
		if ((a->nla_type & NLA_TYPE_MASK) == IFA_LOCAL)
			get_ip(a, ifa->ifa_family, &local);
		else if ((a->nla_type & NLA_TYPE_MASK) == IFA_ADDRESS)
			get_ip(a, ifa->ifa_family, &address);
	}
	*ret = (struct rtnl_addr){.ifindex = (int)ifa->ifa_index};
	ret->addr.addr = ip_addr_is_set(&local) ? local : address;
	ret->addr.prefixlen = ifa->ifa_prefixlen;
	return ip_addr_is_set(&ret->addr.addr) ? 0 : -EBADMSG;
}

int rtnl_parse_route(const struct nlmsghdr *h, struct rtnl_route *ret)
{
	const uint8_t *attrs;
	size_t len;
	uint32_t v;
	if (h->nlmsg_type != RTM_NEWROUTE || payload(h, sizeof(struct rtmsg), &attrs, &len) < 0)
		return -EBADMSG;
	const struct rtmsg *rt = NLMSG_DATA(h);
	if (addr_len(rt->rtm_family) == 0 || rt->rtm_dst_len > ip_family_bits(rt->rtm_family))
		return -EBADMSG;
	*ret = (struct rtnl_route){.table = rt->rtm_table, .type = rt->rtm_type};
	ret->dst.addr.family = rt->rtm_family;
	ret->dst.prefixlen = rt->rtm_dst_len;
	for_each_attr(a, attrs, len)
	{
		switch (a->nla_type & NLA_TYPE_MASK) {
		case RTA_DST:
			get_ip(a, rt->rtm_family, &ret->dst.addr);
			break;
		case RTA_GATEWAY:
			get_ip(a, rt->rtm_family, &ret->gw);
			break;
		case RTA_OIF:
			if (get_u32(a, &v))
				ret->oif = (int)v;
			break;
		case RTA_TABLE:
			if (get_u32(a, &v) && v < 256)
				ret->table = v;
			break;
		}
	}
	return 0;
}

int rtnl_parse_error(const struct nlmsghdr *h)
{
	if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
		return -EBADMSG;
	int e;
	memcpy(&e, NLMSG_DATA(h), sizeof(e));
	return e > 0 ? -e : e;
}

int rtnl_open(struct rtnl *ret)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return negative_errno();
	/* Short ACKs (no copy of the request); refused by old kernels, which is fine. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	*ret = (struct rtnl){.fd = fd, .seq = 1};
	return 0;
}

int rtnl_open_in(struct rtnl *ret, int netns_fd, int host_fd)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return negative_errno();
	int r = rtnl_open(ret);
	if (setns(host_fd, CLONE_NEWNET) < 0) {
		/* Going on in the pod's namespace would act on the wrong links: stop here. */
		log_error_errno(negative_errno(),
				"Failed to return to the host's network namespace");
		abort();
	}
	return r;
}

void rtnl_close(struct rtnl *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/*
 * Reads the replies to the requests numbered [first, first + n): each one
 * goes to on_msg with the request's index, until on_msg returns non-zero
 * (1: done; < 0: that error).
 */
static int recv_replies(struct rtnl *r, uint32_t first, size_t n,
			int (*on_msg)(const struct nlmsghdr *h, size_t i, void *userdata),
			void *userdata)
{
	uint8_t buf[32768] __attribute__((aligned(4)));
	for (;;) {
		ssize_t k = recv(r->fd, buf, sizeof(buf), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			return -EIO;
		size_t left = (size_t)k;
		for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq < first || h->nlmsg_seq - first >= n)
				continue;
			int e = on_msg(h, h->nlmsg_seq - first, userdata);
			if (e != 0)
				return e < 0 ? e : 0;
		}
	}
}

struct batch_ctx {
	size_t n;
	int *errs;
	struct rtnl_link *const *links;
};

static int batch_reply(const struct nlmsghdr *h, size_t i, void *userdata)
{
	struct batch_ctx *b = userdata;
	if (h->nlmsg_type == NLMSG_ERROR) {
		int e = rtnl_parse_error(h);
		if (e < 0 || b->errs[i] == 0) /* an ACK keeps a bad reply's error */
			b->errs[i] = e;
		return i + 1 == b->n; /* the last one's ACK: everything was handled */
	}
	if (h->nlmsg_type == RTM_NEWLINK && b->links && b->links[i]) {
		int e = rtnl_parse_link(h, b->links[i]);
		if (e < 0)
			b->errs[i] = e;
	}
	return 0;
}

int rtnl_call_batch(struct rtnl *r, struct rtnl_msg *const m[], size_t n, int errs[],
		    struct rtnl_link *const links[])
{
	struct iovec iov[RTNL_BATCH_MAX];
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct msghdr mh = {.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov};
	struct batch_ctx b = {.n = n, .errs = errs, .links = links};
	uint32_t first = r->seq + 1;
	ssize_t k;

	if (n == 0 || n > RTNL_BATCH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (m[i]->err < 0)
			return m[i]->err;
		m[i]->hdr.nlmsg_seq = first + (uint32_t)i;
		/* Errors are reported anyway; the last one's ACK says all were handled. */
		if (i + 1 < n)
			m[i]->hdr.nlmsg_flags &= ~NLM_F_ACK;
		else
			m[i]->hdr.nlmsg_flags |= NLM_F_ACK;
		iov[i] = (struct iovec){.iov_base = m[i]->buf, .iov_len = m[i]->hdr.nlmsg_len};
		errs[i] = 0;
	}
	mh.msg_iovlen = n;
	r->seq += (uint32_t)n;
	do
		k = sendmsg(r->fd, &mh, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return negative_errno();
	return recv_replies(r, first, n, batch_reply, &b);
}

int rtnl_call(struct rtnl *r, struct rtnl_msg *m, struct rtnl_link *link)
{
	int err;
	int k = rtnl_call_batch(r, &m, 1, &err, &link);
	return k < 0 ? k : err;
}

struct dump_ctx {
	int (*cb)(const struct nlmsghdr *h, void *userdata);
	void *userdata;
	int ret;
};

static int dump_reply(const struct nlmsghdr *h, size_t i, void *userdata)
{
	struct dump_ctx *d = userdata;
	if (h->nlmsg_type == NLMSG_DONE)
		return d->ret < 0 ? d->ret : 1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		int e = rtnl_parse_error(h);
		return e < 0 ? e : d->ret < 0 ? d->ret : 1;
	}
	if (d->ret >= 0)
		d->ret = d->cb(h, d->userdata); /* after an error, read on to the end of the dump */
	return 0;
}

int rtnl_dump(struct rtnl *r, struct rtnl_msg *m,
	      int (*cb)(const struct nlmsghdr *h, void *userdata), void *userdata)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct dump_ctx d = {.cb = cb, .userdata = userdata};
	ssize_t k;
	if (m->err < 0)
		return m->err;
	m->hdr.nlmsg_seq = ++r->seq;
	do
		k = sendto(r->fd, m->buf, m->hdr.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa));
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return negative_errno();
	return recv_replies(r, r->seq, 1, dump_reply, &d);
}

int rtnl_get_link(struct rtnl *r, const char *name, struct rtnl_link *ret)
{
	struct rtnl_msg m;
	int k = rtnl_build_getlink(&m, 0, name);
	if (k < 0)
		return k;
	*ret = (struct rtnl_link){};
	k = rtnl_call(r, &m, ret);
	if (k < 0)
		return k;
	return ret->ifindex > 0 ? 0 : -ENODEV;
}
