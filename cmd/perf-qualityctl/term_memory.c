/* SPDX-License-Identifier: MIT */
/* The memory term: the samples' share of memory in use. */
#include "perf-qualityctl.h"

static const char *const memory_paths[] = { "mem.used_pct", NULL };

const struct term_type term_memory = {
	.name = "memory",
	.help = "mem.used_pct of sample records",
	.record = "sample",
	.paths = memory_paths,
	.weight = 1, .low = 70, .high = 95,
};
