/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Node reflector: LIST /api/v1/nodes page by page (limit, continue),
 * then WATCH from the list's resourceVersion with bookmarks and a jittered
 * timeoutSeconds, re-watching from the last RV seen when the stream ends or
 * drops (with backoff on errors). 410 Gone (HTTP or an in-stream ERROR event)
 * and an expired continue token start a new LIST; at the end of every LIST
 * the names not seen in it are reported deleted, so nodes deleted while we
 * were disconnected disappear. SIGHUP can force a relist.
 *
 * LIST bodies are split item by item (kube/list_stream.h) and watch events
 * line by line (lib/core/buf.h framer); each object is parsed alone and freed,
 * and only node names are kept here. Single-threaded, on the loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/annotations.h"
#include "kube/http.h"
#include "kube/node.h"
#include "lib/core/errmsg.h"

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
	struct kube_node node;		    /* ADDED, MODIFIED, DELETED */
	char resource_version[KUBE_RV_MAX]; /* BOOKMARK (and the node's for the others) */
	long code;			    /* ERROR: Status.code */
	char message[256];		    /* ERROR: Status.message */
};

/* One watch line. Pure. -EBADMSG (bad JSON), -EINVAL (bad fields) with err. */
int kube_event_parse(const char *line, size_t len, const struct kube_annotation_keys *keys,
		     struct kube_event *ret, struct errmsg *err);
void kube_event_done(struct kube_event *ev);
const char *kube_event_type_name(enum kube_event_type t);

struct kube_watch_ops {
	/* A node was listed, added or modified. The callee may move the node out. */
	void (*upsert)(struct kube_node *node, void *userdata);
	/* A node was deleted (watch event, or missing from a relist). */
	void (*remove)(const char *name, void *userdata);
	/* A LIST finished (the first one: the cache is synced). */
	void (*synced)(void *userdata);
	/* End of a batch of upserts/removes (a LIST page, a chunk of watch data). */
	void (*batch_end)(void *userdata);
};

struct kube_watch_options {
	unsigned page_limit;	      /* 0: 500 */
	unsigned min_timeout_seconds; /* 0: 300 */
	unsigned max_timeout_seconds; /* 0: 600 */
	size_t max_object_size;	      /* 0: KUBE_OBJECT_MAX_SIZE */
};

struct kube_watch_stats {
	uint64_t lists;	  /* completed LISTs */
	uint64_t relists; /* LISTs started after 410/SIGHUP/expired continue */
	uint64_t list_pages;
	uint64_t watches;	 /* WATCH requests started */
	uint64_t watch_restarts; /* watches ended by error or drop */
	uint64_t events;
	uint64_t bookmarks;
	uint64_t skipped_objects; /* malformed or oversized */
	uint64_t last_sync_realtime_usec;
};

struct kube_watch;

int kube_watch_new(struct kube_http *http, const struct kube_annotation_keys *keys,
		   const struct kube_watch_options *opts, const struct kube_watch_ops *ops,
		   void *userdata, struct kube_watch **ret);
struct kube_watch *kube_watch_free(struct kube_watch *w);
int kube_watch_start(struct kube_watch *w);
/* Drop the watch and LIST again (SIGHUP). */
int kube_watch_relist(struct kube_watch *w);
bool kube_watch_synced(const struct kube_watch *w);
const struct kube_watch_stats *kube_watch_stats(const struct kube_watch *w);
