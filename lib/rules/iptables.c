/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs iptables-save and iptables-restore for the traffic manager. Reads
 * are streamed into the bounded scanner of rules.c, so a nat table with
 * tens of thousands of kube-proxy rules costs one pass and a few KiB. The
 * restore always uses --noflush (only the chains named in the input are
 * touched) and -w (wait for the xtables lock instead of failing while
 * kube-proxy holds it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/core/spawn.h"
#include "lib/rules/iptables.h"

static int scan_out(const char *data, size_t len, void *userdata)
{
	return ipt_scan_feed(userdata, data, len);
}

int iptables_read(const char *save_bin, struct ipt_scan *s, unsigned timeout_ms, struct errmsg *err)
{
	const char *argv[] = {save_bin, "-t", s->table, NULL};
	struct spawn_req req = {
		.argv = argv, .out = scan_out, .userdata = s, .timeout_ms = timeout_ms};
	int r;

	r = spawn_run(&req, NULL, err);
	if (r < 0)
		return r;
	return ipt_scan_finish(s);
}

int iptables_restore(const char *restore_bin, const char *text, size_t len, unsigned timeout_ms,
		     struct errmsg *err)
{
	const char *argv[] = {restore_bin, "--noflush", "-w", IPTABLES_LOCK_WAIT_SEC, NULL};
	struct spawn_req req = {.argv = argv, .in = text, .in_len = len, .timeout_ms = timeout_ms};

	return spawn_run(&req, NULL, err);
}

int iptables_check_br_netfilter(const char *dir, bool ipv4, bool ipv6, struct errmsg *err)
{
	const char *files[2] = {ipv4 ? "bridge-nf-call-iptables" : NULL,
				ipv6 ? "bridge-nf-call-ip6tables" : NULL};

	if (!dir)
		dir = "/proc/sys/net/bridge";
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char path[4096];
		struct stat st;

		if (!files[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) == 0)
			continue;
		int r = negative_errno();
		/* upstream's text (Go's *PathError), then how to fix it */
		errmsg_set(
			err,
			"Failed to check br_netfilter: stat %s: %s (the br_netfilter kernel module "
			"is not loaded: run \"modprobe br_netfilter\" and add it to "
			"/etc/modules-load.d/ to load it at boot, or use \"EnableNFTables\": true)",
			path, r == -ENOENT ? "no such file or directory" : strerror(-r));
		return r;
	}
	return 0;
}
