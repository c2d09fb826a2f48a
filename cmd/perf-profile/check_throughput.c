/* SPDX-License-Identifier: MIT */
/* throughput: EWMA of a component's throughput_per_s under throughput_min. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "%s throughput %.1f/s under the %.1f/s "
	    "target", x->c->name, check_value(x), check_threshold(x));
}

const struct check_type check_throughput = {
	.name = "throughput",
	.kind = "throughput",
	.value_name = "throughput_per_s",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "throughput_min", .def = 0, .rpi = 0 } },
	.metric = M_THROUGHPUT,
	.floor = 1,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
