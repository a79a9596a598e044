/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd v3 through its JSON gateway (grpc-gateway, etcd 3.4+ at /v3/...):
 * request bodies and response parsing. Pure: no I/O, no clock.
 *
 * Wire facts (checked against etcd 3.4.23): keys and values are standard
 * base64 with padding; int64 fields (revision, lease ID, TTL) are JSON
 * strings, and fields at their zero value are omitted ("succeeded" is
 * absent when false, a PUT event has no "type"). Watch responses arrive as
 * one JSON object per line: {"result":{"header":{...},"events":[...]}}; a
 * watch from a compacted revision answers "canceled":true with
 * "compact_revision" and leaves the stream open. Errors are
 * {"error":"...","message":"...","code":<grpc code>} (HTTP 4xx/5xx), inside
 * a stream {"error":{"grpc_code":..,"message":..}}.
 *
 * Every response is untrusted: sizes are capped by the caller, parsers
 * return -EBADMSG for malformed JSON/base64 and -EINVAL for wrong types,
 * with the field named in err.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"

/* gRPC status codes that the gateway reports in "code". */
enum etcd_grpc_code {
	ETCD_GRPC_OK = 0,
	ETCD_GRPC_CANCELLED = 1,
	ETCD_GRPC_UNKNOWN = 2,
	ETCD_GRPC_INVALID_ARGUMENT = 3,
	ETCD_GRPC_DEADLINE_EXCEEDED = 4,
	ETCD_GRPC_NOT_FOUND = 5,
	ETCD_GRPC_ALREADY_EXISTS = 6,
	ETCD_GRPC_PERMISSION_DENIED = 7,
	ETCD_GRPC_RESOURCE_EXHAUSTED = 8,
	ETCD_GRPC_FAILED_PRECONDITION = 9,
	ETCD_GRPC_ABORTED = 10,
	ETCD_GRPC_OUT_OF_RANGE = 11,
	ETCD_GRPC_UNIMPLEMENTED = 12,
	ETCD_GRPC_INTERNAL = 13,
	ETCD_GRPC_UNAVAILABLE = 14,
	ETCD_GRPC_DATA_LOSS = 15,
	ETCD_GRPC_UNAUTHENTICATED = 16,
};

/* Request bodies (appended to out). Keys and values are byte strings. */
int etcd_body_range(const char *key, bool prefix, struct buf *out);
int etcd_body_put(const char *key, const char *value, int64_t lease, struct buf *out);
/* Txn: put key only if it does not exist (version == 0). */
int etcd_body_create(const char *key, const char *value, int64_t lease, struct buf *out);
int etcd_body_delete(const char *key, struct buf *out);
int etcd_body_grant(int64_t ttl, struct buf *out);
int etcd_body_revoke(int64_t id, struct buf *out);
int etcd_body_watch(const char *prefix, int64_t start_revision, struct buf *out);
/* Holds the password: the caller wipes and frees it. */
int etcd_body_auth(const char *user, const char *password, struct buf *out);

/* gRPC code -> errno, the one place where it happens:
 *   UNAUTHENTICATED -EACCES (re-authenticate)  PERMISSION_DENIED -EPERM
 *   INVALID_ARGUMENT -EINVAL  NOT_FOUND -ENOENT  OUT_OF_RANGE -ESTALE (compacted)
 *   UNAVAILABLE/DEADLINE_EXCEEDED/ABORTED/RESOURCE_EXHAUSTED -EAGAIN
 *   FAILED_PRECONDITION -EPROTO (also auth not enabled)  other -EIO */
int etcd_grpc_errno(int code);
/* Error body -> message (empty when none) and code (-1 when none). */
void etcd_parse_error(const char *body, size_t len, char *msg, size_t size, int *ret_code);

struct etcd_kv {
	char *key;
	size_t key_len;
	char *value; /* NUL-terminated; NULL for a DELETE event */
	size_t value_len;
	int64_t lease; /* 0: no lease */
	int64_t create_revision, mod_revision, version;
};

void etcd_kv_done(struct etcd_kv *kv);

struct etcd_range {
	int64_t revision;
	struct etcd_kv *kvs;
	size_t n;
};

int etcd_parse_range(const char *body, size_t len, struct etcd_range *ret, struct errmsg *err);
void etcd_range_done(struct etcd_range *r);

int etcd_parse_txn(const char *body, size_t len, bool *ret_succeeded, int64_t *ret_revision,
		   struct errmsg *err);
int etcd_parse_grant(const char *body, size_t len, int64_t *ret_id, int64_t *ret_ttl,
		     struct errmsg *err);
/* The header revision of any response (put, delete, ...). */
int etcd_parse_revision(const char *body, size_t len, int64_t *ret, struct errmsg *err);
/* {"token":"..."}; caller frees the token (and wipes it). */
int etcd_parse_auth(const char *body, size_t len, char **ret_token, struct errmsg *err);

enum etcd_event_type {
	ETCD_EVENT_PUT,
	ETCD_EVENT_DELETE,
};

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv;
};

struct etcd_watch_response {
	int64_t revision; /* header revision */
	bool created, canceled;
	int64_t compact_revision; /* >0: the start revision was compacted */
	char cancel_reason[128];
	struct etcd_event *events;
	size_t n;
};

/*
 * One line of the watch stream. A stream-level error object gives
 * -EPROTO (or the errno of its grpc_code) with the message in err.
 */
int etcd_parse_watch(const char *line, size_t len, struct etcd_watch_response *ret,
		     struct errmsg *err);
void etcd_watch_response_done(struct etcd_watch_response *w);

#define ETCD_RESPONSE_MAX_DEPTH 16
