/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/core/macro.h"
#include "lib/rules/nfnotify.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* The table an nf_tables message of msg_len bytes names (attribute 1), or NULL. */
static const char *message_table(const uint8_t *msg, size_t msg_len)
{
	size_t off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct nfgenmsg)));

	while (off + sizeof(struct nlattr) <= msg_len) {
		struct nlattr a;

		memcpy(&a, msg + off, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > msg_len - off)
			return NULL;
		if ((a.nla_type & NLA_TYPE_MASK) == 1) {
			const char *s = (const char *)msg + off + sizeof(a);
			size_t n = a.nla_len - sizeof(a);

			if (n == 0 || n > NFNOTIFY_TABLE_MAX || strnlen(s, n) != n - 1)
				return NULL;
			return s;
		}
		off += NLA_ALIGN(a.nla_len);
	}
	return NULL;
}

int nfnotify_scan(const void *buf, size_t len, nfnotify_table_fn relevant, void *userdata)
{
	const uint8_t *p = buf;
	int n = 0;

	while (len > 0) {
		struct nlmsghdr h;
		struct nfgenmsg g;
		const char *table;
		unsigned type;

		if (len < sizeof(h))
			return -EBADMSG;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -EBADMSG;
		type = h.nlmsg_type;
		if (type >= NLMSG_MIN_TYPE && NFNL_SUBSYS_ID(type) == NFNL_SUBSYS_NFTABLES &&
		    NFNL_MSG_TYPE(type) != NFT_MSG_NEWGEN && NFNL_MSG_TYPE(type) != NFT_MSG_TRACE &&
		    h.nlmsg_len >= NLMSG_LENGTH(sizeof(g))) {
			memcpy(&g, p + NLMSG_HDRLEN, sizeof(g));
			table = message_table(p, h.nlmsg_len);
			if (table && (!relevant || relevant(g.nfgen_family, table, userdata)) &&
			    n < INT32_MAX)
				n++;
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= len)
			break;
		p += NLMSG_ALIGN(h.nlmsg_len);
		len -= NLMSG_ALIGN(h.nlmsg_len);
	}
	return n;
}

int nfnotify_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int group = NFNLGRP_NFTABLES;
	_cleanup_close_ int fd = -1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return negative_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

int nfnotify_drain(int fd, nfnotify_table_fn relevant, void *userdata)
{
	/* a big transaction comes as many datagrams */
	static uint8_t buf[65536];
	int n = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int r;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return n;
			if (errno == ENOBUFS) {
				n = n > 0 ? n : 1;
				continue;
			}
			return negative_errno();
		}
		if ((size_t)len > sizeof(buf)) {
			n = n > 0 ? n : 1;
			continue;
		}
		r = nfnotify_scan(buf, (size_t)len, relevant, userdata);
		if (r < 0)
			r = 1;
		if (n <= INT32_MAX - r)
			n += r;
	}
}
