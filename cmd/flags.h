/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flanneld's command line: upstream's flags (same names, types, defaults),
 * parsed with Go's flag syntax (-x, --x, -x=v, --x v; bool flags only as
 * --x or --x=false), then the FLANNELD_* environment applied to the flags
 * not given on the command line, as coreos/pkg/flagutil does.
 *
 * flags_parse() is pure: it neither prints nor exits. String values borrow
 * from argv, envp or static defaults, so the struct needs no cleanup and is
 * valid as long as argv and envp are.
 *
 * Deliberate differences from upstream (which uses Go's flag package):
 *   - a malformed command line is an error (exit 2) instead of printing the
 *     usage and exiting 0;
 *   - a non-flag argument is an error instead of silently ending parsing
 *     (everything after it was ignored);
 *   - --iface and --iface-regex take at most FLAGS_LIST_MAX values.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"

#define FLAGS_LIST_MAX 32

struct flag_list {
	const char *v[FLAGS_LIST_MAX];
	unsigned n;
};

struct flannel_flags {
	const char *etcd_endpoints;
	const char *etcd_prefix;
	const char *etcd_keyfile;
	const char *etcd_certfile;
	const char *etcd_cafile;
	const char *etcd_username;
	const char *etcd_password; /* never logged */
	struct flag_list iface;
	struct flag_list iface_regex;
	const char *iface_can_reach;
	const char *subnet_file;
	const char *public_ip;
	const char *public_ipv6;
	int64_t subnet_lease_renew_margin; /* minutes */
	bool ip_masq;
	bool ip_masq_fully_random_disable;
	bool kube_subnet_mgr;
	const char *kube_api_url;
	const char *kube_annotation_prefix;
	const char *kubeconfig_file;
	bool version;
	const char *healthz_ip;
	int64_t healthz_port;
	int64_t iptables_resync; /* seconds */
	bool iptables_forward_rules;
	bool ip_blackhole_route;
	const char *net_config_path;
	bool set_node_network_unavailable;
	bool network_policy;
	int32_t v; /* klog verbosity */
	const char *vmodule;
	const char *log_backtrace_at;

	uint64_t set_cli; /* bit i: flag i of the table given on the command line */
	uint64_t set_env; /* bit i: flag i set from FLANNELD_* */
	/* The last FLANNELD_* value that could not be applied (upstream logs it and goes on). */
	bool has_env_error;
	struct errmsg env_error;
};

enum flags_result {
	FLAGS_RUN = 0,	   /* go on and run the daemon */
	FLAGS_HELP = 1,	   /* -h/--help: print flags_usage(), exit 0 */
	FLAGS_VERSION = 2, /* --version: print the version to stderr, exit 0 */
};

/*
 * Parse argv[1..argc) and then envp (NULL-terminated "KEY=VALUE" strings;
 * may be NULL). Returns an enum flags_result, or -EINVAL with err holding
 * the message (e.g. "flag provided but not defined: -foo"); the caller then
 * prints it with the usage and exits 2.
 */
int flags_parse(int argc, char **argv, char **envp, struct flannel_flags *ret, struct errmsg *err);

/* "Usage: flanneld [OPTION]..." and one line per flag with its default. */
void flags_usage(FILE *f);

/*
 * Upstream's "CLI flags config: {...}" text (Go's %+v of its options
 * struct), without the "CLI flags config: " prefix; etcd-password is masked.
 */
int flags_format(const struct flannel_flags *f, struct buf *out);

/* Log the env warning, if any, and the CLI flags config line. */
void flags_log(const struct flannel_flags *f);

/* Whether a flag (by name, without dashes) was given on the command line or in the environment. */
bool flags_is_set(const struct flannel_flags *f, const char *name);

/*
 * Refuse flags whose feature is not built: unsupported is a NULL-terminated
 * list of flag names (without dashes). A listed flag that was set (command
 * line or environment) to a value other than its default fails with
 * -EOPNOTSUPP and err "flanneld: --<flag> is not supported yet". An unknown
 * name in the list is -EINVAL.
 */
int flags_check_supported(const struct flannel_flags *f, const char *const *unsupported,
			  struct errmsg *err);
