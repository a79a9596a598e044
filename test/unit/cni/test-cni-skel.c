/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole plugin invocations through cni_main() with a fake environment,
 * stdin, stdout and delegate exec (struct cni_io): spec error codes,
 * VERSION, and flannel's ADD/DEL/CHECK/GC/STATUS semantics including
 * idempotent DEL and the cleanup of a failed ADD. subnet.env and the state
 * directory are real files in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cni/delegate.h"
#include "cni/flannel.h"
#include "lib/core/fileio.h"

#define MAX_CALLS 8

struct call {
	char type[32];
	char command[16];
	char *config;
};

struct reply {
	int r; /* exec's return */
	int status;
	const char *out;
};

struct fake {
	char dir[64];
	char subnet_file[128];
	char data_dir[128];
	const char *env[16]; /* name, value pairs */
	const char *stdin_text;
	int stdin_r;
	struct reply replies[MAX_CALLS]; /* by call index */
	struct call calls[MAX_CALLS];
	size_t n_calls;
	char *out, *err;
	size_t out_len, err_len;
	int rc;
};

static const char *fake_getenv(void *userdata, const char *name)
{
	struct fake *f = userdata;
	for (size_t i = 0; f->env[i]; i += 2)
		if (strcmp(f->env[i], name) == 0)
			return f->env[i + 1];
	return NULL;
}

static int fake_read_stdin(void *userdata, size_t max, char **ret, size_t *ret_len)
{
	struct fake *f = userdata;
	if (f->stdin_r < 0)
		return f->stdin_r;
	*ret = strdup(f->stdin_text ? f->stdin_text : "");
	*ret_len = strlen(*ret);
	return *ret ? 0 : -ENOMEM;
}

/* VERSION answers of a delegate that speaks CNI 1.1.0, and of Debian's bridge 1.1.1. */
#define VERSION_1_1 "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"1.0.0\",\"1.1.0\"]}"
#define VERSION_1_0 "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.1\",\"1.0.0\"]}"

static int fake_exec(void *userdata, const struct cni_exec_req *req, struct cni_exec_result *ret)
{
	struct fake *f = userdata;
	assert_true(f->n_calls < MAX_CALLS);
	struct call *c = &f->calls[f->n_calls];
	const struct reply *rep = &f->replies[f->n_calls++];
	snprintf(c->type, sizeof(c->type), "%s", req->type);
	snprintf(c->command, sizeof(c->command), "%s", req->command);
	c->config = strndup(req->config, req->config_len);
	assert_int_equal(strlen(c->config), req->config_len);
	if (rep->r < 0)
		return rep->r;
	ret->status = rep->status;
	ret->out = strdup(rep->out ? rep->out : "");
	ret->out_len = strlen(ret->out);
	return 0;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-cni-skel.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->subnet_file, sizeof(f->subnet_file), "%s/subnet.env", f->dir);
	snprintf(f->data_dir, sizeof(f->data_dir), "%s/data", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	_cleanup_free_ char *cmd = NULL;
	for (size_t i = 0; i < MAX_CALLS; i++)
		free(f->calls[i].config);
	free(f->out);
	free(f->err);
	assert_true(asprintf(&cmd, "rm -rf '%s'", f->dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void write_subnet_env(struct fake *f)
{
	const char *text = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.5.1/24\n"
			   "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
	assert_int_equal(write_file_atomic(f->subnet_file, text, strlen(text), 0644), 0);
}

/* Runs the plugin; resets the previous run's output and calls. */
static int run(struct fake *f)
{
	for (size_t i = 0; i < MAX_CALLS; i++) {
		free(f->calls[i].config);
		f->calls[i].config = NULL;
	}
	f->n_calls = 0;
	free(f->out);
	free(f->err);
	FILE *out = open_memstream(&f->out, &f->out_len);
	FILE *err = open_memstream(&f->err, &f->err_len);
	assert_non_null(out);
	assert_non_null(err);
	const struct cni_io io = {
		.userdata = f,
		.getenv = fake_getenv,
		.read_stdin = fake_read_stdin,
		.exec = fake_exec,
		.out = out,
		.err = err,
	};
	f->rc = cni_main(&io);
	fclose(out);
	fclose(err);
	return f->rc;
}

/* The CNI error code printed on stdout, with its message containing msg. */
static void expect_error(struct fake *f, unsigned code, const char *msg)
{
	_cleanup_cni_json_ struct cni_json *j = NULL;
	uint32_t got;
	assert_int_equal(f->rc, 1);
	if (cni_json_parse(f->out, f->out_len, &j, NULL) < 0)
		fail_msg("stdout is not JSON: %s", f->out);
	assert_int_equal(cni_json_as_u32(cni_json_get(j, "code"), &got), 0);
	if (got != code)
		fail_msg("expected code %u, got %s", code, f->out);
	if (!strstr(f->out, msg))
		fail_msg("error %s lacks \"%s\"", f->out, msg);
}

static void set_env(struct fake *f, const char *command)
{
	const char *env[] = {"CNI_COMMAND",  command,	  "CNI_CONTAINERID",
			     "ctr1",	     "CNI_NETNS", "/var/run/netns/p",
			     "CNI_IFNAME",   "eth0",	  "CNI_PATH",
			     "/opt/cni/bin", NULL};
	memcpy(f->env, env, sizeof(env));
}

static void set_conf(struct fake *f, const char *version, const char *extra)
{
	static char text[1024];
	snprintf(text, sizeof(text),
		 "{\"cniVersion\":\"%s\",\"name\":\"cbr0\",\"type\":\"flannel\",\"subnetFile\":"
		 "\"%s\",\"dataDir\":\"%s\"%s}",
		 version, f->subnet_file, f->data_dir, extra ? extra : "");
	f->stdin_text = text;
}

static bool state_exists(struct fake *f, const char *id)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	return cni_state_load(f->data_dir, id, &data, &len) == 0;
}

static void test_no_command(void **state)
{
	struct fake *f = *state;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->out_len, 0);
	assert_non_null(strstr(f->err, "CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0"));
}

static void test_version(void **state)
{
	struct fake *f = *state;
	f->env[0] = "CNI_COMMAND";
	f->env[1] = "VERSION";
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":"
				    "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
	f->stdin_text = "{\"cniVersion\":\"0.4.0\"}";
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(f->out, "{\"cniVersion\":\"0.4.0\","));
}

static void test_env_errors(void **state)
{
	struct fake *f = *state;
	f->env[0] = "CNI_COMMAND";
	f->env[1] = "FOO";
	run(f);
	expect_error(f, 4, "unknown CNI_COMMAND");

	f->env[1] = "ADD";
	run(f);
	expect_error(f, 4,
		     "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH]");
	f->env[1] = "DEL"; /* CNI_NETNS is optional for DEL */
	run(f);
	expect_error(f, 4, "required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing");
	f->env[1] = "GC";
	run(f);
	expect_error(f, 4, "required env variables [CNI_PATH] missing");

	set_env(f, "ADD");
	set_conf(f, "1.0.0", NULL);
	f->env[3] = "../x";
	run(f);
	expect_error(f, 4, "invalid characters in containerID");
	f->env[3] = "ctr1";
	f->env[7] = "a-very-long-interface";
	run(f);
	expect_error(f, 4, "invalid interface name");
	f->env[7] = "a:b";
	run(f);
	expect_error(f, 4, "invalid interface name");
	f->env[7] = "";
	run(f);
	expect_error(f, 4, "[CNI_IFNAME] missing");
	assert_int_equal(f->n_calls, 0);
}

static void test_config_errors(void **state)
{
	struct fake *f = *state;
	set_env(f, "ADD");
	f->stdin_text = "bad";
	run(f);
	expect_error(f, 6, "error decoding network configuration");
	assert_non_null(strstr(f->out, "{\"cniVersion\":\"1.1.0\",\"code\":6,"));
	f->stdin_text = "{\"name\":\"x\",}";
	run(f);
	expect_error(f, 6, "offset 12: expected string key");
	f->stdin_r = -EFBIG;
	run(f);
	expect_error(f, 7, "network configuration too large");
	f->stdin_r = -EIO;
	run(f);
	expect_error(f, 5, "failed to read network configuration");
	f->stdin_r = 0;
	f->stdin_text = "{\"cniVersion\":\"1.0.0\"}";
	run(f);
	expect_error(f, 7, "missing network name");
	set_conf(f, "1.0.0", ",\"delegate\":7");
	run(f);
	expect_error(f, 7, "delegate: must be an object");
	assert_non_null(strstr(f->out, "{\"cniVersion\":\"1.1.0\",\"code\":7,"));

	set_conf(f, "0.2.0", NULL);
	run(f);
	expect_error(f, 1, "config is \\\"0.2.0\\\", plugin supports [\\\"0.3.0\\\"");
	set_conf(f, "", NULL);
	run(f);
	expect_error(f, 1, "incompatible CNI versions");
	set_env(f, "CHECK");
	set_conf(f, "0.3.1", NULL);
	run(f);
	expect_error(f, 1, "config version does not allow CHECK");
	set_env(f, "STATUS");
	set_conf(f, "1.0.0", NULL);
	run(f);
	expect_error(f, 1, "does not allow GC or STATUS");
	assert_int_equal(f->n_calls, 0);
}

static void test_add_without_subnet_env(void **state)
{
	struct fake *f = *state;
	set_env(f, "ADD");
	set_conf(f, "1.0.0", NULL);
	run(f);
	expect_error(f, 11, "failed to load flannel 'subnet.env' file: open ");
	assert_non_null(strstr(f->out, "subnet.env: no such file or directory. Check the flannel "
				       "pod log for this node."));
	assert_false(state_exists(f, "ctr1"));

	/* An incomplete one is not a transient condition. */
	assert_int_equal(write_file_atomic(f->subnet_file, "FLANNEL_MTU=1450\n", 17, 0644), 0);
	run(f);
	expect_error(f, 999, "missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET");
	assert_int_equal(f->n_calls, 0);
}

static const char delegate_golden[] =
	"{\"cniVersion\":\"1.0.0\",\"hairpinMode\":true,\"ipMasq\":false,\"ipam\":{\"ranges\":"
	"[[{\"subnet\":\"198.18.5.0/24\"}]],\"routes\":[{\"dst\":\"198.18.0.0/16\"}],\"type\":"
	"\"host-local\"},\"isGateway\":true,\"mtu\":1450,\"name\":\"cbr0\",\"type\":\"bridge\"}";

static void test_add_del(void **state)
{
	struct fake *f = *state;
	const char *result =
		"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.5.2/24\"}]}\n";
	write_subnet_env(f);
	set_env(f, "ADD");
	set_conf(f, "1.0.0", ",\"delegate\":{\"hairpinMode\":true}");
	f->replies[0] = (struct reply){.out = result};
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, result); /* passed through unchanged */
	assert_int_equal(f->n_calls, 1);
	assert_string_equal(f->calls[0].type, "bridge");
	assert_string_equal(f->calls[0].command, "ADD");
	assert_string_equal(f->calls[0].config, delegate_golden);
	assert_true(state_exists(f, "ctr1"));

	/* DEL replays the saved configuration, then forgets it. */
	set_env(f, "DEL");
	f->env[4] = "CNI_NETNS";
	f->env[5] = "";
	assert_int_equal(run(f), 0);
	assert_int_equal(f->out_len, 0);
	assert_int_equal(f->n_calls, 1);
	assert_string_equal(f->calls[0].command, "DEL");
	assert_string_equal(f->calls[0].config, delegate_golden);
	assert_false(state_exists(f, "ctr1"));

	/* Idempotent: again, nothing to do, success. */
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 0);
	assert_int_equal(f->out_len, 0);
}

static void test_del_failure_keeps_state(void **state)
{
	struct fake *f = *state;
	const char *err = "{\"code\":999,\"msg\":\"netlink busy\"}";
	assert_int_equal(
		cni_state_save(f->data_dir, "ctr1", delegate_golden, strlen(delegate_golden)), 0);
	set_env(f, "DEL");
	set_conf(f, "1.0.0", NULL);
	f->replies[0] = (struct reply){.status = 1, .out = err};
	run(f);
	assert_int_equal(f->rc, 1);
	assert_string_equal(f->out, "{\"code\":999,\"msg\":\"netlink busy\"}\n");
	assert_true(state_exists(f, "ctr1")); /* the retry still finds it */

	f->replies[0] = (struct reply){.out = ""};
	assert_int_equal(run(f), 0);
	assert_false(state_exists(f, "ctr1"));

	/* A state file we cannot use is dropped and DEL succeeds. */
	assert_int_equal(cni_state_save(f->data_dir, "ctr1", "{garbage", 8), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 0);
	assert_false(state_exists(f, "ctr1"));
}

static void test_add_failure_cleans_up(void **state)
{
	struct fake *f = *state;
	const char *err = "{\"code\":999,\"msg\":\"container veth name provided (eth0) already "
			  "exists\"}";
	write_subnet_env(f);
	set_env(f, "ADD");
	set_conf(f, "1.0.0", ",\"delegate\":{\"hairpinMode\":true}");
	f->replies[0] = (struct reply){.status = 1, .out = err};
	f->replies[1] = (struct reply){.out = ""};
	run(f);
	expect_error(f, 999, "already exists");
	assert_int_equal(f->n_calls, 2);
	assert_string_equal(f->calls[1].command, "DEL");
	assert_string_equal(f->calls[1].config, delegate_golden);
	assert_false(state_exists(f, "ctr1"));

	/* When the cleanup DEL fails too, the state stays for the runtime's DEL. */
	f->replies[1] = (struct reply){.status = 1, .out = "not json"};
	run(f);
	expect_error(f, 999, "already exists");
	assert_true(state_exists(f, "ctr1"));

	/* A delegate without error JSON: code 999 naming it; one that is missing. */
	f->replies[0] = (struct reply){.status = 2, .out = "panic: oops"};
	f->replies[1] = (struct reply){.out = ""};
	run(f);
	expect_error(f, 999, "delegate bridge ADD exited with status 2: panic: oops");
	f->replies[0] = (struct reply){.r = -ENOENT};
	f->replies[1] = (struct reply){.r = -ENOENT};
	run(f);
	expect_error(f, 999, "failed to find plugin \\\"bridge\\\" in path [/opt/cni/bin]");

	/* An unacceptable delegate never reaches exec. */
	set_conf(f, "1.0.0", ",\"delegate\":{\"name\":\"x\"}");
	run(f);
	expect_error(f, 7, "'delegate' dictionary must not have 'name' field");
	assert_non_null(strstr(f->out, "{\"cniVersion\":\"1.0.0\",\"code\":7,"));
	assert_int_equal(f->n_calls, 0);
}

static void test_check(void **state)
{
	struct fake *f = *state;
	set_env(f, "CHECK");
	set_conf(f, "1.0.0", ",\"prevResult\":{\"ips\":[]}");
	run(f);
	expect_error(f, 3, "no delegate configuration saved for container ctr1");

	assert_int_equal(
		cni_state_save(f->data_dir, "ctr1", delegate_golden, strlen(delegate_golden)), 0);
	f->replies[0] = (struct reply){.out = ""};
	assert_int_equal(run(f), 0);
	assert_string_equal(f->calls[0].command, "CHECK");
	/* The saved configuration with the runtime's prevResult. */
	assert_non_null(strstr(f->calls[0].config, ",\"prevResult\":{\"ips\":[]},"));
	assert_non_null(strstr(f->calls[0].config, "\"name\":\"cbr0\""));

	f->replies[0] = (struct reply){.status = 1, .out = "{\"code\":999,\"msg\":\"route gone\"}"};
	run(f);
	expect_error(f, 999, "route gone");
	assert_true(state_exists(f, "ctr1"));
}

static void test_gc(void **state)
{
	struct fake *f = *state;
	write_subnet_env(f);
	assert_int_equal(cni_state_save(f->data_dir, "live", "{}", 2), 0);
	assert_int_equal(cni_state_save(f->data_dir, "stale", "{}", 2), 0);
	const char *env[] = {"CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin", NULL};
	memcpy(f->env, env, sizeof(env));
	set_conf(f, "1.1.0",
		 ",\"cni.dev/valid-attachments\":[{\"containerID\":\"live\",\"ifname\":\"eth0\"}]");
	/* A delegate that speaks 1.1.0 but says "incompatible version": not our failure. */
	f->replies[0] = (struct reply){.out = VERSION_1_1};
	f->replies[1] = (struct reply){.status = 1,
				       .out = "{\"code\":1,\"msg\":\"incompatible CNI versions\"}"};
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 2);
	assert_string_equal(f->calls[0].command, "VERSION");
	assert_string_equal(f->calls[1].command, "GC");
	assert_non_null(strstr(f->calls[1].config,
			       "\"cni.dev/valid-attachments\":[{\"containerID\":"
			       "\"live\",\"ifname\":\"eth0\"}]"));
	assert_true(state_exists(f, "live"));
	assert_false(state_exists(f, "stale"));

	/* Other delegate errors are reported. */
	f->replies[0] = (struct reply){.out = VERSION_1_1};
	f->replies[1] = (struct reply){.status = 1, .out = "{\"code\":999,\"msg\":\"ipam busy\"}"};
	run(f);
	expect_error(f, 999, "ipam busy");

	/* Without cni.dev/valid-attachments nothing is removed: every pod would look stale. */
	set_conf(f, "1.1.0", NULL);
	run(f);
	expect_error(f, 7, "GC needs cni.dev/valid-attachments");
	assert_int_equal(f->n_calls, 0);
	assert_true(state_exists(f, "live"));
	set_conf(f, "1.1.0",
		 ",\"cni.dev/valid-attachments\":[{\"containerID\":\"live\",\"ifname\":\"eth0\"}]");

	/* A delegate that predates 1.1.0 (Debian's bridge 1.1.1) is not asked. */
	f->replies[0] = (struct reply){.out = VERSION_1_0};
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 1);
	assert_string_equal(f->calls[0].command, "VERSION");
}

static void test_status(void **state)
{
	struct fake *f = *state;
	const char *env[] = {"CNI_COMMAND", "STATUS", "CNI_PATH", "/opt/cni/bin", NULL};
	memcpy(f->env, env, sizeof(env));
	set_conf(f, "1.1.0", NULL);
	run(f);
	expect_error(f, 50, "failed to load flannel 'subnet.env' file");
	assert_int_equal(f->n_calls, 0);

	write_subnet_env(f);
	f->replies[0] = (struct reply){.out = VERSION_1_1};
	f->replies[1] = (struct reply){.out = ""};
	assert_int_equal(run(f), 0);
	assert_string_equal(f->calls[1].command, "STATUS");
	f->replies[0] = (struct reply){.out = VERSION_1_1};
	f->replies[1] = (struct reply){.status = 1, .out = "{\"code\":51,\"msg\":\"degraded\"}"};
	run(f);
	expect_error(f, 51, "degraded");

	/* Debian's bridge 1.1.1 answers STATUS with code 3 "missing containerID": not asked. */
	f->replies[0] = (struct reply){.out = VERSION_1_0};
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 1);

	/* Built-in mode: ready iff subnet.env is there, no delegate involved. */
	set_conf(f, "1.1.0", ",\"mode\":\"builtin\"");
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n_calls, 0);
	assert_int_equal(unlink(f->subnet_file), 0);
	run(f);
	expect_error(f, 50, "failed to load flannel 'subnet.env' file");
	assert_int_equal(f->n_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_without_subnet_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_failure_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_failure_cleans_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
