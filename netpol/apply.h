/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The applier: the only part of the engine that touches the kernel, through
 * the `nft` program. It remembers what it last applied; the first time (and
 * after any failure) it reads the table back from the kernel instead, so a
 * restart adopts the existing table and writes only what differs.
 * Synchronous, one `nft` run per read or write, bounded by timeout_ms.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "netpol/plan.h"
#include "netpol/state.h"

struct np_apply_stats {
	uint64_t reads;	       /* table read-backs */
	uint64_t transactions; /* nft -f runs that changed something */
	uint64_t failures;
	uint64_t commands;	   /* script commands written, in total */
	struct np_plan_stats last; /* of the last transaction */
};

struct np_applier {
	const char *nft;     /* NULL: "nft" */
	unsigned timeout_ms; /* 0: 10 s */
	bool known;	     /* applied mirrors the kernel */
	struct np_state applied;
	struct np_apply_stats stats;
};

void np_applier_done(struct np_applier *a);

/*
 * Make the kernel's table equal to *want (sorted). On success want's
 * contents move into the applier (want is left empty) and the return value
 * is the number of commands run (0: nothing differed). On failure nothing is
 * known about the kernel any more: the next call reads it back first.
 */
int np_applier_sync(struct np_applier *a, struct np_state *want, struct errmsg *err);

/* Remove the table if it exists (returns 1 when it did). */
int np_applier_remove(struct np_applier *a, struct errmsg *err);

/* Read the kernel's table into *out (empty, has_table false when there is none). */
int np_applier_read(struct np_applier *a, struct np_state *out, struct errmsg *err);
