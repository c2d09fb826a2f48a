/* SPDX-License-Identifier: MIT */
/*
 * loop_exec: a control loop's step takes too long: the EWMA of its
 * interval p99 execution time over loop_exec_p99_us (0, the default:
 * off, as perf-profile cannot know a step's budget). Its kind is deadline
 * too: a step over its budget is the deadline miss to come.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%s step p99 %.1f us over the %g us budget",
	    x->c->name, check_value(x), check_threshold(x));
	return check_loop_context(x, buf, size, n);
}

const struct check_type check_loop_exec = {
	.name = "loop_exec",
	.kind = "deadline",
	.value_name = "loop_exec_p99_us",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "loop_exec_p99_us", .def = 0, .rpi = 0 } },
	.metric = M_LOOP_EXEC,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
