/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The alloc backend (upstream backend/alloc): subnet allocation only. The
 * lease is acquired and subnet.env written, nothing else: no device, no
 * route, no peer is ever touched (every family is disabled for the
 * planner, so a pass dumps and writes nothing). Another component routes
 * the pod subnets. MTU is the external interface's; the lease carries no
 * backend type or data (upstream publishes backend-type "").
 */
#include <errno.h>

#include "lib/json/json.h"
#include "registry.h"

#define ALLOC_MAX_JSON (64 * 1024)

static int alloc_init(struct backend *b, const char *json, size_t len, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	int r = json_parse(json, len, ALLOC_MAX_JSON, 16, &root);

	if (r < 0 || !cJSON_IsObject(root)) {
		errmsg_set(err, "Backend: expected an object");
		return r < 0 ? r : -EINVAL;
	}
	b->impl = b; /* no state: marks initialisation */
	return 0;
}

static void alloc_done(struct backend *b)
{
	b->impl = NULL;
}

static int alloc_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
			  struct errmsg *err)
{
	*ret_attrs = (struct lease_attrs){0};
	*ret_mtu = b->ext.mtu;
	return 0;
}

static int alloc_set_lease(struct backend *b, struct errmsg *err)
{
	return 0;
}

static int alloc_prepare(struct backend *b, struct plan_params *ret)
{
	*ret = (struct plan_params){.proto = NL_PROTO_FLANNEL};
	return 0;
}

static bool alloc_owns_event(const struct backend *b, const struct nl_event *ev)
{
	return false;
}

const struct backend_ops alloc_backend_ops = {
	.type = "alloc",
	.init = alloc_init,
	.done = alloc_done,
	.register_ = alloc_register,
	.set_lease = alloc_set_lease,
	.prepare = alloc_prepare,
	.owns_event = alloc_owns_event,
};
