/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink through libnl: the only file that includes libnl headers.
 *
 * libnl supplies the socket, the message buffers and the attribute helpers;
 * the messages themselves are built and parsed here with the kernel's
 * structs, so the wire format is visible in one place and nothing is cached.
 * Every request carries NLM_F_ACK and the kernel's own errno is captured
 * from the error message (libnl's NLE_* codes lose detail); libnl's own
 * failures go through nl_errno(). Dumps restart when the kernel marks them
 * NLM_F_DUMP_INTR (the table changed while it was being dumped).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/macro.h"
#include "lib/netlink/netlink.h"

#define DUMP_ATTEMPTS  8
#define SOCK_BUF_BYTES (4 * 1024 * 1024)
#define MONITOR_BATCH  4096

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free)

struct nlh {
	struct nl_sock *sk;
	struct nl_cb *cb;
	struct nl_counters counters;
};

struct nl_monitor {
	struct nl_sock *sk;
	struct nl_cb *cb;
	nl_event_fn fn;
	void *userdata;
	unsigned delivered;
};

static const char *const op_names[_NL_OP_MAX] = {
	[NL_OP_DUMP] = "dump",		 [NL_OP_GET] = "get",
	[NL_OP_LINK_ADD] = "link_add",	 [NL_OP_LINK_DEL] = "link_del",
	[NL_OP_LINK_SET] = "link_set",	 [NL_OP_ADDR_ADD] = "addr_add",
	[NL_OP_ADDR_DEL] = "addr_del",	 [NL_OP_ROUTE_REPLACE] = "route_replace",
	[NL_OP_ROUTE_DEL] = "route_del", [NL_OP_NEIGH_REPLACE] = "neigh_replace",
	[NL_OP_NEIGH_DEL] = "neigh_del", [NL_OP_FDB_REPLACE] = "fdb_replace",
	[NL_OP_FDB_DEL] = "fdb_del",
};

const char *nl_op_name(enum nl_op op)
{
	if ((unsigned)op >= _NL_OP_MAX)
		return "unknown";
	return op_names[op];
}

uint64_t nl_counters_writes(const struct nl_counters *c)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < _NL_OP_MAX; i++)
		if (i != NL_OP_DUMP && i != NL_OP_GET)
			n += c->ops[i];
	return n;
}

int nl_errno(int nle)
{
	if (nle >= 0)
		return nle;
	switch (-nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
	case NLE_ATTRSIZE:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
	case NLE_MSG_OVERFLOW:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
	case NLE_AF_MISMATCH:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
		return -EBADMSG;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_DUMP_INTR:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static int sock_open(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return nl_errno(r);
	}
	/* Dumps of thousands of entries and bursts of notifications. */
	(void)nl_socket_set_buffer_size(sk, SOCK_BUF_BYTES, 0);
	*ret = sk;
	return 0;
}

int nlh_new(struct nlh **ret)
{
	_cleanup_free_ struct nlh *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!h->cb)
		return -ENOMEM;
	r = sock_open(&h->sk);
	if (r < 0) {
		nl_cb_put(h->cb);
		return r;
	}
	*ret = TAKE_PTR(h);
	return 0;
}

void nlh_free(struct nlh *h)
{
	if (!h)
		return;
	nl_socket_free(h->sk);
	nl_cb_put(h->cb);
	free(h);
}

const struct nl_counters *nlh_counters(const struct nlh *h)
{
	return &h->counters;
}

/* One request and its answer: data messages go to valid(), the ack or the
 * kernel's error ends it. */
struct txn {
	nl_recvmsg_msg_cb_t valid;
	void *ctx;
	int err;   /* the kernel's -errno, or a parse error from valid() */
	bool done; /* ack or NLMSG_DONE seen */
	bool intr; /* dump interrupted */
};

static int txn_valid(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	if (!t->valid)
		return NL_OK;
	return t->valid(msg, t->ctx);
}

static int txn_ack(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	t->done = true;
	return NL_STOP;
}

static int txn_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct txn *t = arg;
	t->err = e->error < 0 ? e->error : -EIO;
	t->done = true;
	return NL_STOP;
}

static int txn_intr(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	t->intr = true;
	return NL_OK;
}

static int transact(struct nlh *h, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *ctx,
		    bool *ret_intr)
{
	struct txn t = {.valid = valid, .ctx = ctx};
	int r;

	nl_cb_set(h->cb, NL_CB_VALID, NL_CB_CUSTOM, txn_valid, &t);
	nl_cb_set(h->cb, NL_CB_ACK, NL_CB_CUSTOM, txn_ack, &t);
	nl_cb_set(h->cb, NL_CB_FINISH, NL_CB_CUSTOM, txn_ack, &t);
	nl_cb_set(h->cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, txn_intr, &t);
	nl_cb_err(h->cb, NL_CB_CUSTOM, txn_error, &t);

	r = nl_send_auto(h->sk, msg);
	if (r < 0)
		return nl_errno(r);
	while (!t.done) {
		r = nl_recvmsgs(h->sk, h->cb);
		if (t.err < 0)
			break;
		if (r < 0)
			return nl_errno(r);
	}
	if (ret_intr)
		*ret_intr = t.intr;
	return t.err;
}

static int write_msg(struct nlh *h, enum nl_op op, struct nl_msg *msg)
{
	int r;

	h->counters.ops[op]++;
	r = transact(h, msg, NULL, NULL, NULL);
	if (r < 0)
		h->counters.errors++;
	return r;
}

/* A dump: build() makes a fresh request, parse() sees every answer. */
typedef int (*build_fn)(const void *arg, struct nl_msg **ret);
typedef void (*reset_fn)(void *ctx);

static int dump(struct nlh *h, build_fn build, const void *arg, nl_recvmsg_msg_cb_t parse,
		void *ctx, reset_fn reset)
{
	for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
		_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
		bool intr = false;
		int r;

		reset(ctx);
		r = build(arg, &msg);
		if (r < 0)
			return r;
		h->counters.ops[NL_OP_DUMP]++;
		r = transact(h, msg, parse, ctx, &intr);
		if (r < 0) {
			h->counters.errors++;
			return r;
		}
		if (!intr)
			return 0;
	}
	h->counters.errors++;
	return -EAGAIN;
}

static int msg_new(int type, int flags, const void *hdr, size_t hdrlen, struct nl_msg **ret)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*ret = msg;
	return 0;
}

static int put_addr(struct nl_msg *msg, int type, const struct ip_addr *a)
{
	size_t len = a->family == AF_INET ? 4 : 16;
	return nla_put(msg, type, (int)len, a->bytes) < 0 ? -ENOMEM : 0;
}

/* An address attribute of the expected family; false when malformed. */
static bool get_addr(const struct nlattr *a, int family, struct ip_addr *ret)
{
	size_t len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (!a || len == 0 || (size_t)nla_len(a) != len)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	memcpy(ret->bytes, nla_data(a), len);
	return true;
}

static bool get_u32(const struct nlattr *a, uint32_t *ret)
{
	if (!a || nla_len(a) < 4)
		return false;
	*ret = nla_get_u32((struct nlattr *)a);
	return true;
}

/* Parse the attributes behind a fixed header; false when too short. */
static bool parse_attrs(struct nl_msg *msg, size_t hdrlen, struct nlattr **tb, int max)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	if (!nlmsg_valid_hdr(nlh, (int)hdrlen))
		return false;
	return nlmsg_parse(nlh, (int)hdrlen, tb, max, NULL) == 0;
}

/* A growable array filled by dump callbacks. */
struct vec {
	void *items;
	size_t n, cap, size;
	int err;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = reallocarray(v->items, cap, v->size);
		if (!p) {
			v->err = -ENOMEM;
			return NULL;
		}
		v->items = p;
		v->cap = cap;
	}
	void *item = (char *)v->items + v->n * v->size;
	memset(item, 0, v->size);
	v->n++;
	return item;
}

static void vec_reset(void *ctx)
{
	struct vec *v = ctx;
	v->n = 0;
	v->err = 0;
}

static int vec_finish(struct vec *v, int r, void *ret, size_t *ret_n)
{
	if (r >= 0 && v->err < 0)
		r = v->err;
	if (r < 0) {
		free(v->items);
		return r;
	}
	*(void **)ret = v->items;
	*ret_n = v->n;
	return 0;
}

/* ---- links ---- */

struct link_dump {
	struct vec vec;		  /* of struct link_info */
	const char *name;	  /* only this name when set */
	int ifindex;		  /* only this index when > 0 */
	struct vxlan_link *vxlan; /* also parse VXLAN data into this (single link) */
	bool vxlan_found;
};

static void parse_vxlan_data(struct nlattr *data, struct vxlan_link *v)
{
	struct nlattr *vt[IFLA_VXLAN_MAX + 1];
	uint32_t u;

	if (nla_parse_nested(vt, IFLA_VXLAN_MAX, data, NULL) < 0)
		return;
	if (get_u32(vt[IFLA_VXLAN_ID], &u))
		v->vni = u;
	if (get_u32(vt[IFLA_VXLAN_LINK], &u))
		v->underlay_ifindex = (int)u;
	if (!get_addr(vt[IFLA_VXLAN_LOCAL], AF_INET, &v->local))
		(void)get_addr(vt[IFLA_VXLAN_LOCAL6], AF_INET6, &v->local);
	if (vt[IFLA_VXLAN_PORT] && nla_len(vt[IFLA_VXLAN_PORT]) >= 2)
		v->port = ntohs(nla_get_u16(vt[IFLA_VXLAN_PORT]));
	if (vt[IFLA_VXLAN_LEARNING] && nla_len(vt[IFLA_VXLAN_LEARNING]) >= 1)
		v->learning = nla_get_u8(vt[IFLA_VXLAN_LEARNING]) != 0;
	v->gbp = vt[IFLA_VXLAN_GBP] != NULL;
}

static int link_parse(struct nl_msg *msg, void *arg)
{
	struct link_dump *d = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;
	struct link_info *li;
	uint32_t mtu;

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWLINK ||
	    !parse_attrs(msg, sizeof(*ifi), tb, IFLA_MAX))
		return NL_SKIP;
	ifi = nlmsg_data(nlmsg_hdr(msg));
	if (d->ifindex > 0 && ifi->ifi_index != d->ifindex)
		return NL_SKIP;
	if (!tb[IFLA_IFNAME] || nla_len(tb[IFLA_IFNAME]) > IFNAMSIZ)
		return NL_SKIP;
	if (d->name && strncmp(nla_data(tb[IFLA_IFNAME]), d->name, IFNAMSIZ) != 0)
		return NL_SKIP;

	li = vec_push(&d->vec);
	if (!li)
		return NL_STOP;
	li->ifindex = ifi->ifi_index;
	li->up = (ifi->ifi_flags & IFF_UP) != 0;
	nla_strlcpy(li->name, tb[IFLA_IFNAME], sizeof(li->name));
	if (get_u32(tb[IFLA_MTU], &mtu))
		li->mtu = mtu;
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
		li->has_mac = true;
		memcpy(li->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	}
	if (tb[IFLA_LINKINFO]) {
		struct nlattr *info[IFLA_INFO_MAX + 1];
		if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0) {
			if (info[IFLA_INFO_KIND])
				nla_strlcpy(li->kind, info[IFLA_INFO_KIND], sizeof(li->kind));
			if (d->vxlan && strcmp(li->kind, "vxlan") == 0 && info[IFLA_INFO_DATA]) {
				memset(d->vxlan, 0, sizeof(*d->vxlan));
				parse_vxlan_data(info[IFLA_INFO_DATA], d->vxlan);
				d->vxlan_found = true;
			}
		}
	}
	return NL_OK;
}

static int link_build(const void *arg, struct nl_msg **ret)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	return msg_new(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi), ret);
}

static void link_reset(void *ctx)
{
	struct link_dump *d = ctx;
	vec_reset(&d->vec);
	d->vxlan_found = false;
}

static int link_find(struct nlh *h, const char *name, int ifindex, struct link_info *ret,
		     struct vxlan_link *vxlan, bool *ret_vxlan)
{
	struct link_dump d = {.vec.size = sizeof(struct link_info),
			      .name = name,
			      .ifindex = ifindex,
			      .vxlan = vxlan};
	_cleanup_free_ struct link_info *links = NULL;
	size_t n = 0;
	int r;

	r = dump(h, link_build, NULL, link_parse, &d, link_reset);
	r = vec_finish(&d.vec, r, &links, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENODEV;
	*ret = links[0];
	if (ret_vxlan)
		*ret_vxlan = d.vxlan_found;
	return 0;
}

int nl_link_get_by_name(struct nlh *h, const char *name, struct link_info *ret)
{
	if (!name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	return link_find(h, name, 0, ret, NULL, NULL);
}

int nl_link_get_by_index(struct nlh *h, int ifindex, struct link_info *ret)
{
	if (ifindex <= 0)
		return -EINVAL;
	return link_find(h, NULL, ifindex, ret, NULL, NULL);
}

int nl_link_list(struct nlh *h, struct link_info **ret, size_t *ret_n)
{
	struct link_dump d = {.vec.size = sizeof(struct link_info)};
	int r = dump(h, link_build, NULL, link_parse, &d, link_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

int nl_vxlan_get(struct nlh *h, const char *name, struct vxlan_link *ret)
{
	struct vxlan_link v = {0};
	struct link_info li;
	bool is_vxlan = false;
	int r;

	if (!name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	r = link_find(h, name, 0, &li, &v, &is_vxlan);
	if (r < 0)
		return r;
	if (!is_vxlan)
		return -EMEDIUMTYPE;
	memcpy(v.name, li.name, sizeof(v.name));
	v.ifindex = li.ifindex;
	v.has_mac = li.has_mac;
	memcpy(v.mac, li.mac, 6);
	v.mtu = li.mtu;
	v.up = li.up;
	*ret = v;
	return 0;
}

int nl_vxlan_add(struct nlh *h, const struct vxlan_link *spec, int *ret_ifindex)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *linkinfo, *data;
	struct link_info li;
	int r;

	if (strlen(spec->name) == 0 || strlen(spec->name) >= IFNAMSIZ)
		return -EINVAL;
	r = msg_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi), &msg);
	if (r < 0)
		return r;
	if (nla_put_string(msg, IFLA_IFNAME, spec->name) < 0)
		return -ENOMEM;
	if (spec->mtu > 0 && nla_put_u32(msg, IFLA_MTU, spec->mtu) < 0)
		return -ENOMEM;
	if (spec->has_mac && nla_put(msg, IFLA_ADDRESS, 6, spec->mac) < 0)
		return -ENOMEM;
	linkinfo = nla_nest_start(msg, IFLA_LINKINFO);
	if (!linkinfo || nla_put_string(msg, IFLA_INFO_KIND, "vxlan") < 0)
		return -ENOMEM;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data)
		return -ENOMEM;
	/* As upstream's device.go: no group, no ageing, misses off. */
	if (nla_put_u32(msg, IFLA_VXLAN_ID, spec->vni) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_TTL, 0) < 0 || nla_put_u8(msg, IFLA_VXLAN_TOS, 0) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_LEARNING, spec->learning) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_PROXY, 0) < 0 || nla_put_u8(msg, IFLA_VXLAN_RSC, 0) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_L2MISS, 0) < 0 || nla_put_u8(msg, IFLA_VXLAN_L3MISS, 0) < 0)
		return -ENOMEM;
	if (spec->underlay_ifindex > 0 &&
	    nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t)spec->underlay_ifindex) < 0)
		return -ENOMEM;
	if (spec->local.family == AF_INET && put_addr(msg, IFLA_VXLAN_LOCAL, &spec->local) < 0)
		return -ENOMEM;
	if (spec->local.family == AF_INET6 && put_addr(msg, IFLA_VXLAN_LOCAL6, &spec->local) < 0)
		return -ENOMEM;
	if (spec->port > 0 && nla_put_u16(msg, IFLA_VXLAN_PORT, htons(spec->port)) < 0)
		return -ENOMEM;
	if (spec->gbp && nla_put_flag(msg, IFLA_VXLAN_GBP) < 0)
		return -ENOMEM;
	nla_nest_end(msg, data);
	nla_nest_end(msg, linkinfo);

	r = write_msg(h, NL_OP_LINK_ADD, msg);
	if (r < 0)
		return r;
	if (ret_ifindex) {
		r = nl_link_get_by_name(h, spec->name, &li);
		if (r < 0)
			return r;
		*ret_ifindex = li.ifindex;
	}
	return 0;
}

int nl_link_add_kind(struct nlh *h, const char *name, const char *kind, uint32_t mtu,
		     int *ret_ifindex)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *linkinfo;
	struct link_info li;
	int r;

	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	r = msg_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi), &msg);
	if (r < 0)
		return r;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0)
		return -ENOMEM;
	if (mtu > 0 && nla_put_u32(msg, IFLA_MTU, mtu) < 0)
		return -ENOMEM;
	linkinfo = nla_nest_start(msg, IFLA_LINKINFO);
	if (!linkinfo || nla_put_string(msg, IFLA_INFO_KIND, kind) < 0)
		return -ENOMEM;
	nla_nest_end(msg, linkinfo);
	r = write_msg(h, NL_OP_LINK_ADD, msg);
	if (r < 0)
		return r;
	if (ret_ifindex) {
		r = nl_link_get_by_name(h, name, &li);
		if (r < 0)
			return r;
		*ret_ifindex = li.ifindex;
	}
	return 0;
}

int nl_link_delete(struct nlh *h, int ifindex)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	int r;

	r = msg_new(RTM_DELLINK, 0, &ifi, sizeof(ifi), &msg);
	if (r < 0)
		return r;
	r = write_msg(h, NL_OP_LINK_DEL, msg);
	return r == -ENODEV ? 0 : r;
}

int nl_link_update(struct nlh *h, int ifindex, uint32_t mtu, const uint8_t *mac, bool set_up)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	int r;

	if (set_up) {
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
	}
	r = msg_new(RTM_SETLINK, 0, &ifi, sizeof(ifi), &msg);
	if (r < 0)
		return r;
	if (mtu > 0 && nla_put_u32(msg, IFLA_MTU, mtu) < 0)
		return -ENOMEM;
	if (mac && nla_put(msg, IFLA_ADDRESS, 6, mac) < 0)
		return -ENOMEM;
	return write_msg(h, NL_OP_LINK_SET, msg);
}

/* ---- addresses ---- */

struct addr_dump {
	struct vec vec;
	int family;
	int ifindex;
};

static int addr_parse(struct nl_msg *msg, void *arg)
{
	struct addr_dump *d = arg;
	struct nlattr *tb[IFA_MAX + 1];
	struct ifaddrmsg *ifa;
	struct addr_info *ai;
	struct ip_addr a;
	uint32_t flags;

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWADDR ||
	    !parse_attrs(msg, sizeof(*ifa), tb, IFA_MAX))
		return NL_SKIP;
	ifa = nlmsg_data(nlmsg_hdr(msg));
	if (d->ifindex > 0 && (int)ifa->ifa_index != d->ifindex)
		return NL_SKIP;
	if (d->family != AF_UNSPEC && ifa->ifa_family != d->family)
		return NL_SKIP;
	/* IFA_LOCAL is the address for point-to-point links; IFA_ADDRESS otherwise. */
	if (!get_addr(tb[IFA_LOCAL], ifa->ifa_family, &a) &&
	    !get_addr(tb[IFA_ADDRESS], ifa->ifa_family, &a))
		return NL_SKIP;
	if (ifa->ifa_prefixlen > ip_family_bits(a.family))
		return NL_SKIP;
	ai = vec_push(&d->vec);
	if (!ai)
		return NL_STOP;
	ai->ifindex = (int)ifa->ifa_index;
	ai->addr.addr = a;
	ai->addr.prefixlen = ifa->ifa_prefixlen;
	ai->scope = ifa->ifa_scope;
	ai->flags = ifa->ifa_flags;
	if (get_u32(tb[IFA_FLAGS], &flags))
		ai->flags = flags;
	return NL_OK;
}

static int addr_build(const void *arg, struct nl_msg **ret)
{
	struct ifaddrmsg ifa = {.ifa_family = (uint8_t)(*(const int *)arg)};
	return msg_new(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa), ret);
}

int nl_addr_list(struct nlh *h, int family, int ifindex, struct addr_info **ret, size_t *ret_n)
{
	struct addr_dump d = {
		.vec.size = sizeof(struct addr_info), .family = family, .ifindex = ifindex};
	int r = dump(h, addr_build, &family, addr_parse, &d, vec_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

static int addr_msg(int type, int flags, int ifindex, const struct ip_net *addr,
		    struct nl_msg **ret)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifaddrmsg ifa = {
		.ifa_family = (uint8_t)addr->addr.family,
		.ifa_prefixlen = addr->prefixlen,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = (uint32_t)ifindex,
	};
	int r;

	if (addr->addr.family != AF_INET && addr->addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	/* Our device addresses are unique by construction: no DAD delay. */
	if (addr->addr.family == AF_INET6)
		ifa.ifa_flags = IFA_F_NODAD;
	r = msg_new(type, flags, &ifa, sizeof(ifa), &msg);
	if (r < 0)
		return r;
	if (put_addr(msg, IFA_LOCAL, &addr->addr) < 0 ||
	    put_addr(msg, IFA_ADDRESS, &addr->addr) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(msg);
	return 0;
}

int nl_addr_add(struct nlh *h, int ifindex, const struct ip_net *addr)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, addr, &msg);
	if (r < 0)
		return r;
	return write_msg(h, NL_OP_ADDR_ADD, msg);
}

int nl_addr_del(struct nlh *h, int ifindex, const struct ip_net *addr)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r = addr_msg(RTM_DELADDR, 0, ifindex, addr, &msg);
	if (r < 0)
		return r;
	r = write_msg(h, NL_OP_ADDR_DEL, msg);
	return r == -EADDRNOTAVAIL || r == -ENOENT ? 0 : r;
}

/* ---- routes ---- */

struct route_dump {
	struct vec vec;
	int family;
	int ifindex;   /* ours by device */
	uint8_t proto; /* ours by protocol */
	bool all_main; /* every route of the main table */
};

static bool route_from_msg(struct nl_msg *msg, struct route_spec *r)
{
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;
	uint32_t u;

	if (!parse_attrs(msg, sizeof(*rtm), tb, RTA_MAX))
		return false;
	rtm = nlmsg_data(nlmsg_hdr(msg));
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return false;
	if (rtm->rtm_dst_len > ip_family_bits(rtm->rtm_family))
		return false;
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->dst.addr.family = rtm->rtm_family;
	r->dst.prefixlen = rtm->rtm_dst_len;
	if (tb[RTA_DST] && !get_addr(tb[RTA_DST], rtm->rtm_family, &r->dst.addr))
		return false;
	(void)get_addr(tb[RTA_GATEWAY], rtm->rtm_family, &r->gw);
	(void)get_addr(tb[RTA_PREFSRC], rtm->rtm_family, &r->prefsrc);
	if (get_u32(tb[RTA_OIF], &u))
		r->ifindex = (int)u;
	r->table = rtm->rtm_table;
	if (get_u32(tb[RTA_TABLE], &u))
		r->table = u;
	if (get_u32(tb[RTA_PRIORITY], &u))
		r->priority = u;
	r->proto = rtm->rtm_protocol;
	r->onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
	r->type = rtm->rtm_type == RTN_UNICAST	   ? NL_ROUTE_UNICAST
		  : rtm->rtm_type == RTN_BLACKHOLE ? NL_ROUTE_BLACKHOLE
						   : NL_ROUTE_OTHER;
	return true;
}

static int route_parse(struct nl_msg *msg, void *arg)
{
	struct route_dump *d = arg;
	struct route_spec r, *p;

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWROUTE || !route_from_msg(msg, &r))
		return NL_SKIP;
	if (r.family != d->family || r.table != NL_TABLE_MAIN)
		return NL_SKIP;
	if (!d->all_main) {
		bool by_dev = d->ifindex > 0 && r.ifindex == d->ifindex &&
			      r.proto != NL_PROTO_KERNEL && r.type == NL_ROUTE_UNICAST;
		bool by_proto = d->proto > 0 && r.proto == d->proto;
		if (!by_dev && !by_proto)
			return NL_SKIP;
	}
	p = vec_push(&d->vec);
	if (!p)
		return NL_STOP;
	*p = r;
	return NL_OK;
}

static int route_build(const void *arg, struct nl_msg **ret)
{
	struct rtmsg rtm = {.rtm_family = (uint8_t)(*(const int *)arg)};
	return msg_new(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm), ret);
}

int nl_route_list_ours(struct nlh *h, int family, int ifindex, uint8_t proto,
		       struct route_spec **ret, size_t *ret_n)
{
	struct route_dump d = {.vec.size = sizeof(struct route_spec),
			       .family = family,
			       .ifindex = ifindex,
			       .proto = proto};
	int r = dump(h, route_build, &family, route_parse, &d, vec_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

int nl_route_list_main(struct nlh *h, int family, struct route_spec **ret, size_t *ret_n)
{
	struct route_dump d = {
		.vec.size = sizeof(struct route_spec), .family = family, .all_main = true};
	int r = dump(h, route_build, &family, route_parse, &d, vec_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

static int route_msg(int type, int flags, const struct route_spec *r, struct nl_msg **ret)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	uint32_t table = r->table ? r->table : NL_TABLE_MAIN;
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)r->family,
		.rtm_dst_len = r->dst.prefixlen,
		.rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
		.rtm_protocol = r->proto,
		.rtm_type = r->type == NL_ROUTE_BLACKHOLE ? RTN_BLACKHOLE : RTN_UNICAST,
	};
	int rr;

	if (r->family != AF_INET && r->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (r->dst.addr.family != r->family || (r->gw.family && r->gw.family != r->family))
		return -EINVAL;
	if (type == RTM_DELROUTE)
		rtm.rtm_scope = RT_SCOPE_NOWHERE; /* any scope */
	else if (r->type == NL_ROUTE_BLACKHOLE || r->gw.family)
		rtm.rtm_scope = RT_SCOPE_UNIVERSE;
	else
		rtm.rtm_scope = RT_SCOPE_LINK;
	if (r->onlink)
		rtm.rtm_flags |= RTNH_F_ONLINK;
	rr = msg_new(type, flags, &rtm, sizeof(rtm), &msg);
	if (rr < 0)
		return rr;
	if (put_addr(msg, RTA_DST, &r->dst.addr) < 0 || nla_put_u32(msg, RTA_TABLE, table) < 0 ||
	    nla_put_u32(msg, RTA_PRIORITY, r->priority) < 0)
		return -ENOMEM;
	if (r->gw.family && put_addr(msg, RTA_GATEWAY, &r->gw) < 0)
		return -ENOMEM;
	if (r->ifindex > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t)r->ifindex) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(msg);
	return 0;
}

int nl_route_replace(struct nlh *h, const struct route_spec *r)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int rr = route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r, &msg);
	if (rr < 0)
		return rr;
	return write_msg(h, NL_OP_ROUTE_REPLACE, msg);
}

int nl_route_del(struct nlh *h, const struct route_spec *r)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int rr = route_msg(RTM_DELROUTE, 0, r, &msg);
	if (rr < 0)
		return rr;
	rr = write_msg(h, NL_OP_ROUTE_DEL, msg);
	return rr == -ESRCH || rr == -ENOENT ? 0 : rr;
}

struct route_get {
	struct route_spec r;
	bool found;
};

static int route_get_parse(struct nl_msg *msg, void *arg)
{
	struct route_get *g = arg;
	if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWROUTE && !g->found)
		g->found = route_from_msg(msg, &g->r);
	return NL_OK;
}

int nl_route_get(struct nlh *h, const struct ip_addr *dst, struct route_spec *ret)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct rtmsg rtm = {.rtm_family = (uint8_t)dst->family,
			    .rtm_dst_len = (uint8_t)ip_family_bits(dst->family)};
	struct route_get g = {0};
	int r;

	if (dst->family != AF_INET && dst->family != AF_INET6)
		return -EAFNOSUPPORT;
	r = msg_new(RTM_GETROUTE, 0, &rtm, sizeof(rtm), &msg);
	if (r < 0)
		return r;
	if (put_addr(msg, RTA_DST, dst) < 0)
		return -ENOMEM;
	h->counters.ops[NL_OP_GET]++;
	r = transact(h, msg, route_get_parse, &g, NULL);
	if (r < 0)
		return r;
	if (!g.found)
		return -ENOENT;
	*ret = g.r;
	return 0;
}

/* ---- neighbours and FDB ---- */

struct neigh_dump {
	struct vec vec;
	int family; /* AF_INET, AF_INET6 or AF_BRIDGE */
	int ifindex;
};

/* An FDB entry (AF_BRIDGE) from a parsed message; false without a 6-byte lladdr. */
static bool fdb_from_attrs(const struct ndmsg *ndm, struct nlattr **tb, struct fdb_spec *f)
{
	if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6)
		return false;
	memset(f, 0, sizeof(*f));
	if (tb[NDA_DST] && !get_addr(tb[NDA_DST], AF_INET, &f->dst))
		(void)get_addr(tb[NDA_DST], AF_INET6, &f->dst);
	f->ifindex = ndm->ndm_ifindex;
	memcpy(f->mac, nla_data(tb[NDA_LLADDR]), 6);
	f->state = ndm->ndm_state;
	return true;
}

/* A neighbour (AF_INET, AF_INET6) from a parsed message; false without its address. */
static bool neigh_from_attrs(const struct ndmsg *ndm, struct nlattr **tb, struct neigh_spec *n)
{
	memset(n, 0, sizeof(*n));
	if (!get_addr(tb[NDA_DST], ndm->ndm_family, &n->ip))
		return false;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	if (tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6) {
		n->has_mac = true;
		memcpy(n->mac, nla_data(tb[NDA_LLADDR]), 6);
	}
	return true;
}

static int neigh_parse(struct nl_msg *msg, void *arg)
{
	struct neigh_dump *d = arg;
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWNEIGH ||
	    !parse_attrs(msg, sizeof(*ndm), tb, NDA_MAX))
		return NL_SKIP;
	ndm = nlmsg_data(nlmsg_hdr(msg));
	if (ndm->ndm_family != d->family || ndm->ndm_ifindex != d->ifindex)
		return NL_SKIP;

	if (d->family == AF_BRIDGE) {
		struct fdb_spec f, *p;

		if (!(ndm->ndm_flags & NTF_SELF) || !fdb_from_attrs(ndm, tb, &f))
			return NL_SKIP;
		p = vec_push(&d->vec);
		if (!p)
			return NL_STOP;
		*p = f;
	} else {
		struct neigh_spec n, *p;

		if (!neigh_from_attrs(ndm, tb, &n))
			return NL_SKIP;
		p = vec_push(&d->vec);
		if (!p)
			return NL_STOP;
		*p = n;
	}
	return NL_OK;
}

static int neigh_build(const void *arg, struct nl_msg **ret)
{
	const struct neigh_dump *d = arg;
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r;

	if (d->family == AF_BRIDGE) {
		/* An ifinfomsg header with ifi_index set: the kernel dumps only
		 * that device's FDB (rtnl_fdb_dump, legacy request format). */
		struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = d->ifindex};
		r = msg_new(RTM_GETNEIGH, NLM_F_DUMP, &ifi, sizeof(ifi), &msg);
		if (r < 0)
			return r;
	} else {
		struct ndmsg ndm = {.ndm_family = (uint8_t)d->family};
		r = msg_new(RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm), &msg);
		if (r < 0)
			return r;
		if (nla_put_u32(msg, NDA_IFINDEX, (uint32_t)d->ifindex) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(msg);
	return 0;
}

int nl_neigh_list(struct nlh *h, int family, int ifindex, struct neigh_spec **ret, size_t *ret_n)
{
	struct neigh_dump d = {
		.vec.size = sizeof(struct neigh_spec), .family = family, .ifindex = ifindex};
	int r;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	r = dump(h, neigh_build, &d, neigh_parse, &d, vec_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

int nl_fdb_list(struct nlh *h, int ifindex, struct fdb_spec **ret, size_t *ret_n)
{
	struct neigh_dump d = {
		.vec.size = sizeof(struct fdb_spec), .family = AF_BRIDGE, .ifindex = ifindex};
	int r = dump(h, neigh_build, &d, neigh_parse, &d, vec_reset);
	return vec_finish(&d.vec, r, ret, ret_n);
}

static int neigh_msg(int type, int flags, int family, int ifindex, const struct ip_addr *ip,
		     const uint8_t *mac, struct nl_msg **ret)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ndmsg ndm = {
		.ndm_family = (uint8_t)family,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_PERMANENT,
		.ndm_flags = family == AF_BRIDGE ? NTF_SELF : 0,
		.ndm_type = RTN_UNICAST,
	};
	int r;

	if (ip->family != AF_INET && ip->family != AF_INET6)
		return -EAFNOSUPPORT;
	r = msg_new(type, flags, &ndm, sizeof(ndm), &msg);
	if (r < 0)
		return r;
	if (put_addr(msg, NDA_DST, ip) < 0)
		return -ENOMEM;
	if (mac && nla_put(msg, NDA_LLADDR, 6, mac) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(msg);
	return 0;
}

int nl_neigh_replace(struct nlh *h, const struct neigh_spec *n)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r = neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, n->ip.family, n->ifindex,
			  &n->ip, n->mac, &msg);
	if (r < 0)
		return r;
	return write_msg(h, NL_OP_NEIGH_REPLACE, msg);
}

int nl_neigh_del(struct nlh *h, const struct neigh_spec *n)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r = neigh_msg(RTM_DELNEIGH, 0, n->ip.family, n->ifindex, &n->ip, NULL, &msg);
	if (r < 0)
		return r;
	r = write_msg(h, NL_OP_NEIGH_DEL, msg);
	return r == -ENOENT ? 0 : r;
}

int nl_fdb_replace(struct nlh *h, const struct fdb_spec *f)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r = neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_BRIDGE, f->ifindex,
			  &f->dst, f->mac, &msg);
	if (r < 0)
		return r;
	return write_msg(h, NL_OP_FDB_REPLACE, msg);
}

int nl_fdb_del(struct nlh *h, const struct fdb_spec *f)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r;

	/* An entry without a remote (e.g. a learnt one) is deleted by MAC alone. */
	if (f->dst.family) {
		r = neigh_msg(RTM_DELNEIGH, 0, AF_BRIDGE, f->ifindex, &f->dst, f->mac, &msg);
	} else {
		struct ndmsg ndm = {
			.ndm_family = AF_BRIDGE, .ndm_ifindex = f->ifindex, .ndm_flags = NTF_SELF};
		r = msg_new(RTM_DELNEIGH, 0, &ndm, sizeof(ndm), &msg);
		if (r >= 0 && nla_put(msg, NDA_LLADDR, 6, f->mac) < 0)
			r = -ENOMEM;
	}
	if (r < 0)
		return r;
	r = write_msg(h, NL_OP_FDB_DEL, msg);
	return r == -ENOENT ? 0 : r;
}

/* ---- notifications ---- */

static int monitor_parse(struct nl_msg *msg, void *arg)
{
	struct nl_monitor *m = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_event ev = {0};

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		struct nlattr *tb[IFLA_MAX + 1];
		struct ifinfomsg *ifi;
		if (!parse_attrs(msg, sizeof(*ifi), tb, IFLA_MAX))
			return NL_SKIP;
		ifi = nlmsg_data(nlh);
		ev.kind = NL_EVENT_LINK;
		ev.family = ifi->ifi_family;
		ev.ifindex = ifi->ifi_index;
		if (tb[IFLA_IFNAME] && nla_len(tb[IFLA_IFNAME]) <= IFNAMSIZ)
			nla_strlcpy(ev.ifname, tb[IFLA_IFNAME], sizeof(ev.ifname));
		break;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		struct ifaddrmsg *ifa;
		if (!nlmsg_valid_hdr(nlh, sizeof(*ifa)))
			return NL_SKIP;
		ifa = nlmsg_data(nlh);
		ev.kind = NL_EVENT_ADDR;
		ev.family = ifa->ifa_family;
		ev.ifindex = (int)ifa->ifa_index;
		ev.scope = ifa->ifa_scope;
		break;
	}
	case RTM_NEWROUTE:
	case RTM_DELROUTE: {
		struct route_spec r;
		if (!route_from_msg(msg, &r))
			return NL_SKIP;
		ev.kind = NL_EVENT_ROUTE;
		ev.family = r.family;
		ev.ifindex = r.ifindex;
		ev.proto = r.proto;
		ev.table = r.table;
		ev.route = r;
		break;
	}
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH: {
		struct nlattr *tb[NDA_MAX + 1];
		struct ndmsg *ndm;
		if (!nlmsg_valid_hdr(nlh, sizeof(*ndm)))
			return NL_SKIP;
		ndm = nlmsg_data(nlh);
		ev.kind = NL_EVENT_NEIGH;
		ev.family = ndm->ndm_family;
		ev.ifindex = ndm->ndm_ifindex;
		/* The entry is best effort: a message without it is still an event. */
		if (parse_attrs(msg, sizeof(*ndm), tb, NDA_MAX)) {
			if (ndm->ndm_family == AF_BRIDGE) {
				ev.is_fdb_self = (ndm->ndm_flags & NTF_SELF) &&
						 fdb_from_attrs(ndm, tb, &ev.fdb);
			} else if (!neigh_from_attrs(ndm, tb, &ev.neigh))
				memset(&ev.neigh, 0, sizeof(ev.neigh));
		}
		break;
	}
	default:
		return NL_SKIP;
	}
	ev.deleted = nlh->nlmsg_type == RTM_DELLINK || nlh->nlmsg_type == RTM_DELADDR ||
		     nlh->nlmsg_type == RTM_DELROUTE || nlh->nlmsg_type == RTM_DELNEIGH;
	m->fn(&ev, m->userdata);
	m->delivered++;
	return NL_OK;
}

static int monitor_seq_ok(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

int nl_monitor_new(struct nl_monitor **ret)
{
	_cleanup_free_ struct nl_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!m->cb)
		return -ENOMEM;
	r = sock_open(&m->sk);
	if (r < 0) {
		nl_cb_put(m->cb);
		return r;
	}
	/* Notifications carry sequence number 0. */
	nl_cb_set(m->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, monitor_seq_ok, NULL);
	r = nl_socket_add_memberships(m->sk, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
				      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEIGH, 0);
	if (r >= 0)
		r = nl_socket_set_nonblocking(m->sk);
	if (r < 0) {
		nl_socket_free(m->sk);
		nl_cb_put(m->cb);
		return nl_errno(r);
	}
	*ret = TAKE_PTR(m);
	return 0;
}

void nl_monitor_free(struct nl_monitor *m)
{
	if (!m)
		return;
	nl_socket_free(m->sk);
	nl_cb_put(m->cb);
	free(m);
}

int nl_monitor_fd(const struct nl_monitor *m)
{
	return nl_socket_get_fd(m->sk);
}

int nl_monitor_read(struct nl_monitor *m, nl_event_fn cb, void *userdata)
{
	m->fn = cb;
	m->userdata = userdata;
	m->delivered = 0;
	nl_cb_set(m->cb, NL_CB_VALID, NL_CB_CUSTOM, monitor_parse, m);

	/* Bounded, so that a flood cannot starve the rest of the loop; the fd
	 * stays readable and the loop calls again. */
	for (unsigned i = 0; i < MONITOR_BATCH; i++) {
		int r = nl_recvmsgs(m->sk, m->cb);
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped notifications. */
			struct nl_event ev = {.kind = NL_EVENT_OVERRUN};
			cb(&ev, userdata);
			m->delivered++;
			continue;
		}
		if (r < 0)
			return nl_errno(r);
	}
	return (int)MIN(m->delivered, (unsigned)INT32_MAX);
}
