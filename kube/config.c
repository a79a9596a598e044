/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection settings. The kubeconfig is read with the YAML subset parser
 * into a cJSON tree (JSON kubeconfigs parse directly), and only the fields
 * flannel can use are taken: cluster server / CA / insecure flag, user token
 * / tokenFile / client certificate and key. exec and auth-provider plugins
 * are refused with a clear error rather than silently ignored.
 */
#include <stdbool.h>
#include <string.h>

#include "kube/config.h"
#include "kube/yaml.h"
#include "lib/core/base64.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

void kube_config_done(struct kube_config *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	if (c->key_data)
		explicit_bzero(c->key_data, c->key_data_len);
	free(c->key_data);
	*c = (struct kube_config){};
}

/* A string field, NULL when absent/null/empty; -EINVAL on another type. */
static int get_opt_str(const cJSON *obj, const char *key, const char *where, const char **ret,
		       struct errmsg *err)
{
	const cJSON *item = json_item(obj, key);

	*ret = NULL;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return errmsg_set(err, "%s.%s: expected a string, got %s", where, key,
				  json_type_name(item)),
		       -EINVAL;
	if (item->valuestring[0])
		*ret = item->valuestring;
	return 0;
}

static int get_opt_bool(const cJSON *obj, const char *key, const char *where, bool *ret,
			struct errmsg *err)
{
	const cJSON *item = json_item(obj, key);

	*ret = false;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (cJSON_IsBool(item)) {
		*ret = cJSON_IsTrue(item);
		return 0;
	}
	if (cJSON_IsString(item) &&
	    (strcmp(item->valuestring, "true") == 0 || strcmp(item->valuestring, "false") == 0)) {
		*ret = strcmp(item->valuestring, "true") == 0;
		return 0;
	}
	return errmsg_set(err, "%s.%s: expected true or false", where, key), -EINVAL;
}

/* The entry named name in list (clusters/users/contexts), and its inner object. */
static int find_named(const cJSON *root, const char *list, const char *inner, const char *name,
		      const cJSON **ret, struct errmsg *err)
{
	const cJSON *arr = json_item(root, list), *item;

	if (arr && !cJSON_IsArray(arr) && !cJSON_IsNull(arr))
		return errmsg_set(err, "%s: expected a list", list), -EINVAL;
	cJSON_ArrayForEach (item, arr) {
		const char *n;
		const cJSON *obj;

		if (json_get_str(item, "name", &n) < 0 || strcmp(n, name) != 0)
			continue;
		obj = json_item(item, inner);
		if (!cJSON_IsObject(obj))
			return errmsg_set(err, "%s[%s].%s: missing or not a mapping", list, name,
					  inner),
			       -EINVAL;
		*ret = obj;
		return 0;
	}
	return errmsg_set(err, "%s: no entry named \"%s\"", list, name), -ENOENT;
}

static int resolve_path(const char *dir, const char *path, char **ret)
{
	int r;

	if (path[0] == '/' || !dir || !dir[0])
		*ret = strdup(path);
	else if ((r = asprintf(ret, "%s/%s", dir, path)) < 0)
		*ret = NULL;
	return *ret ? 0 : -ENOMEM;
}

static int decode_field(const char *value, const char *where, char **ret, size_t *ret_len,
			struct errmsg *err)
{
	int r = base64_decode(value, strlen(value), BASE64_LENIENT, ret, ret_len);
	if (r == -EBADMSG)
		return errmsg_set(err, "%s: invalid base64", where), -EINVAL;
	return r;
}

/*
 * An API server URL: http(s)://, a non-empty host, no whitespace or control
 * characters; a trailing '/' is dropped. Copied into *ret.
 */
static int server_url_dup(const char *s, char **ret)
{
	size_t scheme, len;

	if (strncmp(s, "https://", 8) == 0)
		scheme = 8;
	else if (strncmp(s, "http://", 7) == 0)
		scheme = 7;
	else
		return -EINVAL;
	len = strlen(s);
	while (len > scheme && s[len - 1] == '/')
		len--;
	if (len == scheme || s[scheme] == '/')
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return -EINVAL;
	*ret = strndup(s, len);
	return *ret ? 0 : -ENOMEM;
}

static int take_cluster(const cJSON *cluster, const char *dir, struct kube_config *c,
			struct errmsg *err)
{
	const char *s;
	int r;

	r = get_opt_str(cluster, "server", "cluster", &s, err);
	if (r < 0)
		return r;
	if (!s)
		return errmsg_set(err, "cluster.server: missing"), -EINVAL;
	r = server_url_dup(s, &c->server);
	if (r == -EINVAL)
		return errmsg_set(err, "cluster.server: expected an http(s) URL with a host"), r;
	if (r < 0)
		return r;

	r = get_opt_str(cluster, "certificate-authority-data", "cluster", &s, err);
	if (r < 0)
		return r;
	if (s) {
		r = decode_field(s, "cluster.certificate-authority-data", &c->ca_data,
				 &c->ca_data_len, err);
		if (r < 0)
			return r;
	} else {
		r = get_opt_str(cluster, "certificate-authority", "cluster", &s, err);
		if (r < 0)
			return r;
		if (s && resolve_path(dir, s, &c->ca_file) < 0)
			return -ENOMEM;
	}
	return get_opt_bool(cluster, "insecure-skip-tls-verify", "cluster",
			    &c->insecure_skip_tls_verify, err);
}

static int take_user(const cJSON *user, const char *dir, struct kube_config *c, struct errmsg *err)
{
	static const struct {
		const char *data_key, *file_key;
		size_t data_off, len_off, file_off;
	} pem[] = {
		{"client-certificate-data", "client-certificate",
		 offsetof(struct kube_config, cert_data),
		 offsetof(struct kube_config, cert_data_len),
		 offsetof(struct kube_config, cert_file)},
		{"client-key-data", "client-key", offsetof(struct kube_config, key_data),
		 offsetof(struct kube_config, key_data_len),
		 offsetof(struct kube_config, key_file)},
	};
	const char *s;
	int r;

	if (json_item(user, "exec") || json_item(user, "auth-provider"))
		return errmsg_set(err, "user: exec and auth-provider plugins are not supported"),
		       -EOPNOTSUPP;
	r = get_opt_str(user, "token", "user", &s, err);
	if (r < 0)
		return r;
	if (s && !(c->token = strdup(s)))
		return -ENOMEM;
	r = get_opt_str(user, "tokenFile", "user", &s, err);
	if (r < 0)
		return r;
	if (s && resolve_path(dir, s, &c->token_file) < 0)
		return -ENOMEM;

	for (size_t i = 0; i < ARRAY_SIZE(pem); i++) {
		char **data = (char **)((char *)c + pem[i].data_off);
		size_t *len = (size_t *)((char *)c + pem[i].len_off);
		char **file = (char **)((char *)c + pem[i].file_off);
		char where[64];

		snprintf(where, sizeof(where), "user.%s", pem[i].data_key);
		r = get_opt_str(user, pem[i].data_key, "user", &s, err);
		if (r < 0)
			return r;
		if (s) {
			r = decode_field(s, where, data, len, err);
			if (r < 0)
				return r;
			continue;
		}
		r = get_opt_str(user, pem[i].file_key, "user", &s, err);
		if (r < 0)
			return r;
		if (s && resolve_path(dir, s, file) < 0)
			return -ENOMEM;
	}
	if (!!(c->cert_data || c->cert_file) != !!(c->key_data || c->key_file))
		return errmsg_set(err, "user: client certificate and key must be given together"),
		       -EINVAL;
	return 0;
}

int kube_config_from_kubeconfig(const char *text, size_t len, const char *dir,
				struct kube_config *ret, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	struct kube_config c = {};
	const cJSON *ctx, *obj;
	const char *cur, *cluster, *user;
	size_t i = 0;
	int r;

	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
		i++;
	if (i < len && text[i] == '{') {
		r = json_parse(text, len, KUBE_KUBECONFIG_MAX, 32, &root);
		if (r < 0)
			return errmsg_set(err, "invalid JSON"), -EINVAL;
	} else {
		r = kube_yaml_parse(text, len, &root, err);
		if (r < 0)
			return r;
	}
	if (!cJSON_IsObject(root))
		return errmsg_set(err, "not a mapping"), -EINVAL;

	r = get_opt_str(root, "current-context", "kubeconfig", &cur, err);
	if (r < 0)
		return r;
	if (!cur)
		return errmsg_set(err, "current-context: missing"), -EINVAL;
	r = find_named(root, "contexts", "context", cur, &ctx, err);
	if (r < 0)
		return r == -ENOENT ? -EINVAL : r;
	r = get_opt_str(ctx, "cluster", "context", &cluster, err);
	if (r < 0)
		return r;
	if (!cluster)
		return errmsg_set(err, "contexts[%s].context.cluster: missing", cur), -EINVAL;
	r = get_opt_str(ctx, "user", "context", &user, err);
	if (r < 0)
		return r;

	r = find_named(root, "clusters", "cluster", cluster, &obj, err);
	if (r >= 0)
		r = take_cluster(obj, dir, &c, err);
	if (r >= 0 && user) {
		r = find_named(root, "users", "user", user, &obj, err);
		if (r >= 0)
			r = take_user(obj, dir, &c, err);
	}
	if (r < 0) {
		kube_config_done(&c);
		return r == -ENOENT ? -EINVAL : r;
	}
	kube_config_done(ret);
	*ret = c;
	return 0;
}

int kube_config_in_cluster(const char *host, const char *port, const char *sa_dir,
			   struct kube_config *ret, struct errmsg *err)
{
	struct kube_config c = {};
	bool v6;

	if (!host || !host[0] || !port || !port[0])
		return errmsg_set(
			       err,
			       "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"),
		       -ENOENT;
	if (strpbrk(host, "/[]@ ") || strspn(port, "0123456789") != strlen(port))
		return errmsg_set(err, "KUBERNETES_SERVICE_HOST/PORT: invalid value"), -EINVAL;
	v6 = strchr(host, ':') != NULL;
	if (asprintf(&c.server, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0)
		return -ENOMEM;
	sa_dir = sa_dir && sa_dir[0] ? sa_dir : KUBE_SA_DIR_DEFAULT;
	if (asprintf(&c.token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&c.ca_file, "%s/ca.crt", sa_dir) < 0) {
		c.token_file = c.ca_file = NULL;
		kube_config_done(&c);
		return -ENOMEM;
	}
	kube_config_done(ret);
	*ret = c;
	return 0;
}

int kube_config_load(const char *kubeconfig_path, const char *api_url, struct kube_config *ret,
		     struct errmsg *err)
{
	struct kube_config c = {};
	const char *sa_dir = getenv("FLANNEL_SA_DIR");
	int r;

	if (kubeconfig_path && kubeconfig_path[0]) {
		_cleanup_free_ char *text = NULL, *dir = NULL;
		size_t len;
		char *slash;

		r = read_file_bounded(kubeconfig_path, KUBE_KUBECONFIG_MAX, &text, &len);
		if (r < 0)
			return errmsg_set(err, "%s: %s", kubeconfig_path, strerror(-r)), r;
		dir = strdup(kubeconfig_path);
		if (!dir)
			return -ENOMEM;
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		struct errmsg e = {};
		r = kube_config_from_kubeconfig(text, len, dir, &c, &e);
		if (r < 0)
			return errmsg_set(err, "%s: %s", kubeconfig_path, e.text), r;
		if (c.insecure_skip_tls_verify)
			log_warn(
				"%s: insecure-skip-tls-verify is set: the API server's certificate is not verified",
				kubeconfig_path);
	} else if (api_url && api_url[0]) {
		/* Only the URL: use the service-account credentials when present. */
		sa_dir = sa_dir && sa_dir[0] ? sa_dir : KUBE_SA_DIR_DEFAULT;
		if (asprintf(&c.token_file, "%s/token", sa_dir) < 0 ||
		    asprintf(&c.ca_file, "%s/ca.crt", sa_dir) < 0)
			return kube_config_done(&c), -ENOMEM;
		if (access(c.token_file, R_OK) < 0) {
			free(c.token_file);
			c.token_file = NULL;
		}
		if (access(c.ca_file, R_OK) < 0) {
			free(c.ca_file);
			c.ca_file = NULL;
		}
	} else {
		/* client-go's words; in a DaemonSet this is the normal case, so not a warning. */
		log_info(
			"Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  This might not work.");
		r = kube_config_in_cluster(getenv("KUBERNETES_SERVICE_HOST"),
					   getenv("KUBERNETES_SERVICE_PORT"), sa_dir, &c, err);
		if (r < 0)
			return r;
	}

	if (api_url && api_url[0]) {
		char *server;

		r = server_url_dup(api_url, &server);
		if (r < 0) {
			kube_config_done(&c);
			if (r == -EINVAL)
				errmsg_set(err,
					   "--kube-api-url: expected an http(s) URL with a host");
			return r;
		}
		free(c.server);
		c.server = server;
	}
	kube_config_done(ret);
	*ret = c;
	return 0;
}
