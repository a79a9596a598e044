/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flannel's CNI commands, with upstream's semantics where runtimes and users
 * depend on them and the fixes flannel-behaviour.md §7.4 calls for:
 *  - ADD: subnet.env missing is "try again later" (11), not 999; the
 *    delegate configuration is saved before the delegate runs; a failed
 *    delegate ADD is undone with a delegate DEL and its state removed.
 *  - DEL: no state is success (idempotent); the state is removed only once
 *    the delegate DEL succeeded, so a retried DEL can still clean up.
 *  - CHECK: the saved configuration plus the runtime's prevResult goes to
 *    the delegate's CHECK (upstream does nothing).
 *  - GC/STATUS: forwarded to the delegate; a delegate too old to know them
 *    (it answers code 1, incompatible version) is not an error.
 * The delegate's stdout is passed through unchanged, on success (its result)
 * and on failure (its error JSON).
 *
 * In built-in mode ("mode": "builtin") the same delegate configuration is
 * built and saved, and when it is one of bridge + host-local (builtin.h)
 * the plugin does their work itself; otherwise it runs the delegate as in
 * delegate mode. Either mode reads the other's state: the saved file is the
 * same delegate configuration, and the addresses are host-local's files.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "delegate.h"
#include "flannel.h"
#include "lib/core/log.h"

/* The error JSON of a failed delegate: passed through when it is one, else code 999. */
static int delegate_failed(const char *type, const char *cmd, const struct cni_exec_result *res,
			   struct cni_error *e)
{
	_cleanup_cni_json_ struct cni_json *j = NULL;
	uint32_t code;
	if (cni_json_parse(res->out, res->out_len, &j, NULL) >= 0 &&
	    cni_json_as_u32(cni_json_get(j, "code"), &code) >= 0) {
		e->code = code;
		e->raw = strdup(res->out);
		e->raw_len = res->out_len;
		if (!e->raw)
			return cni_error_set(e, code, "delegate failed (out of memory)", NULL);
		return -EINVAL;
	}
	return cni_error_set(e, CNI_ERR_INTERNAL, "delegate failed",
			     "delegate %s %s exited with status %d: %.900s", type, cmd, res->status,
			     res->out);
}

static int exec_error(const struct cni_args *a, const char *type, const char *cmd, int r,
		      struct cni_error *e)
{
	if (r == -ENOENT)
		return cni_error_set(e, CNI_ERR_INTERNAL, "failed to find delegate plugin",
				     "failed to find plugin \"%.64s\" in path [%.800s]", type,
				     a->path);
	if (r == -EINVAL)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "invalid delegate type",
				     "delegate type \"%.64s\" is not a plugin name", type);
	if (r == -ETIMEDOUT)
		return cni_error_set(e, CNI_ERR_INTERNAL, "delegate timed out",
				     "delegate %s %s killed after %d s", type, cmd,
				     CNI_EXEC_TIMEOUT_SEC);
	return cni_error_set(e, CNI_ERR_INTERNAL, "failed to run delegate", "delegate %s %s: %s",
			     type, cmd, strerror(-r));
}

/*
 * Runs the delegate; 0 when it succeeded (its output in res), else -EINVAL
 * with e filled. A delegate error's code is in e->code either way.
 */
static int run_delegate(const struct cni_args *a, const char *type, const char *cmd,
			const char *config, size_t len, struct cni_exec_result *res,
			struct cni_error *e)
{
	struct cni_exec_req req = {
		.cni_path = a->path,
		.type = type,
		.command = cmd,
		.config = config,
		.config_len = len,
	};
	int r = a->io->exec(a->io->userdata, &req, res);
	if (r < 0)
		return exec_error(a, type, cmd, r, e);
	if (res->status != 0) {
		r = delegate_failed(type, cmd, res, e);
		cni_exec_result_done(res);
		return r;
	}
	return 0;
}

static int print_config(const struct cni_json *v, char **ret, size_t *ret_len)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int r = cni_json_print(v, &b);
	if (r < 0)
		return r;
	*ret = buf_steal(&b, ret_len);
	return 0;
}

/* subnet.env -> delegate configuration, with the error codes of ADD (or STATUS). */
static int load_delegate(const struct cni_args *a, unsigned missing_code, struct cni_json **ret,
			 struct cni_error *e)
{
	const char *path = a->conf.subnet_file;
	struct subnet_env env = {};
	struct errmsg err = {};
	int r = subnet_env_read(path, &env, &err);
	if (r == -ENOENT) {
		/* Upstream's text, which users search for. */
		char msg[sizeof(e->msg)];
		snprintf(msg, sizeof(msg),
			 "failed to load flannel 'subnet.env' file: open %s: no such file or "
			 "directory. Check the flannel pod log for this node.",
			 path);
		return cni_error_set(e, missing_code, msg, NULL);
	}
	if (r < 0)
		return cni_error_set(
			e, missing_code == CNI_ERR_NOT_AVAILABLE ? missing_code : CNI_ERR_INTERNAL,
			"failed to load flannel 'subnet.env' file", "%s: %s", path,
			err.text[0] ? err.text : strerror(-r));
	if (cni_delegate_check_env(&env, path, &err) < 0)
		return cni_error_set(
			e, missing_code == CNI_ERR_NOT_AVAILABLE ? missing_code : CNI_ERR_INTERNAL,
			"invalid flannel 'subnet.env' file", "%s", err.text);
	r = cni_delegate_build(&a->conf, &env, ret, &err);
	if (r == -ENOMEM)
		return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "invalid delegate configuration",
				     "%s", err.text);
	return 0;
}

/*
 * Built-in mode serves d: true with bc filled. A configuration it does not
 * implement goes to the delegate, said once on stderr.
 */
static bool builtin_serves(const struct cni_args *a, const struct cni_json *d,
			   struct builtin_conf *bc)
{
	struct errmsg err = {};
	if (a->conf.mode != CNI_MODE_BUILTIN)
		return false;
	if (builtin_conf_parse(d, bc, &err) >= 0)
		return true;
	log_info("Built-in mode does not implement this configuration (%s), running the delegate",
		 err.text);
	return false;
}

static struct builtin_attachment attachment(const struct cni_args *a)
{
	return (struct builtin_attachment){
		.container_id = a->container_id,
		.ifname = a->ifname,
		.netns = a->netns,
	};
}

static int builtin_add_cmd(const struct cni_args *a, const struct builtin_conf *bc,
			   struct cni_error *e)
{
	const struct builtin_attachment att = attachment(a);
	struct builtin_result res;
	struct errmsg err = {};
	_cleanup_cni_json_ struct cni_json *out = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT;

	int r = builtin_add(bc, &att, &res, &err);
	if (r < 0) {
		/* Undo what was done; keep the state if that fails, for the runtime's DEL. */
		struct errmsg ignored = {};
		if (builtin_del(bc, &att, &ignored) >= 0)
			cni_state_remove(a->conf.data_dir, a->container_id);
		else
			log_warn("Cleanup of failed ADD failed (%s), keeping %s/%s", ignored.text,
				 a->conf.data_dir, a->container_id);
		return cni_error_set(e, CNI_ERR_INTERNAL, "failed to set up pod network", "%s",
				     err.text);
	}
	r = builtin_result_json(bc, &res, &out);
	if (r >= 0)
		r = cni_json_print(out, &b);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	fprintf(a->io->out, "%s\n", b.data);
	fflush(a->io->out);
	return 0;
}

static int cmd_add(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_cni_json_ struct cni_json *d = NULL;
	_cleanup_free_ char *config = NULL;
	struct cni_exec_result res = {};
	struct builtin_conf bc;
	size_t len;
	int r;

	r = load_delegate(a, CNI_ERR_TRY_AGAIN_LATER, &d, e);
	if (r < 0)
		return r;
	const char *type = cni_json_string(cni_json_get(d, "type"));
	r = print_config(d, &config, &len);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	log_v(1, "delegate configuration for %s: %s", a->container_id, config);

	bool builtin = builtin_serves(a, d, &bc);
	r = builtin ? cni_state_save_volatile(a->conf.data_dir, a->container_id, config, len)
		    : cni_state_save(a->conf.data_dir, a->container_id, config, len);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO, "failed to save delegate configuration",
				     "%s/%s: %s", a->conf.data_dir, a->container_id, strerror(-r));
	if (builtin)
		return builtin_add_cmd(a, &bc, e);

	r = run_delegate(a, type, "ADD", config, len, &res, e);
	if (r < 0) {
		/* Undo whatever the delegate did; keep the state if that fails, for the runtime's DEL. */
		struct cni_error ignored = {};
		struct cni_exec_result del = {};
		if (run_delegate(a, type, "DEL", config, len, &del, &ignored) >= 0) {
			cni_state_remove(a->conf.data_dir, a->container_id);
			cni_exec_result_done(&del);
		} else {
			log_warn(
				"Cleanup of failed ADD with delegate DEL failed (%s), keeping %s/%s",
				ignored.raw ? ignored.raw : ignored.msg, a->conf.data_dir,
				a->container_id);
			free(ignored.raw);
		}
		return r;
	}
	fwrite(res.out, 1, res.out_len, a->io->out);
	fflush(a->io->out);
	cni_exec_result_done(&res);
	return 0;
}

/*
 * DEL without a saved configuration: never added, already deleted, or (in
 * built-in mode, which saves it without fsync) lost with a power cut. Built-in
 * mode tears down with the current configuration: every step is a no-op for
 * an attachment that has nothing.
 */
static int builtin_del_unsaved(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_cni_json_ struct cni_json *d = NULL;
	struct cni_error ignored = {};
	struct builtin_conf bc;
	struct errmsg err = {};
	if (a->conf.mode != CNI_MODE_BUILTIN || load_delegate(a, 0, &d, &ignored) < 0 ||
	    builtin_conf_parse(d, &bc, &err) < 0)
		return 0;
	const struct builtin_attachment att = attachment(a);
	if (builtin_del(&bc, &att, &err) < 0)
		return cni_error_set(e, CNI_ERR_INTERNAL, "failed to tear down pod network", "%s",
				     err.text);
	return 0;
}

static int cmd_del(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_free_ char *config = NULL;
	_cleanup_cni_json_ struct cni_json *saved = NULL;
	struct cni_exec_result res = {};
	struct errmsg err = {};
	struct builtin_conf bc;
	const char *type;
	size_t len;
	int r;

	r = cni_state_load(a->conf.data_dir, a->container_id, &config, &len);
	if (r == -ENOENT)
		return builtin_del_unsaved(a, e);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO, "failed to read delegate configuration",
				     "%s/%s: %s", a->conf.data_dir, a->container_id, strerror(-r));
	if (cni_json_parse(config, len, &saved, &err) < 0 ||
	    cni_json_get_string(saved, "type", &type) < 0) {
		/* Nothing we can hand to a delegate: forget it (as upstream). */
		log_warn("Failed to parse saved delegate configuration %s/%s (%s), removing it",
			 a->conf.data_dir, a->container_id, err.text[0] ? err.text : "no type");
		cni_state_remove(a->conf.data_dir, a->container_id);
		return 0;
	}
	if (builtin_serves(a, saved, &bc)) {
		const struct builtin_attachment att = attachment(a);
		r = builtin_del(&bc, &att, &err);
		if (r < 0)
			return cni_error_set(e, CNI_ERR_INTERNAL, "failed to tear down pod network",
					     "%s", err.text);
	} else {
		r = run_delegate(a, type, "DEL", config, len, &res, e);
		if (r < 0)
			return r;
		cni_exec_result_done(&res);
	}
	r = cni_state_remove(a->conf.data_dir, a->container_id);
	if (r < 0)
		log_warn_errno(r, "Failed to remove %s/%s, ignoring", a->conf.data_dir,
			       a->container_id);
	return 0;
}

static int cmd_check(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_free_ char *saved_text = NULL, *config = NULL;
	_cleanup_cni_json_ struct cni_json *saved = NULL;
	struct cni_exec_result res = {};
	struct errmsg err = {};
	struct builtin_conf bc;
	const char *type;
	size_t len;
	int r;

	r = cni_state_load(a->conf.data_dir, a->container_id, &saved_text, &len);
	if (r == -ENOENT)
		return cni_error_set(e, CNI_ERR_UNKNOWN_CONTAINER, "container unknown",
				     "no delegate configuration saved for container %s in %s",
				     a->container_id, a->conf.data_dir);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO, "failed to read delegate configuration",
				     "%s/%s: %s", a->conf.data_dir, a->container_id, strerror(-r));
	r = cni_json_parse(saved_text, len, &saved, &err);
	if (r >= 0 && cni_json_get_string(saved, "type", &type) < 0) {
		errmsg_set(&err, "no type");
		r = -EINVAL;
	}
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INTERNAL, "invalid saved delegate configuration",
				     "%s/%s: %s", a->conf.data_dir, a->container_id, err.text);
	if (builtin_serves(a, saved, &bc)) {
		const struct builtin_attachment att = attachment(a);
		r = builtin_check(&bc, &att, a->conf.prev_result, &err);
		if (r < 0)
			return cni_error_set(e, CNI_ERR_INTERNAL, "pod network check failed", "%s",
					     err.text);
		return 0;
	}
	if (a->conf.prev_result) {
		r = cni_json_set(saved, "prevResult", cni_json_copy(a->conf.prev_result));
		if (r >= 0)
			r = print_config(saved, &config, &len);
		if (r < 0)
			return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	} else {
		config = TAKE_PTR(saved_text);
	}
	type = cni_json_string(cni_json_get(saved, "type"));
	r = run_delegate(a, type, "CHECK", config, len, &res, e);
	if (r < 0)
		return r;
	cni_exec_result_done(&res);
	return 0;
}

/* The delegate's VERSION lists version; true when it cannot be asked (the command itself will fail). */
static bool delegate_supports(const struct cni_args *a, const char *type, const char *version)
{
	struct cni_exec_req req = {.cni_path = a->path,
				   .type = type,
				   .command = "VERSION",
				   .config = "",
				   .config_len = 0};
	struct cni_exec_result res = {};
	_cleanup_cni_json_ struct cni_json *j = NULL;
	if (a->io->exec(a->io->userdata, &req, &res) < 0)
		return true;
	bool known = res.status != 0;
	if (!known && cni_json_parse(res.out, res.out_len, &j, NULL) >= 0) {
		const struct cni_json *list = cni_json_get(j, "supportedVersions");
		for (size_t i = 0; i < cni_json_size(list); i++)
			known |=
				strcmp(cni_json_string(cni_json_item(list, i)) ?: "", version) == 0;
	}
	cni_exec_result_done(&res);
	return known;
}

/*
 * GC and STATUS: forward to the delegate, unless it predates them (they came
 * with CNI 1.1.0): such a delegate (Debian's bridge 1.1.1) answers with an
 * error that has nothing to do with the node's state.
 */
static int forward(const struct cni_args *a, const char *cmd, struct cni_json *d,
		   struct cni_error *e)
{
	_cleanup_free_ char *config = NULL;
	struct cni_exec_result res = {};
	size_t len;
	const char *type = cni_json_string(cni_json_get(d, "type"));
	if (!delegate_supports(a, type, "1.1.0")) {
		log_info("Delegate %s predates CNI 1.1.0, not forwarding %s", type, cmd);
		return 0;
	}
	int r = print_config(d, &config, &len);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	r = run_delegate(a, type, cmd, config, len, &res, e);
	if (r < 0 && e->code == CNI_ERR_INCOMPATIBLE_VERSION && e->raw) {
		log_warn("Delegate %s does not support %s (%s), ignoring", type, cmd, e->raw);
		free(e->raw);
		e->raw = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	cni_exec_result_done(&res);
	return 0;
}

/* GC's cni.dev/valid-attachments lists the reservation's attachment. */
static bool attachment_valid(const struct ipam_entry *entry, void *userdata)
{
	const struct cni_json *valid = userdata;
	for (size_t i = 0; i < cni_json_size(valid); i++) {
		const char *id, *ifname;
		const struct cni_json *v = cni_json_item(valid, i);
		if (cni_json_get_string(v, "containerID", &id) >= 0 &&
		    cni_json_get_string(v, "ifname", &ifname) >= 0 &&
		    ipam_entry_matches(entry, id, ifname))
			return true;
	}
	return false;
}

/* Built-in GC: host-local's reservations of the network and their host ends. */
static int builtin_gc_cmd(const struct cni_args *a, struct cni_error *e)
{
	const char *dir = IPAM_DEFAULT_DATA_DIR;
	struct errmsg err = {};
	if (a->conf.ipam && cni_json_get_string(a->conf.ipam, "dataDir", &dir) == -EINVAL)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				     "ipam.dataDir: must be a string");
	int r = builtin_gc(dir, a->conf.name, attachment_valid, (void *)a->conf.valid_attachments,
			   &err);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO, "failed to garbage-collect addresses", "%s",
				     err.text);
	if (r > 0)
		log_info("Released %d addresses of stale attachments in %s/%s", r, dir,
			 a->conf.name);
	return 0;
}

static int cmd_gc(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_cni_json_ struct cni_json *d = NULL;
	struct builtin_conf bc;
	/* Without the list every attachment would look stale: running pods would lose theirs. */
	if (!a->conf.valid_attachments)
		return cni_error_set(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				     "GC needs cni.dev/valid-attachments");
	int r = load_delegate(a, CNI_ERR_TRY_AGAIN_LATER, &d, e);
	if (r >= 0 ? builtin_serves(a, d, &bc) : a->conf.mode == CNI_MODE_BUILTIN) {
		r = builtin_gc_cmd(a, e);
		if (r < 0)
			return r;
	} else if (r >= 0) {
		r = cni_json_set(d, "cni.dev/valid-attachments",
				 cni_json_copy(a->conf.valid_attachments));
		if (r < 0)
			return cni_error_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
		r = forward(a, "GC", d, e);
		if (r < 0)
			return r;
	} else {
		/* Without subnet.env there is no delegate configuration; our own state can still go. */
		log_warn("Not forwarding GC to the delegate: %s: %s", e->msg, e->details);
	}
	r = cni_state_gc(a->conf.data_dir, a->conf.valid_attachments);
	if (r < 0)
		return cni_error_set(e, CNI_ERR_IO, "failed to garbage-collect state", "%s: %s",
				     a->conf.data_dir, strerror(-r));
	if (r > 0)
		log_info("Removed %d stale delegate configurations from %s", r, a->conf.data_dir);
	return 0;
}

/* Ready iff subnet.env is there (and, in delegate mode, the delegate agrees). */
static int cmd_status(const struct cni_args *a, struct cni_error *e)
{
	_cleanup_cni_json_ struct cni_json *d = NULL;
	struct builtin_conf bc;
	int r = load_delegate(a, CNI_ERR_NOT_AVAILABLE, &d, e);
	if (r < 0)
		return r;
	if (builtin_serves(a, d, &bc))
		return 0;
	return forward(a, "STATUS", d, e);
}

int cni_main(const struct cni_io *io)
{
	static const struct cni_plugin flannel = {
		.about = "CNI Plugin flannel version " FLANNEL_VERSION " (C implementation)\n"
			 "CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n",
		.add = cmd_add,
		.del = cmd_del,
		.check = cmd_check,
		.gc = cmd_gc,
		.status = cmd_status,
	};
	return cni_skel_run(io, &flannel);
}
