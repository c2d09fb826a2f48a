/* SPDX-License-Identifier: MIT */
/*
 * The extra terms: any numeric dotted path of sample records, each a
 * named instance (pressure.extra.NAME: { path: psi.io.some_avg10 }).
 */
#include "perf-qualityctl.h"

const struct term_type term_extra = {
	.name = "extra",
	.help = "NAME: { path: P }, P a path of sample records",
	.record = "sample",
	.weight = 1, .low = 0, .high = 100,
	.instances = 1,
};
