/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of cni/install.c: argument parsing, conflist validation, and an
 * installation into temporary directories (contents and modes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cni/install.h"
#include "lib/core/fileio.h"
#include "lib/core/macro.h"

static const char manifest_conflist[] =
	"{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n"
	"    {\"type\": \"flannel\", \"delegate\": {\"hairpinMode\": true, "
	"\"isDefaultGateway\": true}},\n"
	"    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}\n  ]\n}\n";

static void test_args(void **state)
{
	struct cni_install_opts o;
	struct errmsg err = {};
	char *none[] = {"install"};
	assert_int_equal(cni_install_parse_args(1, none, &o, &err), 0);
	assert_string_equal(o.bin_dir, "/opt/cni/bin");
	assert_string_equal(o.conf_dir, "/etc/cni/net.d");
	assert_string_equal(o.conflist, "/etc/kube-flannel/cni-conf.json");
	assert_string_equal(o.conf_name, "10-flannel.conflist");
	assert_false(o.skip_plugin || o.skip_conflist || o.help);

	char *all[] = {
		"install",	   "--cni-bin-dir", "/host/bin",     "--cni-conf-dir=/host/net.d",
		"--conflist",	   "/c.json",	    "--conf-name=x", "--skip-plugin",
		"--skip-conflist", "--help"};
	assert_int_equal(cni_install_parse_args(ARRAY_SIZE(all), all, &o, &err), 0);
	assert_string_equal(o.bin_dir, "/host/bin");
	assert_string_equal(o.conf_dir, "/host/net.d");
	assert_string_equal(o.conflist, "/c.json");
	assert_string_equal(o.conf_name, "x");
	assert_true(o.skip_plugin && o.skip_conflist && o.help);

	char *missing[] = {"install", "--conflist"};
	assert_int_equal(cni_install_parse_args(2, missing, &o, &err), -EINVAL);
	assert_string_equal(err.text, "--conflist needs a value");
	char *unknown[] = {"install", "--cni-bin-dirx=/a"};
	assert_int_equal(cni_install_parse_args(2, unknown, &o, &err), -EINVAL);
	assert_string_equal(err.text, "unknown argument \"--cni-bin-dirx=/a\"");
	char *empty[] = {"install", "--cni-conf-dir="};
	assert_int_equal(cni_install_parse_args(2, empty, &o, &err), -EINVAL);
	char *bad_name[] = {"install", "--conf-name", "../x"};
	assert_int_equal(cni_install_parse_args(3, bad_name, &o, &err), -EINVAL);
	(void)state;
}

static void check_fails(const char *text, const char *msg)
{
	struct errmsg err = {};
	assert_int_equal(cni_conflist_check(text, strlen(text), &err), -EINVAL);
	if (!strstr(err.text, msg))
		fail_msg("%s: error \"%s\" lacks \"%s\"", text, err.text, msg);
}

static void test_conflist_check(void **state)
{
	struct errmsg err = {};
	assert_int_equal(cni_conflist_check(manifest_conflist, strlen(manifest_conflist), &err), 0);
	const char *v11 = "{\"name\":\"n\",\"cniVersions\":[\"1.0.0\",\"1.1.0\"],"
			  "\"plugins\":[{\"type\":\"flannel\"}]}";
	assert_int_equal(cni_conflist_check(v11, strlen(v11), &err), 0);

	check_fails("{\"name\":\"n\",", "not valid JSON");
	check_fails("[]", "must be a JSON object");
	check_fails("{\"cniVersion\":\"0.3.1\",\"plugins\":[{\"type\":\"flannel\"}]}", "name:");
	check_fails("{\"name\":\"n\",\"plugins\":[{\"type\":\"flannel\"}]}", "cniVersion: missing");
	check_fails(
		"{\"name\":\"n\",\"cniVersion\":\"0.2.0\",\"plugins\":[{\"type\":\"flannel\"}]}",
		"cniVersion: must be one of");
	check_fails("{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[]}",
		    "plugins: must be a non-empty array");
	check_fails("{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[1]}",
		    "plugins[0]: must be an object");
	check_fails("{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"flannel\"},"
		    "{\"type\":\"../x\"}]}",
		    "plugins[1].type");
	(void)state;
}

static void test_install(void **state)
{
	char dir[] = "/tmp/test-cni-install.XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *self = NULL, *conflist = NULL, *bin = NULL, *conf = NULL, *cmd = NULL;
	_cleanup_free_ char *bin_file = NULL, *conf_file = NULL, *data = NULL;
	assert_true(asprintf(&self, "%s/self", dir) > 0);
	assert_true(asprintf(&conflist, "%s/cni-conf.json", dir) > 0);
	assert_true(asprintf(&bin, "%s/opt/cni/bin", dir) > 0);
	assert_true(asprintf(&conf, "%s/etc/cni/net.d", dir) > 0);
	assert_true(asprintf(&bin_file, "%s/flannel", bin) > 0);
	assert_true(asprintf(&conf_file, "%s/10-flannel.conflist", conf) > 0);
	assert_int_equal(write_file_atomic(self, "\177ELF-ish", 8, 0700), 0);
	assert_int_equal(mkdir_p(bin, 0755), 0);
	assert_int_equal(mkdir_p(conf, 0755), 0);

	/* An invalid conflist installs nothing at all. */
	assert_int_equal(write_file_atomic(conflist, "{\"name\":", 8, 0644), 0);
	struct cni_install_opts o = {.bin_dir = bin,
				     .conf_dir = conf,
				     .conflist = conflist,
				     .conf_name = "10-flannel.conflist",
				     .self = self};
	assert_int_equal(cni_install(&o), -EINVAL);
	struct stat st;
	assert_int_equal(stat(bin_file, &st), -1);
	assert_int_equal(stat(conf_file, &st), -1);

	assert_int_equal(
		write_file_atomic(conflist, manifest_conflist, strlen(manifest_conflist), 0600), 0);
	assert_int_equal(cni_install(&o), 0);
	size_t len;
	assert_int_equal(stat(bin_file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(read_file_bounded(bin_file, 100, &data, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(data, "\177ELF-ish", 8);
	free(data);
	assert_int_equal(stat(conf_file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(read_file_bounded(conf_file, 4096, &data, &len), 0);
	assert_string_equal(data, manifest_conflist); /* byte for byte */

	/* Again over the existing files (the init container runs at every pod start). */
	assert_int_equal(cni_install(&o), 0);
	/* A missing source is an error. */
	o.self = "/nonexistent/test-cni-install";
	assert_int_equal(cni_install(&o), -ENOENT);

	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_conflist_check),
		cmocka_unit_test(test_install),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
