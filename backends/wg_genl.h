/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel's WireGuard control API: generic netlink family "wireguard"
 * (<linux/wireguard.h>, MIT/GPL-with-syscall-note), spoken with our own
 * encoder over a raw NETLINK_GENERIC socket (the embeddable wireguard-tools
 * library is LGPL).
 *
 * Pure: the request builders and reply parsers work on byte buffers, so
 * that tests check them against the header's attribute layout byte for
 * byte. A get reply may span several messages, a peer continuing in the
 * next one with only its key and more allowed IPs; the parser coalesces.
 *
 * I/O: wg_genl_open() resolves the family (-ENOENT: the kernel has no
 * WireGuard); wg_genl_get()/wg_genl_set() are blocking request/reply
 * exchanges on the socket, as rtnetlink requests are (lib/netlink).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "wg_proto.h"

/* CTRL_CMD_GETFAMILY for "wireguard". */
int wg_genl_family_request(uint32_t seq, struct buf *out);
/* The family id from a reply (one netlink message), -ENOENT on an error reply. */
int wg_genl_family_parse(const void *data, size_t len, uint16_t *ret_id);

/* WG_CMD_GET_DEVICE dump request by name. */
int wg_genl_get_request(uint16_t family, uint32_t seq, const char *ifname, struct buf *out);
/* WG_CMD_SET_DEVICE with one change, acknowledged. */
int wg_genl_set_request(uint16_t family, uint32_t seq, const char *ifname,
			const struct wg_change *c, struct buf *out);

/*
 * One datagram of replies to request seq: device messages are merged into
 * dev; returns 1 when the exchange is over (NLMSG_DONE, or an ACK), 0 when
 * more is to come, or the negative errno of an error reply, -EBADMSG for
 * malformed data.
 */
int wg_genl_parse_reply(const void *data, size_t len, uint32_t seq, struct wg_device *dev);

struct wg_genl;

int wg_genl_open(struct wg_genl **ret);
void wg_genl_close(struct wg_genl *g);
int wg_genl_get(struct wg_genl *g, const char *ifname, struct wg_device *ret);
int wg_genl_set(struct wg_genl *g, const char *ifname, const struct wg_change *c);
