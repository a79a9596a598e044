/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd subnet manager as a set of small asynchronous chains on the
 * loop, each with at most one request in flight and its own retry timer:
 *
 *   config   range <prefix>/config -> parse + check -> config_ready
 *            (else log, "timed out", again in 1 s)
 *   acquire  range subnets -> plan (etcd/registry.h) -> [delete stale] ->
 *            grant -> put (reuse) | txn create-if-absent (race: again, 10x)
 *            -> own lease, published(0); transient errors retry with backoff
 *   renew    at expiry - margin: grant -> put with the new lease; error:
 *            "Error renewing lease (trying again in 1 min)"
 *   peers    range subnets -> diff into the lease_set -> watch from
 *            revision + 1; compaction -> list again; stream lost -> watch
 *            again from the next revision after a backoff
 *
 * Nothing here touches the datapath or forgets peers on errors: while etcd
 * is away the daemon keeps what it has.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "etcd/proto.h"
#include "etcd/registry.h"
#include "etcd/subnet_mgr.h"
#include "lib/core/backoff.h"
#include "lib/core/buf.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/core/quote.h"
#include "lib/core/subnet_env.h"

#define WATCH_LINE_MAX		(16u * 1024 * 1024)
#define WATCH_RETRY_BASE_USEC	(100 * USEC_PER_MSEC)
#define WATCH_RETRY_MAX_USEC	(5 * USEC_PER_SEC)
#define ACQUIRE_RETRY_BASE_USEC (1 * USEC_PER_SEC)
#define ACQUIRE_RETRY_MAX_USEC	(10 * USEC_PER_SEC)

struct etcd_mgr {
	struct loop *loop;
	struct etcd_mgr_callbacks cb;
	void *userdata;
	struct etcd_client *client;
	char *prefix, *config_key, *subnets_prefix, *subnet_file;
	uint64_t ttl_sec, margin_sec, renew_retry_sec;

	/* config */
	bool has_config;
	struct netconf conf;
	struct etcd_request *cfg_req;
	struct loop_source *cfg_timer;

	/* previous subnet.env */
	struct ip_net prev, prev6;

	/* acquisition */
	bool publishing, failed;
	struct lease_attrs attrs;
	char *ext_data; /* attrs.ext_data, owned */
	struct ip_addr pub4, pub6;
	unsigned race_tries;
	struct etcd_alloc_plan plan;
	int64_t acq_lease_id;
	int64_t acq_ttl;
	struct etcd_request *acq_req;
	struct loop_source *acq_timer;
	struct backoff acq_backoff;
	char error[256];

	/* own lease */
	bool has_own, revoked;
	struct lease *own; /* owned (lease_dup) once has_own */
	char *own_value;
	int64_t lease_id;
	uint64_t expiry_usec; /* realtime; 0: reservation */
	struct etcd_request *renew_req;
	struct loop_source *renew_timer;
	int64_t renew_lease_id, renew_ttl;

	/* peers */
	struct lease_set *peers;
	uint64_t notified_generation;
	bool synced;
	struct etcd_request *list_req, *watch_req;
	struct loop_source *watch_timer;
	struct backoff watch_backoff;
	struct line_framer framer;
	int64_t next_rev;
	bool watch_restart_pending;

	struct etcd_mgr_stats stats;
};

static void peers_list(struct etcd_mgr *m);
static void acquire_step_list(struct etcd_mgr *m);

static char *join(const char *a, const char *b)
{
	char *s;
	size_t la = strlen(a);

	/* path.Join: no doubled '/' */
	while (la > 1 && a[la - 1] == '/')
		la--;
	if (asprintf(&s, "%.*s%s", (int)la, a, b) < 0)
		return NULL;
	return s;
}

/* <prefix>/subnets/<name> */
static char *subnet_key(const struct etcd_mgr *m, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s", m->subnets_prefix, name) < 0)
		return NULL;
	return s;
}

static void notify_peers(struct etcd_mgr *m)
{
	uint64_t g = lease_set_generation(m->peers);

	if (g == m->notified_generation)
		return;
	m->notified_generation = g;
	if (m->cb.peers_changed)
		m->cb.peers_changed(m, m->userdata);
}

static int post(struct etcd_mgr *m, const char *path, struct buf *body, etcd_done_fn done,
		struct etcd_request **ret)
{
	return etcd_client_post(m->client, path, body->data, body->len, done, m, ret);
}

/* A range read of key (or of everything under it, prefix). */
static int post_range(struct etcd_mgr *m, const char *key, bool prefix, etcd_done_fn done,
		      struct etcd_request **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r = etcd_body_range(key, prefix, &b);

	if (r < 0)
		return r;
	return post(m, "/v3/kv/range", &b, done, ret);
}

/* ---- config ---- */

static void config_fetch(struct etcd_mgr *m);

static void config_retry(struct etcd_mgr *m)
{
	/* upstream's getConfig prints this after every failed round */
	fputs("timed out\n", stdout);
	fflush(stdout);
	if (loop_timer_arm(m->cfg_timer, ETCD_CONFIG_RETRY_USEC) < 0)
		log_error("Failed to schedule fetching the network config again");
}

static void config_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	struct etcd_range rg = {};
	struct errmsg err = {};
	struct netconf c = {};

	m->cfg_req = NULL;
	if (r < 0) {
		log_error("Couldn't fetch network config: %s", error ?: strerror(-r));
		config_retry(m);
		return;
	}
	r = etcd_parse_range(body, len, &rg, &err);
	if (r < 0) {
		log_error("Couldn't fetch network config: bad response from etcd: %s", err.text);
		config_retry(m);
		return;
	}
	if (rg.n == 0) {
		etcd_range_done(&rg);
		log_error("Couldn't fetch network config: flannel config not found in etcd store. "
			  "Did you create your config using etcdv3 API?");
		config_retry(m);
		return;
	}
	r = netconf_parse(rg.kvs[0].value, rg.kvs[0].value_len, &c, &err);
	etcd_range_done(&rg);
	if (r >= 0)
		r = netconf_check(&c, &err);
	if (r >= 0 && !c.enable_ipv4) {
		errmsg_set(&err, "the etcd subnet manager needs EnableIPv4 (its subnet keys are "
				 "IPv4 subnets)");
		r = -EINVAL;
	}
	if (r < 0) {
		netconf_done(&c);
		log_error("Couldn't fetch network config: %s", err.text);
		config_retry(m);
		return;
	}
	m->conf = c;
	m->has_config = true;
	log_info("Found network config - Backend type: %s", c.backend_type);
	if (m->cb.config_ready)
		m->cb.config_ready(m, m->userdata);
}

static void config_fetch(struct etcd_mgr *m)
{
	int r;

	m->stats.config_fetches++;
	r = post_range(m, m->config_key, false, config_done, &m->cfg_req);
	if (r < 0) {
		log_error_errno(r, "Couldn't fetch network config");
		config_retry(m);
	}
}

static int cfg_timer_cb(struct loop_source *s, void *userdata)
{
	config_fetch(userdata);
	return 0;
}

/* ---- own lease: renewal and revocation ---- */

static void renew_arm(struct etcd_mgr *m, uint64_t delay_usec)
{
	if (loop_timer_arm(m->renew_timer, delay_usec) < 0)
		log_error("Failed to schedule the lease renewal");
}

static void renew_schedule(struct etcd_mgr *m)
{
	uint64_t now = now_realtime_usec(), at, margin = m->margin_sec * USEC_PER_SEC;

	if (!m->expiry_usec) {
		(void)loop_timer_disarm(m->renew_timer); /* a reservation does not expire */
		return;
	}
	at = m->expiry_usec > margin ? m->expiry_usec - margin : 0;
	/* never spin: with a margin at least the TTL, renew at half the TTL */
	if (at <= now)
		at = now + (m->expiry_usec > now ? (m->expiry_usec - now) / 2 : 0);
	log_info("Waiting for %llus to renew lease",
		 (unsigned long long)((at - now) / USEC_PER_SEC));
	renew_arm(m, MAX(at - now, USEC_PER_SEC));
}

static void renew_failed(struct etcd_mgr *m, const char *why)
{
	m->stats.renew_failures++;
	log_error("Error renewing lease (trying again in 1 min): %s", why);
	renew_arm(m, m->renew_retry_sec * USEC_PER_SEC);
}

static void renew_put_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	char when[64];
	time_t t;
	struct tm tm;

	m->renew_req = NULL;
	if (r < 0) {
		renew_failed(m, error ?: strerror(-r));
		return;
	}
	m->lease_id = m->renew_lease_id;
	m->expiry_usec = now_realtime_usec() + (uint64_t)m->renew_ttl * USEC_PER_SEC;
	m->stats.renewals++;
	t = (time_t)(m->expiry_usec / USEC_PER_SEC);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime_r(&t, &tm));
	log_info("Lease renewed, new expiration: %s", when);
	renew_schedule(m);
}

static void renew_grant_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct errmsg err = {};
	_cleanup_free_ char *key = NULL;

	m->renew_req = NULL;
	if (r < 0) {
		renew_failed(m, error ?: strerror(-r));
		return;
	}
	r = etcd_parse_grant(body, len, &m->renew_lease_id, &m->renew_ttl, &err);
	if (r < 0) {
		renew_failed(m, err.text);
		return;
	}
	key = subnet_key(m, m->own->name);
	if (!key)
		r = -ENOMEM;
	if (r >= 0)
		r = etcd_body_put(key, m->own_value, m->renew_lease_id, &b);
	if (r >= 0)
		r = post(m, "/v3/kv/put", &b, renew_put_done, &m->renew_req);
	if (r < 0)
		renew_failed(m, strerror(-r));
}

static int renew_timer_cb(struct loop_source *s, void *userdata)
{
	struct etcd_mgr *m = userdata;
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r;

	if (!m->has_own || m->revoked || m->renew_req)
		return 0;
	r = etcd_body_grant((int64_t)m->ttl_sec, &b);
	if (r >= 0)
		r = post(m, "/v3/lease/grant", &b, renew_grant_done, &m->renew_req);
	if (r < 0)
		renew_failed(m, strerror(-r));
	return 0;
}

static void own_revoked(struct etcd_mgr *m)
{
	if (m->revoked)
		return;
	m->revoked = true;
	(void)loop_timer_disarm(m->renew_timer);
	etcd_request_cancel(m->renew_req);
	m->renew_req = NULL;
	log_error("Lease has been revoked. Shutting down daemon.");
	if (m->cb.revoked)
		m->cb.revoked(m, m->userdata);
}

/* ---- acquisition ---- */

static void acquire_fatal(struct etcd_mgr *m, int r, const char *msg)
{
	snprintf(m->error, sizeof(m->error), "%s", msg);
	m->failed = true;
	log_error("Failed to acquire a subnet lease: %s", msg);
	if (m->cb.published)
		m->cb.published(m, r, m->userdata);
}

static void acquire_retry(struct etcd_mgr *m, const char *what, const char *why)
{
	uint64_t d = backoff_next(&m->acq_backoff, random_u32());

	log_warn("Failed to acquire a subnet lease (%s): %s, will retry in %llums", what, why,
		 (unsigned long long)(d / USEC_PER_MSEC));
	if (loop_timer_arm(m->acq_timer, d) < 0)
		acquire_fatal(m, -ENOMEM, "cannot schedule a retry");
}

static int acq_timer_cb(struct loop_source *s, void *userdata)
{
	acquire_step_list(userdata);
	return 0;
}

static void fmt_subnets(const struct ip_net *sn, const struct ip_net *sn6, char *buf, size_t size)
{
	char a[IP_NET_STRLEN], b[IP_NET_STRLEN];

	snprintf(buf, size, "ip: %s ipv6: %s", ip_net_fmt(sn, a),
		 sn6 && sn6->addr.family ? ip_net_fmt(sn6, b) : "::/0");
}

static void acquired(struct etcd_mgr *m, _unused_ int64_t revision)
{
	struct lease l = {};
	char key[ETCD_SUBNET_KEY_MAX];
	int r;

	etcd_subnet_key_format(&m->plan.subnet, &m->plan.subnet6, key);
	l.name = key;
	l.has_subnet = true;
	l.subnet = m->plan.subnet;
	l.public_ip = m->pub4;
	if (m->plan.subnet6.addr.family) {
		l.has_subnet6 = true;
		l.subnet6 = m->plan.subnet6;
		l.public_ip6 = m->pub6;
	}
	l.attrs = m->attrs;
	r = lease_replace(&m->own, &l);
	if (r < 0) {
		acquire_fatal(m, r, "out of memory recording the lease");
		return;
	}
	m->has_own = true;
	m->publishing = false;
	m->lease_id = m->plan.with_ttl ? m->acq_lease_id : 0;
	m->expiry_usec =
		m->plan.with_ttl ? now_realtime_usec() + (uint64_t)m->acq_ttl * USEC_PER_SEC : 0;
	backoff_reset(&m->acq_backoff);
	lease_set_remove(m->peers, m->own->name);
	if (m->cb.own_lease_changed)
		m->cb.own_lease_changed(m, m->userdata);
	if (m->cb.published)
		m->cb.published(m, 0, m->userdata);
	renew_schedule(m);
	peers_list(m);
}

static void revoke_lease(struct etcd_mgr *m, int64_t id)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	/* best effort, like upstream: an unused lease expires anyway */
	if (etcd_body_revoke(id, &b) >= 0)
		(void)etcd_client_post(m->client, "/v3/lease/revoke", b.data, b.len, NULL, NULL,
				       NULL);
}

static void acq_write_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	struct errmsg err = {};
	char subnets[2 * IP_NET_STRLEN + 16], ip[IP_ADDR_STRLEN];
	bool ok = true;
	int64_t rev = 0;

	m->acq_req = NULL;
	if (r < 0) {
		if (m->plan.with_ttl)
			revoke_lease(m, m->acq_lease_id);
		acquire_retry(m, "write", error ?: strerror(-r));
		return;
	}
	if (m->plan.action == ETCD_ALLOC_REUSE_BY_IP)
		r = etcd_parse_revision(body, len, &rev, &err);
	else
		r = etcd_parse_txn(body, len, &ok, &rev, &err);
	if (r < 0) {
		acquire_retry(m, "write", err.text);
		return;
	}
	fmt_subnets(&m->plan.subnet, &m->plan.subnet6, subnets, sizeof(subnets));
	ip_addr_fmt(&m->pub4, ip);
	if (!ok) {
		/* somebody took it first */
		revoke_lease(m, m->acq_lease_id);
		if (++m->race_tries >= ETCD_ACQUIRE_RACE_RETRIES) {
			acquire_fatal(m, -EBUSY, "max retries reached trying to acquire a subnet");
			return;
		}
		log_info("Subnet (%s) was taken meanwhile, trying again", subnets);
		acquire_step_list(m);
		return;
	}
	if (m->plan.action == ETCD_ALLOC_REUSE_BY_IP)
		log_info("Found lease (%s) for current IP (%s), reusing", subnets, ip);
	else
		log_info("Allocated lease (%s) to current node (%s)", subnets, ip);
	acquired(m, rev);
}

static void acquire_write(struct etcd_mgr *m)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	_cleanup_free_ char *key = NULL;
	char name[ETCD_SUBNET_KEY_MAX];
	int64_t lease = m->plan.with_ttl ? m->acq_lease_id : 0;
	int r;

	r = etcd_subnet_key_format(&m->plan.subnet, &m->plan.subnet6, name);
	if (r >= 0) {
		key = subnet_key(m, name);
		if (!key)
			r = -ENOMEM;
	}
	if (r >= 0 && m->plan.action == ETCD_ALLOC_REUSE_BY_IP)
		r = etcd_body_put(key, m->own_value, lease, &b);
	else if (r >= 0)
		r = etcd_body_create(key, m->own_value, lease, &b);
	if (r >= 0)
		r = post(m, m->plan.action == ETCD_ALLOC_REUSE_BY_IP ? "/v3/kv/put" : "/v3/kv/txn",
			 &b, acq_write_done, &m->acq_req);
	if (r < 0)
		acquire_retry(m, "write", strerror(-r));
}

static void acq_grant_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	struct errmsg err = {};

	m->acq_req = NULL;
	if (r < 0) {
		acquire_retry(m, "grant", error ?: strerror(-r));
		return;
	}
	r = etcd_parse_grant(body, len, &m->acq_lease_id, &m->acq_ttl, &err);
	if (r < 0) {
		acquire_retry(m, "grant", err.text);
		return;
	}
	acquire_write(m);
}

static void acquire_grant(struct etcd_mgr *m)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r;

	if (!m->plan.with_ttl) {
		acquire_write(m);
		return;
	}
	r = etcd_body_grant((int64_t)m->ttl_sec, &b);
	if (r >= 0)
		r = post(m, "/v3/lease/grant", &b, acq_grant_done, &m->acq_req);
	if (r < 0)
		acquire_retry(m, "grant", strerror(-r));
}

static void acq_delete_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;

	m->acq_req = NULL;
	if (r < 0) {
		acquire_retry(m, "delete", error ?: strerror(-r));
		return;
	}
	acquire_grant(m);
}

static void acq_list_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	_cleanup_free_ struct etcd_alloc_lease *leases = NULL;
	struct etcd_range rg = {};
	struct errmsg err = {};
	size_t n = 0;
	char a[IP_NET_STRLEN], sub[2 * IP_NET_STRLEN + 16], ip[IP_ADDR_STRLEN];

	m->acq_req = NULL;
	if (r < 0) {
		acquire_retry(m, "list", error ?: strerror(-r));
		return;
	}
	r = etcd_parse_range(body, len, &rg, &err);
	if (r < 0) {
		acquire_retry(m, "list", err.text);
		return;
	}
	leases = calloc(rg.n + 1, sizeof(*leases));
	if (!leases) {
		etcd_range_done(&rg);
		acquire_retry(m, "list", strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < rg.n; i++) {
		char name_buf[ETCD_SUBNET_KEY_MAX];
		_cleanup_free_ char *ext = NULL;
		const char *name;
		size_t nlen;
		struct lease l;

		if (etcd_key_subnet_name(m->prefix, rg.kvs[i].key, rg.kvs[i].key_len, &name,
					 &nlen) < 0)
			continue;
		err.text[0] = '\0';
		if (etcd_lease_from_kv(name, nlen, rg.kvs[i].value, rg.kvs[i].value_len, name_buf,
				       &l, &ext, &err) < 0) {
			log_warn("Ignoring bad subnet node: %s", err.text);
			continue;
		}
		leases[n++] = (struct etcd_alloc_lease){
			.subnet = l.subnet,
			.subnet6 = l.has_subnet6 ? l.subnet6 : (struct ip_net){},
			.public_ip = l.public_ip,
			.has_ttl = rg.kvs[i].lease != 0,
		};
	}
	etcd_range_done(&rg);

	r = etcd_alloc_plan(&m->conf, leases, n, &m->pub4, &m->prev, &m->prev6, random_u32(),
			    random_u32(), &m->plan);
	if (r == -ENOSPC) {
		acquire_fatal(m, r, "out of subnets");
		return;
	}
	if (r < 0) {
		acquire_fatal(m, r, "cannot plan the subnet allocation");
		return;
	}
	if (m->plan.action == ETCD_ALLOC_RANDOM)
		log_info("Picking subnet in range %s ... %s", ip_addr_fmt(&m->conf.subnet_min, a),
			 ip_addr_fmt(&m->conf.subnet_max, ip));
	if (m->plan.previous_incompatible)
		log_error("Found previously leased subnet (%s) that is not compatible with the "
			  "Etcd network config, ignoring",
			  ip_net_fmt(&m->prev, a));
	else if (m->plan.action == ETCD_ALLOC_PREVIOUS)
		log_info("Found previously leased subnet (%s), reusing", ip_net_fmt(&m->prev, a));
	if (m->plan.delete_stale) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		_cleanup_free_ char *key = NULL;
		char name[ETCD_SUBNET_KEY_MAX];

		fmt_subnets(&m->plan.stale_subnet, &m->plan.stale_subnet6, sub, sizeof(sub));
		log_info("Found lease (%s) for current IP (%s) but not compatible with current "
			 "config, deleting",
			 sub, ip_addr_fmt(&m->pub4, ip));
		r = etcd_subnet_key_format(&m->plan.stale_subnet, &m->plan.stale_subnet6, name);
		if (r >= 0) {
			key = subnet_key(m, name);
			if (!key)
				r = -ENOMEM;
		}
		if (r >= 0)
			r = etcd_body_delete(key, &b);
		if (r >= 0)
			r = post(m, "/v3/kv/deleterange", &b, acq_delete_done, &m->acq_req);
		if (r < 0)
			acquire_retry(m, "delete", strerror(-r));
		return;
	}
	acquire_grant(m);
}

static void acquire_step_list(struct etcd_mgr *m)
{
	int r;

	m->stats.acquire_attempts++;
	r = post_range(m, m->subnets_prefix, true, acq_list_done, &m->acq_req);
	if (r < 0)
		acquire_retry(m, "list", strerror(-r));
}

int etcd_mgr_publish(struct etcd_mgr *m, const struct lease_attrs *attrs,
		     const struct ip_addr *public_ip, const struct ip_addr *public_ip6)
{
	_cleanup_buf_ struct buf v = BUF_INIT;
	int r;

	if (!m->has_config)
		return -EAGAIN;
	if (m->publishing || m->has_own || m->failed)
		return -EALREADY;
	if (!public_ip || public_ip->family != AF_INET)
		return -EINVAL;
	if (m->conf.enable_ipv6 && (!public_ip6 || public_ip6->family != AF_INET6))
		return -EINVAL;
	free(m->ext_data);
	m->ext_data = NULL;
	if (attrs->ext_data && !(m->ext_data = strdup(attrs->ext_data)))
		return -ENOMEM;
	m->attrs = *attrs;
	m->attrs.ext_data = m->ext_data;
	m->pub4 = *public_ip;
	m->pub6 = m->conf.enable_ipv6 ? *public_ip6 : (struct ip_addr){};
	r = etcd_lease_value_render(&m->attrs, &m->pub4, &m->pub6, &v);
	if (r < 0)
		return r;
	free(m->own_value);
	m->own_value = buf_steal(&v, NULL);
	m->publishing = true;
	m->race_tries = 0;
	m->plan = (struct etcd_alloc_plan){};
	acquire_step_list(m);
	return 0;
}

/* ---- peers: list + watch ---- */

static void watch_start(struct etcd_mgr *m);

static void watch_schedule(struct etcd_mgr *m, bool relist)
{
	uint64_t d = backoff_next(&m->watch_backoff, random_u32());

	m->watch_restart_pending = !relist;
	if (loop_timer_arm(m->watch_timer, d) < 0)
		log_error("Failed to schedule the etcd watch");
}

static int watch_timer_cb(struct loop_source *s, void *userdata)
{
	struct etcd_mgr *m = userdata;

	if (m->watch_restart_pending)
		watch_start(m);
	else
		peers_list(m);
	return 0;
}

static bool is_own(const struct etcd_mgr *m, const char *name, size_t len)
{
	return m->has_own && strlen(m->own->name) == len && memcmp(m->own->name, name, len) == 0;
}

/* A PUT of a subnet key: upsert the peer. Returns 0, or <0 on out-of-memory. */
static int peer_put(struct etcd_mgr *m, const struct etcd_kv *kv)
{
	char name_buf[ETCD_SUBNET_KEY_MAX];
	_cleanup_free_ char *ext = NULL;
	struct errmsg err = {};
	const char *name;
	size_t nlen;
	struct lease l;
	int r;

	if (etcd_key_subnet_name(m->prefix, kv->key, kv->key_len, &name, &nlen) < 0)
		return 0;
	if (is_own(m, name, nlen))
		return 0;
	r = etcd_lease_from_kv(name, nlen, kv->value, kv->value_len, name_buf, &l, &ext, &err);
	if (r < 0) {
		char q[QUOTE_BUF_SIZE];
		m->stats.skipped_keys++;
		log_warn("Ignoring bad subnet node %s: %s", quote_mem(name, nlen, q, sizeof(q)),
			 err.text);
		/* a key that turned bad is no peer any more */
		if (nlen < LEASE_NAME_MAX) {
			char n[LEASE_NAME_MAX];
			memcpy(n, name, nlen);
			n[nlen] = '\0';
			lease_set_remove(m->peers, n);
		}
		return 0;
	}
	r = lease_set_upsert(m->peers, &l);
	if (r < 0)
		return log_error_errno(r, "Failed to record the lease %s", l.name);
	return 0;
}

static void peer_delete(struct etcd_mgr *m, const struct etcd_kv *kv)
{
	const char *name;
	size_t nlen;
	char n[LEASE_NAME_MAX];

	if (etcd_key_subnet_name(m->prefix, kv->key, kv->key_len, &name, &nlen) < 0 ||
	    nlen >= LEASE_NAME_MAX)
		return;
	if (is_own(m, name, nlen)) {
		own_revoked(m);
		return;
	}
	memcpy(n, name, nlen);
	n[nlen] = '\0';
	lease_set_remove(m->peers, n);
}

static void list_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;
	_cleanup_free_ const struct lease **old = NULL;
	struct etcd_range rg = {};
	struct errmsg err = {};
	struct lease_set *seen = NULL;
	bool own_seen = false;
	size_t n_old = 0;

	m->list_req = NULL;
	if (r < 0) {
		log_warn("Failed to list the subnet leases in etcd: %s, will retry",
			 error ?: strerror(-r));
		watch_schedule(m, true);
		return;
	}
	r = etcd_parse_range(body, len, &rg, &err);
	if (r < 0) {
		log_warn("Bad subnet list from etcd: %s, will retry", err.text);
		watch_schedule(m, true);
		return;
	}
	m->stats.lists++;
	/* the names listed, to drop the peers that are gone */
	r = lease_set_new(&seen);
	for (size_t i = 0; r >= 0 && i < rg.n; i++) {
		char n[LEASE_NAME_MAX];
		const char *name;
		size_t nlen;
		struct lease mark = {.name = n};

		if (etcd_key_subnet_name(m->prefix, rg.kvs[i].key, rg.kvs[i].key_len, &name,
					 &nlen) < 0 ||
		    nlen >= LEASE_NAME_MAX)
			continue;
		if (is_own(m, name, nlen)) {
			own_seen = true;
			continue;
		}
		memcpy(n, name, nlen);
		n[nlen] = '\0';
		r = lease_set_upsert(seen, &mark);
		if (r >= 0)
			r = peer_put(m, &rg.kvs[i]);
	}
	if (r >= 0)
		r = lease_set_snapshot(m->peers, &old, &n_old);
	if (r >= 0) {
		_cleanup_free_ char **gone = calloc(n_old + 1, sizeof(char *));
		size_t n_gone = 0;
		if (!gone)
			r = -ENOMEM;
		for (size_t i = 0; r >= 0 && i < n_old; i++)
			if (!lease_set_find(seen, old[i]->name))
				gone[n_gone++] = strdup(old[i]->name);
		for (size_t i = 0; i < n_gone; i++) {
			if (gone[i])
				lease_set_remove(m->peers, gone[i]);
			free(gone[i]);
		}
	}
	lease_set_free(seen);
	m->next_rev = rg.revision + 1;
	etcd_range_done(&rg);
	if (r < 0) {
		log_error_errno(r, "Failed to update the peer leases, will retry");
		watch_schedule(m, true);
		return;
	}
	if (m->has_own && !own_seen && m->expiry_usec) {
		own_revoked(m);
		return;
	}
	notify_peers(m);
	if (!m->synced) {
		m->synced = true;
		if (m->cb.synced)
			m->cb.synced(m, m->userdata);
	}
	watch_start(m);
}

static void peers_list(struct etcd_mgr *m)
{
	int r;

	if (m->revoked)
		return;
	etcd_request_cancel(m->watch_req);
	m->watch_req = NULL;
	etcd_request_cancel(m->list_req);
	m->list_req = NULL;
	r = post_range(m, m->subnets_prefix, true, list_done, &m->list_req);
	if (r < 0) {
		log_error_errno(r, "Failed to list the subnet leases, will retry");
		watch_schedule(m, true);
	}
}

/* Stop the stream from inside its own callback and go on with f after a backoff. */
static int watch_abort(struct etcd_mgr *m, bool relist)
{
	etcd_request_cancel(m->watch_req);
	m->watch_req = NULL;
	if (relist)
		m->stats.relists++;
	watch_schedule(m, relist);
	return -ECANCELED;
}

static int watch_line(char *line, size_t len, void *userdata)
{
	struct etcd_mgr *m = userdata;
	struct etcd_watch_response w = {};
	struct errmsg err = {};
	int r;

	if (!line) {
		log_warn("etcd watch response larger than %u bytes, re-listing", WATCH_LINE_MAX);
		return watch_abort(m, true);
	}
	r = etcd_parse_watch(line, len, &w, &err);
	if (r < 0) {
		log_warn("etcd watch for %s failed: %s, re-listing", m->subnets_prefix, err.text);
		return watch_abort(m, true);
	}
	if (w.compact_revision > 0) {
		m->stats.compactions++;
		log_warn("etcd watch for %s fell behind compaction, re-listing and resuming",
			 m->subnets_prefix);
		etcd_watch_response_done(&w);
		return watch_abort(m, true);
	}
	if (w.canceled) {
		/* an expired token (etcd restarted) shows up only here in a watch */
		if (strstr(w.cancel_reason, "Unauthenticated") ||
		    strstr(w.cancel_reason, "invalid auth token"))
			etcd_client_drop_token(m->client);
		log_warn("etcd watch for %s was canceled (%s), reconnecting from rev %lld",
			 m->subnets_prefix, w.cancel_reason, (long long)m->next_rev);
		etcd_watch_response_done(&w);
		return watch_abort(m, false);
	}
	backoff_reset(&m->watch_backoff);
	for (size_t i = 0; i < w.n; i++) {
		const struct etcd_event *ev = &w.events[i];

		m->stats.events++;
		if (ev->type == ETCD_EVENT_PUT)
			r = peer_put(m, &ev->kv);
		else
			peer_delete(m, &ev->kv);
		if (ev->kv.mod_revision >= m->next_rev)
			m->next_rev = ev->kv.mod_revision + 1;
		if (r < 0 || m->revoked)
			break;
	}
	/* a progress notification: everything up to its revision was sent */
	if (w.n == 0 && !w.created && w.revision >= m->next_rev)
		m->next_rev = w.revision + 1;
	etcd_watch_response_done(&w);
	if (r < 0)
		return watch_abort(m, true);
	if (m->revoked) {
		etcd_request_cancel(m->watch_req);
		m->watch_req = NULL;
		return -ECANCELED;
	}
	notify_peers(m);
	return 0;
}

static int watch_data(const char *data, size_t n, void *userdata)
{
	struct etcd_mgr *m = userdata;

	return line_framer_feed(&m->framer, data, n, watch_line, m);
}

static void watch_done(int r, const char *body, size_t len, const char *error, void *userdata)
{
	struct etcd_mgr *m = userdata;

	m->watch_req = NULL;
	if (r == -ECANCELED || m->revoked)
		return;
	m->stats.watch_restarts++;
	log_warn("etcd watch channel for %s closed (%s), reconnecting from rev %lld...",
		 m->subnets_prefix, r < 0 ? (error ?: strerror(-r)) : "end of stream",
		 (long long)m->next_rev);
	watch_schedule(m, false);
}

static void watch_start(struct etcd_mgr *m)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r;

	if (m->revoked)
		return;
	etcd_request_cancel(m->watch_req);
	m->watch_req = NULL;
	line_framer_reset(&m->framer);
	m->stats.watches++;
	log_v(4, "registry: watching subnets starting from rev %lld", (long long)m->next_rev);
	r = etcd_body_watch(m->subnets_prefix, m->next_rev, &b);
	if (r >= 0)
		r = etcd_client_stream(m->client, "/v3/watch", b.data, b.len, watch_data,
				       watch_done, m, &m->watch_req);
	if (r < 0) {
		log_error_errno(r, "Failed to start the etcd watch, will retry");
		watch_schedule(m, false);
	}
}

int etcd_mgr_relist(struct etcd_mgr *m)
{
	if (!m->has_own || m->revoked)
		return 0;
	m->stats.relists++;
	peers_list(m);
	return 0;
}

/* ---- lifecycle ---- */

static void read_previous(struct etcd_mgr *m)
{
	struct subnet_env e = {};
	struct errmsg err = {};
	char a[IP_NET_STRLEN];
	int r;

	if (!m->subnet_file)
		return;
	r = subnet_env_read(m->subnet_file, &e, &err);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_warn("Failed to read the previous subnet from %s: %s, ignoring", m->subnet_file,
			 err.text[0] ? err.text : strerror(-r));
		return;
	}
	if (e.has_subnet && e.subnet.addr.family == AF_INET) {
		m->prev = e.subnet;
		ip_net_mask(&m->prev);
		log_info("Previous subnet from %s: %s", m->subnet_file, ip_net_fmt(&m->prev, a));
	}
	if (e.has_ipv6_subnet && e.ipv6_subnet.addr.family == AF_INET6) {
		m->prev6 = e.ipv6_subnet;
		ip_net_mask(&m->prev6);
	}
}

int etcd_mgr_start(struct etcd_mgr *m)
{
	read_previous(m);
	config_fetch(m);
	return 0;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int etcd_mgr_new(struct loop *loop, const struct etcd_mgr_config *config,
		 const struct etcd_mgr_callbacks *callbacks, void *userdata, struct etcd_mgr **ret)
{
	struct etcd_mgr *m;
	const char *prefix =
		config->prefix && config->prefix[0] ? config->prefix : ETCD_DEFAULT_PREFIX;
	int r;

	if (prefix[0] != '/')
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	if (callbacks)
		m->cb = *callbacks;
	m->userdata = userdata;
	m->ttl_sec = config->lease_ttl_sec ?: ETCD_LEASE_TTL_SEC;
	m->margin_sec = config->renew_margin_sec ?: 3600;
	m->renew_retry_sec = config->renew_retry_sec ?: ETCD_RENEW_RETRY_SEC;
	backoff_init(&m->acq_backoff, ACQUIRE_RETRY_BASE_USEC, ACQUIRE_RETRY_MAX_USEC);
	backoff_init(&m->watch_backoff, WATCH_RETRY_BASE_USEC, WATCH_RETRY_MAX_USEC);
	line_framer_init(&m->framer, WATCH_LINE_MAX);

	r = dup_or_null(prefix, &m->prefix);
	if (r >= 0)
		r = dup_or_null(config->subnet_file, &m->subnet_file);
	if (r >= 0) {
		m->config_key = join(prefix, "/config");
		m->subnets_prefix = join(prefix, "/subnets/");
		if (!m->config_key || !m->subnets_prefix)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = lease_set_new(&m->peers);
	if (r >= 0)
		r = etcd_client_new(loop, &config->conn, &m->client);
	if (r >= 0)
		r = loop_add_timer(loop, 0, cfg_timer_cb, m, "etcd config retry", &m->cfg_timer);
	if (r >= 0)
		r = loop_timer_disarm(m->cfg_timer);
	if (r >= 0)
		r = loop_add_timer(loop, 0, acq_timer_cb, m, "etcd lease acquisition",
				   &m->acq_timer);
	if (r >= 0)
		r = loop_timer_disarm(m->acq_timer);
	if (r >= 0)
		r = loop_add_timer(loop, 0, renew_timer_cb, m, "etcd lease renewal",
				   &m->renew_timer);
	if (r >= 0)
		r = loop_timer_disarm(m->renew_timer);
	if (r >= 0)
		r = loop_add_timer(loop, 0, watch_timer_cb, m, "etcd watch restart",
				   &m->watch_timer);
	if (r >= 0)
		r = loop_timer_disarm(m->watch_timer);
	if (r < 0) {
		etcd_mgr_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct etcd_mgr *etcd_mgr_free(struct etcd_mgr *m)
{
	if (!m)
		return NULL;
	/* the client frees its requests without calling back */
	etcd_client_free(m->client);
	loop_source_free(m->cfg_timer);
	loop_source_free(m->acq_timer);
	loop_source_free(m->renew_timer);
	loop_source_free(m->watch_timer);
	line_framer_free(&m->framer);
	lease_set_free(m->peers);
	if (m->has_config)
		netconf_done(&m->conf);
	free(m->own_value);
	lease_free(m->own);
	free(m->ext_data);
	free(m->prefix);
	free(m->config_key);
	free(m->subnets_prefix);
	free(m->subnet_file);
	free(m);
	return NULL;
}

const struct netconf *etcd_mgr_netconf(const struct etcd_mgr *m)
{
	return m->has_config ? &m->conf : NULL;
}

int etcd_mgr_own_lease(const struct etcd_mgr *m, struct lease *ret, struct errmsg *err)
{
	if (!m->has_own) {
		errmsg_set(err, "no subnet lease acquired yet");
		return -ENOENT;
	}
	*ret = *m->own;
	return 0;
}

uint64_t etcd_mgr_lease_expiry_usec(const struct etcd_mgr *m)
{
	return m->has_own ? m->expiry_usec : 0;
}

const struct lease_set *etcd_mgr_peers(const struct etcd_mgr *m)
{
	return m->peers;
}

bool etcd_mgr_synced(const struct etcd_mgr *m)
{
	return m->synced;
}

bool etcd_mgr_ready(const struct etcd_mgr *m)
{
	return m->has_own && m->synced && !m->revoked;
}

const char *etcd_mgr_error(const struct etcd_mgr *m)
{
	return m->error;
}

void etcd_mgr_get_stats(const struct etcd_mgr *m, struct etcd_mgr_stats *ret)
{
	*ret = m->stats;
}
