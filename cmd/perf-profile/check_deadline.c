/* SPDX-License-Identifier: MIT */
/*
 * deadline: a control loop (rt-loop's interval records) misses its
 * periods: the EWMA of the periods missed, late or skipped, in % of those
 * due, over deadline_miss_pct. Its contributors are the busiest processes
 * of the host, and the hint says what the samples of the same clock say
 * of the CPUs (busy, throttled, hot): what took the loop's time.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%s missed %.2f%% of its periods, over %g%%",
	    x->c->name, check_value(x), check_threshold(x));
	return check_loop_context(x, buf, size, n);
}

const struct check_type check_deadline = {
	.name = "deadline",
	.kind = "deadline",
	.value_name = "loop_miss_pct",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "deadline_miss_pct", .def = 0.1, .rpi = 0.1 } },
	.metric = M_LOOP_MISS,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
