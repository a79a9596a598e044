/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reflector: client-go's ListAndWatch for one kind of object, reduced to
 * what flanneld needs, on the daemon's loop (no threads).
 *
 *   LIST <path>?limit=N[&continue=...] page by page, then
 *   WATCH <path>?watch=1&resourceVersion=RV&allowWatchBookmarks=true
 *   &timeoutSeconds=<jittered>, re-watching from the last RV seen when the
 *   stream ends (backoff on errors). 410 Gone (HTTP, or an in-stream ERROR
 *   event) and an expired continue token start a new LIST; at the end of
 *   every LIST the keys not seen in it are reported removed, so objects
 *   deleted while we were not watching disappear. kube_reflector_relist()
 *   (SIGHUP) does the same on demand.
 *
 * LIST bodies are split item by item (kube/list_stream.h) and watch events
 * line by line: each object is parsed alone, handed to the kind's parse
 * callback as a borrowed cJSON tree, and the tree is freed. The reflector
 * keeps only the set of keys; the typed objects belong to the caller.
 *
 * A kind is a small constant table:
 *
 *	static int pod_parse(const cJSON *obj, const struct kube_object_meta *meta,
 *			     void *kind_userdata, void **ret, struct errmsg *err);
 *	static void pod_free(void *obj);
 *
 *	static const struct kube_kind pod_kind = {
 *		.name = "pods",
 *		.path = "/api/v1/pods",
 *		.namespaced = true,
 *		.parse = pod_parse,
 *		.free = pod_free,
 *	};
 *
 * parse() gets one object ("obj": the whole object, metadata included,
 * borrowed: valid only during the call) and the metadata the reflector has
 * already extracted and checked (meta: borrowed too). It returns 0 and sets
 * *ret to a newly allocated typed object the caller will own, or a -errno
 * (-EINVAL for a bad field) with err set to "<field>: <problem>", e.g.
 * "spec.ports[1].endPort: below port". A bad object is skipped with one
 * warning naming the kind and the key and counted in stats.skipped_objects;
 * it is never fatal. -ENOMEM aborts the current request (retried).
 * *ret must not be NULL on success. kind->free releases a typed object the
 * reflector could not hand over (never called for objects given to upsert).
 *
 * Keys: "namespace/name" for namespaced kinds, "name" otherwise
 * (metadata.namespace must be present and non-empty for namespaced kinds,
 * absent or empty otherwise). Names are bounded by KUBE_KEY_MAX.
 *
 * Callbacks (all from the loop):
 *   upsert(key, obj): an object was listed, added or modified. obj is the
 *     typed object from parse(); ownership passes to the callee. key is
 *     borrowed for the call.
 *   remove(key): an object was deleted (watch DELETED, or missing from a
 *     relist). Only keys previously upserted are removed.
 *   synced(): the first complete LIST has been delivered (once).
 *   batch_end(): end of a batch of upserts/removes (a LIST page, the sweep
 *     after a LIST, a chunk of watch data): the place to coalesce work.
 * Callbacks must not free the reflector.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube/http.h"
#include "lib/core/errmsg.h"

#define KUBE_RV_MAX	      64
#define KUBE_NAMESPACE_MAX    64  /* DNS-1123 label: 63 + NUL */
#define KUBE_NAME_MAX	      254 /* DNS-1123 subdomain: 253 + NUL */
#define KUBE_KEY_MAX	      (KUBE_NAMESPACE_MAX + KUBE_NAME_MAX) /* "ns/name" + NUL */
#define KUBE_OBJECT_MAX_SIZE  (1024 * 1024)			   /* one object, one watch line */
#define KUBE_OBJECT_MAX_DEPTH 64

/* What the reflector extracted from metadata; all borrowed. */
struct kube_object_meta {
	const char *namespace;	      /* NULL for cluster-scoped kinds */
	const char *name;	      /* non-empty */
	const char *key;	      /* "namespace/name" or "name" */
	const char *resource_version; /* "" when absent */
};

typedef int (*kube_parse_fn)(const cJSON *obj, const struct kube_object_meta *meta,
			     void *kind_userdata, void **ret, struct errmsg *err);

struct kube_kind {
	const char *name; /* the resource, as in RBAC, logs and metrics: "nodes", "pods",
			     "namespaces", "networkpolicies" */
	const char *path; /* collection path: "/api/v1/nodes",
			     "/apis/networking.k8s.io/v1/networkpolicies" */
	bool namespaced;
	kube_parse_fn parse;
	void (*free)(void *obj);
};

struct kube_reflector_ops {
	void (*upsert)(const char *key, void *obj, void *userdata); /* required; owns obj */
	void (*remove)(const char *key, void *userdata);	    /* required */
	void (*synced)(void *userdata);				    /* optional */
	void (*batch_end)(void *userdata);			    /* optional */
};

struct kube_reflector_options {
	unsigned page_limit;	      /* 0: 500 */
	unsigned min_timeout_seconds; /* 0: 300 */
	unsigned max_timeout_seconds; /* 0: 600 */
	size_t max_object_size;	      /* 0: KUBE_OBJECT_MAX_SIZE */
	const char *label_selector;   /* NULL: none; copied */
	const char *field_selector;   /* NULL: none ("spec.nodeName=n1"); copied */
};

struct kube_reflector_stats {
	uint64_t lists;	  /* completed LISTs */
	uint64_t relists; /* LISTs started after 410/SIGHUP/expired continue */
	uint64_t list_pages;
	uint64_t watches;	 /* WATCH requests started */
	uint64_t watch_restarts; /* watches ended by error or drop */
	uint64_t events;
	uint64_t bookmarks;
	uint64_t skipped_objects; /* malformed (parse or metadata failed) or oversized */
	uint64_t objects;	  /* keys currently known */
	uint64_t last_sync_realtime_usec;
};

struct kube_reflector;

/* kind and kind_userdata must outlive the reflector. Does not start it. */
int kube_reflector_new(struct kube_http *http, const struct kube_kind *kind, void *kind_userdata,
		       const struct kube_reflector_options *opts,
		       const struct kube_reflector_ops *ops, void *userdata,
		       struct kube_reflector **ret);
struct kube_reflector *kube_reflector_free(struct kube_reflector *r); /* no callbacks */
int kube_reflector_start(struct kube_reflector *r);
/* Drop the watch and LIST again, then diff (SIGHUP). */
int kube_reflector_relist(struct kube_reflector *r);
bool kube_reflector_synced(const struct kube_reflector *r);
const struct kube_kind *kube_reflector_kind(const struct kube_reflector *r);
const struct kube_reflector_stats *kube_reflector_stats(const struct kube_reflector *r);

/*
 * Pure helpers (also used by the fuzz targets and tests).
 */

/* metadata.name/namespace/resourceVersion of obj into meta, key into
 * key_buf (KUBE_KEY_MAX). -EINVAL with err naming the field. */
int kube_object_meta_get(const cJSON *obj, bool namespaced, struct kube_object_meta *meta,
			 char key_buf[static KUBE_KEY_MAX], struct errmsg *err);

enum kube_event_type {
	KUBE_EVENT_ADDED,
	KUBE_EVENT_MODIFIED,
	KUBE_EVENT_DELETED,
	KUBE_EVENT_BOOKMARK,
	KUBE_EVENT_ERROR,
	_KUBE_EVENT_MAX,
};

struct kube_event {
	enum kube_event_type type;
	char key[KUBE_KEY_MAX];		    /* ADDED, MODIFIED, DELETED */
	void *obj;			    /* ADDED, MODIFIED: the parsed object (owned) */
	char resource_version[KUBE_RV_MAX]; /* all but ERROR */
	long code;			    /* ERROR: Status.code */
	char message[256];		    /* ERROR: Status.message */
};

/* One watch line. DELETED objects are not parsed (only their metadata).
 * -EBADMSG (bad JSON), -EINVAL (bad fields), or parse()'s error, with err. */
int kube_event_parse(const char *line, size_t len, const struct kube_kind *kind,
		     void *kind_userdata, struct kube_event *ret, struct errmsg *err);
/* Frees ev->obj with kind->free. */
void kube_event_done(struct kube_event *ev, const struct kube_kind *kind);
const char *kube_event_type_name(enum kube_event_type t);
