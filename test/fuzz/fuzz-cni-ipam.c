/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the built-in IPAM's parsers of host-local's files: a
 * reservation ("<id>\r\n<ifname>") and last_reserved_ip.N. An accepted
 * entry must format back to a file that parses to the same entry; an
 * accepted hint must be an address. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/ipam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_entry e, again;
	struct ip_addr a;
	char buf[IPAM_ENTRY_MAX_SIZE];

	if (ipam_entry_parse((const char *)data, size, &e) == 0) {
		if (!e.id[0] || strlen(e.id) > IPAM_ID_MAX || strlen(e.ifname) > IPAM_IFNAME_MAX)
			abort();
		if (e.ifname[0]) {
			int n = ipam_entry_format(e.id, e.ifname, buf, sizeof(buf));
			if (n < 0 || ipam_entry_parse(buf, (size_t)n, &again) < 0 ||
			    strcmp(again.id, e.id) != 0 || strcmp(again.ifname, e.ifname) != 0 ||
			    !ipam_entry_matches(&again, e.id, e.ifname))
				abort();
		} else if (!ipam_entry_matches(&e, e.id, "eth0")) {
			abort();
		}
	}
	if (ipam_last_parse((const char *)data, size, &a) == 0 && !ip_addr_is_set(&a))
		abort();
	return 0;
}
