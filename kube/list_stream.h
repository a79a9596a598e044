/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming splitter for Kubernetes LIST bodies
 *   {"kind":"NodeList","apiVersion":"v1","metadata":{...},"items":[{...},{...}]}
 * Fed with arbitrary chunks, it hands every element of "items" to a callback
 * as soon as its closing brace arrives, and keeps only "metadata" (for the
 * resourceVersion and continue token). A 500-node page is never held whole:
 * memory is one item (capped) plus the metadata.
 *
 * It is a string-aware bracket scanner, not a validator: each item and the
 * metadata are later parsed (and validated) by cJSON.
 * Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"

#define KUBE_LIST_META_MAX (64 * 1024)

/* One item; item == NULL: an item larger than the cap was skipped (len = its size). */
typedef int (*kube_list_item_fn)(const char *item, size_t len, void *userdata);

struct kube_list_stream {
	size_t max_item;
	unsigned depth;
	bool in_string, escape, done;
	int state;   /* where we are in the top-level object */
	int section; /* what the current top-level value is */
	char key[16];
	size_t key_len; /* may exceed sizeof(key): then the key matches nothing */
	bool in_item, discarding, in_meta;
	size_t discarded;
	struct buf item;
	struct buf meta;
};

struct kube_list_meta {
	char resource_version[64];
	char *continue_token; /* owned; NULL when absent or empty (last page) */
	bool has_remaining;
	int64_t remaining_item_count;
};

void kube_list_stream_init(struct kube_list_stream *s, size_t max_item);
/* -EBADMSG on a body that is not a JSON object with an "items" array; a
 * negative return of cb is passed through. */
int kube_list_stream_feed(struct kube_list_stream *s, const void *data, size_t n,
			  kube_list_item_fn cb, void *userdata);
/* After the last chunk: the body must be complete; parses the metadata. */
int kube_list_stream_finish(struct kube_list_stream *s, struct kube_list_meta *ret,
			    struct errmsg *err);
void kube_list_stream_done(struct kube_list_stream *s);
void kube_list_meta_done(struct kube_list_meta *m);
