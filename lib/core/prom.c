/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text format rendering. Histograms keep per-bucket counts and
 * cumulate them only when rendered, so observing is one comparison loop and
 * two additions.
 */
#include "lib/core/prom.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

const double prom_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				      0.1,    0.25,  0.5,    1,	    2.5,  5,	 10};
const size_t prom_latency_bounds_n = ARRAY_SIZE(prom_latency_bounds);

void histogram_init(struct histogram *h, const double *bounds, size_t n_bounds)
{
	*h = (struct histogram){.bounds = bounds, .n_bounds = MIN(n_bounds, HISTOGRAM_MAX_BUCKETS)};
}

void histogram_observe(struct histogram *h, double value)
{
	size_t i = 0;

	if (isnan(value))
		return;
	while (i < h->n_bounds && value > h->bounds[i])
		i++;
	if (i < h->n_bounds)
		h->buckets[i]++;
	h->count++;
	h->sum += value;
}

int prom_header(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int sample_prefix(struct buf *out, const char *name, const char *labels)
{
	if (labels && *labels)
		return buf_printf(out, "%s{%s} ", name, labels);
	return buf_printf(out, "%s ", name);
}

int prom_sample(struct buf *out, const char *name, const char *labels, double value)
{
	int r = sample_prefix(out, name, labels);

	if (r < 0)
		return r;
	if (isinf(value))
		return buf_puts(out, value > 0 ? "+Inf\n" : "-Inf\n");
	return buf_printf(out, "%.17g\n", value);
}

int prom_sample_u64(struct buf *out, const char *name, const char *labels, uint64_t value)
{
	int r = sample_prefix(out, name, labels);

	if (r < 0)
		return r;
	return buf_printf(out, "%" PRIu64 "\n", value);
}

int prom_histogram(struct buf *out, const char *name, const char *labels, const struct histogram *h)
{
	const char *sep = labels && *labels ? "," : "";
	uint64_t cumulative = 0;
	int r;

	for (size_t i = 0; i < h->n_bounds; i++) {
		cumulative += h->buckets[i];
		r = buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name,
			       labels ? labels : "", sep, h->bounds[i], cumulative);
		if (r < 0)
			return r;
	}
	r = buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels ? labels : "",
		       sep, h->count);
	if (r < 0)
		return r;
	if (labels && *labels)
		r = buf_printf(out, "%s_sum{%s} %.17g\n%s_count{%s} %" PRIu64 "\n", name, labels,
			       h->sum, name, labels, h->count);
	else
		r = buf_printf(out, "%s_sum %.17g\n%s_count %" PRIu64 "\n", name, h->sum, name,
			       h->count);
	return r;
}

const char *prom_escape(const char *value, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return buf;
	for (const char *p = value; *p && o + 2 < size; p++) {
		if (*p == '\\' || *p == '"') {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	return buf;
}

int prom_metric(struct buf *out, const char *name, const char *type, const char *help, double value)
{
	int r = prom_header(out, name, type, help);

	return r < 0 ? r : prom_sample(out, name, NULL, value);
}

int prom_metric_u64(struct buf *out, const char *name, const char *type, const char *help,
		    uint64_t value)
{
	int r = prom_header(out, name, type, help);

	return r < 0 ? r : prom_sample_u64(out, name, NULL, value);
}
