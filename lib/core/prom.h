/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format (version 0.0.4), rendered by hand:
 * Debian has no C client library and the format is small. Pure: callers
 * keep their own counters and render them into a struct buf on request.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"

#define PROM_CONTENT_TYPE     "text/plain; version=0.0.4; charset=utf-8"
#define HISTOGRAM_MAX_BUCKETS 16

/* A histogram with fixed upper bounds (seconds, ascending; +Inf is implicit). */
struct histogram {
	const double *bounds;
	size_t n_bounds;
	uint64_t buckets[HISTOGRAM_MAX_BUCKETS]; /* not cumulative; cumulated when rendered */
	uint64_t count;
	double sum;
};

/* Bounds for durations of local work and API calls: 0.5 ms .. 10 s. */
extern const double prom_latency_bounds[];
extern const size_t prom_latency_bounds_n;

void histogram_init(struct histogram *h, const double *bounds, size_t n_bounds);
void histogram_observe(struct histogram *h, double value);

/* "# HELP name help\n# TYPE name type\n" */
int prom_header(struct buf *out, const char *name, const char *type, const char *help);
/* A metric without labels: its header and its one sample. */
int prom_metric(struct buf *out, const char *name, const char *type, const char *help,
		double value);
int prom_metric_u64(struct buf *out, const char *name, const char *type, const char *help,
		    uint64_t value);
/* "name{labels} value\n"; labels is the inside of the braces (already escaped) or NULL. */
int prom_sample(struct buf *out, const char *name, const char *labels, double value);
int prom_sample_u64(struct buf *out, const char *name, const char *labels, uint64_t value);
/* All _bucket, _sum and _count lines of h; labels may be NULL. No header. */
int prom_histogram(struct buf *out, const char *name, const char *labels,
		   const struct histogram *h);
/* Escape a label value (\\, \", \n) into buf of size; returns buf. */
const char *prom_escape(const char *value, char *buf, size_t size);
