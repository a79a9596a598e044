/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the nf_tables notification scanner: the input is one
 * datagram as read from the netfilter netlink socket. Must never read
 * outside it; every table name handed to the predicate is a string inside.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/nfnotify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool check_table(uint8_t family, const char *table, void *userdata)
{
	(void)family;
	(void)userdata;
	if (strlen(table) >= NFNOTIFY_TABLE_MAX)
		abort();
	return table[0] == 'n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly the datagram, so that ASan sees any over-read. */
	uint8_t *buf = malloc(size ? size : 1);
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = nfnotify_scan(buf, size, check_table, NULL);
	if (r < 0 && r != -EBADMSG)
		abort();
	free(buf);
	return 0;
}
