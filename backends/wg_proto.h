/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WireGuard device configuration as both control APIs carry it: the
 * kernel's generic-netlink family "wireguard" (wg_genl.c) and the
 * cross-platform userspace API of wireguard-go (wg_uapi.c). The types are
 * the planner's view of a peer and the device's view of itself; the
 * encoders and decoders are pure, so they are unit-tested byte for byte.
 *
 * A peer is keyed by its public key. Flannel gives a peer one allowed IP
 * (its subnet of the device's family); a device peer with more is kept as
 * its first WG_ALLOWED_MAX and flagged, so that it compares unequal and is
 * rewritten with replace-allowed-IPs. The preshared key is the same for
 * every peer (net-conf's PSK): a peer holds only a tag of it, and the key
 * itself travels with the change that writes it. A peer is the planner's
 * entry for thousands of nodes, so it is kept small.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/ipnet.h"
#include "lib/json/lease.h"

#define WG_ALLOWED_MAX 1

struct wg_peer {
	int ifindex; /* the device (planner bookkeeping; not part of the wire format) */
	uint8_t key[WG_KEY_LEN];
	uint64_t psk_tag;	 /* wg_psk_tag() of its preshared key */
	struct ip_addr endpoint; /* family 0: none */
	uint16_t port;
	uint16_t keepalive; /* seconds, 0: off */
	uint8_t n_allowed;
	bool more_allowed; /* the device holds more than allowed[] */
	struct ip_net allowed[WG_ALLOWED_MAX];
};

/* A device as read back: its key, port and peers. */
struct wg_device {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	struct wg_peer *peers; /* malloc'ed */
	size_t n_peers;
};

void wg_device_done(struct wg_device *d);

/*
 * One change: the device's key and port (when set_*), then peers to
 * replace (their endpoint, PSK, keepalive and exactly their allowed IPs)
 * or, with remove, to delete by key.
 */
struct wg_change {
	bool set_private_key;
	uint8_t private_key[WG_KEY_LEN];
	bool set_listen_port;
	uint16_t listen_port;
	const struct wg_peer *peer; /* NULL: the device settings only */
	bool remove;
	const uint8_t *psk; /* the peer's preshared key (WG_KEY_LEN); NULL: none */
};

/* 0 for no key (all zero, NULL), else a 64-bit tag of the key (never 0). */
uint64_t wg_psk_tag(const uint8_t *psk);

/* Does the device's peer have satisfies what we want of it? Same key assumed. */
bool wg_peer_equal(const struct wg_peer *have, const struct wg_peer *want);
/* Key order for sort-merge diffs. */
int wg_peer_key_cmp(const struct wg_peer *a, const struct wg_peer *b);
