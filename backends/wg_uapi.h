/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userspace API (www.wireguard.com/xplatform): a Unix stream socket
 * /var/run/wireguard/<dev>.sock speaking "key=value" lines. A request is
 * "get=1" or "set=1" plus keys, ended by an empty line; the reply ends with
 * "errno=<n>" and an empty line (n is 0 or a negative errno). Keys are hex.
 *
 * Pure: wg_uapi_render_set() and wg_uapi_parse_get()/wg_uapi_parse_errno().
 * I/O: wg_uapi_get()/wg_uapi_set(), one blocking connection each, bounded by
 * a timeout (the daemon's one loop must never hang on a wedged process).
 */
#pragma once

#include <stddef.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "wg_proto.h"

#define WG_UAPI_DIR	   "/var/run/wireguard"
#define WG_UAPI_REPLY_MAX  (16u << 20) /* 16 MiB: about 40000 peers */
#define WG_UAPI_TIMEOUT_MS 3000

/* "set=1\n...\n\n" for one change. */
int wg_uapi_render_set(const struct wg_change *c, struct buf *out);
/*
 * A complete "get=1" reply (through its "errno=" line). Returns 0, the
 * reply's negative errno, or -EBADMSG (err says where) for a malformed reply.
 */
int wg_uapi_parse_get(const char *text, size_t len, struct wg_device *ret, struct errmsg *err);
/* A "set=1" reply: 0, its negative errno, or -EBADMSG. */
int wg_uapi_parse_errno(const char *text, size_t len);

/* "<WG_UAPI_DIR>/<dev>.sock" into buf. */
int wg_uapi_path(const char *dev, char *buf, size_t size);
/* -ENOENT / -ECONNREFUSED: no live wireguard-go behind the socket. */
int wg_uapi_get(const char *path, struct wg_device *ret, struct errmsg *err);
int wg_uapi_set(const char *path, const struct wg_change *c, struct errmsg *err);
