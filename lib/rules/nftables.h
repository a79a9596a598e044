/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nftables I/O of the traffic manager, through the `nft` program (not
 * libnftables, which is GPL-2.0-only): run a script with `nft -f -` (one
 * transaction: all or nothing) and read `nft list ...` output. Each call
 * runs exactly one program; err gets a one-line reason on failure.
 */
#pragma once

#include <stddef.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"

/* Longest listing we read back; our tables are a few hundred bytes. */
#define NFTABLES_MAX_LISTING (1024 * 1024)

/* `<nft> -f -` with script on stdin. */
int nftables_run(const char *nft, const char *script, size_t len, unsigned timeout_ms,
		 struct errmsg *err);
/*
 * `<nft> <args...>` (args NULL-terminated, e.g. "list", "table", "ip",
 * "flannel-ipv4"); stdout appended to out (bounded by NFTABLES_MAX_LISTING,
 * else -EFBIG). -ENODATA when nft reports that the object does not exist;
 * -ENOENT (as for every call here) when nft is not installed.
 */
int nftables_list(const char *nft, const char *const *args, struct buf *out, unsigned timeout_ms,
		  struct errmsg *err);
