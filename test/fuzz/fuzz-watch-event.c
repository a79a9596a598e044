/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/watch.c's kube_event_parse: one watch line. An
 * accepted event has a known type; node events carry a node name, bookmarks
 * a resourceVersion. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kube/watch.h"

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
	if (kube_event_parse((const char *)data, size, &keys, &ev, &err) < 0)
		return 0;
	if (!kube_event_type_name(ev.type))
		abort();
	if (ev.type <= KUBE_EVENT_DELETED && !ev.node.name[0])
		abort();
	if (ev.type == KUBE_EVENT_BOOKMARK && !ev.resource_version[0])
		abort();
	kube_event_done(&ev);
	return 0;
}
