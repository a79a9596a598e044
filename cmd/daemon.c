/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flanneld daemon: one epoll loop owning the subnet manager, the
 * backend reconciler, the traffic rules, subnet.env and the HTTP endpoints.
 *
 * Start-up follows upstream's order where an operator can see it (config,
 * br_netfilter check, subnet manager, interface, backend registration and
 * lease publication, traffic rules, subnet.env), with two differences that
 * make it easier to run: /healthz answers from the first moment, and a node
 * without a podCIDR is waited for instead of crash-looping. /readyz turns
 * 200 only once subnet.env is written AND the first full reconcile of the
 * peers has finished, so "ready" means pods on this node can reach the
 * others.
 *
 * After start-up everything is driven by events, all coalesced into one
 * reconcile: the peer set changed, a netlink notification says something of
 * ours changed that we did not write (a deleted device, route, neighbour or
 * FDB entry), or the periodic resync fired. The backend plans a peer change
 * against its belief of the kernel and writes only the difference; a full
 * dump-and-compare pass runs at start, after any foreign change, and when
 * the periodic check (every 10 s, put off while events wait) finds the
 * kernel's entries differ from that belief. SIGTERM leaves the datapath and
 * rules in place.
 */
#include "daemon.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/backend.h"
#include "cmd/http.h"
#include "cmd/netpol.h"
#include "cmd/status.h"
#include "etcd/subnet_mgr.h"
#include "kube/subnet_mgr.h"
#include "lib/core/backoff.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/core/loop.h"
#include "lib/core/prom.h"
#include "lib/core/subnet_env.h"
#include "lib/json/netconf.h"
#include "lib/netlink/iface.h"
#include "lib/netlink/netlink.h"
#include "lib/rules/nfnotify.h"
#include "lib/rules/traffic.h"

#define RESYNC_INTERVAL_USEC (10 * USEC_PER_SEC)
#define RESYNC_DEFER_USEC    (50 * USEC_PER_MSEC)
#define RETRY_INTERVAL_USEC  (1 * USEC_PER_SEC)
#define RETRY_MAX_USEC	     (16 * USEC_PER_SEC)
#define STATUS_ERRORS_KEPT   10
/*
 * Traffic rules with nf_tables (nftables mode, iptables-nft): a change the
 * kernel reports in a table of ours is checked this soon (a burst coalesces),
 * but no sooner than RULES_MIN_GAP after the previous check began; without
 * any, every RULES_SAFETY (or --iptables-resync when longer).
 */
#define RULES_NOTIFY_DELAY_USEC (100 * USEC_PER_MSEC)
#define RULES_MIN_GAP_USEC	(1 * USEC_PER_SEC)
#define RULES_SAFETY_USEC	(60 * USEC_PER_SEC)

struct daemon {
	const struct flannel_flags *f;
	struct loop *loop;
	struct netconf file_nc;	  /* kube mode: --net-config-path */
	const struct netconf *nc; /* &file_nc, or the etcd manager's */
	struct nlh *nlh;
	/* Exactly one subnet manager. */
	struct kube_mgr *kube;
	struct etcd_mgr *etcd;
	struct backend *backend;
	struct traffic_mgr *traffic;
	struct http_server *http;
	struct netpol_agent *netpol; /* --network-policy, started once the node list is synced */

	struct ext_iface ext;
	struct lease *own; /* ours (lease_dup), valid once have_lease */
	struct lease_attrs attrs;
	uint32_t mtu;
	struct rules_net rules_v4, rules_v6;

	bool have_lease;
	bool subnet_env_written;
	bool reconciled_once;
	bool ready;
	char waiting_for[256];
	int exit_code;

	struct loop_source *reconcile_timer, *resync_timer, *rules_timer, *backend_io;
	/* nf_tables notifications (lib/rules/nfnotify.h); -1 without */
	int nfnotify_fd;
	struct loop_source *nfnotify_io;
	bool rules_ok;	     /* the last install or check of the rules succeeded */
	bool rules_checking; /* a check is running (in a child) */
	bool rules_dirty;    /* a change was reported while it ran */
	uint64_t rules_check_started_usec, rules_due_usec;
	uint64_t started_usec, last_reconcile_usec, last_check_usec;
	uint64_t reconciles, reconcile_errors;
	struct histogram reconcile_seconds;
	bool reconcile_failing;
	struct backoff reconcile_retry;
	/* The peers' generation at the last reconcile: the journal's changes since. */
	const struct lease_set *reconciled_set;
	uint64_t reconciled_gen;

	struct status_error errors[STATUS_ERRORS_KEPT]; /* ring */
	size_t n_errors, errors_next;
};

static const struct lease_set *peers(const struct daemon *d)
{
	return d->kube ? kube_mgr_peers(d->kube) : etcd_mgr_peers(d->etcd);
}

/* The node name (kube) or our lease key (etcd), for logs and the status view. */
static const char *node_name(const struct daemon *d)
{
	if (d->kube)
		return kube_mgr_node_name(d->kube);
	return d->have_lease ? d->own->name : NULL;
}

static void daemon_fatal(struct daemon *d, int r)
{
	d->exit_code = r < 0 ? r : -EIO;
	loop_exit(d->loop, 1);
}

static void record_error(char severity, const char *message, void *userdata)
{
	struct daemon *d = userdata;
	struct status_error *e = &d->errors[d->errors_next];

	e->when_usec = now_realtime_usec();
	snprintf(e->text, sizeof(e->text), "%s", message);
	d->errors_next = (d->errors_next + 1) % STATUS_ERRORS_KEPT;
	if (d->n_errors < STATUS_ERRORS_KEPT)
		d->n_errors++;
}

static _printf_(2, 3) void set_waiting(struct daemon *d, const char *fmt, ...)
{
	char text[sizeof(d->waiting_for)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, d->waiting_for) == 0)
		return;
	snprintf(d->waiting_for, sizeof(d->waiting_for), "%s", text);
	log_info("Waiting for %s", text);
}

/* systemd's READY=1, when NOTIFY_SOCKET is set; a no-op otherwise. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	socklen_t len;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_warn_errno(negative_errno(), "Failed to notify systemd at %s", path);
}

static bool manager_synced(const struct daemon *d)
{
	return d->kube ? kube_mgr_synced(d->kube) : etcd_mgr_synced(d->etcd);
}

/* Ready: subnet.env written, and every peer known at start that can be programmed is. */
static void update_ready(struct daemon *d)
{
	struct backend_status bs = {0};

	if (d->ready || !d->subnet_env_written || !d->reconciled_once)
		return;
	d->ready = true;
	d->waiting_for[0] = '\0';
	if (d->backend)
		backend_status(d->backend, &bs);
	if (bs.n_skipped || bs.n_refused)
		log_info("flannel is ready: %zu peers, %zu of them skipped and %zu with entries "
			 "the kernel refuses (see flanneld status)",
			 lease_set_size(peers(d)), bs.n_skipped, bs.n_refused);
	else
		log_info("flannel is ready: %zu peers programmed", lease_set_size(peers(d)));
	notify_ready();
}

/*
 * Peers are programmed once the node list is in (kube): the own Node comes
 * ahead of it (subnet.env does not wait), but planning the peers page by
 * page as the list streams in would plan the whole set again for every
 * page of 500 (more than the per-peer bound): at 5000 nodes three times the
 * CPU and 3 MiB more peak memory than one pass over the complete list.
 */
static void schedule_reconcile(struct daemon *d)
{
	if (d->kube && !kube_mgr_synced(d->kube))
		return;
	/* Also when a retry is pending: an event does not wait for its backoff. */
	if (d->have_lease)
		loop_timer_arm(d->reconcile_timer, 0);
}

/*
 * The first reconcile counts for readiness once the kernel holds every
 * entry it accepts: a pass whose only failures are entries the kernel
 * refuses for some peers (a next hop off the link, ...) is logged, listed
 * in the status and retried, but does not keep the node unready forever.
 */
static void first_reconcile_done(struct daemon *d, int r)
{
	struct backend_status bs;

	if (d->reconciled_once || !manager_synced(d))
		return;
	backend_status(d->backend, &bs);
	if (r < 0 && bs.last_blocking_error != 0)
		return;
	d->reconciled_once = true;
	update_ready(d);
}

/*
 * -v 1: each peer added, changed or removed by the pass that just succeeded,
 * with the time from the watch event (or etcd change) that made it.
 * changed[i] is generation since + 1 + i; a name is logged once, for its last change.
 */
static void log_peer_changes(const struct daemon *d, const struct lease_set *set, uint64_t since,
			     const char *const *changed, size_t n_changed)
{
	uint64_t now = now_monotonic_usec();

	for (size_t i = 0; i < n_changed; i++) {
		uint64_t at = lease_set_change_usec(set, since + 1 + i);
		double ms = at ? (double)(now - at) / (double)USEC_PER_MSEC : 0;
		struct backend_peer_status st;
		bool later = false;

		for (size_t j = i + 1; j < n_changed && !later; j++)
			later = strcmp(changed[i], changed[j]) == 0;
		if (later || (d->kube && strcmp(changed[i], kube_mgr_node_name(d->kube)) == 0))
			continue;
		if (!lease_set_find(set, changed[i]))
			log_info("Peer %s removed, %.2f ms after its event", changed[i], ms);
		else if (backend_peer_find(d->backend, changed[i], &st) < 0 || st.skipped ||
			 st.have != st.want)
			log_info("Peer %s changed, not programmed (see flanneld status), %.2f ms "
				 "after its event",
				 changed[i], ms);
		else
			log_info("Peer %s programmed, %.2f ms after its event", changed[i], ms);
	}
}

static int on_reconcile(struct loop_source *s, void *userdata)
{
	struct daemon *d = userdata;
	const struct lease_set *set;
	const struct lease *const *list;
	const char *changed[LEASE_SET_JOURNAL];
	int n_changed = -ERANGE;
	size_t n;
	uint64_t t0;
	int r;

	if (!d->have_lease)
		return 0;
	set = peers(d);
	list = lease_set_sorted(set, &n);
	/* The peers changed since the last pass: an incremental pass visits only them. */
	if (set == d->reconciled_set)
		n_changed = lease_set_changes_since(set, d->reconciled_gen, changed,
						    ARRAY_SIZE(changed));

	t0 = now_monotonic_usec();
	r = backend_reconcile_changed(d->backend, list, n, n_changed >= 0 ? changed : NULL,
				      n_changed >= 0 ? (size_t)n_changed : 0);
	if (r >= 0 && n_changed > 0 && log_verbosity >= 1)
		log_peer_changes(d, set, d->reconciled_gen, changed, (size_t)n_changed);
	d->reconciled_set = set;
	d->reconciled_gen = lease_set_generation(set);
	histogram_observe(&d->reconcile_seconds,
			  (double)(now_monotonic_usec() - t0) / (double)USEC_PER_SEC);
	d->reconciles++;
	d->last_reconcile_usec = now_realtime_usec();
	if (r < 0) {
		d->reconcile_errors++;
		if (!d->reconcile_failing)
			log_error_errno(r, "Reconciling %zu peers failed; retrying", n);
		d->reconcile_failing = true;
		/* A peer the kernel refuses fails every pass until something changes: back off. */
		loop_timer_arm(d->reconcile_timer, backoff_next(&d->reconcile_retry, random_u32()));
		first_reconcile_done(d, r);
		return 0;
	}
	if (d->reconcile_failing)
		log_info("Reconciling %zu peers succeeded again", n);
	d->reconcile_failing = false;
	backoff_reset(&d->reconcile_retry);
	if (r > 0)
		log_v(2, "Reconciled %zu peers with %d kernel changes", n, r);
	first_reconcile_done(d, 0);
	return 0;
}

/*
 * The periodic drift check: dumps compared with what was programmed, and a
 * full pass only when they differ. It yields to events: while anything is
 * waiting to be dispatched (a watch event, a reconcile, a notification) it
 * is put off, for at most another period.
 */
static int on_resync(struct loop_source *s, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now = now_monotonic_usec();
	int r;

	if (!d->backend || !d->have_lease)
		return loop_timer_arm(s, RESYNC_INTERVAL_USEC);
	if (loop_has_pending(d->loop) && now - d->last_check_usec < 2 * RESYNC_INTERVAL_USEC)
		return loop_timer_arm(s, RESYNC_DEFER_USEC);
	d->last_check_usec = now;
	r = backend_check(d->backend);
	if (r < 0)
		log_warn_errno(r, "Checking the kernel against the peers failed, reconciling");
	if (r != 0)
		schedule_reconcile(d);
	return loop_timer_arm(s, RESYNC_INTERVAL_USEC);
}

static void rules_arm(struct daemon *d, uint64_t usec)
{
	d->rules_due_usec = now_monotonic_usec() + usec;
	(void)loop_timer_arm(d->rules_timer, usec);
}

/* Can the periodic check wait for the kernel to report a change? */
static bool rules_notified(const struct daemon *d)
{
	return d->nfnotify_io && d->rules_ok && traffic_mgr_kernel_notifies(d->traffic);
}

/* A change was reported: check soon, unless a check is due sooner anyway. */
static void rules_check_soon(struct daemon *d)
{
	uint64_t now = now_monotonic_usec(), delay = RULES_NOTIFY_DELAY_USEC;
	uint64_t gap_end = d->rules_check_started_usec + RULES_MIN_GAP_USEC;

	if (d->rules_check_started_usec && gap_end > now + delay)
		delay = gap_end - now;
	if (loop_timer_armed(d->rules_timer) && d->rules_due_usec <= now + delay)
		return;
	rules_arm(d, delay);
}

static void rules_resync_done(int r, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t period = (uint64_t)d->f->iptables_resync * USEC_PER_SEC;

	d->rules_checking = false;
	d->rules_ok = r >= 0;
	if (r > 0)
		log_info("Repaired the traffic rules of %d address families", r);
	if (d->rules_dirty) {
		d->rules_dirty = false;
		rules_check_soon(d);
		return;
	}
	rules_arm(d, rules_notified(d) ? MAX(period, RULES_SAFETY_USEC) : period);
}

/* The check runs in a child: iptables-save of a kube-proxy nat table must not delay node events. */
static int on_rules_resync(struct loop_source *s, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	d->rules_checking = true;
	d->rules_check_started_usec = now_monotonic_usec();
	r = traffic_mgr_resync_start(d->traffic, d->loop, rules_resync_done, d);
	if (r < 0) {
		log_warn_errno(r,
			       "Failed to start the traffic rules check in a child, checking here");
		rules_resync_done(traffic_mgr_resync(d->traffic), d);
	}
	return 0;
}

static int on_nfnotify(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	int r = nfnotify_drain(fd, traffic_mgr_table_relevant, d->traffic);

	if (r < 0) {
		/* back to the periodic check */
		log_warn_errno(r,
			       "Reading nf_tables notifications failed; checking the traffic "
			       "rules every %" PRId64 " s from now on",
			       d->f->iptables_resync);
		loop_source_free(d->nfnotify_io);
		d->nfnotify_io = NULL;
		return 0;
	}
	if (r == 0 || !traffic_mgr_kernel_notifies(d->traffic))
		return 0;
	log_v(2, "nf_tables reported %d changes in tables of our traffic rules", r);
	if (d->rules_checking)
		d->rules_dirty = true;
	else
		rules_check_soon(d);
	return 0;
}

/* Listen for nf_tables changes, so that the rules are checked when they change. */
static void rules_watch(struct daemon *d)
{
	int fd = nfnotify_open();

	if (fd < 0) {
		log_v(1,
		      "No nf_tables notifications (%s): checking the traffic rules every %" PRId64
		      " s",
		      strerror(-fd), d->f->iptables_resync);
		return;
	}
	d->nfnotify_fd = fd;
	if (loop_add_io(d->loop, fd, EPOLLIN, on_nfnotify, d, "nf_tables notifications",
			&d->nfnotify_io) < 0)
		return;
	log_v(1,
	      "Checking the traffic rules when nf_tables reports a change of their tables "
	      "(iptables-legacy: every %" PRId64 " s)",
	      d->f->iptables_resync);
}

static int on_backend_event(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	int r = backend_handle_events(d->backend);

	if (r > 0)
		schedule_reconcile(d);
	return r < 0 ? r : 0;
}

/* --ip-blackhole-route: keep `blackhole <own subnet>` routes (as upstream, every resync period). */
static void ensure_blackhole_routes(struct daemon *d)
{
	struct ip_net dst[2];
	int n = rules_blackhole_routes(&d->rules_v4, &d->rules_v6, dst);

	for (int i = 0; i < n; i++) {
		struct route_spec rs = {
			.family = dst[i].addr.family,
			.dst = dst[i],
			.type = NL_ROUTE_BLACKHOLE,
			.proto = NL_PROTO_FLANNEL,
		};
		int r = nl_route_replace(d->nlh, &rs);
		char buf[IP_NET_STRLEN];

		if (r < 0)
			log_warn_errno(r, "Failed to add blackhole route %s",
				       ip_net_fmt(&dst[i], buf));
	}
}

static int rules_setup(struct daemon *d)
{
	struct traffic_config cfg = {
		.mode = d->nc->enable_nftables ? TRAFFIC_MODE_NFTABLES : TRAFFIC_MODE_IPTABLES,
		.ip_masq = d->f->ip_masq,
		.forward_rules = d->f->iptables_forward_rules,
		.random_fully = !d->f->ip_masq_fully_random_disable,
	};
	struct subnet_env prev;
	struct errmsg err = {0};
	bool have_prev;
	int r;

	if (d->own->has_subnet) {
		r = rules_net_set(&d->rules_v4, RULES_IPV4, &d->nc->network, &d->own->subnet);
		if (r < 0)
			return log_error_errno(r, "Invalid IPv4 network for the traffic rules");
	}
	if (d->own->has_subnet6) {
		r = rules_net_set(&d->rules_v6, RULES_IPV6, &d->nc->ipv6_network, &d->own->subnet6);
		if (r < 0)
			return log_error_errno(r, "Invalid IPv6 network for the traffic rules");
	}

	r = subnet_env_read(d->f->subnet_file, &prev, &err);
	have_prev = r >= 0;
	if (r < 0 && r != -ENOENT)
		log_warn("Ignoring the previous %s: %s", d->f->subnet_file, err.text);

	if (!d->traffic) {
		r = traffic_mgr_new(&cfg, &d->traffic);
		if (r < 0)
			return log_error_errno(r, "Failed to set up the traffic manager");
	}
	r = traffic_mgr_ensure(d->traffic, d->own->has_subnet ? &d->rules_v4 : NULL,
			       d->own->has_subnet6 ? &d->rules_v6 : NULL, have_prev ? &prev : NULL);
	d->rules_ok = r >= 0;
	if (r < 0)
		log_error_errno(r,
				"Failed to install the traffic rules; retrying every %" PRId64 " s",
				d->f->iptables_resync);
	if (d->f->ip_blackhole_route)
		ensure_blackhole_routes(d);
	return 0;
}

static int write_subnet_env(struct daemon *d)
{
	struct subnet_env e = {
		.has_mtu = true,
		.mtu = d->mtu,
		.has_ipmasq = true,
		.ipmasq = d->f->ip_masq,
	};
	int r;

	if (d->own->has_subnet) {
		e.has_network = true;
		e.network = d->nc->network;
		e.has_subnet = true;
		ip_net_first_host(&d->own->subnet, &e.subnet);
	}
	if (d->own->has_subnet6) {
		e.has_ipv6_network = true;
		e.ipv6_network = d->nc->ipv6_network;
		e.has_ipv6_subnet = true;
		ip_net_first_host(&d->own->subnet6, &e.ipv6_subnet);
	}
	r = subnet_env_write(d->f->subnet_file, &e);
	if (r < 0)
		return log_warn_errno(r, "Failed to write the subnet file %s", d->f->subnet_file);
	d->subnet_env_written = true;
	log_info("Wrote subnet file to %s", d->f->subnet_file);
	return 0;
}

/* The VtepMAC(s) we published before, so that peers' entries stay valid across restarts. */
static void previous_macs(const struct kube_node *node, const char *type,
			  struct backend_config *cfg)
{
	const char *t = node->ann[KUBE_ANN_BACKEND_TYPE];
	const char *v4 = node->ann[KUBE_ANN_BACKEND_DATA],
		   *v6 = node->ann[KUBE_ANN_BACKEND_V6_DATA];
	struct lease_backend_data d;

	if (!t || strcmp(t, type) != 0)
		return;
	if (v4 && lease_backend_data_parse(v4, strlen(v4), &d, NULL) >= 0) {
		cfg->has_mac = d.has_mac;
		memcpy(cfg->mac, d.mac, 6);
	}
	if (v6 && lease_backend_data_parse(v6, strlen(v6), &d, NULL) >= 0) {
		cfg->has_mac6 = d.has_mac;
		memcpy(cfg->mac6, d.mac, 6);
	}
}

static int parse_public_ip(const char *what, const char *s, int family, struct ip_addr *ret)
{
	if (!s || !*s)
		return 0;
	if (ip_addr_parse_family(family, s, ret) < 0) {
		log_error("%s: invalid IP%s address \"%s\"", what, family == AF_INET6 ? "v6" : "v4",
			  s);
		return -EINVAL;
	}
	return 0;
}

static int select_interface(struct daemon *d, const struct kube_node *node)
{
	const struct flannel_flags *f = d->f;
	struct iface_request req = {
		.ifaces = (char *const *)f->iface.v,
		.n_ifaces = f->iface.n,
		.regexes = (char *const *)f->iface_regex.v,
		.n_regexes = f->iface_regex.n,
		.ipv4 = d->nc->enable_ipv4,
		.ipv6 = d->nc->enable_ipv6,
	};
	struct errmsg err = {0};
	int r;

	if (parse_public_ip("--public-ip", f->public_ip, AF_INET, &req.public_ip) < 0 ||
	    parse_public_ip("--public-ipv6", f->public_ipv6, AF_INET6, &req.public_ip6) < 0)
		return -EINVAL;
	/* The node-public-ip annotations override the flags, as upstream (§0.1 step 9). */
	if (node &&
	    (parse_public_ip("node-public-ip annotation", node->ann[KUBE_ANN_NODE_PUBLIC_IP],
			     AF_INET, &req.public_ip) < 0 ||
	     parse_public_ip("node-public-ipv6 annotation", node->ann[KUBE_ANN_NODE_PUBLIC_IPV6],
			     AF_INET6, &req.public_ip6) < 0))
		return -EINVAL;
	if (f->iface_can_reach && *f->iface_can_reach) {
		if (ip_addr_parse(f->iface_can_reach, &req.can_reach) < 0) {
			log_error("--iface-can-reach: invalid IP address \"%s\"",
				  f->iface_can_reach);
			return -EINVAL;
		}
		req.has_can_reach = true;
	}

	r = iface_discover(d->nlh, &req, &d->ext, &err);
	if (r < 0) {
		log_error("Failed to find any valid interface to use: %s", err.text);
		return r;
	}
	log_info("Using interface with name %s and address %s", d->ext.name,
		 ip_addr_fmt(d->ext.iface_addr.family ? &d->ext.iface_addr : &d->ext.iface_addr6,
			     (char[IP_ADDR_STRLEN]){0}));
	if (ip_addr_is_set(&d->ext.ext_addr))
		log_info("Defaulting external address to interface address (%s)",
			 ip_addr_fmt(&d->ext.ext_addr, (char[IP_ADDR_STRLEN]){0}));
	return 0;
}

/*
 * Interface, backend device(s) and the attributes to publish: the part of
 * upstream's RegisterNetwork that comes before the lease. node: our Node in
 * kube mode (for node-public-ip and the previous VtepMAC), NULL in etcd mode.
 */
static int prepare_backend(struct daemon *d, const struct kube_node *node)
{
	struct backend_config cfg = {
		.type = d->nc->backend_type,
		.json = d->nc->backend_json,
		.json_len = strlen(d->nc->backend_json),
		.ipv4 = d->nc->enable_ipv4,
		.ipv6 = d->nc->enable_ipv6,
		.loop = d->loop,
		/* Several flannel networks may share the host: routes are ours by network. */
		.has_network = d->nc->has_network,
		.network = d->nc->network,
		.has_network6 = d->nc->has_ipv6_network,
		.network6 = d->nc->ipv6_network,
	};
	struct errmsg err = {0};
	int r;

	r = select_interface(d, node);
	if (r < 0)
		return r;
	cfg.ext = &d->ext;
	if (node)
		previous_macs(node, d->nc->backend_type, &cfg);

	r = backend_new(d->nlh, &cfg, &d->backend, &err);
	if (r < 0) {
		log_error("%s: %s", d->kube ? d->f->net_config_path : "network config", err.text);
		return r;
	}
	r = backend_register(d->backend, &d->attrs, &d->mtu, &err);
	if (r < 0) {
		log_error("Error registering network: %s", err.text);
		/* Fatal; no callback until the loop stops may take it for registered. */
		backend_free(d->backend);
		d->backend = NULL;
		return r;
	}
	return 0;
}

static void log_lease(const struct lease *l)
{
	char a[IP_NET_STRLEN], b[IP_NET_STRLEN];

	if (l->has_subnet && l->has_subnet6)
		log_info("Acquired lease: %s, %s", ip_net_fmt(&l->subnet, a),
			 ip_net_fmt(&l->subnet6, b));
	else
		log_info("Acquired lease: %s",
			 ip_net_fmt(l->has_subnet ? &l->subnet : &l->subnet6, a));
}

static bool lease_subnets_equal(const struct lease *a, const struct lease *b)
{
	return a->has_subnet == b->has_subnet && a->has_subnet6 == b->has_subnet6 &&
	       (!a->has_subnet || ip_net_equal(&a->subnet, &b->subnet)) &&
	       (!a->has_subnet6 || ip_net_equal(&a->subnet6, &b->subnet6));
}

/*
 * The own lease is known (first time) or changed: put it on the backend,
 * install the traffic rules, write subnet.env, start watching the kernel and
 * reconcile. own carries the subnets; public IPs and attributes are ours.
 */
static void lease_acquired(struct daemon *d, const struct lease *own)
{
	bool first = !d->have_lease;
	struct errmsg err = {0};
	struct lease l;
	int r;

	if (!first && lease_subnets_equal(own, d->own))
		return;
	if (!first)
		log_warn("The lease of %s changed; moving to the new one", own->name);
	log_lease(own);
	l = *own;
	l.public_ip = d->ext.ext_addr;
	l.public_ip6 = d->ext.ext_addr6;
	l.attrs = d->attrs;
	r = lease_replace(&d->own, &l);
	if (r < 0) {
		log_error_errno(r, "Failed to record the lease");
		if (first)
			daemon_fatal(d, r);
		return;
	}
	d->have_lease = true;

	r = backend_set_lease(d->backend, d->own, &err);
	if (r < 0) {
		log_error("Failed to configure the lease on the backend device: %s", err.text);
		if (first) {
			daemon_fatal(d, r);
			return;
		}
	}
	rules_setup(d);
	write_subnet_env(d);
	/* The other mode's leftovers (one more program run) need not hold up subnet.env. */
	if (first && d->traffic)
		traffic_mgr_cleanup_other(d->traffic);
	if (first) {
		r = loop_add_io(d->loop, backend_event_fd(d->backend), EPOLLIN, on_backend_event, d,
				"netlink notifications", &d->backend_io);
		d->last_check_usec = now_monotonic_usec();
		if (r >= 0)
			r = loop_timer_arm(d->resync_timer, RESYNC_INTERVAL_USEC);
		if (r >= 0 && d->f->iptables_resync > 0) {
			r = loop_add_timer(d->loop, (uint64_t)d->f->iptables_resync * USEC_PER_SEC,
					   on_rules_resync, d, "traffic rules resync",
					   &d->rules_timer);
			d->rules_due_usec = now_monotonic_usec() +
					    (uint64_t)d->f->iptables_resync * USEC_PER_SEC;
			if (r >= 0 && d->traffic)
				rules_watch(d);
		}
		if (r < 0) {
			daemon_fatal(d, r);
			return;
		}
		set_waiting(d, "the first reconcile of the peers");
	}
	schedule_reconcile(d);
}

/* kube mode: called whenever the own Node may have changed. */
static void own_node_update(struct daemon *d)
{
	const char *name = kube_mgr_node_name(d->kube);
	struct errmsg err = {0};
	struct lease own;
	int r;

	/* The own Node comes ahead of the list (a GET); until then, or the list, wait. */
	if (loop_exiting(d->loop) || (!kube_mgr_synced(d->kube) && !kube_mgr_own_node(d->kube)))
		return;
	r = kube_mgr_own_lease(d->kube, &own, &err);
	if (r == -ENOENT) {
		set_waiting(d, "node %s to be registered in the API server", name ? name : "?");
		return;
	}
	if (r == -ENODATA) {
		set_waiting(d,
			    "node %s to be assigned a podCIDR (the controller manager allocates "
			    "them with --allocate-node-cidrs, e.g. kubeadm init "
			    "--pod-network-cidr=...)",
			    name ? name : "?");
		return;
	}
	if (r < 0) {
		set_waiting(d, "a valid podCIDR on node %s: %s", name ? name : "?", err.text);
		return;
	}

	if (!d->backend) {
		r = prepare_backend(d, kube_mgr_own_node(d->kube));
		if (r >= 0)
			r = kube_mgr_publish(d->kube, &d->attrs,
					     own.has_subnet ? &d->ext.ext_addr : NULL,
					     own.has_subnet6 ? &d->ext.ext_addr6 : NULL);
		if (r < 0) {
			daemon_fatal(d, r);
			return;
		}
	}
	lease_acquired(d, &own);
}

static void on_own_node_changed(struct kube_mgr *m, void *userdata)
{
	own_node_update(userdata);
}

static void on_peers_changed(struct kube_mgr *m, void *userdata)
{
	schedule_reconcile(userdata);
}

/* Same-node pod traffic crosses cni0 as bridged frames: the table sees it through br_netfilter. */
static void check_netpol_bridge(const struct netconf *nc)
{
	static const char *const sysctls[] = {"bridge-nf-call-iptables",
					      "bridge-nf-call-ip6tables"};

	for (int v6 = 0; v6 < 2; v6++) {
		_cleanup_free_ char *value = NULL;
		char path[128];
		size_t len;

		if (!(v6 ? nc->enable_ipv6 : nc->enable_ipv4))
			continue;
		snprintf(path, sizeof(path), "/proc/sys/net/bridge/%s", sysctls[v6]);
		if (read_file_bounded(path, 64, &value, &len) < 0 || value[0] != '1')
			log_error("Network policy cannot judge traffic between pods of this node: "
				  "%s is not 1 (modprobe br_netfilter; sysctl net.bridge.%s=1)",
				  path, sysctls[v6]);
	}
}

/* Network policy needs the node's name, known once the node list is synced. */
static void start_netpol(struct daemon *d)
{
	int r;

	if (!d->f->network_policy) {
		(void)netpol_remove_table(NULL);
		return;
	}
	if (d->netpol)
		return;
	check_netpol_bridge(d->nc);
	r = netpol_agent_new(d->loop, kube_mgr_http(d->kube), kube_mgr_node_name(d->kube), NULL,
			     &d->netpol);
	if (r >= 0)
		r = netpol_agent_start(d->netpol);
	if (r < 0) {
		log_error_errno(r, "Failed to start network policy enforcement");
		daemon_fatal(d, r);
	}
}

static void on_synced(struct kube_mgr *m, void *userdata)
{
	struct daemon *d = userdata;

	log_info("Node list synced: %zu peers", lease_set_size(kube_mgr_peers(m)));
	own_node_update(d);
	/* The peers that came with the list wait for it (schedule_reconcile): their
	 * pass starts now, also for a backend no kernel notification wakes up. */
	schedule_reconcile(d);
	start_netpol(d);
}

static void on_published(struct kube_mgr *m, int r, void *userdata)
{
	if (r < 0)
		log_error_errno(r, "Failed to publish this node's lease annotations");
	else
		log_v(1, "Published this node's lease annotations");
}

static int on_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	if (si->ssi_signo == SIGHUP) {
		if (d->etcd) {
			log_info("SIGHUP: listing the subnets again");
			return etcd_mgr_relist(d->etcd);
		}
		log_info("SIGHUP: re-reading the token and listing the nodes again");
		kube_mgr_reload_token(d->kube);
		return kube_mgr_relist(d->kube);
	}
	log_info("Received %s: exiting, leaving the datapath and rules in place",
		 strsignal((int)si->ssi_signo));
	loop_exit(d->loop, 0);
	return 0;
}

/* ---- HTTP: /healthz, /readyz, /metrics, /status ---- */

static void render_etcd_metrics(struct daemon *d, struct buf *out)
{
	struct etcd_mgr_stats es;

	etcd_mgr_get_stats(d->etcd, &es);
	prom_metric_u64(out, "flannel_etcd_watch_restarts_total", "counter",
			"etcd watches ended by an error or a dropped connection.",
			es.watch_restarts);
	prom_metric_u64(out, "flannel_etcd_relists_total", "counter",
			"Snapshots of the subnets after a compaction or SIGHUP.", es.relists);
	prom_metric_u64(out, "flannel_etcd_watch_events_total", "counter",
			"Subnet watch events received.", es.events);
	prom_metric_u64(out, "flannel_etcd_skipped_keys_total", "counter",
			"Malformed subnet keys or values skipped.", es.skipped_keys);
	prom_metric_u64(out, "flannel_etcd_lease_renewals_total", "counter",
			"Renewals of the own subnet lease.", es.renewals);
	prom_metric_u64(out, "flannel_etcd_lease_renew_failures_total", "counter",
			"Failed renewals (retried every minute).", es.renew_failures);
	prom_metric(out, "flannel_etcd_lease_expiry_timestamp_seconds", "gauge",
		    "When the own subnet lease expires unless renewed.",
		    (double)etcd_mgr_lease_expiry_usec(d->etcd) / (double)USEC_PER_SEC);
}

static int render_metrics(struct daemon *d, struct buf *out)
{
	static const char *verbs[] = {"GET", "LIST", "WATCH", "PATCH"};
	static const double kube_bounds[] = KUBE_LATENCY_BUCKETS;
	struct kube_mgr_stats ks = {0};
	struct backend_status bs = {0};
	const struct traffic_stats *ts = d->traffic ? traffic_mgr_stats(d->traffic) : NULL;
	const struct nl_counters *nc = nlh_counters(d->nlh);
	char labels[96];

	if (d->kube)
		kube_mgr_get_stats(d->kube, &ks);
	if (d->backend)
		backend_status(d->backend, &bs);

	prom_header(out, "flannel_build_info", "gauge", "Version of flanneld.");
	snprintf(labels, sizeof(labels), "version=\"%s\"", FLANNEL_VERSION);
	prom_sample(out, "flannel_build_info", labels, 1);
	prom_metric(out, "flannel_ready", "gauge",
		    "1 once subnet.env is written and the first reconcile finished.", d->ready);
	prom_metric_u64(out, "flannel_peers", "gauge", "Peers (other nodes with a lease) known.",
			lease_set_size(peers(d)));
	prom_metric_u64(out, "flannel_peers_unprogrammable", "gauge",
			"Peers that could not be programmed (other backend type, missing data).",
			bs.n_skipped);
	prom_header(out, "flannel_peers_skipped", "gauge",
		    "Peers not programmed, by reason (backend-type, no-vtep-mac, vni, conflict, "
		    "no-public-key).");
	for (int k = BACKEND_SKIP_NONE + 1; k < _BACKEND_SKIP_MAX; k++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", backend_skip_name(k));
		prom_sample_u64(out, "flannel_peers_skipped", labels, bs.n_skipped_by[k]);
	}
	prom_metric_u64(out, "flannel_peers_refused", "gauge",
			"Peers with a route, neighbour or FDB entry the kernel refuses.",
			bs.n_refused);
	prom_metric_u64(out, "flannel_kernel_entries_desired", "gauge",
			"Routes, neighbour, FDB entries and WireGuard peers the backend wants.",
			bs.n_desired);

	prom_metric_u64(out, "flannel_reconcile_total", "counter", "Reconcile passes run.",
			d->reconciles);
	prom_metric_u64(out, "flannel_reconcile_errors_total", "counter",
			"Reconcile passes that failed.", d->reconcile_errors);
	prom_header(out, "flannel_reconcile_duration_seconds", "histogram",
		    "Duration of a reconcile pass (dump, plan, apply).");
	prom_histogram(out, "flannel_reconcile_duration_seconds", NULL, &d->reconcile_seconds);
	prom_metric_u64(
		out, "flannel_drift_found_total", "counter",
		"Kernel entries found missing or wrong while the desired state was unchanged.",
		bs.drift_found);
	prom_metric_u64(out, "flannel_drift_repaired_total", "counter",
			"Drifted kernel entries repaired.", bs.drift_repaired);
	prom_metric_u64(out, "flannel_drift_checks_total", "counter",
			"Periodic checks of the kernel's entries against what was programmed.",
			bs.checks);
	prom_metric_u64(out, "flannel_devices_created_total", "counter",
			"VXLAN or WireGuard devices created (a deleted device is recreated, a "
			"dead wireguard-go restarted).",
			bs.devices_created);
	prom_metric_u64(out, "flannel_backend_entries_added_total", "counter",
			"Routes, neighbour, FDB entries and WireGuard peers written.",
			bs.entries_added);
	prom_metric_u64(out, "flannel_backend_entries_removed_total", "counter",
			"Stale routes, neighbour, FDB entries and WireGuard peers removed.",
			bs.entries_removed);

	prom_header(out, "flannel_netlink_operations_total", "counter",
		    "Netlink operations by kind.");
	for (int i = 0; i < _NL_OP_MAX; i++) {
		snprintf(labels, sizeof(labels), "op=\"%s\"", nl_op_name(i));
		prom_sample_u64(out, "flannel_netlink_operations_total", labels, nc->ops[i]);
	}
	prom_metric_u64(out, "flannel_netlink_errors_total", "counter",
			"Netlink operations that failed.", nc->errors);

	if (d->kube) {
		prom_metric_u64(out, "flannel_kube_watch_restarts_total", "counter",
				"Node watches ended by an error or a dropped connection.",
				ks.watch.watch_restarts);
		prom_metric_u64(out, "flannel_kube_relists_total", "counter",
				"Node LISTs after 410 Gone, SIGHUP or an expired continue token.",
				ks.watch.relists);
		prom_metric_u64(out, "flannel_kube_watch_events_total", "counter",
				"Node watch events received.", ks.watch.events);
		prom_metric_u64(out, "flannel_kube_skipped_objects_total", "counter",
				"Malformed or oversized Node objects skipped.",
				ks.watch.skipped_objects + ks.skipped_nodes);
		size_t n_invalid;
		(void)kube_mgr_invalid_nodes(d->kube, &n_invalid);
		prom_metric_u64(out, "flannel_kube_invalid_nodes", "gauge",
				"Flannel nodes whose lease cannot be built (see flanneld status).",
				n_invalid);
		prom_metric(out, "flannel_kube_last_sync_timestamp_seconds", "gauge",
			    "Time of the last successful LIST or watch event.",
			    (double)ks.watch.last_sync_realtime_usec / (double)USEC_PER_SEC);

		prom_header(out, "flannel_kube_api_requests_total", "counter",
			    "API server requests by verb and status code class (0: no response).");
		for (int v = 0; v < _KUBE_VERB_MAX; v++)
			for (int c = 0; c < 6; c++) {
				if (!ks.http.requests[v][c])
					continue;
				snprintf(labels, sizeof(labels), "verb=\"%s\",code=\"%s\"",
					 verbs[v],
					 c == 0 ? "none"
						: (const char *[]){"", "1xx", "2xx", "3xx", "4xx",
								   "5xx"}[c]);
				prom_sample_u64(out, "flannel_kube_api_requests_total", labels,
						ks.http.requests[v][c]);
			}
		prom_header(out, "flannel_kube_api_request_duration_seconds", "histogram",
			    "API server request latency by verb (watches: until the stream ends).");
		for (int v = 0; v < _KUBE_VERB_MAX; v++) {
			struct histogram h;
			uint64_t total = 0;

			histogram_init(&h, kube_bounds, ARRAY_SIZE(kube_bounds));
			for (size_t i = 0; i < ARRAY_SIZE(kube_bounds); i++) {
				h.buckets[i] = ks.http.latency[v][i];
				total += h.buckets[i];
			}
			h.count = total + ks.http.latency[v][ARRAY_SIZE(kube_bounds)];
			h.sum = (double)ks.http.latency_sum_usec[v] / (double)USEC_PER_SEC;
			snprintf(labels, sizeof(labels), "verb=\"%s\"", verbs[v]);
			prom_histogram(out, "flannel_kube_api_request_duration_seconds", labels,
				       &h);
		}

	} else {
		render_etcd_metrics(d, out);
	}
	if (d->netpol)
		netpol_agent_metrics(d->netpol, out);

	if (ts) {
		prom_metric_u64(out, "flannel_traffic_rules_checks_total", "counter",
				"Resync checks of the masquerade/forward rules.", ts->checks);
		prom_metric_u64(out, "flannel_traffic_rules_repairs_total", "counter",
				"Address families whose rules had drifted and were rewritten.",
				ts->repairs);
		prom_metric_u64(out, "flannel_traffic_rules_failures_total", "counter",
				"Failed reads or writes of the rules.", ts->failures);
		prom_metric_u64(out, "flannel_traffic_rules_execs_total", "counter",
				"iptables-save/-restore or nft invocations.", ts->execs);
	}
	return out->data ? 0 : -ENOMEM;
}

/* Why a peer is not (fully) programmed, for the status view. */
static void peer_problem(const struct daemon *d, const struct backend_peer_status *ps,
			 const struct lease *l, struct status_peer *p)
{
	const size_t size = sizeof(p->problem);

	if (ps->skipped) {
		p->skipped = backend_skip_name(ps->skip_reason);
		switch (ps->skip_reason) {
		case BACKEND_SKIP_VNI:
			snprintf(p->problem, size, "other VNI %" PRIu32 ", ours %" PRIu32,
				 l->attrs.vni, d->attrs.vni);
			break;
		case BACKEND_SKIP_BACKEND_TYPE:
			snprintf(p->problem, size, "backend type %s, ours %s",
				 l->attrs.backend_type, d->nc->backend_type);
			break;
		case BACKEND_SKIP_NO_VTEP_MAC:
			snprintf(p->problem, size, "no VtepMAC in its backend-data");
			break;
		case BACKEND_SKIP_NO_PUBLIC_KEY:
			snprintf(p->problem, size, "no PublicKey in its backend-data");
			break;
		default:
			snprintf(p->problem, size, "subnet or VtepMAC also another peer's");
			break;
		}
	} else if (ps->refused && ps->problem) {
		p->refused = true;
		snprintf(p->problem, size, "%s", ps->problem);
	} else if (ps->refused) {
		p->refused = true;
		snprintf(p->problem, size, "the kernel refuses its %s: %s",
			 ps->refused_bits & (BACKEND_ROUTE4 | BACKEND_ROUTE6)	? "route"
			 : ps->refused_bits & (BACKEND_NEIGH4 | BACKEND_NEIGH6) ? "neighbour"
			 : ps->refused_bits & (BACKEND_PEER4 | BACKEND_PEER6)	? "WireGuard peer"
										: "FDB entry",
			 strerror(-ps->refused));
	}
}

/* A family's BACKEND_* bits as the status view's STATUS_* bits. */
static uint8_t status_bits(unsigned b, bool v6)
{
	return (b & (v6 ? BACKEND_ROUTE6 : BACKEND_ROUTE4) ? STATUS_ROUTE : 0) |
	       (b & (v6 ? BACKEND_NEIGH6 : BACKEND_NEIGH4) ? STATUS_NEIGH : 0) |
	       (b & (v6 ? BACKEND_FDB6 : BACKEND_FDB4) ? STATUS_FDB : 0) |
	       (b & (v6 ? BACKEND_PEER6 : BACKEND_PEER4) ? STATUS_PEER : 0);
}

static int render_status(struct daemon *d, bool json, struct buf *out)
{
	_cleanup_free_ struct status_peer *rows = NULL;
	struct status_error errors[STATUS_ERRORS_KEPT];
	struct backend_status bs = {0};
	struct backend_peer_status ps = {0};
	char device[32] = "", device6[32] = "";
	struct status_report rep = {
		.node = node_name(d),
		.backend_type = d->nc ? d->nc->backend_type : NULL,
		.ext_iface = d->ext.name[0] ? d->ext.name : NULL,
		.own = d->have_lease ? d->own : NULL,
		.ready = d->ready,
		.waiting_for = d->waiting_for[0] ? d->waiting_for : NULL,
		.started_usec = d->started_usec,
		.last_reconcile_usec = d->last_reconcile_usec,
		.reconciles = d->reconciles,
	};
	const struct lease *const *list;
	size_t n;

	if (d->kube) {
		struct kube_mgr_stats ks;

		kube_mgr_get_stats(d->kube, &ks);
		rep.last_sync_usec = ks.watch.last_sync_realtime_usec;
	}
	if (d->backend) {
		backend_status(d->backend, &bs);
		rep.drift_found = bs.drift_found;
		rep.drift_repaired = bs.drift_repaired;
		if (strcmp(d->nc->backend_type, "vxlan") == 0) {
			uint32_t vni = d->attrs.vni;
			if (d->own->has_subnet)
				snprintf(device, sizeof(device), "flannel.%" PRIu32, vni);
			if (d->own->has_subnet6)
				snprintf(device6, sizeof(device6), "flannel-v6.%" PRIu32, vni);
			rep.device = device[0] ? device : device6;
			rep.device6 = device[0] && device6[0] ? device6 : NULL;
		} else if (strcmp(d->nc->backend_type, "wireguard") == 0) {
			rep.device = d->own->has_subnet ? "flannel-wg" : NULL;
			rep.device6 = d->own->has_subnet6 ? "flannel-wg-v6" : NULL;
			if (!rep.device) {
				rep.device = rep.device6;
				rep.device6 = NULL;
			}
		} else {
			rep.device = d->ext.name;
		}
	}

	list = lease_set_sorted(peers(d), &n);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	/* Both lists are sorted by name: merge them. */
	for (size_t i = 0, j = 0; i < n; i++) {
		struct status_peer *p = &rows[i];
		int c = 1;

		p->lease = list[i];
		/* The backend computes each peer's entries when asked. */
		for (; j < bs.n_peers; j++) {
			backend_peer_status(d->backend, j, &ps);
			c = strcmp(ps.name, list[i]->name);
			if (c >= 0)
				break;
		}
		if (j < bs.n_peers && c == 0) {
			unsigned want = ps.want, have = ps.have;

			p->expected4 = status_bits(want, false);
			p->present4 = status_bits(have, false);
			p->expected6 = status_bits(want, true);
			p->present6 = status_bits(have, true);
			peer_problem(d, &ps, list[i], p);
		}
	}
	rep.peers = rows;
	rep.n_peers = n;

	_cleanup_free_ struct status_invalid *invalid = NULL;
	if (d->kube) {
		size_t n_inv;
		const struct kube_invalid_node *inv = kube_mgr_invalid_nodes(d->kube, &n_inv);

		invalid = calloc(n_inv ? n_inv : 1, sizeof(*invalid));
		if (!invalid)
			return -ENOMEM;
		for (size_t i = 0; i < n_inv; i++)
			invalid[i] = (struct status_invalid){inv[i].name, inv[i].error};
		rep.invalid = invalid;
		rep.n_invalid = n_inv;
	}

	/* Oldest first. */
	for (size_t i = 0; i < d->n_errors; i++)
		errors[i] = d->errors[(d->errors_next + STATUS_ERRORS_KEPT - d->n_errors + i) %
				      STATUS_ERRORS_KEPT];
	rep.errors = errors;
	rep.n_errors = d->n_errors;

	_cleanup_buf_ struct buf np = BUF_INIT;
	if (d->netpol && netpol_agent_status(d->netpol, &np) >= 0)
		rep.network_policy = np.data;

	return json ? status_render_json(&rep, out) : status_render_text(&rep, out);
}

static int on_http(const char *path, const char *format, struct buf *body,
		   const char **content_type, void *userdata)
{
	struct daemon *d = userdata;

	if (strcmp(path, "/healthz") == 0) {
		buf_puts(body, "flanneld is running");
		return 200;
	}
	if (strcmp(path, "/readyz") == 0) {
		buf_puts(body, d->ready ? "flanneld is ready" : "flanneld is not ready yet");
		return d->ready ? 200 : 503;
	}
	if (strcmp(path, "/metrics") == 0) {
		*content_type = PROM_CONTENT_TYPE;
		return render_metrics(d, body) < 0 ? 500 : 200;
	}
	if (strcmp(path, "/status") == 0) {
		bool json = format && strcmp(format, "json") == 0;

		if (json)
			*content_type = "application/json";
		return render_status(d, json, body) < 0 ? 500 : 200;
	}
	buf_puts(body, "404 page not found\n");
	return 404;
}

/* ---- start-up ---- */

/* Upstream knows more backends; these are the ones built here. */
static int check_backend_type(const struct netconf *nc, const char *where)
{
	static const char *const types[] = {"vxlan", "host-gw", "wireguard", "alloc", "extension"};

	for (size_t k = 0; k < ARRAY_SIZE(types); k++)
		if (strcmp(nc->backend_type, types[k]) == 0)
			return 0;
	log_error("%s: Backend: unsupported backend type \"%s\" (supported: vxlan, host-gw, "
		  "wireguard, alloc, extension)",
		  where, nc->backend_type);
	return -EINVAL;
}

/* Upstream's start-up check (§0.1 step 8), fatal: the rules would not see bridged pod traffic. */
static int check_br_netfilter(const struct netconf *nc)
{
	struct errmsg err = {0};
	int r = traffic_check_br_netfilter(nc->enable_nftables ? TRAFFIC_MODE_NFTABLES
							       : TRAFFIC_MODE_IPTABLES,
					   nc->enable_ipv4, nc->enable_ipv6, NULL, &err);

	if (r < 0)
		log_error("%s", err.text);
	return r;
}

static int load_netconf(struct daemon *d)
{
	_cleanup_free_ char *text = NULL;
	struct errmsg err = {0};
	size_t len;
	int r;

	r = read_file_bounded(d->f->net_config_path, NETCONF_MAX_SIZE, &text, &len);
	if (r < 0)
		return log_error_errno(r, "Failed to read net conf %s", d->f->net_config_path);
	r = netconf_parse(text, len, &d->file_nc, &err);
	if (r < 0) {
		log_error("%s: %s", d->f->net_config_path, err.text);
		return r;
	}
	d->nc = &d->file_nc;
	return check_backend_type(d->nc, d->f->net_config_path);
}

static int start_kube(struct daemon *d)
{
	static const struct kube_mgr_callbacks callbacks = {
		.own_node_changed = on_own_node_changed,
		.peers_changed = on_peers_changed,
		.synced = on_synced,
		.published = on_published,
	};
	struct kube_config conn = {0};
	struct kube_mgr_config cfg = {
		.conn = &conn,
		.annotation_prefix = d->f->kube_annotation_prefix,
		.set_node_network_unavailable = d->f->set_node_network_unavailable,
		.lease =
			{
				.enable_ipv4 = d->nc->enable_ipv4,
				.enable_ipv6 = d->nc->enable_ipv6,
				.has_network = d->nc->has_network,
				.has_ipv6_network = d->nc->has_ipv6_network,
				.network = d->nc->network,
				.ipv6_network = d->nc->ipv6_network,
			},
	};
	struct errmsg err = {0};
	int r;

	r = kube_config_load(d->f->kubeconfig_file, d->f->kube_api_url, &conn, &err);
	if (r < 0) {
		log_error("Failed to create SubnetManager: %s", err.text);
		kube_config_done(&conn);
		return r;
	}
	r = kube_mgr_new(d->loop, &cfg, &callbacks, d, &d->kube);
	kube_config_done(&conn);
	if (r < 0)
		return log_error_errno(r, "Failed to create SubnetManager");
	r = kube_mgr_start(d->kube);
	if (r < 0)
		return log_error_errno(r, "Failed to create SubnetManager: set NODE_NAME, or "
					  "POD_NAME and POD_NAMESPACE");
	set_waiting(d, "the node list from the API server");
	return 0;
}

static void on_etcd_config_ready(struct etcd_mgr *m, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	if (d->nc)
		return;
	d->nc = etcd_mgr_netconf(m);
	r = check_backend_type(d->nc, "network config");
	if (r >= 0)
		r = check_br_netfilter(d->nc);
	if (r >= 0)
		r = prepare_backend(d, NULL);
	if (r >= 0)
		r = etcd_mgr_publish(m, &d->attrs, d->nc->enable_ipv4 ? &d->ext.ext_addr : NULL,
				     d->nc->enable_ipv6 ? &d->ext.ext_addr6 : NULL);
	if (r < 0) {
		daemon_fatal(d, r);
		return;
	}
	set_waiting(d, "a subnet lease from etcd");
}

static void on_etcd_own_lease_changed(struct etcd_mgr *m, void *userdata)
{
	struct daemon *d = userdata;
	struct errmsg err = {0};
	struct lease own;

	if (etcd_mgr_own_lease(m, &own, &err) >= 0)
		lease_acquired(d, &own);
}

static void on_etcd_peers_changed(struct etcd_mgr *m, void *userdata)
{
	schedule_reconcile(userdata);
}

static void on_etcd_synced(struct etcd_mgr *m, void *userdata)
{
	log_info("Subnet list synced: %zu peers", lease_set_size(etcd_mgr_peers(m)));
	schedule_reconcile(userdata);
}

static void on_etcd_published(struct etcd_mgr *m, int r, void *userdata)
{
	if (r < 0) {
		log_error("Failed to acquire lease: %s", etcd_mgr_error(m));
		daemon_fatal(userdata, r);
	}
}

static void on_etcd_revoked(struct etcd_mgr *m, void *userdata)
{
	daemon_fatal(userdata, -EKEYREVOKED);
}

static int start_etcd(struct daemon *d)
{
	static const struct etcd_mgr_callbacks callbacks = {
		.config_ready = on_etcd_config_ready,
		.own_lease_changed = on_etcd_own_lease_changed,
		.peers_changed = on_etcd_peers_changed,
		.synced = on_etcd_synced,
		.published = on_etcd_published,
		.revoked = on_etcd_revoked,
	};
	const struct flannel_flags *f = d->f;
	struct etcd_mgr_config cfg = {
		.conn =
			{
				.endpoints = f->etcd_endpoints,
				.ca_file = f->etcd_cafile,
				.cert_file = f->etcd_certfile,
				.key_file = f->etcd_keyfile,
				.username = f->etcd_username,
				.password = f->etcd_password,
			},
		.prefix = f->etcd_prefix,
		.subnet_file = f->subnet_file,
		.renew_margin_sec = (uint64_t)f->subnet_lease_renew_margin * 60,
	};
	int r;

	r = etcd_mgr_new(d->loop, &cfg, &callbacks, d, &d->etcd);
	if (r >= 0)
		r = etcd_mgr_start(d->etcd);
	if (r < 0)
		return log_error_errno(r, "Failed to create SubnetManager");
	set_waiting(d, "the network config from etcd");
	return 0;
}

static void daemon_free(struct daemon *d)
{
	log_set_hook(NULL, NULL);
	http_server_free(d->http);
	loop_source_free(d->reconcile_timer);
	loop_source_free(d->resync_timer);
	loop_source_free(d->rules_timer);
	loop_source_free(d->backend_io);
	loop_source_free(d->nfnotify_io);
	if (d->nfnotify_fd >= 0)
		close(d->nfnotify_fd);
	backend_free(d->backend);
	lease_free(d->own);
	traffic_mgr_free(d->traffic);
	netpol_agent_free(d->netpol); /* its reflectors use the kube manager's API client */
	kube_mgr_free(d->kube);
	etcd_mgr_free(d->etcd);
	nlh_free(d->nlh);
	netconf_done(&d->file_nc);
	loop_free(d->loop);
}

int daemon_main(const struct flannel_flags *f)
{
	struct daemon d = {.f = f, .started_usec = now_realtime_usec(), .nfnotify_fd = -1};
	int r;

	histogram_init(&d.reconcile_seconds, prom_latency_bounds, prom_latency_bounds_n);
	log_set_hook(record_error, &d);

	r = loop_new(&d.loop);
	if (r >= 0)
		r = nlh_new(&d.nlh);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the event loop and netlink");
		goto out;
	}
	if (f->network_policy && !f->kube_subnet_mgr) {
		log_error(
			"--network-policy needs --kube-subnet-mgr (it watches the Kubernetes API)");
		r = -EINVAL;
		goto out;
	}
	/* kube mode reads net-conf.json now; etcd mode gets it from etcd later. */
	if (f->kube_subnet_mgr) {
		r = load_netconf(&d);
		if (r >= 0)
			r = check_br_netfilter(d.nc);
		if (r < 0)
			goto out;
	}

	/* A failing reconcile is retried after 1 s, doubling up to 16 s. */
	backoff_init(&d.reconcile_retry, RETRY_INTERVAL_USEC, RETRY_MAX_USEC);
	if ((r = loop_add_signal(d.loop, SIGTERM, on_signal, &d, NULL)) < 0 ||
	    (r = loop_add_signal(d.loop, SIGINT, on_signal, &d, NULL)) < 0 ||
	    (r = loop_add_signal(d.loop, SIGHUP, on_signal, &d, NULL)) < 0 ||
	    (r = loop_add_timer(d.loop, 0, on_reconcile, &d, "reconcile", &d.reconcile_timer)) <
		    0 ||
	    (r = loop_add_timer(d.loop, 0, on_resync, &d, "resync", &d.resync_timer)) < 0) {
		log_error_errno(r, "Failed to set up the event loop");
		goto out;
	}
	loop_timer_disarm(d.reconcile_timer);
	loop_timer_disarm(d.resync_timer);

	if (f->healthz_port > 0) {
		r = http_server_new(d.loop, f->healthz_ip, (uint16_t)f->healthz_port, on_http, &d,
				    &d.http);
		if (r < 0)
			goto out;
		log_info("Serving /healthz, /readyz, /metrics and /status on %s:%" PRId64,
			 f->healthz_ip, f->healthz_port);
	}

	r = f->kube_subnet_mgr ? start_kube(&d) : start_etcd(&d);
	if (r < 0)
		goto out;

	r = loop_run(d.loop);
	if (r == 0) {
		log_info("Exiting cleanly...");
	} else {
		r = d.exit_code;
	}
out:
	daemon_free(&d);
	return r < 0 ? r : 0;
}
