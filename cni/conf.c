/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parses the flannel plugin's network configuration into struct cni_conf.
 * The strings and sub-objects point into the parsed document, which the
 * struct owns: the delegate and ipam sections are user data that we pass on
 * to the delegate plugin, so they stay JSON values rather than typed fields.
 * Defaults are upstream's: subnetFile /run/flannel/subnet.env, dataDir
 * /var/lib/cni/flannel; ours: mode "delegate" (or "builtin").
 */
#include <errno.h>
#include <string.h>

#include "conf.h"

bool cni_conf_valid_id(const char *s)
{
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    *p))
			return false;
	return true;
}

/* A string field with a default; "" is not a path. */
static int get_path(const struct cni_json *root, const char *key, const char *def, const char **ret,
		    struct errmsg *err)
{
	int r = cni_json_get_string(root, key, ret);
	if (r == -ENOENT) {
		*ret = def;
		return 0;
	}
	if (r < 0 || (*ret)[0] == '\0') {
		errmsg_set(err, "%s: must be a non-empty string", key);
		return -EINVAL;
	}
	return 0;
}

static int get_object(const struct cni_json *root, const char *key, const struct cni_json **ret,
		      struct errmsg *err)
{
	const struct cni_json *v = cni_json_get(root, key);
	if (!v || cni_json_type(v) == CNI_JSON_NULL) {
		*ret = NULL;
		return 0;
	}
	if (cni_json_type(v) != CNI_JSON_OBJECT) {
		errmsg_set(err, "%s: must be an object, not %s", key, cni_json_type_name(v));
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int get_optional_string(const struct cni_json *root, const char *key, const char **ret,
			       struct errmsg *err)
{
	int r = cni_json_get_string(root, key, ret);
	if (r == -ENOENT) {
		*ret = "";
		return 0;
	}
	if (r < 0) {
		errmsg_set(err, "%s: must be a string", key);
		return -EINVAL;
	}
	return 0;
}

static int get_mode(const struct cni_json *root, enum cni_mode *ret, struct errmsg *err)
{
	const char *v;
	int r = cni_json_get_string(root, "mode", &v);
	if (r == -ENOENT) {
		*ret = CNI_MODE_DELEGATE;
		return 0;
	}
	if (r >= 0 && strcmp(v, "delegate") == 0)
		*ret = CNI_MODE_DELEGATE;
	else if (r >= 0 && strcmp(v, "builtin") == 0)
		*ret = CNI_MODE_BUILTIN;
	else {
		errmsg_set(err, "mode: must be \"delegate\" or \"builtin\"");
		return -EINVAL;
	}
	return 0;
}

static int get_name(const struct cni_json *root, const char **ret, struct errmsg *err)
{
	int r = cni_json_get_string(root, "name", ret);
	if (r == -ENOENT) {
		errmsg_set(err, "missing network name");
		return -EINVAL;
	}
	if (r < 0) {
		errmsg_set(err, "name: must be a string");
		return -EINVAL;
	}
	if (!cni_conf_valid_id(*ret)) {
		errmsg_set(err, "name: invalid characters in network name \"%.64s\"", *ret);
		return -EINVAL;
	}
	return 0;
}

int cni_conf_parse(const char *data, size_t len, struct cni_conf *ret, struct errmsg *err)
{
	struct cni_conf c = {};
	struct errmsg jerr = {};
	int r;

	if (len > CNI_CONF_MAX_SIZE) {
		errmsg_set(err, "network configuration larger than %d bytes", CNI_CONF_MAX_SIZE);
		return -EINVAL;
	}
	r = cni_json_parse(data, len, &c.root, &jerr);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		errmsg_set(err, "error parsing network configuration: %s", jerr.text);
		return -EBADMSG;
	}
	if (cni_json_type(c.root) != CNI_JSON_OBJECT) {
		errmsg_set(err, "network configuration must be a JSON object, not %s",
			   cni_json_type_name(c.root));
		cni_conf_done(&c);
		return -EINVAL;
	}

	r = get_name(c.root, &c.name, err);
	if (r >= 0)
		r = get_optional_string(c.root, "cniVersion", &c.cni_version, err);
	if (r >= 0)
		r = get_optional_string(c.root, "type", &c.type, err);
	if (r >= 0)
		r = get_path(c.root, "subnetFile", CNI_CONF_DEFAULT_SUBNET_FILE, &c.subnet_file,
			     err);
	if (r >= 0)
		r = get_path(c.root, "dataDir", CNI_CONF_DEFAULT_DATA_DIR, &c.data_dir, err);
	if (r >= 0)
		r = get_mode(c.root, &c.mode, err);
	if (r >= 0)
		r = get_object(c.root, "delegate", &c.delegate, err);
	if (r >= 0)
		r = get_object(c.root, "ipam", &c.ipam, err);
	if (r >= 0)
		r = get_object(c.root, "runtimeConfig", &c.runtime_config, err);
	if (r >= 0)
		r = get_object(c.root, "prevResult", &c.prev_result, err);
	if (r >= 0) {
		c.valid_attachments = cni_json_get(c.root, "cni.dev/valid-attachments");
		if (c.valid_attachments && cni_json_type(c.valid_attachments) != CNI_JSON_ARRAY) {
			errmsg_set(err, "cni.dev/valid-attachments: must be an array");
			r = -EINVAL;
		}
	}
	if (r < 0) {
		cni_conf_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void cni_conf_done(struct cni_conf *c)
{
	c->root = cni_json_free(c->root);
}
