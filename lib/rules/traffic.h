/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The traffic manager: keeps upstream flannel's masquerade (--ip-masq) and
 * FORWARD accept (--iptables-forward-rules) rules in place, with iptables
 * (default) or nftables ("EnableNFTables": true). Start-up order, as in
 * flanneld (§0.1 steps 8 and 12-14):
 *
 *   traffic_check_br_netfilter()   iptables mode only; fatal when it fails
 *   traffic_mgr_new()
 *   traffic_mgr_cleanup_other()    remove the other mode's leftovers
 *   traffic_mgr_ensure()           install the rules (only what differs)
 *   traffic_mgr_resync()           every --iptables-resync seconds
 *
 * Every change is one atomic transaction (iptables-restore --noflush, or
 * nft -f), so there is no moment without masquerading, also across
 * restarts. A resync costs one read per table (iptables-save -t nat / -t
 * filter, or nft -a list table) and one write only when something drifted.
 * The chains and nft tables may be shared with the flanneld of other flannel
 * networks on the host: only our rules (those naming our network or lease,
 * or the previous run's) are judged and rewritten, the others are kept.
 * Synchronous and single-threaded: each call runs short helper programs and
 * returns when they are done (bounded by timeout_ms each), except the
 * periodic resync, which can run in a child (traffic_mgr_resync_start). Logs what it
 * changes; read failures and write failures are logged and returned.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/core/loop.h"
#include "lib/core/subnet_env.h"
#include "lib/rules/rules.h"

enum traffic_mode {
	TRAFFIC_MODE_IPTABLES,
	TRAFFIC_MODE_NFTABLES,
	_TRAFFIC_MODE_MAX,
	_TRAFFIC_MODE_INVALID = -EINVAL,
};

struct traffic_config {
	enum traffic_mode mode;
	bool ip_masq;	    /* --ip-masq */
	bool forward_rules; /* --iptables-forward-rules (upstream default: true) */
	bool random_fully;  /* !--ip-masq-fully-random-disable */
	/* iptables binaries: NULL/"" = iptables-save etc. (the system's
	 * alternative), "nft" or "legacy" = iptables-nft-save / iptables-legacy-save */
	const char *iptables_variant;
	const char *nft;     /* NULL = "nft" */
	unsigned timeout_ms; /* per command; 0 = 10 s */
};

/* Counters for metrics; monotonic. */
struct traffic_stats {
	uint64_t execs;	   /* helper programs run */
	uint64_t applies;  /* transactions that changed the rules */
	uint64_t checks;   /* resync passes */
	uint64_t repairs;  /* families found drifted by a resync pass and rewritten */
	uint64_t failures; /* failed reads or writes */
};

struct traffic_mgr;

/* Copies cfg. -EINVAL for an invalid mode or variant. */
int traffic_mgr_new(const struct traffic_config *cfg, struct traffic_mgr **ret);
struct traffic_mgr *traffic_mgr_free(struct traffic_mgr *m); /* NULL ok, returns NULL */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct traffic_mgr *, traffic_mgr_free);

/*
 * Remove what the other mode left: in iptables mode the nft tables
 * `ip flannel-ipv4` and `ip6 flannel-ipv6`; in nftables mode the jumps to
 * and the chains FLANNEL-POSTRTG (nat) and FLANNEL-FWD (filter), IPv4 and
 * IPv6. A missing program or an unsupported family is not an error (logged
 * at -v 2). Returns the number of tables changed.
 */
int traffic_mgr_cleanup_other(struct traffic_mgr *m);

/*
 * Install the rules for the enabled families (v4/v6 built with
 * rules_net_set(); NULL or !enabled: family off). prev is the subnet.env
 * of the previous run (NULL when there is none): when its network or
 * subnet differ, upstream's "recycle" message is logged and the previous
 * subnet's rules disappear in the same transaction that installs the new
 * ones. Moves our jump rules behind kube-proxy's (end of POSTROUTING /
 * FORWARD) as upstream does at start-up. Every family and table is
 * attempted; the first error is returned. May be called again when the
 * lease changes.
 */
int traffic_mgr_ensure(struct traffic_mgr *m, const struct rules_net *v4,
		       const struct rules_net *v6, const struct subnet_env *prev);

/*
 * One resync pass over what traffic_mgr_ensure() installed: read each
 * table once and rewrite it only when it drifted (e.g. rules deleted by
 * hand, chain flushed, jump missing). Returns the number of families
 * (IPv4, IPv6) whose rules were rewritten, or the first -errno.
 */
int traffic_mgr_resync(struct traffic_mgr *m);

/*
 * Does the kernel report changes of our rules (lib/rules/nfnotify.h)? True
 * in nftables mode, and in iptables mode once every iptables-save read so
 * far came from iptables-nft ("(nf_tables)"); iptables-legacy does not.
 */
bool traffic_mgr_kernel_notifies(const struct traffic_mgr *m);
/* An nfnotify_table_fn (userdata: the manager): a table holding our rules. */
bool traffic_mgr_table_relevant(uint8_t family, const char *table, void *userdata);

/*
 * traffic_mgr_resync() in a forked child (lib/core/task.h), so that the
 * event loop never waits for iptables-save or nft: on a node whose nat
 * table holds kube-proxy's rules one read takes up to seconds, and any
 * node event arriving meanwhile would wait as long. done(r) runs on the
 * loop with traffic_mgr_resync()'s result once the child exits; the
 * counters of the child's pass are added to ours. Returns -EBUSY while a
 * pass is still running (one at a time).
 */
typedef void (*traffic_done_fn)(int r, void *userdata);
int traffic_mgr_resync_start(struct traffic_mgr *m, struct loop *loop, traffic_done_fn done,
			     void *userdata);

const struct traffic_stats *traffic_mgr_stats(const struct traffic_mgr *m);

/*
 * Upstream's start-up check (§0.1 step 8): in iptables mode the
 * br_netfilter sysctls of the enabled families must exist; skipped (0) in
 * nftables mode. dir NULL = /proc/sys/net/bridge. On failure err holds
 * upstream's message plus a hint and -errno is returned.
 */
int traffic_check_br_netfilter(enum traffic_mode mode, bool ipv4, bool ipv6, const char *dir,
			       struct errmsg *err);

const char *traffic_mode_to_string(enum traffic_mode mode);
