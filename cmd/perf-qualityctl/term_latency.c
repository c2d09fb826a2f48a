/* SPDX-License-Identifier: MIT */
/* The latency term: the applications' latency, the worst component. */
#include "perf-qualityctl.h"

static const char *const latency_paths[] = { "latency_ms", NULL };

const struct term_type term_latency = {
	.name = "latency",
	.help = "latency_ms of metric records, worst component",
	.record = "metric",
	.key = "component",
	.paths = latency_paths,
	.weight = 0.8, .low = 50, .high = 200,
};
