/* SPDX-License-Identifier: MIT */
/*
 * The fps term: the applications' frame rate from their metric records,
 * the worst component; less is worse. Its mean over the components is
 * also the fps the impact records compare.
 */
#include "perf-qualityctl.h"

static const char *const fps_paths[] = { "fps", NULL };

const struct term_type term_fps = {
	.name = "fps",
	.help = "fps of metric records, worst component",
	.record = "metric",
	.key = "component",
	.paths = fps_paths,
	.weight = 1, .low = 25, .high = 10,
	.impact = 1,
};
