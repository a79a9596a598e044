/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delegate configuration and per-container state.
 *
 * cni_delegate_build() reproduces upstream's doCmdAdd()/getDelegateIPAM():
 * start from the user's "delegate" object (its values win), add
 * runtimeConfig, then set name (always), type "bridge", ipMasq = !IPMASQ,
 * mtu = FLANNEL_MTU (each unless present), isGateway true for bridge only
 * (unless present), cniVersion (when set), and ipam = the user's ipam with
 * type "host-local" by default, ranges from FLANNEL_SUBNET /
 * FLANNEL_IPV6_SUBNET and routes = user routes + one per network. Objects
 * print with sorted keys, as Go marshals maps, so the saved file has the
 * same bytes as upstream's for the same input.
 *
 * The state file is what DEL and CHECK hand to the delegate later: it is
 * written before the delegate runs and removed only once the delegate DEL
 * succeeded, so a retried DEL still finds it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "delegate.h"
#include "lib/core/fileio.h"

#define STATE_MAX_SIZE (2 * CNI_CONF_MAX_SIZE)

int cni_delegate_check_env(const struct subnet_env *e, const char *path, struct errmsg *err)
{
	char missing[160] = "";
	if (!e->has_network && !e->has_ipv6_network)
		strcat(missing, ", FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK");
	if (!e->has_subnet && !e->has_ipv6_subnet)
		strcat(missing, ", FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET");
	if (!e->has_mtu)
		strcat(missing, ", FLANNEL_MTU");
	if (!e->has_ipmasq)
		strcat(missing, ", FLANNEL_IPMASQ");
	if (missing[0] == '\0')
		return 0;
	errmsg_set(err, "%s is missing %s", path, missing + 2);
	return -EINVAL;
}

static struct cni_json *net_string(const struct ip_net *n)
{
	char text[IP_NET_STRLEN];
	struct ip_net masked = *n;
	ip_net_mask(&masked);
	return cni_json_new_string(ip_net_fmt(&masked, text));
}

/* [{"subnet": "<masked subnet>"}] */
static int append_range(struct cni_json *ranges, const struct ip_net *subnet)
{
	_cleanup_cni_json_ struct cni_json *set = cni_json_new_array();
	_cleanup_cni_json_ struct cni_json *range = cni_json_new_object();
	if (!set || !range)
		return -ENOMEM;
	int r = cni_json_set(range, "subnet", net_string(subnet));
	if (r >= 0)
		r = cni_json_append(set, TAKE_PTR(range));
	if (r >= 0)
		r = cni_json_append(ranges, TAKE_PTR(set));
	return r;
}

static int append_route(struct cni_json *routes, const struct ip_net *dst)
{
	_cleanup_cni_json_ struct cni_json *route = cni_json_new_object();
	if (!route)
		return -ENOMEM;
	int r = cni_json_set(route, "dst", net_string(dst));
	if (r >= 0)
		r = cni_json_append(routes, TAKE_PTR(route));
	return r;
}

/* ipam.routes as given by the user: an array of {"dst": CIDR, "gw"?: IP, ...}. */
static int copy_user_routes(const struct cni_json *ipam, struct cni_json *routes,
			    struct errmsg *err)
{
	const struct cni_json *user = cni_json_get(ipam, "routes");
	if (!user || cni_json_type(user) == CNI_JSON_NULL)
		return 0;
	if (cni_json_type(user) != CNI_JSON_ARRAY) {
		errmsg_set(err, "failed to assemble Delegate IPAM: ipam.routes: must be an array");
		return -EINVAL;
	}
	for (size_t i = 0; i < cni_json_size(user); i++) {
		const struct cni_json *route = cni_json_item(user, i);
		const char *dst, *gw;
		struct ip_net net;
		struct ip_addr addr;
		if (cni_json_type(route) != CNI_JSON_OBJECT ||
		    cni_json_get_string(route, "dst", &dst) < 0 || ip_net_parse(dst, &net) < 0) {
			errmsg_set(
				err,
				"failed to assemble Delegate IPAM: ipam.routes[%zu]: \"dst\" must be a CIDR",
				i);
			return -EINVAL;
		}
		int r = cni_json_get_string(route, "gw", &gw);
		if (r == -EINVAL || (r >= 0 && ip_addr_parse(gw, &addr) < 0)) {
			errmsg_set(
				err,
				"failed to assemble Delegate IPAM: ipam.routes[%zu]: \"gw\" must be an IP address",
				i);
			return -EINVAL;
		}
		r = cni_json_append(routes, cni_json_copy(route));
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_ipam(const struct cni_conf *c, const struct subnet_env *e, struct cni_json **ret,
		      struct errmsg *err)
{
	_cleanup_cni_json_ struct cni_json *ipam =
		c->ipam ? cni_json_copy(c->ipam) : cni_json_new_object();
	_cleanup_cni_json_ struct cni_json *ranges = cni_json_new_array();
	_cleanup_cni_json_ struct cni_json *routes = cni_json_new_array();
	int r = 0;
	if (!ipam || !ranges || !routes)
		return -ENOMEM;

	if (!cni_json_has(ipam, "type"))
		r = cni_json_set(ipam, "type", cni_json_new_string("host-local"));
	if (r >= 0 && e->has_subnet)
		r = append_range(ranges, &e->subnet);
	if (r >= 0 && e->has_ipv6_subnet)
		r = append_range(ranges, &e->ipv6_subnet);
	if (r >= 0)
		r = cni_json_set(ipam, "ranges", TAKE_PTR(ranges));
	if (r >= 0)
		r = copy_user_routes(ipam, routes, err);
	if (r >= 0 && e->has_network)
		r = append_route(routes, &e->network);
	if (r >= 0 && e->has_ipv6_network)
		r = append_route(routes, &e->ipv6_network);
	if (r >= 0)
		r = cni_json_set(ipam, "routes", TAKE_PTR(routes));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ipam);
	return 0;
}

static int set_default(struct cni_json *obj, const char *key, struct cni_json *value)
{
	if (cni_json_has(obj, key)) {
		cni_json_free(value);
		return 0;
	}
	return cni_json_set(obj, key, value);
}

int cni_delegate_build(const struct cni_conf *c, const struct subnet_env *e, struct cni_json **ret,
		       struct errmsg *err)
{
	_cleanup_cni_json_ struct cni_json *d =
		c->delegate ? cni_json_copy(c->delegate) : cni_json_new_object();
	struct cni_json *ipam = NULL;
	const char *type;
	int r;
	if (!d)
		return -ENOMEM;

	r = cni_json_get_string(d, "type", &type);
	if (r == -EINVAL || (r == -ENOENT && cni_json_has(d, "type"))) {
		errmsg_set(err,
			   "'delegate' dictionary, if present, must have (string) 'type' field");
		return -EINVAL;
	}
	if (cni_json_has(d, "name")) {
		errmsg_set(
			err,
			"'delegate' dictionary must not have 'name' field, it'll be set by flannel");
		return -EINVAL;
	}
	if (cni_json_has(d, "ipam")) {
		errmsg_set(
			err,
			"'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
		return -EINVAL;
	}

	r = 0;
	if (c->runtime_config)
		r = cni_json_set(d, "runtimeConfig", cni_json_copy(c->runtime_config));
	if (r >= 0)
		r = cni_json_set(d, "name", cni_json_new_string(c->name));
	if (r >= 0)
		r = set_default(d, "type", cni_json_new_string("bridge"));
	if (r >= 0)
		r = set_default(d, "ipMasq", cni_json_new_bool(!e->ipmasq));
	if (r >= 0)
		r = set_default(d, "mtu", cni_json_new_u64(e->mtu));
	if (r >= 0 && strcmp(cni_json_string(cni_json_get(d, "type")), "bridge") == 0)
		r = set_default(d, "isGateway", cni_json_new_bool(true));
	if (r >= 0 && c->cni_version[0] != '\0')
		r = cni_json_set(d, "cniVersion", cni_json_new_string(c->cni_version));
	if (r >= 0)
		r = build_ipam(c, e, &ipam, err);
	if (r >= 0)
		r = cni_json_set(d, "ipam", ipam);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

static int state_path(const char *data_dir, const char *container_id, char **ret)
{
	/* Container IDs are checked by the caller (skel); refuse path tricks here as well. */
	if (container_id[0] == '\0' || container_id[0] == '.' || strchr(container_id, '/'))
		return -EINVAL;
	if (asprintf(ret, "%s/%s", data_dir, container_id) < 0)
		return -ENOMEM;
	return 0;
}

static int state_save(const char *data_dir, const char *container_id, const char *data, size_t len,
		      bool durable)
{
	_cleanup_free_ char *path = NULL;
	int r = state_path(data_dir, container_id, &path);
	if (r < 0)
		return r;
	r = mkdir_p(data_dir, 0700);
	if (r < 0)
		return r;
	return durable ? write_file_atomic(path, data, len, 0600)
		       : write_file_replace(path, data, len, 0600);
}

int cni_state_save(const char *data_dir, const char *container_id, const char *data, size_t len)
{
	return state_save(data_dir, container_id, data, len, true);
}

int cni_state_save_volatile(const char *data_dir, const char *container_id, const char *data,
			    size_t len)
{
	return state_save(data_dir, container_id, data, len, false);
}

int cni_state_load(const char *data_dir, const char *container_id, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	int r = state_path(data_dir, container_id, &path);
	if (r < 0)
		return r;
	return read_file_bounded(path, STATE_MAX_SIZE, ret, ret_len);
}

int cni_state_remove(const char *data_dir, const char *container_id)
{
	_cleanup_free_ char *path = NULL;
	int r = state_path(data_dir, container_id, &path);
	if (r < 0)
		return r;
	if (unlink(path) < 0 && errno != ENOENT)
		return negative_errno();
	return 0;
}

static bool attachment_listed(const struct cni_json *keep, const char *container_id)
{
	for (size_t i = 0; i < cni_json_size(keep); i++) {
		const char *id;
		if (cni_json_get_string(cni_json_item(keep, i), "containerID", &id) >= 0 &&
		    strcmp(id, container_id) == 0)
			return true;
	}
	return false;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

int cni_state_gc(const char *data_dir, const struct cni_json *keep)
{
	_cleanup_(closedirp) DIR *dir = opendir(data_dir);
	int removed = 0;
	if (!dir)
		return errno == ENOENT ? 0 : negative_errno();
	struct dirent *de;
	while ((errno = 0, de = readdir(dir))) {
		struct stat st;
		/* Only files named like a container ID are ours (atomic writes' temp files start with '.'). */
		if (!cni_conf_valid_id(de->d_name) || attachment_listed(keep, de->d_name))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) < 0) {
			if (errno != ENOENT)
				return negative_errno();
			continue;
		}
		removed++;
	}
	if (errno != 0)
		return negative_errno();
	return removed;
}
