/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd's JSON gateway responses: the watch stream through the line framer
 * into etcd_parse_watch(), and the same bytes as a range, txn, grant and
 * auth response and as an error body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/proto.h"
#include "lib/core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_line(char *line, size_t len, void *userdata)
{
	struct etcd_watch_response w;
	struct errmsg err;

	if (!line)
		return 0;
	if (etcd_parse_watch(line, len, &w, &err) >= 0) {
		for (size_t i = 0; i < w.n; i++)
			if (!w.events[i].kv.key ||
			    (w.events[i].type == ETCD_EVENT_PUT && !w.events[i].kv.value))
				abort();
		etcd_watch_response_done(&w);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct line_framer f;
	struct etcd_range rg;
	struct errmsg err;
	char msg[128], *tok = NULL;
	int64_t a, b;
	bool ok;
	int code;

	line_framer_init(&f, 4096);
	(void)line_framer_feed(&f, data, size, on_line, NULL);
	line_framer_free(&f);

	if (etcd_parse_range(s, size, &rg, &err) >= 0) {
		for (size_t i = 0; i < rg.n; i++)
			if (!rg.kvs[i].key || !rg.kvs[i].value)
				abort();
		etcd_range_done(&rg);
	}
	(void)etcd_parse_txn(s, size, &ok, &a, &err);
	(void)etcd_parse_grant(s, size, &a, &b, &err);
	if (etcd_parse_auth(s, size, &tok, &err) >= 0)
		free(tok);
	etcd_parse_error(s, size, msg, sizeof(msg), &code);
	if (strlen(msg) >= sizeof(msg))
		abort();
	return 0;
}
