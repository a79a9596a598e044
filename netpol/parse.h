/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pods, Namespaces and networking.k8s.io/v1 NetworkPolicies, from borrowed
 * cJSON objects (one list item or one watch event's object) into the
 * model's lean form. Untrusted input: every field is type-checked and
 * bounded, and errors name the field as the API server would
 * (`spec.ingress[0].ports[1].endPort: ...`).
 */
#pragma once

#include <cjson/cJSON.h>

#include "lib/core/errmsg.h"
#include "netpol/model.h"

/* -EINVAL (err set) when the object cannot be used; in carries references on success. */
int np_pod_parse(struct np_model *m, const cJSON *obj, struct np_pod_in *in, struct errmsg *err);

/* Name and labels of a Namespace; *labels carries a reference. */
int np_ns_parse(struct np_model *m, const cJSON *obj, char name[static 254],
		const struct np_labels **labels, struct errmsg *err);

/*
 * A NetworkPolicy. Returns -EINVAL (err set) only when metadata.namespace
 * or metadata.name is unusable; any other problem still returns a policy,
 * with ->error naming the field: it keeps what it could read of
 * spec.podSelector and spec.policyTypes (fail closed: every pod of the
 * namespace, both directions, when those are bad) and has no rules.
 * *ns gets the namespace.
 */
int np_policy_parse(const cJSON *obj, char ns[static 254], struct np_policy **ret,
		    struct errmsg *err);

/* The name and namespace of any object (for DELETED events). */
int np_object_key(const cJSON *obj, char ns[static 254], char name[static 254], struct errmsg *err);
