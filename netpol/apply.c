/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The applier: nft runs. See apply.h.
 */
#include <errno.h>
#include <string.h>

#include "lib/core/spawn.h"
#include "netpol/apply.h"
#include "netpol/listing.h"

#define READ_MAX (512u * 1024 * 1024)

static const char *nft_of(const struct np_applier *a)
{
	return a->nft ? a->nft : "nft";
}

void np_applier_done(struct np_applier *a)
{
	np_state_done(&a->applied);
	a->known = false;
}

static int collect(const char *data, size_t len, void *userdata)
{
	struct buf *out = userdata;

	if (out->len + len > READ_MAX)
		return -EFBIG;
	return buf_append(out, data, len);
}

int np_applier_read(struct np_applier *a, struct np_state *out, struct errmsg *err)
{
	const char *argv[] = {nft_of(a), "-j", "list", "table", "inet", NP_TABLE, NULL};
	_cleanup_buf_ struct buf listing = BUF_INIT;
	struct spawn_req req = {
		.argv = argv, .out = collect, .userdata = &listing, .timeout_ms = a->timeout_ms};
	int status = 0, r;

	a->stats.reads++;
	r = spawn_run(&req, &status, err);
	if (r == -EPROTO && status == 1 && err && strstr(err->text, "No such file or directory")) {
		*out = (struct np_state){.sorted = true};
		return 0;
	}
	if (r < 0)
		return r;
	return np_listing_parse(listing.data ? listing.data : "", listing.len, out, err);
}

static int run_script(struct np_applier *a, const struct buf *script, struct errmsg *err)
{
	const char *argv[] = {nft_of(a), "-f", "-", NULL};
	struct spawn_req req = {.argv = argv,
				.in = script->data,
				.in_len = script->len,
				.timeout_ms = a->timeout_ms};

	return spawn_run(&req, NULL, err);
}

int np_applier_sync(struct np_applier *a, struct np_state *want, struct errmsg *err)
{
	_cleanup_buf_ struct buf script = BUF_INIT;
	struct np_plan_stats ps;
	int r, cmds;

	if (!a->known) {
		np_state_done(&a->applied);
		r = np_applier_read(a, &a->applied, err);
		if (r < 0) {
			a->stats.failures++;
			return r;
		}
		a->known = true;
	}
	if (!want->sorted)
		np_state_sort(want);
	cmds = np_plan(&a->applied, want, &script, &ps);
	if (cmds < 0)
		return cmds;
	if (cmds > 0) {
		r = run_script(a, &script, err);
		if (r < 0) {
			a->stats.failures++;
			np_state_done(&a->applied);
			a->known = false;
			return r;
		}
		a->stats.transactions++;
		a->stats.commands += (uint64_t)cmds;
		a->stats.last = ps;
	}
	np_state_done(&a->applied);
	a->applied = *want;
	*want = (struct np_state){};
	return cmds;
}

int np_applier_remove(struct np_applier *a, struct errmsg *err)
{
	_cleanup_buf_ struct buf script = BUF_INIT;
	int r;

	np_applier_done(a);
	r = np_plan_delete_table(&script);
	if (r >= 0)
		r = run_script(a, &script, err);
	if (r == -EPROTO && err && strstr(err->text, "No such file or directory"))
		return 0;
	return r < 0 ? r : 1;
}
