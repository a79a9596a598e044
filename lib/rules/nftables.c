/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the nft program for the traffic manager. A script given to
 * `nft -f -` is one netlink batch, so the kernel applies all of it or none
 * of it, and a table replaced by "delete table + table {...}" in one script
 * is never seen half-built by packets.
 */
#include <errno.h>
#include <string.h>

#include "lib/core/spawn.h"
#include "lib/rules/nftables.h"

int nftables_run(const char *nft, const char *script, size_t len, unsigned timeout_ms,
		 struct errmsg *err)
{
	const char *argv[] = {nft, "-f", "-", NULL};
	struct spawn_req req = {
		.argv = argv, .in = script, .in_len = len, .timeout_ms = timeout_ms};

	return spawn_run(&req, NULL, err);
}

static int collect(const char *data, size_t len, void *userdata)
{
	struct buf *out = userdata;

	if (out->len + len > NFTABLES_MAX_LISTING)
		return -EFBIG;
	return buf_append(out, data, len);
}

int nftables_list(const char *nft, const char *const *args, struct buf *out, unsigned timeout_ms,
		  struct errmsg *err)
{
	const char *argv[16] = {nft};
	struct errmsg local = {""};
	size_t n = 1;
	int status = 0, r;

	for (; args[n - 1]; n++) {
		if (n + 1 >= ARRAY_SIZE(argv))
			return -E2BIG;
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;
	if (!err)
		err = &local;

	struct spawn_req req = {
		.argv = argv, .out = collect, .userdata = out, .timeout_ms = timeout_ms};
	r = spawn_run(&req, &status, err);
	if (r == -EPROTO && status == 1 && strstr(err->text, "No such file or directory"))
		return -ENODATA;
	return r;
}
