/* SPDX-License-Identifier: MIT */
/* The cpu term: the samples' CPU utilisation. */
#include "perf-qualityctl.h"

static const char *const cpu_paths[] = { "cpu.util", NULL };

const struct term_type term_cpu = {
	.name = "cpu",
	.help = "cpu.util of sample records",
	.record = "sample",
	.paths = cpu_paths,
	.weight = 1, .low = 60, .high = 95,
};
