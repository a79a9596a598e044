/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bearer token, as client-go's cached file token source: a token file
 * (projected service-account token, kubeconfig tokenFile) is re-read when the
 * cached copy is older than KUBE_TOKEN_REFRESH_USEC and immediately after a
 * 401 (kube_token_invalidate). A failed re-read keeps the previous token.
 * The token is never logged; the buffer is wiped when replaced.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KUBE_TOKEN_REFRESH_USEC (60 * 1000000ULL)
#define KUBE_TOKEN_MAX_SIZE	(64 * 1024)

struct kube_token {
	char *path;  /* NULL: static token */
	char *value; /* NULL: no token */
	uint64_t read_usec;
	bool stale;
};

/* Takes copies of static_value / path (either may be NULL). */
int kube_token_init(struct kube_token *t, const char *static_value, const char *path);
/* The token to send now (borrowed until the next call), or NULL. now: monotonic usec. */
const char *kube_token_get(struct kube_token *t, uint64_t now_usec);
/* Force a re-read on the next get (after a 401, or SIGHUP). */
void kube_token_invalidate(struct kube_token *t);
void kube_token_done(struct kube_token *t);
