/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube-agent-probe: runs the kube subnet manager alone on a loop against an
 * API server and prints one parseable line per event on stdout, for the
 * system tests of the Kubernetes client:
 *
 *   SYNCED peers=<n>
 *   PEERS <generation> <n> [<name>=<subnet>,<public-ip>,<vni>,<vtep-mac>|-] ...
 *   OWN <name> <subnet>|- <subnet6>|-
 *   OWN-WAIT <errno-name> <message>
 *   PUBLISHED <r>
 *   STATS lists=.. relists=.. watches=.. watch_restarts=.. events=.. bookmarks=.. skipped=.. patches=..
 *
 * SIGHUP relists, SIGUSR1 prints STATS, SIGTERM/SIGINT exit.
 * Options: --kubeconfig F, --api-url U, --node NAME, --network CIDR, --ipv6-network CIDR,
 * --prefix P, --page-limit N, --watch-timeout S, --publish-ip IP, --publish-ip6 IP,
 * --vtep-mac MAC, --vni N, --backend TYPE, --no-condition, -v N.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kube/config.h"
#include "kube/subnet_mgr.h"
#include "lib/core/log.h"
#include "lib/core/loop.h"

struct probe {
	struct kube_mgr *mgr;
	struct lease_attrs attrs;
	struct ip_addr pub4, pub6;
	bool publish, published_once;
};

static void print_peers(struct kube_mgr *m)
{
	const struct lease_set *set = kube_mgr_peers(m);
	const struct lease **v = NULL;
	size_t n = 0;

	if (lease_set_snapshot(set, &v, &n) < 0)
		return;
	printf("PEERS %llu %zu", (unsigned long long)lease_set_generation(set), n);
	for (size_t i = 0; i < n; i++) {
		char sb[IP_NET_STRLEN], ib[IP_ADDR_STRLEN], mb[18];
		const struct lease *l = v[i];
		printf(" %s=%s,%s,%u,%s", l->name, l->has_subnet ? ip_net_fmt(&l->subnet, sb) : "-",
		       l->has_subnet ? ip_addr_fmt(&l->public_ip, ib) : "-", l->attrs.vni,
		       l->attrs.has_vtep_mac ? mac_fmt(l->attrs.vtep_mac, mb) : "-");
	}
	printf("\n");
	fflush(stdout);
	free(v);
}

static void print_stats(struct kube_mgr *m)
{
	struct kube_mgr_stats s;

	kube_mgr_get_stats(m, &s);
	printf("STATS lists=%llu relists=%llu watches=%llu watch_restarts=%llu events=%llu "
	       "bookmarks=%llu skipped=%llu patches=%llu patch_failures=%llu\n",
	       (unsigned long long)s.watch.lists, (unsigned long long)s.watch.relists,
	       (unsigned long long)s.watch.watches, (unsigned long long)s.watch.watch_restarts,
	       (unsigned long long)s.watch.events, (unsigned long long)s.watch.bookmarks,
	       (unsigned long long)(s.watch.skipped_objects + s.skipped_nodes),
	       (unsigned long long)s.patches, (unsigned long long)s.patch_failures);
	fflush(stdout);
}

static void on_own(struct kube_mgr *m, void *userdata)
{
	struct probe *p = userdata;
	struct errmsg err = {};
	struct lease l;
	int r;

	r = kube_mgr_own_lease(m, &l, &err);
	if (r < 0) {
		printf("OWN-WAIT %s %s\n", strerrorname_np(-r) ?: "?", err.text);
	} else {
		char a[IP_NET_STRLEN], b[IP_NET_STRLEN];
		printf("OWN %s %s %s\n", l.name, l.has_subnet ? ip_net_fmt(&l.subnet, a) : "-",
		       l.has_subnet6 ? ip_net_fmt(&l.subnet6, b) : "-");
	}
	fflush(stdout);
	if (r >= 0 && p->publish && !p->published_once) {
		p->published_once = true;
		if (kube_mgr_publish(m, &p->attrs, &p->pub4, &p->pub6) < 0)
			printf("PUBLISHED -22\n");
	}
}

static void on_peers(struct kube_mgr *m, void *userdata)
{
	print_peers(m);
}

static void on_synced(struct kube_mgr *m, void *userdata)
{
	printf("SYNCED peers=%zu\n", lease_set_size(kube_mgr_peers(m)));
	fflush(stdout);
}

static void on_published(struct kube_mgr *m, int r, void *userdata)
{
	printf("PUBLISHED %d\n", r);
	fflush(stdout);
}

static int on_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct probe *p = userdata;

	if (si->ssi_signo == SIGHUP)
		return kube_mgr_relist(p->mgr);
	if (si->ssi_signo == SIGUSR1) {
		print_stats(p->mgr);
		return 0;
	}
	loop_exit(loop_source_loop(s), 0);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kubeconfig", required_argument, NULL, 'k'},
		{"api-url", required_argument, NULL, 'u'},
		{"node", required_argument, NULL, 'n'},
		{"network", required_argument, NULL, 'N'},
		{"ipv6-network", required_argument, NULL, '6'},
		{"prefix", required_argument, NULL, 'P'},
		{"page-limit", required_argument, NULL, 'l'},
		{"watch-timeout", required_argument, NULL, 't'},
		{"publish-ip", required_argument, NULL, 'i'},
		{"publish-ip6", required_argument, NULL, 'I'},
		{"vtep-mac", required_argument, NULL, 'm'},
		{"vni", required_argument, NULL, 'V'},
		{"backend", required_argument, NULL, 'b'},
		{"no-condition", no_argument, NULL, 'C'},
		{},
	};
	const char *kubeconfig = NULL, *api_url = NULL, *prefix = NULL;
	struct kube_mgr_config cfg = {.set_node_network_unavailable = true};
	struct kube_config conn = {};
	struct probe p = {};
	struct errmsg err = {};
	struct loop *loop = NULL;
	struct loop_source *sigs[5] = {};
	int c, r;

	cfg.lease.enable_ipv4 = true;
	snprintf(p.attrs.backend_type, sizeof(p.attrs.backend_type), "vxlan");
	p.attrs.vni = 1;
	while ((c = getopt_long(argc, argv, "v:", opts, NULL)) >= 0) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'u':
			api_url = optarg;
			break;
		case 'n':
			cfg.node_name = optarg;
			break;
		case 'N':
			if (ip_net_parse(optarg, &cfg.lease.network) < 0)
				return fprintf(stderr, "bad --network\n"), 2;
			cfg.lease.has_network = true;
			break;
		case '6':
			if (ip_net_parse(optarg, &cfg.lease.ipv6_network) < 0)
				return fprintf(stderr, "bad --ipv6-network\n"), 2;
			cfg.lease.has_ipv6_network = cfg.lease.enable_ipv6 = true;
			break;
		case 'P':
			prefix = optarg;
			break;
		case 'l':
			cfg.watch.page_limit = (unsigned)atoi(optarg);
			break;
		case 't':
			cfg.watch.min_timeout_seconds = cfg.watch.max_timeout_seconds =
				(unsigned)atoi(optarg);
			break;
		case 'i':
			if (ip_addr_parse(optarg, &p.pub4) < 0)
				return fprintf(stderr, "bad --publish-ip\n"), 2;
			p.publish = true;
			break;
		case 'I':
			if (ip_addr_parse(optarg, &p.pub6) < 0)
				return fprintf(stderr, "bad --publish-ip6\n"), 2;
			p.publish = true;
			break;
		case 'm':
			if (mac_parse(optarg, p.attrs.vtep_mac) < 0)
				return fprintf(stderr, "bad --vtep-mac\n"), 2;
			p.attrs.has_vtep_mac = true;
			memcpy(p.attrs.vtep_mac6, p.attrs.vtep_mac, 6);
			p.attrs.has_vtep_mac6 = true;
			break;
		case 'V':
			p.attrs.vni = (uint32_t)atoi(optarg);
			break;
		case 'b':
			snprintf(p.attrs.backend_type, sizeof(p.attrs.backend_type), "%s", optarg);
			break;
		case 'C':
			cfg.set_node_network_unavailable = false;
			break;
		case 'v':
			log_set_verbosity(atoi(optarg));
			break;
		default:
			return 2;
		}
	}
	cfg.annotation_prefix = prefix;

	r = kube_config_load(kubeconfig, api_url, &conn, &err);
	if (r < 0) {
		fprintf(stderr, "kube-agent-probe: %s\n", err.text);
		return 1;
	}
	cfg.conn = &conn;
	r = loop_new(&loop);
	if (r < 0)
		return 1;
	static const struct kube_mgr_callbacks cbs = {
		.own_node_changed = on_own,
		.peers_changed = on_peers,
		.synced = on_synced,
		.published = on_published,
	};
	r = kube_mgr_new(loop, &cfg, &cbs, &p, &p.mgr);
	if (r >= 0)
		r = kube_mgr_start(p.mgr);
	const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; r >= 0 && i < 4; i++)
		r = loop_add_signal(loop, signals[i], on_signal, &p, &sigs[i]);
	if (r >= 0)
		r = loop_run(loop);
	if (p.mgr)
		print_stats(p.mgr);
	for (size_t i = 0; i < 4; i++)
		loop_source_free(sigs[i]);
	kube_mgr_free(p.mgr);
	loop_free(loop);
	kube_config_done(&conn);
	return r < 0 ? 1 : 0;
}
