/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netpol-bench: the NetworkPolicy engine at scale with simulated objects,
 * for bench/netpol.sh. Builds a cluster of --pods pods (100 per namespace,
 * spread over --pods/100 nodes, so the local node "node-0" has 100 of
 * them in 100 namespaces), --policies policies (two kinds, alternating),
 * applies the table to the kernel of the namespace it runs in, then makes
 * --changes changes, each followed by a reconcile, and reports as JSON:
 *
 *   cache bytes per pod (the model's own count, and malloc's in-use delta,
 *   which includes allocator overhead), per policy; the first reconcile;
 *   change -> kernel latency p50/p99 for pod relabels, namespace relabels
 *   and policy updates (each: parse + compile + plan + nft -f).
 *
 * --no-apply measures compile + plan only (no nft run).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/json/json.h"
#include "named-netns.h"
#include "netpol/engine.h"
#include "netpol/plan.h"

#define PODS_PER_NS 100

static unsigned n_pods = 50000, n_policies = 1000, n_changes = 300;
static unsigned n_ns, n_nodes;

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static void feed(struct np_engine *e, enum np_kind kind, const char *json)
{
	_cleanup_json_ cJSON *j = NULL;
	struct errmsg err = {};

	if (json_parse(json, strlen(json), 1 << 20, JSON_MAX_DEPTH_DEFAULT, &j) < 0 ||
	    np_engine_update(e, kind, j, false, &err) < 0) {
		fprintf(stderr, "bad object %s: %s\n", json, err.text);
		exit(1);
	}
}

static void pod(struct np_engine *e, unsigned i, unsigned app)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"namespace\":\"ns-%u\",\"name\":\"pod-%u\",\"labels\":{"
		 "\"app\":\"app-%u\",\"role\":\"%s\",\"pod-template-hash\":\"h%u\"}},"
		 "\"spec\":{\"nodeName\":\"node-%u\",\"containers\":[{\"name\":\"c\",\"ports\":["
		 "{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
		 "{\"name\":\"metrics\",\"containerPort\":9090,\"protocol\":\"TCP\"}]}]},"
		 "\"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"10.%u.%u.%u\"}]}}",
		 i / PODS_PER_NS, i, app, i % 2 ? "client" : "server", app, i % n_nodes,
		 64 + i / 65536, (i / 256) % 256, i % 256);
	feed(e, NP_KIND_POD, json);
}

static void ns(struct np_engine *e, unsigned n, unsigned team)
{
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"ns-%u\",\"labels\":{\"kubernetes.io/metadata.name\":"
		 "\"ns-%u\",\"team\":\"team-%u\"}}}",
		 n, n, team);
	feed(e, NP_KIND_NAMESPACE, json);
}

static void policy(struct np_engine *e, unsigned k, unsigned port)
{
	char json[2048];
	unsigned n = k % n_ns;

	if (k % 2 == 0)
		snprintf(
			json, sizeof(json),
			"{\"metadata\":{\"namespace\":\"ns-%u\",\"name\":\"pol-%u\"},\"spec\":{"
			"\"podSelector\":{\"matchLabels\":{\"app\":\"app-%u\"}},\"ingress\":[{"
			"\"from\":[{\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}}},"
			"{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"team-%u\"}},"
			"\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\","
			"\"values\":[\"app-%u\",\"app-%u\"]}]}}],"
			"\"ports\":[{\"port\":\"http\"},{\"protocol\":\"TCP\",\"port\":%u}]}],"
			"\"policyTypes\":[\"Ingress\"]}}",
			n, k, k % 10, k % 20, (k + 1) % 10, (k + 2) % 10, port);
	else
		snprintf(
			json, sizeof(json),
			"{\"metadata\":{\"namespace\":\"ns-%u\",\"name\":\"pol-%u\"},\"spec\":{"
			"\"podSelector\":{\"matchExpressions\":[{\"key\":\"role\",\"operator\":"
			"\"Exists\"}]},\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":"
			"{\"kubernetes.io/metadata.name\":\"ns-%u\"}}},{\"ipBlock\":{\"cidr\":"
			"\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\"]}}],\"ports\":[{\"protocol\":"
			"\"UDP\",\"port\":53},{\"protocol\":\"TCP\",\"port\":%u,\"endPort\":%u}]}],"
			"\"policyTypes\":[\"Ingress\",\"Egress\"]}}",
			n, k, (n + 1) % n_ns, port, port + 10);
	feed(e, NP_KIND_POLICY, json);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double pct(uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / USEC_PER_MSEC;
}

static uint64_t reconcile(struct np_engine *e, bool apply)
{
	struct errmsg err = {};
	uint64_t start = now_monotonic_usec();

	if (apply) {
		if (np_engine_reconcile(e, &err) < 0) {
			fprintf(stderr, "reconcile: %s\n", err.text);
			exit(1);
		}
	} else {
		/* what the engine does without the nft run: compile, plan against the last */
		static struct np_state last;
		struct np_state s = {};
		struct buf out = BUF_INIT;
		if (np_compile(np_engine_model(e), "node-0", &s, NULL, NULL) < 0 ||
		    np_plan(&last, &s, &out, NULL) < 0)
			exit(1);
		np_state_done(&last);
		last = s;
		buf_free(&out);
	}
	return now_monotonic_usec() - start;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pods", required_argument, NULL, 'p'},
		{"policies", required_argument, NULL, 'P'},
		{"changes", required_argument, NULL, 'c'},
		{"no-apply", no_argument, NULL, 'n'},
		{},
	};
	struct np_engine_config cfg = {.node = "node-0"};
	_cleanup_(np_engine_freep) struct np_engine *e = NULL;
	bool apply = true;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
		switch (c) {
		case 'p':
			n_pods = (unsigned)atoi(optarg);
			break;
		case 'P':
			n_policies = (unsigned)atoi(optarg);
			break;
		case 'c':
			n_changes = (unsigned)atoi(optarg);
			break;
		case 'n':
			apply = false;
			break;
		default:
			return 2;
		}
	if (n_pods < PODS_PER_NS || n_policies < 2)
		return 2;
	/* a test tool: never program the host's own network namespace */
	if (apply && !in_named_netns()) {
		fprintf(stderr,
			"netpol-bench: refusing to touch nftables outside a network namespace "
			"made by ip netns (run it with ip netns exec)\n");
		return 2;
	}
	n_ns = n_pods / PODS_PER_NS;
	n_nodes = n_pods / PODS_PER_NS;
	srand(1);

	if (np_engine_new(&cfg, &e) < 0)
		return 1;
	size_t heap0 = heap_in_use(), model0 = np_model_bytes(np_engine_model(e));
	for (unsigned i = 0; i < n_ns; i++)
		ns(e, i, i % 20);
	for (unsigned i = 0; i < n_pods; i++)
		pod(e, i, i % 10);
	size_t heap1 = heap_in_use(), model1 = np_model_bytes(np_engine_model(e));
	for (unsigned k = 0; k < n_policies; k++)
		policy(e, k, 443);
	size_t heap2 = heap_in_use(), model2 = np_model_bytes(np_engine_model(e));

	uint64_t first = reconcile(e, apply);
	struct buf st = BUF_INIT;
	np_engine_status(e, &st);
	fprintf(stderr, "%.*s\n", (int)strcspn(st.data, "\n"), st.data);
	buf_free(&st);

	uint64_t *lat[3];
	size_t n[3] = {};
	for (int k = 0; k < 3; k++)
		lat[k] = calloc(n_changes, sizeof(uint64_t));
	for (unsigned i = 0; i < n_changes; i++) {
		int kind = (int)(i % 3);
		uint64_t start = now_monotonic_usec();
		if (kind == 0) /* relabel a random pod */
			pod(e, (unsigned)rand() % n_pods, (unsigned)rand() % 10);
		else if (kind == 1) /* a namespace moves to another team */
			ns(e, (unsigned)rand() % n_ns, (unsigned)rand() % 20);
		else /* a policy's port changes */
			policy(e, (unsigned)rand() % n_policies, 1000 + i);
		uint64_t parse = now_monotonic_usec() - start;
		/* as flanneld: a reconcile only when the change can matter to this node */
		lat[kind][n[kind]++] =
			parse + (np_engine_dirty(e) || !apply ? reconcile(e, apply) : 0);
	}
	printf("{\"pods\": %u, \"policies\": %u, \"namespaces\": %u, \"nodes\": %u, "
	       "\"applied\": %s,\n"
	       " \"cache_bytes_per_pod\": %.1f, \"heap_bytes_per_pod\": %.1f,\n"
	       " \"cache_bytes_per_policy\": %.1f, \"heap_bytes_per_policy\": %.1f,\n"
	       " \"first_reconcile_ms\": %.1f,\n"
	       " \"pod_relabel_ms\": [%.2f, %.2f], \"namespace_relabel_ms\": [%.2f, %.2f], "
	       "\"policy_update_ms\": [%.2f, %.2f]}\n",
	       n_pods, n_policies, n_ns, n_nodes, apply ? "true" : "false",
	       (double)(model1 - model0) / n_pods, (double)(heap1 - heap0) / n_pods,
	       (double)(model2 - model1) / n_policies, (double)(heap2 - heap1) / n_policies,
	       (double)first / USEC_PER_MSEC, pct(lat[0], n[0], 0.5), pct(lat[0], n[0], 0.99),
	       pct(lat[1], n[1], 0.5), pct(lat[1], n[1], 0.99), pct(lat[2], n[2], 0.5),
	       pct(lat[2], n[2], 0.99));
	for (int k = 0; k < 3; k++)
		free(lat[k]);
	return 0;
}
