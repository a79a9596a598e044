/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netpol-driver: runs the NetworkPolicy engine once without Kubernetes, for
 * the netns tests and benchmarks. It reads Pod, Namespace and NetworkPolicy
 * objects from JSON files (a single object with "kind", a List/PodList/
 * NamespaceList/NetworkPolicyList, or a watch event {"type","object"} whose
 * DELETED removes), compiles them for --node, applies the difference to the
 * kernel's table (reading the table back first, as a restarted flanneld
 * does) and prints one line:
 *
 *   applied commands=12 local_pods=3 isolated_ingress=2 isolated_egress=1 usec=812
 *
 * then the status view with --status, or the metrics with --metrics.
 * --remove deletes the table instead.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/json/json.h"
#include "named-netns.h"
#include "netpol/engine.h"

#define FILE_MAX (256 * 1024 * 1024)

static int kind_of(const char *kind, enum np_kind *ret)
{
	if (strcmp(kind, "Pod") == 0 || strcmp(kind, "PodList") == 0)
		*ret = NP_KIND_POD;
	else if (strcmp(kind, "Namespace") == 0 || strcmp(kind, "NamespaceList") == 0)
		*ret = NP_KIND_NAMESPACE;
	else if (strcmp(kind, "NetworkPolicy") == 0 || strcmp(kind, "NetworkPolicyList") == 0)
		*ret = NP_KIND_POLICY;
	else
		return -EINVAL;
	return 0;
}

static int feed(struct np_engine *e, const cJSON *obj, const char *list_kind, bool deleted,
		const char *file)
{
	const char *kind = list_kind;
	struct errmsg err = {};
	enum np_kind k;
	int r;

	if (json_get_str(obj, "kind", &kind) < 0 && !kind)
		return log_error_errno(EINVAL, "%s: object without kind", file);
	if (kind_of(kind, &k) < 0)
		return log_error_errno(EINVAL, "%s: unknown kind %s", file, kind);
	r = np_engine_update(e, k, obj, deleted, &err);
	if (r < 0)
		return log_error_errno(r, "%s: %s", file, err.text);
	return 0;
}

static int feed_file(struct np_engine *e, const char *file)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *items, *item, *event;
	const char *kind = NULL, *type;
	size_t len;
	int r;

	r = read_file_bounded(file, FILE_MAX, &data, &len);
	if (r < 0)
		return log_error_errno(r, "%s", file);
	r = json_parse(data, len, FILE_MAX, JSON_MAX_DEPTH_DEFAULT, &root);
	if (r < 0)
		return log_error_errno(r, "%s: not JSON", file);
	if (json_get_str(root, "type", &type) == 0 && (event = json_item(root, "object")))
		return feed(e, event, NULL, strcmp(type, "DELETED") == 0, file);
	items = json_item(root, "items");
	if (!cJSON_IsArray(items))
		return feed(e, root, NULL, false, file);
	(void)json_get_str(root, "kind", &kind);
	cJSON_ArrayForEach (item, items) {
		r = feed(e, item, kind, false, file);
		if (r < 0)
			return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"node", required_argument, NULL, 'n'},
		{"nft", required_argument, NULL, 'N'},
		{"status", no_argument, NULL, 's'},
		{"metrics", no_argument, NULL, 'm'},
		{"remove", no_argument, NULL, 'r'},
		{"verbose", required_argument, NULL, 'v'},
		{},
	};
	struct np_engine_config cfg = {};
	_cleanup_(np_engine_freep) struct np_engine *e = NULL;
	bool status = false, metrics = false, remove = false;
	struct errmsg err = {};
	int c, r;

	while ((c = getopt_long(argc, argv, "n:v:", opts, NULL)) >= 0)
		switch (c) {
		case 'n':
			cfg.node = optarg;
			break;
		case 'N':
			cfg.nft = optarg;
			break;
		case 's':
			status = true;
			break;
		case 'm':
			metrics = true;
			break;
		case 'r':
			remove = true;
			break;
		case 'v':
			log_set_verbosity(atoi(optarg));
			break;
		default:
			return 2;
		}
	if (!cfg.node && !remove) {
		fprintf(stderr, "usage: netpol-driver --node NAME [--status] [--metrics] FILE...\n"
				"       netpol-driver --remove\n");
		return 2;
	}
	/* a test tool: never program the host's own network namespace */
	if (!in_named_netns()) {
		fprintf(stderr,
			"netpol-driver: refusing to touch nftables outside a network namespace "
			"made by ip netns (run it with ip netns exec)\n");
		return 2;
	}
	r = np_engine_new(&cfg, &e);
	if (r < 0)
		return 1;
	if (remove) {
		r = np_engine_remove_table(e, &err);
		if (r < 0)
			log_error("removing the table: %s", err.text);
		return r < 0;
	}
	for (int i = optind; i < argc; i++)
		if (feed_file(e, argv[i]) < 0)
			return 1;

	uint64_t start = now_monotonic_usec();
	r = np_engine_reconcile(e, &err);
	if (r < 0) {
		log_error("applying the policies: %s", err.text);
		return 1;
	}
	_cleanup_buf_ struct buf out = BUF_INIT;
	np_engine_status(e, &out);
	printf("applied commands=%d usec=%llu\n", r,
	       (unsigned long long)(now_monotonic_usec() - start));
	if (status)
		fputs(out.data, stdout);
	if (metrics) {
		buf_reset(&out);
		np_engine_metrics(e, &out);
		fputs(out.data ? out.data : "", stdout);
	}
	return 0;
}
