/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/list_stream.c. The first two bytes choose a chunk
 * size and an item cap; the rest is a LIST body fed in those chunks and, a
 * second time, in one piece. Both runs must report the same items, the
 * same skipped sizes and the same outcome (the splitter must not depend on
 * where chunks end). Aborts on a difference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/list_stream.h"
#include "lib/core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int record(const char *item, size_t len, void *userdata)
{
	struct buf *b = userdata;

	if (!item)
		return buf_printf(b, "[skipped %zu]", len);
	if (len < 2 || item[0] != '{' || item[len - 1] != '}')
		abort();
	if (buf_printf(b, "[%zu]", len) < 0)
		return -ENOMEM;
	return buf_append(b, item, len);
}

static int run(const char *body, size_t len, size_t chunk, size_t cap, struct buf *out,
	       struct kube_list_meta *meta)
{
	struct kube_list_stream s;
	int r = 0;

	kube_list_stream_init(&s, cap);
	for (size_t i = 0; i < len && r >= 0; i += chunk)
		r = kube_list_stream_feed(&s, body + i, chunk < len - i ? chunk : len - i, record,
					  out);
	if (r >= 0)
		r = kube_list_stream_finish(&s, meta, NULL);
	kube_list_stream_done(&s);
	return r < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct kube_list_meta ma = {}, mb = {};
	size_t chunk, cap;
	int ra, rb;

	if (size < 2)
		return 0;
	chunk = 1 + data[0] % 64;
	cap = 16 + (size_t)data[1] * 64;
	data += 2;
	size -= 2;

	ra = run((const char *)data, size, chunk, cap, &a, &ma);
	rb = run((const char *)data, size, size ? size : 1, cap, &b, &mb);
	if (ra != rb)
		abort();
	/* an error may stop the chunked run earlier than the whole one: compare only successes */
	if (ra == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0) ||
			strcmp(ma.resource_version, mb.resource_version) != 0 ||
			!ma.continue_token != !mb.continue_token))
		abort();
	kube_list_meta_done(&ma);
	kube_list_meta_done(&mb);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
