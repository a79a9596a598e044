/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in IPAM: host-local's allocator on host-local's on-disk state,
 * so that a node can switch between delegate mode (Debian's host-local)
 * and built-in mode with pods running and no address is handed out twice.
 *
 * State of network <name> in <dataDir>/<name>/ (dataDir default
 * /var/lib/cni/networks):
 *   <ip>                one file per reserved address, "<containerID>\r\n<ifname>"
 *                       (older host-local: "<containerID>" alone), mode 0644;
 *   last_reserved_ip.<N> the address last reserved from range set N (the
 *                       position in ipam.ranges: flannel's IPv4 set first);
 *   lock                flock()ed for the whole of every change.
 * Allocation order is host-local's: the first address after the last
 * reserved one (or the range start when there is none or it lies outside
 * the range), wrapping around at the range end, skipping the gateway; the
 * range of a subnet is network+1 .. broadcast-1 (IPv4) or the last address
 * (IPv6), gateway network+1.
 *
 * A reservation is written to a temporary file and link()ed to its address
 * name, which fails if the name exists: a file named by an address is
 * never empty or partial, whatever moment a crash hits. Temporary files
 * left by a crash are removed by the next change (under the lock).
 *
 * The parsers and the allocation order are pure; the store does the I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/ipnet.h"
#include "lib/core/macro.h"

#define IPAM_DEFAULT_DATA_DIR "/var/lib/cni/networks"
#define IPAM_ENTRY_MAX_SIZE   1024
#define IPAM_ID_MAX	      255
#define IPAM_IFNAME_MAX	      15

struct ipam_range {
	struct ip_net subnet; /* masked */
	struct ip_addr start, end, gateway;
};

/* host-local's defaults for a subnet (host bits ignored); -EINVAL when it has no usable address. */
int ipam_range_init(const struct ip_net *subnet, struct ipam_range *ret);
bool ipam_range_contains(const struct ipam_range *r, const struct ip_addr *a);

/* One reservation file's content. */
struct ipam_entry {
	char id[IPAM_ID_MAX + 1];
	char ifname[IPAM_IFNAME_MAX + 1]; /* "" for the legacy form without one */
};

/*
 * Parses a reservation file (surrounding whitespace trimmed, as host-local
 * reads it): -EINVAL for anything else than "<id>\r\n<ifname>" or "<id>"
 * with a valid container ID and interface name.
 */
int ipam_entry_parse(const char *data, size_t len, struct ipam_entry *ret);
/* The file content for id and ifname into buf; its length, or -ENAMETOOLONG. */
int ipam_entry_format(const char *id, const char *ifname, char *buf, size_t size);
/* The entry belongs to the attachment (a legacy entry matches the container ID alone). */
bool ipam_entry_matches(const struct ipam_entry *e, const char *id, const char *ifname);
/* Parses last_reserved_ip.N (whitespace trimmed): -EINVAL unless one address. */
int ipam_last_parse(const char *data, size_t len, struct ip_addr *ret);

/* host-local's allocation order over one range. */
struct ipam_iter {
	struct ipam_range range;
	struct ip_addr first, cur;
	bool started, done;
};

/* Starts after last when it is inside the range, else at the range start. */
void ipam_iter_init(struct ipam_iter *it, const struct ipam_range *r, const struct ip_addr *last);
/* The next candidate (never the gateway); false once every address was offered. */
bool ipam_iter_next(struct ipam_iter *it, struct ip_addr *ret);

/* An open, locked store of one network. */
struct ipam_store {
	int dir_fd;
	int lock_fd;
};

#define IPAM_STORE_INIT                     \
	{                                   \
		.dir_fd = -1, .lock_fd = -1 \
	}

/* Creates <data_dir>/<network> (0755) if needed and takes the lock (blocking). */
int ipam_store_open(const char *data_dir, const char *network, struct ipam_store *ret);
/* Releases the lock. */
void ipam_store_close(struct ipam_store *s);
static inline void ipam_store_closep(struct ipam_store *s)
{
	ipam_store_close(s);
}
#define _cleanup_ipam_store_ _cleanup_(ipam_store_closep)

/* The attachment's reserved address inside r: 0, -ENOENT when it has none. */
int ipam_find(struct ipam_store *s, const char *id, const char *ifname, const struct ipam_range *r,
	      struct ip_addr *ret);
/*
 * Reserves the next free address of r (range set index set_index) for the
 * attachment: -EEXIST when it already has one there (host-local refuses a
 * duplicate allocation), -ENOSPC when the range is full.
 */
int ipam_allocate(struct ipam_store *s, unsigned set_index, const struct ipam_range *r,
		  const char *id, const char *ifname, struct ip_addr *ret);
/* Releases every reservation of the attachment; returns how many. */
int ipam_release(struct ipam_store *s, const char *id, const char *ifname);

/*
 * Releases every reservation for which keep() is false (an unreadable or
 * malformed reservation counts as stale); gone() is told about each one
 * released that had a valid entry. Returns how many were released.
 */
int ipam_gc(struct ipam_store *s, bool (*keep)(const struct ipam_entry *e, void *userdata),
	    void (*gone)(const struct ipam_entry *e, void *userdata), void *userdata);
