/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd lease values (JSON written by any agent sharing the prefix):
 * etcd_lease_value_parse() on arbitrary bytes; an accepted value must
 * render and parse back to the same public IPs and attributes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease l = {}, l2 = {};
	struct errmsg err;
	struct buf b = BUF_INIT;
	_cleanup_free_ char *ext = NULL, *ext2 = NULL;

	if (etcd_lease_value_parse((const char *)data, size, &l, &ext, &err) < 0)
		return 0;
	/* rendering writes backend data only for a backend type that has it (vxlan's
	 * MAC, wireguard's key): a MAC without BackendType "vxlan", or a VNI alone,
	 * is not kept */
	if (strcmp(l.attrs.backend_type, "vxlan") != 0)
		l.attrs.has_vtep_mac = l.attrs.has_vtep_mac6 = false;
	if (!l.attrs.has_vtep_mac && !l.attrs.has_vtep_mac6)
		l.attrs.vni = 0;
	if (!l.public_ip6.family)
		l.attrs.has_vtep_mac6 = false;
	if (etcd_lease_value_render(&l.attrs, &l.public_ip, &l.public_ip6, &b) < 0)
		abort();
	if (etcd_lease_value_parse(b.data, b.len, &l2, &ext2, &err) < 0)
		abort();
	/* extension data (a JSON string) comes back the same, printed alike */
	if ((ext == NULL) != (ext2 == NULL) || (ext && strcmp(ext, ext2) != 0))
		abort();
	if (!l.attrs.has_vtep_mac && !l.attrs.has_vtep_mac6)
		l2.attrs.vni = 0;
	if (!ip_addr_equal(&l.public_ip, &l2.public_ip) ||
	    l.public_ip6.family != l2.public_ip6.family ||
	    (l.public_ip6.family && !ip_addr_equal(&l.public_ip6, &l2.public_ip6)) ||
	    strcmp(l.attrs.backend_type, l2.attrs.backend_type) != 0 ||
	    l.attrs.has_vtep_mac != l2.attrs.has_vtep_mac ||
	    (l.attrs.has_vtep_mac && memcmp(l.attrs.vtep_mac, l2.attrs.vtep_mac, 6) != 0))
		abort();
	buf_free(&b);
	return 0;
}
