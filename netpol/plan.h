/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planner (pure): two sorted states (what the kernel has, what the
 * compiler wants) in, one `nft -f` script out that turns the first into the
 * second. Empty when they are equal. Order inside the script, so that every
 * reference exists when it is made and is gone before its target goes:
 *
 *   1. the table, its base chains and maps (when missing)
 *   2. new sets, then element additions
 *   3. new chains with their rules (policy chains before pod chains)
 *   4. map elements: removed and changed ones deleted, new and changed added
 *   5. chains no longer wanted (pod chains before policy chains)
 *   6. element deletions, then sets no longer wanted
 *
 * The kernel applies the script as one transaction, so packets see either
 * the old table or the new one; nothing is flushed.
 *
 * The base chains, hooked at postrouting after DNAT and before flannel's
 * masquerade (srcnat), one per direction so that an egress "accept" still
 * leaves the packet to the ingress chain:
 *
 *   chain egress  { type filter hook postrouting priority srcnat - 6; ...
 *   chain ingress { type filter hook postrouting priority srcnat - 5; ...
 *     ct state established,related accept
 *     fib saddr type local accept      (the node itself: kubelet probes)
 *     icmpv6 type { nd-* } accept       (neighbour discovery across cni0)
 *     ip saddr vmap @e4 / ip daddr vmap @i4  (and ip6)
 */
#pragma once

#include "lib/core/buf.h"
#include "netpol/state.h"

struct np_plan_stats {
	size_t elements_added, elements_deleted;
	size_t sets_added, sets_deleted;
	size_t chains_added, chains_deleted;
	size_t verdicts_changed;
};

/* Append the script to out; returns the number of commands (0: nothing to do). */
int np_plan(const struct np_state *old, const struct np_state *want, struct buf *out,
	    struct np_plan_stats *stats);

/* The script that removes the table (for --network-policy turned off). */
int np_plan_delete_table(struct buf *out);
