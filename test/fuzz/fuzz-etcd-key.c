/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd subnet keys (written by any agent sharing the prefix):
 * etcd_key_subnet_name() and etcd_subnet_key_parse() on arbitrary bytes; an
 * accepted key must format and parse back to the same subnets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *key = (const char *)data, *name = key;
	struct ip_net sn, sn6, sn2, sn62;
	char buf[ETCD_SUBNET_KEY_MAX];
	size_t len = size;

	/* as a full key under the default prefix, else as a bare name */
	if (etcd_key_subnet_name(ETCD_DEFAULT_PREFIX, key, size, &name, &len) < 0) {
		name = key;
		len = size;
	}
	if (etcd_subnet_key_parse(name, len, &sn, &sn6) < 0)
		return 0;
	if (etcd_subnet_key_format(&sn, &sn6, buf) < 0)
		abort();
	if (etcd_subnet_key_parse(buf, strlen(buf), &sn2, &sn62) < 0)
		abort();
	if (!ip_net_equal(&sn, &sn2) || sn6.addr.family != sn62.addr.family ||
	    (sn6.addr.family && !ip_net_equal(&sn6, &sn62)))
		abort();
	return 0;
}
