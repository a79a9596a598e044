/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wireguard backend (upstream backend/wireguard), wire-compatible with
 * upstream nodes: devices flannel-wg (IPv4) and flannel-wg-v6 (IPv6, Mode
 * separate), the key pair of /run/flannel/wgkey, backend data
 * {"PublicKey":...,"Port":...}, <lease network address>/32 (/128) on the
 * device, one route <Network> dev flannel-wg, MTU − 80. Unlike upstream:
 *
 *   - Two drivers, chosen at start and logged: the kernel's WireGuard
 *     (generic netlink, wg_genl.c) when it has the family, else wireguard-go
 *     (the userspace implementation, UAPI socket, wg_uapi.c), started by us
 *     in its own session so that it and its tunnels outlive a flanneld
 *     restart. FLANNEL_WIREGUARD=kernel|userspace forces one.
 *   - Devices are adopted, never recreated at start: a restart with nothing
 *     changed writes nothing. A wireguard-go that died (its device vanishes,
 *     or its socket stops answering) is restarted and reconfigured by the
 *     next full pass, which the link notification triggers at once.
 *   - Peers are reconciled like every other entry (plan.c): the device's
 *     peers are dumped and diffed against the leases by public key, so a
 *     peer whose key changed is replaced and a deleted node's peer removed.
 *
 * Single-device modes (auto, ipv4, ipv6) are supported with one IP family;
 * with both, Mode must be separate (one peer per device and family).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/core/spawn.h"
#include "registry.h"
#include "wg_config.h"
#include "wg_genl.h"
#include "wg_key.h"
#include "wg_uapi.h"

#define WG_DEV4		       "flannel-wg"
#define WG_DEV6		       "flannel-wg-v6"
#define WG_GO_START_TIMEOUT_MS 5000
#define WG_SOCK_MAX	       108

enum wg_driver {
	WG_DRIVER_KERNEL,
	WG_DRIVER_USERSPACE,
};

struct wg_dev {
	bool used;
	char name[IFNAMSIZ];
	char sock[WG_SOCK_MAX];
	uint16_t port;
	int ifindex;
	pid_t child; /* wireguard-go we started and have not reaped; 0: none */
	/* The device as read by the last prepare, handed to dump_peers. */
	struct wg_device seen;
};

struct wg_backend {
	struct wg_config cfg;
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN];
	enum wg_driver driver;
	struct wg_genl *genl;
	uint32_t mtu;
	bool registered;
	struct wg_dev dev[2]; /* per family; in single-device modes only one is used */
};

static int wg_init(struct backend *b, const char *json, size_t len, struct errmsg *err)
{
	struct wg_backend *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = wg_config_parse(json, len, &w->cfg, err);
	if (r >= 0 && b->ipv4 && b->ipv6 && w->cfg.mode != WG_MODE_SEPARATE) {
		errmsg_set(
			err,
			"Backend: Mode: %s with both IPv4 and IPv6 enabled is not supported, use separate",
			wg_mode_name(w->cfg.mode));
		r = -EINVAL;
	}
	if (r >= 0 && ((w->cfg.mode == WG_MODE_IPV4 && !b->ipv4) ||
		       (w->cfg.mode == WG_MODE_IPV6 && !b->ipv6))) {
		errmsg_set(err, "Backend: Mode: %s needs %s enabled", wg_mode_name(w->cfg.mode),
			   w->cfg.mode == WG_MODE_IPV4 ? "IPv4" : "IPv6");
		r = -EINVAL;
	}
	if (r >= 0 && b->ipv4 && !ip_addr_is_set(&b->ext.ext_addr)) {
		errmsg_set(err, "wireguard: IPv4 is enabled but the external interface has no "
				"IPv4 address");
		r = -EINVAL;
	}
	if (r >= 0 && b->ipv6 && !ip_addr_is_set(&b->ext.ext_addr6)) {
		errmsg_set(err, "wireguard: IPv6 is enabled but the external interface has no "
				"IPv6 address");
		r = -EINVAL;
	}
	if (r < 0) {
		free(w);
		return r;
	}
	for (int fi = 0; fi < 2; fi++) {
		struct wg_dev *d = &w->dev[fi];
		bool separate = w->cfg.mode == WG_MODE_SEPARATE;

		d->used = fi == 0 ? b->ipv4 : b->ipv6;
		snprintf(d->name, sizeof(d->name), "%s", fi == 1 && separate ? WG_DEV6 : WG_DEV4);
		d->port = fi == 1 && separate ? w->cfg.listen_port6 : w->cfg.listen_port;
		(void)wg_uapi_path(d->name, d->sock, sizeof(d->sock));
	}
	b->impl = w;
	return 0;
}

static void wg_done(struct backend *b)
{
	struct wg_backend *w = b->impl;

	for (int fi = 0; fi < 2; fi++)
		wg_device_done(&w->dev[fi].seen);
	wg_genl_close(w->genl);
	explicit_bzero(w->priv, sizeof(w->priv));
	free(w);
	b->impl = NULL;
}

/* ---- the two drivers ---- */

static int dev_get(struct wg_backend *w, const struct wg_dev *d, struct wg_device *ret)
{
	struct errmsg e = {0};

	if (w->driver == WG_DRIVER_KERNEL)
		return wg_genl_get(w->genl, d->name, ret);
	return wg_uapi_get(d->sock, ret, &e);
}

static int dev_set(struct wg_backend *w, const struct wg_dev *d, const struct wg_change *c)
{
	struct errmsg e = {0};

	if (w->driver == WG_DRIVER_KERNEL)
		return wg_genl_set(w->genl, d->name, c);
	return wg_uapi_set(d->sock, c, &e);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Is a wireguard-go answering on the device's socket? */
static bool uapi_alive(const struct wg_dev *d)
{
	struct wg_device dev = {0};
	struct errmsg e = {0};
	int r = wg_uapi_get(d->sock, &dev, &e);

	wg_device_done(&dev);
	return r >= 0;
}

/*
 * Start wireguard-go for the device and wait until its socket answers and
 * its TUN device exists. A stale socket file (nobody listening) goes first.
 */
static int start_wireguard_go(struct backend *b, struct wg_dev *d)
{
	static const char *const env[] = {"WG_PROCESS_FOREGROUND=1", NULL};
	const char *argv[] = {"wireguard-go", "-f", d->name, NULL};
	struct errmsg e = {0};
	struct link_info li;
	uint64_t deadline;
	pid_t pid;
	int r;

	if (d->child > 0 && !spawn_reap(d->child))
		kill(d->child, SIGTERM); /* ours but not answering: replace it */
	d->child = 0;
	(void)unlink(d->sock);
	(void)mkdir(WG_UAPI_DIR, 0755);
	r = spawn_detached(argv, env, &pid, &e);
	if (r < 0)
		return log_error_errno(r, "Failed to start wireguard-go for %s: %s", d->name,
				       e.text);
	d->child = pid;
	deadline = now_ms() + WG_GO_START_TIMEOUT_MS;
	for (;;) {
		if (uapi_alive(d) && nl_link_get_by_name(b->nl, d->name, &li) >= 0)
			break;
		if (spawn_reap(pid)) {
			d->child = 0;
			return log_error_errno(-ECHILD, "wireguard-go for %s exited at start",
					       d->name);
		}
		if (now_ms() >= deadline)
			return log_error_errno(-ETIMEDOUT, "wireguard-go for %s did not start",
					       d->name);
		usleep(5000);
	}
	log_info("Started wireguard-go (pid %d) for %s", (int)pid, d->name);
	b->status.devices_created++;
	return 0;
}

/*
 * Make the device exist and be driven by our driver: adopt what is there
 * when it is the right kind (and, for wireguard-go, its socket answers),
 * replace it otherwise. ifindex, MTU and up state are set afterwards.
 */
static int ensure_device(struct backend *b, struct wg_backend *w, struct wg_dev *d)
{
	struct link_info li;
	int r;

	if (d->child > 0 && spawn_reap(d->child)) {
		log_warn("wireguard-go (pid %d) for %s exited, restarting it", (int)d->child,
			 d->name);
		d->child = 0;
	}
	r = nl_link_get_by_name(b->nl, d->name, &li);
	if (r < 0 && r != -ENODEV)
		return log_error_errno(r, "failed to look up %s", d->name);
	if (r >= 0) {
		bool kernel = strcmp(li.kind, "wireguard") == 0;
		if (w->driver == WG_DRIVER_KERNEL && kernel)
			goto found;
		if (w->driver == WG_DRIVER_USERSPACE && strcmp(li.kind, "tun") == 0 &&
		    uapi_alive(d))
			goto found;
		log_warn("%s exists but is not driven by %s: recreating it", d->name,
			 w->driver == WG_DRIVER_KERNEL ? "the kernel" : "a live wireguard-go");
		r = nl_link_delete(b->nl, li.ifindex);
		if (r < 0)
			return log_error_errno(r, "failed to delete %s", d->name);
	}
	if (w->driver == WG_DRIVER_KERNEL) {
		r = nl_link_add_kind(b->nl, d->name, "wireguard", w->mtu, NULL);
		if (r < 0)
			return log_error_errno(r, "could not create wireguard interface %s",
					       d->name);
		b->status.devices_created++;
	} else {
		r = start_wireguard_go(b, d);
		if (r < 0)
			return r;
	}
	r = nl_link_get_by_name(b->nl, d->name, &li);
	if (r < 0)
		return log_error_errno(r, "failed to look up %s", d->name);
found:
	d->ifindex = li.ifindex;
	if (li.mtu != w->mtu || !li.up) {
		r = nl_link_update(b->nl, li.ifindex, li.mtu != w->mtu ? w->mtu : 0, NULL, true);
		if (r < 0)
			return log_error_errno(r, "failed to set up %s", d->name);
	}
	return 0;
}

/* Read the device; write our key and port when they differ. The peers are kept for the dump. */
static int configure_device(struct wg_backend *w, struct wg_dev *d)
{
	struct wg_change c = {0};
	int r;

	wg_device_done(&d->seen);
	r = dev_get(w, d, &d->seen);
	if (r < 0)
		return log_error_errno(r, "failed to read WireGuard device %s", d->name);
	if (!d->seen.has_private_key || memcmp(d->seen.private_key, w->priv, WG_KEY_LEN) != 0) {
		c.set_private_key = true;
		memcpy(c.private_key, w->priv, WG_KEY_LEN);
	}
	if (d->seen.listen_port != d->port) {
		c.set_listen_port = true;
		c.listen_port = d->port;
	}
	if (!c.set_private_key && !c.set_listen_port)
		return 0;
	r = dev_set(w, d, &c);
	memset(c.private_key, 0, sizeof(c.private_key));
	if (r < 0)
		return log_error_errno(r, "failed to configure WireGuard device %s (port %u)",
				       d->name, d->port);
	return 0;
}

static int ensure_devices(struct backend *b, struct wg_backend *w)
{
	for (int fi = 0; fi < 2; fi++) {
		struct wg_dev *d = &w->dev[fi];
		int r;

		if (!d->used)
			continue;
		r = ensure_device(b, w, d);
		if (r >= 0)
			r = configure_device(w, d);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Kernel when it has WireGuard (or FLANNEL_WIREGUARD says so), else wireguard-go. */
static int choose_driver(struct backend *b, struct wg_backend *w, struct errmsg *err)
{
	const char *want = getenv("FLANNEL_WIREGUARD");
	struct link_info li;
	_cleanup_free_ char *path = NULL;
	int r;

	if (want && *want && strcmp(want, "kernel") != 0 && strcmp(want, "userspace") != 0) {
		errmsg_set(err, "FLANNEL_WIREGUARD: expected kernel or userspace, got \"%s\"",
			   want);
		return -EINVAL;
	}
	if (!want || strcmp(want, "userspace") != 0) {
		r = wg_genl_open(&w->genl);
		/* The module may load on demand: creating our device brings it
		 * (the device is then adopted by ensure_device). */
		if (r == -ENOENT && nl_link_get_by_name(b->nl, WG_DEV4, &li) == -ENODEV &&
		    nl_link_add_kind(b->nl, WG_DEV4, "wireguard", 0, NULL) >= 0)
			r = wg_genl_open(&w->genl);
		if (r >= 0) {
			w->driver = WG_DRIVER_KERNEL;
			log_info("WireGuard: using the kernel's implementation (generic netlink)");
			return 0;
		}
		if (want && *want) {
			errmsg_set(err,
				   "FLANNEL_WIREGUARD=kernel but the kernel has no WireGuard: %s",
				   strerror(-r));
			return r;
		}
	}
	r = spawn_find("wireguard-go", &path);
	if (r < 0) {
		errmsg_set(err, "the kernel has no WireGuard and wireguard-go is not installed");
		return r;
	}
	w->driver = WG_DRIVER_USERSPACE;
	log_info("WireGuard: the kernel has none, using wireguard-go (%s) through %s", path,
		 WG_UAPI_DIR);
	return 0;
}

static int wg_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
		       struct errmsg *err)
{
	struct wg_backend *w = b->impl;
	struct lease_attrs attrs = {.backend_type = "wireguard"};
	const char *key_file = wg_key_file_path();
	uint32_t base = w->cfg.mtu ? w->cfg.mtu : b->ext.mtu;
	bool created = false;
	int r;

	if (base < WG_MTU_MIN) {
		errmsg_set(err, "wireguard: MTU %u is too small for WireGuard", base);
		return -EINVAL;
	}
	w->mtu = base - WG_OVERHEAD;
	r = wg_key_load_or_create(key_file, w->priv, &created, err);
	if (r < 0)
		return r;
	r = wg_key_public(w->priv, w->pub);
	if (r < 0) {
		errmsg_set(err, "wireguard: could not derive the public key from %s", key_file);
		return r;
	}
	if (created)
		log_info("Generated a WireGuard private key in %s", key_file);
	if (!w->registered) {
		r = choose_driver(b, w, err);
		if (r < 0)
			return r;
	}
	r = ensure_devices(b, w);
	if (r < 0) {
		errmsg_set(err, "failed to set up the WireGuard device(s): %s", strerror(-r));
		return r;
	}
	if (b->ipv4) {
		attrs.has_wg_key = true;
		memcpy(attrs.wg_key, w->pub, WG_KEY_LEN);
		attrs.wg_port = w->dev[0].port;
	}
	if (b->ipv6) {
		attrs.has_wg_key6 = true;
		memcpy(attrs.wg_key6, w->pub, WG_KEY_LEN);
		attrs.wg_port6 = w->dev[1].port;
	}
	w->registered = true;
	*ret_attrs = attrs;
	*ret_mtu = w->mtu;
	return 0;
}

static int set_addresses(struct backend *b, struct wg_backend *w)
{
	for (int fi = 0; fi < 2; fi++) {
		struct ip_net addr;
		int r;

		if (!w->dev[fi].used)
			continue;
		addr = fi == 0 ? b->own->subnet : b->own->subnet6;
		ip_net_mask(&addr);
		addr.prefixlen = (uint8_t)ip_family_bits(addr.addr.family);
		r = backend_dev_set_addr(b->nl, w->dev[fi].ifindex, &addr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int wg_set_lease(struct backend *b, struct errmsg *err)
{
	struct wg_backend *w = b->impl;
	int r;

	if (!w->registered) {
		errmsg_set(err, "wireguard: the lease is set before the device exists");
		return -EINVAL;
	}
	for (int fi = 0; fi < 2; fi++) {
		bool has = fi == 0 ? b->own->has_subnet && b->own->subnet.addr.family == AF_INET
				   : b->own->has_subnet6 && b->own->subnet6.addr.family == AF_INET6;
		if (w->dev[fi].used && !has) {
			errmsg_set(
				err,
				"failed to configure wg interface: %s is enabled but the lease has no %s",
				fi == 0 ? "IPv4" : "IPv6", fi == 0 ? "IPv4" : "IPv6");
			return -EINVAL;
		}
	}
	r = set_addresses(b, w);
	if (r < 0)
		errmsg_set(err, "failed to configure the WireGuard device address: %s",
			   strerror(-r));
	return r;
}

static int wg_prepare(struct backend *b, struct plan_params *ret)
{
	struct wg_backend *w = b->impl;
	struct plan_params p = {.backend_type = "wireguard", .proto = NL_PROTO_FLANNEL};
	int r;

	if (!w->registered)
		return -EINVAL;
	r = ensure_devices(b, w);
	if (r >= 0 && b->own)
		r = set_addresses(b, w);
	if (r < 0)
		return r;
	backend_params_networks(b, &p);
	for (int fi = 0; fi < 2; fi++) {
		struct plan_family *f = &p.fam[fi];
		const struct wg_dev *d = &w->dev[fi];

		f->enabled = d->used;
		if (!f->enabled)
			continue;
		f->wg = true;
		f->dev_ifindex = d->ifindex;
		f->ext_ifindex = b->ext.ifindex;
		f->route_priority = fi == 0 ? 0 : 1024;
		f->wg_port = d->port;
		f->wg_keepalive = w->cfg.keepalive;
		if (w->cfg.has_psk)
			memcpy(f->wg_psk, w->cfg.psk, WG_KEY_LEN);
		if (f->has_network) {
			f->has_dev_route = true;
			f->dev_route = (struct route_spec){.family = fi == 0 ? AF_INET : AF_INET6,
							   .dst = f->network,
							   .ifindex = d->ifindex,
							   .proto = NL_PROTO_FLANNEL,
							   .type = NL_ROUTE_UNICAST,
							   .table = NL_TABLE_MAIN,
							   .priority = f->route_priority};
		}
	}
	*ret = p;
	return 0;
}

static int wg_dump_peers(struct backend *b, int fi, struct wg_peer **ret, size_t *ret_n)
{
	struct wg_backend *w = b->impl;
	struct wg_dev *d = &w->dev[fi];

	for (size_t k = 0; k < d->seen.n_peers; k++)
		d->seen.peers[k].ifindex = d->ifindex;
	/* Handed over: the next prepare reads the device again. */
	*ret = TAKE_PTR(d->seen.peers);
	*ret_n = d->seen.n_peers;
	d->seen.n_peers = 0;
	return 0;
}

static int wg_apply_peer(struct backend *b, int fi, const struct wg_peer *p, bool remove)
{
	struct wg_backend *w = b->impl;
	struct wg_change c = {
		.peer = p, .remove = remove, .psk = w->cfg.has_psk ? w->cfg.psk : NULL};

	return dev_set(w, &w->dev[fi], &c);
}

static bool wg_owns_event(const struct backend *b, const struct nl_event *ev)
{
	const struct wg_backend *w = b->impl;
	bool on_dev = false, named = false;

	for (int fi = 0; fi < 2; fi++) {
		const struct wg_dev *d = &w->dev[fi];
		if (!d->used)
			continue;
		on_dev = on_dev || (ev->ifindex > 0 && ev->ifindex == d->ifindex);
		named = named || strncmp(ev->ifname, d->name, IFNAMSIZ) == 0;
	}
	switch (ev->kind) {
	case NL_EVENT_LINK:
		return on_dev || named || ev->ifindex == b->ext.ifindex;
	case NL_EVENT_ADDR:
		return on_dev;
	case NL_EVENT_ROUTE:
		return backend_owns_route(b, ev,
					  ev->route.family == AF_INET6 ? w->dev[1].ifindex
								       : w->dev[0].ifindex);
	case NL_EVENT_NEIGH:
		return false;
	case NL_EVENT_OVERRUN:
	default:
		return true;
	}
}

const struct backend_ops wireguard_backend_ops = {
	.type = "wireguard",
	.init = wg_init,
	.done = wg_done,
	.register_ = wg_register,
	.set_lease = wg_set_lease,
	.prepare = wg_prepare,
	.owns_event = wg_owns_event,
	.dump_peers = wg_dump_peers,
	.apply_peer = wg_apply_peer,
};
