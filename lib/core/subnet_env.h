/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /run/flannel/subnet.env: rendered by flanneld, read by the CNI plugin and
 * by flanneld at start (to recycle the previous subnet's rules). Format:
 *
 *   FLANNEL_NETWORK=10.244.0.0/16
 *   FLANNEL_SUBNET=10.244.1.1/24
 *   FLANNEL_IPV6_NETWORK=2001:cafe:42::/56
 *   FLANNEL_IPV6_SUBNET=2001:cafe:42::1/64
 *   FLANNEL_MTU=1450
 *   FLANNEL_IPMASQ=true
 *
 * Lines only for enabled families; this order. Pure render/parse; writing
 * the file atomically with mode 0644 is subnet_env_write().
 *
 * What subnet_env_parse() accepts (upstream's writers and readers, nothing
 * ambiguous):
 *   - lines end in "\n" or "\r\n"; blank lines and lines starting with '#'
 *     are skipped; a leading "export " is allowed (dotenv);
 *   - KEY=VALUE with blanks around KEY and VALUE ignored and one pair of
 *     matching '"' or '\'' quotes around VALUE removed; KEY must be a shell
 *     variable name; keys other than the six above are ignored;
 *   - CIDR values may be comma-separated lists (upstream's multi-network
 *     form): the first entry that is a CIDR of the key's family is taken;
 *     FLANNEL_NETWORK/FLANNEL_IPV6_NETWORK are masked, the *_SUBNET values
 *     keep their host bits (the gateway address);
 *   - FLANNEL_MTU is a decimal unsigned 32-bit number; FLANNEL_IPMASQ is
 *     exactly "true" or "false".
 * Rejected, with "line N: ..." in err: a line without '=', an invalid key,
 * a bad value, a key given twice, a NUL byte. Required, as by the CNI
 * plugin: a network key, a subnet key, FLANNEL_MTU and FLANNEL_IPMASQ
 * (else "missing FLANNEL_..., ..."). Larger than SUBNET_ENV_MAX_SIZE:
 * -EMSGSIZE. Parsing what subnet_env_render() wrote gives the same struct.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"

#define SUBNET_ENV_MAX_SIZE 4096

struct subnet_env {
	bool has_network;
	struct ip_net network; /* FLANNEL_NETWORK: the whole pod network, masked */
	bool has_subnet;
	struct ip_net subnet; /* FLANNEL_SUBNET: first host + lease prefix, e.g. 10.244.1.1/24 */
	bool has_ipv6_network;
	struct ip_net ipv6_network;
	bool has_ipv6_subnet;
	struct ip_net ipv6_subnet;
	bool has_mtu;
	uint32_t mtu;
	bool has_ipmasq;
	bool ipmasq;
};

int subnet_env_render(const struct subnet_env *e, struct buf *out);
/* Strict parse; a malformed line fails with "line N: ..." in err. */
int subnet_env_parse(const char *text, size_t len, struct subnet_env *ret, struct errmsg *err);
/* Read and parse path (bounded); -ENOENT when it does not exist, -EFBIG when too large. */
int subnet_env_read(const char *path, struct subnet_env *ret, struct errmsg *err);
/* Render and write atomically, mode 0644, creating the directory (0755, less the umask, as upstream). */
int subnet_env_write(const char *path, const struct subnet_env *e);
