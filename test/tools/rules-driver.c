/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for the traffic manager (lib/rules/traffic.h): runs flanneld's
 * traffic-rule steps once, or keeps resyncing, from command-line flags with
 * flanneld's names, and prints the counters so that tests can assert what
 * was executed and changed:
 *
 *   rules-driver --mode=iptables|nftables [--ip-masq]
 *                [--iptables-forward-rules=false] [--ip-masq-fully-random-disable]
 *                [--network=CIDR --subnet=CIDR] [--ipv6-network=CIDR --ipv6-subnet=CIDR]
 *                [--prev-subnet-file=PATH] [--iptables-variant=nft|legacy]
 *                [--iptables-resync=SECONDS --iterations=N (0: until killed)]
 *                [--no-cleanup] [--check-br-netfilter[=DIR]] [-v N]
 *
 * Output: one line "ensure ..." after start-up and one "resync ..." line per
 * pass, each with repaired=, execs=, applies=, checks=, repairs=, failures=.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/core/log.h"
#include "lib/core/subnet_env.h"
#include "lib/rules/traffic.h"

static void print_stats(const char *what, int repaired, const struct traffic_mgr *m)
{
	const struct traffic_stats *s = traffic_mgr_stats(m);

	printf("%s repaired=%d execs=%llu applies=%llu checks=%llu repairs=%llu failures=%llu\n",
	       what, repaired, (unsigned long long)s->execs, (unsigned long long)s->applies,
	       (unsigned long long)s->checks, (unsigned long long)s->repairs,
	       (unsigned long long)s->failures);
	fflush(stdout);
}

static int parse_bool(const char *s, bool *ret)
{
	if (!s || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*ret = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_net(enum rules_family f, const char *net, const char *sub, struct rules_net *ret)
{
	struct ip_net n, s;

	if (!net && !sub)
		return 0;
	if (!net || !sub || ip_net_parse(net, &n) < 0 || ip_net_parse(sub, &s) < 0)
		return -EINVAL;
	return rules_net_set(ret, f, &n, &s);
}

int main(int argc, char **argv)
{
	enum {
		OPT_MODE = 256,
		OPT_MASQ,
		OPT_FWD,
		OPT_NORANDOM,
		OPT_NET,
		OPT_SUB,
		OPT_NET6,
		OPT_SUB6,
		OPT_PREV,
		OPT_VARIANT,
		OPT_RESYNC,
		OPT_ITER,
		OPT_NOCLEAN,
		OPT_BRNF,
	};
	static const struct option opts[] = {
		{"mode", required_argument, NULL, OPT_MODE},
		{"ip-masq", optional_argument, NULL, OPT_MASQ},
		{"iptables-forward-rules", optional_argument, NULL, OPT_FWD},
		{"ip-masq-fully-random-disable", optional_argument, NULL, OPT_NORANDOM},
		{"network", required_argument, NULL, OPT_NET},
		{"subnet", required_argument, NULL, OPT_SUB},
		{"ipv6-network", required_argument, NULL, OPT_NET6},
		{"ipv6-subnet", required_argument, NULL, OPT_SUB6},
		{"prev-subnet-file", required_argument, NULL, OPT_PREV},
		{"iptables-variant", required_argument, NULL, OPT_VARIANT},
		{"iptables-resync", required_argument, NULL, OPT_RESYNC},
		{"iterations", required_argument, NULL, OPT_ITER},
		{"no-cleanup", no_argument, NULL, OPT_NOCLEAN},
		{"check-br-netfilter", optional_argument, NULL, OPT_BRNF},
		{},
	};
	struct traffic_config cfg = {.forward_rules = true, .random_fully = true};
	const char *net = NULL, *sub = NULL, *net6 = NULL, *sub6 = NULL, *prev_path = NULL;
	const char *brnf_dir = NULL;
	bool cleanup = true, brnf = false, norandom = false;
	long resync = 0, iterations = 1;
	struct rules_net v4 = {0}, v6 = {0};
	struct subnet_env prev;
	bool have_prev = false;
	_cleanup_(traffic_mgr_freep) struct traffic_mgr *m = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "v:", opts, NULL)) >= 0) {
		r = 0;
		switch (c) {
		case OPT_MODE:
			if (strcmp(optarg, "iptables") == 0)
				cfg.mode = TRAFFIC_MODE_IPTABLES;
			else if (strcmp(optarg, "nftables") == 0)
				cfg.mode = TRAFFIC_MODE_NFTABLES;
			else
				r = -EINVAL;
			break;
		case OPT_MASQ:
			r = parse_bool(optarg, &cfg.ip_masq);
			break;
		case OPT_FWD:
			r = parse_bool(optarg, &cfg.forward_rules);
			break;
		case OPT_NORANDOM:
			r = parse_bool(optarg, &norandom);
			break;
		case OPT_NET:
			net = optarg;
			break;
		case OPT_SUB:
			sub = optarg;
			break;
		case OPT_NET6:
			net6 = optarg;
			break;
		case OPT_SUB6:
			sub6 = optarg;
			break;
		case OPT_PREV:
			prev_path = optarg;
			break;
		case OPT_VARIANT:
			cfg.iptables_variant = optarg;
			break;
		case OPT_RESYNC:
			resync = strtol(optarg, NULL, 10);
			break;
		case OPT_ITER:
			iterations = strtol(optarg, NULL, 10);
			break;
		case OPT_NOCLEAN:
			cleanup = false;
			break;
		case OPT_BRNF:
			brnf = true;
			brnf_dir = optarg;
			break;
		case 'v':
			log_set_verbosity(atoi(optarg));
			break;
		default:
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "invalid value for %s\n", argv[optind - 1]);
			return 2;
		}
	}
	cfg.random_fully = !norandom;

	if (parse_net(RULES_IPV4, net, sub, &v4) < 0 ||
	    parse_net(RULES_IPV6, net6, sub6, &v6) < 0) {
		fprintf(stderr, "invalid --network/--subnet or --ipv6-network/--ipv6-subnet\n");
		return 2;
	}
	if (brnf) {
		struct errmsg err = {""};
		r = traffic_check_br_netfilter(cfg.mode, v4.enabled, v6.enabled, brnf_dir, &err);
		if (r < 0) {
			log_error("%s", err.text);
			return 1;
		}
	}
	if (prev_path) {
		struct errmsg err = {""};
		r = subnet_env_read(prev_path, &prev, &err);
		if (r < 0 && r != -ENOENT)
			log_warn("Failed to read %s: %s, ignoring", prev_path, err.text);
		have_prev = r >= 0;
	}

	r = traffic_mgr_new(&cfg, &m);
	if (r < 0) {
		log_error_errno(r, "Failed to create the traffic manager");
		return 1;
	}
	/* as flanneld: a failed clean-up (logged) does not stop the start-up, e.g. when
	 * another network's flanneld removed the same leftovers at the same moment */
	if (cleanup)
		(void)traffic_mgr_cleanup_other(m);
	r = traffic_mgr_ensure(m, &v4, &v6, have_prev ? &prev : NULL);
	print_stats("ensure", 0, m);
	if (r < 0)
		return 1;

	for (long i = 0; resync > 0 && (iterations == 0 || i < iterations); i++) {
		struct timespec ts = {.tv_sec = resync};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		r = traffic_mgr_resync(m);
		print_stats("resync", r, m);
	}
	return 0;
}
