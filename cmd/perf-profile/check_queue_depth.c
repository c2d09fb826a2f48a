/* SPDX-License-Identifier: MIT */
/* queue_depth: EWMA of a component's queue_depth over queue_depth_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "queue of %s holds %.1f items, over %.0f",
	    x->c->name, check_value(x), check_threshold(x));
}

const struct check_type check_queue_depth = {
	.name = "queue_depth",
	.kind = "queue",
	.value_name = "queue_depth",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "queue_depth_max", .def = 0, .rpi = 0 } },
	.metric = M_QUEUE,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
