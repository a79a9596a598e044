/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Upstream flannel's masquerade and forward rules, as text (pure, no I/O):
 *
 *   iptables  rule lines exactly as `iptables-save` prints them (so the same
 *             text is both the iptables-restore input and the expected
 *             read-back), a scanner for `iptables-save -t <table>` output and
 *             a planner that turns (scanned state, desired chain) into one
 *             atomic `iptables-restore --noflush` transaction;
 *   nftables  the table `ip flannel-ipv4` / `ip6 flannel-ipv6` exactly as
 *             `nft list table` prints it, and a planner that turns an
 *             `nft -a list table` listing into one `nft -f` transaction
 *             (empty when nothing drifted).
 *
 * The chains and nft tables are shared by name with every other flanneld
 * on the host (one per flannel network, as upstream's multi-network
 * setup): each manages only its own rules in them. A rule is ours when it
 * is one of the lines we want in that chain, or when it names one of our
 * networks (struct rules_owned: the network, the lease and the previous
 * run's, from subnet.env) as its source or destination; every other rule
 * is foreign and kept, in its order, after ours.
 *
 * Chains, rules, comments and order are upstream's (flannel-behaviour.md
 * §5.2/§5.3). All functions return 0/positive or -errno and never log.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/buf.h"
#include "lib/core/ipnet.h"

#define RULES_IPT_MASQ_TABLE   "nat"
#define RULES_IPT_MASQ_BASE    "POSTROUTING"
#define RULES_IPT_MASQ_CHAIN   "FLANNEL-POSTRTG"
#define RULES_IPT_MASQ_COMMENT "flanneld masq"
#define RULES_IPT_FWD_TABLE    "filter"
#define RULES_IPT_FWD_BASE     "FORWARD"
#define RULES_IPT_FWD_CHAIN    "FLANNEL-FWD"
#define RULES_IPT_FWD_COMMENT  "flanneld forward"
/* kube-proxy's masquerade mark: such packets are left to kube-proxy (no double NAT). */
#define RULES_KUBE_PROXY_MARK "0x4000/0x4000"

#define RULES_NFT_TABLE_V4 "flannel-ipv4"
#define RULES_NFT_TABLE_V6 "flannel-ipv6"

/* Longest iptables-save line kept; a longer one is counted as unreadable state. */
#define RULES_IPT_MAX_LINE (64 * 1024)
/* Bytes of our chain's lines (or of references to it) kept by the scanner. */
#define RULES_IPT_MAX_KEPT (64 * 1024)

enum rules_family {
	RULES_IPV4,
	RULES_IPV6,
	_RULES_FAMILY_MAX,
	_RULES_FAMILY_INVALID = -EINVAL,
};

/* One address family's inputs. Both nets are masked by rules_net_set(). */
struct rules_net {
	bool enabled;
	struct ip_net network; /* the cluster network (net-conf Network / IPv6Network) */
	struct ip_net subnet;  /* this node's lease */
};

/*
 * Fill n from a network and a subnet (host bits are cleared, as upstream's
 * net.ParseCIDR does with subnet.env's FLANNEL_SUBNET=10.244.1.1/24).
 * -EAFNOSUPPORT when the families differ from each other or from the family,
 * -EINVAL for a /0 (iptables cannot express `! -s 0.0.0.0/0`) or a subnet
 * that is not inside the network.
 */
int rules_net_set(struct rules_net *n, enum rules_family family, const struct ip_net *network,
		  const struct ip_net *subnet);
bool rules_net_equal(const struct rules_net *a, const struct rules_net *b);

const char *rules_family_name(enum rules_family family); /* "IPv4", "IPv6" */

/* The networks whose rules are ours in a shared chain (see above). */
#define RULES_OWNED_MAX 4
struct rules_owned {
	unsigned n;
	struct ip_net nets[RULES_OWNED_MAX];
};

/*
 * Add a network (host bits cleared; a duplicate is ignored). -EINVAL for a
 * /0 (no rule of ours names it), -ENOSPC when the set is full.
 */
int rules_owned_add(struct rules_owned *o, const struct ip_net *net);
/* Add n's network and subnet (nothing when n is disabled). */
int rules_owned_add_net(struct rules_owned *o, const struct rules_net *n);
/*
 * Whether a rule (an iptables-save line or an nft rule, len bytes) names
 * one of the networks as its source or destination: the word after -s, -d,
 * saddr, daddr or "saddr !=" / "daddr !=", in iptables-save's form
 * (a.b.c.d/n) or nft's (a full-length prefix as a bare address). o NULL:
 * none.
 */
bool rules_owned_match(const struct rules_owned *o, const char *line, size_t len);

/* ---- iptables ---- */

/* The jump rule in POSTROUTING / FORWARD (no trailing newline). */
const char *rules_ipt_masq_jump(void);
const char *rules_ipt_fwd_jump(void);

/* Append the FLANNEL-POSTRTG rule lines ("-A FLANNEL-POSTRTG ...\n", 6 lines). */
int rules_ipt_masq(enum rules_family family, const struct rules_net *n, bool random_fully,
		   struct buf *out);
/* Append the FLANNEL-FWD rule lines (2 lines). */
int rules_ipt_fwd(const struct rules_net *n, struct buf *out);

/*
 * What `iptables-save -t <table>` says about one of our chains. Feed the
 * output in arbitrary chunks; memory stays bounded whatever the input size
 * (kube-proxy's nat table can hold tens of thousands of rules).
 */
struct ipt_scan {
	/* configuration (borrowed strings) */
	const char *table; /* "nat" */
	const char *base;  /* "POSTROUTING" */
	const char *chain; /* "FLANNEL-POSTRTG" */
	const char *jump;  /* the exact jump rule, see rules_ipt_masq_jump() */
	/* results */
	bool table_seen;   /* a "*<table>" section was read */
	bool chain_exists; /* ":<chain> ..." was read */
	struct buf rules;  /* our chain's "-A <chain> ..." lines, '\n'-terminated */
	struct buf refs;   /* other chains' rules that jump/goto our chain, incl. our jump */
	unsigned jumps;	   /* exact copies of our jump rule in the base chain */
	bool jump_last;	   /* the last rule of the base chain is our jump */
	bool overflow;	   /* our chain or refs exceeded RULES_IPT_MAX_KEPT / a line was too long */
	bool nf_tables;	   /* iptables-nft: the "# Generated by ... (nf_tables)" comment */
	/* parser state */
	bool in_table;
	struct line_framer framer;
};

void ipt_scan_init(struct ipt_scan *s, const char *table, const char *base, const char *chain,
		   const char *jump);
int ipt_scan_feed(struct ipt_scan *s, const void *data, size_t len);
/* Process a last line without '\n' (a truncated stream). */
int ipt_scan_finish(struct ipt_scan *s);
void ipt_scan_done(struct ipt_scan *s);

/*
 * Append to out one "*<table> ... COMMIT" transaction that converges the
 * scanned state to `want` (the desired "-A <chain>" lines; NULL means the
 * chain and every reference to it must go). Nothing is appended when the
 * state already matches, so callers test out->len. The chain is rewritten
 * with ":<chain> - [0:0]" followed by its rules: inside one transaction
 * this flushes and refills it atomically, so masquerading never pauses and
 * stale rules (e.g. of the previous subnet) disappear. With jump_last the
 * jump rule is moved to the end of the base chain (after kube-proxy's
 * KUBE-* jumps, where upstream puts it at start-up); otherwise it is only
 * re-added when missing and de-duplicated. -EBADMSG when the scan
 * overflowed and `want` is NULL (we refuse to delete what we could not see).
 */
int rules_ipt_plan(const struct ipt_scan *s, const char *want, bool jump_last, struct buf *out);
/*
 * rules_ipt_plan() for a chain shared with other flanneld: only the rules
 * that are ours (the lines of want, and rules matching owned) are
 * compared with want, present and in order, foreign rules in between or
 * after do not count. When ours differ, the chain is rewritten in the same
 * single transaction as want followed by the foreign rules in their order
 * (ours first, as upstream's start-up leaves them), so nothing of another
 * network is lost and ours (e.g. the previous subnet's) are dropped.
 * owned NULL: every rule of the chain is ours (rules_ipt_plan()). When the
 * scan overflowed, the foreign rules that were seen are kept.
 */
int rules_ipt_plan_shared(const struct ipt_scan *s, const char *want,
			  const struct rules_owned *owned, bool jump_last, struct buf *out);

/* ---- nftables ---- */

const char *rules_nft_family(enum rules_family family); /* "ip", "ip6" */
const char *rules_nft_table(enum rules_family family);	/* "flannel-ipv4", "flannel-ipv6" */

/*
 * The table as `nft list table <family> <name>` prints it: comment, then the
 * chain postrtg (if masq) and the chain forward (if forward). This text is
 * also valid nft input.
 */
int rules_nft_table_text(enum rules_family family, const struct rules_net *n, bool masq,
			 bool forward, bool random_fully, struct buf *out);
/* Script deleting the table if it exists (add + delete, one transaction). */
int rules_nft_delete_script(enum rules_family family, struct buf *out);

/*
 * Append to out the `nft -f -` script that converges this family's table
 * to our rules, or nothing when it already holds them. listing is the
 * output of `nft -a list table <family> <name>` (with rule handles), NULL
 * when the table does not exist: then the script is the table text of
 * rules_nft_table_text() (which also merges into a table created
 * meanwhile). Otherwise, per chain (postrtg when masq, forward when
 * forward): the chain is ours when it exists, its "type ..." line (hook,
 * priority, policy) is ours and our rules (see rules_ipt_plan_shared) are
 * exactly the desired ones in order. Else one transaction re-declares the
 * table and chains (creating what is missing, restoring the policy),
 * deletes our rules by handle and inserts the desired ones at the top of
 * the chain: foreign rules are never touched, and the transaction fails as
 * a whole (to be retried) if one of our rules changed since the listing.
 * Our rules in a chain we do not want are deleted, and the chain with them
 * when nothing else is in it. Never reads past len.
 */
int rules_nft_plan(enum rules_family family, const struct rules_net *n,
		   const struct rules_owned *owned, bool masq, bool forward, bool random_fully,
		   const char *listing, size_t len, struct buf *out);

/*
 * Whether `nft list tables` output names this family's table (exact line
 * "table <family> <name>").
 */
bool rules_nft_tables_has(const char *listing, size_t len, enum rules_family family);

/* ---- blackhole route (--ip-blackhole-route) ---- */

/*
 * The destinations of the blackhole routes to keep for the local lease
 * (`ip route replace blackhole <subnet>`): one per enabled family. Returns
 * the number of entries written to ret.
 */
int rules_blackhole_routes(const struct rules_net *v4, const struct rules_net *v6,
			   struct ip_net ret[static 2]);
