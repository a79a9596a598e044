/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The installer subcommand of the plugin binary. Being part of the same
 * static binary means the image needs no shell or cp: the init container
 * runs `/usr/libexec/flannel/flannel install ...`, which copies
 * /proc/self/exe to <bin-dir>/flannel (0755) and the conflist to
 * <conf-dir>/10-flannel.conflist (0644), each atomically, the conflist last
 * so that the runtime never sees a configuration whose plugin is missing.
 */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "install.h"
#include "json.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "skel.h"

#define CONFLIST_MAX_SIZE (1024 * 1024)

const char cni_install_usage[] =
	"Usage: flannel install [--cni-bin-dir DIR] [--cni-conf-dir DIR] [--conflist FILE]\n"
	"                       [--conf-name NAME] [--skip-plugin] [--skip-conflist]\n"
	"\n"
	"Installs this binary as DIR/flannel (default /opt/cni/bin) and the CNI\n"
	"configuration list FILE (default /etc/kube-flannel/cni-conf.json) as\n"
	"DIR/NAME (default /etc/cni/net.d/10-flannel.conflist), atomically.\n"
	"\n"
	"Run by a container runtime (CNI_COMMAND set), this binary is the flannel\n"
	"CNI plugin.\n";

static bool plain_name(const char *s)
{
	return s[0] != '\0' && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int cni_install_parse_args(int argc, char *const *argv, struct cni_install_opts *ret,
			   struct errmsg *err)
{
	struct cni_install_opts o = {
		.bin_dir = "/opt/cni/bin",
		.conf_dir = "/etc/cni/net.d",
		.conflist = "/etc/kube-flannel/cni-conf.json",
		.conf_name = "10-flannel.conflist",
		.self = "/proc/self/exe",
	};
	static const struct {
		const char *name;
		size_t offset;
	} values[] = {
		{"--cni-bin-dir", offsetof(struct cni_install_opts, bin_dir)},
		{"--cni-conf-dir", offsetof(struct cni_install_opts, conf_dir)},
		{"--conflist", offsetof(struct cni_install_opts, conflist)},
		{"--conf-name", offsetof(struct cni_install_opts, conf_name)},
	};

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool matched = false;
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			o.help = true;
			continue;
		}
		if (strcmp(arg, "--skip-plugin") == 0) {
			o.skip_plugin = true;
			continue;
		}
		if (strcmp(arg, "--skip-conflist") == 0) {
			o.skip_conflist = true;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(values) && !matched; k++) {
			size_t n = strlen(values[k].name);
			const char *value;
			if (strncmp(arg, values[k].name, n) != 0 ||
			    (arg[n] != '\0' && arg[n] != '='))
				continue;
			if (arg[n] == '=')
				value = arg + n + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				errmsg_set(err, "%s needs a value", values[k].name);
				return -EINVAL;
			}
			if (value[0] == '\0') {
				errmsg_set(err, "%s: empty value", values[k].name);
				return -EINVAL;
			}
			*(const char **)((char *)&o + values[k].offset) = value;
			matched = true;
		}
		if (!matched) {
			errmsg_set(err, "unknown argument \"%.64s\"", arg);
			return -EINVAL;
		}
	}
	if (!plain_name(o.conf_name)) {
		errmsg_set(err, "--conf-name: \"%.64s\" is not a file name", o.conf_name);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int cni_conflist_check(const char *data, size_t len, struct errmsg *err)
{
	_cleanup_cni_json_ struct cni_json *root = NULL;
	struct errmsg jerr = {};
	const char *s;
	int r = cni_json_parse(data, len, &root, &jerr);
	if (r < 0) {
		errmsg_set(err, "not valid JSON: %s", jerr.text);
		return r == -ENOMEM ? r : -EINVAL;
	}
	if (cni_json_type(root) != CNI_JSON_OBJECT) {
		errmsg_set(err, "must be a JSON object");
		return -EINVAL;
	}
	if (cni_json_get_string(root, "name", &s) < 0 || !cni_conf_valid_id(s)) {
		errmsg_set(err, "name: missing or invalid network name");
		return -EINVAL;
	}
	r = cni_json_get_string(root, "cniVersion", &s);
	if (r == -EINVAL || (r >= 0 && !cni_version_supported(s))) {
		errmsg_set(err, "cniVersion: must be one of 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
		return -EINVAL;
	}
	const struct cni_json *versions = cni_json_get(root, "cniVersions");
	if (r == -ENOENT && cni_json_size(versions) == 0) {
		errmsg_set(err, "cniVersion: missing");
		return -EINVAL;
	}
	for (size_t i = 0; i < cni_json_size(versions); i++)
		if (!cni_json_string(cni_json_item(versions, i))) {
			errmsg_set(err, "cniVersions[%zu]: must be a string", i);
			return -EINVAL;
		}
	const struct cni_json *plugins = cni_json_get(root, "plugins");
	if (!plugins || cni_json_type(plugins) != CNI_JSON_ARRAY || cni_json_size(plugins) == 0) {
		errmsg_set(err, "plugins: must be a non-empty array");
		return -EINVAL;
	}
	for (size_t i = 0; i < cni_json_size(plugins); i++) {
		const struct cni_json *p = cni_json_item(plugins, i);
		if (cni_json_type(p) != CNI_JSON_OBJECT) {
			errmsg_set(err, "plugins[%zu]: must be an object", i);
			return -EINVAL;
		}
		if (cni_json_get_string(p, "type", &s) < 0 || !plain_name(s)) {
			errmsg_set(err, "plugins[%zu].type: missing or not a plugin name", i);
			return -EINVAL;
		}
	}
	return 0;
}

int cni_install(const struct cni_install_opts *o)
{
	_cleanup_free_ char *conflist = NULL, *bin = NULL, *conf = NULL;
	struct errmsg err = {};
	size_t len = 0;
	int r;

	if (!o->skip_conflist) {
		r = read_file_bounded(o->conflist, CONFLIST_MAX_SIZE, &conflist, &len);
		if (r < 0)
			return log_error_errno(r, "Failed to read %s", o->conflist);
		r = cni_conflist_check(conflist, len, &err);
		if (r < 0) {
			log_error("Invalid conflist %s: %s", o->conflist, err.text);
			return r;
		}
	}
	if (asprintf(&bin, "%s/flannel", o->bin_dir) < 0 ||
	    asprintf(&conf, "%s/%s", o->conf_dir, o->conf_name) < 0)
		return log_error_errno(-ENOMEM, "Failed to install");

	if (!o->skip_plugin) {
		r = copy_file_atomic(o->self, bin, 0755);
		if (r < 0)
			return log_error_errno(r, "Failed to install %s as %s", o->self, bin);
		log_info("Installed the flannel CNI plugin as %s", bin);
	}
	if (!o->skip_conflist) {
		r = write_file_atomic(conf, conflist, len, 0644);
		if (r < 0)
			return log_error_errno(r, "Failed to install %s as %s", o->conflist, conf);
		log_info("Installed %s as %s", o->conflist, conf);
	}
	return 0;
}

int cni_install_main(int argc, char *const *argv, FILE *out)
{
	struct cni_install_opts o;
	struct errmsg err = {};
	if (cni_install_parse_args(argc, argv, &o, &err) < 0) {
		log_error("install: %s", err.text);
		return 2;
	}
	if (o.help) {
		fputs(cni_install_usage, out);
		return 0;
	}
	return cni_install(&o) < 0 ? 1 : 0;
}
