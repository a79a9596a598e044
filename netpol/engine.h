/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy engine as the daemon sees it: Pod, Namespace and
 * NetworkPolicy objects in (borrowed cJSON, from a list or a watch event),
 * a reconcile that compiles the model and applies the difference to the
 * kernel, and what status and metrics show.
 *
 * Feeding objects only updates the model and reports whether anything
 * changed; the caller schedules one coalesced np_engine_reconcile() on the
 * event loop. A policy the engine cannot understand is logged once (naming
 * the policy and the field), counted and shown in the status, and its pods
 * are isolated with nothing allowed by it (fail closed).
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "netpol/compile.h"
#include "netpol/model.h"

struct np_engine_config {
	const char *node;    /* this node's name (copied) */
	const char *nft;     /* NULL: "nft" from $PATH */
	unsigned timeout_ms; /* per nft run; 0: 10 s */
};

struct np_engine;

int np_engine_new(const struct np_engine_config *cfg, struct np_engine **ret);
struct np_engine *np_engine_free(struct np_engine *e); /* NULL ok, returns NULL */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct np_engine *, np_engine_free);

enum np_kind {
	NP_KIND_POD,
	NP_KIND_NAMESPACE,
	NP_KIND_POLICY,
};

/*
 * An object was added or modified (deleted false), or deleted. Returns 1
 * when the model changed, 0 when not, -EINVAL (err set, nothing changed)
 * for an object that cannot be used. Same as np_engine_parse() followed by
 * np_engine_upsert() or np_engine_remove().
 */
int np_engine_update(struct np_engine *e, enum np_kind kind, const cJSON *obj, bool deleted,
		     struct errmsg *err);

/*
 * The same in two steps, for a list/watch reflector that parses an object
 * in one callback and hands it over in another: a parsed object holds
 * references into the engine's cache and must be upserted or freed before
 * the engine is.
 */
struct np_object;
int np_engine_parse(struct np_engine *e, enum np_kind kind, const cJSON *obj,
		    struct np_object **ret, struct errmsg *err);
void np_object_free(struct np_object *o);
/* Takes o. Returns 1 when the model changed, 0 when not. */
int np_engine_upsert(struct np_engine *e, struct np_object *o);
/* key: "namespace/name", or the name of a Namespace. */
int np_engine_remove(struct np_engine *e, enum np_kind kind, const char *key);

/* Whether the model changed since the last successful reconcile. */
bool np_engine_dirty(const struct np_engine *e);

/*
 * Compile and apply. Returns the number of nft commands run (0: the kernel
 * already matched) or -errno (err set); a failure leaves the kernel as it
 * was and the engine dirty, so the next call retries.
 */
int np_engine_reconcile(struct np_engine *e, struct errmsg *err);

/* The next reconcile reads the table back from the kernel first (periodic drift repair). */
void np_engine_forget_kernel(struct np_engine *e);

/* Remove the table (feature turned off). */
int np_engine_remove_table(struct np_engine *e, struct errmsg *err);

const struct np_model *np_engine_model(const struct np_engine *e);

/*
 * Status text: per local pod the policies selecting it per direction, then
 * the policies not understood, as of the last reconcile.
 */
int np_engine_status(const struct np_engine *e, struct buf *out);
/* Prometheus metrics, flannel_netpol_*. */
int np_engine_metrics(const struct np_engine *e, struct buf *out);
