/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `flannel install`: what the DaemonSet's init container runs to put the
 * plugin binary into the host's CNI bin directory and the conflist into its
 * configuration directory. Both are written to a temporary file in the
 * target directory and renamed, so a runtime never executes a half-written
 * plugin (libcni retries on ETXTBSY only) or reads a half-written conflist;
 * the conflist is validated before anything is written.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/core/errmsg.h"

struct cni_install_opts {
	const char *bin_dir;   /* --cni-bin-dir, default /opt/cni/bin */
	const char *conf_dir;  /* --cni-conf-dir, default /etc/cni/net.d */
	const char *conflist;  /* --conflist, default /etc/kube-flannel/cni-conf.json */
	const char *conf_name; /* --conf-name, default 10-flannel.conflist */
	const char *self;      /* the binary to install, default /proc/self/exe */
	bool skip_plugin;      /* --skip-plugin */
	bool skip_conflist;    /* --skip-conflist */
	bool help;	       /* --help */
};

/* Pure; argv[0] is "install". -EINVAL with the reason in err. */
int cni_install_parse_args(int argc, char *const *argv, struct cni_install_opts *ret,
			   struct errmsg *err);
/* Pure: a conflist the runtime will accept (name, cniVersion(s), plugins with types). */
int cni_conflist_check(const char *data, size_t len, struct errmsg *err);
/* Validates, then installs the plugin and the conflist; logs what it did. */
int cni_install(const struct cni_install_opts *o);
/* The subcommand: parse, install; returns the process exit code. */
int cni_install_main(int argc, char *const *argv, FILE *out);

extern const char cni_install_usage[];
