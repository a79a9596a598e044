/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for netpol/parse.c and netpol/selector.c through the engine:
 * the input is parsed as a Pod, a Namespace and a NetworkPolicy (whatever
 * it is), each accepted object is added to a model holding two local pods,
 * and the model is compiled and planned from nothing and against itself.
 * Checks that an unchanged state plans to nothing and that a policy not
 * understood carries its error and no rules. Aborts on violation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/json/json.h"
#include "netpol/engine.h"
#include "netpol/parse.h"
#include "netpol/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const base =
	"[{\"metadata\":{\"namespace\":\"x\",\"name\":\"a\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"ports\":[{\"name\":\"http\","
	"\"containerPort\":80}]}]},\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"fd01::1\"}]}},"
	"{\"metadata\":{\"namespace\":\"y\",\"name\":\"b\",\"labels\":{\"app\":\"db\"}},"
	"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.0.0.2\"}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_engine_config cfg = {.node = "n1"};
	_cleanup_(np_engine_freep) struct np_engine *e = NULL;
	_cleanup_json_ cJSON *obj = NULL, *pods = NULL;
	const cJSON *pod;
	struct errmsg err = {};

	static FILE *devnull;
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		log_set_stream(devnull); /* policies not understood are logged */
	}
	if (np_engine_new(&cfg, &e) < 0)
		abort();
	if (json_parse(base, strlen(base), 1 << 16, 16, &pods) < 0)
		abort();
	cJSON_ArrayForEach (pod, pods) {
		if (np_engine_update(e, NP_KIND_POD, pod, false, &err) != 1)
			abort();
	}
	if (json_parse((const char *)data, size, 1 << 20, JSON_MAX_DEPTH_DEFAULT, &obj) < 0)
		return 0;
	for (int k = NP_KIND_POD; k <= NP_KIND_POLICY; k++)
		(void)np_engine_update(e, (enum np_kind)k, obj, false, &err);

	char ns[254];
	struct np_policy *p = NULL;
	if (np_policy_parse(obj, ns, &p, &err) == 0) {
		if (p->error && (p->n_rules[NP_INGRESS] || p->n_rules[NP_EGRESS] || !p->error[0]))
			abort();
		np_policy_free(p);
	}

	struct np_state s = {}, none = {};
	struct buf out = BUF_INIT, report = BUF_INIT;
	if (np_compile(np_engine_model(e), "n1", &s, &report, NULL) < 0)
		abort();
	if (np_plan(&none, &s, &out, NULL) <= 0)
		abort();
	buf_reset(&out);
	if (np_plan(&s, &s, &out, NULL) != 0 || out.len)
		abort();
	np_state_done(&s);
	buf_free(&out);
	buf_free(&report);
	return 0;
}
