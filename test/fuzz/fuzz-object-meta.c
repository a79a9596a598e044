/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/reflector.c's metadata extraction through
 * kube_event_parse with a kind whose parser accepts anything: the first byte
 * chooses a namespaced or a cluster-scoped kind, the rest is one watch line
 * (seeds: recorded Namespace, NetworkPolicy and Pod watch lines). An accepted
 * object event has a key of the right shape ("ns/name" or "name", bounded),
 * and ADDED/MODIFIED hand over the parser's object. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/reflector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_any(const cJSON *obj, const struct kube_object_meta *meta, void *kind_userdata,
		     void **ret, struct errmsg *err)
{
	char *key = strdup(meta->key);

	if (!key)
		return -ENOMEM;
	if (!meta->name[0] || strlen(meta->resource_version) >= KUBE_RV_MAX)
		abort();
	*ret = key;
	return 0;
}

static const struct kube_kind kinds[2] = {
	{.name = "namespaces", .path = "/api/v1/namespaces", .parse = parse_any, .free = free},
	{.name = "pods",
	 .path = "/api/v1/pods",
	 .namespaced = true,
	 .parse = parse_any,
	 .free = free},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kube_kind *kind;
	struct kube_event ev = {};
	struct errmsg err = {};
	const char *slash;

	if (size < 1)
		return 0;
	kind = &kinds[data[0] & 1];
	if (kube_event_parse((const char *)data + 1, size - 1, kind, NULL, &ev, &err) < 0) {
		if (!err.text[0])
			abort(); /* every refusal says why */
		return 0;
	}
	if (ev.type <= KUBE_EVENT_DELETED) {
		slash = strchr(ev.key, '/');
		if (!ev.key[0] || strlen(ev.key) >= KUBE_KEY_MAX ||
		    (slash != NULL) != kind->namespaced)
			abort();
		if (slash && (slash == ev.key || !slash[1]))
			abort();
		if ((ev.obj != NULL) != (ev.type != KUBE_EVENT_DELETED) ||
		    (ev.obj && strcmp(ev.obj, ev.key) != 0))
			abort();
	}
	kube_event_done(&ev, kind);
	return 0;
}
