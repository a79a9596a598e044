/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd-agent-probe: runs the etcd subnet manager alone on a loop against a
 * real etcd and prints one parseable line per event on stdout, for the
 * system tests of the etcd mode:
 *
 *   CONFIG <backend-type> <network> <subnet-len> <subnet-min> <subnet-max>
 *   OWN <name> <subnet> <subnet6>|- <seconds-to-expiry>
 *   PUBLISHED <r> <error>
 *   SYNCED peers=<n>
 *   PEERS <generation> <n> [<name>=<public-ip>,<backend>,<vni>,<vtep-mac>|-] ...
 *   REVOKED                       (then exits with status 3)
 *   STATS lists=.. relists=.. compactions=.. watches=.. watch_restarts=.. events=.. renewals=..
 *
 * Upstream's "timed out" lines (config not fetched yet) go to stdout too.
 * With --subnet-file the subnet.env is written once the lease is acquired
 * (as flanneld does), and read at start to reuse the previous subnet.
 * SIGHUP relists, SIGUSR1 prints STATS, SIGTERM/SIGINT exit 0.
 * Options: --endpoints E, --prefix P, --subnet-file F, --public-ip IP,
 * --public-ip6 IP, --vtep-mac MAC, --vni N, --backend TYPE, --cafile F,
 * --certfile F, --keyfile F, --username U, --password P,
 * --lease-ttl S, --renew-margin S, --renew-retry S (test-only overrides), -v N.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "etcd/subnet_mgr.h"
#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/core/subnet_env.h"

struct probe {
	struct etcd_mgr *mgr;
	struct loop *loop;
	struct lease_attrs attrs;
	struct ip_addr pub4, pub6;
	const char *subnet_file;
};

static void print_stats(struct etcd_mgr *m)
{
	struct etcd_mgr_stats s;

	etcd_mgr_get_stats(m, &s);
	printf("STATS lists=%llu relists=%llu compactions=%llu watches=%llu watch_restarts=%llu "
	       "events=%llu renewals=%llu renew_failures=%llu acquire_attempts=%llu "
	       "config_fetches=%llu skipped=%llu\n",
	       (unsigned long long)s.lists, (unsigned long long)s.relists,
	       (unsigned long long)s.compactions, (unsigned long long)s.watches,
	       (unsigned long long)s.watch_restarts, (unsigned long long)s.events,
	       (unsigned long long)s.renewals, (unsigned long long)s.renew_failures,
	       (unsigned long long)s.acquire_attempts, (unsigned long long)s.config_fetches,
	       (unsigned long long)s.skipped_keys);
	fflush(stdout);
}

static void on_config(struct etcd_mgr *m, void *userdata)
{
	struct probe *p = userdata;
	const struct netconf *c = etcd_mgr_netconf(m);
	char a[IP_NET_STRLEN], b[IP_ADDR_STRLEN], d[IP_ADDR_STRLEN];
	int r;

	printf("CONFIG %s %s %u %s %s\n", c->backend_type, ip_net_fmt(&c->network, a),
	       c->subnet_len, ip_addr_fmt(&c->subnet_min, b), ip_addr_fmt(&c->subnet_max, d));
	fflush(stdout);
	r = etcd_mgr_publish(m, &p->attrs, &p->pub4, &p->pub6);
	if (r < 0) {
		printf("PUBLISHED %d cannot-start\n", r);
		fflush(stdout);
		loop_exit(p->loop, 1);
	}
}

static void on_own(struct etcd_mgr *m, void *userdata)
{
	struct probe *p = userdata;
	const struct netconf *c = etcd_mgr_netconf(m);
	char a[IP_NET_STRLEN], b[IP_NET_STRLEN];
	uint64_t exp = etcd_mgr_lease_expiry_usec(m), now = now_realtime_usec();
	struct lease l;

	if (etcd_mgr_own_lease(m, &l, NULL) < 0)
		return;
	printf("OWN %s %s %s %llu\n", l.name, ip_net_fmt(&l.subnet, a),
	       l.has_subnet6 ? ip_net_fmt(&l.subnet6, b) : "-",
	       (unsigned long long)(exp > now ? (exp - now) / USEC_PER_SEC : 0));
	fflush(stdout);
	if (p->subnet_file) {
		struct subnet_env e = {.has_network = true,
				       .network = c->network,
				       .has_subnet = true,
				       .has_mtu = true,
				       .mtu = 1450,
				       .has_ipmasq = true};
		ip_net_first_host(&l.subnet, &e.subnet);
		if (l.has_subnet6) {
			e.has_ipv6_network = true;
			e.ipv6_network = c->ipv6_network;
			e.has_ipv6_subnet = true;
			ip_net_first_host(&l.subnet6, &e.ipv6_subnet);
		}
		if (subnet_env_write(p->subnet_file, &e) < 0)
			fprintf(stderr, "etcd-agent-probe: cannot write %s\n", p->subnet_file);
	}
}

static void on_peers(struct etcd_mgr *m, void *userdata)
{
	const struct lease_set *set = etcd_mgr_peers(m);
	const struct lease **v = NULL;
	size_t n = 0;

	if (lease_set_snapshot(set, &v, &n) < 0)
		return;
	printf("PEERS %llu %zu", (unsigned long long)lease_set_generation(set), n);
	for (size_t i = 0; i < n; i++) {
		char ib[IP_ADDR_STRLEN], mb[18];
		const struct lease *l = v[i];
		printf(" %s=%s,%s,%u,%s", l->name, ip_addr_fmt(&l->public_ip, ib),
		       l->attrs.backend_type[0] ? l->attrs.backend_type : "-", l->attrs.vni,
		       l->attrs.has_vtep_mac ? mac_fmt(l->attrs.vtep_mac, mb) : "-");
	}
	printf("\n");
	fflush(stdout);
	free(v);
}

static void on_synced(struct etcd_mgr *m, void *userdata)
{
	printf("SYNCED peers=%zu\n", lease_set_size(etcd_mgr_peers(m)));
	fflush(stdout);
}

static void on_published(struct etcd_mgr *m, int r, void *userdata)
{
	struct probe *p = userdata;

	printf("PUBLISHED %d %s\n", r, r < 0 ? etcd_mgr_error(m) : "ok");
	fflush(stdout);
	if (r < 0)
		loop_exit(p->loop, 1);
}

static void on_revoked(struct etcd_mgr *m, void *userdata)
{
	struct probe *p = userdata;

	printf("REVOKED\n");
	fflush(stdout);
	loop_exit(p->loop, 3);
}

static int on_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct probe *p = userdata;

	if (si->ssi_signo == SIGHUP)
		return etcd_mgr_relist(p->mgr);
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
		{"endpoints", required_argument, NULL, 'e'},
		{"prefix", required_argument, NULL, 'P'},
		{"subnet-file", required_argument, NULL, 'f'},
		{"public-ip", required_argument, NULL, 'i'},
		{"public-ip6", required_argument, NULL, 'I'},
		{"vtep-mac", required_argument, NULL, 'm'},
		{"vni", required_argument, NULL, 'V'},
		{"backend", required_argument, NULL, 'b'},
		{"cafile", required_argument, NULL, 'C'},
		{"certfile", required_argument, NULL, 'c'},
		{"keyfile", required_argument, NULL, 'k'},
		{"username", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'},
		{"lease-ttl", required_argument, NULL, 't'},
		{"renew-margin", required_argument, NULL, 'M'},
		{"renew-retry", required_argument, NULL, 'R'},
		{},
	};
	struct etcd_mgr_config cfg = {.conn.endpoints = "http://127.0.0.1:2379"};
	struct probe p = {};
	struct loop_source *sigs[4] = {};
	int c, r;

	snprintf(p.attrs.backend_type, sizeof(p.attrs.backend_type), "vxlan");
	p.attrs.vni = 1;
	while ((c = getopt_long(argc, argv, "v:", opts, NULL)) >= 0) {
		switch (c) {
		case 'e':
			cfg.conn.endpoints = optarg;
			break;
		case 'P':
			cfg.prefix = optarg;
			break;
		case 'f':
			cfg.subnet_file = p.subnet_file = optarg;
			break;
		case 'i':
			if (ip_addr_parse_family(AF_INET, optarg, &p.pub4) < 0)
				return fprintf(stderr, "bad --public-ip\n"), 2;
			break;
		case 'I':
			if (ip_addr_parse_family(AF_INET6, optarg, &p.pub6) < 0)
				return fprintf(stderr, "bad --public-ip6\n"), 2;
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
			cfg.conn.ca_file = optarg;
			break;
		case 'c':
			cfg.conn.cert_file = optarg;
			break;
		case 'k':
			cfg.conn.key_file = optarg;
			break;
		case 'u':
			cfg.conn.username = optarg;
			break;
		case 'p':
			cfg.conn.password = optarg;
			break;
		case 't':
			cfg.lease_ttl_sec = (uint64_t)atoll(optarg);
			break;
		case 'M':
			cfg.renew_margin_sec = (uint64_t)atoll(optarg);
			break;
		case 'R':
			cfg.renew_retry_sec = (uint64_t)atoll(optarg);
			break;
		case 'v':
			log_set_verbosity(atoi(optarg));
			break;
		default:
			return 2;
		}
	}
	if (p.pub4.family != AF_INET)
		return fprintf(stderr, "--public-ip is required\n"), 2;

	r = loop_new(&p.loop);
	if (r < 0)
		return 1;
	static const struct etcd_mgr_callbacks cbs = {
		.config_ready = on_config,
		.own_lease_changed = on_own,
		.peers_changed = on_peers,
		.synced = on_synced,
		.published = on_published,
		.revoked = on_revoked,
	};
	r = etcd_mgr_new(p.loop, &cfg, &cbs, &p, &p.mgr);
	if (r < 0)
		fprintf(stderr, "etcd-agent-probe: %s\n", strerror(-r));
	if (r >= 0)
		r = etcd_mgr_start(p.mgr);
	const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; r >= 0 && i < 4; i++)
		r = loop_add_signal(p.loop, signals[i], on_signal, &p, &sigs[i]);
	if (r >= 0)
		r = loop_run(p.loop);
	else
		r = 1;
	if (p.mgr)
		print_stats(p.mgr);
	for (size_t i = 0; i < 4; i++)
		loop_source_free(sigs[i]);
	etcd_mgr_free(p.mgr);
	loop_free(p.loop);
	return r;
}
