/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The iptables I/O of the traffic manager: one `iptables-save -t <table>`
 * read streamed into a struct ipt_scan, one atomic `iptables-restore
 * --noflush -w` transaction, and upstream's br_netfilter pre-flight check.
 * Each call runs exactly one program (directly, no shell) and fills err
 * with a one-line reason on failure; callers log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/errmsg.h"
#include "lib/rules/rules.h"

/* Seconds iptables-restore waits for the xtables lock (shared with kube-proxy). */
#define IPTABLES_LOCK_WAIT_SEC "5"

/* Run `<save_bin> -t <s->table>` and feed its output to s (initialised by the caller). */
int iptables_read(const char *save_bin, struct ipt_scan *s, unsigned timeout_ms,
		  struct errmsg *err);
/* Run `<restore_bin> --noflush -w 5` with text on stdin. */
int iptables_restore(const char *restore_bin, const char *text, size_t len, unsigned timeout_ms,
		     struct errmsg *err);

/*
 * Upstream's pre-flight check: <dir>/bridge-nf-call-iptables (IPv4) and
 * <dir>/bridge-nf-call-ip6tables (IPv6) must exist (dir NULL:
 * /proc/sys/net/bridge). On failure err holds upstream's text
 * "Failed to check br_netfilter: stat <path>: no such file or directory"
 * plus a hint how to fix it, and the stat errno is returned.
 */
int iptables_check_br_netfilter(const char *dir, bool ipv4, bool ipv6, struct errmsg *err);
