/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The traffic manager ties the pure renderers/planners of rules.c to the
 * iptables/nft programs. Each convergence step is read -> compare -> write
 * only what differs, in one transaction per family: this replaces
 * upstream's create-or-flush at start-up (a masquerading gap on every
 * restart, flannel#2237) and its per-rule `iptables -C` resync loop (xtables
 * lock contention, flannel#933) with at most one read per table and one
 * write per family per period.
 *
 * Several flanneld (one per flannel network) share the chains and nft
 * tables of a host, so each manager judges and rewrites only its own
 * rules: those of its network and lease, and of the previous run's (from
 * subnet.env, so that a recycled subnet's rules go away). The iptables
 * chain is rewritten as ours + the foreign rules read in the same pass;
 * should two managers rewrite the same chain at the same moment, the one
 * that loses its rules puts them back at its next pass (the other then
 * finds its own still in place and writes nothing), so they never flap.
 * In nftables mode our rules are deleted by handle and re-inserted, and
 * foreign rules are never written at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/task.h"
#include "lib/rules/iptables.h"
#include "lib/rules/nftables.h"
#include "lib/rules/traffic.h"

struct traffic_mgr {
	struct traffic_config cfg;
	char *ipt_save[_RULES_FAMILY_MAX];
	char *ipt_restore[_RULES_FAMILY_MAX];
	char *nft;
	bool installed;	     /* traffic_mgr_ensure() ran: resync has something to keep */
	struct task *resync; /* traffic_mgr_resync_start()'s child */
	traffic_done_fn resync_done;
	void *resync_userdata;
	struct rules_net net[_RULES_FAMILY_MAX];
	struct rules_owned owned[_RULES_FAMILY_MAX]; /* what marks a shared rule as ours */
	struct traffic_stats stats;
	/* iptables reads by this process, and those that said "(nf_tables)" */
	unsigned ipt_reads, ipt_nft_reads;
};

const char *traffic_mode_to_string(enum traffic_mode mode)
{
	switch (mode) {
	case TRAFFIC_MODE_IPTABLES:
		return "iptables";
	case TRAFFIC_MODE_NFTABLES:
		return "nftables";
	default:
		return NULL;
	}
}

struct traffic_mgr *traffic_mgr_free(struct traffic_mgr *m)
{
	if (!m)
		return NULL;
	task_free(m->resync);
	for (int f = 0; f < _RULES_FAMILY_MAX; f++) {
		free(m->ipt_save[f]);
		free(m->ipt_restore[f]);
	}
	free(m->nft);
	free(m);
	return NULL;
}

int traffic_mgr_new(const struct traffic_config *cfg, struct traffic_mgr **ret)
{
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	const char *variant = cfg->iptables_variant;
	static const char *const prefix[_RULES_FAMILY_MAX] = {"iptables", "ip6tables"};

	if (!traffic_mode_to_string(cfg->mode))
		return -EINVAL;
	if (!variant || !*variant)
		variant = "";
	else if (strcmp(variant, "nft") == 0)
		variant = "-nft";
	else if (strcmp(variant, "legacy") == 0)
		variant = "-legacy";
	else
		return -EINVAL;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->cfg.iptables_variant = NULL;
	m->cfg.nft = NULL;
	for (int f = 0; f < _RULES_FAMILY_MAX; f++) {
		if (asprintf(&m->ipt_save[f], "%s%s-save", prefix[f], variant) < 0) {
			m->ipt_save[f] = NULL;
			return -ENOMEM;
		}
		if (asprintf(&m->ipt_restore[f], "%s%s-restore", prefix[f], variant) < 0) {
			m->ipt_restore[f] = NULL;
			return -ENOMEM;
		}
	}
	m->nft = strdup(cfg->nft && *cfg->nft ? cfg->nft : "nft");
	if (!m->nft)
		return -ENOMEM;
	*ret = TAKE_PTR(m);
	return 0;
}

const struct traffic_stats *traffic_mgr_stats(const struct traffic_mgr *m)
{
	return &m->stats;
}

int traffic_check_br_netfilter(enum traffic_mode mode, bool ipv4, bool ipv6, const char *dir,
			       struct errmsg *err)
{
	if (mode == TRAFFIC_MODE_NFTABLES)
		return 0;
	return iptables_check_br_netfilter(dir, ipv4, ipv6, err);
}

/* ---- iptables ---- */

struct ipt_table {
	const char *table, *base, *chain;
	const char *(*jump)(void);
};

static const struct ipt_table ipt_masq = {RULES_IPT_MASQ_TABLE, RULES_IPT_MASQ_BASE,
					  RULES_IPT_MASQ_CHAIN, rules_ipt_masq_jump};
static const struct ipt_table ipt_fwd = {RULES_IPT_FWD_TABLE, RULES_IPT_FWD_BASE,
					 RULES_IPT_FWD_CHAIN, rules_ipt_fwd_jump};

/* Read one table and append the transaction converging it to want (NULL: remove ours). */
static int ipt_plan_table(struct traffic_mgr *m, enum rules_family f, const struct ipt_table *t,
			  const char *want, bool jump_last, struct buf *tx)
{
	struct ipt_scan s;
	struct errmsg err = {""};
	int r;

	ipt_scan_init(&s, t->table, t->base, t->chain, t->jump());
	m->stats.execs++;
	r = iptables_read(m->ipt_save[f], &s, m->cfg.timeout_ms, &err);
	if (r >= 0) {
		m->ipt_reads++;
		m->ipt_nft_reads += s.nf_tables;
	}
	if (r >= 0)
		r = rules_ipt_plan_shared(&s, want, &m->owned[f], jump_last, tx);
	ipt_scan_done(&s);
	if (r == -EBADMSG)
		errmsg_set(&err, "%s -t %s: output too large or unreadable around chain %s",
			   m->ipt_save[f], t->table, t->chain);
	if (r < 0) {
		m->stats.failures++;
		return log_warn_errno(r, "Failed to read %s rules: %s", rules_family_name(f),
				      err.text);
	}
	return 0;
}

static int ipt_apply(struct traffic_mgr *m, enum rules_family f, const struct buf *tx)
{
	struct errmsg err = {""};
	int r;

	log_v(4, "%s input:\n%s", m->ipt_restore[f], tx->data);
	m->stats.execs++;
	r = iptables_restore(m->ipt_restore[f], tx->data, tx->len, m->cfg.timeout_ms, &err);
	if (r < 0) {
		m->stats.failures++;
		return log_error_errno(r, "Failed to apply %s iptables rules: %s",
				       rules_family_name(f), err.text);
	}
	m->stats.applies++;
	return 0;
}

/* Converge one family; returns 1 when something was rewritten. */
static int ipt_converge(struct traffic_mgr *m, enum rules_family f, bool jump_last)
{
	_cleanup_buf_ struct buf tx = BUF_INIT, want = BUF_INIT;
	const struct rules_net *n = &m->net[f];
	int r;

	if (m->cfg.ip_masq) {
		r = rules_ipt_masq(f, n, m->cfg.random_fully, &want);
		if (r >= 0)
			r = ipt_plan_table(m, f, &ipt_masq, want.data, jump_last, &tx);
		if (r < 0)
			return r;
	}
	if (m->cfg.forward_rules) {
		buf_reset(&want);
		r = rules_ipt_fwd(n, &want);
		if (r >= 0)
			r = ipt_plan_table(m, f, &ipt_fwd, want.data, jump_last, &tx);
		if (r < 0)
			return r;
	}
	if (tx.len == 0)
		return 0;
	r = ipt_apply(m, f, &tx);
	return r < 0 ? r : 1;
}

/* In nftables mode: drop our iptables chains of one family. */
static int ipt_remove(struct traffic_mgr *m, enum rules_family f)
{
	_cleanup_buf_ struct buf tx = BUF_INIT;
	const struct ipt_table *tables[] = {&ipt_masq, &ipt_fwd};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		struct ipt_scan s;
		struct errmsg err = {""};

		ipt_scan_init(&s, tables[i]->table, tables[i]->base, tables[i]->chain,
			      tables[i]->jump());
		m->stats.execs++;
		r = iptables_read(m->ipt_save[f], &s, m->cfg.timeout_ms, &err);
		if (r >= 0)
			r = rules_ipt_plan(&s, NULL, false, &tx);
		ipt_scan_done(&s);
		if (r < 0) {
			/* no iptables at all is the normal case on nftables-only hosts */
			log_v(2, "Could not read %s iptables table %s, not cleaning it up: %s",
			      rules_family_name(f), tables[i]->table, err.text);
			return 0;
		}
	}
	if (tx.len == 0)
		return 0;
	log_info("Cleaning-up %s iptables rules left by iptables mode...", rules_family_name(f));
	r = ipt_apply(m, f, &tx);
	return r < 0 ? r : 1;
}

/* ---- nftables ---- */

/* Converge our rules in one family's table; returns 1 when they were rewritten. */
static int nft_converge(struct traffic_mgr *m, enum rules_family f)
{
	_cleanup_buf_ struct buf have = BUF_INIT, script = BUF_INIT;
	const char *args[] = {"-a", "list", "table", rules_nft_family(f), rules_nft_table(f), NULL};
	struct errmsg err = {""};
	int r;

	m->stats.execs++;
	r = nftables_list(m->nft, args, &have, m->cfg.timeout_ms, &err);
	if (r < 0 && r != -ENODATA) {
		m->stats.failures++;
		return log_warn_errno(r, "Failed to read nftables table %s %s: %s",
				      rules_nft_family(f), rules_nft_table(f), err.text);
	}
	r = rules_nft_plan(f, &m->net[f], &m->owned[f], m->cfg.ip_masq, m->cfg.forward_rules,
			   m->cfg.random_fully, r == -ENODATA ? NULL : (have.data ? have.data : ""),
			   have.len, &script);
	if (r < 0)
		return r;
	if (script.len == 0)
		return 0;

	log_v(4, "nft input:\n%s", script.data);
	m->stats.execs++;
	r = nftables_run(m->nft, script.data, script.len, m->cfg.timeout_ms, &err);
	if (r < 0) {
		m->stats.failures++;
		return log_error_errno(r, "Failed to set up nftables table %s %s: %s",
				       rules_nft_family(f), rules_nft_table(f), err.text);
	}
	m->stats.applies++;
	return 1;
}

/* In iptables mode: delete the nft tables of nftables mode. */
static int nft_remove(struct traffic_mgr *m)
{
	_cleanup_buf_ struct buf have = BUF_INIT, script = BUF_INIT;
	const char *args[] = {"list", "tables", NULL};
	struct errmsg err = {""};
	int r, n = 0;

	m->stats.execs++;
	r = nftables_list(m->nft, args, &have, m->cfg.timeout_ms, &err);
	if (r < 0) {
		log_v(2, "Could not list nftables tables, not cleaning them up: %s", err.text);
		return 0;
	}
	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		if (!rules_nft_tables_has(have.data, have.len, f))
			continue;
		log_info("Deleting nftables table %s %s left by nftables mode", rules_nft_family(f),
			 rules_nft_table(f));
		r = rules_nft_delete_script(f, &script);
		if (r < 0)
			return r;
		n++;
	}
	if (n == 0)
		return 0;
	m->stats.execs++;
	r = nftables_run(m->nft, script.data, script.len, m->cfg.timeout_ms, &err);
	if (r < 0) {
		m->stats.failures++;
		return log_error_errno(r, "Failed to delete nftables tables: %s", err.text);
	}
	m->stats.applies++;
	return n;
}

/* ---- the manager ---- */

int traffic_mgr_cleanup_other(struct traffic_mgr *m)
{
	int r, total = 0;

	if (m->cfg.mode == TRAFFIC_MODE_IPTABLES)
		return nft_remove(m);

	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		r = ipt_remove(m, f);
		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

static int converge(struct traffic_mgr *m, enum rules_family f, bool jump_last)
{
	if (m->cfg.mode == TRAFFIC_MODE_NFTABLES)
		return nft_converge(m, f);
	if (!m->cfg.ip_masq && !m->cfg.forward_rules)
		return 0;
	return ipt_converge(m, f, jump_last);
}

static void log_recycle(enum rules_family f, const struct rules_net *n,
			const struct subnet_env *prev)
{
	char cn[IP_NET_STRLEN], cs[IP_NET_STRLEN], pn[IP_NET_STRLEN] = "", ps[IP_NET_STRLEN] = "";
	bool v6 = f == RULES_IPV6;
	bool has_net = v6 ? prev->has_ipv6_network : prev->has_network;
	bool has_sub = v6 ? prev->has_ipv6_subnet : prev->has_subnet;
	struct ip_net pnet = v6 ? prev->ipv6_network : prev->network;
	struct ip_net psub = v6 ? prev->ipv6_subnet : prev->subnet;

	if (!has_net && !has_sub)
		return;
	ip_net_mask(&pnet);
	ip_net_mask(&psub);
	if (has_net && has_sub && ip_net_equal(&pnet, &n->network) &&
	    ip_net_equal(&psub, &n->subnet))
		return;
	if (has_net)
		ip_net_fmt(&pnet, pn);
	if (has_sub)
		ip_net_fmt(&psub, ps);
	/* upstream's words; the rewrite of our chain drops the old rules atomically */
	log_info("Current network or subnet (%s, %s) is not equal to previous one (%s, %s), trying "
		 "to recycle old iptables rules",
		 ip_net_fmt(&n->network, cn), ip_net_fmt(&n->subnet, cs), pn, ps);
}

/* The previous run's network and subnet of family f are ours too (recycled). */
static void own_previous(struct rules_owned *o, enum rules_family f, const struct subnet_env *prev)
{
	int af = f == RULES_IPV6 ? AF_INET6 : AF_INET;
	struct ip_net nets[2];
	size_t k = 0;

	if (f == RULES_IPV6) {
		if (prev->has_ipv6_network)
			nets[k++] = prev->ipv6_network;
		if (prev->has_ipv6_subnet)
			nets[k++] = prev->ipv6_subnet;
	} else {
		if (prev->has_network)
			nets[k++] = prev->network;
		if (prev->has_subnet)
			nets[k++] = prev->subnet;
	}
	for (size_t i = 0; i < k; i++)
		/* a /0 or another family names no rule of ours: nothing to own */
		if (nets[i].addr.family == af)
			(void)rules_owned_add(o, &nets[i]);
}

int traffic_mgr_ensure(struct traffic_mgr *m, const struct rules_net *v4,
		       const struct rules_net *v6, const struct subnet_env *prev)
{
	const struct rules_net *in[_RULES_FAMILY_MAX] = {v4, v6};
	int r, ret = 0;

	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		const struct rules_net *n = in[f];
		int af = f == RULES_IPV6 ? AF_INET6 : AF_INET;

		if (n && n->enabled &&
		    (n->network.addr.family != af || n->subnet.addr.family != af ||
		     n->network.prefixlen == 0 || !ip_net_is_masked(&n->network) ||
		     !ip_net_is_masked(&n->subnet) ||
		     !ip_net_contains_net(&n->network, &n->subnet)))
			return log_error_errno(-EINVAL,
					       "Invalid %s network/subnet for traffic rules",
					       rules_family_name(f));
		m->net[f] = n && n->enabled ? *n : (struct rules_net){0};
		m->owned[f] = (struct rules_owned){0};
		/* cannot fail: two networks, of which the subnets are ours too */
		(void)rules_owned_add_net(&m->owned[f], &m->net[f]);
		if (prev && m->net[f].enabled)
			own_previous(&m->owned[f], f, prev);
	}
	m->installed = true;

	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		if (!m->net[f].enabled)
			continue;
		if (m->cfg.mode == TRAFFIC_MODE_IPTABLES && m->cfg.ip_masq) {
			if (prev)
				log_recycle(f, &m->net[f], prev);
			log_info("Setting up masking rules%s", f == RULES_IPV6 ? " for IPv6" : "");
		}
		if (m->cfg.mode == TRAFFIC_MODE_NFTABLES)
			log_info("nftables: setting up table %s %s", rules_nft_family(f),
				 rules_nft_table(f));
		r = converge(m, f, true);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

int traffic_mgr_resync(struct traffic_mgr *m)
{
	int r, ret = 0, repaired = 0;

	if (!m->installed)
		return 0;
	m->stats.checks++;
	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		if (!m->net[f].enabled)
			continue;
		r = converge(m, f, false);
		if (r < 0) {
			if (ret == 0)
				ret = r;
			continue;
		}
		if (r > 0) {
			repaired++;
			if (m->cfg.mode == TRAFFIC_MODE_IPTABLES)
				log_info("Some iptables rules are missing; deleting and recreating "
					 "rules (%s)",
					 rules_family_name(f));
			else
				log_info("nftables rules in table %s %s were missing or changed; "
					 "restored them",
					 rules_nft_family(f), rules_nft_table(f));
		}
	}
	m->stats.repairs += (uint64_t)repaired;
	return ret < 0 ? ret : repaired;
}

/* What the child's pass changed: its counters' growth. */
struct resync_result {
	struct traffic_stats delta;
};

static int resync_child(void *arg, void *out)
{
	struct traffic_mgr *m = arg;
	struct resync_result *res = out;
	struct traffic_stats before = m->stats;
	int r = traffic_mgr_resync(m);

	res->delta = (struct traffic_stats){
		.execs = m->stats.execs - before.execs,
		.applies = m->stats.applies - before.applies,
		.checks = m->stats.checks - before.checks,
		.repairs = m->stats.repairs - before.repairs,
		.failures = m->stats.failures - before.failures,
	};
	return r;
}

static void resync_finished(int r, const void *out, void *userdata)
{
	struct traffic_mgr *m = userdata;
	const struct resync_result *res = out;

	m->resync = NULL;
	m->stats.execs += res->delta.execs;
	m->stats.applies += res->delta.applies;
	m->stats.checks += res->delta.checks;
	m->stats.repairs += res->delta.repairs;
	m->stats.failures += res->delta.failures;
	if (r == -EIO)
		log_warn("The traffic rules check ended without a result");
	m->resync_done(r, m->resync_userdata);
}

int traffic_mgr_resync_start(struct traffic_mgr *m, struct loop *loop, traffic_done_fn done,
			     void *userdata)
{
	if (m->resync)
		return -EBUSY;
	m->resync_done = done;
	m->resync_userdata = userdata;
	return task_start(loop, "traffic rules check", resync_child, m,
			  sizeof(struct resync_result), resync_finished, m, &m->resync);
}

bool traffic_mgr_kernel_notifies(const struct traffic_mgr *m)
{
	if (m->cfg.mode == TRAFFIC_MODE_NFTABLES)
		return true;
	return m->ipt_reads > 0 && m->ipt_nft_reads == m->ipt_reads;
}

bool traffic_mgr_table_relevant(uint8_t family, const char *table, void *userdata)
{
	const struct traffic_mgr *m = userdata;

	/* NFPROTO_IPV4/IPV6 (the tables' families "ip"/"ip6") equal AF_INET/AF_INET6 */
	for (enum rules_family f = 0; f < _RULES_FAMILY_MAX; f++) {
		if (!m->net[f].enabled || family != (f == RULES_IPV6 ? AF_INET6 : AF_INET))
			continue;
		if (m->cfg.mode == TRAFFIC_MODE_NFTABLES) {
			if (strcmp(table, rules_nft_table(f)) == 0)
				return true;
			continue;
		}
		if ((m->cfg.ip_masq && strcmp(table, RULES_IPT_MASQ_TABLE) == 0) ||
		    (m->cfg.forward_rules && strcmp(table, RULES_IPT_FWD_TABLE) == 0))
			return true;
	}
	return false;
}
