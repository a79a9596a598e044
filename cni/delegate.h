/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delegate configuration flannel hands to the real plugin (bridge with
 * host-local IPAM by default), built exactly as upstream's flannel-io/
 * cni-plugin does from the plugin's configuration and subnet.env; and the
 * per-container state file <dataDir>/<containerID> holding it between ADD
 * and DEL.
 */
#pragma once

#include <stddef.h>

#include "conf.h"
#include "json.h"
#include "lib/core/errmsg.h"
#include "lib/core/subnet_env.h"

/*
 * Checks that e has what the plugin needs (a network and a subnet of some
 * family, the MTU and the masquerade flag); -EINVAL with upstream's text
 * "<path> is missing FLANNEL_NETWORK, ..." in err otherwise.
 */
int cni_delegate_check_env(const struct subnet_env *e, const char *path, struct errmsg *err);

/*
 * Pure. Returns the delegate configuration in ret (new tree). -EINVAL with
 * upstream's message in err when the user's delegate is not acceptable
 * (non-string type, name or ipam present) or ipam.routes is malformed.
 */
int cni_delegate_build(const struct cni_conf *c, const struct subnet_env *e, struct cni_json **ret,
		       struct errmsg *err);

/*
 * Saves data as <data_dir>/<container_id> atomically: file 0600, directory
 * 0700. _volatile skips the fsyncs (built-in mode: its DEL can do without
 * the file, see flannel.c).
 */
int cni_state_save(const char *data_dir, const char *container_id, const char *data, size_t len);
int cni_state_save_volatile(const char *data_dir, const char *container_id, const char *data,
			    size_t len);
/* Reads it back (bounded); -ENOENT when there is none. */
int cni_state_load(const char *data_dir, const char *container_id, char **ret, size_t *ret_len);
/* Removes it; a missing file is fine. */
int cni_state_remove(const char *data_dir, const char *container_id);
/*
 * Removes every state file whose container ID is not in keep (a GC's
 * cni.dev/valid-attachments array of {containerID, ifname}); returns the
 * number removed. A missing data_dir is fine.
 */
int cni_state_gc(const char *data_dir, const struct cni_json *keep);
