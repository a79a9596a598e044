/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status view: "why can't my pods reach each other?" answered from one
 * page. The daemon fills a struct status_report from its live state; this
 * module renders it as a table for a person or as JSON for scripts, and
 * implements `flanneld status`, which fetches it from the running agent's
 * health endpoint.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/json/lease.h"

/* Kernel entries a peer needs, as bits (per family). */
enum {
	STATUS_ROUTE = 1 << 0,
	STATUS_NEIGH = 1 << 1,
	STATUS_FDB = 1 << 2,
	STATUS_PEER = 1 << 3, /* a WireGuard peer */
};

struct status_peer {
	const struct lease *lease;
	uint8_t expected4, present4; /* STATUS_* bits for the IPv4 lease */
	uint8_t expected6, present6;
	/* Not programmed: backend_skip_name() of the reason, else NULL. */
	const char *skipped;
	bool refused; /* the kernel refuses some of its entries */
	/* Why, for a person: "other VNI 2, ours 1", "set route to ...: <error>". */
	char problem[160];
};

/* A node that is not a peer because its object is invalid. */
struct status_invalid {
	const char *name;
	const char *error;
};

struct status_error {
	uint64_t when_usec; /* CLOCK_REALTIME */
	char text[240];
};

struct status_report {
	const char *node;
	const char *backend_type;
	const char *device;  /* "flannel.1", or the external interface for host-gw */
	const char *device6; /* may be NULL */
	const char *ext_iface;
	const struct lease *own; /* NULL until the lease is known */
	bool ready;
	const char *waiting_for; /* when not ready: what for */
	uint64_t started_usec, last_reconcile_usec, last_sync_usec;
	uint64_t reconciles, drift_found, drift_repaired;
	const struct status_peer *peers;
	size_t n_peers;
	const struct status_invalid *invalid; /* sorted by name */
	size_t n_invalid;
	const struct status_error *errors; /* oldest first */
	size_t n_errors;
	/* --network-policy: the engine's view, one line per local pod (NULL: off) */
	const char *network_policy;
};

int status_render_text(const struct status_report *r, struct buf *out);
int status_render_json(const struct status_report *r, struct buf *out);

/* `flanneld status [--json] [--healthz-ip IP] [--healthz-port PORT]`: exit code. */
int status_client_main(int argc, char **argv);
