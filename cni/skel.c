/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI protocol shell (see skel.h). Mirrors the checks of the reference
 * Go skel so that runtimes see the same codes: missing or malformed CNI_*
 * variables are code 4, an unreadable stdin 5, undecodable JSON 6, an
 * invalid configuration 7, an unsupported cniVersion (or a command the
 * configuration's version does not have) 1. Errors go to stdout as JSON,
 * because libcni parses stdout, not stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "lib/core/log.h"
#include "skel.h"

const char *const cni_supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL};

#define LATEST_VERSION "1.1.0"

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; v && cni_supported_versions[i]; i++)
		if (strcmp(v, cni_supported_versions[i]) == 0)
			return true;
	return false;
}

int cni_error_set(struct cni_error *e, unsigned code, const char *msg, const char *details_fmt, ...)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->details[0] = '\0';
	if (details_fmt) {
		va_list ap;
		va_start(ap, details_fmt);
		vsnprintf(e->details, sizeof(e->details), details_fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

enum command { CMD_ADD, CMD_DEL, CMD_CHECK, CMD_VERSION, CMD_GC, CMD_STATUS, _CMD_MAX };

/* Which CNI_* variables each command requires (as the reference skel). */
enum { NEED_ID = 1, NEED_NETNS = 2, NEED_IFNAME = 4, NEED_PATH = 8 };

static const struct {
	const char *name;
	unsigned need;
} commands[_CMD_MAX] = {
	[CMD_ADD] = {"ADD", NEED_ID | NEED_NETNS | NEED_IFNAME | NEED_PATH},
	[CMD_DEL] = {"DEL", NEED_ID | NEED_IFNAME | NEED_PATH},
	[CMD_CHECK] = {"CHECK", NEED_ID | NEED_NETNS | NEED_IFNAME | NEED_PATH},
	[CMD_VERSION] = {"VERSION", 0},
	[CMD_GC] = {"GC", NEED_PATH},
	[CMD_STATUS] = {"STATUS", NEED_PATH},
};

static const char *env(const struct cni_io *io, const char *name)
{
	const char *v = io->getenv(io->userdata, name);
	return v && v[0] ? v : NULL;
}

static void print_versions(struct buf *b)
{
	for (size_t i = 0; cni_supported_versions[i]; i++)
		buf_printf(b, "%s\"%s\"", i ? ", " : "", cni_supported_versions[i]);
}

static int print_json(FILE *out, const struct cni_json *v)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r = cni_json_print(v, &b);
	if (r < 0)
		return r;
	fprintf(out, "%s\n", b.data);
	return fflush(out) == 0 ? 0 : negative_errno();
}

static int print_error(const struct cni_io *io, const char *version, const struct cni_error *e)
{
	if (e->raw) {
		fwrite(e->raw, 1, e->raw_len, io->out);
		if (e->raw_len == 0 || e->raw[e->raw_len - 1] != '\n')
			fputc('\n', io->out);
		fflush(io->out);
		return 1;
	}
	_cleanup_cni_json_ struct cni_json *o = cni_json_new_object();
	int r = o ? 0 : -ENOMEM;
	if (r >= 0)
		r = cni_json_set(o, "cniVersion",
				 cni_json_new_string(cni_version_supported(version)
							     ? version
							     : LATEST_VERSION));
	if (r >= 0)
		r = cni_json_set(o, "code", cni_json_new_u64(e->code));
	if (r >= 0)
		r = cni_json_set(o, "msg", cni_json_new_string(e->msg));
	if (r >= 0 && e->details[0])
		r = cni_json_set(o, "details", cni_json_new_string(e->details));
	if (r >= 0)
		r = print_json(io->out, o);
	if (r < 0)
		log_error_errno(r, "Failed to print error %u (%s)", e->code, e->msg);
	return 1;
}

static int do_version(const struct cni_io *io)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_cni_json_ struct cni_json *in = NULL, *o = NULL, *list = NULL;
	const char *version = LATEST_VERSION, *v;
	size_t len;
	/* The input (if any) only chooses the cniVersion we answer with. */
	if (io->read_stdin(io->userdata, CNI_CONF_MAX_SIZE, &data, &len) >= 0 &&
	    cni_json_parse(data, len, &in, NULL) >= 0 &&
	    cni_json_get_string(in, "cniVersion", &v) >= 0 && cni_version_supported(v))
		version = v;

	o = cni_json_new_object();
	list = cni_json_new_array();
	int r = o && list ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && cni_supported_versions[i]; i++)
		r = cni_json_append(list, cni_json_new_string(cni_supported_versions[i]));
	if (r >= 0)
		r = cni_json_set(o, "cniVersion", cni_json_new_string(version));
	if (r >= 0)
		r = cni_json_set(o, "supportedVersions", TAKE_PTR(list));
	if (r >= 0)
		r = print_json(io->out, o);
	if (r < 0) {
		struct cni_error e = {};
		cni_error_set(&e, CNI_ERR_INTERNAL, "failed to print VERSION", "%s", strerror(-r));
		return print_error(io, version, &e);
	}
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		    *p == '\v' || *p == '\f')
			return false;
	return true;
}

/* Environment checks; fills e and returns -EINVAL on failure. */
static int check_env(const struct cni_io *io, enum command cmd, struct cni_args *a,
		     struct cni_error *e)
{
	static const struct {
		unsigned bit;
		const char *name;
	} vars[] = {
		{NEED_ID, "CNI_CONTAINERID"},
		{NEED_NETNS, "CNI_NETNS"},
		{NEED_IFNAME, "CNI_IFNAME"},
		{NEED_PATH, "CNI_PATH"},
	};
	_cleanup_buf_ struct buf missing = BUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		if ((commands[cmd].need & vars[i].bit) && !env(io, vars[i].name))
			buf_printf(&missing, "%s%s", missing.len ? "," : "", vars[i].name);
	if (missing.len > 0)
		return cni_error_set(e, CNI_ERR_INVALID_ENV, "required env variables missing",
				     "required env variables [%s] missing", missing.data);

	a->container_id = env(io, "CNI_CONTAINERID");
	a->netns = env(io, "CNI_NETNS");
	a->ifname = env(io, "CNI_IFNAME");
	a->path = env(io, "CNI_PATH");
	if (a->container_id &&
	    (!cni_conf_valid_id(a->container_id) || strlen(a->container_id) > 255))
		return cni_error_set(e, CNI_ERR_INVALID_ENV, "invalid characters in containerID",
				     "CNI_CONTAINERID \"%.300s\" must match "
				     "^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$ and be at most 255 bytes",
				     a->container_id);
	if (a->ifname && !valid_ifname(a->ifname))
		return cni_error_set(e, CNI_ERR_INVALID_ENV, "invalid interface name",
				     "CNI_IFNAME \"%.64s\": at most 15 bytes, not . or .., "
				     "without '/', ':' or spaces",
				     a->ifname);
	return 0;
}

static int check_config(enum command cmd, struct cni_args *a, struct cni_error *e)
{
	struct errmsg err = {};
	int r = a->io->read_stdin(a->io->userdata, CNI_CONF_MAX_SIZE, &a->config, &a->config_len);
	if (r == -EFBIG)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "network configuration too large",
				     "more than %d bytes on stdin", CNI_CONF_MAX_SIZE);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO,
				     "failed to read network configuration from stdin", "%s",
				     strerror(-r));

	r = cni_conf_parse(a->config, a->config_len, &a->conf, &err);
	if (r == -EBADMSG)
		return cni_error_set(e, CNI_ERR_DECODE, "error decoding network configuration",
				     "%s", err.text);
	if (r == -ENOMEM)
		return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				     "%s", err.text);

	const char *v = a->conf.cni_version;
	if (!cni_version_supported(v)) {
		_cleanup_buf_ struct buf list = BUF_INIT;
		print_versions(&list);
		return cni_error_set(e, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
				     "config is \"%.32s\", plugin supports [%s]", v, list.data);
	}
	if (cmd == CMD_CHECK && (strcmp(v, "0.3.0") == 0 || strcmp(v, "0.3.1") == 0))
		return cni_error_set(e, CNI_ERR_INCOMPATIBLE_VERSION,
				     "config version does not allow CHECK", "config is \"%s\"", v);
	if ((cmd == CMD_GC || cmd == CMD_STATUS) && strcmp(v, "1.1.0") != 0)
		return cni_error_set(e, CNI_ERR_INCOMPATIBLE_VERSION,
				     "config version does not allow "
				     "GC or STATUS",
				     "config is \"%s\"", v);
	return 0;
}

int cni_skel_run(const struct cni_io *io, const struct cni_plugin *plugin)
{
	struct cni_args a = {.io = io};
	struct cni_error e = {};
	enum command cmd;
	int r;

	log_set_stream(io->err);
	a.command = env(io, "CNI_COMMAND");
	if (!a.command) {
		fputs(plugin->about, io->err);
		return 0;
	}
	for (cmd = 0; cmd < _CMD_MAX; cmd++)
		if (strcmp(a.command, commands[cmd].name) == 0)
			break;
	if (cmd == _CMD_MAX) {
		cni_error_set(&e, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
			      "CNI_COMMAND \"%.32s\"", a.command);
		return print_error(io, NULL, &e);
	}
	if (cmd == CMD_VERSION)
		return do_version(io);

	r = check_env(io, cmd, &a, &e);
	if (r >= 0)
		r = check_config(cmd, &a, &e);
	if (r >= 0) {
		const cni_cmd_fn fns[_CMD_MAX] = {
			[CMD_ADD] = plugin->add,       [CMD_DEL] = plugin->del,
			[CMD_CHECK] = plugin->check,   [CMD_GC] = plugin->gc,
			[CMD_STATUS] = plugin->status,
		};
		r = fns[cmd](&a, &e);
	}
	int ret = r < 0 ? print_error(io, a.conf.cni_version, &e) : 0;
	free(e.raw);
	free(a.config);
	cni_conf_done(&a.conf);
	return ret;
}
