/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/reflector.c's kube_event_parse with the Node kind: one
 * watch line. An accepted event has a known type; object events carry a key
 * (ADDED/MODIFIED also the parsed node, named by it), bookmarks a
 * resourceVersion. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "kube/node.h"
#include "kube/reflector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kube_annotation_keys keys;
	static bool init;
	struct kube_event ev = {};
	struct errmsg err = {};

	if (!init) {
		if (kube_annotation_keys_init(&keys, "example.com/fuzz", NULL) < 0)
			abort();
		init = true;
	}
	if (kube_event_parse((const char *)data, size, &kube_node_kind, &keys, &ev, &err) < 0)
		return 0;
	if (!kube_event_type_name(ev.type))
		abort();
	if (ev.type <= KUBE_EVENT_DELETED && !ev.key[0])
		abort();
	if ((ev.obj != NULL) != (ev.type <= KUBE_EVENT_MODIFIED))
		abort();
	if (ev.obj && strcmp(((const struct kube_node *)ev.obj)->name, ev.key) != 0)
		abort();
	if (ev.type == KUBE_EVENT_BOOKMARK && !ev.resource_version[0])
		abort();
	kube_event_done(&ev, &kube_node_kind);
	return 0;
}
