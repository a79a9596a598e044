/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy agent of flanneld (--network-policy): three reflectors
 * (Pods, Namespaces, NetworkPolicies, cluster-wide) on the subnet manager's
 * API client feed the engine (netpol/engine.h); every batch of changes
 * schedules one coalesced reconcile on the loop. Nothing is written before
 * all three lists are synced, so a restarted agent never replaces a
 * complete table with one built from half a cluster. A failed apply is
 * retried every second; every minute the table is read back from the
 * kernel and repaired if something else changed it.
 */
#pragma once

#include "kube/http.h"
#include "lib/core/buf.h"
#include "lib/core/loop.h"

struct netpol_agent;

/* node: this node's name; nft: NULL for "nft" from $PATH. Does not start it. */
int netpol_agent_new(struct loop *loop, struct kube_http *http, const char *node, const char *nft,
		     struct netpol_agent **ret);
struct netpol_agent *netpol_agent_free(struct netpol_agent *a); /* NULL ok; leaves the table */
int netpol_agent_start(struct netpol_agent *a);

bool netpol_agent_synced(const struct netpol_agent *a);
int netpol_agent_status(const struct netpol_agent *a, struct buf *out);
int netpol_agent_metrics(const struct netpol_agent *a, struct buf *out);

/*
 * Without --network-policy: remove a table left by an earlier run with it,
 * so turning the option off turns enforcement off. Logs what it does.
 */
int netpol_remove_table(const char *nft);
