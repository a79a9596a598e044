/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd subnet manager: flannel without Kubernetes. Everything flanneld
 * needs from etcd, on the daemon's loop, with upstream's behaviour:
 *
 *   - the network config at <prefix>/config, parsed and fully validated
 *     (CheckNetworkConfig); missing or invalid it is fetched again every
 *     second ("Couldn't fetch network config: ..." and a "timed out" line
 *     on stdout per failed round, as upstream's main.go);
 *   - the own lease at <prefix>/subnets/<a.b.c.d>-<len>[&<ipv6>-<len>],
 *     acquired by etcd_mgr_publish(): reuse the key holding our public IP,
 *     else the subnet of the old subnet.env, else a random free subnet,
 *     created with a create-if-absent transaction, up to 10 tries; attached
 *     to an etcd lease of 24 h, renewed (re-put with a fresh lease) at
 *     expiry - margin, retried every minute on error;
 *   - the peers: a snapshot of <prefix>/subnets/ and a watch from the next
 *     revision; a compacted watch re-lists and diffs; a lost stream is
 *     resumed from the last revision seen. Peers are never dropped because
 *     etcd is unreachable, so the datapath stays as it is meanwhile;
 *   - the own key deleted (expired, or by an operator) is reported with
 *     callbacks->revoked after logging "Lease has been revoked. Shutting
 *     down daemon." — the daemon exits like upstream.
 *
 * Peer leases are named after their key ("10.5.52.0-24"). Callbacks run
 * from the loop at the end of a batch, so the daemon can coalesce: it reads
 * etcd_mgr_peers() / etcd_mgr_own_lease() then.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "etcd/client.h"
#include "lib/core/errmsg.h"
#include "lib/core/loop.h"
#include "lib/json/lease.h"
#include "lib/json/netconf.h"

#define ETCD_LEASE_TTL_SEC	  (24 * 3600)
#define ETCD_ACQUIRE_RACE_RETRIES 10
#define ETCD_RENEW_RETRY_SEC	  60
#define ETCD_CONFIG_RETRY_USEC	  (1 * 1000000ULL)

struct etcd_mgr;

struct etcd_mgr_config {
	struct etcd_client_config conn; /* strings copied by the client */
	const char *prefix;		/* NULL: /coreos.com/network */
	/* The previous subnet.env, read once at start to reuse its subnet; NULL: none. */
	const char *subnet_file;
	uint64_t renew_margin_sec; /* --subnet-lease-renew-margin * 60; 0: 3600 */
	/* Tests only (not a flanneld flag): TTL of the etcd lease; 0: 24 h. */
	uint64_t lease_ttl_sec;
	/* Tests only: retry delay after a failed renewal; 0: 60 s. */
	uint64_t renew_retry_sec;
};

struct etcd_mgr_callbacks {
	/* The network config was fetched and validated: etcd_mgr_netconf() is set. */
	void (*config_ready)(struct etcd_mgr *m, void *userdata);
	/* The own lease was acquired (etcd_mgr_own_lease() succeeds from now on). */
	void (*own_lease_changed)(struct etcd_mgr *m, void *userdata);
	/* etcd_mgr_peers() changed (its generation moved). */
	void (*peers_changed)(struct etcd_mgr *m, void *userdata);
	/* The first snapshot of the peers is in. */
	void (*synced)(struct etcd_mgr *m, void *userdata);
	/* etcd_mgr_publish() finished: 0, or a fatal -errno with etcd_mgr_error():
	 * -ENOSPC "out of subnets", -EBUSY "max retries reached trying to acquire a subnet". */
	void (*published)(struct etcd_mgr *m, int r, void *userdata);
	/* The own lease was deleted from etcd; the daemon should shut down. */
	void (*revoked)(struct etcd_mgr *m, void *userdata);
};

struct etcd_mgr_stats {
	uint64_t config_fetches, lists, relists, compactions;
	uint64_t watches, watch_restarts, events, skipped_keys;
	uint64_t acquire_attempts, renewals, renew_failures;
};

int etcd_mgr_new(struct loop *loop, const struct etcd_mgr_config *config,
		 const struct etcd_mgr_callbacks *callbacks, void *userdata, struct etcd_mgr **ret);
struct etcd_mgr *etcd_mgr_free(struct etcd_mgr *m);
/* Read the previous subnet.env and start fetching the network config. */
int etcd_mgr_start(struct etcd_mgr *m);

/* NULL until callbacks->config_ready. Borrowed, valid until etcd_mgr_free(). */
const struct netconf *etcd_mgr_netconf(const struct etcd_mgr *m);

/*
 * Acquire the own lease with these attributes (the backend's VtepMAC etc.)
 * and public IPs (public_ip6: NULL or family 0 when IPv6 is off), then keep
 * it renewed and watch the peers. Only after config_ready; only once
 * (-EALREADY). callbacks->own_lease_changed and ->published report the
 * outcome.
 */
int etcd_mgr_publish(struct etcd_mgr *m, const struct lease_attrs *attrs,
		     const struct ip_addr *public_ip, const struct ip_addr *public_ip6);

/*
 * The own lease: name (the key), subnet(s), public IPs, attrs; its strings
 * borrowed from the manager until the own lease changes. -ENOENT until acquired.
 */
int etcd_mgr_own_lease(const struct etcd_mgr *m, struct lease *ret, struct errmsg *err);
/* When the own etcd lease expires (CLOCK_REALTIME, usec); 0 when unknown or a reservation. */
uint64_t etcd_mgr_lease_expiry_usec(const struct etcd_mgr *m);
const struct lease_set *etcd_mgr_peers(const struct etcd_mgr *m);
bool etcd_mgr_synced(const struct etcd_mgr *m);
/* Own lease acquired and peers synced. */
bool etcd_mgr_ready(const struct etcd_mgr *m);
/* The message of the last fatal error ("" when none). */
const char *etcd_mgr_error(const struct etcd_mgr *m);

/* SIGHUP: list the peers again (and diff), then watch from there. */
int etcd_mgr_relist(struct etcd_mgr *m);
void etcd_mgr_get_stats(const struct etcd_mgr *m, struct etcd_mgr_stats *ret);
