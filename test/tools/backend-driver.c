/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backend-driver: runs one backend (vxlan or host-gw) without Kubernetes,
 * for the netns tests and bench/backend.sh. It selects the external
 * interface like flanneld, registers the backend, sets our own lease, and
 * reconciles the peers listed in a text file, once (--once) or in a loop
 * driven by netlink notifications and a periodic resync (--resync-ms),
 * re-reading the file on SIGHUP. Each pass prints one line of counters:
 *
 *   reconcile pass=1 peers=2 writes=9 desired=6 skipped=0 drift_found=0 ... usec=812 rc=0
 *
 * Peers file: one lease per line, '#' starts a comment:
 *   <name> subnet=198.18.2.0/24 ip=203.0.113.2 mac=0e:00:00:00:00:02
 *          [subnet6=2001:db8:42:2::/64 ip6=2001:db8:1::2 mac6=...] [type=vxlan]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backends/backend.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/core/macro.h"
#include "lib/json/lease.h"
#include "lib/netlink/iface.h"
#include "lib/netlink/netlink.h"

#define PEERS_MAX_SIZE (16 * 1024 * 1024)
#define COALESCE_USEC  (50 * USEC_PER_MSEC)

static const char *arg_backend = "{\"Type\":\"vxlan\"}";
static const char *arg_type;
static char *arg_ifaces[8];
static size_t arg_n_ifaces;
static const char *arg_public_ip;
static const char *arg_public_ip6;
static const char *arg_name = "self";
static const char *arg_subnet;
static const char *arg_subnet6;
static const char *arg_peers;
static const char *arg_mac;
static const char *arg_mac6;
static bool arg_ipv4 = true;
static bool arg_ipv6;
static bool arg_once;
static unsigned arg_churn;
static unsigned arg_resync_ms = 10000;

struct driver {
	struct nlh *nl;
	struct backend *backend;
	struct lease_set *peers;
	struct loop *loop;
	struct loop_source *coalesce;
	struct loop_source *resync;
	unsigned pass;
};

static int parse_lease_line(char *line, unsigned lineno, struct lease *ret)
{
	struct lease l = {0};
	char *save = NULL, *tok;
	int r = 0;

	tok = strtok_r(line, " \t", &save);
	if (!lease_name_valid(tok))
		return log_error_errno(EINVAL, "peers line %u: missing or overlong name", lineno);
	l.name = tok; /* borrowed from line */
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *v = strchr(tok, '=');
		if (!v)
			return log_error_errno(EINVAL, "peers line %u: expected key=value: %s",
					       lineno, tok);
		*v++ = '\0';
		if (strcmp(tok, "subnet") == 0) {
			r = ip_net_parse_family(AF_INET, v, &l.subnet);
			l.has_subnet = r >= 0;
			ip_net_mask(&l.subnet);
		} else if (strcmp(tok, "subnet6") == 0) {
			r = ip_net_parse_family(AF_INET6, v, &l.subnet6);
			l.has_subnet6 = r >= 0;
			ip_net_mask(&l.subnet6);
		} else if (strcmp(tok, "ip") == 0)
			r = ip_addr_parse_family(AF_INET, v, &l.public_ip);
		else if (strcmp(tok, "ip6") == 0)
			r = ip_addr_parse_family(AF_INET6, v, &l.public_ip6);
		else if (strcmp(tok, "mac") == 0) {
			r = mac_parse(v, l.attrs.vtep_mac);
			l.attrs.has_vtep_mac = r >= 0;
		} else if (strcmp(tok, "mac6") == 0) {
			r = mac_parse(v, l.attrs.vtep_mac6);
			l.attrs.has_vtep_mac6 = r >= 0;
		} else if (strcmp(tok, "type") == 0) {
			if (strlen(v) >= sizeof(l.attrs.backend_type))
				r = -EINVAL;
			else
				strcpy(l.attrs.backend_type, v);
		} else
			r = -EINVAL;
		if (r < 0)
			return log_error_errno(r, "peers line %u: bad %s=%s", lineno, tok, v);
	}
	*ret = l;
	return 0;
}

static int load_peers(struct driver *d)
{
	_cleanup_free_ char *text = NULL;
	struct lease_set *set = NULL;
	char *save = NULL, *line;
	unsigned lineno = 0;
	size_t len;
	int r;

	r = read_file_bounded(arg_peers, PEERS_MAX_SIZE, &text, &len);
	if (r < 0)
		return log_error_errno(r, "failed to read %s", arg_peers);
	r = lease_set_new(&set);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct lease l;
		char *hash = strchr(line, '#');
		lineno++;
		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		r = parse_lease_line(line, lineno, &l);
		if (r >= 0)
			r = lease_set_upsert(set, &l);
		if (r < 0) {
			lease_set_free(set);
			return r;
		}
	}
	lease_set_free(d->peers);
	d->peers = set;
	return 0;
}

static int reconcile(struct driver *d)
{
	_cleanup_free_ const struct lease **snap = NULL;
	struct backend_status st;
	size_t n = 0, have = 0;
	uint64_t start, usec;
	int r;

	r = lease_set_snapshot(d->peers, &snap, &n);
	if (r < 0)
		return r;
	start = now_monotonic_usec();
	r = backend_reconcile(d->backend, (const struct lease *const *)snap, n);
	usec = now_monotonic_usec() - start;
	backend_status(d->backend, &st);
	for (size_t k = 0; k < st.n_peers; k++) {
		struct backend_peer_status ps;

		backend_peer_status(d->backend, k, &ps);
		if (ps.want && ps.have == ps.want)
			have++;
	}
	d->pass++;
	printf("reconcile pass=%u peers=%zu complete=%zu writes=%d desired=%zu skipped=%zu "
	       "drift_found=%" PRIu64 " drift_repaired=%" PRIu64 " devices_created=%" PRIu64
	       " full_passes=%" PRIu64 " incremental_passes=%" PRIu64 " events_echo=%" PRIu64
	       " events_foreign=%" PRIu64,
	       d->pass, n, have, r < 0 ? 0 : r, st.n_desired, st.n_skipped, st.drift_found,
	       st.drift_repaired, st.devices_created, st.full_passes, st.incremental_passes,
	       st.events_echo, st.events_foreign);
	for (unsigned k = 0; k < _NL_OP_MAX; k++)
		printf(" %s=%" PRIu64, nl_op_name(k), st.nl.ops[k]);
	printf(" usec=%" PRIu64 " rc=%d\n", usec, r < 0 ? r : 0);
	fflush(stdout);
	return r;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Read the notifications our writes caused; a pass when they ask for one, as flanneld. */
static int settle(struct driver *d, unsigned *ret_passes)
{
	int r = backend_handle_events(d->backend);
	if (r > 0) {
		(*ret_passes)++;
		r = reconcile(d);
	}
	return r < 0 ? r : 0;
}

/*
 * --churn N: with every peer installed, N times remove one peer and add it
 * back, one reconcile each (the latency from a peer change to the kernel),
 * reading the notifications after each like flanneld's loop does.
 */
static int churn(struct driver *d)
{
	_cleanup_free_ uint64_t *usec = NULL;
	_cleanup_free_ const struct lease **snap = NULL;
	struct backend_status st0, st1;
	size_t n = 0, ops = 0;
	unsigned event_passes = 0;
	uint64_t ev_usec = 0, snap_usec = 0;
	int r;

	r = settle(d, &event_passes); /* the echoes of the initial programming */
	if (r >= 0)
		r = lease_set_snapshot(d->peers, &snap, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return log_error_errno(EINVAL, "--churn needs peers");
	usec = calloc(2 * arg_churn, sizeof(*usec));
	if (!usec)
		return -ENOMEM;
	event_passes = 0;
	backend_status(d->backend, &st0);
	for (unsigned i = 0; i < arg_churn; i++) {
		struct lease l = *snap[(size_t)i * 7919 % n];
		for (int add = 0; add < 2; add++) {
			_cleanup_free_ const struct lease **v = NULL;
			size_t m = 0;
			uint64_t t0, t1;

			r = add ? lease_set_upsert(d->peers, &l)
				: lease_set_remove(d->peers, l.name);
			t0 = now_monotonic_usec();
			if (r >= 0)
				r = lease_set_snapshot(d->peers, &v, &m);
			if (r < 0)
				return r;
			snap_usec += now_monotonic_usec() - t0;
			t0 = now_monotonic_usec();
			r = backend_reconcile(d->backend, (const struct lease *const *)v, m);
			t1 = now_monotonic_usec();
			if (r < 0)
				return log_error_errno(r, "churn reconcile failed");
			usec[ops++] = t1 - t0;
			r = settle(d, &event_passes);
			ev_usec += now_monotonic_usec() - t1;
			if (r < 0)
				return r;
		}
		/* The removal freed the peer's lease: take a fresh snapshot. */
		free(snap);
		snap = NULL;
		r = lease_set_snapshot(d->peers, &snap, &n);
		if (r < 0)
			return r;
	}
	backend_status(d->backend, &st1);
	qsort(usec, ops, sizeof(*usec), cmp_u64);
	printf("churn ops=%zu p50_usec=%" PRIu64 " p99_usec=%" PRIu64 " max_usec=%" PRIu64
	       " dumps_per_op=%.2f writes_per_op=%.2f snapshot_usec_per_op=%.1f events_usec_per_op=%.1f"
	       " event_passes=%u full_passes=%" PRIu64 " events_echo=%" PRIu64 "\n",
	       ops, usec[ops / 2], usec[(ops * 99) / 100], usec[ops - 1],
	       (double)(st1.nl.ops[NL_OP_DUMP] - st0.nl.ops[NL_OP_DUMP]) / (double)ops,
	       (double)(nl_counters_writes(&st1.nl) - nl_counters_writes(&st0.nl)) / (double)ops,
	       (double)snap_usec / (double)ops, (double)ev_usec / (double)ops, event_passes,
	       st1.full_passes - st0.full_passes, st1.events_echo - st0.events_echo);
	fflush(stdout);
	return 0;
}

static int on_coalesce(struct loop_source *s, void *userdata)
{
	struct driver *d = userdata;
	(void)reconcile(d);
	return 0;
}

static int on_resync(struct loop_source *s, void *userdata)
{
	struct driver *d = userdata;
	backend_invalidate(d->backend); /* periodic full pass, as flanneld */
	(void)reconcile(d);
	return loop_timer_arm(s, arg_resync_ms * USEC_PER_MSEC);
}

static int on_netlink(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct driver *d = userdata;
	int r = backend_handle_events(d->backend);
	if (r < 0)
		return r;
	if (r > 0 && !loop_timer_armed(d->coalesce))
		return loop_timer_arm(d->coalesce, COALESCE_USEC);
	return 0;
}

static int on_sighup(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct driver *d = userdata;
	int r = load_peers(d);
	if (r < 0)
		return r;
	log_info("Reloaded %s: %zu peers", arg_peers, lease_set_size(d->peers));
	(void)reconcile(d);
	return 0;
}

static int on_exit_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct driver *d = userdata;
	loop_exit(d->loop, 0);
	return 0;
}

static void help(void)
{
	printf("backend-driver --iface NAME --subnet CIDR --peers FILE [options]\n"
	       "  --backend JSON       the Backend object (default {\"Type\":\"vxlan\"})\n"
	       "  --iface NAME|IP      external interface (repeatable)\n"
	       "  --public-ip IP       --public-ipv6 IP\n"
	       "  --name NAME          our lease's name (excluded from the peers)\n"
	       "  --subnet CIDR        --subnet6 CIDR   our lease\n"
	       "  --ipv6               enable IPv6     --no-ipv4  disable IPv4\n"
	       "  --mac MAC            --mac6 MAC       VtepMAC(s) to restore\n"
	       "  --once               reconcile once and exit\n"
	       "  --churn N            then N times remove a peer and add it back, timed; exit\n"
	       "  --resync-ms N        periodic resync interval (default 10000)\n"
	       "  -v N                 verbosity\n");
}

static int parse_args(int argc, char **argv)
{
	enum {
		ARG_BACKEND = 0x100,
		ARG_PUBLIC_IP,
		ARG_PUBLIC_IP6,
		ARG_SUBNET,
		ARG_SUBNET6,
		ARG_PEERS,
		ARG_MAC,
		ARG_MAC6,
		ARG_IPV6,
		ARG_NO_IPV4,
		ARG_ONCE,
		ARG_CHURN,
		ARG_RESYNC,
		ARG_NAME,
		ARG_IFACE
	};
	static const struct option options[] = {
		{"backend", required_argument, NULL, ARG_BACKEND},
		{"iface", required_argument, NULL, ARG_IFACE},
		{"public-ip", required_argument, NULL, ARG_PUBLIC_IP},
		{"public-ipv6", required_argument, NULL, ARG_PUBLIC_IP6},
		{"name", required_argument, NULL, ARG_NAME},
		{"subnet", required_argument, NULL, ARG_SUBNET},
		{"subnet6", required_argument, NULL, ARG_SUBNET6},
		{"peers", required_argument, NULL, ARG_PEERS},
		{"mac", required_argument, NULL, ARG_MAC},
		{"mac6", required_argument, NULL, ARG_MAC6},
		{"ipv6", no_argument, NULL, ARG_IPV6},
		{"no-ipv4", no_argument, NULL, ARG_NO_IPV4},
		{"once", no_argument, NULL, ARG_ONCE},
		{"churn", required_argument, NULL, ARG_CHURN},
		{"resync-ms", required_argument, NULL, ARG_RESYNC},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hv:", options, NULL)) >= 0) {
		switch (c) {
		case ARG_BACKEND:
			arg_backend = optarg;
			break;
		case ARG_IFACE:
			if (arg_n_ifaces == ARRAY_SIZE(arg_ifaces))
				return log_error_errno(E2BIG, "too many --iface");
			arg_ifaces[arg_n_ifaces++] = optarg;
			break;
		case ARG_PUBLIC_IP:
			arg_public_ip = optarg;
			break;
		case ARG_PUBLIC_IP6:
			arg_public_ip6 = optarg;
			break;
		case ARG_NAME:
			arg_name = optarg;
			break;
		case ARG_SUBNET:
			arg_subnet = optarg;
			break;
		case ARG_SUBNET6:
			arg_subnet6 = optarg;
			break;
		case ARG_PEERS:
			arg_peers = optarg;
			break;
		case ARG_MAC:
			arg_mac = optarg;
			break;
		case ARG_MAC6:
			arg_mac6 = optarg;
			break;
		case ARG_IPV6:
			arg_ipv6 = true;
			break;
		case ARG_NO_IPV4:
			arg_ipv4 = false;
			break;
		case ARG_ONCE:
			arg_once = true;
			break;
		case ARG_CHURN:
			arg_churn = (unsigned)strtoul(optarg, NULL, 10);
			if (arg_churn == 0)
				return log_error_errno(EINVAL, "--churn must be positive");
			break;
		case ARG_RESYNC:
			arg_resync_ms = (unsigned)strtoul(optarg, NULL, 10);
			if (arg_resync_ms == 0)
				return log_error_errno(EINVAL, "--resync-ms must be positive");
			break;
		case 'v':
			log_set_verbosity(atoi(optarg));
			break;
		case 'h':
			help();
			exit(EXIT_SUCCESS);
		default:
			return -EINVAL;
		}
	}
	if (!arg_peers || (arg_ipv4 && !arg_subnet) || (arg_ipv6 && !arg_subnet6))
		return log_error_errno(EINVAL, "--peers and --subnet/--subnet6 are required");
	return 0;
}

/* The Backend object's Type, lower-cased like netconf. */
static int backend_type_of(const char *json, char *buf, size_t size)
{
	const char *t = strstr(json, "\"Type\"");
	const char *q, *e;

	if (!t)
		return -EINVAL;
	q = strchr(t + 6, '"');
	e = q ? strchr(q + 1, '"') : NULL;
	if (!e || (size_t)(e - q - 1) >= size)
		return -EINVAL;
	for (size_t k = 0; k < (size_t)(e - q - 1); k++)
		buf[k] = (char)(q[1 + k] >= 'A' && q[1 + k] <= 'Z' ? q[1 + k] + 32 : q[1 + k]);
	buf[e - q - 1] = '\0';
	return 0;
}

static int run(struct driver *d)
{
	struct iface_request req = {
		.ifaces = arg_ifaces, .n_ifaces = arg_n_ifaces, .ipv4 = arg_ipv4, .ipv6 = arg_ipv6};
	struct backend_config cfg = {.ipv4 = arg_ipv4, .ipv6 = arg_ipv6};
	struct lease own = {0};
	struct lease_attrs attrs;
	struct ext_iface ext;
	struct errmsg err = {{0}};
	char type[32], m[18], m6[18];
	uint32_t mtu;
	int r;

	if (arg_public_ip && ip_addr_parse_family(AF_INET, arg_public_ip, &req.public_ip) < 0)
		return log_error_errno(EINVAL, "bad --public-ip %s", arg_public_ip);
	if (arg_public_ip6 && ip_addr_parse_family(AF_INET6, arg_public_ip6, &req.public_ip6) < 0)
		return log_error_errno(EINVAL, "bad --public-ipv6 %s", arg_public_ip6);
	r = nlh_new(&d->nl);
	if (r < 0)
		return log_error_errno(r, "failed to open netlink");
	r = iface_discover(d->nl, &req, &ext, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.text);

	if (backend_type_of(arg_backend, type, sizeof(type)) < 0)
		return log_error_errno(EINVAL, "--backend: no Type");
	arg_type = type;
	cfg.type = arg_type;
	cfg.json = arg_backend;
	cfg.json_len = strlen(arg_backend);
	cfg.ext = &ext;
	if (arg_mac && (cfg.has_mac = mac_parse(arg_mac, cfg.mac) >= 0) == false)
		return log_error_errno(EINVAL, "bad --mac");
	if (arg_mac6 && (cfg.has_mac6 = mac_parse(arg_mac6, cfg.mac6) >= 0) == false)
		return log_error_errno(EINVAL, "bad --mac6");
	r = backend_new(d->nl, &cfg, &d->backend, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.text);
	r = backend_register(d->backend, &attrs, &mtu, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.text);
	printf("registered type=%s iface=%s vni=%u mac=%s mac6=%s mtu=%u\n", attrs.backend_type,
	       ext.name, attrs.vni, attrs.has_vtep_mac ? mac_fmt(attrs.vtep_mac, m) : "-",
	       attrs.has_vtep_mac6 ? mac_fmt(attrs.vtep_mac6, m6) : "-", mtu);
	fflush(stdout);

	if (!lease_name_valid(arg_name))
		return log_error_errno(EINVAL, "--name too long");
	own.name = arg_name;
	if (arg_subnet) {
		if (ip_net_parse_family(AF_INET, arg_subnet, &own.subnet) < 0)
			return log_error_errno(EINVAL, "bad --subnet");
		ip_net_mask(&own.subnet);
		own.has_subnet = true;
		own.public_ip = ext.ext_addr;
	}
	if (arg_subnet6) {
		if (ip_net_parse_family(AF_INET6, arg_subnet6, &own.subnet6) < 0)
			return log_error_errno(EINVAL, "bad --subnet6");
		ip_net_mask(&own.subnet6);
		own.has_subnet6 = true;
		own.public_ip6 = ext.ext_addr6;
	}
	own.attrs = attrs;
	r = backend_set_lease(d->backend, &own, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.text);

	r = load_peers(d);
	if (r < 0)
		return r;
	r = reconcile(d);
	if (r >= 0 && arg_churn)
		return churn(d);
	if (arg_once)
		return r < 0 ? r : 0;

	r = loop_new(&d->loop);
	if (r < 0)
		return r;
	r = loop_add_io(d->loop, backend_event_fd(d->backend), EPOLLIN, on_netlink, d, "netlink",
			NULL);
	if (r >= 0)
		r = loop_add_timer(d->loop, UINT64_MAX, on_coalesce, d, "coalesce", &d->coalesce);
	if (r >= 0)
		r = loop_timer_disarm(d->coalesce);
	if (r >= 0)
		r = loop_add_timer(d->loop, arg_resync_ms * USEC_PER_MSEC, on_resync, d, "resync",
				   &d->resync);
	if (r >= 0)
		r = loop_add_signal(d->loop, SIGHUP, on_sighup, d, NULL);
	if (r >= 0)
		r = loop_add_signal(d->loop, SIGTERM, on_exit_signal, d, NULL);
	if (r >= 0)
		r = loop_add_signal(d->loop, SIGINT, on_exit_signal, d, NULL);
	if (r < 0)
		return log_error_errno(r, "failed to set up the event loop");
	return loop_run(d->loop);
}

int main(int argc, char **argv)
{
	struct driver d = {0};
	int r;

	r = parse_args(argc, argv);
	if (r >= 0)
		r = run(&d);
	/* Leaves the datapath in place, as flanneld on SIGTERM. */
	backend_free(d.backend);
	lease_set_free(d.peers);
	loop_free(d.loop);
	nlh_free(d.nl);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
