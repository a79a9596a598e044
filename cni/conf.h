/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flannel plugin's network configuration, as the runtime hands it over
 * on stdin (one plugin object of the conflist, with name, cniVersion,
 * runtimeConfig and prevResult filled in by the runtime). Pure parser.
 */
#pragma once

#include <stddef.h>

#include "json.h"
#include "lib/core/errmsg.h"

#define CNI_CONF_MAX_SIZE	     (1024 * 1024)
#define CNI_CONF_DEFAULT_SUBNET_FILE "/run/flannel/subnet.env"
#define CNI_CONF_DEFAULT_DATA_DIR    "/var/lib/cni/flannel"

/* "mode": who wires the pod. */
enum cni_mode {
	CNI_MODE_DELEGATE, /* "delegate" (default): run the delegate plugin, as upstream */
	CNI_MODE_BUILTIN,  /* "builtin": do bridge + host-local's work in-process (builtin.h) */
};

struct cni_conf {
	struct cni_json *root; /* the whole document, owned */
	/* The strings below are borrowed from root. */
	const char *name;
	const char *cni_version; /* "" when absent */
	const char *type;	 /* "" when absent */
	const char *subnet_file;
	const char *data_dir;
	enum cni_mode mode;
	/* Objects borrowed from root; NULL when absent or null. */
	const struct cni_json *delegate;
	const struct cni_json *ipam;
	const struct cni_json *runtime_config;
	const struct cni_json *prev_result;
	const struct cni_json *valid_attachments; /* GC: array of {containerID, ifname} */
};

/*
 * -EBADMSG when data is not JSON (CNI code 6), -EINVAL for a missing or
 * mistyped field (code 7), with the reason in err. On success ret owns the
 * document; release with cni_conf_done().
 */
int cni_conf_parse(const char *data, size_t len, struct cni_conf *ret, struct errmsg *err);
void cni_conf_done(struct cni_conf *c);

/* Network names and container IDs: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ (as libcni). */
bool cni_conf_valid_id(const char *s);
