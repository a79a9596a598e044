/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nf_tables change notifications: a netfilter netlink socket in the
 * NFNLGRP_NFTABLES group hears every committed ruleset change of its network
 * namespace (nft, iptables-nft, ip6tables-nft alike). The traffic rules are
 * then checked when a table that holds flannel's rules changed, instead of
 * by polling; iptables-legacy (x_tables) sends nothing, so it keeps the
 * periodic check.
 *
 * nfnotify_scan() is the pure part: it walks a buffer of netlink messages
 * as read from the socket and reports the (family, table) each nf_tables
 * message names (attribute 1 of a table, chain, rule, set, set element,
 * object or flowtable message is its table's name).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A table's name, as nft limits it (NFT_TABLE_MAXNAMELEN). */
#define NFNOTIFY_TABLE_MAX 256

/* Is (family: NFPROTO_*, table) one whose changes matter? */
typedef bool (*nfnotify_table_fn)(uint8_t family, const char *table, void *userdata);

/*
 * Count the nf_tables messages in buf[0..len) that name a table for which
 * relevant() is true (every one when relevant is NULL). Messages of other
 * subsystems and without a table (the generation message ending each
 * transaction) are not counted. -EBADMSG when the buffer is not a well-formed
 * sequence of netlink messages (the caller then assumes a change).
 */
int nfnotify_scan(const void *buf, size_t len, nfnotify_table_fn relevant, void *userdata);

/* A non-blocking, close-on-exec socket joined to NFNLGRP_NFTABLES; -errno. */
int nfnotify_open(void);

/*
 * Read everything queued on fd. Returns how many relevant messages were read
 * (nfnotify_scan), 1 when notifications were lost (the receive buffer
 * overran: anything may have changed) or a message was malformed, 0 when
 * nothing relevant came, or -errno of a failed read.
 */
int nfnotify_drain(int fd, nfnotify_table_fn relevant, void *userdata);
