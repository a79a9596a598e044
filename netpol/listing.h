/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads `nft -j list table inet flannel-netpol` back into a state (pure), so
 * that a restarted agent diffs against what the kernel really holds and
 * changes nothing when nothing changed.
 *
 * Only objects with our names are taken (s/n sets, p/c chains, the four
 * maps); chain bodies are not read back (chains are content-addressed: the
 * name says what is inside). has_table is set only when the table, both
 * base chains with exactly their rules and all four maps are there;
 * otherwise the planner writes those parts again.
 */
#pragma once

#include <stddef.h>

#include "lib/core/errmsg.h"
#include "netpol/state.h"

/* -EBADMSG (err set) when the listing is not what nft prints. */
int np_listing_parse(const char *data, size_t len, struct np_state *out, struct errmsg *err);
