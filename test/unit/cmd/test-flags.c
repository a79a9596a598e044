/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flanneld's command line: every flag's default, Go's flag syntax, the
 * FLANNELD_* environment (CLI wins, empty ignored, one entry for repeatable
 * flags, bad values only warned about), malformed flags, help and version,
 * the "CLI flags config" line and the unsupported-flag check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/flags.h"

#define ARGV(...) ((char *[]){"flanneld", __VA_ARGS__, NULL})

static int parse_env(char **argv, char **envp, struct flannel_flags *f, struct errmsg *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	*err = (struct errmsg){0};
	return flags_parse(argc, argv, envp, f, err);
}

static void parse_ok(char **argv, char **envp, struct flannel_flags *f)
{
	struct errmsg err;

	assert_int_equal(parse_env(argv, envp, f, &err), FLAGS_RUN);
}

static void parse_fail(char **argv, const char *msg)
{
	struct flannel_flags f;
	struct errmsg err;

	assert_int_equal(parse_env(argv, NULL, &f, &err), -EINVAL);
	assert_string_equal(err.text, msg);
}

static void test_defaults(void **state)
{
	struct flannel_flags f;

	parse_ok((char *[]){"flanneld", NULL}, NULL, &f);
	assert_string_equal(f.etcd_endpoints, "http://127.0.0.1:4001,http://127.0.0.1:2379");
	assert_string_equal(f.etcd_prefix, "/coreos.com/network");
	assert_string_equal(f.etcd_keyfile, "");
	assert_string_equal(f.etcd_certfile, "");
	assert_string_equal(f.etcd_cafile, "");
	assert_string_equal(f.etcd_username, "");
	assert_string_equal(f.etcd_password, "");
	assert_int_equal(f.iface.n, 0);
	assert_int_equal(f.iface_regex.n, 0);
	assert_string_equal(f.iface_can_reach, "");
	assert_string_equal(f.subnet_file, "/run/flannel/subnet.env");
	assert_string_equal(f.public_ip, "");
	assert_string_equal(f.public_ipv6, "");
	assert_int_equal(f.subnet_lease_renew_margin, 60);
	assert_false(f.ip_masq);
	assert_false(f.ip_masq_fully_random_disable);
	assert_false(f.kube_subnet_mgr);
	assert_string_equal(f.kube_api_url, "");
	assert_string_equal(f.kube_annotation_prefix, "flannel.alpha.coreos.com");
	assert_string_equal(f.kubeconfig_file, "");
	assert_false(f.version);
	assert_string_equal(f.healthz_ip, "0.0.0.0");
	assert_int_equal(f.healthz_port, 0);
	assert_int_equal(f.iptables_resync, 5);
	assert_true(f.iptables_forward_rules);
	assert_false(f.ip_blackhole_route);
	assert_string_equal(f.net_config_path, "/etc/kube-flannel/net-conf.json");
	assert_true(f.set_node_network_unavailable);
	assert_int_equal(f.v, 0);
	assert_string_equal(f.vmodule, "");
	assert_string_equal(f.log_backtrace_at, "");
	assert_int_equal(f.set_cli, 0);
	assert_int_equal(f.set_env, 0);
	assert_false(f.has_env_error);
	assert_false(flags_is_set(&f, "ip-masq"));
}

static void test_every_flag(void **state)
{
	char **argv = ARGV("--etcd-endpoints=https://e1:2379", "--etcd-prefix", "/p",
			   "-etcd-keyfile=/k", "-etcd-certfile", "/c", "--etcd-cafile=/ca",
			   "--etcd-username=u", "--etcd-password=secret", "--iface=eth0",
			   "--iface-regex=^ens", "--iface-can-reach=198.51.100.1",
			   "--subnet-file=/tmp/s.env", "--public-ip=203.0.113.5",
			   "--public-ipv6=2001:db8::5", "--subnet-lease-renew-margin=30",
			   "--ip-masq", "--ip-masq-fully-random-disable", "--kube-subnet-mgr",
			   "--kube-api-url=https://127.0.0.1:6443", "--kube-annotation-prefix=x.io",
			   "--kubeconfig-file=/kc", "--healthz-ip=127.0.0.1", "--healthz-port=8081",
			   "--iptables-resync=9", "--iptables-forward-rules=false",
			   "--ip-blackhole-route", "--net-config-path=/n.json",
			   "--set-node-network-unavailable=false", "-v=4", "-vmodule=foo=2",
			   "-log_backtrace_at=main.go:10");
	struct flannel_flags f;

	parse_ok(argv, NULL, &f);
	assert_string_equal(f.etcd_endpoints, "https://e1:2379");
	assert_string_equal(f.etcd_prefix, "/p");
	assert_string_equal(f.etcd_keyfile, "/k");
	assert_string_equal(f.etcd_certfile, "/c");
	assert_string_equal(f.etcd_cafile, "/ca");
	assert_string_equal(f.etcd_username, "u");
	assert_string_equal(f.etcd_password, "secret");
	assert_int_equal(f.iface.n, 1);
	assert_string_equal(f.iface.v[0], "eth0");
	assert_int_equal(f.iface_regex.n, 1);
	assert_string_equal(f.iface_regex.v[0], "^ens");
	assert_string_equal(f.iface_can_reach, "198.51.100.1");
	assert_string_equal(f.subnet_file, "/tmp/s.env");
	assert_string_equal(f.public_ip, "203.0.113.5");
	assert_string_equal(f.public_ipv6, "2001:db8::5");
	assert_int_equal(f.subnet_lease_renew_margin, 30);
	assert_true(f.ip_masq);
	assert_true(f.ip_masq_fully_random_disable);
	assert_true(f.kube_subnet_mgr);
	assert_string_equal(f.kube_api_url, "https://127.0.0.1:6443");
	assert_string_equal(f.kube_annotation_prefix, "x.io");
	assert_string_equal(f.kubeconfig_file, "/kc");
	assert_string_equal(f.healthz_ip, "127.0.0.1");
	assert_int_equal(f.healthz_port, 8081);
	assert_int_equal(f.iptables_resync, 9);
	assert_false(f.iptables_forward_rules);
	assert_true(f.ip_blackhole_route);
	assert_string_equal(f.net_config_path, "/n.json");
	assert_false(f.set_node_network_unavailable);
	assert_int_equal(f.v, 4);
	assert_string_equal(f.vmodule, "foo=2");
	assert_string_equal(f.log_backtrace_at, "main.go:10");
	assert_true(flags_is_set(&f, "ip-masq"));
	assert_true(flags_is_set(&f, "v"));
	assert_false(flags_is_set(&f, "no-such-flag"));
}

static void test_syntax_forms(void **state)
{
	struct flannel_flags f;

	/* One or two dashes; "=v" or the next argument. */
	parse_ok(ARGV("-healthz-port=1"), NULL, &f);
	assert_int_equal(f.healthz_port, 1);
	parse_ok(ARGV("--healthz-port=2"), NULL, &f);
	assert_int_equal(f.healthz_port, 2);
	parse_ok(ARGV("-healthz-port", "3"), NULL, &f);
	assert_int_equal(f.healthz_port, 3);
	parse_ok(ARGV("--healthz-port", "4"), NULL, &f);
	assert_int_equal(f.healthz_port, 4);
	/* The next argument is taken even when it looks like a flag. */
	parse_ok(ARGV("--public-ip", "--ip-masq"), NULL, &f);
	assert_string_equal(f.public_ip, "--ip-masq");
	assert_false(f.ip_masq);
	/* Empty values and values with '='. */
	parse_ok(ARGV("--etcd-prefix=", "--vmodule=a=1,b=2"), NULL, &f);
	assert_string_equal(f.etcd_prefix, "");
	assert_string_equal(f.vmodule, "a=1,b=2");
	/* The last occurrence of a plain flag wins. */
	parse_ok(ARGV("--healthz-port=1", "--healthz-port=2"), NULL, &f);
	assert_int_equal(f.healthz_port, 2);
	/* "--" ends the flags. */
	parse_ok(ARGV("--ip-masq", "--"), NULL, &f);
	assert_true(f.ip_masq);
}

static void test_bool_syntax(void **state)
{
	static const char *const truths[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const lies[] = {"0", "f", "F", "FALSE", "false", "False"};
	struct flannel_flags f;
	char arg[64];

	parse_ok(ARGV("--ip-masq"), NULL, &f);
	assert_true(f.ip_masq);
	parse_ok(ARGV("-ip-masq"), NULL, &f);
	assert_true(f.ip_masq);
	for (size_t i = 0; i < 6; i++) {
		snprintf(arg, sizeof(arg), "--ip-masq=%s", truths[i]);
		parse_ok(ARGV(arg), NULL, &f);
		assert_true(f.ip_masq);
		snprintf(arg, sizeof(arg), "--iptables-forward-rules=%s", lies[i]);
		parse_ok(ARGV(arg), NULL, &f);
		assert_false(f.iptables_forward_rules);
	}
	parse_fail(ARGV("--ip-masq=yes"),
		   "invalid boolean value \"yes\" for -ip-masq: parse error");
	parse_fail(ARGV("--ip-masq=tRUE"),
		   "invalid boolean value \"tRUE\" for -ip-masq: parse error");
	/* A bool flag never takes the next argument. */
	parse_fail(ARGV("--ip-masq", "false"), "unexpected argument \"false\"");
}

static void test_int_syntax(void **state)
{
	static const struct {
		const char *in;
		int64_t out;
	} ok[] = {
		{"0", 0},
		{"-5", -5},
		{"+7", 7},
		{"0x1f", 31},
		{"0X1F", 31},
		{"0o17", 15},
		{"017", 15},
		{"0b101", 5},
		{"1_000", 1000},
		{"0x_ff", 255},
		{"9223372036854775807", INT64_MAX},
		{"-9223372036854775808", INT64_MIN},
	};
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
		{"", "parse error"},
		{"abc", "parse error"},
		{"1.5", "parse error"},
		{" 1", "parse error"},
		{"1 ", "parse error"},
		{"0x", "parse error"},
		{"08", "parse error"},
		{"_1", "parse error"},
		{"1_", "parse error"},
		{"1__0", "parse error"},
		{"--1", "parse error"},
		{"9223372036854775808", "value out of range"},
		{"-9223372036854775809", "value out of range"},
		{"99999999999999999999999", "value out of range"},
	};
	struct flannel_flags f;
	struct errmsg err;
	char arg[64], msg[128];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(arg, sizeof(arg), "--healthz-port=%s", ok[i].in);
		parse_ok(ARGV(arg), NULL, &f);
		assert_int_equal(f.healthz_port, ok[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(arg, sizeof(arg), "--iptables-resync=%s", bad[i].in);
		snprintf(msg, sizeof(msg), "invalid value \"%s\" for flag -iptables-resync: %s",
			 bad[i].in, bad[i].why);
		assert_int_equal(parse_env(ARGV(arg), NULL, &f, &err), -EINVAL);
		assert_string_equal(err.text, msg);
	}

	/* -v is a base-10 int32 (klog.Level). */
	parse_ok(ARGV("-v", "10"), NULL, &f);
	assert_int_equal(f.v, 10);
	parse_fail(ARGV("-v=0x1"), "invalid value \"0x1\" for flag -v: parse error");
	parse_fail(ARGV("-v=2147483648"),
		   "invalid value \"2147483648\" for flag -v: value out of range");
	parse_fail(ARGV("-v=1_0"), "invalid value \"1_0\" for flag -v: parse error");
}

static void test_repeatable(void **state)
{
	struct flannel_flags f;
	char *argv[FLAGS_LIST_MAX + 3] = {"flanneld"};

	parse_ok(ARGV("--iface=eth0", "--iface-regex=^en", "-iface", "198.51.100.7", "--iface=eth2",
		      "--iface-regex", "^wl"),
		 NULL, &f);
	assert_int_equal(f.iface.n, 3);
	assert_string_equal(f.iface.v[0], "eth0");
	assert_string_equal(f.iface.v[1], "198.51.100.7");
	assert_string_equal(f.iface.v[2], "eth2");
	assert_int_equal(f.iface_regex.n, 2);
	assert_string_equal(f.iface_regex.v[0], "^en");
	assert_string_equal(f.iface_regex.v[1], "^wl");

	for (int i = 1; i <= FLAGS_LIST_MAX + 1; i++)
		argv[i] = "--iface=x";
	parse_fail(argv, "invalid value \"x\" for flag -iface: too many values");
	argv[FLAGS_LIST_MAX + 1] = NULL;
	parse_ok(argv, NULL, &f);
	assert_int_equal(f.iface.n, FLAGS_LIST_MAX);
}

static void test_malformed(void **state)
{
	parse_fail(ARGV("--bogus"), "flag provided but not defined: -bogus");
	parse_fail(ARGV("-subnet-dir=/x"), "flag provided but not defined: -subnet-dir");
	parse_fail(ARGV("--use-multi-cluster-cidr"),
		   "flag provided but not defined: -use-multi-cluster-cidr");
	parse_fail(ARGV("---ip-masq"), "bad flag syntax: ---ip-masq");
	parse_fail(ARGV("-=x"), "bad flag syntax: -=x");
	parse_fail(ARGV("--=x"), "bad flag syntax: --=x");
	parse_fail(ARGV("--healthz-port"), "flag needs an argument: -healthz-port");
	parse_fail(ARGV("-v"), "flag needs an argument: -v");
	parse_fail(ARGV("--iface"), "flag needs an argument: -iface");
	parse_fail(ARGV("kube-subnet-mgr"), "unexpected argument \"kube-subnet-mgr\"");
	parse_fail(ARGV("-"), "unexpected argument \"-\"");
	parse_fail(ARGV("--ip-masq", "--", "x"), "unexpected argument \"x\"");
	/* Flag names are case-sensitive. */
	parse_fail(ARGV("--IP-MASQ"), "flag provided but not defined: -IP-MASQ");
	/* The first error is reported; nothing after it is looked at. */
	parse_fail(ARGV("--bogus", "-h"), "flag provided but not defined: -bogus");
}

static void test_help_version(void **state)
{
	struct flannel_flags f;
	struct errmsg err;

	assert_int_equal(parse_env(ARGV("-h"), NULL, &f, &err), FLAGS_HELP);
	assert_int_equal(parse_env(ARGV("--help"), NULL, &f, &err), FLAGS_HELP);
	assert_int_equal(parse_env(ARGV("-help"), NULL, &f, &err), FLAGS_HELP);
	assert_int_equal(parse_env(ARGV("--ip-masq", "-h", "--bogus"), NULL, &f, &err), FLAGS_HELP);
	assert_int_equal(parse_env(ARGV("--version"), NULL, &f, &err), FLAGS_VERSION);
	assert_int_equal(parse_env(ARGV("-version=true"), NULL, &f, &err), FLAGS_VERSION);
	assert_int_equal(parse_env(ARGV("--version=false"), NULL, &f, &err), FLAGS_RUN);
	/* FLANNELD_VERSION has no effect: --version is handled before the environment. */
	assert_int_equal(
		parse_env(ARGV("--ip-masq"), (char *[]){"FLANNELD_VERSION=true", NULL}, &f, &err),
		FLAGS_RUN);
	assert_false(f.version);
}

static void test_env(void **state)
{
	struct flannel_flags f, g;
	char *env[] = {"PATH=/bin",
		       "FLANNELD_IP_MASQ=true",
		       "FLANNELD_KUBE_SUBNET_MGR=1",
		       "FLANNELD_HEALTHZ_PORT=8081",
		       "FLANNELD_IFACE=eth0,eth1",
		       "FLANNELD_IFACE_REGEX=^en",
		       "FLANNELD_SUBNET_LEASE_RENEW_MARGIN=0x10",
		       "FLANNELD_V=3",
		       "FLANNELD_LOG_BACKTRACE_AT=x.go:1",
		       "FLANNELD_ETCD_ENDPOINTS=",
		       "FLANNELD_IPTABLES_FORWARD_RULES=F",
		       "FLANNELD_PUBLIC_IP=203.0.113.9",
		       "FLANNELD_PUBLIC_IP=203.0.113.10",
		       NULL};

	parse_ok(ARGV("--iface=eth9"), env, &f);
	/* FLANNELD_IP_MASQ=true equals --ip-masq. */
	parse_ok(ARGV("--ip-masq"), NULL, &g);
	assert_int_equal(f.ip_masq, g.ip_masq);
	assert_true(f.ip_masq);
	assert_true(f.kube_subnet_mgr);
	assert_int_equal(f.healthz_port, 8081);
	/* CLI wins: --iface was given, so FLANNELD_IFACE is not applied at all. */
	assert_int_equal(f.iface.n, 1);
	assert_string_equal(f.iface.v[0], "eth9");
	/* A repeatable flag gets exactly one entry from the environment, commas and all. */
	assert_int_equal(f.iface_regex.n, 1);
	assert_string_equal(f.iface_regex.v[0], "^en");
	assert_int_equal(f.subnet_lease_renew_margin, 16);
	assert_int_equal(f.v, 3);
	assert_string_equal(f.log_backtrace_at, "x.go:1");
	/* Empty values are ignored. */
	assert_string_equal(f.etcd_endpoints, "http://127.0.0.1:4001,http://127.0.0.1:2379");
	assert_false(flags_is_set(&f, "etcd-endpoints"));
	assert_false(f.iptables_forward_rules);
	/* The first definition of a variable counts, as getenv(). */
	assert_string_equal(f.public_ip, "203.0.113.9");
	assert_true(flags_is_set(&f, "ip-masq"));
	assert_false(f.has_env_error);

	parse_ok(ARGV("--healthz-port=1", "--ip-masq=false"), env, &f);
	assert_int_equal(f.healthz_port, 1);
	assert_false(f.ip_masq);

	/* Without the environment. */
	parse_ok(ARGV("--iface=eth9"), NULL, &f);
	assert_false(f.ip_masq);
}

static void test_env_no_value_for_unset_iface(void **state)
{
	struct flannel_flags f;

	parse_ok((char *[]){"flanneld", NULL}, (char *[]){"FLANNELD_IFACE=eth0,eth1", NULL}, &f);
	assert_int_equal(f.iface.n, 1);
	assert_string_equal(f.iface.v[0], "eth0,eth1");
	assert_true(flags_is_set(&f, "iface"));
	/* Prefix of another variable's name does not match. */
	parse_ok((char *[]){"flanneld", NULL},
		 (char *[]){"FLANNELD_IFACEX=eth0", "FLANNELD_IFACE", "XFLANNELD_IP_MASQ=true",
			    NULL},
		 &f);
	assert_int_equal(f.iface.n, 0);
	assert_false(f.ip_masq);
}

static void test_env_invalid_is_a_warning(void **state)
{
	struct flannel_flags f;

	parse_ok((char *[]){"flanneld", NULL},
		 (char *[]){"FLANNELD_IP_MASQ=yes", "FLANNELD_HEALTHZ_PORT=80", NULL}, &f);
	assert_false(f.ip_masq);
	assert_false(flags_is_set(&f, "ip-masq"));
	/* Other variables are still applied. */
	assert_int_equal(f.healthz_port, 80);
	assert_true(f.has_env_error);
	assert_string_equal(f.env_error.text,
			    "invalid value \"yes\" for FLANNELD_IP_MASQ: parse error");

	parse_ok((char *[]){"flanneld", NULL},
		 (char *[]){"FLANNELD_SUBNET_LEASE_RENEW_MARGIN=99999999999999999999", NULL}, &f);
	assert_int_equal(f.subnet_lease_renew_margin, 60);
	assert_string_equal(f.env_error.text,
			    "invalid value \"99999999999999999999\" for "
			    "FLANNELD_SUBNET_LEASE_RENEW_MARGIN: value out of range");
}

static void test_format(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct flannel_flags f;

	parse_ok(ARGV("--ip-masq", "--kube-subnet-mgr"), NULL, &f);
	assert_int_equal(flags_format(&f, &b), 0);
	/* Upstream's line, as printed by v0.28 for the manifest's arguments. */
	assert_string_equal(
		b.data,
		"{etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 "
		"etcdPrefix:/coreos.com/network etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername: "
		"etcdPassword: version:false kubeSubnetMgr:true kubeApiUrl: "
		"kubeAnnotationPrefix:flannel.alpha.coreos.com kubeConfigFile: iface:[] ifaceRegex:[] "
		"ipMasq:true ipMasqRandomFullyDisable:false ifaceCanReach: "
		"subnetFile:/run/flannel/subnet.env publicIP: publicIPv6: subnetLeaseRenewMargin:60 "
		"healthzIP:0.0.0.0 healthzPort:0 iptablesResyncSeconds:5 iptablesForwardRules:true "
		"blackholeRoute:false netConfPath:/etc/kube-flannel/net-conf.json "
		"setNodeNetworkUnavailable:true}");

	buf_reset(&b);
	parse_ok(ARGV("--iface=eth0", "--iface=eth1", "--etcd-password=hunter2",
		      "--etcd-username=admin"),
		 NULL, &f);
	assert_int_equal(flags_format(&f, &b), 0);
	assert_non_null(strstr(b.data, " iface:[eth0 eth1] ifaceRegex:[] "));
	assert_non_null(strstr(b.data, " etcdUsername:admin etcdPassword:******** "));
	assert_null(strstr(b.data, "hunter2"));
}

static void test_usage(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t lines = 0;

	assert_non_null(f);
	flags_usage(f);
	fclose(f);
	assert_true(strncmp(text, "Usage: flanneld [OPTION]...\n", 28) == 0);
	assert_non_null(strstr(
		text, "\n  --etcd-endpoints string\ta comma-delimited list of etcd endpoints "
		      "(default \"http://127.0.0.1:4001,http://127.0.0.1:2379\")\n"));
	assert_non_null(strstr(text, "\n  --ip-masq\tsetup IP masquerade rule for traffic destined "
				     "outside of overlay network (default false)\n"));
	assert_non_null(strstr(text, "\n  --subnet-lease-renew-margin int\t"));
	assert_non_null(strstr(text, "\n  --iface value\t"));
	assert_non_null(strstr(text, "\n  --v value\t"));
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	/* The usage line and one line per flag: upstream's 31 and --network-policy. */
	assert_non_null(strstr(text, "\n  --network-policy\tenforce Kubernetes NetworkPolicies"));
	assert_int_equal(lines, 1 + 32);
	free(text);
}

static void test_check_supported(void **state)
{
	static const char *const unsupported[] = {"etcd-endpoints", "ip-blackhole-route",
						  "iface-regex", NULL};
	struct flannel_flags f;
	struct errmsg err = {0};

	parse_ok((char *[]){"flanneld", NULL}, NULL, &f);
	assert_int_equal(flags_check_supported(&f, unsupported, &err), 0);

	/* Set to the default value: nothing is used, nothing to refuse. */
	parse_ok(ARGV("--ip-blackhole-route=false"), NULL, &f);
	assert_int_equal(flags_check_supported(&f, unsupported, &err), 0);

	parse_ok(ARGV("--ip-blackhole-route"), NULL, &f);
	assert_int_equal(flags_check_supported(&f, unsupported, &err), -EOPNOTSUPP);
	assert_string_equal(err.text, "flanneld: --ip-blackhole-route is not supported yet");

	parse_ok((char *[]){"flanneld", NULL}, (char *[]){"FLANNELD_IFACE_REGEX=^en", NULL}, &f);
	assert_int_equal(flags_check_supported(&f, unsupported, &err), -EOPNOTSUPP);
	assert_string_equal(err.text, "flanneld: --iface-regex is not supported yet");

	parse_ok(ARGV("--etcd-endpoints=http://127.0.0.1:2379"), NULL, &f);
	assert_int_equal(flags_check_supported(&f, unsupported, &err), -EOPNOTSUPP);
	assert_string_equal(err.text, "flanneld: --etcd-endpoints is not supported yet");

	assert_int_equal(flags_check_supported(&f, (const char *const[]){"nope", NULL}, &err),
			 -EINVAL);
	assert_int_equal(flags_check_supported(&f, NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_flag),
		cmocka_unit_test(test_syntax_forms),
		cmocka_unit_test(test_bool_syntax),
		cmocka_unit_test(test_int_syntax),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_env_no_value_for_unset_iface),
		cmocka_unit_test(test_env_invalid_is_a_warning),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_check_supported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
